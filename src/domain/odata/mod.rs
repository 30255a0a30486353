//! The OData v4 feed's query options, parsed and checked against the entity set's
//! properties: `$filter` (a recursive-descent parser for the part of OData's grammar that
//! Power BI's query folding and the @odata/client library send: parentheses,
//! `and`/`or`/`not`, comparisons, `in`, `year`/`month`/`day`, `startswith`/`endswith`/
//! `contains`), `$orderby`, `$select`, `$top`, `$skip`, `$count`.
//!
//! Malformed input is a 400 naming the offending token and its position; valid OData this
//! feed does not serve (other functions, arithmetic, lambdas, parameter aliases, other
//! options) is a 501, so a client can tell a typo from a missing feature.

mod bounds;
mod eval;
mod expr;
mod filter;
mod lexer;
mod orderby;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
mod typing;
mod value;

pub use bounds::{day_bounds, required_equalities};
pub use expr::{CmpOp, DatePart, Expr, Target, TextFunction};
pub use filter::parse_filter;
pub use orderby::{compare, parse_orderby, OrderBy};
pub use value::{entity_row, Value};

use super::Invalid;

/// Rows per page before `@odata.nextLink`.
pub const PAGE_SIZE: usize = 1000;

/// Why an option cannot be served: a malformed one (400) or one not implemented (501).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Bad(Invalid),
    NotImplemented(String),
}

/// The EDM types of the feed's properties: they decide how a literal is read and
/// which comparisons make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdmType {
    String,
    Date,
    DateTimeOffset,
    Int64,
    Decimal,
    Double,
    Boolean,
}

impl EdmType {
    /// The name `$metadata` declares.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "Edm.String",
            Self::Date => "Edm.Date",
            Self::DateTimeOffset => "Edm.DateTimeOffset",
            Self::Int64 => "Edm.Int64",
            Self::Decimal => "Edm.Decimal",
            Self::Double => "Edm.Double",
            Self::Boolean => "Edm.Boolean",
        }
    }
}

/// An entity set's properties and their types.
pub type Schema = [(&'static str, EdmType)];

fn edm_type(schema: &Schema, property: &str) -> Option<EdmType> {
    schema
        .iter()
        .find(|(name, _)| *name == property)
        .map(|(_, edm)| *edm)
}

fn bad(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal::Bad(Invalid::new(field, "invalid_parameter", message))
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    pub filter: Option<Expr>,
    pub orderby: Vec<OrderBy>,
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub count: bool,
}

fn number(name: &'static str, raw: &str) -> Result<usize, Refusal> {
    raw.parse::<usize>()
        .map_err(|_| bad(name, format!("{name} is a whole number")))
}

fn boolean(name: &'static str, raw: &str) -> Result<bool, Refusal> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, format!("{name} is true or false"))),
    }
}

/// Reads the query options of a request on the entity set `schema`; unknown `$` options
/// are not implemented. An empty `$filter=` or `$orderby=` is no option (some clients
/// send them).
pub fn parse_options(pairs: &[(String, String)], schema: &Schema) -> Result<Options, Refusal> {
    let mut options = Options::default();
    for (key, value) in pairs {
        match key.as_str() {
            "$filter" | "$orderby" if value.trim().is_empty() => {}
            "$filter" => options.filter = Some(parse_filter(value, schema)?),
            "$orderby" => options.orderby = parse_orderby(value, schema)?,
            "$select" => {
                options.select = Some(
                    value
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            }
            "$top" => options.top = Some(number("$top", value)?),
            "$skip" => options.skip = number("$skip", value)?,
            "$count" => options.count = boolean("$count", value)?,
            "$format" if value == "json" => {}
            other if other.starts_with('$') => {
                return Err(Refusal::NotImplemented(format!("the query option {other}")))
            }
            _ => {}
        }
    }
    Ok(options)
}
