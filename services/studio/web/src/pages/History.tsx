// A scenario's runs (status, duration, operations), its incomplete executions, and the run
// inspector (live while the run is going).

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import { IncompleteExecutions } from "../components/IncompleteExecutions";
import { duration, RunInspector } from "../components/RunInspector";
import { followRun, type RunResult } from "../editor/runOnce";
import type { Me, RunView, ScenarioView } from "../types";

export function History({ scenarioId, me }: { scenarioId: string; me: Me }) {
  const [refreshSignal, setRefreshSignal] = useState(0);
  const [runs, setRuns] = useState<RunView[] | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ runs: RunView[] }>("GET", `/scenarios/${scenarioId}/runs`)
      .then((r) => setRuns(r.runs))
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
    api<ScenarioView>("GET", `/scenarios/${scenarioId}`)
      .then((s) => setName(s.name))
      .catch(() => undefined);
  }, [scenarioId]); // eslint-disable-line
  return (
    <main className="page">
      <header className="page-head">
        <h1>History{name ? ` of ${name}` : ""}</h1>
        <a href={`#/scenarios/${scenarioId}`}>Back to the editor</a>
        <button
          type="button"
          onClick={() => {
            void load();
            setRefreshSignal((n) => n + 1);
          }}
        >
          Refresh
        </button>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <table className="runs">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Operations</th>
            <th scope="col">Source</th>
            <th scope="col">Version</th>
          </tr>
        </thead>
        <tbody>
          {runs?.map((r) => (
            <tr key={r.id}>
              <td>
                <a href={`#/runs/${r.id}`}>{r.created_at ? new Date(r.created_at).toLocaleString() : r.id}</a>
              </td>
              <td>
                <span className={`status status-${r.status}`}>{r.status}</span>
              </td>
              <td>{duration(r)}</td>
              <td>{r.operations}</td>
              <td>{r.trigger_source}</td>
              <td>{r.scenario_version}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs?.length === 0 && <p className="muted">No runs yet.</p>}
      <IncompleteExecutions scenarioId={scenarioId} readOnly={me.role === "viewer"} refreshSignal={refreshSignal} />
    </main>
  );
}

export function RunPage({ runId }: { runId: string }) {
  const [result, setResult] = useState<RunResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    followRun(runId, (r) => !gone && setResult(r), () => gone).catch((e: unknown) => !gone && setError(errorText(e)));
    return () => {
      gone = true;
    };
  }, [runId]);
  if (error) return <p className="error" role="alert">{error}</p>;
  if (!result) return <p>Loading…</p>;
  return (
    <main className="page">
      <header className="page-head">
        <h1>Run {result.run.id}</h1>
        <a href={`#/scenarios/${result.run.scenario_id}/history`}>Back to the history</a>
      </header>
      <RunInspector run={result.run} steps={result.steps} />
    </main>
  );
}
