// The selected module: its label, its connection (for apps that take one), a form from its
// field schema (or the raw mapper as JSON when the catalogue has none), its retry policy, and
// the structural actions (add after, error handler, delete).

import { useEffect, useState } from "react";
import type { AppSpec, FieldSpec, ModuleDoc, ModuleSpec } from "../types";
import { ConnectionPicker } from "./Connections";
import { FieldList } from "./FieldForm";
import { RetryPolicyEditor } from "./RetryPolicy";
import { DIRECTIVES, isRouter, type GraphNode } from "./graph";

interface Props {
  node: GraphNode;
  spec: ModuleSpec | undefined;
  app: AppSpec | undefined;
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

// Native documents name the connection in `parameters.connection`; Make blueprints in __IMTCONN__.
function connectionOf(module: ModuleDoc): string {
  const parameters = module.parameters ?? {};
  const found = parameters["connection"] ?? parameters["__IMTCONN__"];
  return found === undefined || found === null ? "" : String(found);
}

function withConnection(module: ModuleDoc, id: string): ModuleDoc {
  const { connection: _c, __IMTCONN__: _i, ...rest } = module.parameters ?? {};
  return { ...module, parameters: id ? { ...rest, connection: id } : rest };
}

export function ModulePanel({ node, spec, app, readOnly, hasErrorHandler, onChange, onAddNext, onAddErrorHandler, onDelete }: Props) {
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
      {module.module === "gateway:CustomWebHook" && (
        <p className="hint-text">
          This trigger starts the scenario when its URL receives a request. Find or create the URL under <strong>Webhooks</strong> in the
          toolbar, or in the <strong>Run once</strong> tab, which can also capture a request and run the scenario with its data.
        </p>
      )}
      <label className="field">
        <span>Module label</span>
        <input value={module.label ?? ""} readOnly={readOnly} onChange={(e) => onChange({ ...module, label: e.target.value || null })} />
      </label>
      {app && (app.connection_types.length > 0 || spec?.connection_required) && (
        <ConnectionPicker
          app={app}
          value={connectionOf(module)}
          required={spec?.connection_required ?? false}
          readOnly={readOnly}
          onChange={(id) => onChange(withConnection(module, id))}
        />
      )}
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
      {!directiveNode && !isRouter(node) && <RetryPolicyEditor module={module} readOnly={readOnly} onChange={onChange} />}
      {!readOnly && (
        <div className="panel-actions">
          {!directiveNode && (
            <button type="button" className="primary" onClick={onAddNext}>
              {isRouter(node) ? "Add route" : "Add next module"}
            </button>
          )}
          {!directiveNode && !isRouter(node) && !hasErrorHandler && !(spec?.kind ?? "").includes("trigger") && (
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
