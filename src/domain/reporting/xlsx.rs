//! A report as an Excel workbook: one sheet, the header bold and frozen with auto filters on
//! it, and typed cells — dates as dates, months as dates shown `yyyy-mm`, counts as whole
//! numbers, money as numbers in the currency's format, ratios as percentages, empty cells
//! where the JSON has `null`. Written by `rust_xlsxwriter`.
//!
//! Excel keeps every number as a binary double. Money is rounded to cents here, as the JSON
//! shows it, and the double written is the one nearest that decimal, which Excel shows (and
//! a reader reads back) as exactly that amount; no arithmetic happens on it here.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

use super::page::Table;
use super::Cell;
use crate::domain::money::round_cents;

/// The MIME type of an `.xlsx` file.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Number formats, by cell type.
const DATE: &str = "yyyy-mm-dd";
const MONTH: &str = "yyyy-mm";
const COUNT: &str = "#,##0";
const RATIO: &str = "0.00%";
const NUMBER: &str = "0.00";

/// The money format: two decimals, with the ISO code when the report is in one currency.
pub fn money_format(currency: Option<&str>) -> String {
    match currency {
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
            format!("#,##0.00 \"{code}\"")
        }
        _ => "#,##0.00".to_owned(),
    }
}

fn number(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// `table` as an `.xlsx` file with one sheet named `sheet` (money in `currency` when the
/// report has one).
pub fn workbook(table: &Table, sheet: &str, currency: Option<&str>) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    let header = Format::new().set_bold().set_align(FormatAlign::Center);
    let date = Format::new().set_num_format(DATE);
    let month = Format::new().set_num_format(MONTH);
    let count = Format::new().set_num_format(COUNT);
    let money = Format::new().set_num_format(money_format(currency));
    let ratio = Format::new().set_num_format(RATIO);
    let plain = Format::new().set_num_format(NUMBER);

    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.len() + 2).collect();
    for (col, name) in table.columns.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *name, &header)?;
    }
    for (i, row) in table.rows.iter().enumerate() {
        let r = (i + 1) as u32;
        for (col, cell) in row.iter().enumerate() {
            let c = col as u16;
            let shown = match cell {
                Cell::Null => 0,
                Cell::Text(text) => {
                    ws.write_string(r, c, text)?;
                    text.chars().count()
                }
                Cell::Date(day) | Cell::Month(day) => {
                    let at = ExcelDateTime::from_ymd(
                        chrono::Datelike::year(day) as u16,
                        chrono::Datelike::month(day) as u8,
                        chrono::Datelike::day(day) as u8,
                    )?;
                    let format = if matches!(cell, Cell::Month(_)) {
                        &month
                    } else {
                        &date
                    };
                    ws.write_datetime_with_format(r, c, &at, format)?;
                    10
                }
                Cell::Count(n) => {
                    ws.write_number_with_format(r, c, *n as f64, &count)?;
                    n.to_string().len() + 2
                }
                Cell::Money(amount) => {
                    let cents = round_cents(*amount);
                    ws.write_number_with_format(r, c, number(cents), &money)?;
                    cents.to_string().len() + 6
                }
                Cell::Ratio(value) => {
                    ws.write_number_with_format(r, c, number(*value), &ratio)?;
                    9
                }
                Cell::Number(value) => {
                    ws.write_number_with_format(r, c, number(*value), &plain)?;
                    value.round_dp(2).to_string().len() + 2
                }
            };
            if let Some(width) = widths.get_mut(col) {
                *width = (*width).max(shown.min(60));
            }
        }
    }
    for (col, width) in widths.iter().enumerate() {
        ws.set_column_width(col as u16, *width as f64)?;
    }
    ws.set_freeze_panes(1, 0)?;
    if !table.columns.is_empty() {
        let last_row = table.rows.len() as u32;
        ws.autofilter(0, 0, last_row, (table.columns.len() - 1) as u16)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn money_formats_carry_the_currency_code_only_when_it_is_one() {
        assert_eq!(money_format(Some("EUR")), "#,##0.00 \"EUR\"");
        assert_eq!(money_format(Some("eur\"")), "#,##0.00");
        assert_eq!(money_format(None), "#,##0.00");
    }

    #[test]
    fn a_report_becomes_a_zip_package_with_a_sheet() {
        let table = Table {
            columns: vec![
                "day",
                "clicks",
                "revenue",
                "cr_click_to_sale",
                "partner_name",
            ],
            rows: vec![vec![
                Cell::Date(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()),
                Cell::Count(12),
                Cell::Money(Decimal::new(12_345, 2)),
                Cell::Ratio(Decimal::new(25, 2)),
                Cell::Null,
            ]],
        };
        let bytes = workbook(&table, "KPIs", Some("EUR")).unwrap();
        // An OOXML package is a zip archive: it starts with a local file header.
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        assert!(bytes.len() > 1000);
        // An empty report is still a workbook with its header.
        let empty = Table {
            columns: vec!["day"],
            rows: vec![],
        };
        assert_eq!(&workbook(&empty, "KPIs", None).unwrap()[..2], b"PK");
    }
}
