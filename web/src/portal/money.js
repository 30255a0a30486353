// The partner's balances (pending, approved and unpaid, paid, against the minimum
// payout) and its payouts with their statements and transfers.
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query, all } from "../shared/api.js";
import { Loading, Problem, SortableTable, Empty } from "../shared/ui.js";
import { money, dateTime, count } from "../shared/format.js";

export function Money({ program, session }) {
  const { data, error, reload } = useLoad(async () => {
    const [balances, payouts] = await Promise.all([
      api(`/api/v1/balances?${query({ program_id: program.id, partner_id: session.partner_id })}`),
      all(`/api/v1/payouts?${query({ program_id: program.id, partner_id: session.partner_id, limit: 500 })}`),
    ]);
    return { balances, payouts };
  }, [program.id, session.partner_id]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading your balance" />`;
  const mine = data.balances.data[0] ?? { balance: "0.00", pending: "0.00", paid: "0.00" };
  const cur = program.currency;
  return html`
    <section class="cards" aria-label="Balance">
      <div class="card"><div class="card-label">Pending</div><div class="card-value">${money(mine.pending, cur)}</div>
        <div class="card-change muted">waiting for approval</div></div>
      <div class="card"><div class="card-label">Approved, unpaid</div><div class="card-value" data-value=${mine.balance}>${money(mine.balance, cur)}</div>
        <div class="card-change muted">paid once it reaches ${money(data.balances.min_payout, cur)}</div></div>
      <div class="card"><div class="card-label">Paid</div><div class="card-value">${money(mine.paid, cur)}</div></div>
    </section>
    <section class="panel" aria-labelledby="payouts-title">
      <h2 id="payouts-title">Payouts</h2>
      ${data.payouts.length === 0 ? html`<${Empty}>No payouts yet.</${Empty}>` : html`<${SortableTable} rowKey=${(r) => r.id}
        initial=${{ key: "created_at", descending: true }} rows=${data.payouts} columns=${[
          { key: "created_at", label: "Made", render: (r) => dateTime(r.created_at) },
          { key: "conversions", label: "Conversions", numeric: true, render: (r) => count(r.conversions) },
          { key: "amount", label: "Amount", numeric: true, render: (r) => money(r.amount, r.currency) },
          { key: "id", label: "Statement", render: (r) => html`<a href=${`/api/v1/payouts/${encodeURIComponent(r.id)}/statement.csv`} download>CSV</a>` },
          { key: "status", label: "Transfer", render: (r) => (r.status === "paid"
            ? html`<span data-status="paid">Sent ${dateTime(r.paid_at)}</span>${r.reference && html` <span class="muted small">${r.reference}</span>`}`
            : html`<span data-status="pending">Being paid</span>`) },
        ]} />`}
    </section>`;
}
