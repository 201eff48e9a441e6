// Scenario settings: the engine's ScenarioSettings fields.

import { useState } from "react";
import { Modal } from "../components/Modal";

interface Props {
  name: string;
  description: string | null;
  settings: Record<string, unknown>;
  readOnly: boolean;
  onSave: (name: string, description: string | null, settings: Record<string, unknown>) => void;
  onClose: () => void;
}

const NUMBERS: [string, string, number][] = [
  ["max_cycles", "Max number of cycles", 1],
  ["max_errors", "Number of consecutive errors", 3],
  ["parallel_bundles", "Bundles processed at once", 1],
];
const FLAGS: [string, string, boolean][] = [
  ["sequential", "Sequential processing", false],
  ["confidential", "Data is confidential (no bundles in history)", false],
  ["store_incomplete", "Allow storing of incomplete executions", false],
  ["auto_commit", "Auto commit", true],
];
const ALIASES: Record<string, string> = {
  max_cycles: "roundtrips",
  max_errors: "maxErrors",
  store_incomplete: "dlq",
  auto_commit: "autoCommit",
};

function read(settings: Record<string, unknown>, key: string): unknown {
  return settings[key] ?? settings[ALIASES[key] ?? ""];
}

export function SettingsPanel({ name, description, settings, readOnly, onSave, onClose }: Props) {
  const [draftName, setName] = useState(name);
  const [draftDescription, setDescription] = useState(description ?? "");
  const [values, setValues] = useState<Record<string, unknown>>(() => {
    const found: Record<string, unknown> = {};
    for (const [key, , fallback] of [...NUMBERS, ...FLAGS]) found[key] = read(settings, key) ?? fallback;
    found["timezone"] = settings["timezone"] ?? "UTC";
    return found;
  });
  const set = (key: string, value: unknown) => setValues({ ...values, [key]: value });
  return (
    <Modal title="Scenario settings" onClose={onClose}>
      <label className="field">
        <span>Scenario name</span>
        <input value={draftName} readOnly={readOnly} onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="field">
        <span>Description</span>
        <textarea value={draftDescription} readOnly={readOnly} onChange={(e) => setDescription(e.target.value)} />
      </label>
      {NUMBERS.map(([key, label]) => (
        <label className="field" key={key}>
          <span>{label}</span>
          <input type="number" min={1} value={String(values[key])} readOnly={readOnly} onChange={(e) => set(key, Number(e.target.value))} />
        </label>
      ))}
      {FLAGS.map(([key, label]) => (
        <label className="check" key={key}>
          <input type="checkbox" checked={Boolean(values[key])} disabled={readOnly} onChange={(e) => set(key, e.target.checked)} />
          {label}
        </label>
      ))}
      <label className="field">
        <span>Time zone (IANA name)</span>
        <input value={String(values["timezone"])} readOnly={readOnly} onChange={(e) => set("timezone", e.target.value)} />
      </label>
      <footer className="modal-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        {!readOnly && (
          <button type="button" className="primary" onClick={() => onSave(draftName, draftDescription || null, values)}>
            Apply settings
          </button>
        )}
      </footer>
    </Modal>
  );
}
