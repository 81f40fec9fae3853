//! Authors, tags and series: admin CRUD (audited, cache-invalidating) and public reads.

use crate::db::Db;
use uuid::Uuid;

use super::model::{
    Author, AuthorProfile, PublicAuthor, PublicSeries, PublicTag, Series, Tag, TagDetails,
    ValidTerm,
};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::blog::reading;
use crate::db::Work;
use crate::error::{AppError, ConstraintExt, Result};
use crate::state::Core;

fn slug_taken(kind: &str, slug: &str) -> AppError {
    AppError::conflict(
        "duplicate-slug",
        format!("Another {kind} already uses the slug `{slug}`; choose another."),
    )
}

fn not_found(kind: &str, id: Uuid) -> AppError {
    AppError::not_found(format!("No {kind} has id {id}."))
}

/// Commits a taxonomy change with its audit entry and the cache notification.
async fn finish(
    core: &Core,
    mut tx: Work,
    actor: AuditActor<'_>,
    action: &str,
    kind: &str,
    id: Uuid,
    slug: &str,
) -> Result<()> {
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new(action, kind, id).with_details(serde_json::json!({ "slug": slug })),
    )
    .await?;
    crate::webhooks::site_changed(&mut tx, &core.jobs, action, Some(slug)).await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

// Authors.

pub async fn list_authors(db: &Db) -> Result<Vec<Author>> {
    Ok(sqlx::query_as!(
        Author,
        r#"select id, slug, name, bio, avatar_url, profile as "profile: sqlx::types::Json<AuthorProfile>", created_at, updated_at from authors order by name"#
    )
    .fetch_all(db)
    .await?)
}

