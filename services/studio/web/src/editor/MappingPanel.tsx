// The mapping panel: every upstream module's output items (declared outputs, a Set variables
// module's names, or the keys of its last run's bundles) and the IML functions; clicking one
// inserts it at the cursor of the expression field that last had focus.

import { useContext, useState } from "react";
import type { FunctionSpec, ModuleSpec, StepView } from "../types";
import type { GraphNode } from "./graph";
import { insertAt, MappingContext } from "./mapping";

interface Props {
  upstream: GraphNode[];
  specs: Map<string, ModuleSpec>;
  functions: FunctionSpec[];
  lastSteps: Map<number, StepView[]>;
}

function pathsOf(value: unknown, prefix: string, depth: number, out: string[]): void {
  if (value === null || typeof value !== "object" || Array.isArray(value) || depth > 2) return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path);
    pathsOf(child, path, depth + 1, out);
  }
}

export function outputItems(node: GraphNode, spec: ModuleSpec | undefined, steps: StepView[] | undefined): string[] {
  const found: string[] = [];
  const mapper = node.module.mapper ?? {};
  if (node.module.module === "util:SetVariables" && Array.isArray(mapper["variables"])) {
    for (const entry of mapper["variables"] as { name?: unknown }[]) {
      if (typeof entry?.name === "string" && entry.name) found.push(entry.name);
    }
  } else if (node.module.module === "util:SetVariable2" && typeof mapper["name"] === "string") {
    found.push(mapper["name"]);
  }
  spec?.outputs.forEach((f) => found.push(f.name));
  const output = steps?.[0]?.output;
  const bundle = Array.isArray(output) ? output[0] : output;
  pathsOf(bundle, "", 0, found);
  return [...new Set(found)];
}

export function MappingPanel({ upstream, specs, functions, lastSteps }: Props) {
  const target = useContext(MappingContext);
  const [search, setSearch] = useState("");
  const insert = (text: string) => {
    if (target.current) insertAt(target.current, text);
  };
  const wanted = search.trim().toLowerCase();
  const shown = functions.filter((f) => !wanted || `${f.name} ${f.category} ${f.description}`.toLowerCase().includes(wanted));
  return (
    <aside className="mapping-panel" aria-label="Mapping panel">
      <h3>Map from earlier modules</h3>
      <p className="muted">Click a field of the module form first, then an item to insert it.</p>
      {upstream.length === 0 && <p className="muted">No module comes before this one.</p>}
      {upstream.map((node) => {
        const items = outputItems(node, specs.get(node.module.module), lastSteps.get(node.id));
        return (
          <details key={node.id} open className="mapping-module">
            <summary>
              {node.id}. {node.module.label || specs.get(node.module.module)?.label || node.module.module}
            </summary>
            {items.length === 0 && <p className="muted">Run the scenario once (the Run once tab) to see this module's output.</p>}
            <div className="chips">
              {items.map((path) => (
                <button
                  type="button"
                  key={path}
                  className="chip"
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => insert(`{{${node.id}.${path}}}`)}
                  aria-label={`Insert ${node.id}.${path}`}
                >
                  {path}
                </button>
              ))}
            </div>
          </details>
        );
      })}
      <h3>Functions</h3>
      <label className="field">
        <span>Search functions</span>
        <input value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. lower, formatDate" />
      </label>
      <ul className="function-list">
        {shown.slice(0, 60).map((f) => (
          <li key={f.name}>
            <button
              type="button"
              className="function"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => insert(`{{${f.name}()}}`)}
              title={f.description}
            >
              <code>{f.signature}</code>
              <small className="muted"> {f.category}</small>
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
