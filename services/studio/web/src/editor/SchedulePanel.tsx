// The schedule editor: a scenario's schedules (every kind Make offers, plus cron) with their
// time zone and optional start/end; pause, resume, edit and delete.

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import { Modal } from "../components/Modal";
import type { ScheduleView } from "../types";

interface Props {
  scenarioId: string;
  readOnly: boolean;
  onClose: () => void;
}

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

interface Draft {
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
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function emptyDraft(): Draft {
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
  };
}

function local(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const offset = date.getTimezoneOffset() * 60_000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 16);
}

function draftOf(s: ScheduleView): Draft {
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
  };
}

function numbers(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n));
}

function body(d: Draft): Record<string, unknown> {
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

function ScheduleForm({ initial, editing, onSubmit, onCancel }: { initial: Draft; editing: boolean; onSubmit: (d: Draft) => void; onCancel: () => void }) {
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

export function SchedulePanel({ scenarioId, readOnly, onClose }: Props) {
  const [schedules, setSchedules] = useState<ScheduleView[] | null>(null);
  const [editing, setEditing] = useState<ScheduleView | null>(null);
  const [formKey, setFormKey] = useState(0); // a fresh, empty form after each save
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ schedules: ScheduleView[] }>("GET", `/scenarios/${scenarioId}/schedules`)
      .then((r) => setSchedules(r.schedules))
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, [scenarioId]); // eslint-disable-line

  const act = async (work: () => Promise<unknown>) => {
    try {
      setError(null);
      await work();
      await load();
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    }
  };
  const submit = async (draft: Draft) => {
    const ok = await act(() =>
      editing ? api("PUT", `/schedules/${editing.id}`, body(draft)) : api("POST", `/scenarios/${scenarioId}/schedules`, body(draft)),
    );
    if (ok) {
      setEditing(null);
      setFormKey((n) => n + 1);
    }
  };

  return (
    <Modal title="Schedules" onClose={onClose}>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {schedules?.length === 0 && <p className="muted">No schedule: the scenario runs only from its webhooks, or by hand.</p>}
      <ul className="schedules">
        {schedules?.map((s) => (
          <li key={s.id} className="schedule" data-schedule-id={s.id}>
            <strong>{s.name || "Schedule"}</strong> <span className="schedule-summary">{describe(s)}</span>{" "}
            <span className="muted">({s.time_zone})</span>{" "}
            <span className={`status ${s.paused ? "status-inactive" : "status-active"}`}>{s.paused ? "paused" : "on"}</span>
            <div className="muted">
              Next run: {s.next_due_at ? new Date(s.next_due_at).toLocaleString() : "none"}
              {s.last_fired_at && ` · last: ${new Date(s.last_fired_at).toLocaleString()}`}
            </div>
            {s.last_error && <div className="error">{s.last_error}</div>}
            {!readOnly && (
              <div className="panel-actions">
                <button type="button" onClick={() => void act(() => api("POST", `/schedules/${s.id}/${s.paused ? "resume" : "pause"}`))}>
                  {s.paused ? "Resume" : "Pause"} schedule
                </button>
                {!s.polling && (
                  <button type="button" onClick={() => setEditing(s)}>
                    Edit schedule
                  </button>
                )}
                <button type="button" className="danger" onClick={() => void act(() => api("DELETE", `/schedules/${s.id}`))}>
                  Delete schedule
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {!readOnly && (
        <ScheduleForm
          key={editing?.id ?? `new-${formKey}`}
          initial={editing ? draftOf(editing) : emptyDraft()}
          editing={editing !== null}
          onSubmit={(d) => void submit(d)}
          onCancel={() => setEditing(null)}
        />
      )}
    </Modal>
  );
}
