// Every save is a version: list them, diff two, restore one.

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import { diffLines } from "../components/diff";
import type { Me, ScenarioView } from "../types";

function pretty(view: ScenarioView | null): string {
  if (!view) return "";
  return view.document ? JSON.stringify(view.document, null, 2) : view.document_text ?? "";
}

export function Versions({ scenarioId, me }: { scenarioId: string; me: Me }) {
  const [versions, setVersions] = useState<ScenarioView[]>([]);
  const [left, setLeft] = useState(0);
  const [right, setRight] = useState(0);
  const [docs, setDocs] = useState<[ScenarioView | null, ScenarioView | null]>([null, null]);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = () =>
    api<{ versions: ScenarioView[] }>("GET", `/scenarios/${scenarioId}/versions`)
      .then((r) => {
        setVersions(r.versions);
        setRight(r.versions[0]?.version ?? 0);
        setLeft(r.versions[1]?.version ?? r.versions[0]?.version ?? 0);
      })
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [scenarioId]); // eslint-disable-line
  useEffect(() => {
    if (!left || !right) return;
    Promise.all([
      api<ScenarioView>("GET", `/scenarios/${scenarioId}?version=${left}`),
      api<ScenarioView>("GET", `/scenarios/${scenarioId}?version=${right}`),
    ])
      .then(([a, b]) => setDocs([a, b]))
      .catch((e: unknown) => setError(errorText(e)));
  }, [scenarioId, left, right]);

  const restore = async (version: number) => {
    try {
      const saved = await api<ScenarioView>("POST", `/scenarios/${scenarioId}/restore`, { version });
      setMessage(`Version ${version} restored as version ${saved.version}.`);
      await load();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const lines = diffLines(pretty(docs[0]), pretty(docs[1]));
  const select = (value: number, set: (v: number) => void, label: string) => (
    <label className="field inline">
      <span>{label}</span>
      <select value={value} onChange={(e) => set(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <main className="page">
      <header className="page-head">
        <h1>Versions</h1>
        <a href={`#/scenarios/${scenarioId}`}>Back to the editor</a>
      </header>
      {error && <p className="error" role="alert">{error}</p>}
      {message && <p role="status">{message}</p>}
      <ul className="versions">
        {versions.map((v) => (
          <li key={v.version}>
            v{v.version} · {v.name} · {v.updated_at ? new Date(v.updated_at).toLocaleString() : ""}
            {me.role !== "viewer" && v.version !== versions[0]?.version && (
              <button type="button" onClick={() => void restore(v.version)}>
                Restore v{v.version}
              </button>
            )}
          </li>
        ))}
      </ul>
      <div className="filters">
        {select(left, setLeft, "Compare")}
        {select(right, setRight, "with")}
      </div>
      <pre className="diff" aria-label="Differences">
        {lines.map((line, i) => (
          <div key={i} className={`diff-${line.kind}`}>
            {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
            {line.text}
          </div>
        ))}
      </pre>
    </main>
  );
}
