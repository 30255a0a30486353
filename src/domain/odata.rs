//! The OData v4 feed's query options, parsed: the small part of OData that Power BI's
//! connector uses (`$filter` with `eq`/`ge`/`gt`/`le`/`lt` joined by `and`, `$select`,
//! `$top`, `$skip`, `$count`). Anything else is refused as not implemented.

use chrono::NaiveDate;

use super::Invalid;

/// Rows per page before `@odata.nextLink`.
pub const PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Date(NaiveDate),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub property: String,
    pub op: Op,
    pub value: Literal,
}

/// Why an option cannot be served: a malformed one (400) or one not implemented (501).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Bad(Invalid),
    NotImplemented(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    pub filter: Vec<Clause>,
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub count: bool,
}

fn literal(raw: &str) -> Result<Literal, Refusal> {
    if let Some(text) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Ok(Literal::Text(text.replace("''", "'")));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Literal::Date)
        .map_err(|_| {
            Refusal::NotImplemented(format!(
                "literal '{raw}': only 'text' and dates YYYY-MM-DD are supported"
            ))
        })
}

/// Parses `$filter`: `prop op literal (and prop op literal)*`.
pub fn parse_filter(raw: &str) -> Result<Vec<Clause>, Refusal> {
    let tokens = tokenize(raw)?;
    let mut clauses = Vec::new();
    let mut chunks = tokens.split(|t| t.eq_ignore_ascii_case("and"));
    for chunk in &mut chunks {
        let [property, op, value] = chunk else {
            let message = format!(
                "$filter supports 'property op value' clauses joined by 'and', not '{raw}'"
            );
            // `or` and `not` are OData this feed does not implement; anything else is malformed.
            let logical = chunk
                .iter()
                .any(|t| t.eq_ignore_ascii_case("or") || t.eq_ignore_ascii_case("not"));
            return Err(if logical {
                Refusal::NotImplemented(message)
            } else {
                Refusal::Bad(Invalid::new("$filter", "invalid_parameter", message))
            });
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ge" => Op::Ge,
            "gt" => Op::Gt,
            "le" => Op::Le,
            "lt" => Op::Lt,
            other => {
                return Err(Refusal::NotImplemented(format!(
                    "$filter operator '{other}'"
                )))
            }
        };
        clauses.push(Clause {
            property: property.clone(),
            op,
            value: literal(value)?,
        });
    }
    Ok(clauses)
}

/// Splits on spaces outside quoted strings.
fn tokenize(raw: &str) -> Result<Vec<String>, Refusal> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in raw.trim().chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                current.push(c);
            }
            ' ' if !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            '(' | ')' if !quoted => {
                return Err(Refusal::NotImplemented(
                    "$filter functions and parentheses".to_owned(),
                ))
            }
            _ => current.push(c),
        }
    }
    if quoted {
        return Err(Refusal::Bad(Invalid::new(
            "$filter",
            "invalid_parameter",
            "an unterminated string in $filter",
        )));
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

/// Reads the query options; unknown `$` options are not implemented.
pub fn parse_options(pairs: &[(String, String)]) -> Result<Options, Refusal> {
    let mut options = Options::default();
    let number = |name: &'static str, raw: &str| {
        raw.parse::<usize>().map_err(|_| {
            Refusal::Bad(Invalid::new(
                name,
                "invalid_parameter",
                format!("{name} is a whole number"),
            ))
        })
    };
    for (key, value) in pairs {
        match key.as_str() {
            // An empty option is no option (some clients send `$filter=`).
            "$filter" if value.trim().is_empty() => {}
            "$filter" => options.filter = parse_filter(value)?,
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
            "$count" => {
                options.count = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(Refusal::Bad(Invalid::new(
                            "$count",
                            "invalid_parameter",
                            "$count is true or false",
                        )))
                    }
                }
            }
            "$format" if value == "json" => {}
            other if other.starts_with('$') => {
                return Err(Refusal::NotImplemented(format!("the query option {other}")))
            }
            _ => {}
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn power_bi_style_filters_parse() {
        let clauses =
            parse_filter("day ge 2026-11-01 and day lt 2026-12-01 and program_id eq 'prg_1'")
                .unwrap();
        assert_eq!(clauses.len(), 3);
        assert_eq!(
            clauses[0],
            Clause {
                property: "day".into(),
                op: Op::Ge,
                value: Literal::Date("2026-11-01".parse().unwrap())
            }
        );
        assert_eq!(clauses[2].value, Literal::Text("prg_1".into()));
        assert_eq!(
            parse_filter("name eq 'O''Brien'").unwrap()[0].value,
            Literal::Text("O'Brien".into())
        );
    }

    #[test]
    fn unsupported_filters_are_not_implemented() {
        for raw in [
            "day ge 2026-11-01 or day lt 2026-12-01",
            "contains(name,'a')",
            "clicks gt 5.5",
            "day ne 2026-11-01",
        ] {
            assert!(
                matches!(parse_filter(raw), Err(Refusal::NotImplemented(_))),
                "{raw}"
            );
        }
    }

    #[test]
    fn malformed_filters_are_bad_requests_and_empty_ones_nothing() {
        for raw in [
            "day",
            "day ge",
            "ge 2026-11-01 and",
            "day ge 2026-11-01 day",
        ] {
            assert!(matches!(parse_filter(raw), Err(Refusal::Bad(_))), "{raw}");
        }
        assert_eq!(
            parse_options(&pairs("$filter=&$count=true"))
                .unwrap()
                .filter,
            vec![]
        );
    }

    #[test]
    fn options_are_read_and_unknown_ones_refused() {
        let o = parse_options(&pairs("$select=day,clicks&$top=10&$skip=5&$count=true")).unwrap();
        assert_eq!(o.select.unwrap(), vec!["day", "clicks"]);
        assert_eq!((o.top, o.skip, o.count), (Some(10), 5, true));
        assert!(matches!(
            parse_options(&pairs("$expand=Partner")),
            Err(Refusal::NotImplemented(_))
        ));
        assert!(matches!(
            parse_options(&pairs("$orderby=day")),
            Err(Refusal::NotImplemented(_))
        ));
        assert!(matches!(
            parse_options(&pairs("$top=x")),
            Err(Refusal::Bad(_))
        ));
    }
}
