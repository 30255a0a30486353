// Split tests of the program's links and commission experiments on its partners: start
// one, read each variant's numbers against the control with the interval, the p-value and
// the test that gave it, see whether the sample is big enough (no winner before it is),
// and stop it, declaring the winner the results name. Stopped ones stay listed as the
// program's history.
import { html } from "../shared/html.js";
import { api, query } from "../shared/api.js";
import { useLoad } from "../shared/load.js";
import { Loading, Problem, Empty, Field, SortableTable } from "../shared/ui.js";
import { Form } from "../shared/form.js";
import { money, count, percent, dateTime } from "../shared/format.js";

const VERDICT = {
  collecting_data: "Collecting data: no winner until every variant has the visitors the test needs.",
  sample_ratio_mismatch: "The split does not match its weights: something is sending visitors unevenly. Trust no result until it is fixed.",
  no_difference: "Enough clicks, and no variant differs from the control beyond chance.",
  treatment_better: "A variant beats the control.",
  control_better: "The control beats every variant.",
  underpowered: "The period ended with too few partners to detect the change you asked for: no winner.",
};
const COMMISSION_VERDICT = {
  ...VERDICT,
  collecting_data: "Running: no verdict before the period ends (looking early finds false winners).",
  no_difference: "The period is over, and profit per partner does not differ beyond chance.",
  treatment_better: "The new rule brings more profit per partner.",
  control_better: "The current rules bring more profit per partner.",
};

const signed = (value, digits = 2) => (value === null || value === undefined ? "—" : `${value > 0 ? "+" : ""}${(value * 100).toFixed(digits)} pp`);
const pValue = (p) => (p === null || p === undefined ? "—" : p < 0.0001 ? "< 0.0001" : p.toFixed(4));

