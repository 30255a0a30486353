// Partner materials: banners and text snippets of a program, each placed by a partner
// with its own link and impression pixel; clicks, impressions and the conversions of
// those clicks carry the material, and the report by material gives impressions, clicks,
// CTR and eCPM equal to a hand count; a partner token lists the materials it may place
// with ready-to-paste HTML; bad input is refused without writing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, hit, events, eventually, storedClick, clickIdOf, unique, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const BANNER = { name: "Winter 300×250", kind: "banner", image_url: "https://cdn.shop.example/winter.png", width: 300, height: 250 };
const TEXT = { name: "Coats text", kind: "text", text: "Warm coats <−20 %> & free delivery" };

async function postback(params) {
  const response = await fetch(`${BASE}/postback?${new URLSearchParams(params)}`);
  return { status: response.status, json: await response.json() };
}

test("materials are refused with a reason when their input is bad, and nothing is written", async () => {
  const { program, link } = await seed();
  const other = await seed();
  for (const [body, code, field] of [
    [{ ...BANNER, program_id: program.id, image_url: "http://cdn.shop.example/a.png" }, "invalid_url", "image_url"],
    [{ ...BANNER, program_id: program.id, width: 0 }, "out_of_range", "width"],
    [{ ...BANNER, program_id: program.id, height: undefined }, "missing_field", "height"],
    [{ ...BANNER, program_id: program.id, text: "x" }, "unexpected_field", "text"],
    [{ ...TEXT, program_id: program.id, text: " " }, "empty", "text"],
    [{ ...TEXT, program_id: program.id, width: 10 }, "unexpected_field", "width"],
    [{ ...TEXT, program_id: program.id, kind: "video" }, "invalid_value", "kind"],
    [{ ...TEXT, program_id: "prg_nope" }, "unknown_reference", "program_id"],
    [{ ...TEXT, program_id: program.id, link_id: "lnk_nope" }, "unknown_reference", "link_id"],
    [{ ...TEXT, program_id: program.id, link_id: other.link.id }, "conflicting_values", "link_id"],
  ]) {
    const refused = await api("POST", "/api/v1/materials", body);
    assert.equal(refused.status, 422, `${JSON.stringify(body)}: ${refused.text}`);
    assert.deepEqual([refused.json.error.code, refused.json.error.field], [code, field], JSON.stringify(body));
  }
  assert.deepEqual((await api("GET", `/api/v1/materials?program_id=${program.id}`)).json.data, []);
  assert.equal((await api("GET", "/api/v1/materials/mat_nope")).status, 404);
  void link;
});

