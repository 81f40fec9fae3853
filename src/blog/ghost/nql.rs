//! Ghost's filter language (NQL), parsed as `@tryghost/nql-lang` parses it and evaluated over
//! the Content API's JSON objects as Ghost answers it from SQL: relations (`tags.slug`) match
//! when any of their rows matches and a negation when none does, dates compare as instants,
//! `featured:1` is `true`. Restricted fields are dropped from the filter (Ghost 6), an
//! unknown field is an error.
//!
//! Grammar (nql-lang's `nql.y`): `expr := and (',' and)*`, `and := term ('+' term)*`,
//! `term := '(' expr ')' | PROP value`, `value := '-'? ('~' | '~^' | '~$') STRING
//! | '-'? '[' v (',' v)* ']' | '[' v ('+' v)+ ']' | ('-' | '>' | '<' | '>=' | '<=')? v`,
//! `v := null | true | false | NUMBER | now±N[dwMyhms] | LITERAL | 'STRING'`.

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

/// At most this many characters of filter, and this deep in parentheses.
pub const MAX_FILTER_CHARS: usize = 4000;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    /// A relative date, resolved when parsed.
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq(Lit),
    Ne(Lit),
    Gt(Lit),
    Gte(Lit),
    Lt(Lit),
    Lte(Lit),
    In(Vec<Lit>),
    Nin(Vec<Lit>),
    All(Vec<Lit>),
    /// Case-insensitive: contains, starts with, ends with; negated with `-~`.
    Like {
        text: String,
        at: Anchor,
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Anywhere,
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Is { field: String, op: Op },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// Not NQL: Ghost's "Error parsing filter".
    Syntax(String),
    /// A field the resource does not have: Ghost's "Could not understand request."
    UnknownField(String),
}

// --- lexing -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Prop(String),
    Lit(Lit),
    LBracket,
    RBracket,
    LParen,
    RParen,
    Or,
    And,
    Not,
    Gte,
    Lte,
    Gt,
    Lt,
    StartsWith,
    EndsWith,
    Contains,
    /// A quoted string (also usable as a value).
    Str(String),
}

fn is_op_char(c: char) -> bool {
    matches!(
        c,
        '\'' | '"' | '+' | ',' | '(' | ')' | '>' | '<' | '=' | '[' | ']' | '~'
    ) || c.is_whitespace()
}

fn unescape(s: &str) -> String {
    s.replace("\\'", "'").replace("\\\"", "\"")
}

