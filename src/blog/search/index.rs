//! The in-process search index: the published posts' and services' lexemes with their
//! positions and weights, read from the stored `search` vectors once per change of content,
//! so a search is matched and ranked here instead of planned and run by Postgres.
//!
//! Postgres stays the authority on language: the documents' lexemes are its own (its
//! parser, stemmers and stop words, in every language it knows), and a query's words are
//! stemmed by it too, once per word (remembered for the life of the index), or the whole
//! query read by `websearch_to_tsquery` when it uses the syntax ("phrases", -exclusions,
//! or). The index is bounded by bytes (`SEARCH_INDEX_MB`); content larger than that is
//! searched by Postgres's own index, as is every query the index does not answer.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;

use super::tstext::{self, Position, Query};
use crate::db::Db;
use crate::error::Result;

/// A published post, page or service.
pub struct Doc {
    /// A post or a page (of the blog's table), not a service.
    pub is_post: bool,
    pub is_page: bool,
    pub slug: Box<str>,
    pub title: Box<str>,
    pub published_at: Option<DateTime<Utc>>,
    /// How many word positions it has (for the length normalization of ranking).
    length: u32,
}

/// The documents holding one lexeme, in document order, each with its positions.
#[derive(Default)]
struct Postings {
    docs: Vec<u32>,
    /// Where each document's positions start in `positions` (one more than `docs`).
    starts: Vec<u32>,
    positions: Vec<Position>,
}

impl Postings {
    fn positions_of(&self, doc: u32) -> Option<&[Position]> {
        let i = self.docs.binary_search(&doc).ok()?;
        let (from, to) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        Some(&self.positions[from..to])
    }

    fn bytes(&self) -> usize {
        self.docs.capacity() * 4 + self.starts.capacity() * 4 + self.positions.capacity() * 2
    }
}

/// The documents written in one language.
struct Language {
    code: String,
    /// The text search configuration Postgres uses for it (`english`, or `simple`).
    config: String,
    terms: HashMap<Box<str>, Postings>,
    docs: Vec<u32>,
    average_length: f32,
}

/// How Postgres stems one plain word in one language.
#[derive(Clone)]
enum Stem {
    /// A stop word: searched for, it asks nothing.
    Stop,
    One(Box<str>),
    /// More than one lexeme: the index leaves the query to Postgres.
    Several,
}

pub struct SearchIndex {
    docs: Vec<Doc>,
    languages: Vec<Language>,
    /// Plain words as each language stems them (by language), as they are asked for.
    stems: Mutex<Vec<HashMap<Box<str>, Stem>>>,
    bytes: usize,
}

/// The most words whose stems are remembered; past it they are forgotten and asked again.
const REMEMBERED_STEMS: usize = 20_000;

/// What one hit is: the document and its score.
pub struct Scored<'a> {
    pub doc: &'a Doc,
    pub score: f32,
    /// The lexemes the query looks for in the document's language (for its snippet).
    pub wanted: Vec<String>,
}

