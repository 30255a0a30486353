// Balances per partner (approved and unpaid, pending, paid), paying every partner above
// the minimum payout, the payouts made with their statements and transfers (marked paid
// with the transfer's reference, or back to pending), and the program's costs beside
// commissions (what ROI, CPA and CAC count), entered, corrected and deleted here.
import { useState } from "preact/hooks";
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query, all } from "../shared/api.js";
import { Loading, Problem, SortableTable, Empty, Field } from "../shared/ui.js";
import { Form } from "../shared/form.js";
import { money, dateTime, count } from "../shared/format.js";

export function Payouts({ program, partnersById }) {
  const { data, error, reload } = useLoad(async () => {
    const [balances, payouts, costs] = await Promise.all([
      api(`/api/v1/balances?${query({ program_id: program.id })}`),
      all(`/api/v1/payouts?${query({ program_id: program.id, limit: 500 })}`),
      all(`/api/v1/costs?${query({ program_id: program.id, limit: 500 })}`),
    ]);
    return { balances, payouts, costs };
  }, [program.id]);
  const [running, setRunning] = useState(false);
  const [outcome, setOutcome] = useState(null);
  const pay = async () => {
    setRunning(true);
    setOutcome(null);
    try {
      const made = await api("/api/v1/payouts", { method: "POST", body: { program_id: program.id } });
      setOutcome({ made: made.data.length });
      reload();
    } catch (e) {
      setOutcome({ error: e });
    } finally {
      setRunning(false);
    }
  };
  const [transferError, setTransferError] = useState(null);
  const transfer = async (payout, body) => {
    setTransferError(null);
    try {
      await api(`/api/v1/payouts/${encodeURIComponent(payout.id)}`, { method: "PATCH", body });
      reload();
    } catch (e) {
      setTransferError(e);
    }
  };
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading balances" />`;
  const name = (id) => partnersById[id]?.name ?? id;
  const due = data.balances.data.filter((b) => Number(b.balance) >= Number(data.balances.min_payout) && Number(b.balance) > 0);
  return html`
    <section class="panel" aria-labelledby="balances-title">
      <div class="panel-head">
        <h2 id="balances-title">Balances</h2>
        <span class="muted">Minimum payout ${money(data.balances.min_payout, program.currency)}</span>
        <button type="button" class="primary" disabled=${running || due.length === 0} onClick=${pay}>
          ${running ? "Paying…" : `Pay ${due.length} partner${due.length === 1 ? "" : "s"}`}
        </button>
      </div>
      ${outcome?.made !== undefined && html`<p class="notice" role="status">${outcome.made} payout${outcome.made === 1 ? "" : "s"} created.</p>`}
      <${Problem} error=${outcome?.error} />
      ${data.balances.data.length === 0 ? html`<${Empty}>No commissions yet. Approved conversions build balances.</${Empty}>`
        : html`<${SortableTable} csv="balances.csv" rowKey=${(r) => r.partner_id} initial=${{ key: "balance", descending: true }} rows=${data.balances.data} columns=${[
          { key: "partner_id", label: "Partner", render: (r) => name(r.partner_id) },
          { key: "balance", label: "Approved, unpaid", numeric: true, render: (r) => money(r.balance, program.currency) },
          { key: "pending", label: "Pending", numeric: true, render: (r) => money(r.pending, program.currency) },
          { key: "paid", label: "Paid", numeric: true, render: (r) => money(r.paid, program.currency) },
        ]} />`}
    </section>
    <section class="panel" aria-labelledby="payouts-title">
      <h2 id="payouts-title">Payouts</h2>
      ${data.payouts.length === 0 ? html`<${Empty}>No payouts made yet.</${Empty}>`
        : html`<${SortableTable} csv="payouts.csv" rowKey=${(r) => r.id} initial=${{ key: "created_at", descending: true }} rows=${data.payouts} columns=${[
          { key: "created_at", label: "Made", render: (r) => dateTime(r.created_at) },
          { key: "partner_id", label: "Partner", render: (r) => name(r.partner_id) },
          { key: "conversions", label: "Conversions", numeric: true, render: (r) => count(r.conversions) },
          { key: "amount", label: "Amount", numeric: true, render: (r) => money(r.amount, r.currency) },
          { key: "id", label: "Statement", render: (r) => html`<a href=${`/api/v1/payouts/${encodeURIComponent(r.id)}/statement.csv`} download>CSV</a>` },
          { key: "status", label: "Transfer", render: (r) => html`<${Transfer} payout=${r} change=${transfer} />` },
        ]} />`}
      <${Problem} error=${transferError} />
    </section>
    <${Costs} program=${program} costs=${data.costs} reload=${reload} />`;
}

