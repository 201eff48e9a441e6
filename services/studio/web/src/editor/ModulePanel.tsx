// The selected module: its label, a form from its field schema (or the raw mapper as JSON when
// the catalogue has none), and the structural actions (add after, error handler, delete).

import { useEffect, useState } from "react";
import type { FieldSpec, ModuleDoc, ModuleSpec } from "../types";
import { FieldList } from "./FieldForm";
import { DIRECTIVES, isRouter, type GraphNode } from "./graph";

interface Props {
  node: GraphNode;
  spec: ModuleSpec | undefined;
  readOnly: boolean;
  hasErrorHandler: boolean;
  onChange: (module: ModuleDoc) => void;
  onAddNext: () => void;
  onAddErrorHandler: (directive: string) => void;
  onDelete: () => void;
}

function RawMapper({ module, readOnly, onChange }: { module: ModuleDoc; readOnly: boolean; onChange: (m: ModuleDoc) => void }) {
  const [text, setText] = useState(JSON.stringify(module.mapper ?? {}, null, 2));
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setText(JSON.stringify(module.mapper ?? {}, null, 2)), [module.id]); // eslint-disable-line
  return (
    <div className="field">
      <label htmlFor={`raw-${module.id}`}>Mapper (JSON)</label>
      <textarea
        id={`raw-${module.id}`}
        rows={6}
        value={text}
        readOnly={readOnly}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const parsed: unknown = JSON.parse(e.target.value);
            if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("an object is needed");
            setProblem(null);
            onChange({ ...module, mapper: parsed as Record<string, unknown> });
          } catch (error) {
            setProblem(error instanceof Error ? error.message : String(error));
          }
        }}
      />
      {problem && (
        <small className="expr-problem" role="alert">
          {problem}
        </small>
      )}
    </div>
  );
}

export function ModulePanel({ node, spec, readOnly, hasErrorHandler, onChange, onAddNext, onAddErrorHandler, onDelete }: Props) {
  const module = node.module;
  const [directive, setDirective] = useState("Ignore");
  const fieldsIn = (where: "mapper" | "parameters"): FieldSpec[] =>
    (spec?.inputs ?? []).filter((f) => (f.in ?? "mapper") === where);
  const mapperFields = fieldsIn("mapper");
  const parameterFields = fieldsIn("parameters");
  const directiveNode = module.module.startsWith("builtin:") && DIRECTIVES.includes(module.module.slice(8));
  return (
    <section className="module-panel" aria-label={`Module ${module.id}`}>
      <h2>
        {module.id}. {spec?.label ?? module.module}
      </h2>
      <p className="muted">{module.module}</p>
      <label className="field">
        <span>Module label</span>
        <input value={module.label ?? ""} readOnly={readOnly} onChange={(e) => onChange({ ...module, label: e.target.value || null })} />
      </label>
      {parameterFields.length > 0 && (
        <FieldList fields={parameterFields} values={module.parameters ?? {}} readOnly={readOnly} onChange={(parameters) => onChange({ ...module, parameters })} />
      )}
      {mapperFields.length > 0 ? (
        <FieldList fields={mapperFields} values={module.mapper ?? {}} readOnly={readOnly} onChange={(mapper) => onChange({ ...module, mapper })} />
      ) : (
        !isRouter(node) && (spec?.inputs.length ?? 0) === 0 && module.module !== "gateway:CustomWebHook" && (
          <RawMapper module={module} readOnly={readOnly} onChange={onChange} />
        )
      )}
      {!readOnly && (
        <div className="panel-actions">
          {!directiveNode && (
            <button type="button" className="primary" onClick={onAddNext}>
              {isRouter(node) ? "Add route" : "Add next module"}
            </button>
          )}
          {!directiveNode && !isRouter(node) && !hasErrorHandler && node.id !== 0 && (
            <span className="inline">
              <label>
                Error handler{" "}
                <select value={directive} onChange={(e) => setDirective(e.target.value)}>
                  {DIRECTIVES.map((d) => (
                    <option key={d}>{d}</option>
                  ))}
                </select>
              </label>{" "}
              <button type="button" onClick={() => onAddErrorHandler(directive)}>
                Add error handler
              </button>
            </span>
          )}
          <button type="button" className="danger" onClick={onDelete}>
            Delete module
          </button>
        </div>
      )}
    </section>
  );
}
