// "Run once": start a manual run and poll the run and its log until it ended and its steps
// stopped arriving (steps reach the log service asynchronously after the run's final event).

import { api, ApiError } from "../api";
import { FINAL_STATUSES, type RunView, type StepView } from "../types";

export interface RunResult {
  run: RunView;
  steps: StepView[];
}

const POLL_MS = 600;
const SETTLE_POLLS = 3;
const MAX_POLLS = 200;

export async function fetchRun(runId: string): Promise<RunResult> {
  return api<RunResult>("GET", `/runs/${runId}`);
}

const NOT_VISIBLE_POLLS = 20;

async function firstLook(runId: string): Promise<RunResult> {
  // A run may take a moment to become readable after StartRun: retry NOT_FOUND briefly.
  for (let i = 0; ; i++) {
    try {
      return await fetchRun(runId);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404 || i >= NOT_VISIBLE_POLLS) throw error;
      await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
    }
  }
}

export async function followRun(runId: string, onUpdate: (result: RunResult) => void, cancelled: () => boolean): Promise<RunResult> {
  let last = await firstLook(runId);
  onUpdate(last);
  let stable = 0;
  for (let i = 0; i < MAX_POLLS && !cancelled(); i++) {
    await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
    const next = await fetchRun(runId);
    const ended = FINAL_STATUSES.has(next.run.status);
    stable = ended && next.steps.length === last.steps.length ? stable + 1 : 0;
    last = next;
    onUpdate(last);
    if (ended && (stable >= SETTLE_POLLS || next.steps.length >= next.run.operations) && next.steps.length > 0) break;
    if (ended && stable >= SETTLE_POLLS * 3) break;
  }
  return last;
}
