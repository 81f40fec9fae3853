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

use super::render::escape_html_into;
use crate::cache::Weigh;
use crate::error::Result;
use crate::state::Core;
use crate::validation::Validator;
use index::{Scored, SearchIndex};

mod handlers;
mod index;
mod relevant;
mod tstext;

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
    /// `post`, `page` or `service`.
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

/// Published posts and services matching `q`; when nothing matches, the spelling-corrected
/// query's hits. Searched in the in-process index when the content fits in
/// `SEARCH_INDEX_MB`, else (and for what the index does not answer) by Postgres.
pub async fn find(state: &Core, q: &str, limit: i64) -> Result<SearchResults> {
    let published = published(state).await?;
    let index = index(state, state.config.cache.search_index_max_bytes).await?;
    let engine = Engine {
        db: state.reads(),
        languages: &published.languages[..],
        index: index.as_deref().and_then(Option::as_ref),
    };
    let results = |items, corrected_query| SearchResults {
        query: q.to_owned(),
        corrected_query,
        items,
        next_cursor: None,
    };
    let items = engine.hits(q, limit).await?;
    if !items.is_empty() {
        return Ok(results(items, None));
    }
    // Only a word whose stem no document holds is taken for a typo. Most queries that find
    // nothing are of known words that never meet in one document: the index says so at
    // once, where the lexicon is costly to build after every change of content.
    if !engine.has_unknown_word(q).await? {
        return Ok(results(Vec::new(), None));
    }
    let lexicon = lexicon(state).await?;
    if let Some(corrected) = lexicon.correct(q) {
        let items = engine.hits(&corrected, limit).await?;
        if !items.is_empty() {
            return Ok(results(items, Some(corrected)));
        }
    }
    Ok(results(Vec::new(), None))
}

/// The in-process index of the published content, built once per change of content (by
/// one request while the others wait); inside it, `None` when the content outgrows
/// `max_bytes`. None at all when it is off (`max_bytes` 0), or while this replica does not
/// hear of changes (it could not tell when the index goes stale).
async fn index(state: &Core, max_bytes: usize) -> Result<Option<Arc<Option<SearchIndex>>>> {
    if max_bytes == 0 || !state.cache.is_listening() {
        return Ok(None);
    }
    let index = state
        .cache
        .get_or_build_large(INDEX, || async move {
            // Chosen once the build is this request's: a replica is used only if it has
            // replayed the change that made the index stale.
            let index = SearchIndex::build(state.reads(), max_bytes).await?;
            let bytes = index.as_ref().map_or(0, SearchIndex::bytes);
            metrics::gauge!("search_index_bytes").set(bytes as f64);
            match &index {
                Some(index) => tracing::debug!(bytes = index.bytes(), "search index built"),
                None => tracing::info!(
                    max_bytes,
                    "the published content outgrows SEARCH_INDEX_MB: searches go to Postgres"
                ),
            }
            Ok(index)
        })
        .await?;
    Ok(Some(index))
}

/// Searches run (each query, and each corrected one), by where: `index` or `postgres`.
pub const SEARCHES: &str = "search_queries_total";

/// How many bytes the in-process search index of the current content holds: `None` when
/// there is none (not built since content changed, being built, off, or outgrown).
pub async fn index_bytes(state: &Core) -> Option<usize> {
    let index = state.cache.large::<Option<SearchIndex>>(INDEX)?;
    index.as_ref().as_ref().map(SearchIndex::bytes)
}

const INDEX: &str = "search-index";

/// Where a search is answered: the in-process index when there is one and it answers the
/// query, else Postgres.
struct Engine<'a> {
    db: &'a Db,
    languages: &'a [String],
    index: Option<&'a SearchIndex>,
}

impl Engine<'_> {
    async fn hits(&self, q: &str, limit: i64) -> Result<Vec<SearchHit>> {
        if let Some(index) = self.index {
            if let Some(queries) = index.read(self.db, q).await? {
                let found = index.search(&queries, usize::try_from(limit).unwrap_or(0));
                metrics::counter!(SEARCHES, "engine" => "index").increment(1);
                return with_snippets(self.db, found).await;
            }
        }
        metrics::counter!(SEARCHES, "engine" => "postgres").increment(1);
        run(self.db, self.languages, q, limit).await
    }

    async fn has_unknown_word(&self, q: &str) -> Result<bool> {
        let words: Vec<String> = q
            .split_whitespace()
            .filter_map(|token| correctable(token).map(|(_, _, word)| word))
            .collect();
        if words.is_empty() {
            return Ok(false);
        }
        if let Some(index) = self.index {
            if let Some(unknown) = index.has_unknown_word(self.db, &words).await? {
                return Ok(unknown);
            }
        }
        has_unknown_word(self.db, self.languages, &words).await
    }
}

