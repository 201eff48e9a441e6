// One run: status, duration, operations, and per module its operations with input and output
// bundles (the same view serves "Run once" and the history).

import type { RunView, StepView } from "../types";
import { BundleTree } from "./BundleTree";

export function duration(run: RunView): string {
  if (!run.started_at) return "—";
  const end = run.finished_at ? Date.parse(run.finished_at) : Date.now();
  const ms = end - Date.parse(run.started_at);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function stepsByModule(steps: StepView[]): Map<number, StepView[]> {
  const found = new Map<number, StepView[]>();
  for (const step of steps) {
    found.set(step.module_id, [...(found.get(step.module_id) ?? []), step]);
  }
  return found;
}

interface Props {
  run: RunView;
  steps: StepView[];
  labels?: Map<number, string>;
  focus?: number | null;
}

export function RunInspector({ run, steps, labels, focus }: Props) {
  const grouped = [...stepsByModule(steps).entries()].filter(([id]) => focus == null || id === focus);
  return (
    <section className="run-inspector" aria-label="Run inspector">
      <p className="run-summary">
        <span className={`status status-${run.status}`}>{run.status}</span> · {run.operations} operations ·{" "}
        {duration(run)} · version {run.scenario_version} · {run.trigger_source}
      </p>
      {run.error && (
        <p className="error" role="alert">
          {run.error.type}: {run.error.message}
        </p>
      )}
      {run.response != null && (
        <div className="run-response">
          <h4>Webhook response</h4>
          <BundleTree value={run.response} label="response" open />
        </div>
      )}
      {grouped.length === 0 && <p className="muted">No steps logged yet.</p>}
      {grouped.map(([moduleId, moduleSteps]) => (
        <article key={moduleId} className="module-steps" data-module-id={moduleId}>
          <h4>
            {moduleId}. {labels?.get(moduleId) ?? moduleSteps[0]!.module}{" "}
            <span className="badge">{moduleSteps.length} operation{moduleSteps.length === 1 ? "" : "s"}</span>
          </h4>
          {moduleSteps.map((step, index) => (
            <div key={index} className="operation">
              <h5>Operation {index + 1}</h5>
              {step.error && (
                <p className="error" role="alert">
                  {step.error.type}: {step.error.message}
                </p>
              )}
              <div className="bundles">
                <div>
                  <h6>Input</h6>
                  <BundleTree value={step.input} label="input" open />
                </div>
                <div>
                  <h6>Output</h6>
                  <BundleTree value={step.output} label="output" open />
                </div>
              </div>
            </div>
          ))}
        </article>
      ))}
    </section>
  );
}
