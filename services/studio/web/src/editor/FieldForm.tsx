// Forms generated from a module's field schema: text-like fields take templates, selects offer
// their options, arrays and collections nest their child fields.

import type { FieldSpec } from "../types";
import { ExprInput } from "./ExprInput";

type Values = Record<string, unknown>;

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function optionText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

interface FieldProps {
  spec: FieldSpec;
  value: unknown;
  onChange: (value: unknown) => void;
  readOnly: boolean;
}

function ArrayField({ spec, value, onChange, readOnly }: FieldProps) {
  const items = Array.isArray(value) ? (value as unknown[]) : [];
  const setItem = (index: number, item: unknown) => onChange(items.map((old, i) => (i === index ? item : old)));
  return (
    <fieldset className="field-array">
      <legend>
        {spec.label}
        {spec.required && <span aria-hidden="true"> *</span>}
      </legend>
      {items.map((item, index) => (
        <div key={index} className="array-item">
          {spec.fields.length ? (
            <FieldList
              fields={spec.fields}
              values={(item ?? {}) as Values}
              onChange={(next) => setItem(index, next)}
              readOnly={readOnly}
              prefix={`${spec.label} ${index + 1}: `}
            />
          ) : (
            <ExprInput label={`${spec.label} ${index + 1}`} value={text(item)} onChange={(v) => setItem(index, v)} readOnly={readOnly} />
          )}
          {!readOnly && (
            <button type="button" className="ghost" onClick={() => onChange(items.filter((_, i) => i !== index))}>
              Remove {spec.label.toLowerCase()} item {index + 1}
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" onClick={() => onChange([...items, spec.fields.length ? {} : ""])}>
          Add {spec.label.toLowerCase()} item
        </button>
      )}
    </fieldset>
  );
}

function Field({ spec, value, onChange, readOnly, prefix = "" }: FieldProps & { prefix?: string }) {
  const label = prefix + spec.label;
  if (spec.type === "array") return <ArrayField spec={{ ...spec, label }} value={value} onChange={onChange} readOnly={readOnly} />;
  if (spec.type === "collection" && spec.fields.length) {
    return (
      <fieldset>
        <legend>{label}</legend>
        <FieldList fields={spec.fields} values={(value ?? {}) as Values} onChange={onChange} readOnly={readOnly} />
      </fieldset>
    );
  }
  if (spec.type === "select" || spec.type === "boolean") {
    const options = spec.type === "boolean" ? [{ value: true, label: "Yes" }, { value: false, label: "No" }] : spec.options;
    return (
      <div className="field">
        <label>
          {label}
          {spec.required && <span aria-hidden="true"> *</span>}
          <select
            value={value === undefined ? "" : optionText(value)}
            disabled={readOnly}
            onChange={(e) => {
              const picked = options.find((o) => optionText(o.value) === e.target.value);
              onChange(picked ? picked.value : undefined);
            }}
          >
            <option value="">{spec.default !== null && spec.default !== undefined ? `(default: ${optionText(spec.default)})` : "(empty)"}</option>
            {options.map((o) => (
              <option key={optionText(o.value)} value={optionText(o.value)}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      </div>
    );
  }
  return (
    <ExprInput
      label={label}
      value={text(value)}
      onChange={onChange}
      multiline={spec.type === "json" || spec.type === "any"}
      required={spec.required}
      readOnly={readOnly}
      help={spec.help || (spec.default != null ? `Default: ${optionText(spec.default)}` : undefined)}
    />
  );
}

interface ListProps {
  fields: FieldSpec[];
  values: Values;
  onChange: (values: Values) => void;
  readOnly: boolean;
  prefix?: string;
}

export function FieldList({ fields, values, onChange, readOnly, prefix }: ListProps) {
  return (
    <>
      {fields.map((spec) => (
        <Field
          key={spec.name}
          spec={spec}
          value={values[spec.name]}
          prefix={prefix}
          readOnly={readOnly}
          onChange={(value) => {
            const next = { ...values };
            if (value === undefined || value === "") delete next[spec.name];
            else next[spec.name] = value;
            onChange(next);
          }}
        />
      ))}
    </>
  );
}
