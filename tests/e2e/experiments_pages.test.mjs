// The Experiments view as a manager uses it, in Debian's chromium: a split test started
// through its form, each variant's clicks as the API counts them, the verdict that names
// no winner yet, and the Stop button that ends it and keeps it in the history; a
// commission experiment started through its form, its arms and its running verdict.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { api, seed, hit, events, eventually, unique, BASE, ADMIN_KEY } from "./helpers.mjs";
import { launchOptions } from "./browser.mjs";

const browser = await chromium.launch(launchOptions());
after(() => browser.close());

test("a split test started in the dashboard shows its variants, its verdict, and stops", async () => {
  const { program, link } = await seed();
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE}/?program=${program.id}&view=experiments`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");

  const form = page.locator("form[aria-label='Start split test']");
  await form.waitFor();
  await page.getByText("No experiment yet").waitFor();
  await form.locator("select[name=link_id]").selectOption(link.id);
  await form.locator("input[name=name]").fill("Landing B");
  await form.locator("input[name=destination]").fill("https://shop.example/landing-b");
  await form.locator("button[type=submit]").click();
  await form.locator(".notice").waitFor();
  const [experiment] = (await api("GET", `/api/v1/experiments?link_id=${link.id}`)).json.data;
  assert.deepEqual(experiment.variants.map((v) => [v.name, v.destination]), [
    ["control", link.destination],
    ["variant-b", "https://shop.example/landing-b"],
  ]);

  for (let i = 1; i <= 12; i++) await hit(`/r/${link.code}`, { headers: { cookie: `pl_vid=${i.toString(16).padStart(16, "a")}` } });
  await eventually(async () => (await events("clicks", link.id)).length === 12, { what: "12 clicks" });
  const results = (await api("GET", `/api/v1/experiments/${experiment.id}/results`)).json;

  await page.reload();
  const section = page.locator("section[aria-label='Landing B']");
  await section.waitFor();
  for (const variant of results.variants) {
    const row = section.locator("tbody tr", { hasText: variant.name });
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    assert.equal(cells[2], String(variant.clicks), `${variant.name}: ${cells.join(" | ")}`);
  }
  assert.match(await section.locator("[data-testid=experiment-verdict]").textContent(), /Collecting data: no winner/);
  assert.equal(await section.getByText("Stop and send every visitor").count(), 0, "no winner to send visitors to");
  await section.locator("button:has-text('Stop the test')").click();
  await section.getByText("stopped").first().waitFor();
  assert.equal((await api("GET", `/api/v1/experiments/${experiment.id}`)).json.status, "stopped");
  assert.deepEqual(errors, []);
});

test("a commission experiment started in the dashboard shows its arms and no verdict while it runs", async () => {
  const { program } = await seed();
  for (let i = 0; i < 3; i++) {
    const partner = (await api("POST", "/api/v1/partners", { name: unique("Partner"), segment: "webmaster" })).json;
    await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/" });
  }
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE}/?program=${program.id}&view=experiments`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");

  const form = page.locator("form[aria-label='Start commission experiment']");
  await form.waitFor();
  await form.locator("input[name=name]").fill("Fifteen percent");
  await form.locator("input[name=value]").fill("15");
  await form.locator("input[name=share]").fill("50");
  await form.locator("button[type=submit]").click();
  await form.locator(".notice").waitFor();
  const [experiment] = (await api("GET", `/api/v1/experiments?program_id=${program.id}`)).json.data;
  assert.deepEqual([experiment.kind, experiment.rule, experiment.treatment_share], ["commission", { event: "sale", kind: "percent", value: "15" }, 0.5]);

  const section = page.locator("section[aria-label='Fifteen percent']");
  await section.waitFor();
  for (const arm of ["control", "treatment"]) {
    // The arms' table loads after the experiment's section appears.
    const row = section.locator("tbody tr", { hasText: arm });
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    assert.equal(cells[1], "2", `${arm}: ${cells.join(" | ")}`);
  }
  assert.match(await section.locator("[data-testid=experiment-verdict]").textContent(), /Running: no verdict before the period ends/);
  await section.locator("button:has-text('Stop the experiment')").click();
  await section.getByText("stopped").first().waitFor();
  assert.equal((await api("GET", `/api/v1/experiments/${experiment.id}`)).json.status, "stopped");
  assert.deepEqual(errors, []);
});
