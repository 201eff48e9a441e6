// A module's retry policy (the engine's RetryPolicy): retryable errors (connection, rate limit,
// timeout) are tried again with exponential backoff before the error handler sees them.

import type { ModuleDoc } from "../types";

const FIELDS: [string, string, number, number, number, number][] = [
  // key, label, default, min, max, step
  ["max_attempts", "Attempts (including the first)", 3, 1, 100, 1],
  ["initial_interval_seconds", "First wait (seconds)", 1, 0, 86_400, 0.1],
  ["multiplier", "Backoff multiplier", 2, 1, 10, 0.1],
  ["max_interval_seconds", "Longest wait (seconds)", 300, 0, 86_400, 1],
  ["jitter", "Jitter (fraction of the wait)", 0.2, 0, 1, 0.05],
];

export function defaultRetry(): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map(([key, , fallback]) => [key, fallback]));
}

interface Props {
  module: ModuleDoc;
  readOnly: boolean;
  onChange: (module: ModuleDoc) => void;
}

export function RetryPolicyEditor({ module, readOnly, onChange }: Props) {
  const retry = module.retry ?? null;
  return (
    <details className="retry-policy" open={retry !== null}>
      <summary>Retry policy{retry ? ` · ${String(retry["max_attempts"] ?? 3)} attempts` : " · off"}</summary>
      <label className="check">
        <input
          type="checkbox"
          checked={retry !== null}
          disabled={readOnly}
          onChange={(e) => onChange({ ...module, retry: e.target.checked ? defaultRetry() : null })}
        />
        Retry on connection, rate-limit and timeout errors
      </label>
      {retry &&
        FIELDS.map(([key, label, fallback, min, max, step]) => (
          <label className="field" key={key}>
            <span>{label}</span>
            <input
              type="number"
              min={min}
              max={max}
              step={step}
              readOnly={readOnly}
              value={String(retry[key] ?? fallback)}
              onChange={(e) => {
                const value = e.target.value === "" ? fallback : Number(e.target.value);
                onChange({ ...module, retry: { ...retry, [key]: value } });
              }}
            />
          </label>
        ))}
    </details>
  );
}