fn lex(input: &str) -> Result<Vec<Tok>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let err = |at: usize| FilterError::Syntax(format!("unexpected character at {}", at + 1));
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // PROP: [a-zA-Z_][a-zA-Z0-9_.]*:
        if c.is_ascii_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '.')
            {
                j += 1;
            }
            if j < chars.len() && chars[j] == ':' {
                toks.push(Tok::Prop(chars[i..j].iter().collect()));
                i = j + 1;
                continue;
            }
        }
        match c {
            '[' => {
                toks.push(Tok::LBracket);
                i += 1;
                continue;
            }
            ']' => {
                toks.push(Tok::RBracket);
                i += 1;
                continue;
            }
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
                continue;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
                continue;
            }
            ',' => {
                toks.push(Tok::Or);
                i += 1;
                continue;
            }
            '+' => {
                toks.push(Tok::And);
                i += 1;
                continue;
            }
            '\'' => {
                // ['](\\['"]|[^'"])+?[']
                let mut j = i + 1;
                let mut text = String::new();
                loop {
                    match chars.get(j) {
                        None | Some('"') => return Err(err(j.min(chars.len()))),
                        Some('\\') if matches!(chars.get(j + 1), Some('\'' | '"')) => {
                            text.push(chars[j + 1]);
                            j += 2;
                        }
                        Some('\'') if !text.is_empty() => break,
                        Some('\'') => return Err(err(j)),
                        Some(&ch) => {
                            text.push(ch);
                            j += 1;
                        }
                    }
                }
                toks.push(Tok::Str(text));
                i = j + 1;
                continue;
            }
            '>' | '<' => {
                let eq = chars.get(i + 1) == Some(&'=');
                toks.push(match (c, eq) {
                    ('>', true) => Tok::Gte,
                    ('<', true) => Tok::Lte,
                    ('>', false) => Tok::Gt,
                    _ => Tok::Lt,
                });
                i += if eq { 2 } else { 1 };
                continue;
            }
            '~' => {
                match chars.get(i + 1) {
                    Some('^') => {
                        toks.push(Tok::StartsWith);
                        i += 2;
                    }
                    Some('$') => {
                        toks.push(Tok::EndsWith);
                        i += 2;
                    }
                    _ => {
                        toks.push(Tok::Contains);
                        i += 1;
                    }
                }
                continue;
            }
            '-' => {
                toks.push(Tok::Not);
                i += 1;
                continue;
            }
            _ => {}
        }
        // now-30d / now+2w
        if chars[i..].starts_with(&['n', 'o', 'w']) {
            if let Some((time, len)) = relative_date(&chars[i + 3..]) {
                toks.push(Tok::Lit(Lit::Time(time)));
                i += 3 + len;
                continue;
            }
        }
        // NUMBER: [0-9]+(\.[0-9]+)?\b(?![\-])
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j < chars.len()
                && chars[j] == '.'
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
            {
                j += 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
            }
            let boundary = chars
                .get(j)
                .is_none_or(|n| !(n.is_alphanumeric() || *n == '_'));
            if boundary && chars.get(j) != Some(&'-') {
                let text: String = chars[i..j].iter().collect();
                // nql-lang reads numbers with parseInt.
                let n = text
                    .split('.')
                    .next()
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0);
                toks.push(Tok::Lit(Lit::Number(n)));
                i = j;
                continue;
            }
        }
        // LITERAL: {omitops}(\\{escapable}|{omitopsbarnot})+ , or one letter
        if c == '"' || c == '=' {
            return Err(err(i));
        }
        let mut j = i + 1;
        let mut text = String::new();
        text.push(c);
        while j < chars.len() {
            if chars[j] == '\\'
                && chars
                    .get(j + 1)
                    .is_some_and(|n| "'\"+,()><=[]~^$".contains(*n))
            {
                text.push(chars[j + 1]);
                j += 2;
            } else if !is_op_char(chars[j]) {
                text.push(chars[j]);
                j += 1;
            } else {
                break;
            }
        }
        let lit = match text.as_str() {
            "null" | "NULL" | "Null" => Lit::Null,
            "true" | "TRUE" | "True" => Lit::Bool(true),
            "false" | "FALSE" | "False" => Lit::Bool(false),
            _ => Lit::Text(text),
        };
        toks.push(Tok::Lit(lit));
        i = j;
    }
    Ok(toks)
}

/// `-30d` after `now`, followed by the end or a final character; with its length.
fn relative_date(rest: &[char]) -> Option<(DateTime<Utc>, usize)> {
    let sign = *rest.first()?;
    if sign != '-' && sign != '+' {
        return None;
    }
    let mut j = 1;
    while j < rest.len() && rest[j].is_ascii_digit() {
        j += 1;
    }
    if j == 1 {
        return None;
    }
    let unit = *rest.get(j)?;
    if !"dwMyhms".contains(unit) {
        return None;
    }
    if rest.get(j + 1).is_some_and(|c| !"+,()[]".contains(*c)) {
        return None;
    }
    let amount: i64 = rest[1..j].iter().collect::<String>().parse().ok()?;
    let now = Utc::now();
    let signed = if sign == '-' { -amount } else { amount };
    let time = match unit {
        'M' | 'y' => {
            let months =
                u32::try_from(amount.checked_mul(if unit == 'y' { 12 } else { 1 })?).ok()?;
            if signed < 0 {
                now.checked_sub_months(Months::new(months))?
            } else {
                now.checked_add_months(Months::new(months))?
            }
        }
        _ => {
            let step = match unit {
                'd' => Duration::try_days(signed)?,
                'w' => Duration::try_weeks(signed)?,
                'h' => Duration::try_hours(signed)?,
                'm' => Duration::try_minutes(signed)?,
                _ => Duration::try_seconds(signed)?,
            };
            now.checked_add_signed(step)?
        }
    };
    Some((time, j + 1))
}

