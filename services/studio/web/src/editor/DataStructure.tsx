// "Determine data structure" for a webhook: ask the trigger to record the next request, wait for
// it, show the structure derived from it (names and types, editable) and save it on the webhook.
// The captured body is shown through BundleTree, as text.

import { useEffect, useRef, useState } from "react";
import { api, errorText } from "../api";
import { BundleTree } from "../components/BundleTree";
import type { StructureField } from "../types";
import { startCapture, waitForCapture, type Capture } from "./captures";

const TYPES = ["text", "number", "boolean", "date", "email", "url", "collection", "array", "any"];

function FieldRows({ fields, path, onChange }: { fields: StructureField[]; path: string; onChange: (fields: StructureField[]) => void }) {
  const set = (index: number, patch: Partial<StructureField>) => onChange(fields.map((f, i) => (i === index ? { ...f, ...patch } : f)));
  return (
    <ul className="structure-fields">
      {fields.map((field, index) => {
        const name = path + field.name;
        return (
          <li key={name}>
            <code>{name}</code>{" "}
            <label>
              <span className="visually-hidden">Type of {name}</span>
              <select value={field.type} onChange={(e) => set(index, { type: e.target.value })}>
                {TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>{" "}
            <label className="inline">
              <input type="checkbox" checked={field.required} onChange={(e) => set(index, { required: e.target.checked })} /> required
            </label>
            {field.fields.length > 0 && <FieldRows fields={field.fields} path={`${name}.`} onChange={(children) => set(index, { fields: children })} />}
          </li>
        );
      })}
    </ul>
  );
}

interface Props {
  webhookId: string;
  current: StructureField[];
  onSaved: () => void;
}

export function DataStructure({ webhookId, current, onSaved }: Props) {
  const [capture, setCapture] = useState<Capture | null>(null);
  const [fields, setFields] = useState<StructureField[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  const start = async () => {
    try {
      setMessage(null);
      setFields(null);
      setCapture(await startCapture(webhookId));
      const found = await waitForCapture(webhookId, () => alive.current, setCapture);
      if (found) setFields(found.structure ?? []);
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const save = async (structure: StructureField[]) => {
    try {
      await api("PUT", `/webhooks/${webhookId}/data-structure`, { fields: structure });
      setMessage(structure.length ? `Data structure saved (${structure.length} fields).` : "Data structure removed: any body is accepted.");
      onSaved();
    } catch (e) {
      setMessage(errorText(e));
    }
  };

  return (
    <div className="data-structure">
      <p className="muted">
        Data structure: {current.length ? `${current.length} fields (${current.map((f) => f.name).join(", ")})` : "none (any body is accepted)"}
      </p>
      <div className="panel-actions">
        <button type="button" onClick={() => void start()} disabled={capture?.waiting}>
          {capture?.waiting ? "Waiting for a request…" : "Determine data structure"}
        </button>
        {current.length > 0 && (
          <button type="button" onClick={() => void save([])}>
            Remove data structure
          </button>
        )}
      </div>
      {capture?.waiting && (
        <p role="status" className="capture-waiting">
          Send a request to this webhook's URL now; its body will be recorded once.
        </p>
      )}
      {capture && !capture.waiting && capture.too_large && <p className="error">The request was too large to record ({capture.body_bytes} bytes).</p>}
      {capture && !capture.waiting && fields && (
        <div className="capture-result">
          <h4>Recorded request ({capture.content_type || "no content type"})</h4>
          <BundleTree value={capture.body} label="body" open />
          <h4>Determined structure</h4>
          {fields.length ? <FieldRows fields={fields} path="" onChange={setFields} /> : <p className="muted">The body has no named fields.</p>}
          <button type="button" className="primary" onClick={() => void save(fields)} disabled={!fields.length}>
            Save data structure
          </button>
        </div>
      )}
      {message && (
        <p className="message" role="status">
          {message}
        </p>
      )}
    </div>
  );
}
