// Numbers as the API types them: money (a two-decimal string in the program's currency),
// counts, ratios (shown as percentages) and hours; null is "—", never 0.
const locale = undefined; // the browser's

export function money(value, currency) {
  if (value === null || value === undefined) return "—";
  try {
    // Intl formats a decimal string exactly (no float on the way).
    return new Intl.NumberFormat(locale, { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
  } catch {
    return `${value} ${currency ?? ""}`.trim();
  }
}

export function count(value) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale).format(value);
}

export function percent(value, digits = 2) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

export function hours(value) {
  if (value === null || value === undefined) return "—";
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value)} h`;
}

/** The kind of every metric the dashboard shows, as kpis.md types it. */
export const KIND = {
  clicks: "count", unique_clicks: "count", bot_clicks: "count", impressions: "count", leads: "count",
  qualified_leads: "count", sales: "count", refunds: "count", new_customers: "count",
  partners_total: "count", active_partners: "count", selling_partners: "count",
  revenue: "money", commission: "money", other_cost: "money", cost: "money", epc: "money", rpc: "money",
  ecpm: "money", aov: "money", cpa: "money", cac: "money", ltv: "money", avg_sales_per_partner: "money",
  cr_click_to_lead: "ratio", cr_lead_to_sale: "ratio", cr_click_to_sale: "ratio", ctr: "ratio", roi: "ratio",
  roas: "ratio", partner_conversion: "ratio", partner_retention: "ratio", response_time_hours_median: "hours",
};

export const LABEL = {
  clicks: "Clicks", unique_clicks: "Unique clicks", bot_clicks: "Bot clicks", impressions: "Impressions",
  leads: "Leads", qualified_leads: "Qualified leads", sales: "Sales", refunds: "Refunds", revenue: "Revenue",
  commission: "Commission", other_cost: "Other cost", cost: "Cost", new_customers: "New customers",
  cr_click_to_lead: "CR click→lead", cr_lead_to_sale: "CR lead→sale", cr_click_to_sale: "CR", ctr: "CTR",
  epc: "EPC", rpc: "RPC", ecpm: "eCPM", aov: "AOV", cpa: "CPA", cac: "CAC", roi: "ROI", roas: "ROAS", ltv: "LTV",
};

/** A metric's value formatted by its kind. */
export function metric(name, value, currency) {
  switch (KIND[name]) {
    case "money": return money(value, currency);
    case "ratio": return percent(value);
    case "hours": return hours(value);
    default: return count(value);
  }
}

/** The change from `before` to `now` as a signed percentage, or null when undefined. */
export function change(now, before) {
  const a = Number(now);
  const b = Number(before);
  if (now === null || before === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return (a - b) / Math.abs(b);
}

export function signedPercent(value) {
  if (value === null) return "—";
  if (Math.abs(value) < 0.0005) return percent(0, 1);
  const text = percent(Math.abs(value), 1);
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function day(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${iso.slice(0, 10)}T00:00:00Z`));
}
