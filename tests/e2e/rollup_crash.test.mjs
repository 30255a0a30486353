// A rollup killed midway: each day is rebuilt in one transaction, so a run that dies
// inside a day leaves that day's previous numbers and its dirty mark, and the next run
// gives exactly the numbers of an uninterrupted one. The rollup rows are read straight
// from the fault runtime's local D1 file: a report would roll the marked days up first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { api, ndjson, unique, CHROME, FAULT_BASE } from "./helpers.mjs";

const on = { base: FAULT_BASE };
const STATE = process.env.FAULT_STATE_DIR;

/** The fault runtime's main D1 database file: the one that holds the rollups (every
 * database has the tables; the event shard's programs table stays empty). */
function databaseFile() {
  const dir = join(STATE, "d1");
  const walk = (d) =>
    readdirSync(d).flatMap((name) => {
      const path = join(d, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  const files = walk(dir).filter((f) => f.endsWith(".sqlite"));
  const withRollups = files.filter((f) => {
    const db = new DatabaseSync(f, { readOnly: true });
    try {
      return db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'rollup_hourly'").get() !== undefined
        && db.prepare("SELECT count(*) AS n FROM programs").get().n > 0;
    } finally {
      db.close();
    }
  });
  assert.equal(withRollups.length, 1, `one main D1 database under ${dir}`);
  return withRollups[0];
}

/** Non-bot clicks per UTC day in the rollup table, as stored. */
function rolledUp(programId) {
  const db = new DatabaseSync(databaseFile(), { readOnly: true });
  try {
    return db
      .prepare(
        "SELECT date(hour * 3600, 'unixepoch') AS day, sum(clicks) AS clicks FROM rollup_hourly " +
          "WHERE program_id = ? GROUP BY day ORDER BY day",
      )
      .all(programId)
      .map((r) => [r.day, Number(r.clicks)]);
  } finally {
    db.close();
  }
}

test("a rollup run that crashes inside a day changes nothing there, and the rerun is exact", async () => {
  assert.ok(STATE, "FAULT_STATE_DIR names the fault runtime's state directory");
  // FAULT_BASE's first run with five or more dirty days fails inside its second day's
  // transaction, after that day's rows were deleted and rebuilt (src/faults.rs).
  assert.equal((await api("POST", "/api/v1/rollups/run", undefined, on)).status, 200, "drain days marked by other tests");
  const program = (await api("POST", "/api/v1/programs", { name: unique("Crash"), currency: "EUR", model: "sales" }, on)).json;
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Crash") }, on)).json;
  const code = unique("crash");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code }, on);
  let n = 0;
  const click = (day, hour) => ({ id: `${code}-${n++}`, ts: `${day}T${hour}:00:00Z`, link_code: code, ua: CHROME, ip: `192.0.2.${n}` });
  const reported = async () => {
    const report = await api("GET", `/api/v1/reports/kpis?from=2026-06-10&to=2026-06-12&program_id=${program.id}&metrics=clicks`, undefined, on);
    assert.equal(report.status, 200, report.text);
    return report.json.data.map((r) => [r.day, r.clicks]);
  };

  await ndjson("/api/v1/import/clicks", [click("2026-06-10", "01"), click("2026-06-10", "23"), click("2026-06-11", "00"), click("2026-06-11", "12")], on);
  const clean = await api("POST", "/api/v1/rollups/run?from=2026-06-10&to=2026-06-12", undefined, on);
  assert.equal(clean.status, 200, clean.text);
  assert.deepEqual(rolledUp(program.id), [["2026-06-10", 2], ["2026-06-11", 2]]);

  await ndjson("/api/v1/import/clicks", [click("2026-06-10", "05"), click("2026-06-11", "05")], on);
  // Marks 2026-06-09 … 2026-06-14: the 9th is rolled up, the run dies inside the 10th.
  const crashed = await api("POST", "/api/v1/rollups/run?from=2026-06-10&to=2026-06-14", undefined, on);
  assert.equal(crashed.status, 503, crashed.text);
  assert.equal(crashed.json.error.code, "storage_unavailable");
  assert.ok(Number(crashed.headers.get("retry-after")) > 0, "a storage failure says when to retry");
  assert.deepEqual(rolledUp(program.id), [["2026-06-10", 2], ["2026-06-11", 2]], "the old numbers, whole");

  const rerun = await api("POST", "/api/v1/rollups/run", undefined, on);
  assert.equal(rerun.status, 200, rerun.text);
  assert.equal(rerun.json.days_rolled_up, 5, "the 10th to the 14th were still marked");
  assert.deepEqual(rolledUp(program.id), [["2026-06-10", 3], ["2026-06-11", 3]]);
  assert.deepEqual(await reported(), [["2026-06-10", 3], ["2026-06-11", 3]]);
  const again = await api("POST", "/api/v1/rollups/run?from=2026-06-10&to=2026-06-12", undefined, on);
  assert.equal(again.status, 200);
  assert.deepEqual(rolledUp(program.id), [["2026-06-10", 3], ["2026-06-11", 3]]);
});
