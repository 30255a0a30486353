// Setting a program up: programs, partners, links, commission rules, partner sign-in
// links and BI keys. Every form says what went wrong next to it, in the API's words.
import { html } from "../shared/html.js";
import { api } from "../shared/api.js";
import { Field, SortableTable, Empty } from "../shared/ui.js";
import { Form, clean } from "../shared/form.js";
import { ZONES } from "../shared/filters.js";

export function Setup({ program, programs, partners, links, refresh }) {
  const after = (f) => async (fields) => {
    const result = await f(fields);
    refresh();
    return result;
  };
  const signInLink = (token) => `${window.location.origin}/portal#token=${encodeURIComponent(token)}`;
  return html`<div class="setup">
    <${Form} title="Create program" done=${(p) => html`Program <strong>${p.name}</strong> created. Its postback secret, shown once: <code>${p.postback_secret}</code>`}
      submit=${after((f) => api("/api/v1/programs", { method: "POST", body: {
        ...clean({ name: f.name, currency: f.currency, model: f.model, timezone: f.timezone }),
        partner_link_domains: (f.partner_link_domains ?? "").split(/[\s,]+/).filter(Boolean),
      } }))}>
      <${Field} label="Name"><input name="name" required maxlength="200" /></${Field}>
      <${Field} label="Currency" hint="ISO 4217, e.g. EUR"><input name="currency" required value="EUR" maxlength="3" /></${Field}>
      <${Field} label="Model"><select name="model">${["sales", "referral", "services"].map((m) => html`<option>${m}</option>`)}</select></${Field}>
      <${Field} label="Time zone"><select name="timezone">${ZONES.map((z) => html`<option>${z}</option>`)}</select></${Field}>
      <${Field} label="Partner link domains" hint="where partners may point their own links, e.g. shop.example"><input name="partner_link_domains" /></${Field}>
    </${Form}>
    <${Form} title="Add partner" done=${(p) => html`Partner <strong>${p.name}</strong> added.`}
      submit=${after((f) => api("/api/v1/partners", { method: "POST", body: clean(f) }))}>
      <${Field} label="Name"><input name="name" required maxlength="200" /></${Field}>
      <${Field} label="E-mail"><input name="email" type="email" /></${Field}>
      <${Field} label="Segment"><select name="segment">${["blogger", "webmaster", "agency", "expert", "other"].map((s) => html`<option>${s}</option>`)}</select></${Field}>
      <${Field} label="Tier"><input name="tier" maxlength="64" /></${Field}>
      <${Field} label="Region"><input name="region" maxlength="64" /></${Field}>
    </${Form}>
    ${program && html`<${Form} title="Create link" done=${(l) => html`Link ready: <code>${l.short_url}</code>`}
      submit=${after((f) => api("/api/v1/links", { method: "POST", body: clean({ ...f, program_id: program.id }) }))}>
      <${Field} label="Partner"><select name="partner_id" required>${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></${Field}>
      <${Field} label="Destination"><input name="destination" type="url" required placeholder="https://shop.example/landing" /></${Field}>
      <${Field} label="Code" hint="optional; 3–64 of A–Z, a–z, 0–9, _ and -"><input name="code" pattern="[A-Za-z0-9_-]{3,64}" /></${Field}>
    </${Form}>`}
    ${program && html`<${Form} title="Add commission rule" done=${() => "Rule added; it applies to conversions recorded from now on."}
      submit=${after((f) => api("/api/v1/commission-rules", { method: "POST", body: clean({
        program_id: program.id, event: f.event, kind: f.kind, value: f.value, partner_id: f.partner_id, segment: f.segment,
        ...(f.from_monthly_sale ? { from_monthly_sale: Number(f.from_monthly_sale) } : {}),
      }) }))}>
      <${Field} label="Event"><select name="event">${["sale", "lead", "qualified"].map((e) => html`<option>${e}</option>`)}</select></${Field}>
      <${Field} label="Kind" hint="fixed money, or a percent of the sale"><select name="kind"><option>percent</option><option>fixed</option></select></${Field}>
      <${Field} label="Value"><input name="value" required inputmode="decimal" pattern="[0-9]+(\\.[0-9]{1,4})?" /></${Field}>
      <${Field} label="Only for partner"><select name="partner_id"><option value="">everyone</option>${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></${Field}>
      <${Field} label="Only for segment"><select name="segment"><option value="">any</option>${["blogger", "webmaster", "agency", "expert", "other"].map((s) => html`<option>${s}</option>`)}</select></${Field}>
      <${Field} label="From the n-th sale of a month" hint="a volume tier; empty for every sale"><input name="from_monthly_sale" type="number" min="1" /></${Field}>
    </${Form}>`}
    ${program && html`<${Form} title="Add promo code" done=${(c) => html`Code <code>${c.code}</code> is live: sales that bring it go to its partner, with or without a click.`}
      submit=${after((f) => api("/api/v1/promo-codes", { method: "POST", body: { program_id: program.id, partner_id: f.partner_id, code: f.code } }))}>
      <${Field} label="Partner"><select name="partner_id" required>${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></${Field}>
      <${Field} label="Code" hint="2–40 letters, digits, _ and -; matched whatever its case"><input name="code" required maxlength="40" /></${Field}>
    </${Form}>`}
    <${Form} title="Create partner sign-in link" done=${(t) => html`Send this link to the partner (it works until you revoke the token):
        <input class="copy" readonly value=${signInLink(t.token)} onFocus=${(e) => e.target.select()} />`}
      submit=${(f) => api("/api/v1/partner-tokens", { method: "POST", body: { partner_id: f.partner_id } })}>
      <${Field} label="Partner"><select name="partner_id" required>${partners.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></${Field}>
    </${Form}>
    <${Form} title="Create BI key" done=${(k) => html`BI key, shown once: <code>${k.key}</code>`}
      submit=${(f) => api("/api/v1/bi-keys", { method: "POST", body: { name: f.name } })}>
      <${Field} label="Name" hint="what it is for, e.g. Power BI"><input name="name" required maxlength="200" /></${Field}>
    </${Form}>
    ${program && html`<section class="panel"><h2>Links of ${program.name}</h2>
      ${links.length === 0 ? html`<${Empty}>No links yet.</${Empty}>` : html`<${SortableTable} rowKey=${(l) => l.id} rows=${links} columns=${[
        { key: "code", label: "Code" },
        { key: "partner_id", label: "Partner", render: (l) => partners.find((p) => p.id === l.partner_id)?.name ?? l.partner_id },
        { key: "destination", label: "Destination" },
        { key: "status", label: "Status" },
        { key: "short_url", label: "Short URL", render: (l) => html`<code>${l.short_url}</code>` },
      ]} />`}
    </section>`}
    <p class="muted small">${programs.length} program${programs.length === 1 ? "" : "s"}, ${partners.length} partner${partners.length === 1 ? "" : "s"}.</p>
  </div>`;
}