// --- parsing ------------------------------------------------------------------------------

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn fail<T>(&self) -> Result<T, FilterError> {
        Err(FilterError::Syntax(format!(
            "unexpected token {} in filter",
            self.at + 1
        )))
    }

    fn expression(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth > MAX_DEPTH {
            return Err(FilterError::Syntax("filter nested too deeply".into()));
        }
        let mut any = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.next();
            any.push(self.and(depth)?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Filter::Or(any)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut all = vec![self.term(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.next();
            all.push(self.term(depth)?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Filter::And(all)
        })
    }

    fn term(&mut self, depth: usize) -> Result<Filter, FilterError> {
        match self.next() {
            Some(Tok::LParen) => {
                let inner = self.expression(depth + 1)?;
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => self.fail(),
                }
            }
            Some(Tok::Prop(field)) => {
                let op = self.value()?;
                Ok(Filter::Is { field, op })
            }
            _ => self.fail(),
        }
    }

    fn literal(&mut self) -> Result<Lit, FilterError> {
        match self.next() {
            Some(Tok::Lit(lit)) => Ok(lit),
            Some(Tok::Str(s)) => Ok(Lit::Text(unescape(&s))),
            _ => self.fail(),
        }
    }

    fn like(&mut self, negated: bool) -> Result<Option<Op>, FilterError> {
        let at = match self.peek() {
            Some(Tok::Contains) => Anchor::Anywhere,
            Some(Tok::StartsWith) => Anchor::Start,
            Some(Tok::EndsWith) => Anchor::End,
            _ => return Ok(None),
        };
        self.next();
        match self.next() {
            Some(Tok::Str(text)) => Ok(Some(Op::Like {
                text: unescape(&text),
                at,
                negated,
            })),
            _ => self.fail(),
        }
    }

    fn list(&mut self) -> Result<Op, FilterError> {
        // After '[': v (',' v)* ']'  or  v ('+' v)+ ']'
        let first = self.literal()?;
        let mut items = vec![first];
        let all = self.peek() == Some(&Tok::And);
        let sep = if all { Tok::And } else { Tok::Or };
        while self.peek() == Some(&sep) {
            self.next();
            items.push(self.literal()?);
        }
        match self.next() {
            Some(Tok::RBracket) => Ok(if all { Op::All(items) } else { Op::In(items) }),
            _ => self.fail(),
        }
    }

    fn value(&mut self) -> Result<Op, FilterError> {
        if let Some(op) = self.like(false)? {
            return Ok(op);
        }
        match self.peek() {
            Some(Tok::LBracket) => {
                self.next();
                self.list()
            }
            Some(Tok::Not) => {
                self.next();
                if let Some(op) = self.like(true)? {
                    return Ok(op);
                }
                if self.peek() == Some(&Tok::LBracket) {
                    self.next();
                    return match self.list()? {
                        Op::In(items) => Ok(Op::Nin(items)),
                        _ => self.fail(),
                    };
                }
                Ok(Op::Ne(self.literal()?))
            }
            Some(Tok::Gt | Tok::Gte | Tok::Lt | Tok::Lte) => {
                let op = self.next();
                let lit = self.literal()?;
                Ok(match op {
                    Some(Tok::Gt) => Op::Gt(lit),
                    Some(Tok::Gte) => Op::Gte(lit),
                    Some(Tok::Lt) => Op::Lt(lit),
                    _ => Op::Lte(lit),
                })
            }
            _ => Ok(Op::Eq(self.literal()?)),
        }
    }
}

/// Parses a filter. An empty one is `None`.
pub fn parse(input: &str) -> Result<Option<Filter>, FilterError> {
    if input.chars().count() > MAX_FILTER_CHARS {
        return Err(FilterError::Syntax("filter too long".into()));
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser { toks, at: 0 };
    let filter = parser.expression(0)?;
    if parser.at != parser.toks.len() {
        return parser.fail();
    }
    Ok(Some(filter))
}

// --- fields -------------------------------------------------------------------------------

/// What a resource lets a filter name.
pub struct Fields {
    /// Names that Ghost rewrites (`tag` → `tags.slug`).
    pub expansions: &'static [(&'static str, &'static str)],
    /// Names a filter may use (after expansion), dotted for relations.
    pub known: &'static [&'static str],
    /// Names Ghost drops from a filter (never applied: they would reveal hidden data).
    pub restricted: &'static [&'static str],
    /// Names whose values are instants.
    pub dates: &'static [&'static str],
}

/// Resolves names: expands, drops restricted statements (and what becomes empty), and
/// refuses unknown fields.
pub fn resolve(filter: Filter, fields: &Fields) -> Result<Option<Filter>, FilterError> {
    match filter {
        Filter::And(parts) | Filter::Or(parts) if parts.is_empty() => Ok(None),
        Filter::And(parts) => {
            let parts = resolve_all(parts, fields)?;
            Ok((!parts.is_empty()).then_some(Filter::And(parts)))
        }
        Filter::Or(parts) => {
            let parts = resolve_all(parts, fields)?;
            Ok((!parts.is_empty()).then_some(Filter::Or(parts)))
        }
        Filter::Is { field, op } => {
            let field = fields
                .expansions
                .iter()
                .find(|(from, _)| *from == field)
                .map_or(field, |(_, to)| (*to).to_owned());
            let last = field.rsplit('.').next().unwrap_or(&field);
            if fields.restricted.contains(&field.as_str()) || fields.restricted.contains(&last) {
                return Ok(None);
            }
            if !fields.known.contains(&field.as_str()) {
                return Err(FilterError::UnknownField(field));
            }
            Ok(Some(Filter::Is { field, op }))
        }
    }
}

