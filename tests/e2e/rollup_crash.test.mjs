// A rollup killed midway: each day is rebuilt in one transaction, so a run that dies
// inside a day leaves that day's previous numbers and its dirty mark, and the next run
// gives exactly the numbers of an uninterrupted one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, ndjson, unique, CHROME, FAULT_BASE } from "./helpers.mjs";

const on = { base: FAULT_BASE };

test("a rollup run that crashes inside a day changes nothing there, and the rerun is exact", async () => {
  // FAULT_BASE's first run with five or more dirty days fails inside its second day's
  // transaction, after that day's rows were deleted and rebuilt (src/faults.rs).
  assert.equal((await api("POST", "/api/v1/rollups/run", undefined, on)).status, 200, "drain days marked by other tests");
  const program = (await api("POST", "/api/v1/programs", { name: unique("Crash"), currency: "EUR", model: "sales" }, on)).json;
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Crash") }, on)).json;
  const code = unique("crash");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code }, on);
  let n = 0;
  const click = (day, hour) => ({ id: `${code}-${n++}`, ts: `${day}T${hour}:00:00Z`, link_code: code, ua: CHROME, ip: `192.0.2.${n}` });
  const clicksPerDay = async () => {
    const report = await api("GET", `/api/v1/reports/kpis?from=2026-06-10&to=2026-06-12&program_id=${program.id}&metrics=clicks`, undefined, on);
    assert.equal(report.status, 200, report.text);
    return report.json.data.map((r) => [r.day, r.clicks]);
  };

  await ndjson("/api/v1/import/clicks", [click("2026-06-10", "01"), click("2026-06-10", "23"), click("2026-06-11", "00"), click("2026-06-11", "12")], on);
  const clean = await api("POST", "/api/v1/rollups/run?from=2026-06-10&to=2026-06-12", undefined, on);
  assert.equal(clean.status, 200, clean.text);
  assert.deepEqual(await clicksPerDay(), [["2026-06-10", 2], ["2026-06-11", 2]]);

  await ndjson("/api/v1/import/clicks", [click("2026-06-10", "05"), click("2026-06-11", "05")], on);
  // Marks 2026-06-09 … 2026-06-14: the 9th is rolled up, the run dies inside the 10th.
  const crashed = await api("POST", "/api/v1/rollups/run?from=2026-06-10&to=2026-06-14", undefined, on);
  assert.equal(crashed.status, 500, crashed.text);
  assert.equal(crashed.json.error.code, "internal_error");
  assert.deepEqual(await clicksPerDay(), [["2026-06-10", 2], ["2026-06-11", 2]], "the old numbers, whole");

  const rerun = await api("POST", "/api/v1/rollups/run", undefined, on);
  assert.equal(rerun.status, 200, rerun.text);
  assert.equal(rerun.json.days_rolled_up, 5, "the 10th to the 14th were still marked");
  assert.deepEqual(await clicksPerDay(), [["2026-06-10", 3], ["2026-06-11", 3]]);
  const again = await api("POST", "/api/v1/rollups/run?from=2026-06-10&to=2026-06-12", undefined, on);
  assert.equal(again.status, 200);
  assert.deepEqual(await clicksPerDay(), [["2026-06-10", 3], ["2026-06-11", 3]]);
});
