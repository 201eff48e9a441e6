// A scenario's incomplete executions: bundles its runs parked instead of failing, each with the
// error and the parked bundle (withheld for confidential scenarios), to retry or resolve.

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import type { IncompleteView, RunView } from "../types";
import { BundleTree } from "./BundleTree";

interface Props {
  scenarioId: string;
  readOnly: boolean;
  refreshSignal: number;
}

export function IncompleteExecutions({ scenarioId, readOnly, refreshSignal }: Props) {
  const [items, setItems] = useState<IncompleteView[] | null>(null);
  const [showClosed, setShowClosed] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [retryRun, setRetryRun] = useState<string | null>(null);
  const load = () =>
    api<{ incomplete_executions: IncompleteView[] }>(
      "GET",
      `/scenarios/${scenarioId}/incomplete-executions${showClosed ? "?include_closed=true" : ""}`,
    )
      .then((r) => setItems(r.incomplete_executions))
      .catch((e: unknown) => setMessage(errorText(e)));
  useEffect(() => {
    void load();
  }, [scenarioId, showClosed, refreshSignal]); // eslint-disable-line

  const act = async (item: IncompleteView, action: "retry" | "resolve") => {
    try {
      const done = await api<{ run?: RunView }>("POST", `/runs/${item.run_id}/incomplete-executions/${encodeURIComponent(item.task_id)}/${action}`);
      setMessage(action === "retry" ? "Retrying: a run resumes at the parked module." : "Marked resolved.");
      setRetryRun(done.run?.id ?? null);
      await load();
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  return (
    <section className="incomplete" aria-label="Incomplete executions">
      <header className="page-head">
        <h2>Incomplete executions</h2>
        <label className="check">
          <input type="checkbox" checked={showClosed} onChange={(e) => setShowClosed(e.target.checked)} />
          Show retried and resolved
        </label>
      </header>
      {message && (
        <p className="message" role="status">
          {message}{" "}
          {retryRun && <a href={`#/runs/${retryRun}`}>Open the retry run</a>}
        </p>
      )}
      {items?.length === 0 && <p className="muted">No incomplete executions.</p>}
      <ul className="incomplete-list">
        {items?.map((item) => (
          <li key={item.id} className="incomplete-item" data-incomplete-id={item.id}>
            <p>
              <strong>
                Module {item.module_id} {item.module && <span className="muted">({item.module})</span>}
              </strong>{" "}
              <span className={`status status-${item.status === "open" ? "warning" : "inactive"}`}>{item.status}</span>{" "}
              <span className="muted">
                {item.created_at ? new Date(item.created_at).toLocaleString() : ""} · run <a href={`#/runs/${item.run_id}`}>{item.run_id.slice(0, 8)}</a> · {item.attempts} attempt
                {item.attempts === 1 ? "" : "s"}
              </span>
            </p>
            <p className="error">
              {item.error.type}: {item.error.message}
            </p>
            {item.confidential ? (
              <p className="muted">Confidential scenario: the parked bundle is not shown.</p>
            ) : (
              <BundleTree value={item.bundle} label="parked bundle" open={false} />
            )}
            {item.retry_run_id && (
              <p>
                Retry run: <a href={`#/runs/${item.retry_run_id}`}>{item.retry_run_id}</a>
              </p>
            )}
            {!readOnly && item.status === "open" && (
              <div className="panel-actions">
                <button type="button" className="primary" onClick={() => void act(item, "retry")}>
                  Retry
                </button>
                <button type="button" onClick={() => void act(item, "resolve")}>
                  Resolve
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
