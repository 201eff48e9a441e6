// The webhook panel: the scenario's webhook URLs with copy buttons, creating one (its secret is
// shown once), rotating the URL, and determining its data structure from a received request.

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import { CopyButton } from "../components/CopyButton";
import { Modal } from "../components/Modal";
import { curlCommand, type WebhookView as Webhook } from "./captures";
import { DataStructure } from "./DataStructure";

interface Props {
  scenarioId: string;
  readOnly: boolean;
  onClose: () => void;
}

export function WebhookPanel({ scenarioId, readOnly, onClose }: Props) {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [name, setName] = useState("Webhook");
  const [auth, setAuth] = useState("none");
  const [secret, setSecret] = useState<Record<string, string> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ webhooks: Webhook[] }>("GET", `/scenarios/${scenarioId}/webhooks`)
      .then((r) => setWebhooks(r.webhooks))
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [scenarioId]); // eslint-disable-line

  const create = async () => {
    try {
      const made = await api<{ secret: Record<string, string> | null }>("POST", `/scenarios/${scenarioId}/webhooks`, { name, auth });
      setSecret(made.secret);
      await load();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const rotate = async (id: string) => {
    try {
      await api("POST", `/webhooks/${id}/rotate`, { rotate_url: true });
      await load();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <Modal title="Webhooks" onClose={onClose}>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {webhooks?.length === 0 && <p className="muted">This scenario has no webhook yet.</p>}
      <ul className="webhooks">
        {webhooks?.map((w) => {
          const curl = curlCommand(w.url);
          return (
            <li key={w.id}>
              <strong>{w.name}</strong> <span className="muted">auth: {w.auth}</span>
              <div className="url-row">
                <code className="webhook-url">{w.url}</code>
                <CopyButton text={w.url} label="Copy URL" />
                <CopyButton text={curl} label="Copy curl command" />
                {!readOnly && (
                  <button type="button" onClick={() => rotate(w.id)}>
                    New URL
                  </button>
                )}
              </div>
              {readOnly ? (
                <p className="muted">Data structure: {w.data_structure.length ? w.data_structure.map((f) => f.name).join(", ") : "none"}</p>
              ) : (
                <DataStructure webhookId={w.id} current={w.data_structure} onSaved={() => void load()} />
              )}
            </li>
          );
        })}
      </ul>
      {secret && (
        <div className="secret" role="status">
          <p>Shown once — store it now:</p>
          {Object.entries(secret).map(([key, value]) => (
            <p key={key}>
              {key}: <code>{value}</code> <CopyButton text={value} label={`Copy ${key}`} />
            </p>
          ))}
        </div>
      )}
      {!readOnly && (
        <fieldset>
          <legend>Add a webhook</legend>
          <label className="field">
            <span>Webhook name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="field">
            <span>Authentication</span>
            <select value={auth} onChange={(e) => setAuth(e.target.value)}>
              <option value="none">None (the URL is the secret)</option>
              <option value="api_key">API key header</option>
              <option value="basic">HTTP basic</option>
              <option value="standard_webhooks">Standard Webhooks signature</option>
            </select>
          </label>
          <button type="button" className="primary" onClick={create}>
            Create webhook
          </button>
        </fieldset>
      )}
    </Modal>
  );
}
