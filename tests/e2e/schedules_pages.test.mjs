// The dashboard's Reports view as a manager uses it, in Debian's chromium: schedule a
// report through the form (the webhook's signing secret shown once), see it listed with
// its next run, see its run delivered with the file to download once the cron finds it
// due, and pause it; make an alert and see what it raised.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { api, seed, eventually, BASE, ADMIN_KEY } from "./helpers.mjs";
import { launchOptions } from "./browser.mjs";

const HOUR_MS = 3_600_000;
const hooks = [];
const server = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    hooks.push({ headers: request.headers, body });
    response.writeHead(204).end();
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const browser = await chromium.launch(launchOptions());
after(() => Promise.all([browser.close(), new Promise((resolve) => server.close(resolve))]));

test("a manager schedules a report, sees it run and downloads its file", async () => {
  const { program } = await seed();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE}/?program=${program.id}&view=reports`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  // Schedules over every program (made through the API by other tests) are listed too.
  await page.locator("section[aria-labelledby=schedules-title]").waitFor();

  // Due at the next full hour (UTC: the seeded program's zone).
  const dueAt = Math.ceil((Date.now() + 60_000) / HOUR_MS) * HOUR_MS;
  const form = page.locator("form[aria-label='Schedule report']");
  await form.locator("input[name=name]").fill("Morning partners");
  await form.locator("select[name=hour]").selectOption(String(new Date(dueAt).getUTCHours()));
  await form.locator("select[name=format]").selectOption("csv");
  await form.locator("input[name=webhook]").fill(`http://127.0.0.1:${server.address().port}/hook`);
  await form.locator("button[type=submit]").click();
  const secret = await page.locator("[data-testid=signing-secret]").textContent();
  assert.match(secret, /^whsec_/);
  const row = page.locator("section[aria-labelledby=schedules-title] tbody tr", { hasText: "Morning partners" });
  await row.waitFor();
  const cells = await row.locator("td").allTextContents();
  assert.equal(cells[2], "Daily at " + String(new Date(dueAt).getUTCHours()).padStart(2, "0") + ":00 (UTC)");
  assert.match(cells[4], /^webhook http:\/\/127\.0\.0\.1:\d+\/…hook$/);
  assert.ok(!(await page.content()).includes(secret) || (await page.locator("[data-testid=signing-secret]").count()) === 1, "the secret only in the notice");

  const cron = await fetch(`${BASE}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("*/15 * * * *")}&time=${dueAt + 1000}`);
  assert.equal(cron.status, 200);
  await eventually(async () => hooks.length === 1, { ms: 30_000, what: "the webhook delivery" });
  await page.reload();
  const run = page.locator("section[aria-labelledby=runs-title] tbody tr", { hasText: "Morning partners" });
  await run.waitFor();
  assert.equal(await run.locator("[data-status]").textContent(), "Delivered");
  assert.match(await run.locator("td").nth(4).textContent(), /^✓ webhook http:\/\/127\.0\.0\.1:\d+\/…hook$/);
  const [download] = await Promise.all([page.waitForEvent("download"), run.locator("a[download]").click()]);
  const file = readFileSync(await download.path(), "utf8");
  assert.match(download.suggestedFilename(), /^morning-partners-\d{4}-\d{2}-\d{2}\.csv$/);
  assert.match(file, /^partner_id,partner_name,/, "a partner report by default");
  const runs = (await api("GET", "/api/v1/report-runs?limit=200")).json.data.filter((r) => r.schedule_name === "Morning partners");
  assert.equal(runs.length, 1);

  await row.locator("button:has-text('Pause')").click();
  await row.locator("td:has-text('paused')").waitFor();
  await row.locator("button:has-text('Resume')").waitFor();
  assert.deepEqual(errors, []);
});

test("a manager makes an alert and sees what it raised", async () => {
  const { program } = await seed();
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1200 } })).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE}/?program=${program.id}&view=reports`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  await page.locator("text=No alert for this program yet").waitFor();
  const form = page.locator("form[aria-label='Make alert']");
  await form.locator("input[name=name]").fill("No sales");
  await form.locator("select[name=metric]").selectOption("sales");
  await form.locator("select[name=operator]").selectOption("below");
  await form.locator("input[name=threshold]").fill("1");
  await form.locator("input[name=webhook]").fill(`http://127.0.0.1:${server.address().port}/alert`);
  await form.locator("button[type=submit]").click();
  await page.locator("[role=status]:has-text('No sales watches: sales below 1')").waitFor();
  const row = page.locator("section[aria-labelledby=alerts-title] tbody tr", { hasText: "No sales" });
  await row.waitFor();
  // The seeded program sold nothing yesterday: the next check raises the alert.
  const before = hooks.length;
  const cron = await fetch(`${BASE}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("*/15 * * * *")}&time=${Date.now()}`);
  assert.equal(cron.status, 200);
  await eventually(async () => hooks.slice(before).some((h) => h.headers["x-partnerlens-event"] === "alert.triggered"), { ms: 30_000, what: "the alert" });
  await page.reload();
  const raised = page.locator("section[aria-labelledby=alerts-title] tbody tr", { hasText: "No sales: sales 0 on" });
  await raised.waitFor();
  assert.equal(await raised.locator("[data-status]").textContent(), "Delivered");
  assert.notEqual(await row.locator("td").nth(4).textContent(), "—", "last sent is shown");
  assert.deepEqual(errors, []);
});