impl SearchIndex {
    /// The index of the published content, or `None` when it would hold more than
    /// `max_bytes` (reading stops there).
    pub async fn build(db: &Db, max_bytes: usize) -> Result<Option<Self>> {
        let mut rows = sqlx::query!(
            r#"
            select true as "is_post!", kind = 'page' as "is_page!", slug as "slug!",
                   title as "title!", published_at, language as "language!",
                   search::text as "search!"
            from posts where status = 'published'
            union all
            select false, false, slug, title, null, language, search::text from published_services
            "#
        )
        .fetch(db);
        let mut index = SearchIndex {
            docs: Vec::new(),
            languages: Vec::new(),
            stems: Mutex::default(),
            bytes: 0,
        };
        while let Some(row) = rows.try_next().await? {
            let Some(lexemes) = tstext::lexemes(&row.search) else {
                return Err(anyhow::anyhow!("a stored search vector is not a tsvector").into());
            };
            let language = match index.languages.iter().position(|l| l.code == row.language) {
                Some(i) => i,
                None => {
                    index.languages.push(Language {
                        code: row.language.clone(),
                        config: String::new(),
                        terms: HashMap::new(),
                        docs: Vec::new(),
                        average_length: 0.0,
                    });
                    index.languages.len() - 1
                }
            };
            let n = u32::try_from(index.docs.len()).map_err(anyhow::Error::from)?;
            let mut length = 0u32;
            let terms = &mut index.languages[language].terms;
            for (lexeme, positions) in lexemes {
                length += u32::try_from(positions.len()).unwrap_or(u32::MAX);
                let postings = match terms.get_mut(lexeme.as_str()) {
                    Some(p) => p,
                    None => {
                        index.bytes += lexeme.len() + 96;
                        terms.entry(lexeme.into_boxed_str()).or_default()
                    }
                };
                if postings.starts.is_empty() {
                    postings.starts.push(0);
                }
                postings.docs.push(n);
                postings.positions.extend_from_slice(&positions);
                let end = u32::try_from(postings.positions.len()).map_err(anyhow::Error::from)?;
                postings.starts.push(end);
                index.bytes += 8 + positions.len() * 2;
            }
            index.languages[language].docs.push(n);
            index.bytes += 64 + row.slug.len() + row.title.len();
            index.docs.push(Doc {
                is_post: row.is_post,
                is_page: row.is_page,
                slug: row.slug.into_boxed_str(),
                title: row.title.into_boxed_str(),
                published_at: row.published_at,
                length,
            });
            if index.bytes > max_bytes {
                return Ok(None);
            }
        }
        drop(rows);

        let codes: Vec<String> = index.languages.iter().map(|l| l.code.clone()).collect();
        let configs = sqlx::query!(
            r#"select l as "language!", text_search_config(l)::text as "config!"
               from unnest($1::text[]) as l"#,
            &codes
        )
        .fetch_all(db)
        .await?;
        for row in configs {
            if let Some(language) = index.languages.iter_mut().find(|l| l.code == row.language) {
                language.config = row.config;
            }
        }
        let docs = &index.docs;
        let mut bytes = docs.capacity() * std::mem::size_of::<Doc>();
        for language in &mut index.languages {
            let total: u64 = language
                .docs
                .iter()
                .map(|&d| u64::from(docs[d as usize].length))
                .sum();
            language.average_length = total as f32 / language.docs.len().max(1) as f32;
            for postings in language.terms.values_mut() {
                postings.docs.shrink_to_fit();
                postings.starts.shrink_to_fit();
                postings.positions.shrink_to_fit();
                bytes += postings.bytes() + 96;
            }
            bytes += language.terms.keys().map(|k| k.len()).sum::<usize>();
            bytes += language.docs.capacity() * 4;
        }
        bytes += docs
            .iter()
            .map(|d| d.slug.len() + d.title.len())
            .sum::<usize>();
        index.bytes = bytes;
        Ok(Some(index))
    }

    /// Roughly how many bytes the index holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// `q` as each language reads it (in the order of the index's languages), or `None`
    /// when the index does not answer it (Postgres does, then).
    pub async fn read(&self, db: &Db, q: &str) -> Result<Option<Vec<Query>>> {
        // Plain words only: each is looked for, as `websearch_to_tsquery` would look for it.
        let plain: Option<Vec<String>> = q
            .split_whitespace()
            .map(|w| {
                let lower = w.to_lowercase();
                (lower != "or" && w.chars().all(char::is_alphanumeric)).then_some(lower)
            })
            .collect();
        if let Some(words) = plain {
            let stems = self.stems(db, &words).await?;
            let mut queries = Vec::with_capacity(self.languages.len());
            for per_word in stems {
                let mut terms = Vec::new();
                for stem in per_word {
                    match stem {
                        Stem::Stop => {}
                        Stem::One(lexeme) => terms.push(Query::Term(lexeme.into())),
                        Stem::Several => return self.read_syntax(db, q).await,
                    }
                }
                queries.push(match terms.len() {
                    0 => Query::Empty,
                    1 => terms.remove(0),
                    _ => Query::And(terms),
                });
            }
            return Ok(Some(queries));
        }
        self.read_syntax(db, q).await
    }

