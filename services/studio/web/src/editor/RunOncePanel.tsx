// The "Run once" tab: a sample payload (typed, or taken from the last request the scenario's
// webhook received), the Run once button, and the run's bundles per module as it goes.

import { useEffect, useRef, useState } from "react";
import { api, errorText } from "../api";
import { BundleTree } from "../components/BundleTree";
import { CopyButton } from "../components/CopyButton";
import { RunInspector } from "../components/RunInspector";
import { curlCommand, readCapture, startCapture, waitForCapture, type Capture, type WebhookView } from "./captures";
import type { RunResult } from "./runOnce";

interface Props {
  scenarioId: string;
  readOnly: boolean;
  webhookTrigger: boolean;
  sample: string;
  onSample: (text: string) => void;
  running: boolean;
  onRun: () => void;
  result: RunResult | null;
  labels: Map<number, string>;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "");
const asSample = (body: unknown) => JSON.stringify(body ?? {}, null, 2);

function CaptureState({ capture, url }: { capture: Capture | null; url: string }) {
  if (capture === null) return <p className="muted">Loading…</p>;
  if (capture.waiting) {
    return (
      <div role="status" className="capture-waiting">
        <p>Waiting for the next request to this webhook… send one now, for example:</p>
        <code className="curl">{curlCommand(url, '{"name": "Ada"}')}</code>
        <CopyButton text={curlCommand(url, '{"name": "Ada"}')} label="Copy curl command" />
      </div>
    );
  }
  if (capture.too_large) return <p className="error">The last request was too large to keep ({capture.body_bytes} bytes).</p>;
  if (!capture.captured_at) {
    return <p className="muted">No request received yet. Requests are kept only while capturing: press “Capture the next request”, then call the webhook.</p>;
  }
  return (
    <>
      <p className="last-received-at">
        Last received request: {when(capture.captured_at)} ({capture.content_type || "no content type"}, {capture.body_bytes} bytes)
      </p>
      <BundleTree value={capture.body} label="body" />
    </>
  );
}

/** The scenario's webhooks and the request each last received (captured). */
function LastReceived({ scenarioId, readOnly, onSample }: Pick<Props, "scenarioId" | "readOnly" | "onSample">) {
  const [webhooks, setWebhooks] = useState<WebhookView[] | null>(null);
  const [chosen, setChosen] = useState<string>("");
  const [capture, setCapture] = useState<Capture | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const alive = useRef(true);
  const chosenRef = useRef(chosen); // the webhook a running wait belongs to
  chosenRef.current = chosen;
  const webhook = webhooks?.find((w) => w.id === chosen);

  const use = (found: Capture) => {
    onSample(asSample(found.body));
    setNote(`Sample payload filled from the request received at ${when(found.captured_at)}.`);
  };
  const follow = async (id: string, first: Capture) => {
    setCapture(first);
    if (!first.waiting) return;
    const found = await waitForCapture(id, () => alive.current && chosenRef.current === id, setCapture);
    if (found && !found.too_large) use(found);
  };
  const loadWebhooks = async () => {
    const { webhooks: found } = await api<{ webhooks: WebhookView[] }>("GET", `/scenarios/${scenarioId}/webhooks`);
    setWebhooks(found);
    if (found.length && !found.some((w) => w.id === chosenRef.current)) setChosen(found[0]!.id);
  };
  useEffect(() => {
    alive.current = true;
    loadWebhooks().catch((e: unknown) => setNote(errorText(e)));
    return () => {
      alive.current = false;
    };
  }, [scenarioId]); // eslint-disable-line
  useEffect(() => {
    if (!chosen) return;
    setCapture(null);
    readCapture(chosen)
      .then((found) => follow(chosen, found))
      .catch((e: unknown) => setNote(errorText(e)));
  }, [chosen]); // eslint-disable-line

  const listen = async () => {
    try {
      setNote(null);
      await follow(chosen, await startCapture(chosen));
    } catch (e) {
      setNote(errorText(e));
    }
  };
  const create = async () => {
    try {
      await api("POST", `/scenarios/${scenarioId}/webhooks`, { name: "Webhook", auth: "none" });
      await loadWebhooks();
    } catch (e) {
      setNote(errorText(e));
    }
  };

  return (
    <section className="last-received" aria-label="Last received request">
      <h3>Data from the webhook</h3>
      {webhooks?.length === 0 && (
        <p className="muted">
          This scenario has no webhook URL yet{readOnly ? "." : ": create one, then capture a request sent to it to run with real data."}
        </p>
      )}
      {webhooks?.length === 0 && !readOnly && (
        <button type="button" onClick={() => void create()}>
          Create a webhook URL
        </button>
      )}
      {webhooks && webhooks.length > 1 && (
        <label className="field">
          <span>Webhook</span>
          <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
            {webhooks.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {webhook && (
        <>
          <p className="url-row">
            <span className="muted">URL:</span> <code className="webhook-url">{webhook.url}</code>
            <CopyButton text={webhook.url} label="Copy URL" />
          </p>
          <p className="muted small">
            Requests to this URL start the scenario while it is active; while it is inactive they wait in a queue and run once you
            activate it.
          </p>
          <CaptureState capture={capture} url={webhook.url} />
          {!readOnly && (
            <div className="panel-actions">
              {capture?.captured_at && !capture.waiting && !capture.too_large && (
                <button type="button" onClick={() => use(capture)}>
                  Use last received request
                </button>
              )}
              <button type="button" onClick={() => void listen()} disabled={!capture || capture.waiting}>
                {capture?.waiting ? "Waiting for a request…" : "Capture the next request"}
              </button>
            </div>
          )}
        </>
      )}
      {note && (
        <p className="message" role="status">
          {note}
        </p>
      )}
    </section>
  );
}

export function RunOncePanel({ scenarioId, readOnly, webhookTrigger, sample, onSample, running, onRun, result, labels }: Props) {
  const inspector = useRef<HTMLDivElement>(null);
  const runId = result?.run.id;
  useEffect(() => {
    // The bundles appear below the payload: bring them into view when a new run starts.
    if (runId) inspector.current?.scrollIntoView({ block: "start" });
  }, [runId]);
  return (
    <section className="run-panel" aria-label="Run once">
      <p className="muted">
        {readOnly
          ? "Editors run the scenario once from here; you can see the data its webhook last received."
          : "Runs the saved scenario once (unsaved changes are saved first) with the sample payload as the trigger's output, and shows what every module received and produced."}
      </p>
      {webhookTrigger && <LastReceived scenarioId={scenarioId} readOnly={readOnly} onSample={onSample} />}
      <label className="field">
        <span>Sample payload (JSON)</span>
        <textarea rows={6} value={sample} onChange={(e) => onSample(e.target.value)} readOnly={readOnly} />
      </label>
      {!readOnly && (
        <button type="button" className="primary" onClick={onRun} disabled={running}>
          {running ? "Running…" : "Run once"}
        </button>
      )}
      <div ref={inspector}>{result && <RunInspector run={result.run} steps={result.steps} labels={labels} />}</div>
    </section>
  );
}
