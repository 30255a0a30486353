// Event shards: the test runtime spreads programs' raw events over two D1 databases
// (wrangler.toml's DB and EVENTS_1). Each program's clicks land in its own shard's SQLite
// file and nowhere else; postbacks find their clicks there; reports over one partner's
// programs, and the raw click log across programs, merge the shards exactly. Every other
// e2e file runs on the same two shards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { api, hit, unique, clickIdOf, eventually, events, BASE, FAULT_BASE } from "./helpers.mjs";

const STATE = process.env.RUNTIME_STATE_DIR;
const DAY = 86_400_000;
const date = (offset) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

function sqliteFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sqliteFiles(path);
    return name.endsWith(".sqlite") && name !== "metadata.sqlite" ? [path] : [];
  });
}

/** Clicks per program in each D1 database file of the runtime, read with SQLite itself. */
function clicksPerFile(programIds) {
  const script = `
import json, sqlite3, sys
out = {}
for path in sys.argv[2:]:
    db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT program_id, count(*) FROM clicks WHERE program_id IN (SELECT value FROM json_each(?)) GROUP BY program_id", (sys.argv[1],)).fetchall()
    except sqlite3.OperationalError:
        rows = []
    out[path] = dict(rows)
print(json.dumps(out))`;
  const files = sqliteFiles(join(STATE, "d1"));
  const python = process.env.READERS_PYTHON || "python3";
  return JSON.parse(execFileSync(python, ["-c", script, JSON.stringify(programIds), ...files], { encoding: "utf8" }));
}

test("programs spread over both shards; each one's clicks are in its shard only, and reports merge them", async () => {
  assert.ok(STATE, "RUNTIME_STATE_DIR names the runtime's --persist-to directory");
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Both shards") })).json;
  const byShard = {};
  for (let i = 0; i < 24 && Object.keys(byShard).length < 2; i++) {
    const created = await api("POST", "/api/v1/programs", { name: unique("Sharded"), currency: "EUR", model: "sales" });
    assert.equal(created.status, 201, created.text);
    byShard[created.json.events_shard] ??= created.json;
  }
  assert.deepEqual(Object.keys(byShard).sort(), ["DB", "EVENTS_1"], "new programs are placed on both shards");
  const [a, b] = [byShard.DB, byShard.EVENTS_1];
  const stored = await api("GET", `/api/v1/programs/${b.id}`);
  assert.equal(stored.json.events_shard, "EVENTS_1", "the directory keeps the placement");
  for (const program of [a, b]) {
    const rule = await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
    assert.equal(rule.status, 201, rule.text);
  }
  const link = async (program) => (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/" })).json;
  const [la, lb] = [await link(a), await link(b)];

  // Three visitors on A's link, two on B's; a sale of 100.00 on each program's first click.
  const visit = async (l, ip) => clickIdOf(await hit(`/r/${l.code}`, { headers: { "cf-connecting-ip": ip } }));
  const ca = [await visit(la, "198.51.100.31"), await visit(la, "198.51.100.32"), await visit(la, "198.51.100.33")];
  const cb = [await visit(lb, "198.51.100.34"), await visit(lb, "198.51.100.35")];
  await eventually(async () => (await events("clicks", la.id)).length === 3 && (await events("clicks", lb.id)).length === 2, {
    what: "clicks stored in both shards",
  });
  for (const [program, click, order] of [[a, ca[0], unique("SA")], [b, cb[0], unique("SB")]]) {
    const sale = await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: click, order_id: order, amount: "100.00", token: program.postback_secret })}`);
    assert.equal(sale.status, 200, await sale.text());
  }
  // A click id of one program's shard is unknown to the other program.
  const foreign = await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: cb[1], order_id: unique("X"), amount: "1", token: a.postback_secret })}`);
  assert.equal(foreign.status, 422);

  // On disk: A's clicks in exactly one SQLite file, B's in exactly another.
  const files = clicksPerFile([a.id, b.id]);
  const holding = (id) => Object.entries(files).filter(([, counts]) => counts[id]).map(([path, counts]) => [path, counts[id]]);
  assert.equal(holding(a.id).length, 1, JSON.stringify(files));
  assert.equal(holding(b.id).length, 1, JSON.stringify(files));
  assert.equal(holding(a.id)[0][1], 3);
  assert.equal(holding(b.id)[0][1], 2);
  assert.notEqual(holding(a.id)[0][0], holding(b.id)[0][0], "the two programs' clicks are in different databases");

  // Reports over the partner's two programs merge both shards.
  const scope = `from=${date(-1)}&to=${date(1)}&partner_id=${partner.id}&metrics=clicks,unique_clicks,sales,revenue,commission`;
  const perProgram = await api("GET", `/api/v1/reports/kpis?${scope}&group_by=program`);
  assert.equal(perProgram.status, 200, perProgram.text);
  const row = (id) => perProgram.json.data.find((r) => r.program_id === id);
  assert.deepEqual([row(a.id).clicks, row(a.id).sales, row(a.id).revenue, row(a.id).commission], [3, 1, "100.00", "10.00"]);
  assert.deepEqual([row(b.id).clicks, row(b.id).sales, row(b.id).revenue, row(b.id).commission], [2, 1, "100.00", "10.00"]);
  const whole = await api("GET", `/api/v1/reports/kpis?${scope}&group_by=partner`);
  assert.deepEqual(whole.json.data.map((r) => [r.partner_id, r.clicks, r.unique_clicks, r.sales, r.revenue, r.commission]), [
    [partner.id, 5, 5, 2, "200.00", "20.00"],
  ]);
  // A rebuild of the days reads every shard again.
  const rebuilt = await api("POST", `/api/v1/rollups/run?from=${date(-1)}&to=${date(1)}`);
  assert.equal(rebuilt.status, 200, rebuilt.text);
  assert.deepEqual((await api("GET", `/api/v1/reports/kpis?${scope}&group_by=partner`)).json.data, whole.json.data);

  // The raw click log of the partner, across programs and shards, in event-time order.
  const log = [];
  let path = `/api/v1/clicks?partner_id=${partner.id}&limit=2`;
  while (path) {
    const page = await api("GET", path);
    assert.equal(page.status, 200, page.text);
    log.push(...page.json.data);
    path = page.json.next ? page.json.next.slice(new URL(page.json.next).origin.length) : null;
  }
  assert.deepEqual(log.map((c) => c.id).sort(), [...ca, ...cb].sort());
  const times = log.map((c) => [c.ts_ms, c.id]);
  assert.deepEqual(times, [...times].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)));
});