// Materials live in the main database, a program's events in its shard: both shards.
for (const shard of ["DB", "EVENTS_1"]) test(`each material has its own link and pixel, and the report by material adds up to the cent (events on ${shard})`, async () => {
  const { program, partner, link } = await seed({ shard });
  const token = program.postback_secret;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const second = (await api("POST", "/api/v1/partners", { name: unique("Second"), segment: "webmaster" })).json;
  const secondLink = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: second.id, destination: "https://shop.example/s" })).json;
  const banner = await api("POST", "/api/v1/materials", { ...BANNER, program_id: program.id });
  assert.equal(banner.status, 201, banner.text);
  const text = (await api("POST", "/api/v1/materials", { ...TEXT, program_id: program.id })).json;
  // Made for the first partner's link only.
  const own = (await api("POST", "/api/v1/materials", { ...TEXT, name: "Anna only", program_id: program.id, link_id: link.id })).json;
  assert.deepEqual([banner.json.kind, banner.json.width, banner.json.height, banner.json.status, banner.json.html], ["banner", 300, 250, "active", null]);
  assert.ok(own.html.includes(`/r/${link.code}?m=${own.id}`), own.html);

  // The partner's portal: the program's materials and its own, each with its HTML.
  const partnerToken = (await api("POST", "/api/v1/partner-tokens", { partner_id: partner.id })).json.token;
  const mine = await api("GET", "/api/v1/materials", undefined, { key: partnerToken });
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.json.data.map((m) => m.id), [banner.json.id, text.id, own.id]);
  const bannerHtml = mine.json.data[0].html;
  assert.ok(bannerHtml.includes(`href="${BASE}/r/${link.code}?m=${banner.json.id}"`), bannerHtml);
  assert.ok(bannerHtml.includes(`<img src="https://cdn.shop.example/winter.png" width="300" height="250" alt="Winter 300×250"`), bannerHtml);
  assert.ok(bannerHtml.includes(`<img src="${BASE}/i/${link.code}?m=${banner.json.id}" width="1" height="1"`), bannerHtml);
  assert.ok(mine.json.data[1].html.includes("Warm coats &lt;−20 %&gt; &amp; free delivery</a>"), mine.json.data[1].html);
  const theirs = (await api("GET", "/api/v1/materials", undefined, { key: (await api("POST", "/api/v1/partner-tokens", { partner_id: second.id })).json.token })).json.data;
  assert.deepEqual(theirs.map((m) => m.id), [banner.json.id, text.id], "another partner's link-bound material is not listed");
  assert.equal(theirs[0].click_url, `${BASE}/r/${secondLink.code}?m=${banner.json.id}`);

  // Impressions: banner 10 (first partner) + 5 (second), text 4; one with a made-up
  // material and one with another program's counts for no material.
  const foreign = (await api("POST", "/api/v1/materials", { ...TEXT, program_id: (await seed()).program.id })).json;
  const pixel = async (code, m, n) => { for (let i = 0; i < n; i++) assert.equal((await hit(`/i/${code}?m=${m}`)).status, 200); };
  await pixel(link.code, banner.json.id, 10);
  await pixel(secondLink.code, banner.json.id, 5);
  await pixel(link.code, text.id, 4);
  await pixel(link.code, "mat_madeup", 1);
  await pixel(link.code, foreign.id, 1);
  // Clicks: banner 3 (2 + 1), text 1, none 1.
  const click = async (code, m) => clickIdOf(await hit(`/r/${code}${m ? `?m=${m}` : ""}`));
  const bannerClicks = [await click(link.code, banner.json.id), await click(link.code, banner.json.id), await click(secondLink.code, banner.json.id)];
  const textClick = await click(link.code, text.id);
  await click(link.code, null);
  await storedClick(link.id, textClick);
  await storedClick(secondLink.id, bannerClicks[2]);
  const impressions = await eventually(async () => {
    const rows = [...(await events("impressions", link.id)), ...(await events("impressions", secondLink.id))];
    return rows.length === 21 && rows;
  }, { what: "21 impressions" });
  const perMaterial = {};
  for (const row of impressions) perMaterial[row.material_id] = (perMaterial[row.material_id] ?? 0) + 1;
  assert.deepEqual(perMaterial, { [banner.json.id]: 15, [text.id]: 4, null: 2 });
  const stored = (await events("clicks", link.id)).find((c) => c.id === bannerClicks[0]);
  assert.equal(stored.material_id, banner.json.id);

  // A sale on a banner click (120.00 → 12.00) and one on the text click (30.00 → 3.00).
  assert.equal((await postback({ click_id: bannerClicks[0], order_id: "B1", amount: "120.00", token })).status, 200);
  assert.equal((await postback({ click_id: textClick, order_id: "T1", amount: "30.00", token })).status, 200);
  const conversions = (await api("GET", `/api/v1/conversions?program_id=${program.id}`)).json.data;
  assert.deepEqual(conversions.map((c) => [c.order_id, c.material_id]).sort(), [["B1", banner.json.id], ["T1", text.id]]);

  // By hand: banner 15 impressions, 3 clicks, CTR 0.2, commission 12.00, eCPM 12 × 1000 / 15 = 800.00;
  // text 4, 1, 0.25, 3.00, 750.00.
  const report = await api("GET", `/api/v1/reports/kpis?from=${day(-1)}&to=${day(2)}&group_by=material&program_id=${program.id}&metrics=impressions,clicks,ctr,sales,revenue,commission,ecpm`);
  assert.equal(report.status, 200, report.text);
  const byMaterial = Object.fromEntries(report.json.data.map((r) => [r.material_id, [r.material_name, r.impressions, r.clicks, r.ctr, r.sales, r.revenue, r.commission, r.ecpm]]));
  assert.deepEqual(byMaterial[banner.json.id], ["Winter 300×250", 15, 3, 0.2, 1, "120.00", "12.00", "800.00"]);
  assert.deepEqual(byMaterial[text.id], ["Coats text", 4, 1, 0.25, 1, "30.00", "3.00", "750.00"]);
  const filtered = await api("GET", `/api/v1/reports/kpis?from=${day(-1)}&to=${day(2)}&group_by=partner&material_id=${banner.json.id}&metrics=impressions,clicks`);
  const byPartner = Object.fromEntries(filtered.json.data.filter((r) => r.impressions > 0).map((r) => [r.partner_id, [r.impressions, r.clicks]]));
  assert.deepEqual(byPartner, { [partner.id]: [10, 2], [second.id]: [5, 1] });

  // Archived: partners no longer see it; its numbers stay.
  assert.equal((await api("DELETE", `/api/v1/materials/${text.id}`)).json.status, "archived");
  assert.deepEqual((await api("GET", "/api/v1/materials", undefined, { key: partnerToken })).json.data.map((m) => m.id), [banner.json.id, own.id]);
  assert.equal((await api("POST", "/api/v1/materials", { ...TEXT, program_id: program.id }, { key: partnerToken })).status, 403);
});
