//! Full-text search over published posts and services: web-search syntax ("quoted phrases",
//! -exclusions, or), ranked, with highlighted snippets, and tolerant of small typos: when a
//! query finds nothing, each unknown word is replaced by the closest word of the published
//! content and the search is run again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::cache::{Cached, public_json};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::Query;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find, in web-search syntax: `rust "web api" -java`.
    q: Option<String>,
    /// How many results (1 to 50, default 10).
    limit: Option<i64>,
}

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

/// Searches published posts and services.
#[utoipa::path(get, path = "/v1/search", tag = "blog",
    params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 304, description = "Not modified"),
              (status = 422, description = "Missing or too long query", body = Problem)))]
async fn search(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
    headers: Preconditions,
) -> Result<Response> {
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if q.is_empty() {
        return Err(AppError::field(
            "q",
            "required",
            "q is required: the words to search for",
        ));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::field(
            "q",
            "too_long",
            format!("q must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(AppError::field(
            "limit",
            "out_of_range",
            "limit must be between 1 and 50",
        ));
    }
    public_json(&state, &format!("search:{limit}:{q}"), &headers, || async {
        find(&state, &q, limit).await
    })
    .await
}

/// Published posts and services matching `q`; when nothing matches, the spelling-corrected query's hits.
pub async fn find(state: &AppState, q: &str, limit: i64) -> Result<SearchResults> {
    let items = run(&state.db, q, limit).await?;
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
        let items = run(&state.db, &corrected, limit).await?;
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

async fn run(db: &PgPool, q: &str, limit: i64) -> Result<Vec<SearchHit>> {
    // Rank on the stored vectors first; read the (large) text only for the page of hits.
    let rows = sqlx::query!(
        r#"
        with q as (select websearch_to_tsquery('english', $1) as query),
        hits as (
            select 'post' as kind, p.id, p.slug, p.title,
                   ts_rank_cd(p.search, q.query, 32) as rank, p.published_at
            from posts p, q
            where p.status = 'published' and p.search @@ q.query
            union all
            select 'service', s.id, s.slug, s.title, ts_rank_cd(s.search, q.query, 32), null
            from catalogue_services s, q
            where s.published and s.search @@ q.query
            order by 5 desc, 4
            limit $2
        )
        select hits.kind as "kind!", hits.slug as "slug!", hits.title as "title!",
               hits.rank as "rank!", hits.published_at,
               ts_headline('english', coalesce(p.body_text, s.summary || ' ' || s.body_markdown, ''), q.query,
                   'StartSel=' || $3 || ', StopSel=' || $4 || ', MaxWords=30, MinWords=12, MaxFragments=1')
                   as "snippet!"
        from hits
        cross join q
        left join posts p on hits.kind = 'post' and p.id = hits.id
        left join catalogue_services s on hits.kind = 'service' and s.id = hits.id
        order by hits.rank desc, hits.title
        "#,
        q,
        limit,
        START,
        STOP,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SearchHit {
            path: if r.kind == "post" {
                format!("/v1/posts/{}", r.slug)
            } else {
                format!("/v1/services/{}", r.slug)
            },
            snippet: highlight(&r.snippet),
            kind: r.kind,
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
        Some(format!(
            "{}{}{}",
            &token[..start],
            replacement,
            &token[end..]
        ))
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

async fn lexicon(state: &AppState) -> Result<Arc<Lexicon>> {
    let cached = state
        .cache
        .get_or_build("lexicon", || async {
            let rows = sqlx::query!(
                r#"
                select word as "word!", ndoc as "ndoc!" from ts_stat($$
                    select to_tsvector('simple', title || ' ' || excerpt || ' ' || body_text)
                    from posts where status = 'published'
                    union all
                    select to_tsvector('simple', title || ' ' || summary || ' ' || body_markdown)
                    from catalogue_services where published
                $$)
                "#
            )
            .fetch_all(&state.db)
            .await?;
            Ok(Cached::Lexicon(Arc::new(Lexicon::new(
                rows.into_iter().map(|r| (r.word, r.ndoc)),
            ))))
        })
        .await?;
    match cached {
        Cached::Lexicon(lexicon) => Ok(lexicon),
        _ => Err(anyhow::anyhow!("the lexicon cache key holds another entry").into()),
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
