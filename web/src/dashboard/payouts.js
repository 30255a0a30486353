// Balances per partner (approved and unpaid, pending, paid), paying every partner above
// the minimum payout, and the payouts made with their statements.
import { useState } from "preact/hooks";
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query, all } from "../shared/api.js";
import { Loading, Problem, SortableTable, Empty } from "../shared/ui.js";
import { money, dateTime, count } from "../shared/format.js";

export function Payouts({ program, partnersById }) {
  const { data, error, reload } = useLoad(async () => {
    const [balances, payouts] = await Promise.all([
      api(`/api/v1/balances?${query({ program_id: program.id })}`),
      all(`/api/v1/payouts?${query({ program_id: program.id, limit: 500 })}`),
    ]);
    return { balances, payouts };
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
        ]} />`}
    </section>`;
}