fn resolve_all(parts: Vec<Filter>, fields: &Fields) -> Result<Vec<Filter>, FilterError> {
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        if let Some(part) = resolve(part, fields)? {
            out.push(part);
        }
    }
    Ok(out)
}

// --- evaluation ---------------------------------------------------------------------------

/// Whether `object` (a Content API answer's item) passes the resolved filter.
pub fn matches(filter: &Filter, object: &Value, fields: &Fields) -> bool {
    match filter {
        Filter::And(parts) => parts.iter().all(|p| matches(p, object, fields)),
        Filter::Or(parts) => parts.iter().any(|p| matches(p, object, fields)),
        Filter::Is { field, op } => {
            let mut values = Vec::new();
            collect(object, field, &mut values);
            let date = fields.dates.contains(&field.as_str());
            test(op, &values, date)
        }
    }
}

/// The values at a dotted path, through arrays (a post's tags' slugs).
fn collect<'a>(value: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect(item, path, out)),
        Value::Object(map) => {
            let (head, rest) = path
                .split_once('.')
                .map_or((path, None), |(h, r)| (h, Some(r)));
            match (map.get(head), rest) {
                (Some(next), Some(rest)) => collect(next, rest, out),
                (Some(Value::Array(items)), None) => out.extend(items.iter()),
                (Some(leaf), None) => out.push(leaf),
                (None, _) => {}
            }
        }
        _ => {}
    }
}

fn test(op: &Op, values: &[&Value], date: bool) -> bool {
    match op {
        Op::Eq(lit) => equals_any(values, lit, date),
        Op::Ne(lit) => !equals_any(values, lit, date),
        Op::In(lits) => lits.iter().any(|lit| equals_any(values, lit, date)),
        Op::Nin(lits) => !lits.iter().any(|lit| equals_any(values, lit, date)),
        Op::All(lits) => lits.iter().all(|lit| equals_any(values, lit, date)),
        Op::Gt(lit) => compare_any(values, lit, date, |o| o.is_gt()),
        Op::Gte(lit) => compare_any(values, lit, date, |o| o.is_ge()),
        Op::Lt(lit) => compare_any(values, lit, date, |o| o.is_lt()),
        Op::Lte(lit) => compare_any(values, lit, date, |o| o.is_le()),
        Op::Like { text, at, negated } => {
            let needle = text.to_lowercase();
            let found = values.iter().any(|v| {
                v.as_str().is_some_and(|s| {
                    let s = s.to_lowercase();
                    match at {
                        Anchor::Anywhere => s.contains(&needle),
                        Anchor::Start => s.starts_with(&needle),
                        Anchor::End => s.ends_with(&needle),
                    }
                })
            });
            found != *negated
        }
    }
}

fn equals_any(values: &[&Value], lit: &Lit, date: bool) -> bool {
    if values.is_empty() {
        return *lit == Lit::Null;
    }
    values.iter().any(|v| equals(v, lit, date))
}

fn equals(value: &Value, lit: &Lit, date: bool) -> bool {
    if date {
        if let (Some(a), Some(b)) = (instant_of_value(value), instant_of_lit(lit)) {
            return a == b;
        }
    }
    match (value, lit) {
        (Value::Null, Lit::Null) => true,
        (Value::Bool(a), Lit::Bool(b)) => a == b,
        // SQL booleans are 0 and 1.
        (Value::Bool(a), Lit::Number(n)) => (*n == 1.0 && *a) || (*n == 0.0 && !*a),
        (Value::Number(a), Lit::Number(b)) => a.as_f64() == Some(*b),
        (Value::Number(a), Lit::Text(b)) => a.to_string() == *b,
        (Value::String(a), Lit::Text(b)) => a == b,
        (Value::String(a), Lit::Number(b)) => a.parse::<f64>().ok() == Some(*b),
        _ => false,
    }
}

fn compare_any(
    values: &[&Value],
    lit: &Lit,
    date: bool,
    wanted: impl Fn(std::cmp::Ordering) -> bool,
) -> bool {
    values.iter().any(|v| {
        let ordering = if date {
            match (instant_of_value(v), instant_of_lit(lit)) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => None,
            }
        } else {
            match (v, lit) {
                (Value::Number(a), Lit::Number(b)) => a.as_f64().and_then(|a| a.partial_cmp(b)),
                (Value::String(a), Lit::Text(b)) => Some(a.as_str().cmp(b.as_str())),
                _ => None,
            }
        };
        ordering.is_some_and(&wanted)
    })
}

