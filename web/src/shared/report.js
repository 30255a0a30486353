// Reading the report engine: one report request, and the pair (this period, the period
// before) that every card and chart compares.
import { api, query } from "./api.js";
import { previousPeriod } from "./dates.js";

export function kpis(params) {
  return api(`/api/v1/reports/kpis?${query({ limit: 10000, ...params })}`);
}

/** The report for the range and for the previous period of equal length. */
export async function withPrevious(range, params) {
  const before = previousPeriod(range);
  const [now, then] = await Promise.all([
    kpis({ ...params, from: range.from, to: range.to }),
    kpis({ ...params, from: before.from, to: before.to }),
  ]);
  return { now, then };
}

/** The URL of the same report as CSV (what is on screen, every row). */
export function csvUrl(params) {
  return `/api/v1/reports/kpis?${query({ limit: 10000, ...params, format: "csv" })}`;
}

/** The URL of the same report as an Excel workbook. */
export function xlsxUrl(params) {
  return `/api/v1/reports/kpis?${query({ limit: 10000, ...params, format: "xlsx" })}`;
}
