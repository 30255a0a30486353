//! The `$filter` parser: recursive descent over OData's precedence (`not` binds tightest,
//! then the comparisons and `in`, then `and`, then `or`), typing every literal against the
//! property it meets as it goes, so a type error points at the literal's position.

use super::expr::{CmpOp, DatePart, Expr, Target, TextFunction};
use super::lexer::{tokens, Spanned, Token, OPERATORS};
use super::typing::{
    compare, condition, date_part, negatable, text_function, within, Literal, Term,
};
use super::{bad, edm_type, Refusal, Schema};

const FIELD: &str = "$filter";

/// How deep parentheses, `not` and function arguments may nest: deeper input is refused
/// rather than risking the stack (clients nest a level per combined clause, far less).
const MAX_DEPTH: usize = 50;

/// OData operators this feed does not serve.
const UNSERVED_OPERATORS: &[&str] = &["has", "add", "sub", "mul", "div", "divby", "mod"];

/// OData's other canonical functions (and v2's `substringof`): a 501, not a 400.
const UNSERVED_FUNCTIONS: &[&str] = &[
    "concat",
    "indexof",
    "length",
    "substring",
    "substringof",
    "tolower",
    "toupper",
    "trim",
    "matchespattern",
    "hour",
    "minute",
    "second",
    "fractionalseconds",
    "totalseconds",
    "date",
    "time",
    "totaloffsetminutes",
    "now",
    "maxdatetime",
    "mindatetime",
    "round",
    "floor",
    "ceiling",
    "cast",
    "isof",
    "any",
    "all",
    "hassubset",
    "hassubsequence",
    "case",
    "geo.distance",
    "geo.intersects",
    "geo.length",
];

/// Parses `$filter` against the entity set's properties.
pub fn parse_filter(raw: &str, schema: &Schema) -> Result<Expr, Refusal> {
    let mut parser = Parser {
        tokens: tokens(raw, FIELD)?,
        next: 0,
        schema,
        depth: 0,
    };
    let term = parser.or()?;
    if let Some(extra) = parser.peek() {
        return Err(bad(
            FIELD,
            format!("unexpected '{}' at position {}", extra.text, extra.at),
        ));
    }
    condition(term)
}

