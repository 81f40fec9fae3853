//! Postgres's text forms of `tsvector` and `tsquery`, read in Rust: the in-process index
//! takes the documents' lexemes and the queries' meaning from Postgres (its parser, its
//! stemmers and stop words for every language it knows), then does the matching and the
//! ranking itself.

/// Where a lexeme occurs: its word position (1 to 16383) and the weight of the part it is
/// in, packed as Postgres packs them (the top two bits: 3 = A, the title, 2 = B, 1 = C,
/// 0 = D).
pub type Position = u16;

const WEIGHT_SHIFT: u16 = 14;
const POSITION_MASK: u16 = (1 << WEIGHT_SHIFT) - 1;

pub fn position(p: Position) -> u16 {
    p & POSITION_MASK
}

/// Postgres's default weights of A, B, C and D (`ts_rank`'s `{0.1, 0.2, 0.4, 1.0}`, read
/// from the top).
pub fn weight(p: Position) -> f32 {
    match p >> WEIGHT_SHIFT {
        3 => 1.0,
        2 => 0.4,
        1 => 0.2,
        _ => 0.1,
    }
}

/// A quoted lexeme at the start of `s` (`'it''s'`; a backslash escapes the next
/// character), and what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('\'')?.char_indices();
    let mut out = String::new();
    let body = &s[1..];
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '\'' => {
                if body[i + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, &body[i + 1..]));
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// The lexemes of a `tsvector`'s text form (`'cach':3A,15 'kubernet':1A`), each with its
/// positions (none when the vector was stripped). `None` when it is not that form.
pub fn lexemes(text: &str) -> Option<Vec<(String, Vec<Position>)>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (lexeme, after) = quoted(rest)?;
        rest = after;
        let mut positions = Vec::new();
        if let Some(list) = rest.strip_prefix(':') {
            let end = list.find(' ').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let digits = item.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                let number: u16 = digits.parse().ok()?;
                let weight = match &item[digits.len()..] {
                    "A" => 3,
                    "B" => 2,
                    "C" => 1,
                    "" | "D" => 0,
                    _ => return None,
                };
                positions.push((weight << WEIGHT_SHIFT) | (number & POSITION_MASK));
            }
            rest = &list[end..];
        }
        out.push((lexeme, positions));
        rest = rest.trim_start();
    }
    Some(out)
}

/// A query, as `websearch_to_tsquery` means it.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Nothing to search for (only stop words): matches nothing.
    Empty,
    Term(String),
    /// Lexemes at these distances from the first one ("web api": `web` then `api` one
    /// word on; a stop word between makes it two).
    Phrase(Vec<(String, u16)>),
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
}

