// A text input that takes IML templates: it registers itself as the mapping panel's target on
// focus and shows the parser's message (underlined in red) when the template does not parse.

import { useContext, useEffect, useId, useState } from "react";
import { api } from "../api";
import { MappingContext } from "./mapping";

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  multiline?: boolean;
  required?: boolean;
  readOnly?: boolean;
  help?: string;
}

interface Verdict {
  valid: boolean;
  message?: string;
  position?: number | null;
}

export function ExprInput({ label, value, onChange, multiline, required, readOnly, help }: Props) {
  const target = useContext(MappingContext);
  const id = useId();
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (!value.includes("{{")) {
      setProblem(null);
      return;
    }
    const timer = window.setTimeout(() => {
      api<Verdict>("POST", "/iml/validate", { template: value })
        .then((v) => setProblem(v.valid ? null : `${v.message ?? "invalid"}${v.position != null ? ` (at ${v.position})` : ""}`))
        .catch(() => setProblem(null));
    }, 300);
    return () => window.clearTimeout(timer);
  }, [value]);

  const common = {
    id,
    value,
    readOnly,
    required,
    "aria-invalid": problem ? true : undefined,
    "aria-describedby": problem ? `${id}-problem` : help ? `${id}-help` : undefined,
    className: problem ? "expr invalid" : "expr",
    onFocus: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => {
      if (!readOnly) target.current = { element: event.currentTarget, apply: onChange };
    },
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      {multiline ? (
        <textarea {...common} rows={3} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input {...common} type="text" onChange={(e) => onChange(e.target.value)} />
      )}
      {help && !problem && (
        <small id={`${id}-help`} className="muted">
          {help}
        </small>
      )}
      {problem && (
        <small id={`${id}-problem`} className="expr-problem" role="alert">
          {problem}
        </small>
      )}
    </div>
  );
}