// A rollup reads another shard's facts before it writes the day in the main database, so
// two runs of one day overlap in production (the cron and a report's refresh, in different
// isolates): one may read before a click is stored and write after a later run. The fault
// runtime's `slow_shard_read` holds the first run of a `slow-rollup-…` program for 8 s
// between its read and its write; a report in the meantime reads the newer facts and
// writes first. The older build must be refused, not put back over the newer one.
test("a rollup that read another shard before a later run does not write over it", async () => {
  const base = FAULT_BASE;
  let program;
  for (let i = 0; i < 24 && !program; i++) {
    const created = (await api("POST", "/api/v1/programs", { name: unique("slow-rollup"), currency: "EUR", model: "sales" }, { base })).json;
    if (created.events_shard === "EVENTS_1") program = created;
  }
  assert.ok(program, "a program lands on EVENTS_1");
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Overlap partner") }, { base })).json;
  const link = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/" }, { base })).json;
  const clicks = async () => {
    const report = await api("GET", `/api/v1/reports/kpis?from=${date(-1)}&to=${date(1)}&program_id=${program.id}&metrics=clicks`, undefined, { base });
    assert.equal(report.status, 200, report.text);
    return report.json.data.reduce((sum, r) => sum + r.clicks, 0);
  };
  const visit = async (n) => {
    const answer = await hit(`/r/${link.code}`, { base, headers: { "cf-connecting-ip": `198.51.100.${140 + n}` } });
    assert.equal(answer.status, 302);
  };
  assert.equal((await api("POST", "/api/v1/rollups/run", undefined, { base })).status, 200, "nothing else is marked");

  await visit(1);
  await eventually(async () => (await events("clicks", link.id, { base })).length === 1, { what: "the first click stored" });
  const slow = api("POST", "/api/v1/rollups/run", undefined, { base }); // reads 1 click, then waits
  await new Promise((resolve) => setTimeout(resolve, 500));
  await visit(2);
  await visit(3);
  await eventually(async () => (await events("clicks", link.id, { base })).length === 3, { what: "three clicks stored" });
  assert.equal(await clicks(), 3, "the report's own rollup reads all three");
  const late = await slow;
  assert.equal(late.status, 200, late.text);
  assert.equal(late.json.days_rolled_up, 0, "the slow run's build of the day was refused");
  assert.equal(await clicks(), 3, "the slow run did not put its older facts back");
  // A rebuild from scratch agrees.
  assert.equal((await api("POST", `/api/v1/rollups/run?from=${date(-1)}&to=${date(1)}`, undefined, { base })).status, 200);
  assert.equal(await clicks(), 3);
});
