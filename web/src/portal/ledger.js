// The commission ledger: each of the partner's conversions with its status, amount,
// commission and when it becomes payable (after the program's hold period).
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { query, all } from "../shared/api.js";
import { Loading, Problem, SortableTable, Empty } from "../shared/ui.js";
import { money, dateTime, day } from "../shared/format.js";

const DAY_MS = 86_400_000;

function payable(row, holdDays) {
  if (row.status === "rejected") return "never (rejected)";
  if (row.status === "approved") return "now";
  return day(new Date(Date.parse(row.ts) + holdDays * DAY_MS).toISOString());
}

export function Ledger({ program, session }) {
  const { data, error, reload } = useLoad(
    () => all(`/api/v1/conversions?${query({ partner_id: session.partner_id, program_id: program.id, limit: 500 })}`, 2000),
    [program.id, session.partner_id],
  );
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading your commissions" />`;
  if (data.length === 0) return html`<${Empty}>No conversions yet. They appear here as soon as the program reports them.</${Empty}>`;
  return html`<section class="panel" aria-labelledby="ledger-title">
    <h2 id="ledger-title">Commissions</h2>
    <${SortableTable} csv="commissions.csv" rowKey=${(r) => r.id} initial=${{ key: "ts", descending: true }} rows=${data} columns=${[
      { key: "ts", label: "When", render: (r) => dateTime(r.ts) },
      { key: "event", label: "Event" },
      { key: "order_id", label: "Order" },
      { key: "status", label: "Status" },
      { key: "amount", label: "Amount", numeric: true, render: (r) => money(r.amount, r.currency) },
      { key: "commission", label: "Commission", numeric: true, render: (r) => money(r.commission, r.currency) },
      { key: "payable", label: "Payable", render: (r) => payable(r, program.hold_days) },
    ]} />
  </section>`;
}
