//! Reading and changing the catalogue; every change is audited in its own transaction.

use crate::db::Db;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{Offering, ValidOffering};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::error::{AppError, ConstraintExt, Result};
use crate::state::Core;

const SLUG_TAKEN: &str = "catalogue_services_slug_key";

fn slug_conflict(slug: &str) -> AppError {
    AppError::conflict(
        "duplicate-slug",
        format!("Another service already uses the slug `{slug}`; choose another."),
    )
}

fn not_found_id(id: Uuid) -> AppError {
    AppError::not_found(format!("No service has id {id}."))
}

/// Published offerings in display order.
pub async fn list_published(db: &Db) -> Result<Vec<Offering>> {
    Ok(sqlx::query_as!(
        Offering,
        r#"
        select id, slug, title, summary, body_markdown as body, icon, display_order, published,
               created_at, updated_at
        from catalogue_services where published
        order by display_order, title
        "#
    )
    .fetch_all(db)
    .await?)
}

pub async fn find_published(db: &Db, slug: &str) -> Result<Option<Offering>> {
    Ok(sqlx::query_as!(
        Offering,
        r#"
        select id, slug, title, summary, body_markdown as body, icon, display_order, published,
               created_at, updated_at
        from catalogue_services where slug = $1 and published
        "#,
        slug
    )
    .fetch_optional(db)
    .await?)
}

/// A published service matching a search.
pub struct SearchHit {
    pub slug: String,
    pub title: String,
    pub rank: f32,
    /// The best passage, with each match between `start` and `stop`.
    pub snippet: String,
}

/// Published services matching `q` (web-search syntax), ranked as posts are, best first.
pub async fn search(
    db: &Db,
    q: &str,
    limit: i64,
    start: &str,
    stop: &str,
) -> Result<Vec<SearchHit>> {
    Ok(sqlx::query_as!(
        SearchHit,
        r#"
        with q as (select websearch_to_tsquery('english', $1) as query)
        select s.slug, s.title, ts_rank_cd(s.search, q.query, 32) as "rank!",
               ts_headline('english', s.summary || ' ' || s.body_markdown, q.query,
                   'StartSel=' || $3 || ', StopSel=' || $4 || ', MaxWords=30, MinWords=12, MaxFragments=1')
                   as "snippet!"
        from catalogue_services s, q
        where s.published and s.search @@ q.query
        order by 3 desc, 2
        limit $2
        "#,
        q,
        limit,
        start,
        stop
    )
    .fetch_all(db)
    .await?)
}

/// Which ideas of a question a published service mentions: the ideas are numbered, each said
/// by one or more phrases (`ideas[i]` is the number of `phrases[i]`).
pub struct IdeaHits {
    pub slug: String,
    pub title: String,
    /// The ideas mentioned anywhere.
    pub ideas: Vec<i32>,
    /// The ideas mentioned in the title.
    pub in_title: Vec<i32>,
}

/// How many published services there are, for each idea whether it can be searched for (not
/// only stop words) and how many services mention it, and which ideas each service mentions (the services mentioning any; at most `limit`, the best ranked).
pub async fn idea_hits(
    db: &Db,
    ideas: &[i32],
    phrases: &[String],
    limit: i64,
) -> Result<(i64, Vec<(i32, bool, i64)>, Vec<IdeaHits>)> {
    let total =
        sqlx::query_scalar!(r#"select count(*) as "n!" from catalogue_services where published"#)
            .fetch_one(db)
            .await?;
    let frequency = sqlx::query!(
        r#"
        with w as (
            select t.idea, phraseto_tsquery('english', t.phrase) as q
            from unnest($1::int4[], $2::text[]) as t(idea, phrase)
        )
        select w.idea as "idea!", bool_or(numnode(w.q) > 0) as "searchable!",
               count(distinct s.id) as "n!"
        from w left join catalogue_services s on numnode(w.q) > 0 and s.published and s.search @@ w.q
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
            select s.slug, s.title, s.search, to_tsvector('english', s.title) as title_words
            from catalogue_services s, any_of
            where s.published and s.search @@ any_of.q
            order by ts_rank(s.search, any_of.q) desc, s.slug
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
        limit
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| IdeaHits {
        slug: r.slug,
        title: r.title,
        ideas: r.ideas,
        in_title: r.in_title,
    })
    .collect();
    Ok((total, frequency, hits))
}

/// The best passage of each service of `slugs` for the phrases (any of them), marked.
pub async fn passages(
    db: &Db,
    slugs: &[String],
    phrases: &[String],
    start: &str,
    stop: &str,
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query!(
        r#"
        with any_of as (
            select string_agg('(' || q::text || ')', ' | ')::tsquery as q
            from (select phraseto_tsquery('english', p) as q from unnest($2::text[]) as p) w
            where numnode(q) > 0
        )
        select s.slug as "slug!",
               ts_headline('english', s.summary || ' ' || s.body_markdown, any_of.q,
                   'StartSel=' || $3 || ', StopSel=' || $4 || ', MaxWords=30, MinWords=12, MaxFragments=1')
                   as "snippet!"
        from catalogue_services s, any_of
        where s.published and s.slug = any($1)
        "#,
        slugs,
        phrases,
        start,
        stop
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.slug, r.snippet))
    .collect())
}

