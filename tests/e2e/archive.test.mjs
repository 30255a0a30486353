// The event archive: raw clicks and impressions of days no longer needed in D1 move to
// R2 (one object per program, kind and day), their reports do not change (before, after
// a rollup rebuild, after a restore), lifetime attribution still finds the customer's
// partner, an archived day refuses imports until restored, and a write that fails midway
// deletes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, ndjson, unique, eventually, events, FAULT_BASE, CHROME, IPHONE, GOOGLEBOT } from "./helpers.mjs";

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY);
const at = (day, hours) => new Date(day * DAY + hours * 3_600_000).toISOString();
const date = (day) => at(day, 0).slice(0, 10);
// Old enough for the default 30-day window (kept 49 days), and a recent day that stays.
const [d1, d2, recent] = [today - 100, today - 99, today - 2];
const from = date(d1 - 1);
const to = date(today);
const metrics = "metrics=clicks,unique_clicks,bot_clicks,impressions,leads,sales,revenue,commission,ctr,epc";

async function history(base, name) {
  const program = (await api("POST", "/api/v1/programs", { name, currency: "USD", model: "referral" }, { base })).json;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" }, { base });
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Archived") }, { base })).json;
  const code = unique("arc");
  const link = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code }, { base })).json;
  const id = (s) => `${code}-${s}`;
  const click = (name, ts, ip, extra = {}) => ({ id: id(name), ts, link_code: code, ua: CHROME, ip, ...extra });
  const clicks = await ndjson("/api/v1/import/clicks", [
    click("a", at(d1, 9), "198.51.100.1", { country: "DE", sub1: "banner", utm_source: "newsletter" }),
    click("b", at(d1, 10), "198.51.100.1", { country: "DE" }),
    click("c", at(d1, 11), "198.51.100.2", { country: "FR", ua: IPHONE }),
    click("d", at(d1, 12), "198.51.100.3", { ua: GOOGLEBOT }),
    click("e", at(d2, 8), "198.51.100.1", { country: "DE" }),
    click("f", at(d2, 23.5), "198.51.100.4", { country: "US", referrer: "https://blog.example/post" }),
    click("r", at(recent, 7), "198.51.100.5", { country: "US" }),
  ], { base });
  assert.deepEqual([clicks.accepted, clicks.rejected.length], [7, 0], JSON.stringify(clicks));
  const impression = (name, ts, ip, extra = {}) => ({ id: id(`i${name}`), ts, link_code: code, ua: CHROME, ip, ...extra });
  const impressions = await ndjson("/api/v1/import/impressions", [
    impression("1", at(d1, 8), "198.51.100.1", { country: "DE" }),
    impression("2", at(d1, 8.5), "198.51.100.6", { country: "DE" }),
    impression("3", at(d1, 9), "198.51.100.7", { ua: GOOGLEBOT }),
    impression("4", at(d2, 9), "198.51.100.8", { country: "US" }),
    impression("5", at(recent, 9), "198.51.100.9", { country: "US" }),
  ], { base });
  assert.deepEqual([impressions.accepted, impressions.rejected.length], [5, 0], JSON.stringify(impressions));
  const conversions = await ndjson("/api/v1/import/conversions", [
    { click_id: id("a"), event: "lead", ts: at(d1, 13) },
    { click_id: id("a"), event: "sale", order_id: `${code}-1`, amount: "120.00", ts: at(d2, 14), customer_id: `${code}-c` },
    { click_id: id("f"), event: "sale", order_id: `${code}-2`, amount: "40.00", ts: at(d2, 23.75) },
  ], { base });
  assert.deepEqual([conversions.accepted, conversions.rejected.length], [3, 0], JSON.stringify(conversions));
  // On the faults runtime a long rollup run is rollup_crash.test's fault: there the
  // reports roll their few marked days up on read instead.
  if (base === undefined) {
    const run = await api("POST", `/api/v1/rollups/run?from=${from}&to=${to}`);
    assert.equal(run.status, 200, run.text);
  }
  return { program, partner, link, code, id };
}

/** Every report the archive could change, for one program. */
async function reports(program, base) {
  const scope = `from=${from}&to=${to}&program_id=${program.id}&${metrics}`;
  const out = {};
  for (const group of ["day", "source", "country", "device", "link", "partner", "material", "variant", "day,country", "week"]) {
    const report = await api("GET", `/api/v1/reports/kpis?${scope}&group_by=${group}`, undefined, { base });
    assert.equal(report.status, 200, report.text);
    out[group] = report.json.data;
  }
  const partners = await api("GET", `/api/v1/reports/partners?from=${from}&to=${to}&program_id=${program.id}`, undefined, { base });
  assert.equal(partners.status, 200, partners.text);
  out.partners = partners.json.data;
  return out;
}

async function archives(program, base) {
  const list = await api("GET", `/api/v1/archives?program_id=${program.id}&limit=100`, undefined, { base });
  assert.equal(list.status, 200, list.text);
  return Object.fromEntries(list.json.data.map((a) => [`${a.kind}:${a.day}`, a]));
}

