// AmoCRM lead webhooks become conversions through the program's status mapping.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, hit, storedClick, clickIdOf, BASE } from "./helpers.mjs";

const CLICK_FIELD = "581225";

/** AmoCRM's form encoding of one lead in `leads[status]`. */
function webhookBody({ leadId, statusId, price, clickId, pipelineId = "3157453" }) {
  const lead = "leads[status][0]";
  const pairs = [
    [`${lead}[id]`, leadId],
    [`${lead}[status_id]`, statusId],
    [`${lead}[pipeline_id]`, pipelineId],
    [`${lead}[old_status_id]`, "201"],
    [`${lead}[price]`, price ?? ""],
    [`${lead}[custom_fields][0][id]`, CLICK_FIELD],
    [`${lead}[custom_fields][0][name]`, "partnerlens click id"],
    [`${lead}[custom_fields][0][values][0][value]`, clickId ?? ""],
    ["account[id]", "29085955"],
    ["account[subdomain]", "shop"],
  ];
  return new URLSearchParams(pairs).toString();
}

async function webhook(token, body) {
  const response = await fetch(`${BASE}/webhooks/amocrm?token=${encodeURIComponent(token ?? "")}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  return { status: response.status, json: await response.json() };
}

test("AmoCRM lead, sale and lost statuses become conversions, once each", async () => {
  const { program, link } = await seed();
  const token = program.postback_secret;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "5" });
  const mapping = await api("POST", "/api/v1/amocrm-mappings", {
    program_id: program.id,
    pipeline_id: "3157453",
    click_id_field_id: CLICK_FIELD,
    statuses: { 201: "lead", 142: "sale", 143: "rejected" },
  });
  assert.equal(mapping.status, 201, mapping.text);
  const clickId = clickIdOf(await hit(`/r/${link.code}`));
  await storedClick(link.id, clickId);

  const lead = await webhook(token, webhookBody({ leadId: "25399013", statusId: "201", clickId }));
  assert.equal(lead.status, 200, JSON.stringify(lead.json));
  assert.deepEqual(lead.json.processed.map((p) => [p.event, p.status]), [["lead", "recorded"]]);

  const won = webhookBody({ leadId: "25399013", statusId: "142", price: "15000", clickId });
  const sale = await webhook(token, won);
  assert.deepEqual(sale.json.processed.map((p) => [p.event, p.status]), [["sale", "recorded"]]);
  assert.deepEqual((await webhook(token, won)).json.processed.map((p) => p.status), ["duplicate"]);

  const conversions = (await api("GET", `/api/v1/conversions?program_id=${program.id}`)).json.data;
  const saleRow = conversions.find((c) => c.event === "sale");
  assert.equal(saleRow.amount, "15000.00");
  assert.equal(saleRow.commission, "750.00");
  assert.equal(saleRow.order_id, "25399013");
  assert.equal(saleRow.click_id, clickId);

  const lost = await webhook(token, webhookBody({ leadId: "25399013", statusId: "143", clickId }));
  assert.deepEqual(lost.json.processed.map((p) => [p.event, p.status]), [["lead", "updated"], ["sale", "updated"]]);
  const after = (await api("GET", `/api/v1/conversions?program_id=${program.id}`)).json.data;
  assert.ok(after.every((c) => c.status === "rejected"));

  const other = await webhook(token, webhookBody({ leadId: "1", statusId: "142", price: "10", clickId, pipelineId: "999" }));
  assert.deepEqual(other.json.processed.map((p) => p.status), ["ignored"]);
});

test("the AmoCRM webhook needs the program's token and a mapping", async () => {
  const { program } = await seed();
  const body = webhookBody({ leadId: "7", statusId: "142", price: "1", clickId: "x" });
  assert.equal((await webhook(null, body)).status, 401);
  assert.equal((await webhook("pbs_wrong", body)).status, 401);
  const unmapped = await webhook(program.postback_secret, body);
  assert.equal(unmapped.status, 409);
  assert.equal(unmapped.json.error.code, "not_configured");
  const bad = await api("POST", "/api/v1/amocrm-mappings", { program_id: program.id, click_id_field_id: "1", statuses: { 142: "won" } });
  assert.equal(bad.status, 422, bad.text);
});
