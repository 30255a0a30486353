// The partner portal at `/portal`: a partner signs in with its token (or the sign-in
// link its manager sent) and sees its own numbers only: cards and chart, its links with
// a link generator, the program's materials with their HTML, its commission ledger,
// balances and payouts, and the program terms.
import { render } from "preact";
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query } from "../shared/api.js";
import { useUrlState, setUrlState } from "../shared/url.js";
import { useSession, SignIn, signOut } from "../shared/session.js";
import { RangeBar, rangeOf } from "../shared/filters.js";
import { Loading, Problem, Empty } from "../shared/ui.js";
import { Cards, Trend, Breakdown } from "../dashboard/overview.js";
import { Links } from "./links.js";
import { Ledger } from "./ledger.js";
import { Money } from "./money.js";
import { Terms } from "./terms.js";
import { Materials } from "./materials.js";

const VIEWS = [["overview", "Overview"], ["links", "Links"], ["materials", "Materials"], ["ledger", "Commissions"], ["money", "Payouts"], ["terms", "Terms"]];
/** A partner's own figures (cost and ROI are the program's business). */
const CARDS = ["clicks", "unique_clicks", "leads", "sales", "revenue", "commission", "epc", "cr_click_to_sale"];
const BY_LINK = [["link", "Links"], ["material", "Materials"], ["source", "Sources"], ["attribution", "Attribution"], ["country", "Countries"], ["device", "Devices"]];

function Portal({ session }) {
  const state = useUrlState();
  const programs = useLoad(() => api(`/api/v1/partner-programs?${query({ partner_id: session.partner_id })}`), [session.partner_id]);
  if (programs.error) return html`<main class="page"><${Problem} error=${programs.error} retry=${programs.reload} /></main>`;
  if (!programs.data) return html`<${Loading} what="Loading your programs" />`;
  const list = programs.data.data;
  const program = list.find((p) => p.id === state.program) ?? list[0] ?? null;
  const view = VIEWS.some(([v]) => v === state.view) ? state.view : "overview";
  const range = rangeOf(state, program?.timezone ?? "UTC");
  const scope = { partner_id: session.partner_id };
  return html`
    <header class="top">
      <a class="brand" href="/portal"><span class="logo" aria-hidden="true"></span>${session.partner_name ?? "Partner portal"}</a>
      <nav aria-label="Views">${VIEWS.map(([v, label]) => html`<a href=${`?${new URLSearchParams({ ...state, view: v })}`}
        aria-current=${v === view ? "page" : null} onClick=${(e) => { e.preventDefault(); setUrlState({ view: v }); }}>${label}</a>`)}</nav>
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main class="page">
      ${!program ? html`<${Empty}>You are not in a program yet. Your partner manager adds you with your first link.</${Empty}>` : html`
        ${["overview", "links"].includes(view) && html`<${RangeBar} range=${range}>
          ${list.length > 1 && html`<label class="program"><span class="sr-only">Program</span>
            <select aria-label="Program" value=${program.id} onChange=${(e) => setUrlState({ program: e.target.value })}>
              ${list.map((p) => html`<option value=${p.id}>${p.name} (${p.currency})</option>`)}
            </select></label>`}
        </${RangeBar}>`}
        ${view === "overview" ? html`<${Cards} range=${range} program=${program} scope=${scope} cards=${CARDS} />
            <${Trend} range=${range} program=${program} chosen=${state.metric} scope=${scope} choices=${CARDS} />
            <${Breakdown} range=${range} program=${program} by=${state.by} scope=${scope} choices=${BY_LINK} />`
          : view === "links" ? html`<${Links} range=${range} program=${program} session=${session} />`
          : view === "materials" ? html`<${Materials} program=${program} session=${session} />`
          : view === "ledger" ? html`<${Ledger} program=${program} session=${session} />`
          : view === "money" ? html`<${Money} program=${program} session=${session} />`
          : html`<${Terms} program=${program} />`}`}
    </main>`;
}

function App() {
  const [session, setSession] = useSession();
  if (session === undefined) return html`<${Loading} what="Checking your session" />`;
  if (session === null) {
    return html`<${SignIn} title="Partner portal" what="Sign in with the partner token your partner manager gave you, or open the sign-in link they sent."
      onSignedIn=${(s) => (s.kind === "partner" ? setSession(s) : window.location.assign("/"))} />`;
  }
  if (session.kind !== "partner") {
    window.location.replace("/");
    return null;
  }
  return html`<${Portal} session=${session} />`;
}

render(html`<${App} />`, document.getElementById("app"));