const CATEGORIES = ["marketing", "training", "support", "other"];

/** The program's costs by day: a form to add one, and each one's amount to correct or delete. */
function Costs({ program, costs, reload }) {
  const [problem, setProblem] = useState(null);
  const change = async (cost, body) => {
    setProblem(null);
    try {
      await api(`/api/v1/costs/${encodeURIComponent(cost.id)}`, { method: body ? "PATCH" : "DELETE", body });
      reload();
    } catch (e) {
      setProblem(e);
    }
  };
  const correct = (cost) => (event) => {
    event.preventDefault();
    const amount = new FormData(event.currentTarget).get("amount").trim();
    if (amount !== cost.amount) change(cost, { amount });
  };
  const today = new Date().toISOString().slice(0, 10);
  return html`
    <${Form} title="Add cost" done=${(c) => html`${money(c.amount, program.currency)} of ${c.category} on ${c.date} added.`}
      submit=${async (f) => {
        const made = await api("/api/v1/costs", { method: "POST", body: { program_id: program.id, date: f.date, category: f.category, amount: f.amount.trim() } });
        reload();
        return made;
      }}>
      <${Field} label="Day"><input type="date" name="date" required value=${today} /></${Field}>
      <${Field} label="For"><select name="category">${CATEGORIES.map((c) => html`<option value=${c}>${c}</option>`)}</select></${Field}>
      <${Field} label=${`Amount (${program.currency})`}><input name="amount" required inputmode="decimal" pattern="[0-9]{1,12}([.][0-9]{1,2})?" placeholder="250.00" /></${Field}>
    </${Form}>
    <section class="panel" aria-labelledby="costs-title">
      <h2 id="costs-title">Program costs</h2>
      <p class="muted small">Marketing, training, support and other spending beside commissions: reports count them in cost, ROI, CPA and CAC for their day.</p>
      ${costs.length === 0 ? html`<${Empty}>No costs entered. Without them, cost is the commissions alone.</${Empty}>`
        : html`<${SortableTable} csv="costs.csv" rowKey=${(c) => c.id} initial=${{ key: "date", descending: true }} rows=${costs} columns=${[
          { key: "date", label: "Day" },
          { key: "category", label: "For" },
          { key: "amount", label: "Amount", numeric: true, render: (c) => html`<form class="actions" aria-label=${`Amount of cost ${c.id}`} onSubmit=${correct(c)}>
            <input name="amount" value=${c.amount} size="10" inputmode="decimal" pattern="[0-9]{1,12}([.][0-9]{1,2})?" aria-label=${`Amount of ${c.category} on ${c.date}`} />
            <button type="submit">Save</button></form>` },
          { key: "id", label: "", render: (c) => html`<button type="button" onClick=${() => window.confirm(`Delete ${c.category} of ${c.amount} on ${c.date}?`) && change(c, null)}>Delete</button>` },
        ]} />`}
      <${Problem} error=${problem} />
    </section>`;
}

/** A payout's transfer: paid (when, the reference, undo) or a reference to mark it paid with. */
function Transfer({ payout, change }) {
  if (payout.status === "paid") {
    return html`<span class="actions"><span data-status="paid">Paid ${dateTime(payout.paid_at)}</span>
      ${payout.reference && html`<span class="muted small">${payout.reference}</span>`}
      <button type="button" class="link" onClick=${() => change(payout, { status: "pending", reference: "" })}>Undo</button></span>`;
  }
  const submit = (event) => {
    event.preventDefault();
    const reference = new FormData(event.currentTarget).get("reference").trim();
    change(payout, { status: "paid", ...(reference ? { reference } : {}) });
  };
  return html`<form class="actions" aria-label=${`Transfer of payout ${payout.id}`} onSubmit=${submit}>
    <input name="reference" maxlength="200" placeholder="Transfer reference" aria-label="Transfer reference" />
    <button type="submit">Mark paid</button></form>`;
}
