// The program's terms as they apply to this partner: commissions, attribution window,
// hold period, minimum payout.
import { html } from "../shared/html.js";
import { money } from "../shared/format.js";

function rate(rule, currency) {
  return rule.kind === "percent" ? `${rule.value} % of the sale` : `${money(rule.value, currency)} each`;
}

export function Terms({ program }) {
  const rules = program.rules ?? [];
  return html`<section class="panel terms" aria-labelledby="terms-title">
    <h2 id="terms-title">${program.name}: terms</h2>
    <dl>
      <dt>Currency</dt><dd>${program.currency}</dd>
      <dt>Attribution window</dt><dd>${program.attribution_window_days} days from the click</dd>
      <dt>Hold period</dt><dd>${program.hold_days === 0 ? "none: sales are approved as they come" : `${program.hold_days} days before a sale is approved`}</dd>
      <dt>Minimum payout</dt><dd>${money(program.min_payout, program.currency)}</dd>
      <dt>Click id parameter</dt><dd><code>${program.click_id_param}</code></dd>
    </dl>
    ${(program.promo_codes ?? []).length > 0 && html`<h3>Your promo codes</h3>
    <p class="muted small">A sale that brings one of these codes is yours, even without a click on your link.</p>
    <ul class="promo-codes">${program.promo_codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>`}
    <h3>Your commissions</h3>
    ${rules.length === 0 ? html`<p class="muted">No commission rule applies to you yet.</p>` : html`<ul class="rules">
      ${rules.map((r) => html`<li><strong>${r.event}</strong>: ${rate(r, program.currency)}${r.from_monthly_sale
        ? ` from your ${r.from_monthly_sale}th sale of a month` : ""} <span class="muted">(${r.applies_to})</span></li>`)}
    </ul>`}
  </section>`;
}
