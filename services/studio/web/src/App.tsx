// Hash routes: #/ scenarios, #/scenarios/:id editor, …/history, …/versions, #/runs/:id,
// #/account. Signing in happens in place when the session is missing.

import { useEffect, useState } from "react";
import { api, setCsrf } from "./api";
import { Account } from "./pages/Account";
import { Editor } from "./pages/Editor";
import { History, RunPage } from "./pages/History";
import { ScenarioList } from "./pages/ScenarioList";
import { SignIn } from "./pages/SignIn";
import { Versions } from "./pages/Versions";
import type { Me } from "./types";

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const update = () => setHash(window.location.hash);
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return hash.replace(/^#/, "") || "/";
}

function Page({ path, me }: { path: string; me: Me }) {
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/scenarios\/([\w-]+)\/history$/))) return <History scenarioId={m[1]!} me={me} />;
  if ((m = path.match(/^\/scenarios\/([\w-]+)\/versions$/))) return <Versions scenarioId={m[1]!} me={me} />;
  if ((m = path.match(/^\/scenarios\/([\w-]+)$/))) return <Editor key={m[1]} scenarioId={m[1]!} me={me} />;
  if ((m = path.match(/^\/runs\/([\w-]+)$/))) return <RunPage runId={m[1]!} />;
  if (path === "/account") return <Account me={me} />;
  return <ScenarioList me={me} />;
}

export function App() {
  const path = useHash();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    api<Me>("GET", "/session")
      .then((found) => {
        setCsrf(found.csrf);
        setMe(found);
      })
      .catch(() => setMe(null));
  }, []);
  if (me === undefined) return <p>Loading…</p>;
  if (me === null) return <SignIn onSignedIn={setMe} />;
  const signOut = async () => {
    await api("DELETE", "/session").catch(() => undefined);
    setCsrf(null);
    setMe(null);
  };
  return (
    <div className="app">
      <nav className="topbar" aria-label="Main">
        <a href="#/" className="brand">
          Scenarist
        </a>
        <a href="#/">Scenarios</a>
        <a href="#/account">Account</a>
        <span className="spacer" />
        <span className="muted">
          {me.user.email} · {me.role}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </nav>
      <Page path={path} me={me} />
    </div>
  );
}
