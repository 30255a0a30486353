//! `$orderby`: `property [asc|desc] (, property [asc|desc])*`, and the row comparator that
//! applies it (nulls lowest, as OData sorts them).

use std::cmp::Ordering;

use super::lexer::{tokens, Spanned, Token};
use super::{bad, edm_type, Refusal, Schema, Value};

const FIELD: &str = "$orderby";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub property: String,
    pub descending: bool,
}

/// Parses `$orderby` against the entity set's properties.
pub fn parse_orderby(raw: &str, schema: &Schema) -> Result<Vec<OrderBy>, Refusal> {
    let tokens = tokens(raw, FIELD)?;
    let mut items = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        let end = rest
            .iter()
            .position(|t| t.token == Token::Comma)
            .unwrap_or(rest.len());
        let (item, after) = rest.split_at(end);
        items.push(order_item(item, after.first(), schema)?);
        match after.split_first() {
            Some((_, more)) => rest = more,
            None => return Ok(items),
        }
    }
}

/// One `property [asc|desc]`; `comma` is the `,` after it, if any, for messages.
fn order_item(
    item: &[Spanned],
    comma: Option<&Spanned>,
    schema: &Schema,
) -> Result<OrderBy, Refusal> {
    let Some((first, rest)) = item.split_first() else {
        let at = comma.map_or("at the end".to_owned(), |c| {
            format!("before position {}", c.at)
        });
        return Err(bad(FIELD, format!("an empty $orderby item {at}")));
    };
    let property = ordered_property(first, rest.first(), schema)?;
    let descending = match rest {
        [] => false,
        [direction] => direction_of(direction)?,
        [_, extra, ..] => {
            return Err(bad(
                FIELD,
                format!("unexpected '{}' at position {}", extra.text, extra.at),
            ))
        }
    };
    Ok(OrderBy {
        property,
        descending,
    })
}

/// The property an item orders by; expressions and paths are valid OData not served.
fn ordered_property(
    first: &Spanned,
    next: Option<&Spanned>,
    schema: &Schema,
) -> Result<String, Refusal> {
    let Token::Word(name) = &first.token else {
        return Err(bad(
            FIELD,
            format!(
                "expected a property at position {}, found '{}'",
                first.at, first.text
            ),
        ));
    };
    if matches!(next.map(|t| &t.token), Some(Token::Open | Token::Slash)) {
        return Err(Refusal::NotImplemented(format!(
            "ordering by an expression or a path ('{name}' at position {})",
            first.at
        )));
    }
    match edm_type(schema, name) {
        Some(_) => Ok(name.clone()),
        None => Err(bad(
            FIELD,
            format!("unknown property '{name}' at position {}", first.at),
        )),
    }
}

fn direction_of(token: &Spanned) -> Result<bool, Refusal> {
    match &token.token {
        Token::Word(word) if word.eq_ignore_ascii_case("asc") => Ok(false),
        Token::Word(word) if word.eq_ignore_ascii_case("desc") => Ok(true),
        _ => Err(bad(
            FIELD,
            format!(
                "expected asc or desc at position {}, found '{}'",
                token.at, token.text
            ),
        )),
    }
}

/// How rows `a` and `b` (property values by name) compare under `order`: the first
/// property that differs decides; nulls sort lowest, so first ascending.
pub fn compare(
    order: &[OrderBy],
    a: &impl Fn(&str) -> Value,
    b: &impl Fn(&str) -> Value,
) -> Ordering {
    order
        .iter()
        .map(|item| {
            let ordering = a(&item.property).order(&b(&item.property));
            if item.descending {
                ordering.reverse()
            } else {
                ordering
            }
        })
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}
