// The partner's links: what each one brought in the range, and the link generator: pick
// a link (or create one to a destination the program allows), add sub-ids and UTM tags,
// then copy the URL or download its QR code.
import { useMemo, useState } from "preact/hooks";
import qrcode from "qrcode-generator";
import { html } from "../shared/html.js";
import { useLoad } from "../shared/load.js";
import { api, query, all } from "../shared/api.js";
import { kpis } from "../shared/report.js";
import { Loading, Problem, SortableTable, Empty, Field } from "../shared/ui.js";
import { count, money, percent } from "../shared/format.js";

const TAGS = ["sub1", "sub2", "sub3", "utm_source", "utm_medium", "utm_campaign"];

function qrSvg(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true });
}

function Generator({ program, links, session, created }) {
  const [linkId, setLinkId] = useState(links[0]?.id ?? "");
  const [tags, setTags] = useState({});
  const [destination, setDestination] = useState("");
  const [problem, setProblem] = useState(null);
  const [copied, setCopied] = useState(false);
  const link = links.find((l) => l.id === linkId) ?? links[0];
  const url = useMemo(() => {
    if (!link) return "";
    const target = new URL(link.short_url);
    for (const [key, value] of Object.entries(tags)) if (value) target.searchParams.set(key, value);
    return target.toString();
  }, [link, tags]);
  const svg = useMemo(() => (url ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg(url))}` : ""), [url]);
  const create = async (event) => {
    event.preventDefault();
    setProblem(null);
    try {
      const made = await api(`/api/v1/partner-links?${query({ partner_id: session.partner_id })}`, {
        method: "POST", body: { program_id: program.id, destination },
      });
      setDestination("");
      created(made.id);
      setLinkId(made.id);
    } catch (e) {
      setProblem(e);
    }
  };
  const copy = async () => {
    await navigator.clipboard?.writeText(url);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const domains = program.partner_link_domains ?? [];
  return html`<section class="panel generator" aria-labelledby="generator-title">
    <h2 id="generator-title">Link generator</h2>
    ${links.length === 0 ? html`<${Empty}>You have no link in this program yet.</${Empty}>` : html`
      <div class="form-fields">
        <${Field} label="Link"><select value=${link?.id} onChange=${(e) => setLinkId(e.target.value)}>
          ${links.map((l) => html`<option value=${l.id}>${l.code} → ${l.destination}</option>`)}</select></${Field}>
        ${TAGS.map((tag) => html`<${Field} label=${tag}><input value=${tags[tag] ?? ""} maxlength="200"
          onInput=${(e) => setTags({ ...tags, [tag]: e.target.value })} /></${Field}>`)}
      </div>
      <div class="result">
        <input class="copy" readonly value=${url} aria-label="Your link" onFocus=${(e) => e.target.select()} />
        <button type="button" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
        <a class="button" href=${svg} download=${`${link?.code ?? "link"}-qr.svg`}>Download QR code</a>
      </div>
      ${svg && html`<img class="qr" src=${svg} alt=${`QR code of ${url}`} width="160" height="160" />`}`}
    <form class="new-link" onSubmit=${create}>
      <h3>New link to another page</h3>
      ${domains.length === 0 ? html`<p class="muted">This program does not let partners create links; ask your partner manager.</p>` : html`
        <p class="muted">Pages on ${domains.join(", ")} (and their subdomains).</p>
        <${Field} label="Destination"><input type="url" required value=${destination} placeholder=${`https://${domains[0]}/`}
          onInput=${(e) => setDestination(e.target.value)} /></${Field}>
        ${problem && html`<p class="problem" role="alert">${problem.message}</p>`}
        <button type="submit" class="primary">Create link</button>`}
    </form>
  </section>`;
}

export function Links({ range, program, session }) {
  const { data, error, reload } = useLoad(async () => {
    const [links, report] = await Promise.all([
      all(`/api/v1/links?${query({ partner_id: session.partner_id, program_id: program.id, limit: 500 })}`),
      kpis({ from: range.from, to: range.to, timezone: range.timezone, program_id: program.id, partner_id: session.partner_id,
        group_by: "link", metrics: "clicks,unique_clicks,leads,sales,revenue,commission,epc,cr_click_to_sale" }),
    ]);
    return { links, report };
  }, [range.from, range.to, range.timezone, program.id, session.partner_id]);
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading your links" />`;
  const stats = Object.fromEntries(data.report.data.map((r) => [r.link_id, r]));
  const rows = data.links.map((l) => ({ ...l, ...(stats[l.id] ?? {}) }));
  return html`
    <section class="panel" aria-labelledby="links-title">
      <h2 id="links-title">Your links</h2>
      ${rows.length === 0 ? html`<${Empty}>No links yet.</${Empty}>` : html`<${SortableTable} csv="links.csv" rowKey=${(r) => r.id}
        initial=${{ key: "clicks", descending: true }} rows=${rows} columns=${[
          { key: "code", label: "Link" },
          { key: "destination", label: "Destination" },
          { key: "clicks", label: "Clicks", numeric: true, render: (r) => count(r.clicks ?? 0) },
          { key: "sales", label: "Sales", numeric: true, render: (r) => count(r.sales ?? 0) },
          { key: "cr_click_to_sale", label: "CR", numeric: true, render: (r) => percent(r.cr_click_to_sale ?? null) },
          { key: "commission", label: "Commission", numeric: true, render: (r) => money(r.commission ?? "0.00", program.currency) },
          { key: "epc", label: "EPC", numeric: true, render: (r) => money(r.epc ?? null, program.currency) },
        ]} />`}
    </section>
    <${Generator} program=${program} links=${data.links} session=${session} created=${reload} />`;
}
