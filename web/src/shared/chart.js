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
