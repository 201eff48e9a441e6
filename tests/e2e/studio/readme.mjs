// The newcomer's path (run by test_studio_e2e.py after flow.mjs, same stack and environment):
// the README's example scenario — webhook → compose "Hello {{upper(1.name)}}" → webhook
// response — built only from what the screens say. The Run once panel creates the webhook's
// URL, captures the next request sent to it (a visible waiting state), fills the sample payload
// from it ("use last received request"), and runs once; then the scenario is activated and the
// webhook answers "Hello ADA". Screenshots: readme-*.png.

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

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `readme-${name}.png`) });

async function signIn(page) {
  await page.goto(URL + "/");
  await page.getByLabel("Email").fill(env.OWNER_EMAIL);
  await page.getByLabel("Password").fill(env.OWNER_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Scenarios" }).waitFor();
}

async function addAfter(page, moduleId, search, pick) {
  await page.locator(`.react-flow__node[data-id="${moduleId}"]`).click();
  await page.getByRole("button", { name: "Add next module" }).click();
  await page.getByLabel("Search apps and modules").fill(search);
  await page.getByRole("button", { name: pick }).click();
}

async function build(page) {
  step("create the scenario; its trigger is a webhook");
  await page.getByRole("button", { name: "Create a new scenario" }).click();
  await page.getByLabel("Scenario name").fill("Greeting");
  check((await page.getByLabel("Trigger").inputValue()) === "gateway:CustomWebHook", "a webhook is the default trigger");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.locator('.react-flow__node[data-id="1"]').click();
  const trigger = page.getByRole("region", { name: "Module 1" });
  await trigger.getByText("starts the scenario when its URL receives a request").waitFor();
  await shot(page, "1-trigger");

  step("compose a string from the webhook's name");
  await addAfter(page, 1, "compose", /Compose a string/);
  await page.getByLabel("Text").fill("Hello {{upper(1.name)}}");

  step("answer the webhook with the composed text");
  await addAfter(page, 2, "webhook response", /Webhook response/);
  await page.getByLabel("Status").fill("200");
  await page.getByLabel("Body").click();
  await page.getByRole("button", { name: "Insert 2.value" }).click();
  check((await page.getByLabel("Body").inputValue()) === "{{2.value}}", "the body maps module 2's text");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/Saved as version \d+/).waitFor();
  await shot(page, "2-built");
}

async function runWithLastReceived(page) {
  step("Run once: create the webhook URL, capture a request, use it as the sample");
  await page.getByRole("tab", { name: "Run once" }).click();
  const panel = page.getByRole("region", { name: "Last received request" });
  await panel.getByRole("button", { name: "Create a webhook URL" }).click();
  const url = (await panel.locator(".webhook-url").innerText()).trim();
  check(url.startsWith("http"), `the webhook URL is shown: ${url}`);
  await panel.getByText("No request received yet").waitFor();
  await panel.getByRole("button", { name: "Capture the next request" }).click();
  await panel.locator(".capture-waiting").waitFor();
  check(await panel.getByRole("button", { name: "Waiting for a request…" }).isDisabled(), "the waiting state is visible");
  await shot(page, "3-waiting");
  const sent = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name": "Ada"}' });
  console.log(`the inactive scenario's webhook answered ${sent.status}: ${await sent.text()}`);
  await panel.getByText(/Sample payload filled from the request received at/).waitFor({ timeout: 30_000 });
  const sample = JSON.parse(await page.getByLabel("Sample payload (JSON)").inputValue());
  check(sample.name === "Ada", `the sample is the received body: ${JSON.stringify(sample)}`);
  await page.getByLabel("Sample payload (JSON)").fill("{}");
  await panel.getByRole("button", { name: "Use last received request" }).click();
  check(JSON.parse(await page.getByLabel("Sample payload (JSON)").inputValue()).name === "Ada", "used again");
  await shot(page, "4-captured");

  await page.locator(".run-panel").getByRole("button", { name: "Run once" }).click();
  const inspector = page.getByRole("region", { name: "Run inspector" });
  await inspector.locator(".status-success").waitFor({ timeout: 60_000 });
  await inspector.locator('[data-module-id="3"]').waitFor({ timeout: 30_000 });
  check((await inspector.textContent()).includes("Hello ADA"), "the run composed Hello ADA");
  await shot(page, "5-run");
  return url;
}

async function activateAndCall(page, url) {
  step("activate; the webhook answers with the greeting");
  await page.getByRole("button", { name: "Activate" }).click();
  await page.locator(".toolbar .status-active").waitFor();
  const answer = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name": "Grace"}' });
  const text = await answer.text();
  check(answer.status === 200 && text === "Hello GRACE", `the webhook answered ${answer.status}: ${text}`);
  await page.getByRole("link", { name: "History" }).click();
  await page.locator("table.runs tr", { hasText: "webhook" }).first().waitFor({ timeout: 30_000 });
  await shot(page, "6-history");
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(15_000);
page.on("dialog", (dialog) => {
  failed = true;
  console.error(`unexpected dialog: ${dialog.message()}`);
  void dialog.dismiss();
});
page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
try {
  await signIn(page);
  await build(page);
  const url = await runWithLastReceived(page);
  await activateAndCall(page, url);
} catch (error) {
  failed = true;
  console.error(error);
  await page.screenshot({ path: join(ARTIFACTS, "readme-failure.png"), fullPage: true }).catch(() => undefined);
} finally {
  await browser.close();
}
console.log(failed ? "studio e2e readme: FAILED" : "studio e2e readme: passed");
process.exit(failed ? 1 : 0);
