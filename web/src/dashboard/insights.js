// Insights: the forecast of a program's (or a steady partner's) daily metric after its
// actuals, with its bands and how well the method did in its backtest; the flags the
// nightly job raised, with the numbers behind them, to acknowledge; and the SMART goals
// with their pace, projection and odds. Manager-only: the portal shows none of it.
import { useState } from "preact/hooks";
import { html } from "../shared/html.js";
import { api, query } from "../shared/api.js";
import { useLoad } from "../shared/load.js";
import { kpis } from "../shared/report.js";
import { addDays, today } from "../shared/dates.js";
import { setUrlState } from "../shared/url.js";
import { ForecastChart } from "../shared/chart.js";
import { Loading, Problem, Empty, Field, SortableTable } from "../shared/ui.js";
import { Form, clean } from "../shared/form.js";
import { LABEL, KIND, metric, percent, day } from "../shared/format.js";

const FORECAST_METRICS = ["sales", "revenue", "commission", "clicks", "new_customers"];
const HORIZONS = [7, 28, 90];
const MODEL_NAME = { mstl_ets: "MSTL + ETS (trend and weekly season)", seasonal_naive: "seasonal naive (same weekday last week)", drift: "drift (last value plus the average change)" };
const ACTUAL_DAYS = 56;

const number = (v, digits = 2) => (v === null || v === undefined ? "—" : new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(v));

