// The studio in a real browser (Debian's Chromium driven by playwright-core; no browser is
// downloaded). Run by test_studio_e2e.py against a live stack; every check fails the process
// with a message. Environment: STUDIO_URL, OWNER_EMAIL, OWNER_PASSWORD, VIEWER_EMAIL,
// VIEWER_PASSWORD, ARTIFACTS, CHROMIUM (default /usr/bin/chromium), WEB_DIR.

import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = process.env;
const require = createRequire(join(env.WEB_DIR, "package.json"));
const { chromium } = require("playwright-core");

const URL = env.STUDIO_URL;
const ARTIFACTS = env.ARTIFACTS;
const XSS = "<img src=x onerror=\"window.__pwned=1\">";
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

async function addModule(page, from, search, moduleId, button = "Add next module") {
  await page.locator(".module-index, .module-panel").first().waitFor();
  await selectModule(page, from);
  await page.getByRole("button", { name: button }).click();
  await page.getByLabel("Search apps and modules").fill(search);
  await page.locator(`[data-module="${moduleId}"]`).click();
}

async function selectModule(page, id) {
  await page.locator(`.react-flow__node[data-id="${id}"]`).click();
  await page.getByRole("region", { name: `Module ${id}` }).waitFor();
}

async function setRouteFilter(page, link, label, value, operator, compared) {
  await page.locator(`[data-link="${link}"]`).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Route label").fill(label);
  await dialog.getByRole("button", { name: "Add condition" }).click();
  await dialog.getByLabel("Condition 1.1 value").fill(value);
  await dialog.getByLabel("Condition 1.1 operator").selectOption(operator);
  await dialog.getByLabel("Condition 1.1 compared with").fill(compared);
  await dialog.getByRole("button", { name: "Apply filter" }).click();
  await dialog.waitFor({ state: "detached" });
}

async function build(page) {
  step("create a scenario with a webhook trigger");
  await page.getByRole("button", { name: "Create a new scenario" }).click();
  await page.getByLabel("Scenario name").fill("Order router (e2e)");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.locator('.react-flow__node[data-id="1"]').waitFor();

  step("set variables");
  await addModule(page, 1, "variables", "util:SetVariables");
  await page.getByRole("button", { name: "Add variables item" }).click();
  await page.getByLabel("Variables 1: Variable name").fill("email");
  await page.getByLabel("Variables 1: Variable value").fill("{{lower(1.email)}}");
  await page.getByRole("button", { name: "Add variables item" }).click();
  await page.getByLabel("Variables 2: Variable name").fill("big");
  await page.getByLabel("Variables 2: Variable value").fill("{{1.amount > 100");
  await page.locator(".expr-problem", { hasText: "never closed" }).waitFor(); // the parser message
  await page.getByLabel("Variables 2: Variable value").fill("{{1.amount > 100}}");

  step("router with two routes, each a webhook response");
  await addModule(page, 2, "router", "builtin:BasicRouter");
  await addModule(page, 3, "webhook response", "gateway:WebhookRespond", "Add route");
  await page.getByLabel("Status").fill("200");
  const body = page.getByLabel("Body");
  await body.click();
  await body.pressSequentially('{"tier": "big", "email": "');
  await page.getByRole("button", { name: "Insert 2.email" }).click();
  await body.press("End");
  await body.pressSequentially('"}');
  check((await body.inputValue()) === '{"tier": "big", "email": "{{2.email}}"}', `mapped body: ${await body.inputValue()}`);
  await page.locator(".mapping-panel").screenshot({ path: join(ARTIFACTS, "mapping-panel.png") });

  await addModule(page, 3, "webhook response", "gateway:WebhookRespond", "Add route");
  await page.getByLabel("Status").fill("200");
  await page.getByLabel("Body").fill('{"tier": "small", "email": "{{2.email}}"}');

  step("filters on both routes");
  await setRouteFilter(page, "3-4", "Big orders", "{{2.big}}", "boolean:equal", "true");
  await setRouteFilter(page, "3-5", "Small orders", "{{2.big}}", "boolean:equal", "false");

  step("save");
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/Saved as version \d+/).waitFor();
  await page.locator(".canvas").screenshot({ path: join(ARTIFACTS, "canvas.png") });
}

