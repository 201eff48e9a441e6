// The caller's API tokens for scripts; owners also add users.

import { useEffect, useState, type FormEvent } from "react";
import { api, errorText } from "../api";
import type { Me } from "../types";

interface Token {
  id: string;
  name: string;
  prefix: string;
  role: string;
  created_at: string;
  revoked_at: string | null;
}

interface UserRow {
  id: string;
  email: string;
  role: string;
}

export function Account({ me }: { me: Me }) {
  const [tokens, setTokens] = useState<Token[]>([]);
  const [users, setUsers] = useState<UserRow[]>([]);
  const [tokenName, setTokenName] = useState("script");
  const [tokenRole, setTokenRole] = useState("viewer");
  const [secret, setSecret] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("editor");
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const owner = me.role === "owner";

  const load = () => {
    api<{ tokens: Token[] }>("GET", "/tokens").then((r) => setTokens(r.tokens)).catch((e: unknown) => setError(errorText(e)));
    if (owner) api<{ users: UserRow[] }>("GET", "/users").then((r) => setUsers(r.users)).catch((e: unknown) => setError(errorText(e)));
  };
  useEffect(load, []); // eslint-disable-line

  const createToken = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const made = await api<{ secret: string }>("POST", "/tokens", { name: tokenName, role: tokenRole });
      setSecret(made.secret);
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const addUser = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const made = await api<{ user: UserRow; password: string | null }>("POST", "/users", { email, role });
      setCreated(`${made.user.email} (${made.user.role}) — password: ${made.password ?? "(as given)"}`);
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <main className="page">
      <h1>Account</h1>
      <p>
        Signed in as {me.user.email} ({me.role}).
      </p>
      {error && <p className="error" role="alert">{error}</p>}
      <section>
        <h2>API tokens for scripts</h2>
        <p className="muted">Send as <code>Authorization: Bearer …</code> to /api; see /api/openapi.json.</p>
        <ul>
          {tokens.map((t) => (
            <li key={t.id}>
              {t.name} · {t.prefix}… · {t.role} {t.revoked_at ? "(revoked)" : (
                <button type="button" onClick={() => api("DELETE", `/tokens/${t.id}`).then(load).catch((e: unknown) => setError(errorText(e)))}>
                  Revoke {t.name}
                </button>
              )}
            </li>
          ))}
        </ul>
        <form onSubmit={createToken} className="filters">
          <label className="field inline">
            <span>Token name</span>
            <input value={tokenName} onChange={(e) => setTokenName(e.target.value)} required />
          </label>
          <label className="field inline">
            <span>Token role</span>
            <select value={tokenRole} onChange={(e) => setTokenRole(e.target.value)}>
              <option>viewer</option>
              <option>editor</option>
              <option>owner</option>
            </select>
          </label>
          <button type="submit">Create token</button>
        </form>
        {secret && (
          <p role="status">
            Shown once: <code>{secret}</code>
          </p>
        )}
      </section>
      {owner && (
        <section>
          <h2>Users</h2>
          <ul>
            {users.map((u) => (
              <li key={u.id}>
                {u.email} · {u.role}
              </li>
            ))}
          </ul>
          <form onSubmit={addUser} className="filters">
            <label className="field inline">
              <span>New user's email</span>
              <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
            </label>
            <label className="field inline">
              <span>Role</span>
              <select value={role} onChange={(e) => setRole(e.target.value)}>
                <option>viewer</option>
                <option>editor</option>
                <option>owner</option>
              </select>
            </label>
            <button type="submit">Add user</button>
          </form>
          {created && <p role="status">{created}</p>}
        </section>
      )}
    </main>
  );
}
