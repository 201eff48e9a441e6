// The filter on a link (OR-groups of AND-conditions, every operator), plus, on a router's
// route, its label, order and fallback flag.

import { useState } from "react";
import { Modal } from "../components/Modal";
import type { Condition, Filter, OperatorSpec } from "../types";
import { ExprInput } from "./ExprInput";
import type { GraphEdge } from "./graph";

interface Props {
  edge: GraphEdge;
  routeCount: number;
  operators: OperatorSpec[];
  readOnly: boolean;
  onSave: (edge: GraphEdge) => void;
  onMove: (delta: number) => void;
  onClose: () => void;
}

const EMPTY: Condition = { a: "", o: "text:equal", b: "" };

function asText(value: unknown): string {
  return value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
}

export function FilterEditor({ edge, routeCount, operators, readOnly, onSave, onMove, onClose }: Props) {
  const [name, setName] = useState(edge.filter?.name ?? "");
  const [groups, setGroups] = useState<Condition[][]>(edge.filter?.conditions ?? []);
  const [label, setLabel] = useState(edge.routeLabel);
  const [fallback, setFallback] = useState(edge.fallback);
  const unary = new Set(operators.filter((o) => o.unary).map((o) => o.code));

  const setCondition = (g: number, c: number, change: Partial<Condition>) =>
    setGroups(groups.map((group, gi) => (gi !== g ? group : group.map((cond, ci) => (ci === c ? { ...cond, ...change } : cond)))));
  const remove = (g: number, c: number) =>
    setGroups(groups.map((group, gi) => (gi === g ? group.filter((_, ci) => ci !== c) : group)).filter((group) => group.length));

  const save = () => {
    const filter: Filter | null = groups.length ? { name: name || null, conditions: groups } : null;
    onSave({ ...edge, filter, routeLabel: label, fallback });
  };

  return (
    <Modal title={edge.kind === "route" ? "Route and filter" : "Filter"} onClose={onClose}>
      {edge.kind === "route" && (
        <fieldset>
          <legend>Route</legend>
          <label className="field">
            <span>Route label</span>
            <input value={label} onChange={(e) => setLabel(e.target.value)} readOnly={readOnly} />
          </label>
          <label className="check">
            <input type="checkbox" checked={fallback} disabled={readOnly} onChange={(e) => setFallback(e.target.checked)} />
            Fallback route (runs only when no other route matched)
          </label>
          <p className="muted">
            Route {edge.order + 1} of {routeCount}.{" "}
            {!readOnly && (
              <>
                <button type="button" onClick={() => onMove(-1)} disabled={edge.order === 0}>
                  Move up
                </button>{" "}
                <button type="button" onClick={() => onMove(1)} disabled={edge.order >= routeCount - 1}>
                  Move down
                </button>
              </>
            )}
          </p>
        </fieldset>
      )}
      <label className="field">
        <span>Filter label</span>
        <input value={name} onChange={(e) => setName(e.target.value)} readOnly={readOnly} />
      </label>
      {groups.map((group, g) => (
        <fieldset key={g} className="filter-group">
          <legend>{g === 0 ? "Conditions" : "Or"}</legend>
          {group.map((cond, c) => (
            <div key={c} className="condition">
              {c > 0 && <p className="muted">and</p>}
              <ExprInput label={`Condition ${g + 1}.${c + 1} value`} value={asText(cond.a)} onChange={(a) => setCondition(g, c, { a })} readOnly={readOnly} />
              <label className="field">
                <span>Condition {g + 1}.{c + 1} operator</span>
                <select value={cond.o} disabled={readOnly} onChange={(e) => setCondition(g, c, { o: e.target.value })}>
                  {operators.map((o) => (
                    <option key={o.code} value={o.code}>
                      {o.label} ({o.code})
                    </option>
                  ))}
                </select>
              </label>
              {!unary.has(cond.o) && (
                <ExprInput label={`Condition ${g + 1}.${c + 1} compared with`} value={asText(cond.b)} onChange={(b) => setCondition(g, c, { b })} readOnly={readOnly} />
              )}
              {!readOnly && (
                <button type="button" className="ghost" onClick={() => remove(g, c)}>
                  Remove condition {g + 1}.{c + 1}
                </button>
              )}
            </div>
          ))}
          {!readOnly && (
            <button type="button" onClick={() => setGroups(groups.map((grp, gi) => (gi === g ? [...grp, { ...EMPTY }] : grp)))}>
              Add AND rule
            </button>
          )}
        </fieldset>
      ))}
      {!readOnly && (
        <p>
          <button type="button" onClick={() => setGroups([...groups, [{ ...EMPTY }]])}>
            {groups.length ? "Add OR rule" : "Add condition"}
          </button>
        </p>
      )}
      <footer className="modal-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        {!readOnly && (
          <button type="button" className="primary" onClick={save}>
            Apply filter
          </button>
        )}
      </footer>
    </Modal>
  );
}