pub async fn get_author(db: &Db, id: Uuid) -> Result<Author> {
    sqlx::query_as!(
        Author,
        r#"select id, slug, name, bio, avatar_url, profile as "profile: sqlx::types::Json<AuthorProfile>", created_at, updated_at from authors where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found("author", id))
}

/// Creates the author, or replaces the one with `id`.
pub async fn save_author(
    core: &Core,
    actor: AuditActor<'_>,
    id: Option<Uuid>,
    term: ValidTerm,
) -> Result<Author> {
    let mut tx = core.begin().await?;
    let author = sqlx::query_as!(
        Author,
        r#"
        insert into authors (id, slug, name, bio, avatar_url, profile) values ($1, $2, $3, $4, $5, $6)
        on conflict (id) do update set slug = excluded.slug, name = excluded.name,
            bio = excluded.bio, avatar_url = excluded.avatar_url, profile = excluded.profile,
            updated_at = now()
        returning id, slug, name, bio, avatar_url,
                  profile as "profile: sqlx::types::Json<AuthorProfile>", created_at, updated_at
        "#,
        id.unwrap_or_else(Uuid::now_v7),
        term.slug,
        term.name,
        term.description,
        term.url,
        term.extra,
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint("authors_slug_key", || slug_taken("author", &term.slug))?;
    let action = if id.is_some() {
        "author.update"
    } else {
        "author.create"
    };
    finish(core, tx, actor, action, "author", author.id, &author.slug).await?;
    Ok(author)
}

pub async fn delete_author(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = core.begin().await?;
    let slug = sqlx::query_scalar!("delete from authors where id = $1 returning slug", id)
        .fetch_optional(&mut *tx)
        .await
        .on_constraint("post_authors_author_id_fkey", || {
            AppError::conflict(
                "author-in-use",
                "This author is on posts; remove them from those posts first.",
            )
        })?
        .ok_or_else(|| not_found("author", id))?;
    finish(core, tx, actor, "author.delete", "author", id, &slug).await
}

pub async fn public_author(db: &Db, slug: &str) -> Result<Option<PublicAuthor>> {
    Ok(sqlx::query_as!(
        PublicAuthor,
        r#"select a.slug, a.name, a.bio, a.avatar_url,
                  (select count(*) from post_authors pa join posts p on p.id = pa.post_id
                   where pa.author_id = a.id and p.status = 'published' and p.kind = 'post') as "post_count!"
           from authors a where a.slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await?)
}

pub async fn public_authors(db: &Db) -> Result<Vec<PublicAuthor>> {
    Ok(sqlx::query_as!(
        PublicAuthor,
        r#"select a.slug, a.name, a.bio, a.avatar_url,
                  (select count(*) from post_authors pa join posts p on p.id = pa.post_id
                   where pa.author_id = a.id and p.status = 'published' and p.kind = 'post') as "post_count!"
           from authors a order by a.name"#
    )
    .fetch_all(db)
    .await?)
}

// Tags.

pub async fn list_tags(db: &Db) -> Result<Vec<Tag>> {
    Ok(sqlx::query_as!(
        Tag,
        r#"select id, slug, name, description, details as "details: sqlx::types::Json<TagDetails>", created_at, updated_at from tags order by name"#
    )
    .fetch_all(db)
    .await?)
}

pub async fn get_tag(db: &Db, id: Uuid) -> Result<Tag> {
    sqlx::query_as!(
        Tag,
        r#"select id, slug, name, description, details as "details: sqlx::types::Json<TagDetails>", created_at, updated_at from tags where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found("tag", id))
}

pub async fn save_tag(
    core: &Core,
    actor: AuditActor<'_>,
    id: Option<Uuid>,
    term: ValidTerm,
) -> Result<Tag> {
    let mut tx = core.begin().await?;
    let tag = sqlx::query_as!(
        Tag,
        r#"
        insert into tags (id, slug, name, description, details) values ($1, $2, $3, $4, $5)
        on conflict (id) do update set slug = excluded.slug, name = excluded.name,
            description = excluded.description, details = excluded.details, updated_at = now()
        returning id, slug, name, description,
                  details as "details: sqlx::types::Json<TagDetails>", created_at, updated_at
        "#,
        id.unwrap_or_else(Uuid::now_v7),
        term.slug,
        term.name,
        term.description,
        term.extra,
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint("tags_slug_key", || slug_taken("tag", &term.slug))?;
    let action = if id.is_some() {
        "tag.update"
    } else {
        "tag.create"
    };
    finish(core, tx, actor, action, "tag", tag.id, &tag.slug).await?;
    Ok(tag)
}

/// Deletes a tag; posts simply lose it.
pub async fn delete_tag(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = core.begin().await?;
    let slug = sqlx::query_scalar!("delete from tags where id = $1 returning slug", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found("tag", id))?;
    finish(core, tx, actor, "tag.delete", "tag", id, &slug).await
}

pub async fn public_tags(db: &Db) -> Result<Vec<PublicTag>> {
    Ok(sqlx::query_as!(
        PublicTag,
        r#"select t.slug, t.name, t.description,
                  (select count(*) from post_tags pt join posts p on p.id = pt.post_id
                   where pt.tag_id = t.id and p.status = 'published' and p.kind = 'post') as "post_count!"
           from tags t order by t.name"#
    )
    .fetch_all(db)
    .await?)
}

pub async fn public_tag(db: &Db, slug: &str) -> Result<Option<PublicTag>> {
    Ok(sqlx::query_as!(
        PublicTag,
        r#"select t.slug, t.name, t.description,
                  (select count(*) from post_tags pt join posts p on p.id = pt.post_id
                   where pt.tag_id = t.id and p.status = 'published' and p.kind = 'post') as "post_count!"
           from tags t where t.slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await?)
}

// Series.

pub async fn list_series(db: &Db) -> Result<Vec<Series>> {
    Ok(sqlx::query_as!(
        Series,
        "select id, slug, title, description, created_at, updated_at from series order by title"
    )
    .fetch_all(db)
    .await?)
}

pub async fn get_series(db: &Db, id: Uuid) -> Result<Series> {
    sqlx::query_as!(
        Series,
        "select id, slug, title, description, created_at, updated_at from series where id = $1",
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found("series", id))
}

pub async fn save_series(
    core: &Core,
    actor: AuditActor<'_>,
    id: Option<Uuid>,
    term: ValidTerm,
) -> Result<Series> {
    let mut tx = core.begin().await?;
    let series = sqlx::query_as!(
        Series,
        r#"
        insert into series (id, slug, title, description) values ($1, $2, $3, $4)
        on conflict (id) do update set slug = excluded.slug, title = excluded.title,
            description = excluded.description, updated_at = now()
        returning id, slug, title, description, created_at, updated_at
        "#,
        id.unwrap_or_else(Uuid::now_v7),
        term.slug,
        term.name,
        term.description,
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint("series_slug_key", || slug_taken("series", &term.slug))?;
    let action = if id.is_some() {
        "series.update"
    } else {
        "series.create"
    };
    finish(core, tx, actor, action, "series", series.id, &series.slug).await?;
    Ok(series)
}

/// Deletes a series; its posts stay, outside any series.
pub async fn delete_series(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = core.begin().await?;
    sqlx::query!(
        "update posts set series_id = null, series_part = null where series_id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    let slug = sqlx::query_scalar!("delete from series where id = $1 returning slug", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found("series", id))?;
    finish(core, tx, actor, "series.delete", "series", id, &slug).await
}

pub async fn public_series(db: &Db, slug: &str) -> Result<Option<PublicSeries>> {
    let Some(series) = sqlx::query!(
        "select id, slug, title, description from series where slug = $1",
        slug
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let part_ids = sqlx::query_scalar!(
        r#"select id from posts where series_id = $1 and status = 'published'
           order by series_part nulls last, published_at"#,
        series.id
    )
    .fetch_all(db)
    .await?;
    Ok(Some(PublicSeries {
        slug: series.slug,
        title: series.title,
        description: series.description,
        parts: reading::summaries_by_id(db, &part_ids).await?,
    }))
}
