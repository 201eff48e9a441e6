// The schedule form: when a scenario runs (every kind Make offers, plus cron), in which time zone,
// from and until when, how many runs per minute at most, and, for a polling trigger, which app
// module is asked for new items each time.

import { useState } from "react";
import type { ScheduleView } from "../types";
import { PollFields, pollBody, pollDraftOf, type PollDraft } from "./PollFields";

const KINDS: [string, string][] = [
  ["interval", "At regular intervals"],
  ["once", "Once"],
  ["daily", "Every day"],
  ["weekly", "Days of the week"],
  ["monthly", "Days of the month"],
  ["dates", "Specified dates"],
  ["cron", "Cron expression"],
];
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export interface Draft {
  name: string;
  kind: string;
  interval_minutes: string;
  once_at: string;
  time: string;
  weekdays: number[];
  month_days: string;
  dates: string;
  cron: string;
  time_zone: string;
  start_at: string; // datetime-local, read in the browser's zone
  end_at: string;
  max_runs_per_minute: string;
  poll: PollDraft | null;
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function emptyDraft(): Draft {
  return {
    name: "",
    kind: "interval",
    interval_minutes: "15",
    once_at: "",
    time: "09:00",
    weekdays: [1],
    month_days: "1",
    dates: "",
    cron: "0 9 * * 1-5",
    time_zone: browserZone(),
    start_at: "",
    end_at: "",
    max_runs_per_minute: "",
    poll: null,
  };
}

function local(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const offset = date.getTimezoneOffset() * 60_000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 16);
}

export function draftOf(s: ScheduleView): Draft {
  return {
    name: s.name,
    kind: s.kind,
    interval_minutes: String(s.interval_minutes || 15),
    once_at: s.once_at,
    time: s.time || "09:00",
    weekdays: s.kind === "weekly" ? s.days : [1],
    month_days: s.kind === "monthly" ? s.days.join(", ") : "1",
    dates: s.dates.join(", "),
    cron: s.cron,
    time_zone: s.time_zone,
    start_at: local(s.start_at),
    end_at: local(s.end_at),
    max_runs_per_minute: s.max_runs_per_minute ? String(s.max_runs_per_minute) : "",
    poll: s.poll ? pollDraftOf(s.poll) : null,
  };
}

function numbers(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n));
}

export function scheduleBody(d: Draft): Record<string, unknown> {
  return {
    name: d.name,
    kind: d.kind,
    interval_minutes: d.kind === "interval" ? Number(d.interval_minutes) || 0 : 0,
    once_at: d.kind === "once" ? d.once_at : "",
    time: ["daily", "weekly", "monthly", "dates"].includes(d.kind) ? d.time : "",
    days: d.kind === "weekly" ? d.weekdays : d.kind === "monthly" ? numbers(d.month_days) : [],
    dates: d.kind === "dates" ? d.dates.split(/[\s,]+/).filter(Boolean) : [],
    cron: d.kind === "cron" ? d.cron : "",
    time_zone: d.time_zone,
    start_at: d.start_at ? new Date(d.start_at).toISOString() : null,
    end_at: d.end_at ? new Date(d.end_at).toISOString() : null,
    max_runs_per_minute: Number(d.max_runs_per_minute) || 0,
    poll: d.poll ? pollBody(d.poll) : null,
  };
}

export function describe(s: ScheduleView): string {
  switch (s.kind) {
    case "interval":
      return `every ${s.interval_minutes} minutes`;
    case "once":
      return `once at ${s.once_at}`;
    case "daily":
      return `every day at ${s.time}`;
    case "weekly":
      return `on ${s.days.map((d) => WEEKDAYS[d - 1] ?? d).join(", ")} at ${s.time}`;
    case "monthly":
      return `on day ${s.days.join(", ")} of the month at ${s.time}`;
    case "dates":
      return `on ${s.dates.join(", ")} at ${s.time}`;
    default:
      return `cron ${s.cron}`;
  }
}