impl Query {
    /// The lexemes the query looks for (not those it excludes), for ranking and snippets.
    pub fn wanted(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_wanted(&mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn collect_wanted<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Query::Empty | Query::Not(_) => {}
            Query::Term(t) => out.push(t),
            Query::Phrase(words) => out.extend(words.iter().map(|(w, _)| w.as_str())),
            Query::And(parts) | Query::Or(parts) => {
                for p in parts {
                    p.collect_wanted(out);
                }
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Lexeme(String),
    Not,
    And,
    Or,
    /// `<->` is 1, `<N>` is N.
    Followed(u16),
    Open,
    Close,
}

fn tokens(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while let Some(c) = rest.chars().next() {
        rest = match c {
            '\'' => {
                let (lexeme, after) = quoted(rest)?;
                // Prefix matching and weight restrictions (`:*`, `:AB`): websearch syntax
                // makes neither, and the index does not answer them.
                if after.starts_with(':') {
                    return None;
                }
                out.push(Token::Lexeme(lexeme));
                after
            }
            '!' => {
                out.push(Token::Not);
                &rest[1..]
            }
            '&' => {
                out.push(Token::And);
                &rest[1..]
            }
            '|' => {
                out.push(Token::Or);
                &rest[1..]
            }
            '(' => {
                out.push(Token::Open);
                &rest[1..]
            }
            ')' => {
                out.push(Token::Close);
                &rest[1..]
            }
            '<' => {
                let end = rest.find('>')?;
                let inner = &rest[1..end];
                let distance = if inner == "-" { 1 } else { inner.parse().ok()? };
                out.push(Token::Followed(distance));
                &rest[end + 1..]
            }
            _ => return None,
        }
        .trim_start();
    }
    Some(out)
}

/// A `tsquery`'s text form as Postgres writes it (`'rust' & 'web' <-> 'api' & !'java'`).
/// `None` for what the index does not answer: prefix or weight restrictions, and phrases
/// of anything but lexemes.
pub fn query(text: &str) -> Option<Query> {
    let tokens = tokens(text)?;
    if tokens.is_empty() {
        return Some(Query::Empty);
    }
    let mut parser = Parser { tokens, at: 0 };
    let query = parser.or()?;
    (parser.at == parser.tokens.len()).then_some(query)
}

/// Precedence as Postgres's: `!` binds tightest, then `<->`, then `&`, then `|`.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn eat(&mut self, token: &Token) -> bool {
        if self.tokens.get(self.at) == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Query> {
        let mut parts = vec![self.and()?];
        while self.eat(&Token::Or) {
            parts.push(self.and()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Option<Query> {
        let mut parts = vec![self.phrase()?];
        while self.eat(&Token::And) {
            parts.push(self.phrase()?);
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        })
    }

    fn phrase(&mut self) -> Option<Query> {
        let first = self.unary()?;
        let mut words = Vec::new();
        let mut offset = 0u16;
        while let Some(Token::Followed(distance)) = self.tokens.get(self.at) {
            let distance = *distance;
            self.at += 1;
            if words.is_empty() {
                let Query::Term(t) = &first else { return None };
                words.push((t.clone(), 0));
            }
            let Query::Term(next) = self.unary()? else {
                return None;
            };
            offset = offset.checked_add(distance)?;
            words.push((next, offset));
        }
        Some(if words.is_empty() {
            first
        } else {
            Query::Phrase(words)
        })
    }

    fn unary(&mut self) -> Option<Query> {
        match self.tokens.get(self.at)? {
            Token::Not => {
                self.at += 1;
                Some(Query::Not(Box::new(self.unary()?)))
            }
            Token::Open => {
                self.at += 1;
                let inner = self.or()?;
                self.eat(&Token::Close).then_some(inner)
            }
            Token::Lexeme(l) => {
                let term = Query::Term(l.clone());
                self.at += 1;
                Some(term)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(t: &str) -> Query {
        Query::Term(t.to_owned())
    }

    #[test]
    fn vectors_are_read_with_their_positions_and_weights() {
        let got = lexemes("'cach':3A,15 'it''s':2B 'a\\\\b':7C 'plain'").expect("a vector");
        assert_eq!(got[0].0, "cach");
        assert_eq!(
            got[0].1.iter().map(|&p| position(p)).collect::<Vec<_>>(),
            [3, 15]
        );
        assert_eq!(weight(got[0].1[0]), 1.0);
        assert_eq!(weight(got[0].1[1]), 0.1);
        assert_eq!(got[1].0, "it's");
        assert_eq!(weight(got[1].1[0]), 0.4);
        assert_eq!(got[2].0, "a\\b");
        assert_eq!(got[3], ("plain".to_owned(), vec![]));
        assert_eq!(lexemes("").expect("empty"), []);
        assert!(lexemes("cach:3").is_none());
    }

    #[test]
    fn queries_are_read_with_postgres_precedence() {
        assert_eq!(
            query("'rust' & 'web' <-> 'api' & !'java'"),
            Some(Query::And(vec![
                term("rust"),
                Query::Phrase(vec![("web".into(), 0), ("api".into(), 1)]),
                Query::Not(Box::new(term("java"))),
            ]))
        );
        assert_eq!(
            query("'a' & ( 'b' | 'c' )"),
            Some(Query::And(vec![
                term("a"),
                Query::Or(vec![term("b"), term("c")])
            ]))
        );
        assert_eq!(
            query("'rust' <2> 'product' <-> 'tip'"),
            Some(Query::Phrase(vec![
                ("rust".into(), 0),
                ("product".into(), 2),
                ("tip".into(), 3)
            ]))
        );
        assert_eq!(query(""), Some(Query::Empty));
        assert_eq!(query("'pre':*"), None, "prefixes are not answered");
        assert_eq!(query("( 'a' | 'b' ) <-> 'c'"), None);
        assert_eq!(query("'a' &"), None);
    }
}
