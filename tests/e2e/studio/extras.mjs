// The studio's second browser flow (run after flow.mjs by test_studio_e2e.py, same stack and
// environment): a schedule is added, paused, resumed, made a rate-limited polling trigger, read
// back and deleted; a connection is added from a
// module form (its secret never shown again) and tested; a scenario that parks a failed bundle
// (store_incomplete) runs once over the live event stream, and its incomplete execution is
// retried from the history into a run that succeeds; a webhook's data structure is determined
// from a received request, saved, and enforced.

import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const require = createRequire(join(env.WEB_DIR, "package.json"));
const { chromium } = require("playwright-core");

const URL = env.STUDIO_URL;
const ARTIFACTS = env.ARTIFACTS;
const SECRET = process.env.FAKE_GITHUB_TOKEN;
mkdirSync(ARTIFACTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function step(name) {
  console.log(`step: ${name}`);
}

async function signIn(page) {
  await page.goto(URL + "/");
  await page.getByLabel("Email").fill(env.OWNER_EMAIL);
  await page.getByLabel("Password").fill(env.OWNER_PASSWORD);
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

async function createScenario(page, document) {
  const created = await rest(page, "POST", "/scenarios", { document });
  check(created.status === 201, `scenario created (${created.status} ${created.text})`);
  const id = JSON.parse(created.text).id;
  await page.goto(`${URL}/#/scenarios/${id}`);
  await page.locator('.react-flow__node[data-id="1"]').waitFor();
  return id;
}

async function selectModule(page, id) {
  await page.locator(`.react-flow__node[data-id="${id}"]`).click();
  return page.getByRole("region", { name: `Module ${id}` });
}

async function schedules(page) {
  step("schedule: add a days-of-the-week schedule in a time zone, pause, resume, delete");
  const scenarioId = await createScenario(page, { name: "Scheduled (e2e)", flow: [{ id: 1, module: "util:ComposeTransformer", mapper: { value: "tick" } }] });
  await page.getByRole("button", { name: "Schedules" }).click();
  const dialog = page.getByRole("dialog", { name: "Schedules" });
  await dialog.getByLabel("Schedule name").fill("Weekday report");
  await dialog.getByLabel("Run the scenario").selectOption("weekly");
  await dialog.getByLabel("Wednesday").check();
  await dialog.getByLabel("Time of day").fill("10:30");
  await dialog.getByLabel("Time zone (IANA name)").fill("Europe/Prague");
  await dialog.getByRole("button", { name: "Add schedule" }).click();
  const item = dialog.locator(".schedule", { hasText: "Weekday report" });
  await item.waitFor();
  const text = await item.innerText();
  check(text.includes("on Monday, Wednesday at 10:30") && text.includes("Europe/Prague"), `schedule listed: ${text}`);
  check(!text.includes("Next run: none"), "the schedule has a next run");
  await item.getByRole("button", { name: "Pause schedule" }).click();
  await item.locator(".status", { hasText: "paused" }).waitFor();
  await item.getByRole("button", { name: "Resume schedule" }).click();
  await item.locator(".status", { hasText: "on" }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, "schedules.png") });

  step("schedule: make it a polling trigger with a run rate limit; the form reads it back");
  await item.getByRole("button", { name: "Edit schedule" }).click();
  await dialog.getByLabel("Ask an app for new items each time", { exact: false }).check();
  await dialog.getByLabel("Module to poll").selectOption("github:WatchIssues");
  await dialog.getByLabel("Poll input: Owner").fill("acme");
  await dialog.getByLabel("Poll input: Repository").fill("web");
  check((await dialog.getByLabel(/^Poll input: Cursor/).count()) === 0, "the cursor is the trigger's, not offered");
  await dialog.getByLabel("Maximum number of results per poll (empty: 100)").fill("25");
  await dialog.getByLabel(/^Most runs per minute/).fill("30");
  await dialog.getByRole("button", { name: "Save schedule" }).click();
  await item.getByText("polls github:WatchIssues (at most 25 items each time)").waitFor();
  await item.getByText("At most 30 runs per minute").waitFor();
  const kept = JSON.parse((await rest(page, "GET", `/scenarios/${scenarioId}/schedules`)).text).schedules[0];
  check(kept.kind === "weekly" && kept.poll.inputs.owner === "acme" && kept.poll.max_items === 25, `saved: ${JSON.stringify(kept)}`);
  await item.getByRole("button", { name: "Edit schedule" }).click();
  check(await dialog.getByLabel("Ask an app for new items each time", { exact: false }).isChecked(), "the form reads the poll back");
  check((await dialog.getByLabel("Poll input: Repository").inputValue()) === "web", "the poll inputs are read back");
  check((await dialog.getByLabel(/^Most runs per minute/).inputValue()) === "30", "the rate limit is read back");
  await dialog.locator(".poll-fields").screenshot({ path: join(ARTIFACTS, "schedule-polling.png") });
  await dialog.getByRole("button", { name: "Cancel editing" }).click();
  await item.getByRole("button", { name: "Delete schedule" }).click();
  await item.waitFor({ state: "detached" });
  await dialog.getByRole("button", { name: "Close" }).click();
}

