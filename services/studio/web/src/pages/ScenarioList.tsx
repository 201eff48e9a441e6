// Scenarios: search, status, last run, operations; create, import, duplicate, export,
// activate/deactivate, delete.

import { useEffect, useState, type ChangeEvent, type FormEvent } from "react";
import { api, errorText } from "../api";
import { Modal } from "../components/Modal";
import type { Me, ScenarioDoc, ScenarioView } from "../types";

const TRIGGERS: [string, string][] = [
  ["gateway:CustomWebHook", "Webhook (instant)"],
  ["scenarist:Manual", "Manual / API"],
  ["scenarist:Schedule", "Schedule"],
];

export function ScenarioList({ me }: { me: Me }) {
  const canEdit = me.role !== "viewer";
  const [scenarios, setScenarios] = useState<ScenarioView[] | null>(null);
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState("");
  const [trigger, setTrigger] = useState(TRIGGERS[0]![0]);

  const load = () => {
    const query = new URLSearchParams({ search });
    if (status) query.set("active", status);
    api<{ scenarios: ScenarioView[] }>("GET", `/scenarios?${query}`)
      .then((r) => setScenarios(r.scenarios))
      .catch((e: unknown) => setError(errorText(e)));
  };
  useEffect(load, [search, status]); // eslint-disable-line

  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const doc: ScenarioDoc = { name, flow: [{ id: 1, module: trigger, metadata: { designer: { x: 0, y: 0 } } }] };
    try {
      const made = await api<ScenarioView>("POST", "/scenarios", { document: doc });
      window.location.hash = `#/scenarios/${made.id}`;
    } catch (e) {
      setError(errorText(e));
    }
  };

  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    await act(async () => {
      const document = JSON.parse(await file.text()) as unknown;
      await api("POST", "/scenarios", { document });
    });
  };

  return (
    <main className="page">
      <header className="page-head">
        <h1>Scenarios</h1>
        {canEdit && (
          <>
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              Create a new scenario
            </button>
            <label className="button-like">
              Import JSON
              <input type="file" accept="application/json,.json" onChange={importFile} className="visually-hidden" />
            </label>
          </>
        )}
      </header>
      <div className="filters">
        <label className="field inline">
          <span>Search</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name contains…" />
        </label>
        <label className="field inline">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            <option value="true">Active</option>
            <option value="false">Inactive</option>
          </select>
        </label>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <table className="scenarios">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Last run</th>
            <th scope="col">Operations</th>
            <th scope="col">Version</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {scenarios?.map((s) => (
            <tr key={s.id}>
              <td>
                <a href={`#/scenarios/${s.id}`}>{s.name}</a>
              </td>
              <td>
                <span className={`status ${s.active ? "status-active" : "status-inactive"}`}>{s.active ? "active" : "inactive"}</span>
              </td>
              <td>
                {s.last_run ? (
                  <a href={`#/runs/${s.last_run.id}`}>
                    <span className={`status status-${s.last_run.status}`}>{s.last_run.status}</span>{" "}
                    {s.last_run.created_at ? new Date(s.last_run.created_at).toLocaleString() : ""}
                  </a>
                ) : (
                  "—"
                )}
              </td>
              <td>{s.last_run ? s.last_run.operations : "—"}</td>
              <td>{s.version}</td>
              <td className="actions">
                <a href={`#/scenarios/${s.id}/history`}>History</a>
                <a href={`/api/scenarios/${s.id}/export`} download>
                  Export
                </a>
                {canEdit && (
                  <>
                    <button type="button" onClick={() => act(() => api("POST", `/scenarios/${s.id}/${s.active ? "deactivate" : "activate"}`))}>
                      {s.active ? "Deactivate" : "Activate"}
                    </button>
                    <button type="button" onClick={() => act(() => api("POST", `/scenarios/${s.id}/duplicate`))}>
                      Duplicate
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => window.confirm(`Delete "${s.name}" and all its versions?`) && act(() => api("DELETE", `/scenarios/${s.id}`))}
                    >
                      Delete
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {scenarios?.length === 0 && <p className="muted">No scenario matches.</p>}
      {creating && (
        <Modal title="Create a new scenario" onClose={() => setCreating(false)}>
          <form onSubmit={create}>
            <label className="field">
              <span>Scenario name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
            </label>
            <label className="field">
              <span>Trigger</span>
              <select value={trigger} onChange={(e) => setTrigger(e.target.value)}>
                {TRIGGERS.map(([id, label]) => (
                  <option key={id} value={id}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="primary">
              Create
            </button>
          </form>
        </Modal>
      )}
    </main>
  );
}
