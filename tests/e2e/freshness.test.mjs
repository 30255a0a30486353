// Fresh numbers: a click, an impression and a conversion show in the KPI report, the
// partners report and the OData feed as soon as they are stored, without anyone calling
// POST /api/v1/rollups/run (a report rolls up the marked days of its range first; the
// local runtime never fires the cron by itself).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, hit, storedClick, clickIdOf, events, eventually, BASE } from "./helpers.mjs";

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

test("what just happened shows in every report within a minute, with no rollup run", async (t) => {
  const started = Date.now();
  const { program, partner, link } = await seed();
  const clickId = clickIdOf(await hit(`/r/${link.code}`));
  assert.equal((await hit(`/i/${link.code}`)).status, 200);
  await storedClick(link.id, clickId);
  const sale = await fetch(
    `${BASE}/postback?${new URLSearchParams({ click_id: clickId, order_id: "FRESH-1", amount: "25.00", token: program.postback_secret })}`,
  );
  assert.equal(sale.status, 200, await sale.text());
  await eventually(async () => (await events("impressions", link.id)).length === 1, { what: "the impression to be stored" });
  const range = `from=${day(-1)}&to=${day(2)}`;

  const kpis = await eventually(
    async () => {
      const report = await api("GET", `/api/v1/reports/kpis?${range}&group_by=program&program_id=${program.id}&metrics=clicks,impressions,sales,revenue`);
      assert.equal(report.status, 200, report.text);
      const [row] = report.json.data;
      return row && row.clicks === 1 && row.sales === 1 && row.impressions === 1 ? row : null;
    },
    { ms: 60_000, what: "the KPI report to show the click, impression and sale" },
  );
  assert.equal(kpis.revenue, "25.00");

  const partners = await api("GET", `/api/v1/reports/partners?${range}&partner_id=${partner.id}&metrics=clicks,sales`);
  assert.equal(partners.status, 200, partners.text);
  assert.deepEqual(partners.json.data.map((r) => [r.partner_id, r.clicks, r.sales]), [[partner.id, 1, 1]]);

  const key = (await api("POST", "/api/v1/bi-keys", { name: "fresh" })).json.key;
  const filter = encodeURIComponent(`day ge ${day(-1)} and day lt ${day(2)} and program_id eq '${program.id}'`);
  const feed = await fetch(`${BASE}/odata/DailyKpis?$filter=${filter}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(feed.status, 200);
  const entities = (await feed.json()).value;
  assert.deepEqual(
    [entities.reduce((n, e) => n + e.clicks, 0), entities.reduce((n, e) => n + e.sales, 0)],
    [1, 1],
  );
  t.diagnostic(`shown in every report ${((Date.now() - started) / 1000).toFixed(1)} s after the click`);
});