async function connections(page) {
  step("connection: add one from a module form; the secret is never shown again; test it");
  const id = await createScenario(page, {
    name: "Issues (e2e)",
    flow: [
      { id: 1, module: "gateway:CustomWebHook" },
      { id: 2, module: "github:CreateIssue", mapper: { owner: "acme", repo: "web", title: "{{1.title}}" } },
    ],
  });
  const panel = await selectModule(page, 2);
  await panel.getByRole("button", { name: "Add connection" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a GitHub connection" });
  await dialog.getByLabel("Connection name").fill("Acme GitHub");
  // A local fake GitHub answers the connection test (the test run has no internet).
  await dialog.getByLabel("Base URL (optional)").fill(process.env.FAKE_GITHUB_URL);
  const token = dialog.getByLabel("Token", { exact: true });
  check((await token.getAttribute("type")) === "password", "the token is typed into a password input");
  await token.fill(SECRET);
  await dialog.getByRole("button", { name: "Save connection" }).click();
  await dialog.waitFor({ state: "detached" });
  const picker = panel.locator(".connection-picker select");
  const picked = await picker.evaluate((select) => select.selectedOptions[0]?.textContent);
  check(picked === "Acme GitHub", `the new connection is picked (${picked})`);
  await panel.locator(".connection-info", { hasText: "stored secrets: token" }).waitFor();
  await panel.getByRole("button", { name: "Test connection" }).click();
  await panel.locator(".connection-verdict", { hasText: "Connection works (octocat)" }).waitFor();
  check(!(await page.content()).includes(SECRET), "the secret is not in the page");
  const listed = await rest(page, "GET", "/connections?app=github");
  check(listed.status === 200 && listed.text.includes("Acme GitHub") && !listed.text.includes(SECRET), "the API never returns the secret");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/Saved as version \d+/).waitFor();
  await page.reload();
  await page.locator('.react-flow__node[data-id="1"]').waitFor();
  const again = await selectModule(page, 2);
  await again.locator(".connection-info", { hasText: "stored secrets: token" }).waitFor();
  check(!(await page.content()).includes(SECRET), "the secret is not shown after a reload");
  const saved = JSON.parse((await rest(page, "GET", `/scenarios/${id}`)).text);
  const connectionId = saved.document.flow[1].parameters.connection;
  check(typeof connectionId === "string" && connectionId.length > 0, "the module references the connection");
  await page.screenshot({ path: join(ARTIFACTS, "connection.png") });
}

const PARKING = {
  name: "Parking (e2e)",
  settings: { store_incomplete: true },
  flow: [
    { id: 1, module: "gateway:CustomWebHook" },
    { id: 2, module: "util:SetVariable2", mapper: { name: "phase", value: "first", scope: "execution" } },
    // Fails while "phase" is set: a retry resumes at module 3, where module 2 did not run again.
    { id: 3, module: "json:ParseJSON", mapper: { json: '{{if(phase = "first"; "oops"; 1.doc)}}' } },
    { id: 4, module: "util:ComposeTransformer", mapper: { value: "n={{3.n}}" } },
  ],
};

async function incomplete(page, streams) {
  step("incomplete execution: run once (live events), retry it from the history");
  const id = await createScenario(page, PARKING);
  await page.getByRole("tab", { name: "Run once" }).click();
  await page.getByLabel("Sample payload (JSON)").fill(JSON.stringify({ doc: '{"n": 7}' }));
  await page.locator(".run-panel").getByRole("button", { name: "Run once" }).click();
  const inspector = page.getByRole("region", { name: "Run inspector" });
  await inspector.locator(".status-warning").waitFor({ timeout: 60_000 });
  await inspector.locator('[data-module-id="3"] .error', { hasText: "DataError" }).waitFor({ timeout: 30_000 });
  check(streams.length > 0, "Run once followed the run's event stream");
  await page.getByRole("link", { name: "History" }).click();
  const section = page.getByRole("region", { name: "Incomplete executions" });
  const item = section.locator(".incomplete-item").first();
  await item.waitFor();
  const text = await item.textContent();
  check(text.includes("DataError") && text.includes("json:ParseJSON"), `the error is shown: ${text}`);
  check(text.includes('{"n": 7}') && text.includes("phase"), "the parked bundle is shown");
  await page.screenshot({ path: join(ARTIFACTS, "incomplete.png"), fullPage: true });
  await item.getByRole("button", { name: "Retry" }).click();
  const link = section.getByRole("link", { name: "Open the retry run" });
  await link.waitFor();
  await link.click();
  const retried = page.getByRole("region", { name: "Run inspector" });
  await retried.locator(".status-success").waitFor({ timeout: 60_000 });
  await retried.locator('[data-module-id="4"]', { hasText: "n=7" }).waitFor({ timeout: 30_000 });
  check((await retried.locator('[data-module-id="1"]').count()) === 0, "the retry resumed at module 3, not at the trigger");
  await page.goto(`${URL}/#/scenarios/${id}/history`);
  await section.getByText("No incomplete executions.").waitFor();
  return id;
}

async function capture(page, scenarioId) {
  step("determine a webhook's data structure from a received request");
  await page.goto(`${URL}/#/scenarios/${scenarioId}`);
  await page.locator('.react-flow__node[data-id="1"]').waitFor();
  await page.getByRole("button", { name: "Webhooks" }).click();
  const dialog = page.getByRole("dialog", { name: "Webhooks" });
  await dialog.getByRole("button", { name: "Create webhook" }).click();
  const url = (await dialog.locator(".webhook-url").first().innerText()).trim();
  await dialog.getByRole("button", { name: "Determine data structure" }).click();
  await dialog.locator(".capture-waiting").waitFor();
  const sample = { email: "ada@example.com", amount: 12.5, note: "<b>bold</b>", items: [{ sku: "A1", qty: 2 }] };
  const sent = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(sample) });
  check(sent.status >= 200 && sent.status < 300, `the webhook accepted the sample (${sent.status})`);
  const result = dialog.locator(".capture-result");
  await result.waitFor({ timeout: 30_000 });
  const shown = await result.textContent();
  for (const name of ["email", "amount", "items.sku", "items.qty"]) check(shown.includes(name), `field ${name} determined`);
  check(shown.includes("<b>bold</b>") && (await result.locator("b").count()) === 0, "the captured body renders as text");
  await dialog.getByLabel("Type of amount").selectOption("number");
  await result.locator("li", { hasText: "email" }).first().getByLabel("required").check();
  await page.screenshot({ path: join(ARTIFACTS, "data-structure.png") });
  await dialog.getByRole("button", { name: "Save data structure" }).click();
  await dialog.getByText(/Data structure saved \(4 fields\)/).waitFor();
  const refused = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 1 }) });
  check(refused.status === 400, `a body without the required email is refused (${refused.status})`);
  const accepted = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(sample) });
  check(accepted.status >= 200 && accepted.status < 300, `the sample still matches (${accepted.status})`);
  await dialog.getByRole("button", { name: "Close" }).click();
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(15_000);
const streams = [];
page.on("request", (request) => request.url().endsWith("/events") && streams.push(request.url()));
page.on("dialog", (dialog) => {
  failed = true;
  console.error(`unexpected dialog: ${dialog.message()}`);
  void dialog.dismiss();
});
page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
try {
  await signIn(page);
  await schedules(page);
  await connections(page);
  const parking = await incomplete(page, streams);
  await capture(page, parking);
} catch (error) {
  failed = true;
  console.error(error);
  await page.screenshot({ path: join(ARTIFACTS, "extras-failure.png"), fullPage: true }).catch(() => undefined);
} finally {
  await browser.close();
}
console.log(failed ? "studio e2e extras: FAILED" : "studio e2e extras: passed");
process.exit(failed ? 1 : 0);