const settled = (wanted) => async (program, base) => {
  const found = await archives(program, base);
  return Object.entries(wanted).every(([key, status]) => found[key]?.status === status) && found;
};

test("old days leave D1 for R2, and every report stays the same, before and after a rebuild", async () => {
  const { program, partner, link, code, id } = await history(undefined, unique("Archive"));
  const before = await reports(program);
  const clicksBefore = await events("clicks", link.id);
  assert.equal(clicksBefore.length, 7);
  assert.ok(before.day.some((r) => r.clicks > 0 && r.day === date(d1)), JSON.stringify(before.day));

  const run = await api("POST", "/api/v1/archive-runs");
  assert.equal(run.status, 200, run.text);
  const mine = run.json.queued.filter((t) => t.program_id === program.id).map((t) => t.id).sort();
  assert.deepEqual(mine, [`${program.id}.clicks.${date(d1)}`, `${program.id}.impressions.${date(d1)}`]);
  // The first day done, the consumer queues the next one itself.
  const done = await eventually(
    () => settled({ [`clicks:${date(d1)}`]: "archived", [`clicks:${date(d2)}`]: "archived", [`impressions:${date(d1)}`]: "archived", [`impressions:${date(d2)}`]: "archived" })(program),
    { what: "four archived days", ms: 60000 },
  );
  assert.equal(done[`clicks:${date(d1)}`].events, 4);
  assert.equal(done[`clicks:${date(d2)}`].events, 2);
  assert.equal(done[`impressions:${date(d1)}`].events, 3);
  assert.equal(Object.keys(done).length, 4, "the recent day stays in D1");

  // Only the recent day's raw rows are left.
  assert.deepEqual((await events("clicks", link.id)).map((c) => c.id), [id("r")]);
  assert.deepEqual((await events("impressions", link.id)).map((c) => c.id), [id("i5")]);

  // The object holds every column of every archived click, exactly as D1 had it.
  const detail = await api("GET", `/api/v1/archives/${program.id}.clicks.${date(d1)}`);
  assert.equal(detail.status, 200, detail.text);
  assert.equal(detail.json.objects.length, 1);
  assert.equal(detail.json.objects[0].key, `clicks/${program.id}/${date(d1)}/part-00001.ndjson`);
  const object = await api("GET", `/api/v1/archives/${program.id}.clicks.${date(d1)}/parts/1`);
  assert.equal(object.status, 200, object.text);
  assert.match(object.headers.get("content-type"), /application\/x-ndjson/);
  assert.equal(Number(detail.json.objects[0].bytes), Buffer.byteLength(object.text));
  const lines = object.text.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.id), [id("a"), id("b"), id("c"), id("d")]);
  const listed = Object.fromEntries(clicksBefore.map((c) => [c.id, c]));
  for (const line of lines) {
    const was = listed[line.id];
    assert.equal(line.is_unique === 1, was.is_unique, line.id);
    assert.equal(line.is_bot === 1, was.is_bot, line.id);
    assert.equal(line.country ?? null, was.country ?? null, line.id);
    assert.equal(line.sub1 ?? null, was.sub1 ?? null, line.id);
    assert.equal(line.link_id, link.id);
    assert.equal(line.partner_id, partner.id);
    assert.match(line.visitor_hash, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(line).includes("198.51.100."), "no address in the archive");
  }

  assert.deepEqual(await reports(program), before, "reports after the move");
  // A rebuild of the archived days reads their counts from archived_event_hours.
  const rebuild = await api("POST", `/api/v1/rollups/run?from=${from}&to=${to}`);
  assert.equal(rebuild.status, 200, rebuild.text);
  assert.deepEqual(await reports(program), before, "reports after a rebuild of archived days");

  // Lifetime attribution does not need the click: the customer's repeat sale finds its
  // partner from the first sale.
  const repeat = await ndjson("/api/v1/import/conversions", [
    { program_id: program.id, event: "sale", order_id: `${code}-3`, amount: "60.00", ts: at(d2, 20), customer_id: `${code}-c` },
  ]);
  assert.deepEqual([repeat.accepted, repeat.rejected.length], [1, 0], JSON.stringify(repeat));
  await api("POST", `/api/v1/rollups/run?from=${from}&to=${to}`);
  const after = await reports(program);
  const dayOf = (rows, d) => rows.find((r) => r.day === date(d));
  assert.deepEqual(
    { ...dayOf(after.day, d2), sales: 0, revenue: "0", commission: "0", epc: "0" },
    { ...dayOf(before.day, d2), sales: 0, revenue: "0", commission: "0", epc: "0" },
    "the archived day's clicks and impressions unchanged by the conversion's rebuild",
  );
  assert.equal(dayOf(after.day, d2).sales, dayOf(before.day, d2).sales + 1);
  assert.deepEqual(after.partner.map((r) => r.sales), before.partner.map((r) => r.sales + 1), "the repeat sale is the partner's");

  // An archived day takes no imported clicks: its uniqueness was settled without them.
  const late = await ndjson("/api/v1/import/clicks", [{ id: id("late"), ts: at(d1, 15), link_code: code, ua: CHROME, ip: "198.51.100.1" }]);
  assert.equal(late.accepted, 0);
  assert.match(late.rejected[0].error, /archive/);
});

