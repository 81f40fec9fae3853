//! Full-text search over published posts and services: web-search syntax ("quoted phrases",
//! -exclusions, or), ranked, with highlighted snippets, and tolerant of small typos: when a
//! query finds nothing, each unknown word is replaced by the closest word of the published
//! content and the search is run again.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::cache::Weigh;
use crate::error::Result;
use crate::state::Core;
use crate::validation::Validator;

mod handlers;
mod relevant;

pub use handlers::router;
pub use relevant::{Idea, Relevant, relevant};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    /// Set when the query found nothing and a corrected one did.
    pub corrected_query: Option<String>,
    pub items: Vec<SearchHit>,
    /// Always null: the best `limit` matches are the answer (the same list shape as
    /// every other list).
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// `post` or `service`.
    pub kind: String,
    pub slug: String,
    pub title: String,
    /// Where to read it in this API.
    pub path: String,
    /// Text around the matches; matches are wrapped in `<mark>`, everything else is escaped.
    pub snippet: String,
    pub rank: f32,
    pub published_at: Option<DateTime<Utc>>,
}

pub const MAX_QUERY_CHARS: usize = 200;

/// Published posts and services matching `q`; when nothing matches, the spelling-corrected query's hits.
pub async fn find(state: &Core, q: &str, limit: i64) -> Result<SearchResults> {
    let languages = languages(state).await?;
    let items = run(state.reads(), &languages, q, limit).await?;
    if !items.is_empty() {
        return Ok(SearchResults {
            query: q.to_owned(),
            corrected_query: None,
            items,
            next_cursor: None,
        });
    }
    let lexicon = lexicon(state).await?;
    if let Some(corrected) = lexicon.correct(q) {
        let items = run(state.reads(), &languages, &corrected, limit).await?;
        if !items.is_empty() {
            return Ok(SearchResults {
                query: q.to_owned(),
                corrected_query: Some(corrected),
                items,
                next_cursor: None,
            });
        }
    }
    Ok(SearchResults {
        query: q.to_owned(),
        corrected_query: None,
        items: Vec::new(),
        next_cursor: None,
    })
}

// Markers ts_headline puts around matches; replaced by <mark> after the text is escaped.
const START: &str = "\u{27E6}";
const STOP: &str = "\u{27E7}";

/// The best `limit` hits among published posts (ranked here) and services (ranked by the
/// catalogue, with the same ranking), best first.
async fn run(db: &Db, languages: &[String], q: &str, limit: i64) -> Result<Vec<SearchHit>> {
    let (posts, services) = tokio::try_join!(
        posts(db, languages, q, limit),
        crate::catalogue::search(db, languages, q, limit, START, STOP)
    )?;
    let mut hits: Vec<SearchHit> = posts
        .into_iter()
        .chain(services.into_iter().map(|s| SearchHit {
            kind: "service".into(),
            path: format!("/v1/services/{}", s.slug),
            snippet: highlight(&s.snippet),
            slug: s.slug,
            title: s.title,
            rank: s.rank,
            published_at: None,
        }))
        .collect();
    hits.sort_by(|a, b| {
        b.rank
            .total_cmp(&a.rank)
            .then_with(|| a.title.cmp(&b.title))
    });
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(hits)
}

async fn posts(db: &Db, languages: &[String], q: &str, limit: i64) -> Result<Vec<SearchHit>> {
    // The query is stemmed in each language the content is written in, and matched against
    // the posts in that language. Rank on the stored vectors first; read the (large) text
    // only for the page of hits.
    let rows = sqlx::query!(
        r#"
        with q as (
            select l as language, websearch_to_tsquery(text_search_config(l), $1) as query
            from unnest($5::text[]) as l
        ),
        hits as (
            select p.id, p.slug, p.title, ts_rank_cd(p.search, q.query, 32) as rank,
                   p.published_at, q.query
            from posts p join q on p.language = q.language
            where p.status = 'published' and p.search @@ q.query
            order by 4 desc, 3
            limit $2
        )
        select hits.slug as "slug!", hits.title as "title!", hits.rank as "rank!",
               hits.published_at,
               ts_headline(text_search_config(p.language), p.body_text, hits.query,
                   'StartSel=' || $3 || ', StopSel=' || $4 || ', MaxWords=30, MinWords=12, MaxFragments=1')
                   as "snippet!"
        from hits join posts p on p.id = hits.id
        order by hits.rank desc, hits.title
        "#,
        q,
        limit,
        START,
        STOP,
        languages
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SearchHit {
            kind: "post".into(),
            path: format!("/v1/posts/{}", r.slug),
            snippet: highlight(&r.snippet),
            slug: r.slug,
            title: r.title,
            rank: r.rank,
            published_at: r.published_at,
        })
        .collect())
}

