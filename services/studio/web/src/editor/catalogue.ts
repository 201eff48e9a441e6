// The catalogue (apps, modules with field schemas), IML functions and filter operators,
// fetched once per page load.

import { useEffect, useState } from "react";
import { api } from "../api";
import type { AppSpec, FunctionSpec, ModuleSpec, OperatorSpec } from "../types";

export interface Catalogue {
  apps: AppSpec[];
  modules: Map<string, ModuleSpec>;
  functions: FunctionSpec[];
  operators: OperatorSpec[];
}

let loading: Promise<Catalogue> | null = null;

async function load(): Promise<Catalogue> {
  const [{ apps }, { functions }, { operators }] = await Promise.all([
    api<{ apps: AppSpec[] }>("GET", "/apps"),
    api<{ functions: FunctionSpec[] }>("GET", "/iml/functions"),
    api<{ operators: OperatorSpec[] }>("GET", "/filters/operators"),
  ]);
  const lists = await Promise.all(
    apps.map((app) => api<{ modules: ModuleSpec[] }>("GET", `/apps/${encodeURIComponent(app.name)}/modules`)),
  );
  const modules = new Map<string, ModuleSpec>();
  lists.forEach((list) => list.modules.forEach((m) => modules.set(m.id, m)));
  return { apps, modules, functions, operators };
}

export function useCatalogue(): { catalogue: Catalogue | null; error: string | null } {
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    loading ??= load();
    loading.then(setCatalogue).catch((e: unknown) => {
      loading = null;
      setError(String(e instanceof Error ? e.message : e));
    });
  }, []);
  return { catalogue, error };
}
