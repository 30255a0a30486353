// The portal's Materials view as a partner uses it, in Debian's chromium: each of the
// program's materials, a link to its image, and the HTML to paste (the partner's own link and
// the impression pixel), copied with one click; the dashboard's breakdown by material.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { api, seed, hit, events, eventually, BASE, ADMIN_KEY } from "./helpers.mjs";
import { launchOptions } from "./browser.mjs";

const browser = await chromium.launch(launchOptions());
after(() => browser.close());

test("a partner copies a material's HTML from the portal, and the manager sees it in the breakdown", async () => {
  const { program, partner, link } = await seed();
  const banner = (await api("POST", "/api/v1/materials", { program_id: program.id, name: "Winter banner", kind: "banner", image_url: "https://cdn.shop.example/winter.png", width: 300, height: 250 })).json;
  await api("POST", "/api/v1/materials", { program_id: program.id, name: "Coats text", kind: "text", text: "Warm coats & free delivery" });
  const token = (await api("POST", "/api/v1/partner-tokens", { partner_id: partner.id })).json.token;

  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, permissions: ["clipboard-read", "clipboard-write"] });
  const foreign = [];
  context.on("request", (r) => !r.url().startsWith(BASE) && foreign.push(r.url()));
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${BASE}/portal#token=${encodeURIComponent(token)}`);
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  await page.click("nav a:has-text('Materials')");
  const item = page.locator("li.material[aria-label='Winter banner']");
  await item.waitFor();
  assert.equal(await item.locator(".preview a").getAttribute("href"), "https://cdn.shop.example/winter.png");
  const snippet = await item.locator("textarea").inputValue();
  assert.ok(snippet.includes(`href="${BASE}/r/${link.code}?m=${banner.id}"`), snippet);
  assert.ok(snippet.includes(`src="${BASE}/i/${link.code}?m=${banner.id}" width="1" height="1"`), snippet);
  await item.locator("button:has-text('Copy HTML')").click();
  await item.locator("button:has-text('Copied')").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet);
  assert.ok(await page.locator("li.material[aria-label='Coats text'] .preview:has-text('Warm coats & free delivery')").count() === 1);

  // The partner's impressions through the pixel show in the manager's breakdown.
  for (let i = 0; i < 4; i++) await hit(`/i/${link.code}?m=${banner.id}`);
  await eventually(async () => (await events("impressions", link.id)).length === 4, { what: "4 impressions" });
  const manager = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  await manager.goto(`${BASE}/?program=${program.id}&by=material`);
  await manager.fill("input[name=key]", ADMIN_KEY);
  await manager.click("button[type=submit]");
  const row = manager.locator("tbody tr", { hasText: "Winter banner" });
  await row.waitFor().catch(async (error) => {
    const report = await api("GET", `/api/v1/reports/kpis?program_id=${program.id}&group_by=material&metrics=impressions`);
    assert.fail(`${error.message}\nthe page shows: ${await manager.locator("main").innerText()}\nthe API answers ${report.status}: ${report.text}`);
  });
  const cells = await row.locator("td").allTextContents();
  assert.equal(cells[1], "4", `impressions: ${cells.join(" | ")}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, [], "the portal loads nothing from the advertiser's host");
});
