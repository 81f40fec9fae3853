//! Content relevant to a question in a visitor's own words: not "every word must match" (a
//! search box's rule), but how much of what the question is about each post or service
//! covers. A question is a few ideas, each said by one or more phrases (a word and its
//! synonyms); an idea found in few documents says more than one found in most (inverse
//! document frequency), and an idea in the title more than one in the body.

use std::collections::HashMap;

use crate::db::Db;
use crate::error::Result;
use crate::state::Core;

use super::{START, STOP, SearchHit, highlight};

/// The most documents of each kind scored for one question (the best ranked of those that
/// mention any of its ideas).
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
    if phrases.is_empty() {
        return Ok(Vec::new());
    }
    let db = state.reads();
    let (posts, services) = tokio::try_join!(
        post_hits(db, &numbers, &phrases),
        crate::catalogue::idea_hits(db, &numbers, &phrases, CANDIDATES)
    )?;
    let (post_total, post_frequency, post_docs) = posts;
    let (service_total, service_frequency, service_docs) = services;
    let documents = (post_total + service_total) as f32;
    let mut frequency: HashMap<i32, i64> = HashMap::new();
    for (idea, searchable, n) in post_frequency.into_iter().chain(service_frequency) {
        // An idea said only in stop words ("other") can match nothing: it does not count.
        if searchable {
            *frequency.entry(idea).or_default() += n;
        }
    }
    // BM25's inverse document frequency: an idea nobody mentions weighs the most.
    let weight = |idea: i32| {
        let df = *frequency.get(&idea).unwrap_or(&0) as f32;
        ((documents - df + 0.5) / (df + 0.5) + 1.0).ln()
    };
    let whole: f32 = frequency.keys().map(|&i| weight(i)).sum();
    let mut scored: Vec<Scored> = post_docs
        .into_iter()
        .map(|d| ("post", d))
        .chain(service_docs.into_iter().map(|d| {
            (
                "service",
                Hits {
                    slug: d.slug,
                    title: d.title,
                    ideas: d.ideas,
                    in_title: d.in_title,
                },
            )
        }))
        .map(|(kind, d)| {
            let covered: f32 = d.ideas.iter().map(|&i| weight(i)).sum();
            let titled: f32 = d.in_title.iter().map(|&i| weight(i)).sum();
            // What the title says counts half again: a post titled with the question's
            // words is about it, not only mentioning it.
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
                kind,
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
    let post_slugs: Vec<String> = scored
        .iter()
        .filter(|s| s.kind == "post")
        .map(|s| s.slug.clone())
        .collect();
    let service_slugs: Vec<String> = scored
        .iter()
        .filter(|s| s.kind == "service")
        .map(|s| s.slug.clone())
        .collect();
    // The passage shown is the one about the question's rarer ideas ("migrations", not
    // "database"), unless every idea is common.
    let rare: Vec<String> = numbers
        .iter()
        .zip(&phrases)
        .filter(|(idea, _)| {
            frequency
                .get(idea)
                .is_some_and(|&df| (df as f32) * 2.0 <= documents)
        })
        .map(|(_, phrase)| phrase.clone())
        .collect();
    let shown = if rare.is_empty() { &phrases } else { &rare };
    let (post_passages, service_passages) = tokio::try_join!(
        post_passages(db, &post_slugs, shown),
        crate::catalogue::passages(db, &service_slugs, shown, START, STOP)
    )?;
    let passages: HashMap<(&str, String), String> = post_passages
        .into_iter()
        .map(|(slug, text)| (("post", slug), text))
        .chain(
            service_passages
                .into_iter()
                .map(|(slug, text)| (("service", slug), text)),
        )
        .collect();
    Ok(scored
        .into_iter()
        .map(|s| {
            let snippet = passages
                .get(&(s.kind, s.slug.clone()))
                .map(|p| highlight(p))
                .unwrap_or_default();
            let path = match s.kind {
                "post" => format!("/v1/posts/{}", s.slug),
                _ => format!("/v1/services/{}", s.slug),
            };
            Relevant {
                hit: SearchHit {
                    kind: s.kind.into(),
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
    kind: &'static str,
    slug: String,
    title: String,
}

struct Hits {
    slug: String,
    title: String,
    ideas: Vec<i32>,
    in_title: Vec<i32>,
}

type IdeaCounts = (i64, Vec<(i32, bool, i64)>, Vec<Hits>);

async fn post_hits(db: &Db, ideas: &[i32], phrases: &[String]) -> Result<IdeaCounts> {
    let total =
        sqlx::query_scalar!(r#"select count(*) as "n!" from posts where status = 'published'"#)
            .fetch_one(db)
            .await?;
    let frequency = sqlx::query!(
        r#"
        with w as (
            select t.idea, phraseto_tsquery('english', t.phrase) as q
            from unnest($1::int4[], $2::text[]) as t(idea, phrase)
        )
        select w.idea as "idea!", bool_or(numnode(w.q) > 0) as "searchable!",
               count(distinct p.id) as "n!"
        from w left join posts p on numnode(w.q) > 0 and p.status = 'published' and p.search @@ w.q
        group by w.idea
        "#,
        ideas,
        phrases
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.idea, r.searchable, r.n))
    .collect();
    let hits = sqlx::query!(
        r#"
        with w as (
            select t.idea, phraseto_tsquery('english', t.phrase) as q
            from unnest($1::int4[], $2::text[]) as t(idea, phrase)
            where numnode(phraseto_tsquery('english', t.phrase)) > 0
        ),
        any_of as (select string_agg('(' || q::text || ')', ' | ')::tsquery as q from w),
        candidates as (
            select p.slug, p.title, p.search, to_tsvector('english', p.title) as title_words
            from posts p, any_of
            where p.status = 'published' and p.search @@ any_of.q
            order by ts_rank(p.search, any_of.q) desc, p.slug
            limit $3
        )
        select c.slug as "slug!", c.title as "title!",
               array_agg(distinct w.idea) as "ideas!",
               coalesce(array_agg(distinct w.idea) filter (where c.title_words @@ w.q), '{}') as "in_title!"
        from candidates c join w on c.search @@ w.q
        group by c.slug, c.title
        "#,
        ideas,
        phrases,
        CANDIDATES
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| Hits {
        slug: r.slug,
        title: r.title,
        ideas: r.ideas,
        in_title: r.in_title,
    })
    .collect();
    Ok((total, frequency, hits))
}

async fn post_passages(
    db: &Db,
    slugs: &[String],
    phrases: &[String],
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query!(
        r#"
        with any_of as (
            select string_agg('(' || q::text || ')', ' | ')::tsquery as q
            from (select phraseto_tsquery('english', p) as q from unnest($2::text[]) as p) w
            where numnode(q) > 0
        )
        select p.slug as "slug!",
               ts_headline('english', p.body_text, any_of.q,
                   'StartSel=' || $3 || ', StopSel=' || $4 || ', MaxWords=30, MinWords=12, MaxFragments=1')
                   as "snippet!"
        from posts p, any_of
        where p.status = 'published' and p.slug = any($1)
        "#,
        slugs,
        phrases,
        START,
        STOP
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.slug, r.snippet))
    .collect())
}