/** The backtest in a sentence a partner manager can weigh. */
function Accuracy({ model, name, currency }) {
  const beat = model.mase !== null && model.mase_seasonal_naive !== null
    ? model.mase < model.mase_seasonal_naive ? "better than" : model.mase > model.mase_seasonal_naive ? "worse than" : "as good as"
    : null;
  return html`<div class="accuracy">
    <p><strong>Method:</strong> ${MODEL_NAME[model.name] ?? model.name}, chosen because it did best when the last
      ${model.origins ?? "—"} stretches of ${model.backtest_horizon ?? "—"} days were forecast from the days before them.
      Trained through ${day(model.trained_through)} on ${model.history_days} days.</p>
    <p data-testid="forecast-accuracy"><strong>Backtest at ${model.backtest_horizon ?? "—"} days ahead:</strong>
      MASE ${number(model.mase)}${beat && html` (${beat} seasonal naive's ${number(model.mase_seasonal_naive)})`},
      sMAPE ${number(model.smape, 1)} %, bias ${model.bias === null ? "—" : `${model.bias > 0 ? "+" : ""}${metric(name, model.bias, currency)}`} a day;
      the 80 % range held ${model.coverage_80 === null ? "—" : percent(model.coverage_80, 0)} of actual days,
      the 95 % range ${model.coverage_95 === null ? "—" : percent(model.coverage_95, 0)}.</p>
    <details><summary>Every horizon and method</summary>
      <${SortableTable} rowKey=${(r) => r.horizon} initial=${{ key: "horizon", descending: false }}
        columns=${[
          { key: "horizon", label: "Days ahead", numeric: true },
          { key: "origins", label: "Origins", numeric: true },
          { key: "mase", label: "MASE", numeric: true, render: (r) => number(r.mase) },
          { key: "mase_seasonal_naive", label: "Seasonal naive MASE", numeric: true, render: (r) => number(r.mase_seasonal_naive) },
          { key: "smape", label: "sMAPE %", numeric: true, render: (r) => number(r.smape, 1) },
          { key: "coverage_80", label: "80 % held", numeric: true, render: (r) => (r.coverage_80 === null ? "—" : percent(r.coverage_80, 0)) },
          { key: "coverage_95", label: "95 % held", numeric: true, render: (r) => (r.coverage_95 === null ? "—" : percent(r.coverage_95, 0)) },
        ]} rows=${model.backtest} />
      <p class="muted small">Selection score (mean MASE over the horizons, lower is better):
        ${model.candidates.map((c) => `${c.model} ${number(c.score)}`).join(" · ")}</p>
    </details>
  </div>`;
}

function Forecast({ program, partners, state }) {
  const name = FORECAST_METRICS.includes(state.fmetric) ? state.fmetric : "sales";
  const horizon = HORIZONS.includes(Number(state.horizon)) ? Number(state.horizon) : 28;
  const partner = state.fpartner ?? "";
  const { data, error, reload } = useLoad(async () => {
    const forecast = await api(`/api/v1/insights/forecast?${query({ program_id: program.id, metric: name, horizon, partner_id: partner })}`);
    if (!forecast.model) return { forecast, actuals: null };
    const through = forecast.model.trained_through;
    const actuals = await kpis({
      program_id: program.id, partner_id: partner, group_by: "day", metrics: name, timezone: program.timezone,
      from: addDays(through, 1 - ACTUAL_DAYS), to: addDays(through, 1),
    });
    return { forecast, actuals };
  }, [program.id, name, horizon, partner]);
  const controls = html`<div class="controls">
    <label><span class="sr-only">Forecast metric</span>
      <select aria-label="Forecast metric" value=${name} onChange=${(e) => setUrlState({ fmetric: e.target.value }, { push: false })}>
        ${FORECAST_METRICS.map((m) => html`<option value=${m}>${LABEL[m]}</option>`)}
      </select></label>
    <label><span class="sr-only">Days ahead</span>
      <select aria-label="Days ahead" value=${horizon} onChange=${(e) => setUrlState({ horizon: e.target.value }, { push: false })}>
        ${HORIZONS.map((h) => html`<option value=${h}>${h} days ahead</option>`)}
      </select></label>
    <label><span class="sr-only">Forecast partner</span>
      <select aria-label="Forecast partner" value=${partner} onChange=${(e) => setUrlState({ fpartner: e.target.value }, { push: false })}>
        <option value="">Whole program</option>
        ${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
      </select></label>
  </div>`;
  let body;
  if (error) body = html`<${Problem} error=${error} retry=${reload} />`;
  else if (!data) body = html`<${Loading} what="Loading the forecast" />`;
  else if (!data.forecast.model) {
    const reason = data.forecast.meta.reason ?? "";
    body = html`<${Empty}>${reason.startsWith("not_enough_history") ? "Not enough history for a forecast yet: it takes four weeks of days."
      : reason.startsWith("no_partner_forecast") ? "This partner has no forecast of its own: that takes eight weeks of history, active on at least half of the last 56 days."
        : "No forecast yet: the nightly job fits one after the program's first day ends."}
      <span class="muted small"> (${reason})</span></${Empty}>`;
  } else {
    const { forecast, actuals } = data;
    const through = forecast.model.trained_through;
    const past = Array.from({ length: ACTUAL_DAYS }, (_, i) => addDays(through, i + 1 - ACTUAL_DAYS));
    const byDay = Object.fromEntries(actuals.data.map((r) => [r.day, r[name] === null ? null : Number(r[name])]));
    const ahead = forecast.data.map((d) => d.day);
    const days = [...past, ...ahead];
    const last = byDay[through] ?? null;
    const pad = (pick) => [...past.map((d, i) => (i === past.length - 1 ? last : null)), ...forecast.data.map(pick)];
    body = html`<${ForecastChart} days=${days} name=${name} currency=${program.currency}
        actual=${[...past.map((d) => byDay[d] ?? 0), ...ahead.map(() => null)]}
        value=${pad((d) => d.value)} lower80=${pad((d) => d.lower_80)} upper80=${pad((d) => d.upper_80)}
        lower95=${pad((d) => d.lower_95)} upper95=${pad((d) => d.upper_95)} />
      <p class="muted small">Solid: the last ${ACTUAL_DAYS} days. Dashed: the forecast; the dark band is where 8 days in 10 should fall, the light band 19 in 20.
        Next ${horizon} days in all: ${metric(name, forecast.data.reduce((s, d) => s + d.value, 0), program.currency)} expected.</p>
      <${Accuracy} model=${forecast.model} name=${name} currency=${program.currency} />`;
  }
  return html`<section class="panel" aria-labelledby="forecast-title">
    <div class="panel-head"><h2 id="forecast-title">Forecast</h2>${controls}</div>
    ${body}
  </section>`;
}

const FLAG_LABEL = {
  fast_conversions: "Conversions too fast after the click", click_flooding: "Click flooding", bot_share: "Bot traffic",
  conversion_rate_outlier: "Conversion rate too high for its volume", spike: "Sudden spike", drop: "Sudden drop",
  repeat_orders: "Same customer, fresh order ids",
};

/** The numbers behind a flag, shares as percentages. */
function evidence(e) {
  if (!e || typeof e !== "object") return "—";
  return Object.entries(e).map(([k, v]) => {
    const shown = typeof v !== "number" ? String(v)
      : /share|rate/.test(k) && Math.abs(v) <= 1 ? percent(v, 1) : number(v);
    return `${k.replaceAll("_", " ")} ${shown}`;
  }).join(" · ");
}

function Flags({ program, state }) {
  const showAll = state.flags === "all";
  const [busy, setBusy] = useState(null);
  const [failure, setFailure] = useState(null);
  const { data, error, reload } = useLoad(
    () => api(`/api/v1/insights/flags?${query({ program_id: program.id, acknowledged: showAll ? "" : "false", limit: 200 })}`),
    [program.id, showAll],
  );
  const acknowledge = async (flag, acknowledged) => {
    setBusy(flag.id);
    setFailure(null);
    try {
      await api(`/api/v1/insights/flags/${encodeURIComponent(flag.id)}`, { method: "PATCH", body: { acknowledged } });
      reload();
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(null);
    }
  };
  const columns = [
    { key: "day", label: "Day", render: (f) => day(f.day) },
    { key: "partner_name", label: "Partner", render: (f) => f.partner_name ?? f.partner_id },
    { key: "kind", label: "What", render: (f) => FLAG_LABEL[f.kind] ?? f.kind },
    { key: "severity", label: "Severity", render: (f) => html`<span class=${`badge ${f.severity}`}>${f.severity}</span>` },
    { key: "q_value", label: "q-value", numeric: true, render: (f) => (f.q_value < 0.0001 ? "< 0.0001" : number(f.q_value, 4)) },
    { key: "evidence", label: "Evidence", render: (f) => html`<span class="small">${evidence(f.evidence)}</span>` },
    { key: "actions", label: "", render: (f) => html`<button type="button" disabled=${busy === f.id}
      onClick=${() => acknowledge(f, !f.acknowledged)}>${f.acknowledged ? "Reopen" : "Acknowledge"}</button>` },
  ];
  return html`<section class="panel" aria-labelledby="flags-title">
    <div class="panel-head">
      <h2 id="flags-title">Flags</h2>
      <label class="check"><input type="checkbox" checked=${showAll}
        onChange=${(e) => setUrlState({ flags: e.target.checked ? "all" : "" }, { push: false })} /> Show acknowledged</label>
    </div>
    ${failure && html`<${Problem} error=${failure} />`}
    ${error ? html`<${Problem} error=${error} retry=${reload} />` : !data ? html`<${Loading} what="Loading the flags" />`
      : data.data.length === 0 ? html`<${Empty}>${showAll ? "No flags raised yet." : "No open flags: nothing unusual in the partners' last week."}</${Empty}>`
        : html`<${SortableTable} rowKey=${(f) => f.id} columns=${columns} rows=${data.data}
            initial=${{ key: "day", descending: true }} csv=${`partnerlens-flags-${program.id}.csv`} />`}
    <p class="muted small">A flag needs a q-value of 0.05 or less: across all partners and checks of a night, at most 1 flag in 20 is expected to be a false alarm.
      ${program.hold_flagged ? " This program holds new conversions of partners with open flags as pending." : ""}</p>
  </section>`;
}

const STATUS_LABEL = { on_track: "On track", at_risk: "At risk", off_track: "Off track", achieved: "Achieved", missed: "Missed" };
const GOAL_METRICS = Object.keys(LABEL).concat(["partners_total", "active_partners", "selling_partners"]);

function Pace({ goal, currency }) {
  const p = goal.progress;
  const target = Number(p.target_value);
  if (!(target > 0) || p.actual === null) return html`<span>${metric(goal.metric, p.actual, currency)}</span>`;
  const share = (v) => Math.max(0, Math.min(100, (Number(v) / target) * 100));
  return html`<div class="pace" title=${`actual ${metric(goal.metric, p.actual, currency)} of ${metric(goal.metric, p.target_value, currency)}`}>
    <div class="pace-bar"><span class="pace-actual" style=${`width:${share(p.actual)}%`}></span>
      ${p.expected_to_date !== null && html`<span class="pace-expected" style=${`left:${share(p.expected_to_date)}%`}></span>`}</div>
    <span class="small">${metric(goal.metric, p.actual, currency)} of ${metric(goal.metric, p.target_value, currency)}</span>
  </div>`;
}

function Goals({ program, partners }) {
  const { data, error, reload } = useLoad(() => api(`/api/v1/goals?${query({ program_id: program.id, limit: 100 })}`), [program.id]);
  const [kind, setKind] = useState("absolute");
  const partnerName = Object.fromEntries(partners.map((p) => [p.id, p.name]));
  const remove = async (goal) => {
    await api(`/api/v1/goals/${encodeURIComponent(goal.id)}`, { method: "DELETE" });
    reload();
  };
  const columns = [
    { key: "metric", label: "Goal", render: (g) => html`<strong>${LABEL[g.metric] ?? g.metric}</strong>
      <span class="muted small"> ${g.partner_id ? partnerName[g.partner_id] ?? g.partner_id : g.segment ? `${g.segment}s` : "whole network"},
      ${day(g.start)} – ${day(g.deadline)}${g.target_change_percent ? `, ${g.target_change_percent} % on ${day(g.baseline_from)} – ${day(g.baseline_to)}` : ""}</span>` },
    { key: "pace", label: "Progress", render: (g) => html`<${Pace} goal=${g} currency=${program.currency} />` },
    { key: "expected", label: "Expected by now", numeric: true, render: (g) => metric(g.metric, g.progress.expected_to_date, program.currency) },
    { key: "projected", label: "Projected", numeric: true, render: (g) => metric(g.metric, g.progress.projected, program.currency) },
    { key: "probability", label: "Chance", numeric: true, render: (g) => (g.progress.probability === null ? "—" : percent(g.progress.probability, 0)) },
    { key: "status", label: "Status", render: (g) => html`<span class=${`badge ${g.progress.status ?? ""}`}>${STATUS_LABEL[g.progress.status] ?? "—"}</span>` },
    { key: "actions", label: "", render: (g) => html`<button type="button" class="link" onClick=${() => remove(g)}>Delete</button>` },
  ];
  const rows = (data?.data ?? []).map((g) => ({ ...g, probability: g.progress.probability, status: g.progress.status }));
  const start = today(program.timezone);
  return html`<section class="panel" aria-labelledby="goals-title">
    <div class="panel-head"><h2 id="goals-title">Goals</h2></div>
    ${error ? html`<${Problem} error=${error} retry=${reload} />` : !data ? html`<${Loading} what="Loading the goals" />`
      : rows.length === 0 ? html`<${Empty}>No goals yet. Set one below: “sales +20 % in 3 months”, “50 new customers through partners by June”.</${Empty}>`
        : html`<${SortableTable} rowKey=${(g) => g.id} columns=${columns} rows=${rows} initial=${{ key: "deadline", descending: false }} />`}
    <p class="muted small">The marker on each bar is where the goal should be today at the program's usual weekday pattern (not a straight line); the chance comes from the forecast's range, widened when its backtest found it too narrow.</p>
  </section>
  <${Form} title="Set goal" done=${(g) => html`Goal set: ${STATUS_LABEL[g.progress.status] ?? "no status yet"}.`}
    submit=${async (f) => {
      const body = clean({ program_id: program.id, metric: f.metric, start: f.start, deadline: f.deadline, partner_id: f.partner_id, segment: f.segment });
      if (kind === "absolute") body.target = f.target;
      else Object.assign(body, clean({ target_change_percent: f.target_change_percent, baseline_from: f.baseline_from, baseline_to: f.baseline_to }));
      const goal = await api("/api/v1/goals", { method: "POST", body });
      reload();
      return goal;
    }}>
    <${Field} label="Metric"><select name="metric">${GOAL_METRICS.filter((m) => KIND[m]).map((m) => html`<option value=${m}>${LABEL[m] ?? m.replaceAll("_", " ")}</option>`)}</select></${Field}>
    <${Field} label="Target"><select aria-label="Target kind" value=${kind} onChange=${(e) => setKind(e.target.value)}>
      <option value="absolute">a value to reach</option><option value="change">a change against a baseline</option></select></${Field}>
    ${kind === "absolute"
      ? html`<${Field} label="Value to reach"><input name="target" required inputmode="decimal" pattern="[0-9]+(\\.[0-9]{1,6})?" /></${Field}>`
      : html`<${Field} label="Change, %" hint="e.g. 20 or -10"><input name="target_change_percent" required inputmode="decimal" pattern="-?[0-9]+(\\.[0-9]{1,2})?" /></${Field}>
        <${Field} label="Baseline from"><input name="baseline_from" type="date" required /></${Field}>
        <${Field} label="Baseline to" hint="included"><input name="baseline_to" type="date" required /></${Field}>`}
    <${Field} label="Start"><input name="start" type="date" required defaultValue=${start} /></${Field}>
    <${Field} label="Deadline" hint="included"><input name="deadline" type="date" required defaultValue=${addDays(start, 90)} /></${Field}>
    <${Field} label="Only partner"><select name="partner_id"><option value="">whole network</option>${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></${Field}>
    <${Field} label="Only segment"><select name="segment"><option value="">any</option>${["blogger", "webmaster", "agency", "expert", "other"].map((s) => html`<option>${s}</option>`)}</select></${Field}>
  </${Form}>`;
}

export function Insights({ program, partners, state }) {
  return html`
    <${Forecast} program=${program} partners=${partners} state=${state} />
    <${Flags} program=${program} state=${state} />
    <${Goals} program=${program} partners=${partners} />`;
}
