// Choose an app, then one of its modules; searchable, keyboard usable (a list of buttons).

import { useState } from "react";
import { Modal } from "../components/Modal";
import type { ModuleSpec } from "../types";
import type { Catalogue } from "./catalogue";

interface Props {
  catalogue: Catalogue;
  title: string;
  triggersOnly?: boolean;
  onPick: (module: ModuleSpec) => void;
  onClose: () => void;
}

export function ModulePicker({ catalogue, title, triggersOnly = false, onPick, onClose }: Props) {
  const [search, setSearch] = useState("");
  const wanted = search.trim().toLowerCase();
  const modules = [...catalogue.modules.values()].filter((m) => {
    const trigger = m.kind === "trigger" || m.kind === "instant_trigger";
    if (triggersOnly !== trigger) return false;
    const app = catalogue.apps.find((a) => a.name === m.app);
    const text = `${m.label} ${m.name} ${m.app} ${app?.label ?? ""}`.toLowerCase();
    return !wanted || text.includes(wanted);
  });
  return (
    <Modal title={title} onClose={onClose}>
      <label className="field">
        <span>Search apps and modules</span>
        <input autoFocus value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. router, variable" />
      </label>
      <ul className="picker-list" aria-label="Modules">
        {modules.map((m) => (
          <li key={m.id}>
            <button type="button" className="picker-item" onClick={() => onPick(m)} data-module={m.id}>
              <strong>{m.label}</strong> <span className="muted">{m.id}</span>
              <small>{m.description}</small>
            </button>
          </li>
        ))}
        {modules.length === 0 && <li className="muted">No module matches.</li>}
      </ul>
    </Modal>
  );
}
