// The manager's dashboard at `/`: sign in with the admin key, then the overview, the
// partner funnel, insights (forecasts, flags, goals), experiments, scheduled reports,
// conversions to review, balances and payouts, and setup. The view, the
// program, the range, the time zone and the metric are all in the URL.
import { render } from "preact";
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { all } from "../shared/api.js";
import { useUrlState, setUrlState } from "../shared/url.js";
import { useSession, SignIn, signOut } from "../shared/session.js";
import { RangeBar, rangeOf } from "../shared/filters.js";
import { Loading, Problem } from "../shared/ui.js";
import { Overview } from "./overview.js";
import { Funnel } from "./funnel.js";
import { Conversions } from "./conversions.js";
import { Payouts } from "./payouts.js";
import { Setup } from "./setup.js";
import { Experiments } from "./experiments.js";
import { Insights } from "./insights.js";
import { Reports } from "./reports.js";

const VIEWS = [
  ["overview", "Overview"], ["partners", "Partners"], ["insights", "Insights"], ["experiments", "Experiments"], ["reports", "Reports"], ["conversions", "Conversions"],
  ["payouts", "Payouts"], ["setup", "Setup"],
];

function Dashboard() {
  const state = useUrlState();
  const entities = useLoad(async () => {
    const [programs, partners, links] = await Promise.all([
      all("/api/v1/programs?limit=500"), all("/api/v1/partners?limit=500"), all("/api/v1/links?limit=500"),
    ]);
    return { programs, partners, links };
  }, []);
  if (entities.error) return html`<main class="page"><${Problem} error=${entities.error} retry=${entities.reload} /></main>`;
  if (!entities.data) return html`<${Loading} what="Loading programs" />`;
  const { programs, partners, links } = entities.data;
  const program = programs.find((p) => p.id === state.program) ?? programs[0] ?? null;
  const view = VIEWS.some(([v]) => v === state.view) ? state.view : programs.length ? "overview" : "setup";
  const range = rangeOf(state, program?.timezone ?? "UTC");
  const partnersById = Object.fromEntries(partners.map((p) => [p.id, p]));
  const programLinks = program ? links.filter((l) => l.program_id === program.id) : [];
  const needsProgram = view !== "setup" && !program;
  return html`
    <header class="top">
      <a class="brand" href="/" aria-label="partnerlens, overview"><span class="logo" aria-hidden="true"></span>partnerlens</a>
      <nav aria-label="Views">${VIEWS.map(([v, label]) => html`<a href=${`?${new URLSearchParams({ ...state, view: v })}`}
        aria-current=${v === view ? "page" : null} onClick=${(e) => { e.preventDefault(); setUrlState({ view: v }); }}>${label}</a>`)}</nav>
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main class="page">
      ${view !== "setup" && program && html`<${RangeBar} range=${range}>
        <label class="program"><span class="sr-only">Program</span>
          <select aria-label="Program" value=${program.id} onChange=${(e) => setUrlState({ program: e.target.value })}>
            ${programs.map((p) => html`<option value=${p.id}>${p.name} (${p.currency})</option>`)}
          </select>
        </label>
      </${RangeBar}>`}
      ${needsProgram ? html`<${Overview} program=${null} />`
        : view === "overview" ? html`<${Overview} range=${range} program=${program} state=${state} />`
        : view === "partners" ? html`<${Funnel} range=${range} program=${program} />`
        : view === "insights" ? html`<${Insights} program=${program} state=${state}
            partners=${partners.filter((p) => programLinks.some((l) => l.partner_id === p.id))} />`
        : view === "experiments" ? html`<${Experiments} program=${program} links=${programLinks} />`
        : view === "reports" ? html`<${Reports} program=${program} />`
        : view === "conversions" ? html`<${Conversions} program=${program} state=${state} partnersById=${partnersById} />`
        : view === "payouts" ? html`<${Payouts} program=${program} partnersById=${partnersById} />`
        : html`<${Setup} program=${program} programs=${programs} partners=${partners} links=${programLinks} refresh=${entities.reload} />`}
    </main>`;
}

function App() {
  const [session, setSession] = useSession();
  if (session === undefined) return html`<${Loading} what="Checking your session" />`;
  if (session === null) {
    return html`<${SignIn} title="partnerlens" what="Sign in with the admin key to see your partner programs."
      onSignedIn=${(s) => (s.kind === "partner" ? window.location.assign("/portal") : setSession(s))} />`;
  }
  if (session.kind === "partner") {
    window.location.replace("/portal");
    return null;
  }
  return html`<${Dashboard} />`;
}

render(html`<${App} />`, document.getElementById("app"));
