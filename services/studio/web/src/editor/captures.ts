// A webhook's capture ("determine data structure" and Run once's "last received request"): the
// trigger records the webhook's next request once asked to, and nothing otherwise, so the last
// received request is the last one captured.

import { api } from "../api";
import type { StructureField } from "../types";

export interface Capture {
  waiting: boolean;
  requested_at: string | null;
  captured_at: string | null;
  content_type: string;
  body: unknown;
  body_bytes: number;
  too_large: boolean;
  structure: StructureField[] | null;
}

export interface WebhookView {
  id: string;
  name: string;
  url: string;
  auth: string;
  api_key_header: string;
  data_structure: StructureField[];
}

const POLL_MS = 1000;
const MAX_POLLS = 600; // ten minutes, then the person asks again

export const readCapture = (webhookId: string) => api<Capture>("GET", `/webhooks/${webhookId}/capture`);
export const startCapture = (webhookId: string) => api<Capture>("POST", `/webhooks/${webhookId}/capture`);

/** Polls until the capture holds a request (returned), or `alive()` turns false or time runs out
 * (null). Every state read is passed to `onUpdate`. */
export async function waitForCapture(webhookId: string, alive: () => boolean, onUpdate: (c: Capture) => void): Promise<Capture | null> {
  for (let i = 0; i < MAX_POLLS && alive(); i++) {
    await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
    if (!alive()) return null;
    const found = await readCapture(webhookId);
    if (!alive()) return null;
    onUpdate(found);
    if (!found.waiting) return found;
  }
  return null;
}

export function curlCommand(url: string, body = '{"hello": "world"}'): string {
  return `curl -X POST -H 'content-type: application/json' -d '${body}' ${url}`;
}
