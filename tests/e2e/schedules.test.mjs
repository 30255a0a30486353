// Scheduled reports: a schedule made through the API runs once per period when the cron
// finds it due (fired twice, then late: still one run), its file is kept in R2 and is the
// same CSV the report endpoint gives for the same query, and its summary reaches every
// recipient through its real channel: an e-mail through the send_email binding (wrangler
// dev writes it and its attachment to files), a Slack incoming webhook (text + blocks), a
// Teams workflow (an Adaptive Card) and a signed webhook, which fails once and is retried.
// Credentials are never shown back; bad schedules are refused with the field named.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { api, ndjson, unique, eventually, CHROME, ADMIN_KEY, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const TZ = "Europe/Berlin";
const CRON = "*/15 * * * *";

// A local receiver standing in for Slack, Teams and a customer's webhook endpoint.
const received = [];
let hookFailuresLeft = 1;
const server = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    received.push({ path: request.url, headers: request.headers, body });
    if (request.url.startsWith("/hook") && hookFailuresLeft > 0) {
      hookFailuresLeft -= 1;
      response.writeHead(500).end("busy");
    } else {
      response.writeHead(200).end("ok");
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const receiver = `http://127.0.0.1:${server.address().port}`;
after(() => server.close());

function local(ms) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Fires the cron as if it were `ms` (wrangler dev's trigger endpoint takes the time). */
async function cronAt(ms) {
  const response = await fetch(`${BASE}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(CRON)}&time=${ms}`);
  assert.equal(response.status, 200, await response.text());
}

// The cron will be fired at the next full hour (a schedule's first run is its first due
// moment after it was made); the run's local day and the days before it in Berlin.
const dueAt = Math.ceil((Date.now() + 60_000) / HOUR_MS) * HOUR_MS;
const runDay = local(dueAt).day;
const yesterday = addDays(runDay, -1);
const dayBefore = addDays(runDay, -2);

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Reports shop"), currency: "EUR", model: "sales", timezone: TZ })).json;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const partners = {};
  for (const name of ["Ann", "Bob"]) {
    const partner = (await api("POST", "/api/v1/partners", { name: unique(name) })).json;
    const code = unique(name.toLowerCase());
    await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code });
    partners[name] = { ...partner, code };
  }
  // Yesterday (Berlin): Ann sells 100 and 50, Bob 30; the day before, Bob sells 20.
  const sales = [
    ["Ann", yesterday, "100.00"],
    ["Ann", yesterday, "50.00"],
    ["Bob", yesterday, "30.00"],
    ["Bob", dayBefore, "20.00"],
  ];
  const clicks = [];
  const conversions = [];
  for (const [i, [name, day, amount]] of sales.entries()) {
    const id = `${partners[name].code}-${i}`;
    const ts = `${day}T11:0${i}:00Z`;
    clicks.push({ id, ts, link_code: partners[name].code, ua: CHROME, ip: `198.51.100.${i + 1}` });
    conversions.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount, status: "approved", ts });
  }
  await ndjson("/api/v1/import/clicks", clicks);
  await ndjson("/api/v1/import/conversions", conversions);
  assert.equal((await api("POST", `/api/v1/rollups/run?from=${addDays(runDay, -3)}&to=${addDays(runDay, 1)}`)).status, 200);
  await api("POST", "/api/v1/goals", { program_id: program.id, metric: "sales", target: "100", start: addDays(runDay, -5), deadline: addDays(runDay, 20) });
  return { program, partners };
}

const ready = setup();

