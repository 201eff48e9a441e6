// Following a run live: the run's Server-Sent Events (/api/runs/{id}/events, relayed from
// RunService.StreamRunEvents) say when something changed, and each change refetches the run
// with its steps. If the stream drops, polling takes over. Steps reach the log service
// asynchronously after the run's final event, so the end is followed by a short settle poll.

import { api, ApiError } from "../api";
import { FINAL_STATUSES, type RunView, type StepView } from "../types";

export interface RunResult {
  run: RunView;
  steps: StepView[];
}

const POLL_MS = 600;
const SETTLE_POLLS = 3;
const MAX_POLLS = 200;
const NOT_VISIBLE_POLLS = 20;

export async function fetchRun(runId: string): Promise<RunResult> {
  return api<RunResult>("GET", `/runs/${runId}`);
}

const pause = (ms: number) => new Promise((resolve) => window.setTimeout(resolve, ms));

async function firstLook(runId: string): Promise<RunResult> {
  // A run may take a moment to become readable after StartRun: retry NOT_FOUND briefly.
  for (let i = 0; ; i++) {
    try {
      return await fetchRun(runId);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404 || i >= NOT_VISIBLE_POLLS) throw error;
      await pause(POLL_MS);
    }
  }
}

/** Refetches on every event, coalescing bursts into one fetch in flight plus one queued. */
function refresher(runId: string, onUpdate: (result: RunResult) => void) {
  let running: Promise<void> | null = null;
  let again = false;
  const refresh = () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        onUpdate(await fetchRun(runId));
      } while (again);
    })()
      .catch(() => undefined)
      .finally(() => {
        running = null;
      });
  };
  return { refresh, idle: async () => (running ? running : undefined) };
}

/** True when the stream reported the run's end; false when it dropped or failed. */
export function streamRun(runId: string, onUpdate: (result: RunResult) => void, cancelled: () => boolean): Promise<boolean> {
  if (typeof EventSource === "undefined") return Promise.resolve(false);
  const { refresh, idle } = refresher(runId, onUpdate);
  return new Promise((resolve) => {
    const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events`);
    // The page that follows the run may go away between two events.
    const watch = window.setInterval(() => cancelled() && finish(false), 1000);
    const finish = (ended: boolean) => {
      window.clearInterval(watch);
      source.close();
      refresh();
      void idle().then(() => resolve(ended));
    };
    source.addEventListener("run", () => (cancelled() ? finish(false) : refresh()));
    source.addEventListener("end", () => finish(true));
    source.addEventListener("failed", () => finish(false));
    // A dropped connection: EventSource would reconnect by itself; polling is simpler to reason
    // about from here on.
    source.onerror = () => finish(false);
  });
}

async function poll(runId: string, first: RunResult, onUpdate: (result: RunResult) => void, cancelled: () => boolean): Promise<RunResult> {
  let last = first;
  let stable = 0;
  for (let i = 0; i < MAX_POLLS && !cancelled(); i++) {
    const ended = FINAL_STATUSES.has(last.run.status);
    if (ended && last.steps.length > 0 && (stable >= SETTLE_POLLS || last.steps.length >= last.run.operations)) break;
    if (ended && stable >= SETTLE_POLLS * 3) break;
    await pause(POLL_MS);
    const next = await fetchRun(runId);
    stable = FINAL_STATUSES.has(next.run.status) && next.steps.length === last.steps.length ? stable + 1 : 0;
    last = next;
    onUpdate(last);
  }
  return last;
}

/** `started`: the caller just started the run, so it follows the stream even if the run already
 * ended (the stream then answers at once with the final event). */
export async function followRun(
  runId: string,
  onUpdate: (result: RunResult) => void,
  cancelled: () => boolean,
  started = false,
): Promise<RunResult> {
  let last = await firstLook(runId);
  onUpdate(last);
  const track = (result: RunResult) => {
    last = result;
    onUpdate(result);
  };
  if (started || !FINAL_STATUSES.has(last.run.status)) await streamRun(runId, track, cancelled);
  // After the stream (ended or dropped): poll until the run is final and its steps settled.
  return poll(runId, last, track, cancelled);
}
