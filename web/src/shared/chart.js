// A time series with the previous period drawn beside it (uPlot, from npm, bundled).
// The previous period's days are laid over this period's, day by day.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { html } from "./html.js";
import { metric } from "./format.js";

export function Chart({ days, current, previous, name, currency }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const x = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const value = (u, v) => (v === null || v === undefined ? "—" : metric(name, v, currency));
    const options = {
      width: Math.max(element.clientWidth, 280),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      series: [
        {},
        { label: "This period", stroke: "#1f4fd8", width: 2, fill: "rgba(31,79,216,0.08)", value },
        { label: "Previous period", stroke: "#9aa3b2", width: 1.5, dash: [6, 4], value },
      ],
      axes: [{}, { values: (u, ticks) => ticks.map((t) => metric(name, t, currency)), size: 80 }],
      scales: { y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      cursor: { drag: { x: false, y: false } },
    };
    const plot = new uPlot(options, [x, current, previous], element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 280), height: 260 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, current, previous, name, currency]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${`Chart of ${name}, this period against the previous one`}></div>`;
}

/**
 * Actuals, then the forecast after them with its 80 % and 95 % bands. `days` covers
 * both; `actual` is null on forecast days and the forecast series are null on actual
 * days, except the last actual day, where the forecast line starts.
 */
export function ForecastChart({ days, actual, value, lower80, upper80, lower95, upper95, name, currency }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const x = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const value_ = (u, v) => (v === null || v === undefined ? "—" : metric(name, v, currency));
    const edge = (label) => ({ label, stroke: "transparent", width: 0, value: value_, points: { show: false } });
    const options = {
      width: Math.max(element.clientWidth, 280),
      height: 280,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      series: [
        {},
        { label: "Actual", stroke: "#1f4fd8", width: 2, value: value_ },
        { label: "Forecast", stroke: "#b4530a", width: 2, dash: [6, 4], value: value_ },
        edge("95 % high"), edge("95 % low"), edge("80 % high"), edge("80 % low"),
      ],
      bands: [
        { series: [3, 4], fill: "rgba(180,83,10,0.10)" },
        { series: [5, 6], fill: "rgba(180,83,10,0.20)" },
      ],
      axes: [{}, { values: (u, ticks) => ticks.map((t) => metric(name, t, currency)), size: 80 }],
      scales: { y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      cursor: { drag: { x: false, y: false } },
    };
    const plot = new uPlot(options, [x, actual, value, upper95, lower95, upper80, lower80], element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 280), height: 280 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, actual, value, lower80, upper80, lower95, upper95, name, currency]);
  return html`<div class="chart" ref=${box} role="img"
    aria-label=${`Chart of ${name}: the actual days, then the forecast with its 80 % and 95 % ranges`}></div>`;
}
