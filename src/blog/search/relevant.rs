//! Content relevant to a question in a visitor's own words: not "every word must match" (a
//! search box's rule), but how much of what the question is about each post or service
//! covers. A question is a few ideas, each said by one or more phrases (a word and its
//! synonyms); an idea found in few documents says more than one found in most (inverse
//! document frequency), and an idea in the title more than one in the body. Each phrase is
//! stemmed in every language the published content is written in, and matched against the
//! documents of that language.

use std::collections::HashMap;

use crate::error::Result;
use crate::state::Core;

use super::{START, STOP, SearchHit, highlight, published};

/// The most documents scored for one question (the best ranked of those that mention any
/// of its ideas).
const CANDIDATES: i64 = 200;

/// One idea of a question: the phrases that say it, the visitor's own first.
#[derive(Debug, Clone, PartialEq)]
pub struct Idea {
    pub phrases: Vec<String>,
}

/// A post or service with how much of the question it covers.
#[derive(Debug, Clone)]
pub struct Relevant {
    pub hit: SearchHit,
    /// The share of the question's weight this document covers, from 0 to 1.
    pub coverage: f32,
    /// How many of the ideas it mentions, and whether its title mentions any.
    pub matched: usize,
    pub titled: bool,
}

/// The documents covering some of `ideas`, best first, at most `limit`.
pub async fn relevant(state: &Core, ideas: &[Idea], limit: usize) -> Result<Vec<Relevant>> {
    let (numbers, phrases): (Vec<i32>, Vec<String>) = ideas
        .iter()
        .enumerate()
        .flat_map(|(i, idea)| {
            let n = i32::try_from(i).unwrap_or(i32::MAX);
            idea.phrases.iter().map(move |p| (n, p.clone()))
        })
        .unzip();
    let published = published(state).await?;
    let languages = &published.languages;
    if phrases.is_empty() || languages.is_empty() {
        return Ok(Vec::new());
    }
    let db = state.reads();
    // How many documents there are, and for each idea whether it can be searched for (not
    // only stop words) and how many documents mention it.
    let frequency = sqlx::query!(
        r#"
        with w as (
            select t.idea, l.language, phraseto_tsquery(text_search_config(l.language), t.phrase) as q
            from unnest($1::int4[], $2::text[]) as t(idea, phrase), unnest($3::text[]) as l(language)
        ),
        documents as (
            select kind, slug, language, search from posts where status = 'published'
            union all
            select 'service', slug, language, search from published_services
        )
        select w.idea as "idea!", w.language as "language!",
               bool_or(numnode(w.q) > 0) as "searchable!",
               count(distinct (d.kind, d.slug)) as "n!"
        from w left join documents d
            on numnode(w.q) > 0 and d.language = w.language and d.search @@ w.q
        group by w.idea, w.language
        "#,
        &numbers,
        &phrases,
        &languages[..]
    )
    .fetch_all(db)
    .await?;
    let documents = published.documents as f32;
    // An idea said only in a language's stop words ("other", or "wie" in German) can match
    // nothing in that language: it does not count there.
    let mut mentions: HashMap<i32, i64> = HashMap::new();
    let mut searchable: HashMap<&str, Vec<i32>> = HashMap::new();
    for r in frequency.iter().filter(|r| r.searchable) {
        *mentions.entry(r.idea).or_default() += r.n;
        searchable
            .entry(r.language.as_str())
            .or_default()
            .push(r.idea);
    }
    // BM25's inverse document frequency: an idea nobody mentions weighs the most.
    let weight = |idea: i32| {
        let df = *mentions.get(&idea).unwrap_or(&0) as f32;
        ((documents - df + 0.5) / (df + 0.5) + 1.0).ln()
    };
    // The whole question, as each language can read it.
    let whole: HashMap<&str, f32> = searchable
        .iter()
        .map(|(language, ideas)| (*language, ideas.iter().map(|&i| weight(i)).sum()))
        .collect();

    let hits = sqlx::query!(
        r#"
        with w as (
            select t.idea, l.language, phraseto_tsquery(text_search_config(l.language), t.phrase) as q
            from unnest($1::int4[], $2::text[]) as t(idea, phrase), unnest($3::text[]) as l(language)
        ),
        any_of as (
            select language, string_agg('(' || q::text || ')', ' | ')::tsquery as q
            from w where numnode(q) > 0 group by language
        ),
        documents as (
            select kind, slug, title, language, search from posts where status = 'published'
            union all
            select 'service', slug, title, language, search from published_services
        ),
        candidates as (
            select d.kind, d.slug, d.title, d.language, d.search,
                   to_tsvector(text_search_config(d.language), d.title) as title_words
            from documents d join any_of a on d.language = a.language and d.search @@ a.q
            order by ts_rank(d.search, a.q) desc, d.slug
            limit $4
        )
        select c.kind as "kind!", c.slug as "slug!", c.title as "title!",
               c.language as "language!", array_agg(distinct w.idea) as "ideas!",
               coalesce(array_agg(distinct w.idea) filter (where c.title_words @@ w.q), '{}') as "in_title!"
        from candidates c join w
            on w.language = c.language and numnode(w.q) > 0 and c.search @@ w.q
        group by c.kind, c.slug, c.title, c.language
        "#,
        &numbers,
        &phrases,
        &languages[..],
        CANDIDATES
    )
    .fetch_all(db)
    .await?;
    let mut scored: Vec<Scored> = hits
        .into_iter()
        .map(|d| {
            let covered: f32 = d.ideas.iter().map(|&i| weight(i)).sum();
            let titled: f32 = d.in_title.iter().map(|&i| weight(i)).sum();
            // What the title says counts half again: a post titled with the question's
            // words is about it, not only mentioning it.
            let whole = whole.get(d.language.as_str()).copied().unwrap_or_default();
            let coverage = if whole > 0.0 {
                ((covered + titled / 2.0) / whole).min(1.0)
            } else {
                0.0
            };
            Scored {
                score: covered + titled,
                coverage,
                matched: d.ideas.len(),
                titled: !d.in_title.is_empty(),
                kind: d.kind,
                slug: d.slug,
                title: d.title,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.slug.cmp(&b.slug))
    });
    scored.truncate(limit);

    // The passage shown is the one about the question's rarer ideas ("migrations", not
    // "database"), unless every idea is common.
    let rare: Vec<(i32, String)> = numbers
        .iter()
        .zip(&phrases)
        .filter(|(idea, _)| {
            mentions
                .get(idea)
                .is_some_and(|&df| (df as f32) * 2.0 <= documents)
        })
        .map(|(idea, phrase)| (*idea, phrase.clone()))
        .collect();
    let shown: Vec<String> = if rare.is_empty() {
        phrases.clone()
    } else {
        rare.into_iter().map(|(_, p)| p).collect()
    };
    let kinds: Vec<String> = scored.iter().map(|s| s.kind.clone()).collect();
    let slugs: Vec<String> = scored.iter().map(|s| s.slug.clone()).collect();
    let passages: HashMap<(String, String), String> = sqlx::query!(
        r#"
        with any_of as (
            select l.language, string_agg('(' || w.q::text || ')', ' | ')::tsquery as q
            from unnest($3::text[]) as l(language),
                 lateral (select phraseto_tsquery(text_search_config(l.language), p) as q
                          from unnest($4::text[]) as p) as w
            where numnode(w.q) > 0
            group by l.language
        ),
        documents as (
            select kind, slug, language, body_text from posts where status = 'published'
            union all
            select 'service', slug, language, body_text from published_services
        )
        select d.kind as "kind!", d.slug as "slug!",
               ts_headline(text_search_config(d.language), d.body_text, a.q,
                   'StartSel=' || $5 || ', StopSel=' || $6 || ', MaxWords=30, MinWords=12, MaxFragments=1')
                   as "snippet!"
        from documents d
        join unnest($1::text[], $2::text[]) as wanted(kind, slug)
            on wanted.kind = d.kind and wanted.slug = d.slug
        join any_of a on a.language = d.language
        "#,
        &kinds,
        &slugs,
        &languages[..],
        &shown,
        START,
        STOP
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| ((r.kind, r.slug), r.snippet))
    .collect();

    Ok(scored
        .into_iter()
        .map(|s| {
            let snippet = passages
                .get(&(s.kind.clone(), s.slug.clone()))
                .map(|p| highlight(p))
                .unwrap_or_default();
            let path = match s.kind.as_str() {
                "post" => format!("/v1/posts/{}", s.slug),
                "page" => format!("/v1/pages/{}", s.slug),
                _ => format!("/v1/services/{}", s.slug),
            };
            Relevant {
                hit: SearchHit {
                    kind: s.kind,
                    slug: s.slug,
                    title: s.title,
                    path,
                    snippet,
                    rank: s.score,
                    published_at: None,
                },
                coverage: s.coverage,
                matched: s.matched,
                titled: s.titled,
            }
        })
        .collect())
}

struct Scored {
    score: f32,
    coverage: f32,
    matched: usize,
    titled: bool,
    kind: String,
    slug: String,
    title: String,
}
