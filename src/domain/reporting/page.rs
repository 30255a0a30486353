//! How a report travels: its table (columns and typed rows), the format asked for, and
//! the page of rows a request gets.

use serde_json::{Map, Value};

use super::Cell;
use crate::domain::Invalid;

pub const DEFAULT_LIMIT: usize = 1000;
pub const MAX_LIMIT: usize = 10_000;

/// A report's rows, each with one cell per column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The cell of `column` in `row`.
    pub fn cell<'a>(&self, row: &'a [Cell], column: &str) -> Option<&'a Cell> {
        let at = self.columns.iter().position(|c| *c == column)?;
        row.get(at)
    }

    /// Rows as JSON objects, keys in column order.
    pub fn json_rows(&self, rows: &[Vec<Cell>]) -> Vec<Map<String, Value>> {
        rows.iter()
            .map(|row| {
                self.columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| ((*column).to_owned(), cell.to_json()))
                    .collect()
            })
            .collect()
    }

    /// A header line and `rows` as CSV (RFC 4180 quoting), each line ending in `\n`.
    pub fn csv(&self, rows: &[Vec<Cell>]) -> String {
        let mut csv = self.columns.join(",");
        csv.push('\n');
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| csv_field(cell.to_text().unwrap_or_default()))
                .collect();
            csv.push_str(&cells.join(","));
            csv.push('\n');
        }
        csv
    }
}

fn csv_field(text: String) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The format a report is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    /// An Excel workbook (`reporting::xlsx`).
    Xlsx,
}

impl Format {
    /// The file name extension and content type of a file in this format.
    pub fn file_type(self) -> (&'static str, &'static str) {
        match self {
            Format::Json => ("json", "application/json"),
            Format::Csv => ("csv", "text/csv; charset=utf-8"),
            Format::Xlsx => ("xlsx", super::xlsx::CONTENT_TYPE),
        }
    }

    /// A page of `table` in this format. JSON is the API's body (`data`, `next`, `meta`);
    /// CSV and Excel carry the rows only (their next page travels in a `Link` header).
    /// `currency` formats money in a workbook; `sheet` names its sheet.
    pub fn render(
        self,
        table: &Table,
        sheet: &str,
        currency: Option<&str>,
        next: Option<&str>,
        meta: Value,
    ) -> Result<Vec<u8>, String> {
        match self {
            Format::Xlsx => {
                super::xlsx::workbook(table, sheet, currency).map_err(|e| e.to_string())
            }
            Format::Csv => Ok(table.csv(&table.rows).into_bytes()),
            Format::Json => Ok(serde_json::json!({
                "data": table.json_rows(&table.rows),
                "next": next,
                "meta": meta,
            })
            .to_string()
            .into_bytes()),
        }
    }

    pub fn parse(raw: Option<&str>) -> Result<Self, Invalid> {
        match raw {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(other) => Err(Invalid::new(
                "format",
                "invalid_parameter",
                format!("format is json, csv or xlsx, not '{other}'"),
            )),
        }
    }
}

/// Which rows of a report a request gets: `limit` rows from `offset` (the cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: usize,
    pub offset: usize,
}

impl Paging {
    pub fn parse(param: impl Fn(&str) -> Option<String>) -> Result<Self, Invalid> {
        let bad = |field: &'static str, message: String| {
            Invalid::new(field, "invalid_parameter", message)
        };
        let limit = match param("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        format!("limit is a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let offset = match param("cursor") {
            None => 0,
            Some(raw) => Self::offset(&raw)
                .ok_or_else(|| bad("cursor", "cursor is not one this API returned".to_owned()))?,
        };
        Ok(Self { limit, offset })
    }

    fn offset(cursor: &str) -> Option<usize> {
        cursor.strip_prefix('o')?.parse().ok()
    }

    /// The rows of this page.
    pub fn of<'a, T>(&self, rows: &'a [T]) -> &'a [T] {
        let start = self.offset.min(rows.len());
        let end = start.saturating_add(self.limit).min(rows.len());
        &rows[start..end]
    }

    /// The cursor of the page after this one, if rows remain after it.
    pub fn next_cursor(&self, total: usize) -> Option<String> {
        let next = self.offset.saturating_add(self.limit);
        (next < total).then(|| format!("o{next}"))
    }

    /// Whether this is a page after the first (served from the report's snapshot).
    pub fn is_later(&self) -> bool {
        self.offset > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(q: &[(&str, &str)]) -> Result<Paging, Invalid> {
        Paging::parse(|name| {
            q.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn bad_paging_and_formats_are_named() {
        for (q, field) in [
            (&[("limit", "0")][..], "limit"),
            (&[("limit", "10001")], "limit"),
            (&[("cursor", "zz")], "cursor"),
        ] {
            assert_eq!(paging(q).unwrap_err().field, field);
        }
        assert_eq!(Format::parse(Some("xml")).unwrap_err().field, "format");
        assert_eq!(Format::parse(None).unwrap(), Format::Json);
        assert_eq!(Format::parse(Some("csv")).unwrap(), Format::Csv);
        assert_eq!(Format::parse(Some("xlsx")).unwrap(), Format::Xlsx);
    }

    #[test]
    fn pages_follow_each_other_to_the_end() {
        let rows: Vec<usize> = (0..5).collect();
        let mut page = paging(&[("limit", "2")]).unwrap();
        let mut seen = Vec::new();
        loop {
            seen.extend_from_slice(page.of(&rows));
            match page.next_cursor(rows.len()) {
                Some(cursor) => page = paging(&[("limit", "2"), ("cursor", &cursor)]).unwrap(),
                None => break,
            }
        }
        assert_eq!(seen, rows);
        assert_eq!(
            paging(&[("cursor", "o99")]).unwrap().of(&rows),
            &[] as &[usize]
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_leaves_nulls_empty() {
        let table = Table {
            columns: vec!["partner_name", "revenue", "epc"],
            rows: vec![vec![
                Cell::Text("Ann \"A\", Ltd".into()),
                Cell::Money(rust_decimal::Decimal::new(5, 0)),
                Cell::Null,
            ]],
        };
        assert_eq!(
            table.csv(&table.rows),
            "partner_name,revenue,epc\n\"Ann \"\"A\"\", Ltd\",5.00,\n"
        );
        let json = table.json_rows(&table.rows);
        assert_eq!(json[0]["revenue"], "5.00");
        assert_eq!(json[0]["epc"], Value::Null);
    }
}