fn instant_of_value(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().and_then(parse_instant)
}

fn instant_of_lit(lit: &Lit) -> Option<DateTime<Utc>> {
    match lit {
        Lit::Time(t) => Some(*t),
        Lit::Text(s) => parse_instant(s),
        Lit::Number(n) if n.fract() == 0.0 && (1000.0..=9999.0).contains(n) => {
            // A bare year.
            NaiveDate::from_ymd_opt(*n as i32, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        }
        _ => None,
    }
}

/// `2021-03-04`, `2021-03-04 09:30:00`, `2021-03-04T09:30:00.000Z`, with an offset too; a
/// time without a zone is UTC (as Ghost stores them).
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The slugs of a top-level `slug:[a,b,c]`: Ghost answers in that order when no order is
/// asked for.
pub fn slug_list(filter: &Filter) -> Option<Vec<String>> {
    let find = |f: &Filter| match f {
        Filter::Is {
            field,
            op: Op::In(items),
        } if field == "slug" => Some(
            items
                .iter()
                .filter_map(|l| match l {
                    Lit::Text(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    };
    match filter {
        Filter::And(parts) => parts.iter().find_map(find),
        other => find(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: Fields = Fields {
        expansions: &[
            ("tag", "tags.slug"),
            ("tags", "tags.slug"),
            ("author", "authors.slug"),
        ],
        known: &[
            "tags.slug",
            "authors.slug",
            "slug",
            "featured",
            "published_at",
            "title",
        ],
        restricted: &["html", "plaintext", "email"],
        dates: &["published_at"],
    };

    fn run(filter: &str, object: &Value) -> Result<bool, FilterError> {
        let parsed = parse(filter)?.ok_or(FilterError::Syntax("empty".into()))?;
        Ok(match resolve(parsed, &FIELDS)? {
            Some(f) => matches(&f, object, &FIELDS),
            None => true,
        })
    }

    fn post() -> Value {
        json!({"slug": "a", "featured": true, "title": "Why Rust",
               "published_at": "2022-11-15T08:00:00.000+00:00",
               "tags": [{"slug": "rust"}, {"slug": "web"}], "authors": [{"slug": "maya"}]})
    }

    #[test]
    fn ghost_filters_evaluate_like_ghost() {
        let p = post();
        for (filter, want) in [
            ("tag:rust", true),
            ("tag:go", false),
            ("tag:-rust", false),
            ("tag:-go", true),
            ("tags:[go,web]", true),
            ("tags:-[go,web]", false),
            ("tags:[rust+web]", true),
            ("tag:rust+featured:true", true),
            ("tag:go,featured:true", true),
            ("(tag:go,tag:rust)+featured:false", false),
            ("featured:1", true),
            ("featured:'true'", false),
            ("published_at:>'2020-01-01'", true),
            ("published_at:<='2022-11-15 08:00:00'", true),
            ("published_at:<'2022-11-15 08:00:00'", false),
            ("published_at:>now-30d", false),
            ("title:~'rust'", true),
            ("title:~^'why'", true),
            ("title:-~'rust'", false),
            ("author:maya", true),
            ("html:~'x'", true),
            ("tag:go+html:~'x'", false),
        ] {
            assert_eq!(run(filter, &p), Ok(want), "{filter}");
        }
    }

    #[test]
    fn malformed_and_unknown_filters_are_refused() {
        let p = post();
        for filter in [
            "tag:",
            "(tag:rust",
            "tag:rust+",
            "-tag:rust",
            "tag:rust tag:x",
            "'",
        ] {
            assert!(
                matches!(run(filter, &p), Err(FilterError::Syntax(_))),
                "{filter}"
            );
        }
        assert_eq!(
            run("nonexistent_field:1", &p),
            Err(FilterError::UnknownField("nonexistent_field".into()))
        );
        let deep = format!("{}tag:rust{}", "(".repeat(100), ")".repeat(100));
        assert!(run(&deep, &p).is_err());
    }

    #[test]
    fn a_slug_list_gives_the_order() {
        let f = parse("slug:[c,a,b]+featured:true").unwrap_or_default();
        assert_eq!(
            f.as_ref().and_then(slug_list),
            Some(vec!["c".to_owned(), "a".into(), "b".into()])
        );
    }
}