    /// The query read by Postgres's `websearch_to_tsquery` in each language.
    async fn read_syntax(&self, db: &Db, q: &str) -> Result<Option<Vec<Query>>> {
        let configs: Vec<String> = self.languages.iter().map(|l| l.config.clone()).collect();
        let rows = sqlx::query!(
            r#"select websearch_to_tsquery(c.config::regconfig, $2)::text as "query!"
               from unnest($1::text[]) with ordinality as c(config, n) order by c.n"#,
            &configs,
            q
        )
        .fetch_all(db)
        .await?;
        Ok(rows.iter().map(|r| tstext::query(&r.query)).collect())
    }

    /// How each language stems each of `words` (lowercase plain words): per language, per
    /// word. Words not seen before are stemmed by Postgres, in one statement.
    async fn stems(&self, db: &Db, words: &[String]) -> Result<Vec<Vec<Stem>>> {
        let missing: Vec<(usize, &str)> = {
            let known = self.remembered();
            (0..self.languages.len())
                .flat_map(|l| words.iter().map(move |w| (l, w.as_str())))
                .filter(|(l, w)| !known.get(*l).is_some_and(|k| k.contains_key(*w)))
                .collect()
        };
        if !missing.is_empty() {
            let configs: Vec<String> = missing
                .iter()
                .map(|(l, _)| self.languages[*l].config.clone())
                .collect();
            let asked: Vec<String> = missing.iter().map(|(_, w)| (*w).to_owned()).collect();
            let rows = sqlx::query!(
                r#"select t.n as "n!", strip(to_tsvector(t.config::regconfig, t.word))::text as "vector!"
                   from unnest($1::text[], $2::text[]) with ordinality as t(config, word, n)"#,
                &configs,
                &asked
            )
            .fetch_all(db)
            .await?;
            let mut known = self.remembered();
            if known.iter().map(HashMap::len).sum::<usize>() + rows.len() > REMEMBERED_STEMS {
                known.iter_mut().for_each(HashMap::clear);
            }
            known.resize_with(self.languages.len(), HashMap::new);
            for row in rows {
                let Some(&(language, word)) =
                    usize::try_from(row.n - 1).ok().and_then(|i| missing.get(i))
                else {
                    continue;
                };
                let stem = match tstext::lexemes(&row.vector).as_deref() {
                    Some([]) => Stem::Stop,
                    Some([(lexeme, _)]) => Stem::One(lexeme.as_str().into()),
                    _ => Stem::Several,
                };
                known[language].insert(word.into(), stem);
            }
        }
        let known = self.remembered();
        Ok((0..self.languages.len())
            .map(|l| {
                words
                    .iter()
                    .map(|w| {
                        known
                            .get(l)
                            .and_then(|k| k.get(w.as_str()))
                            .cloned()
                            .unwrap_or(Stem::Several)
                    })
                    .collect()
            })
            .collect())
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Vec<HashMap<Box<str>, Stem>>> {
        self.stems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether one of `words` (lowercase plain words) is in no document, in any language:
    /// a stop word is known. `None` when the index cannot tell (a word Postgres reads as
    /// more than one lexeme).
    pub async fn has_unknown_word(&self, db: &Db, words: &[String]) -> Result<Option<bool>> {
        let stems = self.stems(db, words).await?;
        let mut known = vec![false; words.len()];
        for (language, per_word) in self.languages.iter().zip(stems) {
            for (known, stem) in known.iter_mut().zip(per_word) {
                *known |= match stem {
                    Stem::Stop => true,
                    Stem::One(lexeme) => language.terms.contains_key(&lexeme),
                    Stem::Several => return Ok(None),
                };
            }
        }
        Ok(Some(known.contains(&false)))
    }

    /// The best `limit` documents matching the queries (one per language, as
    /// [`SearchIndex::read`] gives them), best first (ties by title).
    pub fn search(&self, queries: &[Query], limit: usize) -> Vec<Scored<'_>> {
        let mut hits: Vec<(u32, f32, usize)> = Vec::new();
        for (l, (language, query)) in self.languages.iter().zip(queries).enumerate() {
            let found = match self.matching(language, query) {
                Set::In(docs) => docs,
                Set::Out(docs) => difference(&language.docs, &docs),
            };
            if found.is_empty() {
                continue;
            }
            let wanted: Vec<(&Postings, f32)> = query
                .wanted()
                .into_iter()
                .filter_map(|lexeme| language.terms.get(lexeme))
                .map(|postings| {
                    // BM25's inverse document frequency.
                    let n = language.docs.len() as f32;
                    let df = postings.docs.len() as f32;
                    (postings, ((n - df + 0.5) / (df + 0.5) + 1.0).ln())
                })
                .collect();
            for doc in found {
                let score = self.score(language, doc, &wanted);
                hits.push((doc, score, l));
            }
        }
        hits.sort_by(|a, b| {
            b.1.total_cmp(&a.1).then_with(|| {
                self.docs[a.0 as usize]
                    .title
                    .cmp(&self.docs[b.0 as usize].title)
            })
        });
        hits.truncate(limit);
        hits.into_iter()
            .map(|(doc, score, l)| Scored {
                doc: &self.docs[doc as usize],
                // Scaled into 0 to 1, as Postgres's ranks were.
                score: score / (score + 1.0),
                wanted: queries[l].wanted().into_iter().map(str::to_owned).collect(),
            })
            .collect()
    }

    /// BM25 over the weighted occurrences: an occurrence in the title counts five times one
    /// in the body, as Postgres's default weights have it.
    fn score(&self, language: &Language, doc: u32, wanted: &[(&Postings, f32)]) -> f32 {
        const K1: f32 = 1.2;
        const B: f32 = 0.75;
        let length = self.docs[doc as usize].length as f32;
        let norm = 1.0 - B + B * length / language.average_length.max(1.0);
        wanted
            .iter()
            .filter_map(|(postings, idf)| {
                let positions = postings.positions_of(doc)?;
                let tf: f32 = positions.iter().map(|&p| tstext::weight(p)).sum();
                Some(idf * tf * (K1 + 1.0) / (tf + K1 * norm))
            })
            .sum()
    }

    /// The documents of `language` that `query` matches.
    fn matching(&self, language: &Language, query: &Query) -> Set {
        let docs_of = |lexeme: &str| {
            language
                .terms
                .get(lexeme)
                .map(|p| p.docs.clone())
                .unwrap_or_default()
        };
        match query {
            Query::Empty => Set::In(Vec::new()),
            Query::Term(lexeme) => Set::In(docs_of(lexeme)),
            Query::Phrase(words) => {
                let postings: Option<Vec<(&Postings, u16)>> = words
                    .iter()
                    .map(|(w, offset)| language.terms.get(w.as_str()).map(|p| (p, *offset)))
                    .collect();
                let Some(postings) = postings else {
                    return Set::In(Vec::new());
                };
                let mut docs = postings[0].0.docs.clone();
                for (p, _) in &postings[1..] {
                    docs = intersection(&docs, &p.docs);
                }
                docs.retain(|&doc| in_sequence(&postings, doc));
                Set::In(docs)
            }
            Query::Not(inner) => match self.matching(language, inner) {
                Set::In(docs) => Set::Out(docs),
                Set::Out(docs) => Set::In(docs),
            },
            Query::And(parts) => parts
                .iter()
                .map(|p| self.matching(language, p))
                .reduce(|a, b| match (a, b) {
                    (Set::In(a), Set::In(b)) => Set::In(intersection(&a, &b)),
                    (Set::In(a), Set::Out(b)) | (Set::Out(b), Set::In(a)) => {
                        Set::In(difference(&a, &b))
                    }
                    (Set::Out(a), Set::Out(b)) => Set::Out(union(&a, &b)),
                })
                .unwrap_or(Set::In(Vec::new())),
            Query::Or(parts) => parts
                .iter()
                .map(|p| self.matching(language, p))
                .reduce(|a, b| match (a, b) {
                    (Set::In(a), Set::In(b)) => Set::In(union(&a, &b)),
                    (Set::In(a), Set::Out(b)) | (Set::Out(b), Set::In(a)) => {
                        Set::Out(difference(&b, &a))
                    }
                    (Set::Out(a), Set::Out(b)) => Set::Out(intersection(&a, &b)),
                })
                .unwrap_or(Set::In(Vec::new())),
        }
    }
}

/// Documents, or every document but these.
enum Set {
    In(Vec<u32>),
    Out(Vec<u32>),
}

/// Whether the phrase's lexemes occur in `doc` at their distances from the first.
fn in_sequence(postings: &[(&Postings, u16)], doc: u32) -> bool {
    let lists: Option<Vec<(Vec<u16>, u16)>> = postings
        .iter()
        .map(|(p, offset)| {
            let mut at: Vec<u16> = p
                .positions_of(doc)?
                .iter()
                .map(|&x| tstext::position(x))
                .collect();
            at.sort_unstable();
            Some((at, *offset))
        })
        .collect();
    let Some(lists) = lists else { return false };
    lists[0].0.iter().any(|&start| {
        lists[1..].iter().all(|(at, offset)| {
            start
                .checked_add(*offset)
                .is_some_and(|want| at.binary_search(&want).is_ok())
        })
    })
}

fn intersection(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                i += 1;
                j += 1;
                x
            }
            (Some(&x), Some(&y)) if x < y => {
                i += 1;
                x
            }
            (Some(_), Some(&y)) | (None, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => break,
        };
        out.push(next);
    }
    out
}

