// A schedule's polling target ("watch new items"): the app's trigger module asked for items newer
// than the schedule's cursor each time the schedule is due, with its connection and inputs. The
// cursor and the per-poll limit are the trigger service's own inputs, so they are not offered.

import { useMemo } from "react";
import type { ModuleSpec, PollView } from "../types";
import { useCatalogue } from "./catalogue";
import { ConnectionPicker } from "./Connections";
import { FieldList } from "./FieldForm";

export interface PollDraft {
  module: string; // catalogue id "app:Module"
  inputs: Record<string, unknown>;
  connection_id: string;
  max_items: string;
}

const SET_BY_THE_TRIGGER = new Set(["cursor", "limit"]);

export function pollDraftOf(poll: PollView): PollDraft {
  return {
    module: `${poll.app}:${poll.module}`,
    inputs: poll.inputs ?? {},
    connection_id: poll.connection_id,
    max_items: poll.max_items ? String(poll.max_items) : "",
  };
}

export function pollBody(d: PollDraft): Record<string, unknown> {
  const at = d.module.indexOf(":");
  return {
    app: d.module.slice(0, at),
    module: d.module.slice(at + 1),
    inputs: d.inputs,
    connection_id: d.connection_id,
    max_items: Number(d.max_items) || 0,
  };
}

export function describePoll(poll: PollView): string {
  return `polls ${poll.app}:${poll.module}${poll.max_items ? ` (at most ${poll.max_items} items each time)` : ""}`;
}

interface Props {
  poll: PollDraft | null;
  onChange: (poll: PollDraft | null) => void;
}

export function PollFields({ poll, onChange }: Props) {
  const { catalogue, error } = useCatalogue();
  const triggers = useMemo(
    // Pollable: a trigger that takes the scheduler's cursor (the engine's own triggers do not).
    () => [...(catalogue?.modules.values() ?? [])].filter((m) => m.kind === "trigger" && m.inputs.some((f) => f.name === "cursor")).sort((a, b) => a.id.localeCompare(b.id)),
    [catalogue],
  );
  const spec: ModuleSpec | undefined = poll ? catalogue?.modules.get(poll.module) : undefined;
  const app = catalogue?.apps.find((a) => a.name === spec?.app);
  const set = (patch: Partial<PollDraft>) => poll && onChange({ ...poll, ...patch });
  return (
    <fieldset className="poll-fields">
      <legend>Polling trigger</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={poll !== null}
          disabled={poll === null && triggers.length === 0}
          onChange={(e) => onChange(e.target.checked ? { module: triggers[0]?.id ?? "", inputs: {}, connection_id: "", max_items: "" } : null)}
        />
        Ask an app for new items each time (a polling trigger: one run with a bundle per new item, none when nothing is new)
      </label>
      {error && <p className="error">Catalogue unavailable: {error}</p>}
      {catalogue && triggers.length === 0 && <p className="muted">No app in the catalogue offers a polling trigger.</p>}
      {poll && (
        <>
          <label className="field">
            <span>Module to poll</span>
            <select value={poll.module} onChange={(e) => set({ module: e.target.value, inputs: {}, connection_id: "" })}>
              {!spec && <option value={poll.module}>{poll.module} (not in the catalogue)</option>}
              {triggers.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.label} ({m.id})
                </option>
              ))}
            </select>
          </label>
          {app && (app.connection_types.length > 0 || spec?.connection_required) && (
            <ConnectionPicker
              app={app}
              value={poll.connection_id}
              required={spec?.connection_required ?? false}
              readOnly={false}
              onChange={(connection_id) => set({ connection_id })}
            />
          )}
          {spec && (
            <FieldList
              fields={spec.inputs.filter((f) => !SET_BY_THE_TRIGGER.has(f.name))}
              values={poll.inputs}
              readOnly={false}
              prefix="Poll input: "
              onChange={(inputs) => set({ inputs })}
            />
          )}
          <label className="field">
            <span>Maximum number of results per poll (empty: 100)</span>
            <input type="number" min={0} max={1000} value={poll.max_items} onChange={(e) => set({ max_items: e.target.value })} />
          </label>
        </>
      )}
    </fieldset>
  );
}