/// Escapes the snippet as HTML, then turns the match markers into `<mark>`.
fn highlight(snippet: &str) -> String {
    let escaped = snippet
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    escaped.replace(START, "<mark>").replace(STOP, "</mark>")
}

/// The distinct words of published content with the number of documents holding each.
pub struct Lexicon {
    words: HashMap<String, i32>,
}

impl Lexicon {
    pub fn new(words: impl IntoIterator<Item = (String, i32)>) -> Self {
        Self {
            words: words.into_iter().collect(),
        }
    }

    pub fn weight(&self) -> usize {
        self.words.keys().map(|w| w.len() + 32).sum()
    }

    /// The query with each unknown word replaced by the nearest known one, if any changed.
    /// Operators, quotes and exclusions are kept.
    pub fn correct(&self, query: &str) -> Option<String> {
        let mut changed = false;
        let corrected: Vec<String> = query
            .split_whitespace()
            .map(|token| match self.correct_token(token) {
                Some(fixed) => {
                    changed = true;
                    fixed
                }
                None => token.to_owned(),
            })
            .collect();
        changed.then(|| corrected.join(" "))
    }

    fn correct_token(&self, token: &str) -> Option<String> {
        let start = token
            .char_indices()
            .find(|(_, c)| c.is_alphanumeric())
            .map(|(i, _)| i)?;
        let end = token
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_alphanumeric())
            .map(|(i, c)| i + c.len_utf8())?;
        let word = &token[start..end];
        let lower = word.to_lowercase();
        if lower == "or" || !word.chars().all(char::is_alphanumeric) || word.chars().count() < 4 {
            return None;
        }
        if self.words.contains_key(&lower) {
            return None;
        }
        let replacement = self.nearest(&lower)?;
        // "accountant" is not a typo of "account": another form of a word is another word
        // (and stemming already finds the forms that mean the same).
        if replacement.starts_with(&lower) || lower.starts_with(replacement) {
            return None;
        }
        Some(format!(
            "{}{}{}",
            &token[..start],
            replacement,
            &token[end..]
        ))
    }

    /// The known words as near to an unknown `word` as the nearest ("loging": "logging" and
    /// "login"), the commonest first; none for a known word, a short one, or another form of
    /// a known word.
    pub fn corrections(&self, word: &str) -> Vec<String> {
        let lower = word.to_lowercase();
        if lower.chars().count() < 4
            || !lower.chars().all(char::is_alphanumeric)
            || self.words.contains_key(&lower)
        {
            return Vec::new();
        }
        let allowed = if lower.chars().count() <= 5 { 1 } else { 2 };
        let mut near: Vec<(usize, i32, &str)> = self
            .words
            .iter()
            .filter(|(known, _)| known.len().abs_diff(lower.len()) <= allowed)
            .map(|(known, docs)| {
                (
                    strsim::damerau_levenshtein(&lower, known),
                    *docs,
                    known.as_str(),
                )
            })
            .filter(|(distance, _, known)| {
                *distance <= allowed && !known.starts_with(&lower) && !lower.starts_with(known)
            })
            .collect();
        let Some(best) = near.iter().map(|n| n.0).min() else {
            return Vec::new();
        };
        near.retain(|n| n.0 == best);
        near.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(b.2)));
        near.into_iter().take(3).map(|n| n.2.to_owned()).collect()
    }

    /// The known word closest to `word` (one edit for short words, two for long ones),
    /// the most common on ties.
    fn nearest(&self, word: &str) -> Option<&str> {
        let allowed = if word.chars().count() <= 5 { 1 } else { 2 };
        self.words
            .iter()
            .filter(|(known, _)| known.len().abs_diff(word.len()) <= allowed)
            .map(|(known, docs)| (strsim::damerau_levenshtein(word, known), *docs, known))
            .filter(|(distance, _, _)| *distance <= allowed)
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)))
            .map(|(_, _, known)| known.as_str())
    }
}

impl Weigh for Lexicon {
    fn weight(&self) -> usize {
        Lexicon::weight(self)
    }
}

