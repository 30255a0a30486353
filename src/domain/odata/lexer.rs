//! Splits `$filter` and `$orderby` text into tokens, each with the 1-based character
//! position it starts at, so that every refusal can point at the offending spot.
//! Literals are recognised here (strings, numbers, dates, date-times) but typed later,
//! against the property they are compared with.

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::{bad, Refusal};
use crate::domain::time::parse_date;

/// Words that are operators in OData's `$filter` grammar, never property names.
pub(super) const OPERATORS: &[&str] = &[
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "has", "add", "sub", "mul",
    "div", "divby", "mod",
];

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// A name: a property, a function, a keyword (`and`, `null`, `asc`), `$it`, `@alias`.
    Word(String),
    /// A `'quoted'` string, `''` already turned into `'`.
    Text(String),
    /// A number as written (`12`, `-3`, `12.50`, `10.50M`, `1e3`): its type depends on
    /// the property it meets.
    Number(String),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    Open,
    Close,
    Comma,
    Slash,
    /// Only in lambdas (`tags/any(t: …)`), which are refused at their `/`.
    Colon,
    Minus,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spanned {
    pub token: Token,
    /// 1-based character position of the token's first character.
    pub at: usize,
    /// The token as written, for messages.
    pub text: String,
}

/// Tokens of `raw`; `field` names the option in refusals.
pub(super) fn tokens(raw: &str, field: &'static str) -> Result<Vec<Spanned>, Refusal> {
    let chars: Vec<char> = raw.chars().collect();
    let mut lexer = Lexer {
        chars,
        next: 0,
        field,
    };
    let mut out = Vec::new();
    while let Some(spanned) = lexer.token()? {
        out.push(spanned);
    }
    Ok(out)
}

struct Lexer {
    chars: Vec<char>,
    next: usize,
    field: &'static str,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.next + ahead).copied()
    }

    fn text(&self, start: usize) -> String {
        self.chars[start..self.next].iter().collect()
    }

    fn bad(&self, message: String) -> Refusal {
        bad(self.field, message)
    }

    /// The next token, or `None` at the end.
    fn token(&mut self) -> Result<Option<Spanned>, Refusal> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.next += 1;
        }
        let Some(c) = self.peek(0) else {
            return Ok(None);
        };
        let start = self.next;
        let token = match c {
            '(' | ')' | ',' | '/' | ':' => self.punctuation(c),
            '\'' => Token::Text(self.string()?),
            '-' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => self.literal()?,
            '-' if self.rest_starts_with("-INF") => self.word(),
            '-' => self.punctuation(c),
            '0'..='9' => self.literal()?,
            'a'..='z' | 'A'..='Z' | '_' | '$' | '@' => self.word(),
            '[' | '{' => {
                return Err(Refusal::NotImplemented(format!(
                    "JSON literals ('{c}' at position {})",
                    start + 1
                )))
            }
            other => {
                return Err(self.bad(format!(
                    "unexpected character '{other}' at position {}",
                    start + 1
                )))
            }
        };
        let text = self.text(start);
        if matches!(token, Token::Word(_)) && self.peek(0) == Some('\'') {
            return Err(typed_literal(&text, start));
        }
        Ok(Some(Spanned {
            token,
            at: start + 1,
            text,
        }))
    }

    fn rest_starts_with(&self, prefix: &str) -> bool {
        prefix
            .chars()
            .enumerate()
            .all(|(i, c)| self.peek(i) == Some(c))
    }

    fn punctuation(&mut self, c: char) -> Token {
        self.next += 1;
        match c {
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '/' => Token::Slash,
            ':' => Token::Colon,
            _ => Token::Minus,
        }
    }

    /// A quoted string; a doubled quote inside is one quote.
    fn string(&mut self) -> Result<String, Refusal> {
        let start = self.next;
        self.next += 1;
        let mut text = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return Err(self.bad(format!(
                        "unterminated string starting at position {}",
                        start + 1
                    )))
                }
                Some('\'') if self.peek(1) == Some('\'') => {
                    text.push('\'');
                    self.next += 2;
                }
                Some('\'') => {
                    self.next += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.next += 1;
                }
            }
        }
    }

    /// A name: letters, digits, `_` and `.` (qualified names such as `geo.distance`).
    fn word(&mut self) -> Token {
        let start = self.next;
        self.next += 1;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            self.next += 1;
        }
        Token::Word(self.text(start))
    }

    /// A literal that starts with a digit or a minus: a number, a date or a date-time.
    fn literal(&mut self) -> Result<Token, Refusal> {
        let start = self.next;
        self.next += 1;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '+' | '-'))
        {
            self.next += 1;
        }
        let word = self.text(start);
        classify(&word).ok_or_else(|| self.bad(not_a_literal(&word, start + 1)))
    }
}

