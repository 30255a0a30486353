// Conversions to review: filter by status and event, approve or reject one at a time.
import { useState } from "preact/hooks";
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query } from "../shared/api.js";
import { setUrlState } from "../shared/url.js";
import { Loading, Problem, SortableTable, Empty } from "../shared/ui.js";
import { money, dateTime } from "../shared/format.js";

export function Conversions({ program, state, partnersById }) {
  const status = state.status ?? "pending";
  const event = state.event ?? "";
  const params = { program_id: program.id, status: status === "all" ? "" : status, event, limit: 500 };
  const { data, error, reload } = useLoad(() => api(`/api/v1/conversions?${query(params)}`), [program.id, status, event]);
  const [busy, setBusy] = useState(null);
  const [problem, setProblem] = useState(null);
  const decide = async (row, next) => {
    setBusy(row.id);
    setProblem(null);
    try {
      await api(`/api/v1/conversions/${encodeURIComponent(row.id)}`, { method: "PATCH", body: { status: next } });
      reload();
    } catch (e) {
      setProblem(e);
    } finally {
      setBusy(null);
    }
  };
  const filter = (key, value) => setUrlState({ [key]: value }, { push: false });
  return html`<section class="panel" aria-labelledby="conversions-title">
    <div class="panel-head">
      <h2 id="conversions-title">Conversions</h2>
      <label>Status <select value=${status} onChange=${(e) => filter("status", e.target.value)}>
        ${["pending", "approved", "rejected", "all"].map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>Event <select value=${event} onChange=${(e) => filter("event", e.target.value)}>
        ${[["", "any"], ["lead", "lead"], ["qualified", "qualified"], ["sale", "sale"], ["refund", "refund"]].map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select></label>
    </div>
    <${Problem} error=${problem} />
    ${error ? html`<${Problem} error=${error} retry=${reload} />` : !data ? html`<${Loading} what="Loading conversions" />`
      : data.data.length === 0 ? html`<${Empty}>No ${status === "all" ? "" : status} conversions. Postbacks and CRM webhooks bring them in.</${Empty}>`
        : html`<${SortableTable} csv=${`conversions-${status}.csv`} rowKey=${(r) => r.id} initial=${{ key: "ts", descending: true }} rows=${data.data} columns=${[
          { key: "ts", label: "When", render: (r) => dateTime(r.ts) },
          { key: "partner_id", label: "Partner", render: (r) => partnersById[r.partner_id]?.name ?? r.partner_id },
          { key: "event", label: "Event" },
          { key: "order_id", label: "Order" },
          { key: "amount", label: "Amount", numeric: true, render: (r) => money(r.amount, r.currency) },
          { key: "commission", label: "Commission", numeric: true, render: (r) => money(r.commission, r.currency) },
          { key: "status", label: "Status" },
          { key: "actions", label: "Decide", render: (r) => html`<span class="actions">
            ${r.status !== "approved" && html`<button type="button" disabled=${busy === r.id} onClick=${() => decide(r, "approved")}>Approve</button>`}
            ${r.status !== "rejected" && html`<button type="button" class="danger" disabled=${busy === r.id} onClick=${() => decide(r, "rejected")}>Reject</button>`}
          </span>` },
        ]} />`}
  </section>`;
}