function Results({ experiment, currency, refresh }) {
  const { data, error, reload } = useLoad(() => api(`/api/v1/experiments/${experiment.id}/results`), [experiment.id, experiment.status]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading results" />`;
  const stop = async (winner) => {
    await api(`/api/v1/experiments/${experiment.id}/stop`, { method: "POST", body: winner ? { winner } : {} });
    refresh();
  };
  const size = data.sample_size;
  return html`<div class="experiment-results">
    <p data-testid="experiment-verdict"><strong>${VERDICT[data.verdict]}</strong>
      ${data.winner && html` Winner: <strong>${data.winner}</strong>.`}
      ${size.needed_per_variant === null ? " The control has no sale yet, so the size it needs is unknown."
        : ` Each variant needs ${count(size.needed_per_variant)} visitors to detect a ${percent(experiment.minimum_detectable_effect, 0)} change
          (the smallest has ${count(size.smallest_variant)}).`}
      ${data.sample_ratio.mismatch ? "" : ` Split check p = ${pValue(data.sample_ratio.p_value)}.`}</p>
    <${SortableTable} rowKey=${(v) => v.name} rows=${data.variants} columns=${[
      { key: "name", label: "Variant" },
      { key: "weight", label: "Weight", numeric: true },
      { key: "clicks", label: "Clicks", numeric: true, render: (v) => count(v.clicks) },
      { key: "visitors", label: "Visitors", numeric: true, render: (v) => count(v.visitors) },
      { key: "conversions", label: "Buying visitors", numeric: true, render: (v) => count(v.conversions) },
      { key: "conversion_rate", label: "CR", numeric: true, render: (v) => percent(v.conversion_rate) },
      { key: "cr_difference", label: "CR vs control (interval)", render: (v) => v.vs_control?.conversion_rate
        ? `${signed(v.vs_control.conversion_rate.difference)} (${signed(v.vs_control.conversion_rate.ci_low)} to ${signed(v.vs_control.conversion_rate.ci_high)}), p ${pValue(v.vs_control.conversion_rate.p_value)} ${v.vs_control.conversion_rate.test === "fisher_exact" ? "exact" : "z"}`
        : "—" },
      { key: "revenue", label: "Revenue", numeric: true, render: (v) => money(v.revenue, currency) },
      { key: "revenue_per_visitor", label: "Revenue / visitor", numeric: true, render: (v) => money(v.revenue_per_visitor, currency) },
      { key: "rpv_difference", label: "Revenue / visitor vs control", render: (v) => v.vs_control?.revenue_per_visitor
        ? `p ${pValue(v.vs_control.revenue_per_visitor.p_value)} (Welch), ${pValue(v.vs_control.revenue_per_visitor.rank_p_value)} (rank)` : "—" },
      { key: "commission", label: "Commission", numeric: true, render: (v) => money(v.commission, currency) },
      { key: "profit", label: "Profit", numeric: true, render: (v) => money(v.profit, currency) },
    ]} />
    ${experiment.status === "running" && html`<p class="actions">
      ${data.winner && html`<button class="primary" onClick=${() => stop(data.winner)}>Stop and send every visitor to ${data.winner}</button> `}
      <button onClick=${() => stop(null)}>Stop the test</button></p>`}
  </div>`;
}

const moneyDifference = (d, currency) => (d
  ? `${d.difference > 0 ? "+" : ""}${d.difference.toFixed(2)} (${d.ci_low.toFixed(2)} to ${d.ci_high.toFixed(2)}) ${currency}, p ${pValue(d.p_value)} (Welch), ${pValue(d.rank_p_value)} (rank)`
  : "—");

function CommissionResults({ experiment, currency, refresh }) {
  const { data, error, reload } = useLoad(() => api(`/api/v1/experiments/${experiment.id}/results`), [experiment.id, experiment.status]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading results" />`;
  const stop = async (winner) => {
    await api(`/api/v1/experiments/${experiment.id}/stop`, { method: "POST", body: winner ? { winner } : {} });
    refresh();
  };
  const size = data.sample_size;
  const rule = experiment.rule;
  return html`<div class="experiment-results">
    <p>Treatment: ${rule.event} ${rule.kind === "percent" ? `${rule.value} %` : money(rule.value, currency)}
      for ${percent(experiment.treatment_share, 0)} of partners, until ${dateTime(experiment.ends_at)}.</p>
    <p data-testid="experiment-verdict"><strong>${COMMISSION_VERDICT[data.verdict]}</strong>
      ${data.winner && html` Winner: <strong>${data.winner}</strong>.`}
      ${size.needed_per_variant === null ? " No partner sold in the 90 days before the start, so the size it needs is unknown."
        : ` Each arm needs ${count(size.needed_per_variant)} partners to detect a ${percent(experiment.minimum_detectable_effect, 0)} change
          (the smallest has ${count(size.smallest_variant)}).`}</p>
    <${SortableTable} rowKey=${(v) => v.name} rows=${data.variants} columns=${[
      { key: "name", label: "Arm" },
      { key: "partners", label: "Partners", numeric: true, render: (v) => count(v.partners) },
      { key: "prior_revenue_per_partner", label: "Prior revenue / partner", numeric: true, render: (v) => money(v.prior_revenue_per_partner, currency) },
      { key: "sales", label: "Sales", numeric: true, render: (v) => count(v.sales) },
      { key: "revenue", label: "Revenue", numeric: true, render: (v) => money(v.revenue, currency) },
      { key: "commission", label: "Commission", numeric: true, render: (v) => money(v.commission, currency) },
      { key: "profit", label: "Profit", numeric: true, render: (v) => money(v.profit, currency) },
      { key: "profit_per_partner", label: "Profit / partner", numeric: true, render: (v) => money(v.profit_per_partner, currency) },
      { key: "profit_difference", label: "Profit / partner vs control", render: (v) => moneyDifference(v.vs_control?.profit_per_partner, currency) },
    ]} />
    ${experiment.status === "running" && html`<p class="actions">
      ${data.winner === "treatment" && html`<button class="primary" onClick=${() => stop("treatment")}>Stop and give every partner the new rule</button> `}
      ${data.winner === "control" && html`<button class="primary" onClick=${() => stop("control")}>Stop and keep the current rules</button> `}
      <button onClick=${() => stop(null)}>Stop the experiment</button></p>`}
  </div>`;
}

export function Experiments({ program, links }) {
  const { data, error, reload } = useLoad(() => api(`/api/v1/experiments?${query({ program_id: program.id, limit: 100 })}`), [program.id]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading experiments" />`;
  const code = Object.fromEntries(links.map((l) => [l.id, l.code]));
  const experiments = [...data.data].reverse();
  return html`<div class="experiments">
    <${Form} title="Start split test" done=${(e) => html`<strong>${e.name}</strong> is running: visitors of the link are split from now on.`}
      submit=${async (f) => {
        const result = await api("/api/v1/experiments", { method: "POST", body: {
          kind: "link_split", link_id: f.link_id, ...(f.name ? { name: f.name } : {}),
          minimum_detectable_effect: Number(f.mde) / 100,
          variants: [
            { name: "control", destination: links.find((l) => l.id === f.link_id)?.destination ?? "", weight: 1 },
            { name: f.variant_name || "variant-b", destination: f.destination, weight: Number(f.weight || 1) },
          ],
        } });
        reload();
        return result;
      }}>
      <${Field} label="Link"><select name="link_id" required>${links.map((l) => html`<option value=${l.id}>${l.code}</option>`)}</select></${Field}>
      <${Field} label="Name"><input name="name" maxlength="200" placeholder="New landing page" /></${Field}>
      <${Field} label="Variant name" hint="a-z, 0-9, _ and -"><input name="variant_name" pattern="[a-z0-9_-]{1,32}" placeholder="variant-b" /></${Field}>
      <${Field} label="Variant destination"><input name="destination" type="url" required placeholder="https://shop.example/landing-b" /></${Field}>
      <${Field} label="Variant weight" hint="the control has 1"><input name="weight" type="number" min="1" max="1000" value="1" /></${Field}>
      <${Field} label="Smallest change worth detecting, %"><input name="mde" type="number" min="1" max="1000" value="20" /></${Field}>
    </${Form}>
    <${Form} title="Start commission experiment" done=${(e) => html`<strong>${e.name}</strong> is running until ${dateTime(e.ends_at)}.`}
      submit=${async (f) => {
        const result = await api("/api/v1/experiments", { method: "POST", body: {
          kind: "commission", program_id: program.id, ...(f.name ? { name: f.name } : {}),
          rule: { event: f.event, kind: f.rule_kind, value: f.value },
          treatment_share: Number(f.share) / 100, duration_days: Number(f.days),
          minimum_detectable_effect: Number(f.mde) / 100,
        } });
        reload();
        return result;
      }}>
      <${Field} label="Name"><input name="name" maxlength="200" placeholder="15 % on sales" /></${Field}>
      <${Field} label="Event"><select name="event"><option value="sale">sale</option><option value="qualified">qualified</option><option value="lead">lead</option></select></${Field}>
      <${Field} label="Rule"><select name="rule_kind"><option value="percent">percent of the amount</option><option value="fixed">fixed per conversion</option></select></${Field}>
      <${Field} label="Value"><input name="value" required inputmode="decimal" pattern="[0-9]+([.][0-9]{1,4})?" placeholder="15" /></${Field}>
      <${Field} label="Partners given the rule, %"><input name="share" type="number" min="5" max="95" value="30" /></${Field}>
      <${Field} label="Days"><input name="days" type="number" min="1" max="365" value="28" /></${Field}>
      <${Field} label="Smallest change in profit per partner worth detecting, %"><input name="mde" type="number" min="1" max="1000" value="20" /></${Field}>
    </${Form}>
    ${experiments.length === 0 ? html`<${Empty}>No experiment yet. Start a split test to compare a new destination with the link's own, or a commission experiment to try a new rule on some partners.</${Empty}>`
      : experiments.map((e) => html`<section class="panel" aria-label=${e.name}>
        <h2>${e.name} <span class="muted small">${e.kind === "commission" ? "commission experiment" : `on ${code[e.link_id] ?? e.link_id}`} · ${e.status}${e.winner ? `, winner ${e.winner}` : ""}
          · since ${dateTime(e.created_at)}${e.stopped_at ? ` until ${dateTime(e.stopped_at)}` : ""}</span></h2>
        ${e.kind === "commission"
          ? html`<${CommissionResults} experiment=${e} currency=${program.currency} refresh=${reload} />`
          : html`<${Results} experiment=${e} currency=${program.currency} refresh=${reload} />`}
      </section>`)}
  </div>`;
}
