// Scheduled reports and alerts of the program: schedule a report (the report, its range,
// cadence and local hour, the file format, who gets it), see each schedule's next run,
// pause, resume or delete it, and read every run: when it ran, its file to download, and
// how each delivery went; make alerts on a KPI or on new flags and read what they raised.
// A new webhook's signing secret is shown once, right after it is made.
import { html } from "../shared/html.js";
import { api, query } from "../shared/api.js";
import { useLoad } from "../shared/load.js";
import { Loading, Problem, Empty, Field, SortableTable } from "../shared/ui.js";
import { Form } from "../shared/form.js";
import { dateTime, day, count } from "../shared/format.js";

const RANGES = [
  ["yesterday", "Yesterday"], ["last_week", "Last week"], ["last_month", "Last month"],
  ["month_to_date", "Month to date"], ["last_7_days", "Last 7 days"], ["last_30_days", "Last 30 days"],
];
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const GROUPS = [["day", "Day"], ["partner", "Partner"], ["link", "Link"], ["country", "Country"], ["device", "Device"], ["source", "Source"], ["material", "Material"]];
const STATUS = {
  queued: "Queued", sending: "Sending", delivered: "Delivered", partly_delivered: "Partly delivered", failed: "Failed",
};

// The last day of `[from, to)`.
const lastDay = (to) => new Date(Date.parse(`${to}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
const period = (r) => (lastDay(r.to) === r.from ? day(r.from) : `${day(r.from)} – ${day(lastDay(r.to))}`);
const hour = (h) => `${String(h).padStart(2, "0")}:00`;
const cadence = (s) => (s.cadence === "daily" ? "Daily" : s.cadence === "weekly" ? `Every ${s.weekday}` : `Monthly on day ${s.day_of_month}`);
const recipient = (r) => r.address ?? `${r.type} ${r.url_hint}`;

/** The recipients a form names: e-mail addresses and webhook URLs. */
const recipientsOf = (f) => [
  ...(f.emails ?? "").split(/[\s,;]+/).filter(Boolean).map((address) => ({ type: "email", address })),
  ...["slack", "teams", "webhook"].filter((t) => f[t]).map((type) => ({ type, url: f[type] })),
];

function delivery(d) {
  const mark = d.status === "delivered" ? "✓" : d.status === "failed" ? "✗" : "…";
  const why = d.status === "delivered" ? "" : d.last_error ? ` (${d.last_error}${d.attempts > 1 ? `, ${d.attempts} attempts` : ""})` : "";
  return `${mark} ${d.channel} ${d.target}${why}`;
}

function Secrets({ schedule }) {
  const fresh = schedule.recipients.filter((r) => r.signing_secret);
  if (fresh.length === 0) return html`<strong>${schedule.name}</strong> is scheduled: next run ${dateTime(schedule.next_run_at)}.`;
  return html`<strong>${schedule.name}</strong> is scheduled: next run ${dateTime(schedule.next_run_at)}.
    ${fresh.map((r) => html`<p>Signing secret for ${r.url_hint} (shown only now; verify deliveries with it):
      <code data-testid="signing-secret">${r.signing_secret}</code></p>`)}`;
}

const METRICS = ["sales", "revenue", "commission", "clicks", "leads", "new_customers", "cr_click_to_sale", "epc", "aov", "refunds", "roi"];
const REFERENCES = [
  ["", "a number"], ["forecast", "% of the forecast"], ["forecast_lower", "% of the forecast's lower bound"],
  ["forecast_upper", "% of the forecast's upper bound"], ["previous_day", "% of the day before"],
  ["same_day_last_week", "% of the same day a week before"],
];
const EVENT_STATUS = { ...STATUS, suppressed: "Quiet period: not sent" };

function Alerts({ program, alerts, events, reload }) {
  const change = async (alert, body) => {
    await api(`/api/v1/alerts/${alert.id}`, { method: body ? "PATCH" : "DELETE", body });
    reload();
  };
  return html`
    <${Form} title="Make alert" done=${(a) => html`<strong>${a.name}</strong> watches: ${a.rule}.
      ${a.recipients.filter((r) => r.signing_secret).map((r) => html`<p>Signing secret for ${r.url_hint} (shown only now):
        <code data-testid="signing-secret">${r.signing_secret}</code></p>`)}`}
      submit=${async (f) => {
        const recipients = recipientsOf(f);
        const rule = f.kind !== "kpi" ? {} : {
          metric: f.metric, operator: f.operator, threshold: f.threshold, ...(f.relative_to ? { relative_to: f.relative_to } : {}),
        };
        const result = await api("/api/v1/alerts", { method: "POST", body: {
          name: f.name, program_id: program.id, kind: f.kind, ...rule, quiet_hours: Number(f.quiet_hours), recipients,
        } });
        reload();
        return result;
      }}>
      <${Field} label="Name"><input name="name" required maxlength="200" placeholder="Sales dropped" /></${Field}>
      <${Field} label="When"><select name="kind"><option value="kpi">a KPI of yesterday breaks a limit</option><option value="new_flag">a new fraud or anomaly flag</option><option value="partner_at_risk">a partner becomes at risk</option></select></${Field}>
      <${Field} label="KPI"><select name="metric">${METRICS.map((m) => html`<option value=${m}>${m.replaceAll("_", " ")}</option>`)}</select></${Field}>
      <${Field} label="Is"><select name="operator"><option value="below">below</option><option value="above">above</option></select></${Field}>
      <${Field} label="Limit" hint="a number, or a percentage"><input name="threshold" inputmode="decimal" pattern="[0-9]{1,12}([.][0-9]{1,6})?" placeholder="50" /></${Field}>
      <${Field} label="Of"><select name="relative_to">${REFERENCES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></${Field}>
      <${Field} label="Quiet for, hours" hint="after it has sent"><input name="quiet_hours" type="number" min="0" max="168" value="24" /></${Field}>
      <${Field} label="E-mail to"><input name="emails" placeholder="anna@shop.example" /></${Field}>
      <${Field} label="Slack webhook URL"><input name="slack" type="url" /></${Field}>
      <${Field} label="Teams workflow URL"><input name="teams" type="url" /></${Field}>
      <${Field} label="Webhook URL"><input name="webhook" type="url" /></${Field}>
    </${Form}>
    <section class="panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      ${alerts.length === 0 ? html`<${Empty}>No alert for this program yet. Make one above: it is checked after every rollup.</${Empty}>`
        : html`<${SortableTable} rowKey=${(a) => a.id} rows=${alerts} columns=${[
          { key: "name", label: "Alert" },
          { key: "rule", label: "Rule" },
          { key: "quiet_hours", label: "Quiet", numeric: true, render: (a) => `${a.quiet_hours} h` },
          { key: "recipients", label: "To", render: (a) => a.recipients.map(recipient).join(", ") },
          { key: "last_sent_at", label: "Last sent", render: (a) => (a.status === "paused" ? "paused" : dateTime(a.last_sent_at)) },
          { key: "id", label: "", render: (a) => html`<span class="actions">
            ${a.status === "active"
              ? html`<button type="button" onClick=${() => change(a, { status: "paused" })}>Pause</button>`
              : html`<button type="button" onClick=${() => change(a, { status: "active" })}>Resume</button>`}
            <button type="button" onClick=${() => window.confirm(`Delete "${a.name}"?`) && change(a, null)}>Delete</button></span>` },
        ]} />`}
      ${events.length > 0 && html`<h3>Raised</h3><${SortableTable} rowKey=${(e) => e.id} initial=${{ key: "created_at", descending: true }} rows=${events} columns=${[
        { key: "created_at", label: "When", render: (e) => dateTime(e.created_at) },
        { key: "title", label: "What" },
        { key: "status", label: "Status", render: (e) => html`<span data-status=${e.status}>${EVENT_STATUS[e.status] ?? e.status}</span>` },
        { key: "deliveries", label: "Deliveries", render: (e) => html`<ul class="plain">${e.deliveries.map((d) => html`<li>${delivery(d)}</li>`)}</ul>` },
      ]} />`}
    </section>`;
}

export function Reports({ program }) {
  const { data, error, reload } = useLoad(async () => {
    const [schedules, runs, alerts, events] = await Promise.all([
      api(`/api/v1/report-schedules?${query({ limit: 200 })}`),
      api(`/api/v1/report-runs?${query({ limit: 100 })}`),
      api(`/api/v1/alerts?${query({ program_id: program.id, limit: 200 })}`),
      api(`/api/v1/alert-events?${query({ program_id: program.id, limit: 50 })}`),
    ]);
    // This program's schedules, and those over every program (made through the API).
    const mine = schedules.data.filter((s) => !s.filters.program_id || s.filters.program_id === program.id);
    const ids = new Set(mine.map((s) => s.id));
    return { schedules: mine, runs: runs.data.filter((r) => ids.has(r.schedule_id)), alerts: alerts.data, events: events.data };
  }, [program.id]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading scheduled reports" />`;
  const change = async (schedule, body) => {
    await api(`/api/v1/report-schedules/${schedule.id}`, { method: body ? "PATCH" : "DELETE", body });
    reload();
  };
  return html`<div class="reports">
    <${Form} title="Schedule report" done=${(s) => html`<${Secrets} schedule=${s} />`}
      submit=${async (f) => {
        const recipients = recipientsOf(f);
        const result = await api("/api/v1/report-schedules", { method: "POST", body: {
          name: f.name, report: f.report, range: f.range, format: f.format,
          ...(f.report === "kpis" ? { group_by: f.group_by } : {}),
          filters: { program_id: program.id }, timezone: f.timezone || program.timezone,
          cadence: f.cadence, hour: Number(f.hour),
          ...(f.cadence === "weekly" ? { weekday: f.weekday } : {}),
          ...(f.cadence === "monthly" ? { day_of_month: Number(f.day_of_month) } : {}),
          recipients,
        } });
        reload();
        return result;
      }}>
      <${Field} label="Name"><input name="name" required maxlength="200" placeholder="Daily sales" /></${Field}>
      <${Field} label="Report"><select name="report"><option value="kpis">KPIs</option><option value="partners">Partners (with journey stage)</option></select></${Field}>
      <${Field} label="Rows by" hint="KPI report only"><select name="group_by">${GROUPS.map(([v, l]) => html`<option value=${v} selected=${v === "partner"}>${l}</option>`)}</select></${Field}>
      <${Field} label="Period"><select name="range">${RANGES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></${Field}>
      <${Field} label="Send"><select name="cadence"><option value="daily">Daily</option><option value="weekly">Weekly</option><option value="monthly">Monthly</option></select></${Field}>
      <${Field} label="Weekday" hint="weekly"><select name="weekday">${WEEKDAYS.map((w) => html`<option value=${w}>${w}</option>`)}</select></${Field}>
      <${Field} label="Day of month" hint="monthly; in shorter months, their last day"><input name="day_of_month" type="number" min="1" max="31" value="1" /></${Field}>
      <${Field} label="At" hint=${`local time in ${program.timezone}`}><select name="hour">${Array.from({ length: 24 }, (_, h) => html`<option value=${h} selected=${h === 7}>${hour(h)}</option>`)}</select></${Field}>
      <input type="hidden" name="timezone" value=${program.timezone} />
      <${Field} label="File"><select name="format"><option value="xlsx">Excel</option><option value="csv">CSV</option><option value="json">JSON</option></select></${Field}>
      <${Field} label="E-mail to" hint="addresses, separated by commas"><input name="emails" placeholder="anna@shop.example" /></${Field}>
      <${Field} label="Slack webhook URL"><input name="slack" type="url" placeholder="https://hooks.slack.com/services/…" /></${Field}>
      <${Field} label="Teams workflow URL"><input name="teams" type="url" placeholder="https://…logic.azure.com/workflows/…" /></${Field}>
      <${Field} label="Webhook URL" hint="deliveries are signed"><input name="webhook" type="url" placeholder="https://crm.example/hooks/partnerlens" /></${Field}>
    </${Form}>
    <section class="panel" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Scheduled reports</h2>
      ${data.schedules.length === 0 ? html`<${Empty}>No scheduled report for this program yet. Schedule one above: it arrives by e-mail, Slack, Teams or webhook with the file and a summary.</${Empty}>`
        : html`<${SortableTable} rowKey=${(s) => s.id} rows=${data.schedules} columns=${[
          { key: "name", label: "Report", render: (s) => (s.filters.program_id ? s.name : `${s.name} (all programs)`) },
          { key: "range", label: "Period", render: (s) => RANGES.find(([v]) => v === s.range)?.[1] ?? s.range },
          { key: "cadence", label: "When", render: (s) => `${cadence(s)} at ${hour(s.hour)} (${s.timezone})` },
          { key: "format", label: "File" },
          { key: "recipients", label: "To", render: (s) => s.recipients.map(recipient).join(", ") },
          { key: "next_run_at", label: "Next run", render: (s) => (s.status === "paused" ? "paused" : dateTime(s.next_run_at)) },
          { key: "id", label: "", render: (s) => html`<span class="actions">
            ${s.status === "active"
              ? html`<button type="button" onClick=${() => change(s, { status: "paused" })}>Pause</button>`
              : html`<button type="button" onClick=${() => change(s, { status: "active" })}>Resume</button>`}
            <button type="button" onClick=${() => window.confirm(`Delete "${s.name}"? Its past runs and files stay.`) && change(s, null)}>Delete</button></span>` },
        ]} />`}
    </section>
    <section class="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      ${data.runs.length === 0 ? html`<${Empty}>No run yet. A schedule runs first at its next due time.</${Empty}>`
        : html`<${SortableTable} rowKey=${(r) => r.id} initial=${{ key: "due_at", descending: true }} rows=${data.runs} columns=${[
          { key: "due_at", label: "Due", render: (r) => dateTime(r.due_at) },
          { key: "schedule_name", label: "Report" },
          { key: "from", label: "Period", render: period },
          { key: "status", label: "Status", render: (r) => html`<span data-status=${r.status}>${STATUS[r.status] ?? r.status}</span>` },
          { key: "deliveries", label: "Deliveries", render: (r) => html`<ul class="plain">${r.deliveries.map((d) => html`<li>${delivery(d)}</li>`)}</ul>` },
          { key: "file", label: "File", render: (r) => (r.file
            ? html`<a href=${`/api/v1/report-runs/${encodeURIComponent(r.id)}/file`} download=${r.file.name}>${r.file.name}</a> <span class="muted small">${count(r.file.rows)} rows</span>`
            : r.error ?? "—") },
        ]} />`}
    </section>
    <${Alerts} program=${program} alerts=${data.alerts} events=${data.events} reload=${reload} />
  </div>`;
}
