//! What a scheduled report says beside its file: the period's main KPIs against the
//! period before, the top partners, the open fraud and anomaly flags, and the goals'
//! status, as a [`Message`] every channel can render.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::message::{Link, Message, Section};
use crate::domain::money::format_money;
use crate::domain::reporting::Cell;

/// One KPI of the period and of the period before.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub metric: &'static str,
    pub label: &'static str,
    pub now: Cell,
    pub before: Cell,
}

/// The KPIs a summary leads with, in order, and their labels.
pub const FIGURES: [(&str, &str); 7] = [
    ("sales", "Sales"),
    ("revenue", "Revenue"),
    ("commission", "Commission"),
    ("clicks", "Clicks"),
    ("leads", "Leads"),
    ("cr_click_to_sale", "CR click → sale"),
    ("epc", "EPC"),
];

#[derive(Debug, Clone, PartialEq)]
pub struct PartnerLine {
    pub name: String,
    pub sales: Cell,
    pub revenue: Cell,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlagLine {
    pub partner: String,
    pub kind: String,
    pub since: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoalLine {
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    pub name: String,
    pub content_type: String,
    pub bytes: usize,
    /// A download link that needs no login, valid until `expires_at`.
    pub url: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    pub schedule_id: String,
    pub schedule_name: String,
    pub run_id: String,
    pub period_key: String,
    /// `kpis` or `partners`.
    pub report: String,
    /// The program the report is filtered to, or "All programs".
    pub scope: String,
    pub timezone: String,
    pub currency: Option<String>,
    /// Local days `[from, to)`.
    pub period: (NaiveDate, NaiveDate),
    pub previous: (NaiveDate, NaiveDate),
    pub figures: Vec<Figure>,
    pub top_partners: Vec<PartnerLine>,
    pub open_flags: usize,
    pub flags: Vec<FlagLine>,
    pub goals: Vec<GoalLine>,
    pub file: Option<FileInfo>,
}

fn numeric(cell: &Cell) -> Option<Decimal> {
    match cell {
        Cell::Count(n) => Some(Decimal::from(*n)),
        Cell::Money(v) | Cell::Ratio(v) | Cell::Number(v) => Some(*v),
        _ => None,
    }
}

/// `1234567` → `1,234,567`.
fn group_thousands(digits: &str) -> String {
    let (sign, digits) = digits
        .strip_prefix('-')
        .map_or(("", digits), |rest| ("-", rest));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// A cell as people read it: grouped thousands, money with its currency, ratios as
/// percentages, `—` for no value.
pub fn display(cell: &Cell, currency: Option<&str>) -> String {
    match cell {
        Cell::Null => "—".to_owned(),
        Cell::Count(n) => group_thousands(&n.to_string()),
        Cell::Money(v) => {
            let text = format_money(*v);
            let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
            let amount = format!("{}.{cents}", group_thousands(whole));
            match currency {
                Some(code) => format!("{amount} {code}"),
                None => amount,
            }
        }
        Cell::Ratio(v) => format!("{} %", (v * Decimal::from(100)).round_dp(2).normalize()),
        Cell::Number(v) => v.round_dp(2).normalize().to_string(),
        other => other.to_text().unwrap_or_default(),
    }
}

/// The relative change from `before` to `now` (a fraction), where both are numbers and
/// `before` is not zero.
pub fn change(now: &Cell, before: &Cell) -> Option<Decimal> {
    let (now, before) = (numeric(now)?, numeric(before)?);
    (!before.is_zero()).then(|| (now - before) / before)
}

/// `▲ 20.0 %`, `▼ 5.3 %`, `= 0 %`; ratios change in percentage points; `new` when there
/// was nothing before; empty when there is nothing to compare.
pub fn change_text(now: &Cell, before: &Cell) -> String {
    let arrow = |d: Decimal| {
        if d.is_sign_positive() && !d.is_zero() {
            "▲"
        } else if d.is_zero() {
            "="
        } else {
            "▼"
        }
    };
    if let (Cell::Ratio(n), Cell::Ratio(b)) = (now, before) {
        let points = ((n - b) * Decimal::from(100)).round_dp(2);
        return format!("{} {} pp", arrow(points), points.abs().normalize());
    }
    match (numeric(now), numeric(before)) {
        (Some(n), Some(b)) if b.is_zero() && !n.is_zero() => "new".to_owned(),
        (Some(_), Some(_)) => change(now, before).map_or_else(String::new, |c| {
            let pct = (c * Decimal::from(100)).round_dp(1);
            format!("{} {:.1} %", arrow(pct), pct.abs())
        }),
        _ => String::new(),
    }
}

/// `Wed 2 Dec 2026` for one day, `23 Nov – 29 Nov 2026` for a range (`to` exclusive).
pub fn period_label((from, to): (NaiveDate, NaiveDate)) -> String {
    let last = to - Days::new(1);
    if last <= from {
        return from.format("%a %-d %b %Y").to_string();
    }
    if from.format("%Y").to_string() == last.format("%Y").to_string() {
        format!("{} – {}", from.format("%-d %b"), last.format("%-d %b %Y"))
    } else {
        format!(
            "{} – {}",
            from.format("%-d %b %Y"),
            last.format("%-d %b %Y")
        )
    }
}

fn kb(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.0} KB", (bytes as f64 / 1024.0).ceil())
    }
}

fn period_json((from, to): (NaiveDate, NaiveDate)) -> Value {
    json!({"from": from.to_string(), "to": to.to_string()})
}

/// The report's summary as a message.
pub fn message(s: &ReportSummary) -> Message {
    let currency = s.currency.as_deref();
    let facts = s
        .figures
        .iter()
        .map(|f| {
            let delta = change_text(&f.now, &f.before);
            let value = display(&f.now, currency);
            let text = if delta.is_empty() {
                value
            } else {
                format!("{value} ({delta})")
            };
            (f.label.to_owned(), text)
        })
        .collect();
    let mut sections = Vec::new();
    if !s.top_partners.is_empty() {
        sections.push(Section {
            heading: "Top partners by revenue".to_owned(),
            lines: s
                .top_partners
                .iter()
                .map(|p| {
                    let unit = if p.sales == Cell::Count(1) {
                        "sale"
                    } else {
                        "sales"
                    };
                    format!(
                        "{} — {}, {} {unit}",
                        p.name,
                        display(&p.revenue, currency),
                        display(&p.sales, None)
                    )
                })
                .collect(),
        });
    }
    let mut flag_lines: Vec<String> = s
        .flags
        .iter()
        .map(|f| {
            format!(
                "{}: {} (since {})",
                f.partner,
                f.kind.replace('_', " "),
                f.since
            )
        })
        .collect();
    if s.open_flags > s.flags.len() {
        flag_lines.push(format!("and {} more", s.open_flags - s.flags.len()));
    }
    if flag_lines.is_empty() {
        flag_lines.push("None open".to_owned());
    }
    sections.push(Section {
        heading: format!("Open flags ({})", s.open_flags),
        lines: flag_lines,
    });
    if !s.goals.is_empty() {
        sections.push(Section {
            heading: "Goals".to_owned(),
            lines: s
                .goals
                .iter()
                .map(|g| format!("{}: {}", g.name, g.status.replace('_', " ")))
                .collect(),
        });
    }
    let links = s
        .file
        .iter()
        .map(|f| Link {
            label: format!("Download {} ({})", f.name, kb(f.bytes)),
            url: f.url.clone(),
        })
        .collect();
    let data = json!({
        "schedule": {"id": s.schedule_id, "name": s.schedule_name},
        "run": {"id": s.run_id, "period_key": s.period_key},
        "report": s.report,
        "scope": s.scope,
        "timezone": s.timezone,
        "currency": s.currency,
        "period": period_json(s.period),
        "previous_period": period_json(s.previous),
        "kpis": s.figures.iter().map(|f| json!({
            "metric": f.metric,
            "value": f.now.to_json(),
            "previous": f.before.to_json(),
            "change": change(&f.now, &f.before).map_or(Value::Null, |c| Cell::Ratio(c.round_dp(6)).to_json()),
        })).collect::<Vec<_>>(),
        "top_partners": s.top_partners.iter().map(|p| json!({
            "partner_name": p.name, "sales": p.sales.to_json(), "revenue": p.revenue.to_json(),
        })).collect::<Vec<_>>(),
        "open_flags": {
            "count": s.open_flags,
            "items": s.flags.iter().map(|f| json!({
                "partner_name": f.partner, "kind": f.kind, "since": f.since.to_string(),
            })).collect::<Vec<_>>(),
        },
        "goals": s.goals.iter().map(|g| json!({"name": g.name, "status": g.status})).collect::<Vec<_>>(),
        "file": s.file.as_ref().map(|f| json!({
            "name": f.name, "content_type": f.content_type, "bytes": f.bytes,
            "url": f.url, "expires_at": f.expires_at,
        })),
    });
    Message {
        event: "report.delivered".to_owned(),
        title: format!("{} — {}", s.schedule_name, period_label(s.period)),
        context: format!(
            "{} · {} · against {}",
            s.scope,
            s.timezone,
            period_label(s.previous)
        ),
        facts,
        sections,
        links,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn money(cents: i64) -> Cell {
        Cell::Money(Decimal::new(cents, 2))
    }

    #[test]
    fn displays_cells_as_people_read_them() {
        assert_eq!(display(&Cell::Count(1_234_567), None), "1,234,567");
        assert_eq!(
            display(&money(123_456_789), Some("EUR")),
            "1,234,567.89 EUR"
        );
        assert_eq!(display(&money(-150_000), None), "-1,500.00");
        assert_eq!(display(&money(5), None), "0.05");
        assert_eq!(
            display(&Cell::Ratio(Decimal::new(123_456, 6)), None),
            "12.35 %"
        );
        assert_eq!(display(&Cell::Null, None), "—");
    }

    #[test]
    fn changes_are_relative_and_ratios_move_in_points() {
        assert_eq!(change_text(&Cell::Count(12), &Cell::Count(10)), "▲ 20.0 %");
        assert_eq!(change_text(&money(5_000), &money(10_000)), "▼ 50.0 %");
        assert_eq!(change_text(&Cell::Count(3), &Cell::Count(3)), "= 0.0 %");
        assert_eq!(change_text(&Cell::Count(3), &Cell::Count(0)), "new");
        assert_eq!(change_text(&Cell::Count(0), &Cell::Count(0)), "");
        assert_eq!(change_text(&Cell::Null, &Cell::Count(4)), "");
        assert_eq!(
            change_text(
                &Cell::Ratio(Decimal::new(25, 3)),
                &Cell::Ratio(Decimal::new(2, 2))
            ),
            "▲ 0.5 pp"
        );
        assert_eq!(
            change(&Cell::Count(12), &Cell::Count(10)),
            Some(Decimal::new(2, 1))
        );
        assert_eq!(change(&Cell::Count(1), &Cell::Count(0)), None);
    }

    #[test]
    fn periods_read_as_a_day_or_a_range() {
        assert_eq!(
            period_label((day("2026-12-02"), day("2026-12-03"))),
            "Wed 2 Dec 2026"
        );
        assert_eq!(
            period_label((day("2026-11-23"), day("2026-11-30"))),
            "23 Nov – 29 Nov 2026"
        );
        assert_eq!(
            period_label((day("2026-12-28"), day("2027-01-04"))),
            "28 Dec 2026 – 3 Jan 2027"
        );
    }

    #[test]
    fn the_message_carries_figures_partners_flags_goals_and_the_file() {
        let s = ReportSummary {
            schedule_id: "rsc_1".into(),
            schedule_name: "Daily sales".into(),
            run_id: "rrn_1".into(),
            period_key: "2026-12-03".into(),
            report: "kpis".into(),
            scope: "Shop".into(),
            timezone: "Europe/Berlin".into(),
            currency: Some("EUR".into()),
            period: (day("2026-12-02"), day("2026-12-03")),
            previous: (day("2026-12-01"), day("2026-12-02")),
            figures: vec![Figure {
                metric: "sales",
                label: "Sales",
                now: Cell::Count(12),
                before: Cell::Count(10),
            }],
            top_partners: vec![PartnerLine {
                name: "Ann".into(),
                sales: Cell::Count(8),
                revenue: money(90_000),
            }],
            open_flags: 3,
            flags: vec![FlagLine {
                partner: "Bob".into(),
                kind: "click_flood".into(),
                since: day("2026-12-01"),
            }],
            goals: vec![GoalLine {
                name: "Q4 sales".into(),
                status: "at_risk".into(),
            }],
            file: Some(FileInfo {
                name: "daily.csv".into(),
                content_type: "text/csv".into(),
                bytes: 2048,
                url: "https://pl.example/api/v1/report-files/rrn_1?x".into(),
                expires_at: "2026-12-10T07:00:00Z".into(),
            }),
        };
        let m = message(&s);
        assert_eq!(m.title, "Daily sales — Wed 2 Dec 2026");
        assert_eq!(m.context, "Shop · Europe/Berlin · against Tue 1 Dec 2026");
        assert_eq!(
            m.facts,
            vec![("Sales".to_owned(), "12 (▲ 20.0 %)".to_owned())]
        );
        assert_eq!(m.sections[0].lines, vec!["Ann — 900.00 EUR, 8 sales"]);
        assert_eq!(m.sections[1].heading, "Open flags (3)");
        assert_eq!(
            m.sections[1].lines,
            vec!["Bob: click flood (since 2026-12-01)", "and 2 more"]
        );
        assert_eq!(m.sections[2].lines, vec!["Q4 sales: at risk"]);
        assert_eq!(m.links[0].label, "Download daily.csv (2 KB)");
        assert_eq!(m.data["kpis"][0]["change"], 0.2);
        assert_eq!(m.data["top_partners"][0]["revenue"], "900.00");
        assert_eq!(m.data["file"]["bytes"], 2048);
    }
}
