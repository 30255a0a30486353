// Excel export: `format=xlsx` on the reports, opened with openpyxl (a real reader): the
// header bold and frozen with auto filters on it, dates as dates, months as dates shown
// yyyy-mm, counts as whole numbers, money as numbers in the program's currency format,
// ratios as percentages, empty cells for nulls; every cell equal to the JSON report's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, seed, hit, storedClick, clickIdOf, ADMIN_KEY, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const READER = new URL("../readers/xlsx_cells.py", import.meta.url).pathname;

async function xlsx(path) {
  const response = await fetch(BASE + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(response.status, 200, await response.clone().text());
  const file = join(mkdtempSync(join(tmpdir(), "pl-xlsx-")), "report.xlsx");
  writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  const read = JSON.parse(execFileSync(process.env.READERS_PYTHON, [READER, file], { encoding: "utf8" }));
  return { response, read };
}

const column = (n) => String.fromCharCode(64 + n);

test("a KPI report as xlsx has typed cells equal to the JSON report", async () => {
  const { program, link } = await seed();
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const clicks = [];
  for (let i = 0; i < 3; i++) clicks.push(clickIdOf(await hit(`/r/${link.code}`)));
  await storedClick(link.id, clicks[2]);
  const sale = await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: clicks[0], order_id: "X1", amount: "123.45", token: program.postback_secret })}`);
  assert.equal(sale.status, 200);

  const query = `from=${day(-1)}&to=${day(1)}&program_id=${program.id}&group_by=day,partner&metrics=clicks,sales,revenue,commission,cr_click_to_sale,aov`;
  const json = (await api("GET", `/api/v1/reports/kpis?${query}`)).json;
  const { response, read } = await xlsx(`/api/v1/reports/kpis?${query}&format=xlsx`);
  assert.equal(response.headers.get("content-type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  assert.equal(response.headers.get("content-disposition"), `attachment; filename="partnerlens-kpis-${day(-1)}-${day(1)}.xlsx"`);

  const columns = json.meta.columns;
  assert.deepEqual(read.rows[0].map((c) => c.value), columns);
  assert.equal(read.sheet, "KPIs");
  assert.equal(read.header_bold, true);
  assert.equal(read.freeze_panes, "A2", "the header row is frozen");
  assert.equal(read.auto_filter, `A1:${column(columns.length)}${json.data.length + 1}`);
  assert.equal(read.rows.length, json.data.length + 1);
  const formats = { clicks: "#,##0", sales: "#,##0", revenue: '#,##0.00 "EUR"', commission: '#,##0.00 "EUR"', aov: '#,##0.00 "EUR"', cr_click_to_sale: "0.00%" };
  for (const [i, row] of json.data.entries()) {
    const cells = read.rows[i + 1];
    for (const [j, name] of columns.entries()) {
      const [expected, got] = [row[name], cells[j]];
      if (name === "day") {
        assert.deepEqual([got.type, got.value, got.format], ["date", expected, "yyyy-mm-dd"], name);
      } else if (expected === null) {
        assert.equal(got.type, "empty", `${name} of row ${i}`);
      } else if (typeof expected === "string" && formats[name]) {
        // Money: the JSON's decimal string, as a number in the currency's format.
        assert.deepEqual([got.type, got.value.toFixed(2), got.format], ["number", expected, formats[name]], name);
      } else if (typeof expected === "number") {
        assert.deepEqual([got.type, got.value, got.format], ["number", expected, formats[name]], name);
      } else {
        assert.deepEqual([got.type, got.value], ["text", expected], name);
      }
    }
  }
  // The hand count: today's row of the partner has 3 clicks, one sale of 123.45 earning 12.35.
  const today = json.data.find((r) => r.day === day(0));
  assert.deepEqual([today.clicks, today.sales, today.revenue, today.commission], [3, 1, "123.45", "12.35"]);
  const sheetRow = read.rows[json.data.indexOf(today) + 1];
  assert.deepEqual(sheetRow.slice(columns.indexOf("revenue"), columns.indexOf("revenue") + 1).map((c) => c.value), [123.45]);
});

test("months are dates shown yyyy-mm, partners export too, and a bad format is named", async () => {
  const { program } = await seed();
  const { read } = await xlsx(`/api/v1/reports/kpis?from=${day(-40)}&to=${day(1)}&program_id=${program.id}&group_by=month&metrics=clicks&format=xlsx`);
  const month = read.rows[1][0];
  assert.equal(month.type, "date");
  assert.equal(month.format, "yyyy-mm");
  assert.match(month.value, /^\d{4}-\d{2}-01$/);
  const partners = await xlsx(`/api/v1/reports/partners?from=${day(-1)}&to=${day(1)}&program_id=${program.id}&format=xlsx`);
  assert.equal(partners.read.sheet, "Partners");
  assert.equal(partners.read.freeze_panes, "A2");
  // Without a program filter the money has no currency code (programs may differ).
  const any = await xlsx(`/api/v1/reports/kpis?from=${day(-1)}&to=${day(1)}&metrics=revenue&format=xlsx`);
  assert.equal(any.read.rows[1][1].format, "#,##0.00");
  const bad = await api("GET", `/api/v1/reports/kpis?from=${day(-1)}&to=${day(1)}&format=xls`);
  assert.deepEqual([bad.status, bad.json.error.field], [400, "format"]);
  assert.match(bad.json.error.message, /json, csv or xlsx/);
});