/// The index's hits as the answer has them, each with its snippet cut from its stored
/// plain text (read for these hits only, by slug).
async fn with_snippets(db: &Db, found: Vec<Scored<'_>>) -> Result<Vec<SearchHit>> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let slugs = |posts: bool| -> Vec<String> {
        found
            .iter()
            .filter(|s| s.doc.is_post == posts)
            .map(|s| s.doc.slug.to_string())
            .collect()
    };
    let texts: HashMap<(bool, String), String> = sqlx::query!(
        r#"
        select true as "is_post!", slug as "slug!", body_text as "text!"
        from posts where status = 'published' and slug = any($1)
        union all
        select false, slug, body_text from published_services where slug = any($2)
        "#,
        &slugs(true),
        &slugs(false)
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| ((r.is_post, r.slug), r.text))
    .collect();
    Ok(found
        .into_iter()
        .map(|s| {
            let slug = s.doc.slug.to_string();
            let text = texts
                .get(&(s.doc.is_post, slug.clone()))
                .map_or("", String::as_str);
            let (kind, path) = if s.doc.is_page {
                ("page", format!("/v1/pages/{slug}"))
            } else if s.doc.is_post {
                ("post", format!("/v1/posts/{slug}"))
            } else {
                ("service", format!("/v1/services/{slug}"))
            };
            SearchHit {
                snippet: snippet(text, &s.wanted),
                kind: kind.to_owned(),
                path,
                slug,
                title: s.doc.title.to_string(),
                rank: s.score,
                published_at: s.doc.published_at,
            }
        })
        .collect())
}

// Markers ts_headline puts around matches; replaced by <mark> after the text is escaped.
const START: &str = "\u{27E6}";
const STOP: &str = "\u{27E7}";

/// How many matching documents of each kind are ranked at most: the newest posts that
/// match, and the services. Below it (nearly every query on a site of a few thousand
/// posts) every match is ranked; above it, only the ranking is bounded (Postgres still
/// finds every match through the index before keeping the newest), and the hits are the
/// best of the newest.
pub const CANDIDATES: i64 = 500;

/// The best `limit` hits among published posts and services, best first, in one statement:
/// the matches found through the GIN indexes, at most [`CANDIDATES`] of each kind ranked on
/// their stored vectors, and only the page of hits read whole. Snippets are cut here from
/// the stored plain text (see [`snippet`]), not re-parsed by Postgres.
async fn run(db: &Db, languages: &[String], q: &str, limit: i64) -> Result<Vec<SearchHit>> {
    let rows = sqlx::query!(
        r#"
        with q as (
            select l as language, websearch_to_tsquery(text_search_config(l), $1) as query,
                   tsvector_to_array(to_tsvector(text_search_config(l), $1)) as stems
            from unnest($3::text[]) as l
        ),
        candidates as (
            (select p.kind, p.slug, p.title, p.published_at, p.search, q.query, q.language
             from posts p join q on p.language = q.language
             where p.status = 'published' and p.search @@ q.query
             order by p.published_at desc
             limit $4)
            union all
            (select 'service', s.slug, s.title, null::timestamptz, s.search, q.query, q.language
             from published_services s join q on s.language = q.language
             where s.search @@ q.query
             limit $4)
        ),
        ranked as (
            select kind, slug, title, published_at, language, ts_rank_cd(search, query, 32) as rank
            from candidates
            order by rank desc, title
            limit $2
        )
        select r.kind as "kind!", r.slug as "slug!", r.title as "title!", r.published_at,
               r.rank as "rank!", q.stems as "stems!",
               coalesce(p.body_text, s.body_text, '') as "text!"
        from ranked r
        join q on q.language = r.language
        left join posts p on r.kind <> 'service' and p.slug = r.slug
        left join published_services s on r.kind = 'service' and s.slug = r.slug
        order by r.rank desc, r.title
        "#,
        q,
        limit,
        languages,
        CANDIDATES,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let path = match r.kind.as_str() {
                "post" => format!("/v1/posts/{}", r.slug),
                "page" => format!("/v1/pages/{}", r.slug),
                _ => format!("/v1/services/{}", r.slug),
            };
            SearchHit {
                snippet: snippet(&r.text, &r.stems),
                kind: r.kind,
                path,
                slug: r.slug,
                title: r.title,
                rank: r.rank,
                published_at: r.published_at,
            }
        })
        .collect())
}

/// Whether one of `words` (see [`correctable`]) is in no published document, in any of the
/// content's languages. Stop words are known.
async fn has_unknown_word(db: &Db, languages: &[String], words: &[String]) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"
        select coalesce(bool_or(not known), false) as "unknown!" from (
            select bool_or(numnode(plainto_tsquery(text_search_config(l), w)) = 0
                           or exists(select 1 from posts p
                                     where p.status = 'published' and p.language = l
                                       and p.search @@ plainto_tsquery(text_search_config(l), w))
                           or exists(select 1 from published_services s
                                     where s.language = l
                                       and s.search @@ plainto_tsquery(text_search_config(l), w))) as known
            from unnest($1::text[]) as w, unnest($2::text[]) as l
            group by w
        ) words
        "#,
        words,
        languages
    )
    .fetch_one(db)
    .await?)
}