/// What of `a` is not in `b`.
fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    a.iter()
        .copied()
        .filter(|x| b.binary_search(x).is_err())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_combine() {
        assert_eq!(intersection(&[1, 3, 5, 7], &[3, 4, 7]), [3, 7]);
        assert_eq!(union(&[1, 5], &[2, 5, 9]), [1, 2, 5, 9]);
        assert_eq!(difference(&[1, 2, 3], &[2]), [1, 3]);
        assert_eq!(union(&[], &[4]), [4]);
    }

    fn postings(entries: &[(u32, &[u16])]) -> Postings {
        let mut p = Postings {
            starts: vec![0],
            ..Postings::default()
        };
        for (doc, at) in entries {
            p.docs.push(*doc);
            p.positions.extend_from_slice(at);
            p.starts.push(p.positions.len() as u32);
        }
        p
    }

    #[test]
    fn phrases_need_their_words_at_their_distances() {
        // "web api": doc 1 has web at 4 and api at 5; doc 2 has them apart.
        let web = postings(&[(1, &[4]), (2, &[1])]);
        let api = postings(&[(1, &[5]), (2, &[9])]);
        assert!(in_sequence(&[(&web, 0), (&api, 1)], 1));
        assert!(!in_sequence(&[(&web, 0), (&api, 1)], 2));
        // A stop word between: two words on.
        let production = postings(&[(3, &[7 | (3 << 14)])]);
        let rust = postings(&[(3, &[5])]);
        assert!(in_sequence(&[(&rust, 0), (&production, 2)], 3));
    }
}
