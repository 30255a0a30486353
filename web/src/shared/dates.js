// Date ranges as the API takes them: local calendar days `[from, to)` (YYYY-MM-DD) in an
// explicit IANA time zone, the presets a manager picks from, and the previous period of
// equal length that every change is measured against.

const DAY_MS = 86_400_000;

export const PRESETS = [
  ["today", "Today"],
  ["7d", "7 days"],
  ["30d", "30 days"],
  ["90d", "90 days"],
  ["mtd", "Month to date"],
  ["qtd", "Quarter to date"],
  ["ytd", "Year to date"],
  ["custom", "Custom"],
];

/** Today's date in `timezone`. */
export function today(timezone, now = new Date()) {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

export function addDays(date, days) {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * DAY_MS;
  return new Date(ms).toISOString().slice(0, 10);
}

export function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The range `[from, to)` of a preset, ending with today in `timezone`. */
export function presetRange(preset, timezone, now = new Date()) {
  const t = today(timezone, now);
  const end = addDays(t, 1);
  const [y, m] = t.split("-").map(Number);
  const first = (month) => `${y}-${String(month).padStart(2, "0")}-01`;
  switch (preset) {
    case "today": return { from: t, to: end };
    case "7d": return { from: addDays(t, -6), to: end };
    case "30d": return { from: addDays(t, -29), to: end };
    case "90d": return { from: addDays(t, -89), to: end };
    case "mtd": return { from: first(m), to: end };
    case "qtd": return { from: first(m - ((m - 1) % 3)), to: end };
    case "ytd": return { from: `${y}-01-01`, to: end };
    default: return null;
  }
}

/** The period of equal length just before `[from, to)`. */
export function previousPeriod({ from, to }) {
  const length = daysBetween(from, to);
  return { from: addDays(from, -length), to: from };
}

/** Every day of `[from, to)`. */
export function days({ from, to }) {
  const out = [];
  for (let d = from; d < to; d = addDays(d, 1)) out.push(d);
  return out;
}

export function validDate(text) {
  return /^\d{4}-\d{2}-\d{2}$/.test(text ?? "") && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));
}