/// `duration'P1D'`, `geography'…'` and the like: valid OData this feed has no use for.
fn typed_literal(prefix: &str, start: usize) -> Refusal {
    Refusal::NotImplemented(format!(
        "the typed literal {prefix}'…' at position {}",
        start + 1
    ))
}

fn not_a_literal(word: &str, at: usize) -> String {
    if looks_like_date(word) {
        format!("'{word}' at position {at} is not a valid date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)")
    } else {
        format!("'{word}' at position {at} is not a valid number, date or date-time")
    }
}

fn looks_like_date(word: &str) -> bool {
    word.len() >= 8 && word.as_bytes().get(4) == Some(&b'-')
}

/// The token a digit-led word stands for, if it is a well-formed literal.
fn classify(word: &str) -> Option<Token> {
    if is_number(word) {
        return Some(Token::Number(word.to_owned()));
    }
    if !looks_like_date(word) {
        return None;
    }
    if word.len() == 10 {
        return parse_date(word).map(Token::Date);
    }
    date_time(word).map(Token::DateTime)
}

/// RFC 3339 date-times, and OData's form without seconds (`2026-10-01T08:30Z`).
fn date_time(word: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(word) {
        return Some(parsed);
    }
    // The word is ASCII (see `Lexer::literal`), so byte offsets are character offsets.
    let (minutes, zone) = word.split_at_checked(16)?;
    DateTime::parse_from_rfc3339(&format!("{minutes}:00{zone}")).ok()
}

/// `-?digits(.digits)?([eE][+-]?digits)?[mM]?`: OData's decimal and double literals, with
/// the `M` suffix Power BI adds to decimals.
fn is_number(word: &str) -> bool {
    let body = word.strip_suffix(['m', 'M']).unwrap_or(word);
    let body = body.strip_prefix('-').unwrap_or(body);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole)
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(raw: &str) -> Vec<Token> {
        tokens(raw, "$filter")
            .unwrap()
            .into_iter()
            .map(|s| s.token)
            .collect()
    }

    #[test]
    fn literals_are_recognised() {
        assert_eq!(
            kinds("'O''Brien' 12.50M -3 1e3 2026-10-01"),
            vec![
                Token::Text("O'Brien".into()),
                Token::Number("12.50M".into()),
                Token::Number("-3".into()),
                Token::Number("1e3".into()),
                Token::Date(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()),
            ]
        );
        for raw in [
            "2026-10-01T00:00:00Z",
            "2026-10-01T02:00:00+02:00",
            "2026-10-01T00:00:00.125Z",
            "2026-10-01T00:00Z",
        ] {
            assert!(matches!(kinds(raw)[..], [Token::DateTime(_)]), "{raw}");
        }
    }

    #[test]
    fn positions_are_one_based_characters() {
        let spanned = tokens("é eq (x)", "$filter");
        assert!(matches!(spanned, Err(Refusal::Bad(_))));
        let spanned = tokens("name eq 'é' and x", "$filter").unwrap();
        assert_eq!(spanned[4].at, 17);
        assert_eq!(spanned[4].text, "x");
    }

    #[test]
    fn malformed_literals_are_bad_and_typed_ones_not_implemented() {
        for raw in [
            "'open",
            "2026-13-01",
            "2026-10-01T25:00:00Z",
            "12.",
            "1.2.3",
            "#",
        ] {
            assert!(
                matches!(tokens(raw, "$filter"), Err(Refusal::Bad(_))),
                "{raw}"
            );
        }
        for raw in ["duration'P1D'", "[1,2]"] {
            assert!(
                matches!(tokens(raw, "$filter"), Err(Refusal::NotImplemented(_))),
                "{raw}"
            );
        }
    }
}