function TimingFields({ draft, set }: { draft: Draft; set: (patch: Partial<Draft>) => void }) {
  const kind = draft.kind;
  return (
    <>
      {kind === "interval" && (
        <label className="field">
          <span>Minutes between runs</span>
          <input type="number" min={1} value={draft.interval_minutes} onChange={(e) => set({ interval_minutes: e.target.value })} />
        </label>
      )}
      {kind === "once" && (
        <label className="field">
          <span>Date and time</span>
          <input type="datetime-local" value={draft.once_at} onChange={(e) => set({ once_at: e.target.value })} />
        </label>
      )}
      {kind === "weekly" && (
        <fieldset>
          <legend>Days of the week</legend>
          {WEEKDAYS.map((day, index) => (
            <label key={day} className="check">
              <input
                type="checkbox"
                checked={draft.weekdays.includes(index + 1)}
                onChange={(e) =>
                  set({
                    weekdays: e.target.checked
                      ? [...draft.weekdays, index + 1].sort((a, b) => a - b)
                      : draft.weekdays.filter((d) => d !== index + 1),
                  })
                }
              />
              {day}
            </label>
          ))}
        </fieldset>
      )}
      {kind === "monthly" && (
        <label className="field">
          <span>Days of the month (1–31, comma separated)</span>
          <input value={draft.month_days} onChange={(e) => set({ month_days: e.target.value })} />
        </label>
      )}
      {kind === "dates" && (
        <label className="field">
          <span>Dates (MM-DD, comma separated)</span>
          <input value={draft.dates} placeholder="01-15, 07-01" onChange={(e) => set({ dates: e.target.value })} />
        </label>
      )}
      {["daily", "weekly", "monthly", "dates"].includes(kind) && (
        <label className="field">
          <span>Time of day</span>
          <input type="time" value={draft.time} onChange={(e) => set({ time: e.target.value })} />
        </label>
      )}
      {kind === "cron" && (
        <label className="field">
          <span>Cron expression (minute hour day month weekday)</span>
          <input value={draft.cron} onChange={(e) => set({ cron: e.target.value })} />
        </label>
      )}
    </>
  );
}

export function ScheduleForm({ initial, editing, onSubmit, onCancel }: { initial: Draft; editing: boolean; onSubmit: (d: Draft) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState(initial);
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  return (
    <form
      className="schedule-form"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(draft);
      }}
    >
      <fieldset>
        <legend>{editing ? "Edit the schedule" : "Add a schedule"}</legend>
        <label className="field">
          <span>Schedule name</span>
          <input value={draft.name} placeholder="Schedule" onChange={(e) => set({ name: e.target.value })} />
        </label>
        <label className="field">
          <span>Run the scenario</span>
          <select value={draft.kind} onChange={(e) => set({ kind: e.target.value })}>
            {KINDS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <TimingFields draft={draft} set={set} />
        <label className="field">
          <span>Time zone (IANA name)</span>
          <input value={draft.time_zone} onChange={(e) => set({ time_zone: e.target.value })} />
        </label>
        <label className="field">
          <span>Start (optional)</span>
          <input type="datetime-local" value={draft.start_at} onChange={(e) => set({ start_at: e.target.value })} />
        </label>
        <label className="field">
          <span>End (optional)</span>
          <input type="datetime-local" value={draft.end_at} onChange={(e) => set({ end_at: e.target.value })} />
        </label>
        <label className="field">
          <span>Most runs per minute (empty: the server's default, 100)</span>
          <input
            type="number"
            min={0}
            max={10000}
            value={draft.max_runs_per_minute}
            onChange={(e) => set({ max_runs_per_minute: e.target.value })}
          />
          <small className="muted">Counted for the whole scenario; runs above the limit wait for the next minute.</small>
        </label>
        <PollFields poll={draft.poll} onChange={(poll) => set({ poll })} />
        <div className="panel-actions">
          <button type="submit" className="primary">
            {editing ? "Save schedule" : "Add schedule"}
          </button>
          {editing && (
            <button type="button" onClick={onCancel}>
              Cancel editing
            </button>
          )}
        </div>
      </fieldset>
    </form>
  );
}
