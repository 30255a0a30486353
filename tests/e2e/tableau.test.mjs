// The Tableau path: the CSV export loaded into Tableau's own Hyper engine (tableauhyperapi,
// what a Tableau extract is), with typed columns (dates, counts, NUMERIC(18,2) money); Hyper's
// SQL sums equal the JSON report's, in total and per day, to the cent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, seed, hit, storedClick, clickIdOf, ADMIN_KEY, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const LOADER = new URL("../readers/hyper_sums.py", import.meta.url).pathname;
const cents = (money) => Math.round(Number(money) * 100);
const asMoney = (c) => (c / 100).toFixed(2);

test("Hyper's sums over the CSV export equal the JSON report to the cent", async () => {
  const { program, link } = await seed();
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const clicks = [];
  for (let i = 0; i < 4; i++) clicks.push(clickIdOf(await hit(`/r/${link.code}`)));
  await storedClick(link.id, clicks[3]);
  for (const [i, amount] of ["100.10", "33.33"].entries()) {
    const sale = await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: clicks[i], order_id: `H${i}`, amount, token: program.postback_secret })}`);
    assert.equal(sale.status, 200);
  }

  const query = `from=${day(-3)}&to=${day(1)}&program_id=${program.id}&group_by=day&metrics=clicks,sales,revenue,commission`;
  const json = (await api("GET", `/api/v1/reports/kpis?${query}`)).json;
  const csv = await fetch(`${BASE}/api/v1/reports/kpis?${query}&format=csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(csv.status, 200);
  const dir = mkdtempSync(join(tmpdir(), "pl-hyper-"));
  writeFileSync(join(dir, "kpis.csv"), await csv.text());
  const hyper = JSON.parse(execFileSync(process.env.READERS_PYTHON, [
    LOADER, join(dir, "kpis.csv"), join(dir, "partnerlens.hyper"), "day:date,clicks:int,sales:int,revenue:money,commission:money",
  ], { encoding: "utf8" }));

  assert.equal(hyper.loaded, json.data.length);
  assert.equal(hyper.rows, json.data.length);
  const total = (name, f = (x) => x) => json.data.reduce((sum, r) => sum + f(r[name] ?? 0), 0);
  assert.deepEqual(hyper.sums, {
    clicks: String(total("clicks")),
    sales: String(total("sales")),
    revenue: asMoney(total("revenue", cents)),
    commission: asMoney(total("commission", cents)),
  });
  // By hand: 4 clicks, 2 sales of 133.43 in all earning 10.01 + 3.33 = 13.34.
  assert.deepEqual([hyper.sums.clicks, hyper.sums.sales, hyper.sums.revenue, hyper.sums.commission], ["4", "2", "133.43", "13.34"]);
  for (const row of json.data) {
    assert.deepEqual(hyper.by_first[row.day], {
      clicks: String(row.clicks), sales: String(row.sales), revenue: row.revenue, commission: row.commission,
    }, row.day);
  }
});
