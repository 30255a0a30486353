// The bar above every view: date presets, a custom range, the time zone, and (on the
// dashboard) the program. All of it lives in the URL.
import { html } from "./html.js";
import { PRESETS, presetRange, validDate, addDays } from "./dates.js";
import { setUrlState } from "./url.js";

export const ZONES = [
  "UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Europe/Istanbul", "Asia/Dubai",
  "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "America/New_York", "America/Chicago",
  "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
];

/** The range and time zone the URL asks for, with defaults. */
export function rangeOf(state, defaultZone = "UTC") {
  const timezone = state.tz || defaultZone;
  const preset = state.preset || (state.from && state.to ? "custom" : "30d");
  const fixed = preset === "custom" && validDate(state.from) && validDate(state.to) && state.from < state.to
    ? { from: state.from, to: state.to }
    : presetRange(preset === "custom" ? "30d" : preset, timezone) ?? presetRange("30d", timezone);
  return { ...fixed, timezone, preset };
}

export function RangeBar({ range, children }) {
  const pick = (preset) => setUrlState({ preset, from: null, to: null });
  const custom = (key, value) => {
    if (!validDate(value)) return;
    const next = { from: range.from, to: range.to, [key]: key === "to" ? addDays(value, 1) : value };
    if (next.from < next.to) setUrlState({ preset: "custom", ...next });
  };
  const zones = ZONES.includes(range.timezone) ? ZONES : [range.timezone, ...ZONES];
  return html`<div class="range-bar">
    ${children}
    <div class="presets" role="group" aria-label="Date range">
      ${PRESETS.filter(([p]) => p !== "custom").map(([preset, label]) => html`
        <button type="button" class=${range.preset === preset ? "chip active" : "chip"}
          aria-pressed=${range.preset === preset} onClick=${() => pick(preset)}>${label}</button>`)}
    </div>
    <div class="custom-range">
      <label><span class="sr-only">From</span><input type="date" value=${range.from}
        onChange=${(e) => custom("from", e.target.value)} aria-label="From (first day)" /></label>
      <span aria-hidden="true">–</span>
      <label><span class="sr-only">To</span><input type="date" value=${addDays(range.to, -1)}
        onChange=${(e) => custom("to", e.target.value)} aria-label="To (last day)" /></label>
    </div>
    <label class="zone"><span class="sr-only">Time zone</span>
      <select aria-label="Time zone" value=${range.timezone} onChange=${(e) => setUrlState({ tz: e.target.value })}>
        ${zones.map((z) => html`<option value=${z}>${z}</option>`)}
      </select>
    </label>
  </div>`;
}