struct Parser<'a> {
    tokens: Vec<Spanned>,
    next: usize,
    schema: &'a Schema,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.next)
    }

    fn peek_word(&self) -> Option<(String, usize)> {
        match self.peek() {
            Some(Spanned {
                token: Token::Word(word),
                at,
                ..
            }) => Some((word.to_ascii_lowercase(), *at)),
            _ => None,
        }
    }

    /// Consumes the keyword (any case) if it comes next, answering its position.
    fn eat_keyword(&mut self, keyword: &str) -> Option<usize> {
        let (word, at) = self.peek_word()?;
        (word == keyword).then(|| {
            self.next += 1;
            at
        })
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek().is_some_and(|t| t.token == *token);
        if found {
            self.next += 1;
        }
        found
    }

    /// A refusal for a missing piece, pointing at what came instead (or at the end).
    fn missing(&self, what: &str) -> Refusal {
        let message = match (
            self.peek(),
            self.next.checked_sub(1).and_then(|i| self.tokens.get(i)),
        ) {
            (Some(found), _) => format!(
                "expected {what} at position {}, found '{}'",
                found.at, found.text
            ),
            (None, Some(last)) => format!(
                "expected {what} after '{}' at position {}, found the end",
                last.text, last.at
            ),
            (None, None) => format!("expected {what}, found nothing"),
        };
        bad(FIELD, message)
    }

    /// Runs `parse` one nesting level deeper, refusing input nested past `MAX_DEPTH`.
    fn nested(
        &mut self,
        at: usize,
        parse: impl FnOnce(&mut Self) -> Result<Term, Refusal>,
    ) -> Result<Term, Refusal> {
        if self.depth >= MAX_DEPTH {
            return Err(bad(
                FIELD,
                format!("$filter nests deeper than {MAX_DEPTH} levels at position {at}"),
            ));
        }
        self.depth += 1;
        let term = parse(self);
        self.depth -= 1;
        term
    }

    fn or(&mut self) -> Result<Term, Refusal> {
        self.chain("or", Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Term, Refusal> {
        self.chain("and", Self::comparison, Expr::And)
    }

    /// `operand (keyword operand)*` as one flat `And`/`Or`.
    fn chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Result<Term, Refusal>,
        build: fn(Vec<Expr>) -> Expr,
    ) -> Result<Term, Refusal> {
        let first = operand(self)?;
        if self.peek_word().is_none_or(|(word, _)| word != keyword) {
            return Ok(first);
        }
        let mut items = vec![condition(first)?];
        while self.eat_keyword(keyword).is_some() {
            items.push(condition(operand(self)?)?);
        }
        Ok(Term::Condition(build(items)))
    }

    /// `unary [(eq|ne|gt|ge|lt|le) unary | in (list)]`.
    fn comparison(&mut self) -> Result<Term, Refusal> {
        let left = self.unary()?;
        self.refuse_unserved_operator()?;
        let Some((word, at)) = self.peek_word() else {
            return Ok(left);
        };
        if let Some(op) = CmpOp::from_keyword(&word) {
            self.next += 1;
            let right = self.unary()?;
            self.refuse_unserved_operator()?;
            return compare(left, op, right, at).map(Term::Condition);
        }
        if word == "in" {
            self.next += 1;
            let items = self.list(at)?;
            return within(left, items, at).map(Term::Condition);
        }
        Ok(left)
    }

    fn refuse_unserved_operator(&self) -> Result<(), Refusal> {
        match self.peek_word() {
            Some((word, at)) if UNSERVED_OPERATORS.contains(&word.as_str()) => Err(
                Refusal::NotImplemented(format!("the operator '{word}' at position {at}")),
            ),
            _ => Ok(()),
        }
    }

    fn unary(&mut self) -> Result<Term, Refusal> {
        let Some(at) = self.eat_keyword("not") else {
            return self.primary();
        };
        let operand = self.nested(at, Self::unary)?;
        Ok(Term::Condition(Expr::Not(Box::new(negatable(
            operand, at,
        )?))))
    }

    fn primary(&mut self) -> Result<Term, Refusal> {
        let Some(Spanned { token, at, text }) = self.peek().cloned() else {
            return Err(self.missing("a condition or a value"));
        };
        if let Some(literal) = literal_of(&token) {
            self.next += 1;
            return Ok(Term::Literal(literal, at, text));
        }
        match token {
            Token::Open => {
                self.next += 1;
                let term = self.nested(at, Self::or)?;
                self.close(at)?;
                Ok(term)
            }
            Token::Word(word) => self.word(word, at),
            Token::Minus => Err(Refusal::NotImplemented(format!(
                "negation ('-' at position {at})"
            ))),
            _ => Err(self.missing("a condition or a value")),
        }
    }

    /// The `)` closing the `(` at `open_at`.
    fn close(&mut self, open_at: usize) -> Result<(), Refusal> {
        if self.eat(&Token::Close) {
            return Ok(());
        }
        Err(match self.peek() {
            None => bad(
                FIELD,
                format!("unbalanced '(' at position {open_at}: no matching ')'"),
            ),
            Some(found) => bad(
                FIELD,
                format!(
                    "expected ')' at position {} to close '(' at position {open_at}, found '{}'",
                    found.at, found.text
                ),
            ),
        })
    }

    /// A name: a keyword literal, a function call, or a property of the schema.
    fn word(&mut self, word: String, at: usize) -> Result<Term, Refusal> {
        let lower = word.to_ascii_lowercase();
        if OPERATORS.contains(&lower.as_str()) {
            return Err(self.missing("a condition or a value"));
        }
        self.next += 1;
        if let Some(literal) = keyword_literal(&word, &lower) {
            return Ok(Term::Literal(literal, at, word));
        }
        if self.eat(&Token::Open) {
            return self.call(&word, &lower, at);
        }
        if self.peek().is_some_and(|t| t.token == Token::Slash) {
            return Err(Refusal::NotImplemented(format!(
                "the path '{word}/…' at position {at} (navigation and any/all lambdas)"
            )));
        }
        if word.starts_with('@') {
            return Err(Refusal::NotImplemented(format!(
                "the parameter alias {word} at position {at}"
            )));
        }
        if word.starts_with('$') {
            return Err(Refusal::NotImplemented(format!("{word} at position {at}")));
        }
        match edm_type(self.schema, &word) {
            Some(edm) => Ok(Term::Target(Target::Property(word), edm, at)),
            None => Err(bad(
                FIELD,
                format!("unknown property '{word}' at position {at}"),
            )),
        }
    }

    /// A function call whose `(` has just been read.
    fn call(&mut self, name: &str, lower: &str, at: usize) -> Result<Term, Refusal> {
        if let Some(part) = DatePart::from_name(lower) {
            let args = self.arguments(at)?;
            return date_part(part, name, args, at);
        }
        if let Some(function) = TextFunction::from_name(lower) {
            let args = self.arguments(at)?;
            return text_function(function, name, args, at).map(Term::Condition);
        }
        if UNSERVED_FUNCTIONS.contains(&lower) {
            return Err(Refusal::NotImplemented(format!(
                "the function {name}() at position {at}"
            )));
        }
        Err(bad(
            FIELD,
            format!("unknown function '{name}' at position {at}"),
        ))
    }

    /// Comma-separated expressions up to the `)` closing the `(` at `open_at`.
    fn arguments(&mut self, open_at: usize) -> Result<Vec<Term>, Refusal> {
        let mut args = Vec::new();
        if self.eat(&Token::Close) {
            return Ok(args);
        }
        loop {
            args.push(self.nested(open_at, Self::or)?);
            if !self.eat(&Token::Comma) {
                self.close(open_at)?;
                return Ok(args);
            }
        }
    }

    /// The parenthesised list after the `in` at `at`.
    fn list(&mut self, at: usize) -> Result<Vec<Term>, Refusal> {
        let open_at = self.peek().map_or(at, |t| t.at);
        if !self.eat(&Token::Open) {
            return Err(bad(
                FIELD,
                format!("'in' at position {at} takes a list in parentheses, like ('a','b')"),
            ));
        }
        self.arguments(open_at)
    }
}

/// The literal a literal token stands for.
fn literal_of(token: &Token) -> Option<Literal> {
    match token {
        Token::Text(s) => Some(Literal::Text(s.clone())),
        Token::Number(n) => Some(Literal::Number(n.clone())),
        Token::Date(d) => Some(Literal::Date(*d)),
        Token::DateTime(t) => Some(Literal::DateTime(*t)),
        _ => None,
    }
}

/// `null`, `true`, `false` (any case), and the special doubles `INF`, `-INF`, `NaN`.
fn keyword_literal(word: &str, lower: &str) -> Option<Literal> {
    match (word, lower) {
        (_, "null") => Some(Literal::Null),
        (_, "true") => Some(Literal::Bool(true)),
        (_, "false") => Some(Literal::Bool(false)),
        ("INF" | "-INF" | "NaN", _) => Some(Literal::Number(word.to_owned())),
        _ => None,
    }
}
