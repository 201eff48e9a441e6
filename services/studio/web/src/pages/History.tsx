// A scenario's runs (status, duration, operations) and the run inspector.

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import { duration, RunInspector } from "../components/RunInspector";
import { fetchRun, type RunResult } from "../editor/runOnce";
import type { RunView, ScenarioView } from "../types";

export function History({ scenarioId }: { scenarioId: string }) {
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
        <button type="button" onClick={() => void load()}>
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
    </main>
  );
}

export function RunPage({ runId }: { runId: string }) {
  const [result, setResult] = useState<RunResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetchRun(runId)
      .then(setResult)
      .catch((e: unknown) => setError(errorText(e)));
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
