// The program's banners and texts the partner may place: what each is, and the HTML to
// paste (the material inside the partner's own tracking link, with its impression pixel),
// copied with one click. Banner images live on the advertiser's host, and our pages load
// nothing from another origin (docs/security.md), so the portal links to the image rather
// than showing it.
import { useState } from "preact/hooks";
import { html } from "../shared/html.js";
import { api, query } from "../shared/api.js";
import { useLoad } from "../shared/load.js";
import { Loading, Problem, Empty } from "../shared/ui.js";

function Material({ material }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(material.html);
    setCopied(true);
  };
  return html`<li class="material" aria-label=${material.name}>
    <h3>${material.name} <span class="muted small">${material.kind === "banner" ? `banner ${material.width}×${material.height}` : "text"}</span></h3>
    ${material.kind === "banner"
      ? html`<p class="preview"><a href=${material.image_url} target="_blank" rel="noopener noreferrer">Open the image</a></p>`
      : html`<p class="preview">${material.text}</p>`}
    <label>HTML to paste
      <textarea class="copy" readonly rows="4" aria-label=${`HTML of ${material.name}`} onFocus=${(e) => e.target.select()}>${material.html}</textarea></label>
    <button type="button" onClick=${copy}>${copied ? "Copied" : "Copy HTML"}</button>
  </li>`;
}

export function Materials({ program, session }) {
  const { data, error, reload } = useLoad(
    () => api(`/api/v1/materials?${query({ program_id: program.id, partner_id: session.partner_id })}`),
    [program.id, session.partner_id],
  );
  if (error) return html`<${Problem} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} what="Loading materials" />`;
  return html`<section class="panel" aria-labelledby="materials-title">
    <h2 id="materials-title">${program.name}: materials</h2>
    <p class="muted small">Each snippet carries your link and a 1×1 pixel that counts its impressions, so your report shows CTR and eCPM per material.</p>
    ${data.data.length === 0 ? html`<${Empty}>The program has no banner or text for you yet.</${Empty}>`
      : html`<ul class="materials">${data.data.map((m) => html`<${Material} key=${m.id} material=${m} />`)}</ul>`}
  </section>`;
}
