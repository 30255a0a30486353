//! Binding values to D1 statements. Integers travel as JS numbers (exact to 2^53):
//! D1 refuses JS BigInt, which is what `i64` would become.

use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::Result;

/// A value bound to a `?` placeholder.
pub enum Arg<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    /// A statistic (never money).
    Real(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Arg::Text(value)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Arg::Text(value)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(Arg::Null, Arg::Text)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(value: &'a Option<String>) -> Self {
        value.as_deref().map_or(Arg::Null, Arg::Text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Arg::Null, Arg::Int)
    }
}

impl From<u32> for Arg<'_> {
    fn from(value: u32) -> Self {
        Arg::Int(i64::from(value))
    }
}

impl From<f64> for Arg<'_> {
    fn from(value: f64) -> Self {
        Arg::Real(value)
    }
}

impl From<bool> for Arg<'_> {
    fn from(value: bool) -> Self {
        Arg::Int(i64::from(value))
    }
}

impl From<&Arg<'_>> for JsValue {
    fn from(arg: &Arg<'_>) -> Self {
        match arg {
            Arg::Null => JsValue::NULL,
            Arg::Text(text) => JsValue::from_str(text),
            // Exact for every value partnerlens stores (ms timestamps, counts).
            Arg::Int(n) => JsValue::from_f64(*n as f64),
            Arg::Real(x) => JsValue::from_f64(*x),
        }
    }
}

/// Prepares `sql` with `args` bound in order.
pub fn statement(db: &D1Database, sql: &str, args: &[Arg<'_>]) -> Result<D1PreparedStatement> {
    let values: Vec<JsValue> = args.iter().map(JsValue::from).collect();
    db.prepare(sql).bind(&values).map_err(Into::into)
}

/// Whether a D1 error is a UNIQUE constraint violation on `column` (`table.column`).
pub fn is_unique_violation(error: &super::StorageError, column: &str) -> bool {
    let text = error.to_string();
    text.contains("UNIQUE constraint failed") && text.contains(column)
}

/// The `column = value` filters whose value is present.
pub fn equal_filters<'a>(pairs: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, Arg<'a>)> {
    pairs
        .iter()
        .filter_map(|&(column, value)| value.map(|v| (column, Arg::Text(v))))
        .collect()
}

/// A keyset page over `table`: rows after `after` in `(order_by, id)` order, matching
/// every `column = value` filter, with one extra row fetched to tell whether more follow.
/// Table and column names come from this crate's constants, never from a request.
pub async fn page<T: serde::de::DeserializeOwned>(
    db: &D1Database,
    table: &str,
    order_by: &str,
    filters: &[(&str, Arg<'_>)],
    after: Option<&crate::domain::cursor::Cursor>,
    limit: u32,
) -> Result<super::Page<T>> {
    let mut conditions: Vec<String> = filters
        .iter()
        .map(|(column, _)| format!("{column} = ?"))
        .collect();
    let mut args: Vec<JsValue> = filters
        .iter()
        .map(|(_, value)| JsValue::from(value))
        .collect();
    if let Some(cursor) = after {
        conditions.push(format!("({order_by} > ? OR ({order_by} = ? AND id > ?))"));
        let at = JsValue::from_f64(cursor.at as f64);
        args.extend([at.clone(), at, JsValue::from_str(&cursor.id)]);
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    args.push(JsValue::from_f64(f64::from(limit + 1)));
    let sql = format!("SELECT * FROM {table} {where_clause} ORDER BY {order_by}, id LIMIT ?");
    let rows = db.prepare(sql).bind(&args)?.all().await?.results::<T>()?;
    Ok(super::Page::from_overfetch(rows, limit))
}

/// The first row of `sql` with `args`, if any.
pub async fn first<T: serde::de::DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Option<T>> {
    statement(db, sql, args)?
        .first::<T>(None)
        .await
        .map_err(Into::into)
}

/// Runs `sql` with `args`, answering how many rows it changed.
pub async fn execute(db: &D1Database, sql: &str, args: &[Arg<'_>]) -> Result<usize> {
    let result = statement(db, sql, args)?.run().await?;
    Ok(result.meta()?.and_then(|meta| meta.changes).unwrap_or(0))
}

/// A statement that always fails (a table that does not exist): the test-only faults
/// put it in a batch to make D1 refuse the whole transaction, as a failing database would.
pub fn injected_failure(db: &D1Database) -> Result<D1PreparedStatement> {
    statement(db, "INSERT INTO fault_injection_failure VALUES (1)", &[])
}