test("a restored day comes back to D1 as it was, and its reports still do not change", async () => {
  const { program, link, id } = await history(undefined, unique("Restore"));
  const clicksBefore = await events("clicks", link.id);
  const before = await reports(program);
  await api("POST", "/api/v1/archive-runs");
  await eventually(() => settled({ [`clicks:${date(d1)}`]: "archived", [`clicks:${date(d2)}`]: "archived" })(program), {
    what: "archived clicks",
    ms: 60000,
  });

  const unknown = await api("POST", `/api/v1/archives/${program.id}.clicks.1999-01-01/restore`);
  assert.equal(unknown.status, 404, unknown.text);
  const archiveId = `${program.id}.clicks.${date(d1)}`;
  const asked = await api("POST", `/api/v1/archives/${archiveId}/restore`);
  assert.equal(asked.status, 202, asked.text);
  assert.equal(asked.json.status, "restoring");
  await eventually(() => settled({ [`clicks:${date(d1)}`]: "restored" })(program), { what: "a restored day", ms: 60000 });
  const again = await api("POST", `/api/v1/archives/${archiveId}/restore`);
  assert.equal(again.status, 409, again.text);
  assert.equal(again.json.error.code, "not_archived");

  const back = (await events("clicks", link.id)).map((c) => [c.id, c.is_unique, c.is_bot, c.country ?? null]);
  const wanted = clicksBefore
    .filter((c) => [id("a"), id("b"), id("c"), id("d"), id("r")].includes(c.id))
    .map((c) => [c.id, c.is_unique, c.is_bot, c.country ?? null]);
  assert.deepEqual(back.sort(), wanted.sort());
  const detail = await api("GET", `/api/v1/archives/${archiveId}`);
  assert.deepEqual(detail.json.objects, [], "the objects go once the rows are back");

  assert.deepEqual(await reports(program), before, "after the restore");
  await api("POST", `/api/v1/rollups/run?from=${from}&to=${to}`);
  assert.deepEqual(await reports(program), before, "after the restore and a rebuild");
  // A restored day is held in D1 for a while: the planner leaves it.
  const run = await api("POST", "/api/v1/archive-runs");
  assert.ok(!run.json.queued.some((t) => t.id === archiveId), JSON.stringify(run.json));
});

test("bad archive requests are named and change nothing", async () => {
  for (const [path, status] of [
    ["/api/v1/archives?kind=views", 400],
    ["/api/v1/archives?status=gone", 400],
    ["/api/v1/archives/nope", 404],
    ["/api/v1/archives/nope/parts/1", 404],
  ]) {
    const answer = await api("GET", path);
    assert.equal(answer.status, status, `${path}: ${answer.text}`);
    assert.ok(answer.json.error.code, answer.text);
  }
  const anonymous = await api("GET", "/api/v1/archives", undefined, { key: null });
  assert.equal(anonymous.status, 401);
});

test("an archive write that fails midway deletes nothing, and the next run archives the day whole", async () => {
  const { program, link, id } = await history(FAULT_BASE, unique("archive-fails"));
  const base = FAULT_BASE;
  const before = await reports(program, base);
  const clicksBefore = (await events("clicks", link.id, { base })).map((c) => c.id).sort();
  await api("POST", "/api/v1/archive-runs", undefined, { base });
  const failed = await eventually(() => settled({ [`clicks:${date(d1)}`]: "failed" })(program, base), {
    what: "a failed archive",
    ms: 60000,
  });
  assert.match(failed[`clicks:${date(d1)}`].last_error, /failed after \d+ of \d+ bytes/);
  const detail = await api("GET", `/api/v1/archives/${program.id}.clicks.${date(d1)}`, undefined, { base });
  assert.deepEqual(detail.json.objects, [], "no part is recorded for a write that was not confirmed");
  assert.deepEqual((await events("clicks", link.id, { base })).map((c) => c.id).sort(), clicksBefore);
  assert.deepEqual(await reports(program, base), before);

  // The fault is keyed on the program's name: renamed, the next run succeeds.
  const renamed = await api("PATCH", `/api/v1/programs/${program.id}`, { name: unique("Archive-recovered") }, { base });
  assert.equal(renamed.status, 200, renamed.text);
  await api("POST", "/api/v1/archive-runs", undefined, { base });
  await eventually(() => settled({ [`clicks:${date(d1)}`]: "archived", [`clicks:${date(d2)}`]: "archived" })(program, base), {
    what: "the day archived on the next run",
    ms: 60000,
  });
  const object = await api("GET", `/api/v1/archives/${program.id}.clicks.${date(d1)}/parts/1`, undefined, { base });
  assert.deepEqual(object.text.trim().split("\n").map((l) => JSON.parse(l).id), [id("a"), id("b"), id("c"), id("d")]);
  assert.deepEqual((await events("clicks", link.id, { base })).map((c) => c.id), [id("r")]);
  assert.deepEqual(await reports(program, base), before);
});
