// A viewer and the newer panels (run by test_studio_e2e.py after extras.mjs, same stack and
// environment): the owner sets up, through the REST API, a scenario with a schedule (rate
// limited), a webhook whose next request was captured, a module using a connection, and an
// incomplete execution. The viewer sees each of them read-only — schedules, webhooks and their
// data structure, the connection picker, the Run once panel's last received request, the
// incomplete executions — and every write the panels could make is refused by the API with 403.

import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const require = createRequire(join(env.WEB_DIR, "package.json"));
const { chromium } = require("playwright-core");

const URL = env.STUDIO_URL;
const ARTIFACTS = env.ARTIFACTS;
mkdirSync(ARTIFACTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function step(name) {
  console.log(`step: ${name}`);
}

async function signIn(page, email, password) {
  await page.goto(URL + "/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Scenarios" }).waitFor();
}

// The REST API as the signed-in page calls it (session cookie plus the CSRF header).
async function rest(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("scenarist_csrf="))?.split("=")[1] ?? "";
      const headers = { "x-csrf-token": decodeURIComponent(csrf) };
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch("/api" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, text: await response.text() };
    },
    { method, path, body },
  );
}

async function ok(page, method, path, body) {
  const answer = await rest(page, method, path, body);
  check(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${answer.text}`);
  return answer.text ? JSON.parse(answer.text) : null;
}

const SCENARIO = {
  name: "Viewer panels (e2e)",
  settings: { store_incomplete: true },
  flow: [
    { id: 1, module: "gateway:CustomWebHook" },
    // Fails on a body that is not JSON, so the run parks there before any call to GitHub.
    { id: 2, module: "json:ParseJSON", mapper: { json: "{{1.doc}}" } },
    { id: 3, module: "github:CreateIssue", mapper: { owner: "acme", repo: "web", title: "{{1.title}}" } },
  ],
};

async function setUp(page) {
  step("the owner sets up a schedule, a captured webhook request, a connection, an incomplete execution");
  const connection = await ok(page, "POST", "/connections", { app: "github", type: "bearer", name: "Viewer GitHub", secrets: { token: "ghp_viewer-e2e" } });
  SCENARIO.flow[2].parameters = { connection: connection.id };
  const scenario = await ok(page, "POST", "/scenarios", { document: SCENARIO });
  const id = scenario.id;
  const schedule = await ok(page, "POST", `/scenarios/${id}/schedules`, { name: "Hourly sync", kind: "interval", interval_minutes: 60, max_runs_per_minute: 7 });
  const { webhook } = await ok(page, "POST", `/scenarios/${id}/webhooks`, { name: "Orders in", auth: "none" });
  await ok(page, "POST", `/webhooks/${webhook.id}/capture`);
  const sent = await fetch(webhook.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"title": "captured-title", "doc": "{}"}' });
  check(sent.status >= 200 && sent.status < 300, `the webhook took the request (${sent.status})`);
  for (let i = 0; i < 60 && !(await ok(page, "GET", `/webhooks/${webhook.id}/capture`)).captured_at; i++) await page.waitForTimeout(500);
  const run = await ok(page, "POST", `/scenarios/${id}/runs`, { input: { title: "t", doc: "not json" } });
  let parked = [];
  for (let i = 0; i < 120 && parked.length === 0; i++) {
    await page.waitForTimeout(500);
    parked = (await ok(page, "GET", `/scenarios/${id}/incomplete-executions`)).incomplete_executions;
  }
  check(parked.length === 1, "the failed bundle was parked as an incomplete execution");
  return { id, schedule, webhook, connection, run, parked: parked[0] };
}

async function panels(page, made) {
  step("the viewer sees schedules, webhooks, the connection, the last received request read-only");
  await page.goto(`${URL}/#/scenarios/${made.id}`);
  await page.locator('.react-flow__node[data-id="1"]').waitFor();
  await page.getByRole("button", { name: "Schedules" }).click();
  const schedules = page.getByRole("dialog", { name: "Schedules" });
  const item = schedules.locator(".schedule", { hasText: "Hourly sync" });
  await item.getByText("At most 7 runs per minute").waitFor();
  check((await item.getByRole("button").count()) === 0, "no pause, edit or delete for a viewer");
  check((await schedules.getByRole("button", { name: "Add schedule" }).count()) === 0, "no schedule form for a viewer");
  await page.screenshot({ path: join(ARTIFACTS, "viewer-schedules.png") });
  await schedules.getByRole("button", { name: "Close" }).click();

  await page.getByRole("button", { name: "Webhooks" }).click();
  const webhooks = page.getByRole("dialog", { name: "Webhooks" });
  check((await webhooks.locator(".webhook-url").innerText()).trim() === made.webhook.url, "the webhook URL is shown");
  for (const name of ["Create webhook", "New URL", "Determine data structure"]) {
    check((await webhooks.getByRole("button", { name }).count()) === 0, `no "${name}" for a viewer`);
  }
  await webhooks.getByText("Data structure: none").waitFor();
  await webhooks.getByRole("button", { name: "Close" }).click();

  await page.locator('.react-flow__node[data-id="3"]').click();
  const module = page.getByRole("region", { name: "Module 3" });
  const picker = module.locator(".connection-picker select");
  check(await picker.isDisabled(), "the connection picker is read-only");
  check((await picker.evaluate((s) => s.selectedOptions[0]?.textContent)) === "Viewer GitHub", "the connection is shown");
  for (const name of ["Add connection", "Test connection"]) {
    check((await module.getByRole("button", { name }).count()) === 0, `no "${name}" for a viewer`);
  }

  await page.getByRole("tab", { name: "Run once" }).click();
  const received = page.getByRole("region", { name: "Last received request" });
  await received.getByText("Last received request:").waitFor();
  for (const name of ["Capture the next request", "Use last received request", "Create a webhook URL"]) {
    check((await received.getByRole("button", { name }).count()) === 0, `no "${name}" for a viewer`);
  }
  check((await page.locator(".run-panel").getByRole("button", { name: "Run once" }).count()) === 0, "no Run once for a viewer");
  check(await page.getByLabel("Sample payload (JSON)").evaluate((e) => e.readOnly), "the sample is read-only");
  await page.screenshot({ path: join(ARTIFACTS, "viewer-run-once.png") });

  step("the viewer sees the incomplete execution without retry or resolve");
  await page.getByRole("link", { name: "History" }).click();
  const section = page.getByRole("region", { name: "Incomplete executions" });
  const parked = section.locator(".incomplete-item").first();
  await parked.getByText("json:ParseJSON").waitFor();
  for (const name of ["Retry", "Resolve"]) check((await parked.getByRole("button", { name }).count()) === 0, `no "${name}" for a viewer`);
  await page.screenshot({ path: join(ARTIFACTS, "viewer-incomplete.png"), fullPage: true });
}

async function writesRefused(page, made) {
  step("every write of these panels answers 403 to the viewer");
  const incomplete = `/runs/${made.parked.run_id}/incomplete-executions/${encodeURIComponent(made.parked.task_id)}`;
  const schedule = `/schedules/${made.schedule.id}`;
  const writes = [
    ["POST", `/scenarios/${made.id}/schedules`, { kind: "interval", interval_minutes: 5 }],
    ["PUT", schedule, { kind: "interval", interval_minutes: 5, max_runs_per_minute: 1000 }],
    ["POST", `${schedule}/pause`],
    ["DELETE", schedule],
    ["POST", `/scenarios/${made.id}/webhooks`, { name: "mine" }],
    ["POST", `/webhooks/${made.webhook.id}/rotate`, { rotate_url: true }],
    ["POST", `/webhooks/${made.webhook.id}/capture`],
    ["PUT", `/webhooks/${made.webhook.id}/data-structure`, { fields: [] }],
    ["DELETE", `/webhooks/${made.webhook.id}`],
    ["POST", "/connections", { app: "github", type: "bearer", name: "mine", secrets: { token: "x" } }],
    ["POST", `/connections/${made.connection.id}/test`],
    ["DELETE", `/connections/${made.connection.id}`],
    ["POST", `${incomplete}/retry`],
    ["POST", `${incomplete}/resolve`],
    ["POST", `/scenarios/${made.id}/runs`, { input: {} }],
  ];
  for (const [method, path, body] of writes) {
    const answer = await rest(page, method, path, body);
    check(answer.status === 403, `${method} ${path} refused to the viewer (${answer.status})`);
  }
  const after = JSON.parse((await rest(page, "GET", `/scenarios/${made.id}/schedules`)).text).schedules;
  check(after.length === 1 && !after[0].paused && after[0].max_runs_per_minute === 7, "the schedule is unchanged");
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
const pages = [];
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("dialog", (dialog) => {
    failed = true;
    console.error(`unexpected dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  pages.push(page);
  return page;
}
try {
  const owner = await newPage();
  await signIn(owner, env.OWNER_EMAIL, env.OWNER_PASSWORD);
  const made = await setUp(owner);
  const viewer = await newPage();
  await signIn(viewer, env.VIEWER_EMAIL, env.VIEWER_PASSWORD);
  await panels(viewer, made);
  await writesRefused(viewer, made);
} catch (error) {
  failed = true;
  console.error(error);
  await pages.at(-1)?.screenshot({ path: join(ARTIFACTS, "viewer-failure.png"), fullPage: true }).catch(() => undefined);
} finally {
  await browser.close();
}
console.log(failed ? "studio e2e viewer: FAILED" : "studio e2e viewer: passed");
process.exit(failed ? 1 : 0);