/// The word of a query's token that a typo correction may replace: the token without
/// surrounding punctuation (quotes, a leading `-`), lowercased, when it is a plain word of
/// four characters or more other than `or`. With where it starts and ends in the token.
fn correctable(token: &str) -> Option<(usize, usize, String)> {
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
    Some((start, end, lower))
}

/// The most words a snippet holds.
const SNIPPET_WORDS: usize = 30;
/// Words of context kept before the first match.
const SNIPPET_LEAD: usize = 5;

/// About [`SNIPPET_WORDS`] words of `text` where the query's words are densest (its
/// beginning when none is there: the match was in the title), escaped as HTML, each
/// matching word in `<mark>`. `stems` are the query's words as the text search
/// configuration stems them; a word of the text matches a stem it starts with (or, for
/// stems of five letters or more, shares all but the stem's last letter with: "queri" and
/// "query").
pub fn snippet(text: &str, stems: &[String]) -> String {
    let words: Vec<(usize, usize)> = word_spans(text);
    if words.is_empty() {
        return String::new();
    }
    let matched: Vec<bool> = words
        .iter()
        .map(|&(start, end)| {
            let word = text[start..end].to_lowercase();
            stems.iter().any(|stem| stem_matches(&word, stem))
        })
        .collect();
    let mut best = (0, 0);
    for (i, _) in matched.iter().enumerate().filter(|(_, m)| **m) {
        let from = i.saturating_sub(SNIPPET_LEAD);
        let count = matched[from..(from + SNIPPET_WORDS).min(words.len())]
            .iter()
            .filter(|m| **m)
            .count();
        if count > best.1 {
            best = (from, count);
        }
    }
    let from = best.0;
    let to = (from + SNIPPET_WORDS).min(words.len());
    let mut out = String::with_capacity(text.len().min(400));
    let mut at = words[from].0;
    for (&(start, end), &hit) in words[from..to].iter().zip(&matched[from..to]) {
        escape_html_into(&mut out, &text[at..start]);
        if hit {
            out.push_str("<mark>");
            escape_html_into(&mut out, &text[start..end]);
            out.push_str("</mark>");
        } else {
            escape_html_into(&mut out, &text[start..end]);
        }
        at = end;
    }
    out
}

/// Byte ranges of the words of `text`: runs of letters and digits.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

fn stem_matches(word: &str, stem: &str) -> bool {
    if stem.is_empty() {
        return false;
    }
    if word.starts_with(stem) {
        return true;
    }
    let stem_len = stem.chars().count();
    stem_len >= 5
        && word
            .chars()
            .zip(stem.chars())
            .take_while(|(a, b)| a == b)
            .count()
            >= stem_len - 1
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
        let (start, end, lower) = correctable(token)?;
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

/// The words of published posts and services, cached until content changes.
async fn lexicon(state: &Core) -> Result<Arc<Lexicon>> {
    if let Some(Some(lexicon)) = state.cache.cached::<Lexicon>("lexicon") {
        return Ok(lexicon);
    }
    // Built by one request at a time: the others wait for it and find it cached, rather
    // than each reading every document at once.
    static BUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _building = BUILDING.lock().await;
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

    fn stems(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn snippets_mark_every_form_of_the_query_words_and_escape_the_rest() {
        let text = "Caching <fast> & cheap: the cache caches cached queries; a query per page.";
        let got = snippet(text, &stems(&["cach", "queri"]));
        assert_eq!(
            got,
            "<mark>Caching</mark> &lt;fast&gt; &amp; cheap: the <mark>cache</mark> <mark>caches</mark> <mark>cached</mark> <mark>queries</mark>; a <mark>query</mark> per page"
        );
    }

    #[test]
    fn snippets_start_near_the_densest_matches() {
        let filler: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
        let text = format!(
            "{} postgres here {} postgres and rust",
            filler[..40].join(" "),
            filler[40..].join(" ")
        );
        let got = snippet(&text, &stems(&["postgr", "rust"]));
        assert!(
            got.contains("<mark>postgres</mark> and <mark>rust</mark>"),
            "{got}"
        );
        assert!(!got.contains("word0 "), "{got}");
        assert!(got.split_whitespace().count() <= SNIPPET_WORDS, "{got}");
    }

    #[test]
    fn without_a_match_in_the_text_a_snippet_is_its_beginning() {
        let text = (0..50)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let got = snippet(&text, &stems(&["absent"]));
        assert!(got.starts_with("w0 w1"), "{got}");
        assert_eq!(got.split_whitespace().count(), SNIPPET_WORDS);
        assert_eq!(snippet("", &stems(&["x"])), "");
        assert!(!snippet("cat cactus", &stems(&["cach"])).contains("<mark>"));
    }

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