/// The words of published services with how many services hold each (for correcting typos
/// in searches).
pub async fn words(db: &Db) -> Result<Vec<(String, i32)>> {
    Ok(sqlx::query!(
        r#"select word as "word!", ndoc as "ndoc!" from ts_stat($$
               select to_tsvector('simple', title || ' ' || summary || ' ' || body_markdown)
               from catalogue_services where published
           $$)"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.word, r.ndoc))
    .collect())
}

/// The published services' slugs and when each last changed (for the sitemap).
pub async fn published_pages(db: &Db) -> Result<Vec<(String, DateTime<Utc>)>> {
    Ok(sqlx::query!(
        "select slug, updated_at from catalogue_services where published order by slug"
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.slug, r.updated_at))
    .collect())
}

pub async fn list_all(db: &Db) -> Result<Vec<Offering>> {
    Ok(sqlx::query_as!(
        Offering,
        r#"
        select id, slug, title, summary, body_markdown as body, icon, display_order, published,
               created_at, updated_at
        from catalogue_services
        order by display_order, title
        "#
    )
    .fetch_all(db)
    .await?)
}

pub async fn get(db: &Db, id: Uuid) -> Result<Offering> {
    sqlx::query_as!(
        Offering,
        r#"
        select id, slug, title, summary, body_markdown as body, icon, display_order, published,
               created_at, updated_at
        from catalogue_services where id = $1
        "#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found_id(id))
}

pub async fn create(core: &Core, by: AuditActor<'_>, new: ValidOffering) -> Result<Offering> {
    let mut tx = core.begin().await?;
    let offering = sqlx::query_as!(
        Offering,
        r#"
        insert into catalogue_services
            (id, slug, title, summary, body_markdown, icon, display_order, published)
        values ($1, $2, $3, $4, $5, $6, $7, $8)
        returning id, slug, title, summary, body_markdown as body, icon, display_order,
                  published, created_at, updated_at
        "#,
        Uuid::now_v7(),
        new.slug,
        new.title,
        new.summary,
        new.body,
        new.icon,
        new.display_order,
        new.published,
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint(SLUG_TAKEN, || slug_conflict(&new.slug))?;
    audit::record(
        &mut tx,
        by,
        AuditEvent::new("service.create", "service", offering.id).with_details(
            serde_json::json!({ "slug": offering.slug, "published": offering.published }),
        ),
    )
    .await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(offering)
}

pub async fn replace(
    core: &Core,
    by: AuditActor<'_>,
    id: Uuid,
    new: ValidOffering,
) -> Result<Offering> {
    let mut tx = core.begin().await?;
    let offering = sqlx::query_as!(
        Offering,
        r#"
        update catalogue_services set
            slug = $2, title = $3, summary = $4, body_markdown = $5, icon = $6,
            display_order = $7, published = $8, updated_at = now()
        where id = $1
        returning id, slug, title, summary, body_markdown as body, icon, display_order,
                  published, created_at, updated_at
        "#,
        id,
        new.slug,
        new.title,
        new.summary,
        new.body,
        new.icon,
        new.display_order,
        new.published,
    )
    .fetch_optional(&mut *tx)
    .await
    .on_constraint(SLUG_TAKEN, || slug_conflict(&new.slug))?
    .ok_or_else(|| not_found_id(id))?;
    audit::record(
        &mut tx,
        by,
        AuditEvent::new("service.update", "service", id).with_details(
            serde_json::json!({ "slug": offering.slug, "published": offering.published }),
        ),
    )
    .await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(offering)
}

pub async fn delete(core: &Core, by: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = core.begin().await?;
    let slug = sqlx::query_scalar!(
        "delete from catalogue_services where id = $1 returning slug",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found_id(id))?;
    audit::record(
        &mut tx,
        by,
        AuditEvent::new("service.delete", "service", id)
            .with_details(serde_json::json!({ "slug": slug })),
    )
    .await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
