// The schedule editor: a scenario's schedules (every kind Make offers, plus cron) with their
// time zone, optional start/end, run rate limit and polling target; pause, resume, edit, delete.

import { useEffect, useState } from "react";
import { api, errorText } from "../api";
import { Modal } from "../components/Modal";
import type { ScheduleView } from "../types";
import { describePoll } from "./PollFields";
import { describe, draftOf, emptyDraft, ScheduleForm, scheduleBody, type Draft } from "./ScheduleForm";

interface Props {
  scenarioId: string;
  readOnly: boolean;
  onClose: () => void;
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
      editing ? api("PUT", `/schedules/${editing.id}`, scheduleBody(draft)) : api("POST", `/scenarios/${scenarioId}/schedules`, scheduleBody(draft)),
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
            {s.poll && <div className="schedule-poll">{describePoll(s.poll)}</div>}
            {s.max_runs_per_minute > 0 && <div className="muted">At most {s.max_runs_per_minute} runs per minute</div>}
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
                <button type="button" onClick={() => setEditing(s)}>
                  Edit schedule
                </button>
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
