// The overview: KPI cards against the previous period, the chosen metric over time with
// the previous period beside it, and breakdowns by partner, link, country, device,
// source, segment and model, each downloadable as CSV.
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { withPrevious, csvUrl, xlsxUrl, kpis } from "../shared/report.js";
import { days, previousPeriod } from "../shared/dates.js";
import { setUrlState } from "../shared/url.js";
import { Chart } from "../shared/chart.js";
import { Card, Loading, Problem, SortableTable, Empty } from "../shared/ui.js";
import { LABEL, metric, dateTime } from "../shared/format.js";

export const CARDS = ["clicks", "unique_clicks", "leads", "sales", "revenue", "commission", "cost", "epc", "cr_click_to_sale", "roi"];
export const CHARTABLE = ["clicks", "unique_clicks", "leads", "sales", "revenue", "commission", "cost", "epc", "cr_click_to_sale", "roi"];
export const BREAKDOWNS = [
  ["partner", "Partners"], ["link", "Links"], ["material", "Materials"], ["country", "Countries"], ["device", "Devices"],
  ["source", "Sources"], ["attribution", "Attribution"], ["segment", "Segments"], ["model", "Models"],
];
const TABLE_METRICS = ["clicks", "leads", "sales", "revenue", "commission", "epc", "cr_click_to_sale", "aov", "roi"];
/** A material is judged by how often it is seen and clicked, and what it earns per thousand views. */
const MATERIAL_METRICS = ["impressions", "clicks", "ctr", "sales", "revenue", "commission", "ecpm"];
const metricsFor = (by) => (by === "material" ? MATERIAL_METRICS : TABLE_METRICS);

function base(range, program) {
  return { timezone: range.timezone, program_id: program.id };
}

export function Cards({ range, program, scope = {}, cards = CARDS }) {
  const params = { ...base(range, program), ...scope, group_by: "program", metrics: cards.join(",") };
  const { data, error, loading, reload } = useLoad(() => withPrevious(range, params), [range.from, range.to, range.timezone, program.id, JSON.stringify(scope)]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading the numbers" />`;
  const now = data.now.data[0] ?? {};
  const then = data.then.data[0] ?? {};
  return html`<section aria-label="Key figures" class=${loading ? "cards stale" : "cards"}>
    ${cards.map((name) => html`<${Card} name=${name} now=${now[name] ?? null} before=${then[name] ?? null}
      currency=${program.currency} lowerIsBetter=${name === "cost"} />`)}
    <p class="as-of muted">Data as of ${dateTime(data.now.meta.generated_at)} · ${program.name} · ${range.timezone}</p>
  </section>`;
}

export function Trend({ range, program, chosen, scope = {}, choices = CHARTABLE }) {
  const name = choices.includes(chosen) ? chosen : "clicks";
  const params = { ...base(range, program), ...scope, group_by: "day", metrics: name };
  const { data, error, reload } = useLoad(() => withPrevious(range, params), [range.from, range.to, range.timezone, program.id, name, JSON.stringify(scope)]);
  const series = (report) => report.data.map((row) => (row[name] === null ? null : Number(row[name])));
  return html`<section class="panel" aria-labelledby="trend-title">
    <div class="panel-head">
      <h2 id="trend-title">${LABEL[name]} by day</h2>
      <label><span class="sr-only">Metric</span>
        <select aria-label="Metric" value=${name} onChange=${(e) => setUrlState({ metric: e.target.value }, { push: false })}>
          ${choices.map((m) => html`<option value=${m}>${LABEL[m]}</option>`)}
        </select>
      </label>
    </div>
    ${error ? html`<${Problem} error=${error} retry=${reload} />` : !data ? html`<${Loading} what="Drawing the chart" />`
      : html`<${Chart} days=${days(range)} current=${series(data.now)} previous=${series(data.then).slice(0, days(range).length)}
          name=${name} currency=${program.currency} />
        <p class="muted small">Dashed: ${previousPeriod(range).from} to the day before ${range.from}, laid over this period day by day.</p>`}
  </section>`;
}

function columnsFor(by, currency) {
  const id = {
    partner: [{ key: "partner_name", label: "Partner" }],
    link: [{ key: "link_code", label: "Link" }],
    material: [{ key: "material_name", label: "Material", render: (r) => r.material_name ?? "(no material)" }],
  }[by] ?? [{ key: by, label: LABEL[by] ?? by[0].toUpperCase() + by.slice(1), render: (r) => r[by] ?? "(unknown)" }];
  return [
    ...id,
    ...metricsFor(by).map((m) => ({ key: m, label: LABEL[m], numeric: true, render: (r) => metric(m, r[m], currency) })),
  ];
}

export function Breakdown({ range, program, by, scope = {}, choices = BREAKDOWNS }) {
  const dimension = choices.some(([d]) => d === by) ? by : choices[0][0];
  const params = { ...base(range, program), ...scope, from: range.from, to: range.to, group_by: dimension, metrics: metricsFor(dimension).join(",") };
  const { data, error, reload } = useLoad(
    () => kpis(params),
    [range.from, range.to, range.timezone, program.id, dimension, JSON.stringify(scope)],
  );
  return html`<section class="panel" aria-labelledby="breakdown-title">
    <div class="panel-head">
      <h2 id="breakdown-title">Breakdown</h2>
      <div class="tabs" role="tablist" aria-label="Break down by">
        ${choices.map(([d, label]) => html`<button type="button" role="tab" aria-selected=${d === dimension}
          class=${d === dimension ? "tab active" : "tab"} onClick=${() => setUrlState({ by: d }, { push: false })}>${label}</button>`)}
      </div>
      <a class="button" href=${csvUrl(params)} download=${`partnerlens-${dimension}-${range.from}-${range.to}.csv`}>Download CSV</a>
      <a class="button" href=${xlsxUrl(params)} download=${`partnerlens-${dimension}-${range.from}-${range.to}.xlsx`}>Download Excel</a>
    </div>
    ${error ? html`<${Problem} error=${error} retry=${reload} />` : !data ? html`<${Loading} what="Loading the table" />`
      : data.data.length === 0 ? html`<${Empty}>Nothing happened in this range yet. Share a link, or pick a longer range.</${Empty}>`
        : html`<${SortableTable} columns=${columnsFor(dimension, program.currency)} rows=${data.data}
            initial=${{ key: "revenue", descending: true }} />`}
  </section>`;
}

export function ODataHint() {
  const url = `${window.location.origin}/odata/`;
  const copy = () => navigator.clipboard?.writeText(url);
  return html`<details class="panel odata">
    <summary>Open these numbers in Power BI</summary>
    <p>Get Data → OData feed → <code>${url}</code> <button type="button" onClick=${copy}>Copy URL</button></p>
    <p class="muted">Authenticate with “Basic”, any user name, and a BI key as the password (create one under Setup). The feed has <code>DailyKpis</code> and <code>Partners</code>; see the BI guide in the project's docs.</p>
  </details>`;
}

export function Overview({ range, program, state }) {
  if (!program) {
    return html`<${Empty}>No program yet. Create one under <a href="?view=setup">Setup</a>, add partners and links, and the numbers appear here.</${Empty}>`;
  }
  return html`
    <${Cards} range=${range} program=${program} />
    <${Trend} range=${range} program=${program} chosen=${state.metric} />
    <${Breakdown} range=${range} program=${program} by=${state.by} />
    <${ODataHint} />`;
}