test("a due schedule runs once, keeps its file in R2 and reaches e-mail, Slack, Teams and a signed webhook", async () => {
  const { program, partners } = await ready;
  const name = unique("Daily sales");
  const slackUrl = `${receiver}/slack/T0001/B0002/s3cr3tslackpath`;
  const created = await api("POST", "/api/v1/report-schedules", {
    name,
    report: "kpis",
    range: "yesterday",
    group_by: "partner",
    metrics: "clicks,sales,revenue,commission",
    filters: { program_id: program.id },
    timezone: TZ,
    cadence: "daily",
    hour: local(dueAt).hour,
    format: "csv",
    recipients: [
      { type: "email", address: "anna@shop.example" },
      { type: "slack", url: slackUrl },
      { type: "teams", url: `${receiver}/teams/workflow?sig=teamssecret` },
      { type: "webhook", url: `${receiver}/hook` },
    ],
  });
  assert.equal(created.status, 201, created.text);
  const schedule = created.json;
  assert.equal(Date.parse(schedule.next_run_at), dueAt, "the first run is the next due moment");
  const secret = schedule.recipients[3].signing_secret;
  assert.match(secret, /^whsec_/, "the signing secret is shown once, when made");
  const shown = await api("GET", `/api/v1/report-schedules/${schedule.id}`);
  assert.equal(shown.status, 200);
  for (const hidden of ["s3cr3tslackpath", "teamssecret", secret]) {
    assert.ok(!shown.text.includes(hidden), `${hidden} is not shown again`);
  }
  assert.equal(shown.json.recipients[1].url_hint, `${receiver}/…path`);
  assert.equal(shown.json.recipients[0].address, "anna@shop.example");

  // A weekly schedule for another weekday is not due that day.
  const otherWeekday = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][(new Date(`${runDay}T12:00:00Z`).getUTCDay() + 3) % 7];
  const weekly = await api("POST", "/api/v1/report-schedules", {
    name: unique("Weekly"), range: "last_week", cadence: "weekly", weekday: otherWeekday, hour: local(dueAt).hour,
    timezone: TZ, filters: { program_id: program.id }, recipients: [{ type: "email", address: "weekly@shop.example" }],
  });
  assert.equal(weekly.status, 201, weekly.text);
  // A paused one does not run either.
  const paused = await api("POST", "/api/v1/report-schedules", {
    name: unique("Paused"), range: "yesterday", cadence: "daily", hour: local(dueAt).hour, status: "paused",
    timezone: TZ, filters: { program_id: program.id }, recipients: [{ type: "email", address: "paused@shop.example" }],
  });
  assert.equal(paused.status, 201, paused.text);
  assert.equal(paused.json.next_run_at, null);

  // Before the due moment nothing runs; at it the cron fires twice, then once late.
  await cronAt(dueAt - 60_000);
  assert.equal((await api("GET", `/api/v1/report-runs?schedule_id=${schedule.id}`)).json.data.length, 0);
  await cronAt(dueAt + 5_000);
  await cronAt(dueAt + 5_000);
  await cronAt(dueAt + 40 * 60_000);
  const run = await eventually(async () => {
    const runs = (await api("GET", `/api/v1/report-runs?schedule_id=${schedule.id}`)).json.data;
    return runs.length === 1 && runs[0].status === "delivered" ? runs[0] : null;
  }, { ms: 60_000, what: "the run to be delivered" });
  assert.equal((await api("GET", `/api/v1/report-runs?schedule_id=${schedule.id}`)).json.data.length, 1, "one run per period");
  assert.equal((await api("GET", `/api/v1/report-runs?schedule_id=${weekly.json.id}`)).json.data.length, 0);
  assert.equal((await api("GET", `/api/v1/report-runs?schedule_id=${paused.json.id}`)).json.data.length, 0);
  assert.deepEqual([run.period_key, run.from, run.to], [runDay, yesterday, runDay]);
  assert.equal(run.file.name, `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${yesterday}.csv`);
  assert.equal(run.file.rows, 2);
  const byChannel = Object.fromEntries(run.deliveries.map((d) => [d.channel, d]));
  assert.deepEqual(run.deliveries.map((d) => d.status), ["delivered", "delivered", "delivered", "delivered"]);
  assert.equal(byChannel.webhook.attempts, 2, "the webhook failed once and was retried");
  assert.equal(byChannel.webhook.last_status, 200);
  assert.equal(byChannel.slack.target, `${receiver}/…path`);

  // The file is the report endpoint's CSV for the same query, byte for byte.
  const query = `from=${yesterday}&to=${runDay}&timezone=${encodeURIComponent(TZ)}&program_id=${program.id}&group_by=partner&metrics=clicks,sales,revenue,commission&format=csv`;
  const expected = await (await fetch(`${BASE}/api/v1/reports/kpis?${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  assert.match(expected, /,2,150\.00,15\.00\n/, "Ann: 2 sales, 150.00 revenue");
  const download = await fetch(run.file.download_url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-disposition"), `attachment; filename="${run.file.name}"`);
  assert.equal(await download.text(), expected);
  assert.equal((await fetch(run.file.download_url)).status, 401, "the dashboard download needs a login");

  // Slack: text and blocks; the numbers against the day before; a signed download link.
  const slack = received.filter((r) => r.path === "/slack/T0001/B0002/s3cr3tslackpath");
  assert.equal(slack.length, 1);
  const slackBody = JSON.parse(slack[0].body);
  assert.match(slackBody.text, new RegExp(`^${name} — `));
  assert.match(slackBody.text, /Sales 3 \(▲ 200\.0 %\) · Revenue 180\.00 EUR \(▲ 800\.0 %\)/);
  const fields = slackBody.blocks.find((b) => b.fields).fields.map((f) => f.text);
  assert.ok(fields.includes("*Commission*\n18.00 EUR (▲ 800.0 %)"), fields.join(" | "));
  const text = slackBody.blocks.filter((b) => b.text?.type === "mrkdwn").map((b) => b.text.text).join("\n");
  assert.match(text, new RegExp(`${partners.Ann.name} — 150\\.00 EUR, 2 sales\\n• ${partners.Bob.name} — 30\\.00 EUR, 1 sale`));
  assert.match(text, /\*Open flags \(0\)\*/);
  assert.match(text, /\*Goals\*\n• sales 100 by .*: (on track|at risk|off track|achieved|missed|no data)/);
  const link = slackBody.blocks.find((b) => b.type === "actions").elements[0].url;
  const signed = await fetch(link);
  assert.equal(signed.status, 200, "the message's link works without a login");
  assert.equal(await signed.text(), expected);
  assert.equal((await fetch(link.replace(/signature=[0-9a-f]{4}/, "signature=0000"))).status, 403);

  // Teams: an Adaptive Card inside a message.
  const teams = received.filter((r) => r.path.startsWith("/teams/"));
  assert.equal(teams.length, 1);
  const card = JSON.parse(teams[0].body);
  assert.equal(card.type, "message");
  assert.equal(card.attachments[0].contentType, "application/vnd.microsoft.card.adaptive");
  const facts = card.attachments[0].content.body.find((b) => b.type === "FactSet").facts;
  assert.deepEqual(facts.find((f) => f.title === "Revenue"), { title: "Revenue", value: "180.00 EUR (▲ 800.0 %)" });

  // The webhook: retried after its 500, same delivery id, signed over timestamp and body.
  const hooks = received.filter((r) => r.path === "/hook");
  assert.equal(hooks.length, 2);
  assert.equal(hooks[0].headers["x-partnerlens-delivery"], hooks[1].headers["x-partnerlens-delivery"]);
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(hooks[1].headers["x-partnerlens-signature"]);
  assert.equal(v1, createHmac("sha256", secret).update(`${t}.${hooks[1].body}`).digest("hex"));
  const event = JSON.parse(hooks[1].body);
  assert.equal(event.type, "report.delivered");
  const sales = event.data.kpis.find((k) => k.metric === "sales");
  assert.deepEqual([sales.value, sales.previous, sales.change], [3, 1, 2]);
  assert.deepEqual(event.data.period, { from: yesterday, to: runDay });
  assert.deepEqual(event.data.previous_period, { from: dayBefore, to: yesterday });
  assert.equal(event.data.top_partners[0].revenue, "150.00");

  // E-mail: wrangler dev wrote the message and its attachment to files.
  const log = readFileSync(join(process.env.RUNTIME_STATE_DIR, "..", "wrangler.log"), "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  const mails = log.split("send_email binding called with MessageBuilder:").slice(1).filter((m) => m.includes(`Subject: ${name} — `));
  assert.equal(mails.length, 1, "one e-mail for one run");
  assert.match(mails[0], /To: anna@shop\.example/);
  const attachment = /Attachment \(attachment\): (\S+) -> (\S+)/.exec(mails[0]);
  assert.equal(attachment[1], run.file.name);
  assert.equal(readFileSync(attachment[2], "utf8"), expected);
  const body = readFileSync(/Text: (\S+)/.exec(mails[0])[1], "utf8");
  assert.match(body, /Sales: 3 \(▲ 200\.0 %\)\n/);
  assert.match(body, /Download .*: http/);
});

test("schedules are listed, changed, paused and deleted; bad ones are refused and change nothing", async () => {
  const { program } = await ready;
  const base = { name: unique("Monthly"), range: "last_month", cadence: "monthly", day_of_month: 1, hour: 8, format: "xlsx", filters: { program_id: program.id }, recipients: [{ type: "webhook", url: "https://crm.example/hooks/pl" }] };
  const made = await api("POST", "/api/v1/report-schedules", base);
  assert.equal(made.status, 201, made.text);
  const secret = made.json.recipients[0].signing_secret;
  const before = (await api("GET", "/api/v1/report-schedules?limit=200")).json.data.length;
  for (const [change, field] of [
    [{ format: "pdf" }, "format"],
    [{ cadence: "weekly", day_of_month: null }, "weekday"],
    [{ hour: 24 }, "hour"],
    [{ range: "someday" }, "range"],
    [{ timezone: "Asia/Kolkata" }, "timezone"],
    [{ filters: { program_id: "prg_nope" } }, "filters"],
    [{ recipients: [{ type: "slack", url: "http://hooks.slack.com/x" }] }, "recipients"],
    [{ recipients: [] }, "recipients"],
    [{ metrics: "sales,nope" }, "metrics"],
  ]) {
    const refused = await api("POST", "/api/v1/report-schedules", { ...base, ...change });
    assert.equal(refused.status, 422, `${JSON.stringify(change)}: ${refused.text}`);
    assert.equal(refused.json.error.field, field, JSON.stringify(change));
  }
  assert.equal((await api("GET", "/api/v1/report-schedules?limit=200")).json.data.length, before, "nothing was created");

  const paused = await api("PATCH", `/api/v1/report-schedules/${made.json.id}`, { status: "paused", recipients: [{ type: "email", address: "cfo@shop.example" }, { type: "webhook", url: "https://crm.example/hooks/pl" }] });
  assert.equal(paused.status, 200, paused.text);
  assert.equal(paused.json.status, "paused");
  assert.equal(paused.json.next_run_at, null);
  assert.equal(paused.json.recipients[1].signing_secret, undefined, "an unchanged webhook keeps its secret, not shown again");
  assert.equal(paused.json.recipients[1].secret_hint, `whsec_…${secret.slice(-4)}`);
  assert.equal(paused.json.format, "xlsx");
  const refused = await api("PATCH", `/api/v1/report-schedules/${made.json.id}`, { day_of_month: 40 });
  assert.equal(refused.status, 422);
  assert.equal((await api("GET", `/api/v1/report-schedules/${made.json.id}`)).json.status, "paused");
  const listed = (await api("GET", "/api/v1/report-schedules?status=paused&limit=200")).json.data;
  assert.ok(listed.some((s) => s.id === made.json.id));
  assert.equal((await api("DELETE", `/api/v1/report-schedules/${made.json.id}`)).status, 200);
  assert.equal((await api("GET", `/api/v1/report-schedules/${made.json.id}`)).status, 404);
  assert.equal((await api("GET", "/api/v1/report-runs?status=done")).status, 400);
});
