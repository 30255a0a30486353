//! Turning parsed terms into typed `$filter` nodes: each literal is read as the type of
//! the property (or date part) it meets, and each function checks its arguments, so that a
//! type error is a 400 pointing at the literal and unserved shapes are a 501.

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::expr::{CmpOp, DatePart, Expr, Target, TextFunction};
use super::value::{exact_number, float_number};
use super::{bad, EdmType, Refusal, Value};

const FIELD: &str = "$filter";

/// A literal before it meets its property.
#[derive(Debug)]
pub(super) enum Literal {
    Null,
    Bool(bool),
    Text(String),
    Number(String),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

/// What a sub-expression turned out to be: a condition, something a condition compares
/// (a property or a date part, with its type and position), or a literal (with its
/// position and text).
#[derive(Debug)]
pub(super) enum Term {
    Condition(Expr),
    Target(Target, EdmType, usize),
    Literal(Literal, usize, String),
}

/// The term as a condition: a `Boolean` property alone means `property eq true`.
pub(super) fn condition(term: Term) -> Result<Expr, Refusal> {
    match term {
        Term::Condition(expr) => Ok(expr),
        Term::Target(Target::Property(name), EdmType::Boolean, _) => Ok(Expr::Compare {
            target: Target::Property(name),
            op: CmpOp::Eq,
            value: Value::Bool(true),
        }),
        Term::Target(target, _, at) => Err(bad(
            FIELD,
            format!(
                "{target} at position {at} is not a condition; compare it, as in {target} eq …"
            ),
        )),
        Term::Literal(Literal::Bool(_), at, text) => Err(Refusal::NotImplemented(format!(
            "the constant condition {text} at position {at}"
        ))),
        Term::Literal(_, at, text) => Err(bad(
            FIELD,
            format!("{text} at position {at} is not a condition"),
        )),
    }
}

/// The operand of the `not` at `at`, which binds tighter than a comparison.
pub(super) fn negatable(operand: Term, at: usize) -> Result<Expr, Refusal> {
    match operand {
        Term::Target(target, edm, _) if edm != EdmType::Boolean => Err(bad(
            FIELD,
            format!(
                "'not' at position {at} applies to {target}, which is not a condition; \
                 'not' binds tighter than comparisons, so write not ({target} … )"
            ),
        )),
        other => condition(other),
    }
}

/// `left op right`: a property (or date part) and a literal, either way round.
pub(super) fn compare(left: Term, op: CmpOp, right: Term, at: usize) -> Result<Expr, Refusal> {
    let (target, edm, op, literal) = match (left, right) {
        (Term::Target(target, edm, _), Term::Literal(literal, l_at, text)) => {
            (target, edm, op, (literal, l_at, text))
        }
        (Term::Literal(literal, l_at, text), Term::Target(target, edm, _)) => {
            (target, edm, op.swapped(), (literal, l_at, text))
        }
        (Term::Target(a, ..), Term::Target(b, ..)) => {
            return Err(Refusal::NotImplemented(format!(
                "comparing two properties ({a} {op} {b} at position {at})"
            )))
        }
        (Term::Literal(.., a), Term::Literal(.., b)) => {
            return Err(Refusal::NotImplemented(format!(
                "comparing two literals ({a} {op} {b} at position {at})"
            )))
        }
        (Term::Condition(_), _) | (_, Term::Condition(_)) => {
            return Err(Refusal::NotImplemented(format!(
                "comparing a condition ('{op}' at position {at})"
            )))
        }
    };
    let (literal, l_at, text) = literal;
    let value = typed(literal, edm, &target, l_at, &text)?;
    Ok(Expr::Compare { target, op, value })
}

/// `left in (items)`: a property (or date part) and literals of its type.
pub(super) fn within(left: Term, items: Vec<Term>, at: usize) -> Result<Expr, Refusal> {
    let Term::Target(target, edm, _) = left else {
        return Err(Refusal::NotImplemented(format!(
            "'in' at position {at} after anything but a property"
        )));
    };
    if items.is_empty() {
        return Err(bad(
            FIELD,
            format!("'in' at position {at} needs at least one value"),
        ));
    }
    let values = items
        .into_iter()
        .map(|item| match item {
            Term::Literal(literal, l_at, text) => typed(literal, edm, &target, l_at, &text),
            _ => Err(Refusal::NotImplemented(format!(
                "'in' at position {at} with anything but literals"
            ))),
        })
        .collect::<Result<_, _>>()?;
    Ok(Expr::In { target, values })
}

/// `year(p)`, `month(p)`, `day(p)` of an `Edm.Date` or `Edm.DateTimeOffset` property.
pub(super) fn date_part(
    part: DatePart,
    name: &str,
    args: Vec<Term>,
    at: usize,
) -> Result<Term, Refusal> {
    let [arg] = <[Term; 1]>::try_from(args).map_err(|args| {
        bad(
            FIELD,
            format!(
                "{name}() at position {at} takes one argument, not {}",
                args.len()
            ),
        )
    })?;
    match arg {
        Term::Target(Target::Property(p), EdmType::Date | EdmType::DateTimeOffset, _) => {
            Ok(Term::Target(Target::Part(part, p), EdmType::Int64, at))
        }
        Term::Target(target, edm, _) => Err(bad(
            FIELD,
            format!(
                "{name}() at position {at} takes an Edm.Date or Edm.DateTimeOffset property; {target} is {}",
                edm_label(&target, edm)
            ),
        )),
        _ => Err(Refusal::NotImplemented(format!(
            "{name}() of anything but a property (position {at})"
        ))),
    }
}

/// `startswith(p,'x')` and its siblings: an `Edm.String` property and a text literal.
pub(super) fn text_function(
    function: TextFunction,
    name: &str,
    args: Vec<Term>,
    at: usize,
) -> Result<Expr, Refusal> {
    let [subject, needle] = <[Term; 2]>::try_from(args).map_err(|args| {
        bad(
            FIELD,
            format!(
                "{name}() at position {at} takes two arguments, not {}",
                args.len()
            ),
        )
    })?;
    let property = match subject {
        Term::Target(Target::Property(p), EdmType::String, _) => p,
        Term::Target(target, edm, _) => {
            return Err(bad(
                FIELD,
                format!(
                    "{name}() at position {at} applies to strings; {target} is {}",
                    edm_label(&target, edm)
                ),
            ))
        }
        _ => {
            return Err(Refusal::NotImplemented(format!(
                "{name}() of anything but a property (position {at})"
            )))
        }
    };
    let needle = match needle {
        Term::Literal(Literal::Text(needle), ..) => needle,
        Term::Literal(_, l_at, text) => {
            return Err(bad(
                FIELD,
                format!("{name}() at position {at} looks for a 'text' literal, not {text} (position {l_at})"),
            ))
        }
        _ => {
            return Err(Refusal::NotImplemented(format!(
                "{name}() looking for anything but a 'text' literal (position {at})"
            )))
        }
    };
    Ok(Expr::Text {
        function,
        property,
        needle,
    })
}

/// The literal as a value of the target's type, or a 400 saying what was expected.
fn typed(
    literal: Literal,
    edm: EdmType,
    target: &Target,
    at: usize,
    text: &str,
) -> Result<Value, Refusal> {
    let value = match (literal, edm) {
        (Literal::Null, _) => Some(Value::Null),
        (Literal::Text(s), EdmType::String) => Some(Value::Text(s)),
        (Literal::Date(d), EdmType::Date) => Some(Value::Date(d)),
        (Literal::DateTime(t), EdmType::DateTimeOffset) => Some(Value::DateTime(t)),
        (Literal::Bool(b), EdmType::Boolean) => Some(Value::Bool(b)),
        (Literal::Number(n), EdmType::Int64 | EdmType::Decimal) => {
            let exact = exact_number(without_suffix(&n)).ok_or_else(|| {
                bad(
                    FIELD,
                    format!("{text} at position {at} is out of range for {target}"),
                )
            })?;
            Some(Value::Decimal(exact))
        }
        (Literal::Number(n), EdmType::Double) => {
            float_number(without_suffix(&n)).map(Value::Double)
        }
        _ => None,
    };
    value.ok_or_else(|| {
        bad(
            FIELD,
            format!(
                "{target} is {} and cannot be compared with {text} (position {at}); write {}",
                edm_label(target, edm),
                example(edm)
            ),
        )
    })
}

/// Power BI writes decimals as `10.50M`.
fn without_suffix(number: &str) -> &str {
    number.strip_suffix(['m', 'M']).unwrap_or(number)
}

fn edm_label(target: &Target, edm: EdmType) -> &'static str {
    match target {
        Target::Part(..) => "a number",
        Target::Property(_) => edm.name(),
    }
}

fn example(edm: EdmType) -> &'static str {
    match edm {
        EdmType::String => "a 'text' literal",
        EdmType::Date => "a date like 2026-10-01",
        EdmType::DateTimeOffset => "a date-time like 2026-10-01T00:00:00Z",
        EdmType::Int64 | EdmType::Decimal | EdmType::Double => "a number like 12.50",
        EdmType::Boolean => "true or false",
    }
}
