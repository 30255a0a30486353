// Nothing sensitive at rest: after traffic with known addresses, secrets and keys, none of
// them appears in plain text in any file of the product's local storage (the D1 databases
// with their WAL files, KV, queues). The dev server's own request traces
// (v3/observability) keep request URLs, as platform logs do: see docs/security.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { api, hit, seed, storedClick, clickIdOf, eventually, events, BASE, ADMIN_KEY } from "./helpers.mjs";

const STATE = process.env.RUNTIME_STATE_DIR;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test("no IP address, secret or key is stored in plain text", async (t) => {
  assert.ok(STATE, "RUNTIME_STATE_DIR names the runtime's --persist-to directory");
  const { program, link } = await seed();
  const ips = ["192.0.2.171", "2001:db8::5eed:171", "198.18.0.171"];
  const ids = [];
  for (const ip of ips) ids.push(clickIdOf(await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": ip } })));
  await hit(`/i/${link.code}`, { headers: { "cf-connecting-ip": ips[0] } });
  await storedClick(link.id, ids.at(-1));
  await eventually(async () => (await events("clicks", link.id)).length === ips.length, { what: "clicks" });
  const token = program.postback_secret;
  const sale = await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: ids[0], order_id: "AT-REST", amount: "10", token })}`, {
    headers: { "cf-connecting-ip": ips[1] },
  });
  assert.equal(sale.status, 200);
  await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: ids[1], event: "lead", token: "pbs_wrong_at_rest" })}`, {
    headers: { "cf-connecting-ip": ips[2] },
  });
  const rotated = await api("POST", `/api/v1/programs/${program.id}/rotate-secret`);
  assert.equal(rotated.status, 200, rotated.text);
  const bi = await api("POST", "/api/v1/bi-keys", { name: "at rest" });
  assert.equal(bi.status, 201, bi.text);
  // A report schedule's webhook URLs are credentials too, and its signing secret.
  const slackPath = "T0AT/B0REST/slackwebhooksecretatrest";
  const schedule = await api("POST", "/api/v1/report-schedules", {
    name: "at rest", range: "yesterday", cadence: "daily", hour: 7,
    recipients: [{ type: "slack", url: `https://hooks.slack.com/services/${slackPath}` }, { type: "webhook", url: "https://crm.example/hooks/at-rest" }],
  });
  assert.equal(schedule.status, 201, schedule.text);
  const secrets = {
    "Slack webhook path": slackPath,
    "webhook signing secret": schedule.json.recipients[1].signing_secret,
    ...Object.fromEntries(ips.map((ip, i) => [`ip ${i}`, ip])),
    "postback secret": token,
    "rotated postback secret": rotated.json.postback_secret,
    "BI key": bi.json.key,
    "admin key": ADMIN_KEY,
    "next admin key": process.env.ADMIN_API_KEY_NEXT,
    "postback master key": process.env.POSTBACK_SECRET_KEY,
  };
  const stores = ["d1", "kv", "queues"].map((d) => join(STATE, d)).filter((d) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  });
  const all = stores.flatMap(files);
  assert.ok(all.some((f) => f.endsWith(".sqlite")), `D1 files under ${STATE}`);
  let scanned = 0;
  for (const file of all) {
    const bytes = readFileSync(file);
    scanned += bytes.length;
    for (const [what, value] of Object.entries(secrets)) {
      assert.ok(value && value.length >= 8, what);
      for (const encoding of ["utf8", "utf16le"]) {
        assert.equal(bytes.indexOf(Buffer.from(value, encoding)), -1, `${what} (${encoding}) found in ${file}`);
      }
    }
  }
  t.diagnostic(`scanned ${all.length} files, ${scanned} bytes, for ${Object.keys(secrets).length} values in UTF-8 and UTF-16`);
});