async function runOnce(page) {
  step("run once with a sample payload (with a stored-XSS attempt)");
  await page.getByRole("tab", { name: "Run once" }).click();
  const sample = { email: "Ada@Example.COM", amount: 142.5, note: XSS };
  await page.getByLabel("Sample payload (JSON)").fill(JSON.stringify(sample));
  await page.locator(".run-panel").getByRole("button", { name: "Run once" }).click();
  const inspector = page.getByRole("region", { name: "Run inspector" });
  await inspector.locator(".status-success").waitFor({ timeout: 60_000 });
  await inspector.locator('[data-module-id="4"]').waitFor({ timeout: 30_000 });
  const text = await inspector.textContent();
  check(text.includes("ada@example.com"), "module 2 output shows the lowered email");
  check(text.includes(XSS), "the XSS payload is shown as text");
  check((await inspector.locator("img").count()) === 0, "no <img> element was created from the payload");
  check((await inspector.locator('[data-module-id="5"]').count()) === 0, "the small-orders route did not run");
  const big = await inspector.locator('[data-module-id="4"]').textContent();
  check(big.includes("1 operation"), "the big-orders response ran once");
  check(text.includes("big"), "the response says big");
  check(!(await page.evaluate(() => window.__pwned)), "no script ran from the payload");
  check((await page.locator('.react-flow__node[data-id="2"] .run-badge').innerText()) === "1", "canvas shows operations");
  await page.locator(".editor-main").screenshot({ path: join(ARTIFACTS, "run-inspector.png") });
}

async function activateAndCall(page) {
  step("activate, create a webhook, call it over HTTP");
  await page.getByRole("button", { name: "Activate" }).click();
  await page.locator(".toolbar .status-active").waitFor();
  await page.getByRole("button", { name: "Webhooks" }).click();
  await page.getByRole("button", { name: "Create webhook" }).click();
  const url = (await page.locator(".webhook-url").first().innerText()).trim();
  check(url.startsWith("http"), `webhook URL shown: ${url}`);
  await page.getByRole("button", { name: "Close" }).click();
  const answer = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "Bob@Example.com", amount: 10 }),
  });
  const replied = await answer.text();
  console.log(`webhook answered ${answer.status}: ${replied}`);
  check(answer.status >= 200 && answer.status < 300, `webhook accepted the call (${answer.status})`);
  return url;
}

async function history(page) {
  step("find the webhook run in the history");
  await page.getByRole("link", { name: "History" }).click();
  const row = page.locator("table.runs tr", { hasText: "webhook" }).first();
  for (let attempt = 0; attempt < 30 && !(await row.count()); attempt++) {
    await page.waitForTimeout(500);
    await page.getByRole("button", { name: "Refresh" }).click();
  }
  await row.getByRole("link").click();
  const inspector = page.getByRole("region", { name: "Run inspector" });
  await inspector.waitFor();
  for (let attempt = 0; attempt < 30 && !(await inspector.textContent()).includes("bob@example.com"); attempt++) {
    await page.waitForTimeout(500);
    await page.reload();
    await inspector.waitFor();
  }
  const text = await inspector.textContent();
  check(text.includes("bob@example.com"), "the webhook run's bundles are in the history");
  check(text.includes("small"), "the webhook run took the small-orders route");
  await page.screenshot({ path: join(ARTIFACTS, "history-run.png"), fullPage: true });
}

async function viewer(browser, scenarioUrl) {
  step("a viewer cannot edit");
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await signIn(page, env.VIEWER_EMAIL, env.VIEWER_PASSWORD);
  check((await page.getByRole("button", { name: "Create a new scenario" }).count()) === 0, "no create button");
  await page.goto(scenarioUrl);
  await page.locator('.react-flow__node[data-id="1"]').waitFor();
  await selectModule(page, 2);
  check((await page.getByRole("button", { name: "Save" }).count()) === 0, "no save button");
  check((await page.getByRole("button", { name: "Add next module" }).count()) === 0, "no add button");
  check((await page.getByRole("button", { name: /^(Activate|Deactivate)$/ }).count()) === 0, "no activation");
  check(await page.getByLabel("Variables 1: Variable value").evaluate((e) => e.readOnly), "fields are read-only");
  const status = await page.evaluate(async (href) => {
    const id = href.split("/scenarios/")[1];
    const csrf = document.cookie.split("; ").find((c) => c.startsWith("scenarist_csrf="))?.split("=")[1];
    const response = await fetch(`/api/scenarios/${id}/activate`, { method: "POST", headers: { "x-csrf-token": csrf } });
    return response.status;
  }, scenarioUrl);
  check(status === 403, `the API refuses the viewer (${status})`);
  await context.close();
}

// Playwright starts Chromium headless with a fresh temporary profile (its own --user-data-dir).
const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
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
  await signIn(page, env.OWNER_EMAIL, env.OWNER_PASSWORD);
  await build(page);
  const scenarioUrl = page.url();
  await runOnce(page);
  await activateAndCall(page);
  await history(page);
  await viewer(browser, scenarioUrl);
} catch (error) {
  failed = true;
  console.error(error);
  await page.screenshot({ path: join(ARTIFACTS, "failure.png"), fullPage: true }).catch(() => undefined);
} finally {
  await browser.close();
}
console.log(failed ? "studio e2e: FAILED" : "studio e2e: passed");
process.exit(failed ? 1 : 0);
