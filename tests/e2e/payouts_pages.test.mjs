// The money side of the dashboard as a manager uses it, in Debian's chromium: a payout's
// transfer (a reference and "Mark paid"; marked, it shows when and the reference, as the
// API does, and the partner's portal shows it sent; "Undo" takes it back to pending), and
// the program's costs (added, corrected, deleted, with the KPIs following).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { api, ndjson, unique, eventually, CHROME, BASE, ADMIN_KEY } from "./helpers.mjs";
import { launchOptions } from "./browser.mjs";

const browser = await chromium.launch(launchOptions());
after(() => browser.close());

async function madePayout() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Transfers"), currency: "EUR", model: "sales", min_payout: "1", hold_days: 0 })).json;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Payee") })).json;
  const code = unique("tr");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code });
  const ts = new Date(Date.now() - 3_600_000).toISOString();
  await ndjson("/api/v1/import/clicks", [{ id: `${code}-1`, ts, link_code: code, ua: CHROME, ip: "203.0.113.9", country: "DE" }]);
  const sales = await ndjson("/api/v1/import/conversions", [{ click_id: `${code}-1`, event: "sale", order_id: `${code}-o`, amount: "420.00", status: "approved", ts }]);
  assert.equal(sales.accepted, 1, JSON.stringify(sales));
  const run = await api("POST", "/api/v1/payouts", { program_id: program.id });
  assert.equal(run.status, 201, run.text);
  assert.equal(run.json.data.length, 1, run.text);
  const token = (await api("POST", "/api/v1/partner-tokens", { partner_id: partner.id })).json.token;
  return { program, payout: run.json.data[0], token };
}

test("a manager marks a payout paid with its reference, the partner sees it sent, and it can be undone", async () => {
  const { program, payout, token } = await madePayout();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE}/?program=${program.id}&view=payouts`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");

  const row = page.locator("section[aria-labelledby=payouts-title] tbody tr");
  await row.waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /42\.00/);
  const form = row.locator(`form[aria-label='Transfer of payout ${payout.id}']`);
  await form.locator("input[name=reference]").fill("SEPA-2026-0042");
  await form.locator("button[type=submit]").click();
  await row.locator("[data-status=paid]").waitFor();
  const stored = (await api("GET", `/api/v1/payouts/${payout.id}`)).json;
  assert.equal(stored.status, "paid");
  assert.equal(stored.reference, "SEPA-2026-0042");
  assert.ok(stored.paid_at, "the API holds when");
  assert.match(await row.textContent(), /SEPA-2026-0042/);

  const portal = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  portal.on("pageerror", (e) => errors.push(e.message));
  await portal.goto(`${BASE}/portal#token=${encodeURIComponent(token)}`);
  await portal.waitForSelector(".card[data-metric=clicks] .card-value");
  await portal.click("nav a:has-text('Payouts')");
  const sent = portal.locator("section[aria-labelledby=payouts-title] tbody tr [data-status=paid]");
  await sent.waitFor();
  assert.match(await sent.textContent(), /^Sent /);
  assert.match(await portal.locator("section[aria-labelledby=payouts-title] tbody tr").textContent(), /SEPA-2026-0042/);

  await row.locator("button:has-text('Undo')").click();
  await row.locator("form input[name=reference]").waitFor();
  const undone = (await api("GET", `/api/v1/payouts/${payout.id}`)).json;
  assert.deepEqual([undone.status, undone.paid_at, undone.reference], ["pending", null, null]);
  assert.deepEqual(errors, []);
});

test("a manager adds a program cost, corrects its amount and deletes it, and the KPIs follow", async () => {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Costs"), currency: "EUR", model: "sales", timezone: "UTC" })).json;
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1200 } })).newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto(`${BASE}/?program=${program.id}&view=payouts`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  const section = page.locator("section[aria-labelledby=costs-title]");
  await section.locator(".empty").waitFor();

  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const otherCost = async () => {
    const report = await api("GET", `/api/v1/reports/kpis?from=${today}&to=${tomorrow}&group_by=program&program_id=${program.id}&metrics=other_cost`);
    return report.json.data[0]?.other_cost ?? "0.00";
  };
  const form = page.locator("form[aria-label='Add cost']");
  await form.locator("select[name=category]").selectOption("training");
  await form.locator("input[name=amount]").fill("250.5");
  await form.locator("button[type=submit]").click();
  const row = section.locator("tbody tr");
  await row.waitFor();
  const [cost] = (await api("GET", `/api/v1/costs?program_id=${program.id}`)).json.data;
  assert.deepEqual([cost.date, cost.category, cost.amount], [today, "training", "250.50"]);
  assert.equal(await otherCost(), "250.50");

  const amount = row.locator(`form[aria-label='Amount of cost ${cost.id}'] input[name=amount]`);
  assert.equal(await amount.inputValue(), "250.50");
  await amount.fill("199.99");
  await row.locator("button:has-text('Save')").click();
  await eventually(async () => (await api("GET", `/api/v1/costs/${cost.id}`)).json.amount === "199.99", { what: "the corrected amount stored" });
  assert.equal(await otherCost(), "199.99");

  await row.locator("button:has-text('Delete')").click();
  await section.locator(".empty").waitFor();
  assert.equal((await api("GET", `/api/v1/costs/${cost.id}`)).status, 404);
  assert.equal(await otherCost(), "0.00");
  assert.deepEqual(errors, []);
});
