// The connection picker on module forms, and the "add connection" flow. Secrets are typed into
// password inputs, sent once, and dropped from memory; the gateway never returns them, so
// nothing here can show them again (only the names of the stored fields).

import { useEffect, useId, useState } from "react";
import { api, errorText } from "../api";
import { Modal } from "../components/Modal";
import type { AppSpec, ConnectionView } from "../types";

// What each connection type needs (the gateway's REQUIRED_SECRETS, plus OAuth2's refresh token).
const SECRET_FIELDS: Record<string, { name: string; label: string; secret: boolean; optional?: boolean }[]> = {
  api_key: [{ name: "api_key", label: "API key", secret: true }],
  basic: [
    { name: "username", label: "Username", secret: false },
    { name: "password", label: "Password", secret: true },
  ],
  bearer: [{ name: "token", label: "Token", secret: true }],
  oauth2: [
    { name: "client_id", label: "Client ID", secret: false },
    { name: "client_secret", label: "Client secret", secret: true },
    { name: "refresh_token", label: "Refresh token", secret: true, optional: true },
  ],
};
const TYPE_LABELS: Record<string, string> = { api_key: "API key", basic: "Username and password", bearer: "Bearer token", oauth2: "OAuth 2.0" };

interface Verdict {
  ok: boolean;
  error: { type: string; message: string } | null;
  account_label: string;
}

function AddConnection({ app, onCreated, onClose }: { app: AppSpec; onCreated: (c: ConnectionView) => void; onClose: () => void }) {
  const types = app.connection_types.length ? app.connection_types : ["api_key"];
  const [name, setName] = useState(`My ${app.label} connection`);
  const [type, setType] = useState(types[0]!);
  const [values, setValues] = useState<Record<string, string>>({});
  const [baseUrl, setBaseUrl] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setBusy(true);
    try {
      const secrets = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
      const parameters = baseUrl ? { base_url: baseUrl } : {};
      const created = await api<ConnectionView>("POST", "/connections", { app: app.name, type, name, secrets, parameters });
      setValues({}); // the secrets leave the page's memory with the form
      onCreated(created);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Add a ${app.label} connection`} onClose={onClose}>
      <form
        autoComplete="off"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <label className="field">
          <span>Connection name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label className="field">
          <span>Connection type</span>
          <select
            value={type}
            onChange={(e) => {
              setType(e.target.value);
              setValues({});
            }}
          >
            {types.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t] ?? t}
              </option>
            ))}
          </select>
        </label>
        {(SECRET_FIELDS[type] ?? []).map((f) => (
          <label className="field" key={`${type}-${f.name}`}>
            <span>
              {f.label}
              {f.optional ? " (optional)" : ""}
            </span>
            <input
              type={f.secret ? "password" : "text"}
              autoComplete={f.secret ? "new-password" : "off"}
              value={values[f.name] ?? ""}
              required={!f.optional}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
            />
          </label>
        ))}
        <label className="field">
          <span>Base URL (optional)</span>
          <input value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
        </label>
        <p className="muted">Secrets are stored encrypted and are never shown again.</p>
        <footer className="modal-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Save connection
          </button>
        </footer>
      </form>
    </Modal>
  );
}

interface PickerProps {
  app: AppSpec;
  value: string;
  required: boolean;
  readOnly: boolean;
  onChange: (id: string) => void;
}

export function ConnectionPicker({ app, value, required, readOnly, onChange }: PickerProps) {
  const id = useId();
  const [connections, setConnections] = useState<ConnectionView[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [verdict, setVerdict] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ connections: ConnectionView[] }>("GET", `/connections?app=${encodeURIComponent(app.name)}`)
      .then((r) => setConnections(r.connections))
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [app.name]); // eslint-disable-line
  const chosen = connections?.find((c) => c.id === value);
  const test = async () => {
    setVerdict(null);
    try {
      const found = await api<Verdict>("POST", `/connections/${value}/test`);
      setVerdict(found.ok ? `Connection works${found.account_label ? ` (${found.account_label})` : ""}.` : `Refused: ${found.error?.type ?? ""} ${found.error?.message ?? ""}`);
    } catch (e) {
      setVerdict(errorText(e));
    }
  };
  return (
    <div className="field connection-picker">
      <label htmlFor={id}>
        Connection{required && <span aria-hidden="true"> *</span>}
      </label>
      <div className="inline-row">
        <select id={id} value={value} disabled={readOnly} onChange={(e) => onChange(e.target.value)}>
          <option value="">{connections === null ? "Loading…" : "(choose a connection)"}</option>
          {connections?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
          {value && connections && !chosen && <option value={value}>{value} (not found)</option>}
        </select>
        {!readOnly && (
          <button type="button" onClick={() => setAdding(true)}>
            Add connection
          </button>
        )}
        {!readOnly && value && (
          <button type="button" onClick={() => void test()}>
            Test connection
          </button>
        )}
      </div>
      {chosen && (
        <small className="muted connection-info">
          {TYPE_LABELS[chosen.type] ?? chosen.type} · stored secrets: {chosen.secret_fields.join(", ") || "none"}
        </small>
      )}
      {verdict && (
        <small className="connection-verdict" role="status">
          {verdict}
        </small>
      )}
      {error && <small className="error">{error}</small>}
      {adding && (
        <AddConnection
          app={app}
          onClose={() => setAdding(false)}
          onCreated={(created) => {
            setAdding(false);
            setConnections([...(connections ?? []), created]);
            onChange(created.id);
          }}
        />
      )}
    </div>
  );
}