/// The words of the published content nearest to `word` (all as near as the nearest), when
/// the content does not know `word` itself (a misspelling); none when it knows it or nothing
/// is near.
pub async fn correct_word(state: &Core, word: &str) -> Result<Vec<String>> {
    let lexicon = lexicon(state).await?;
    let word = word.to_owned();
    // Measuring against every word of the content is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || lexicon.corrections(&word))
        .await
        .map_err(|e| anyhow::anyhow!("correcting a word failed: {e}").into())
}

/// The languages published posts and services are written in, and how many there are,
/// cached until content changes.
pub(super) struct Published {
    pub languages: Vec<String>,
    pub documents: i64,
}

impl Weigh for Published {
    fn weight(&self) -> usize {
        48 + self.languages.len() * 8
    }
}

pub(super) async fn published(state: &Core) -> Result<Arc<Published>> {
    state
        .cache
        .get_or_build("content-languages", || async {
            let rows = sqlx::query!(
                r#"select language as "language!", count(*) as "n!" from (
                       select language from posts where status = 'published'
                       union all select language from published_services) d
                   group by language"#
            )
            .fetch_all(state.reads())
            .await?;
            Ok(Some(Published {
                documents: rows.iter().map(|r| r.n).sum(),
                languages: rows.into_iter().map(|r| r.language).collect(),
            }))
        })
        .await?
        .ok_or_else(|| anyhow::anyhow!("the languages are always found").into())
}

async fn languages(state: &Core) -> Result<Vec<String>> {
    Ok(published(state).await?.languages.clone())
}

/// The words of published posts and services, cached until content changes.
async fn lexicon(state: &Core) -> Result<Arc<Lexicon>> {
    state
        .cache
        .get_or_build("lexicon", || async {
            let posts = sqlx::query!(
                r#"
                select word as "word!", ndoc as "ndoc!" from ts_stat($$
                    select to_tsvector('simple', title || ' ' || excerpt || ' ' || body_text)
                    from posts where status = 'published'
                $$)
                "#
            )
            .fetch_all(state.reads())
            .await?;
            let services = crate::catalogue::words(state.reads()).await?;
            let mut words: HashMap<String, i32> = HashMap::new();
            for (word, docs) in posts.into_iter().map(|r| (r.word, r.ndoc)).chain(services) {
                *words.entry(word).or_default() += docs;
            }
            Ok(Some(Lexicon::new(words)))
        })
        .await?
        .ok_or_else(|| anyhow::anyhow!("the lexicon is always built").into())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find, in web-search syntax: `rust "web api" -java`.
    q: Option<String>,
    /// How many results (1 to 50, default 10).
    limit: Option<i64>,
}

impl SearchQuery {
    /// The query text and how many hits.
    pub fn validate(&self) -> Result<(String, i64)> {
        let mut v = Validator::new();
        let q = v.required_text("q", self.q.as_deref().unwrap_or_default(), MAX_QUERY_CHARS);
        let limit = v.range("limit", self.limit.unwrap_or(10), 1, 50);
        v.finish()?;
        Ok((q, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        Lexicon::new(
            [
                ("rust", 9),
                ("services", 4),
                ("service", 6),
                ("kubernetes", 2),
                ("postgres", 3),
            ]
            .into_iter()
            .map(|(w, n)| (w.to_owned(), n)),
        )
    }

    #[test]
    fn small_typos_are_corrected() {
        let l = lexicon();
        assert_eq!(l.correct("kubernets").as_deref(), Some("kubernetes"));
        assert_eq!(l.correct("postgers rust").as_deref(), Some("postgres rust"));
        assert_eq!(
            l.correct("servce").as_deref(),
            Some("service"),
            "the commoner word wins"
        );
    }

    #[test]
    fn syntax_and_known_words_are_kept() {
        let l = lexicon();
        assert_eq!(
            l.correct("\"kubernets\" -postgers").as_deref(),
            Some("\"kubernetes\" -postgres")
        );
        assert_eq!(l.correct("rust or postgres"), None);
        assert_eq!(l.correct("zzzzzzzz"), None, "nothing close enough");
        assert_eq!(l.correct("rst"), None, "short words are left alone");
    }

    #[test]
    fn snippets_are_escaped_except_the_marks() {
        let s = highlight(&format!("a <script> {START}rust{STOP} & more"));
        assert_eq!(s, "a &lt;script&gt; <mark>rust</mark> &amp; more");
    }
}
