// Small pieces every view uses: cards, sortable tables, messages, loading states.
import { useState } from "preact/hooks";
import { html } from "./html.js";
import { metric, signedPercent, change, LABEL } from "./format.js";

export function Loading({ what = "Loading" }) {
  return html`<p class="loading" role="status">${what}…</p>`;
}

export function Problem({ error, retry }) {
  if (!error) return null;
  return html`<div class="problem" role="alert">
    <strong>${error.status === 403 ? "Not allowed." : "Something went wrong."}</strong> ${error.message}
    ${retry && html` <button type="button" onClick=${retry}>Try again</button>`}
  </div>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

/** A KPI card: the value, and its change against the previous period. */
export function Card({ name, now, before, currency, lowerIsBetter = false }) {
  const delta = change(now, before);
  const good = delta === null || delta === 0 ? "" : (delta > 0) !== lowerIsBetter ? "up" : "down";
  return html`<div class="card" data-metric=${name}>
    <div class="card-label">${LABEL[name] ?? name}</div>
    <div class="card-value" data-value=${now ?? ""}>${metric(name, now, currency)}</div>
    <div class=${`card-change ${good}`} title="against the previous period of equal length">
      ${signedPercent(delta)} <span class="muted">vs ${metric(name, before, currency)}</span>
    </div>
  </div>`;
}

/** A CSV of `rows` with the raw values of `columns` (as the API gave them). */
export function toCsv(columns, rows) {
  const field = (value) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.map((c) => field(c.key)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => field(row[c.key])).join(","));
  return `${lines.join("\n")}\n`;
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * A table sorted by a column when its header is clicked; `columns` are
 * `{key, label, render?, numeric?}`. With `csv` (a file name), a button downloads the
 * rows on screen, in their order, as CSV.
 */
export function SortableTable({ columns, rows, initial, caption, rowKey, csv }) {
  const [sort, setSort] = useState(initial ?? { key: columns[0].key, descending: false });
  const sorted = [...rows].sort((a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    const order = x === y ? 0 : x === null || x === undefined ? -1 : y === null || y === undefined ? 1
      : typeof x === "number" || !Number.isNaN(Number(x)) ? Number(x) - Number(y) : String(x).localeCompare(String(y));
    return sort.descending ? -order : order;
  });
  const header = (column) => {
    const active = sort.key === column.key;
    const next = { key: column.key, descending: active ? !sort.descending : !!column.numeric };
    return html`<th scope="col" class=${column.numeric ? "num" : ""} aria-sort=${active ? (sort.descending ? "descending" : "ascending") : "none"}>
      <button type="button" class="sort" onClick=${() => setSort(next)}>${column.label}${active ? (sort.descending ? " ↓" : " ↑") : ""}</button>
    </th>`;
  };
  const exported = columns.filter((c) => c.key !== "actions");
  return html`${csv && html`<div class="table-tools"><button type="button" onClick=${() => download(csv, toCsv(exported, sorted))}>Download CSV</button></div>`}
  <div class="table-wrap"><table>
    ${caption && html`<caption>${caption}</caption>`}
    <thead><tr>${columns.map(header)}</tr></thead>
    <tbody>${sorted.map((row, i) => html`<tr key=${rowKey ? rowKey(row) : i}>${columns.map((c) =>
      html`<td class=${c.numeric ? "num" : ""}>${c.render ? c.render(row) : row[c.key] ?? "—"}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

export function Field({ label, children, hint }) {
  return html`<label class="field"><span>${label}</span>${children}${hint && html`<small>${hint}</small>`}</label>`;
}
