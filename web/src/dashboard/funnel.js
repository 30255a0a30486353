// The partner funnel: how many partners stand in each journey stage on the range's last
// day, how long they spent in each, and who is at risk (the call list).
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query } from "../shared/api.js";
import { Loading, Problem, SortableTable, Empty } from "../shared/ui.js";
import { count, money, day } from "../shared/format.js";

const STAGES = [
  ["applied", "Applied"], ["approved", "Approved"], ["first_click", "First click"],
  ["first_conversion", "First conversion"], ["active", "Active"], ["at_risk", "At risk"], ["churned", "Churned"],
];

export function Funnel({ range, program }) {
  const params = { from: range.from, to: range.to, timezone: range.timezone, program_id: program.id, metrics: "clicks,sales,revenue,commission", limit: 10000 };
  const { data, error, reload } = useLoad(() => api(`/api/v1/reports/partners?${query(params)}`), [range.from, range.to, range.timezone, program.id]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading the partner funnel" />`;
  const rows = data.data;
  if (rows.length === 0) return html`<${Empty}>No partners in this program yet. Add partners and give them links under Setup.</${Empty}>`;
  const widest = Math.max(1, ...STAGES.map(([s]) => rows.filter((r) => r.stage === s).length));
  const average = (stage) => {
    const spent = rows.map((r) => r[`days_${stage}`]).filter((d) => d > 0);
    return spent.length ? spent.reduce((a, b) => a + b, 0) / spent.length : null;
  };
  const atRisk = rows.filter((r) => r.stage === "at_risk");
  return html`
    <section class="panel" aria-labelledby="funnel-title">
      <h2 id="funnel-title">Partner journey on ${day(lastDay(data.meta.to ?? range.to))}</h2>
      <ol class="funnel">
        ${STAGES.map(([stage, label]) => {
          const n = rows.filter((r) => r.stage === stage).length;
          const avg = average(stage);
          return html`<li data-stage=${stage}>
            <span class="funnel-label">${label}</span>
            <span class="funnel-bar"><span style=${`width:${(100 * n) / widest}%`}></span></span>
            <span class="funnel-count">${count(n)}</span>
            <span class="muted funnel-days">${avg === null ? "" : `${avg.toFixed(1)} days on average`}</span>
          </li>`;
        })}
      </ol>
    </section>
    <section class="panel" aria-labelledby="risk-title">
      <h2 id="risk-title">At risk (${atRisk.length})</h2>
      ${atRisk.length === 0 ? html`<${Empty}>Nobody is slipping: no partner's activity fell by half or stopped for two weeks.</${Empty}>`
        : html`<${SortableTable} csv="partners-at-risk.csv" rowKey=${(r) => r.partner_id} initial=${{ key: "days_since_activity", descending: true }} columns=${[
          { key: "partner_name", label: "Partner" },
          { key: "risk", label: "Why", render: (r) => (r.risk === "inactive" ? "No activity" : "Activity halved") },
          { key: "days_since_activity", label: "Days since activity", numeric: true },
          { key: "activity_last_14d", label: "Last 14 days", numeric: true },
          { key: "activity_prev_14d", label: "14 days before", numeric: true },
          { key: "revenue", label: "Revenue", numeric: true, render: (r) => money(r.revenue, program.currency) },
        ]} rows=${atRisk} />`}
    </section>
    <section class="panel" aria-labelledby="partners-title">
      <h2 id="partners-title">All partners</h2>
      <${SortableTable} csv="partners.csv" rowKey=${(r) => r.partner_id} initial=${{ key: "revenue", descending: true }} columns=${[
        { key: "partner_name", label: "Partner" },
        { key: "segment", label: "Segment" },
        { key: "stage", label: "Stage", render: (r) => STAGES.find(([s]) => s === r.stage)?.[1] ?? "—" },
        { key: "days_in_stage", label: "Days in stage", numeric: true },
        { key: "clicks", label: "Clicks", numeric: true, render: (r) => count(r.clicks) },
        { key: "sales", label: "Sales", numeric: true, render: (r) => count(r.sales) },
        { key: "revenue", label: "Revenue", numeric: true, render: (r) => money(r.revenue, program.currency) },
        { key: "commission", label: "Commission", numeric: true, render: (r) => money(r.commission, program.currency) },
      ]} rows=${rows} />
    </section>`;
}

function lastDay(to) {
  return new Date(Date.parse(`${to}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}
