//! Writing posts: render at save, keep a revision of each update, keep old slugs as
//! redirects, audit, and tell every replica that content changed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::db::Db;
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::{BodyFormat, GENERATED_EXCERPT_CHARS, PostInput, SocialCards, ValidPost};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::blog::model::{AuthorRef, Kind, PostStatus, TagRef};
use crate::blog::render::{self, Rendered, TocEntry};
use crate::db::Work;
use crate::error::{AppError, ConstraintExt, FieldError, Result};
use crate::pagination::{Page, PageParams};
use crate::state::Core;

/// A post as admins see it, whatever its status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminPost {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    /// True when the excerpt was generated from the body.
    pub excerpt_is_generated: bool,
    /// Markdown, as written.
    pub body: String,
    /// Rendered, sanitized HTML.
    pub html: String,
    pub toc: Vec<TocEntry>,
    pub word_count: i32,
    pub reading_minutes: i32,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub authors: Vec<AuthorRef>,
    pub tags: Vec<TagRef>,
    pub series: Option<String>,
    pub series_part: Option<i32>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub status: PostStatus,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// ISO 639-1.
    pub language: String,
    pub kind: Kind,
    pub featured: bool,
    /// `markdown` or `html`.
    pub body_format: String,
    pub cover_image_caption: Option<String>,
    pub social: SocialCards,
    pub show_title_and_feature_image: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminPostSummary {
    pub id: Uuid,
    pub kind: Kind,
    pub slug: String,
    pub title: String,
    pub status: PostStatus,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionSummary {
    pub revision: i32,
    pub title: String,
    pub slug: String,
    /// Who saved the change that replaced this version.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revision {
    pub revision: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The post as it was, in the shape PUT accepts.
    pub post: PostInput,
}

fn not_found(id: Uuid) -> AppError {
    AppError::not_found(format!("No post has id {id}."))
}

/// A post or page's body, rendered as it is written.
pub(crate) fn render_body(post: &ValidPost) -> Rendered {
    match post.body_format {
        BodyFormat::Markdown => render::render(&post.body),
        BodyFormat::Html => render::render_html(&post.body),
    }
}

fn slug_taken(slug: &str) -> AppError {
    AppError::conflict(
        "duplicate-slug",
        format!("Another post already uses the slug `{slug}`; choose another."),
    )
}

/// The ids of what a post refers to by slug.
struct References {
    author_ids: Vec<Uuid>,
    tag_ids: Vec<Uuid>,
    series_id: Option<Uuid>,
}

/// Looks up authors, tags and the series; every unknown slug is a field error.
async fn resolve(conn: &mut PgConnection, post: &ValidPost) -> Result<References> {
    let mut errors = Vec::new();
    let authors: Vec<(String, Uuid)> = sqlx::query!(
        "select id, slug from authors where slug = any($1)",
        &post.authors
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.slug, r.id))
    .collect();
    let author_ids = ordered_ids(&post.authors, "authors", "author", &authors, &mut errors);
    let tags = sqlx::query!("select id, slug from tags where slug = any($1)", &post.tags)
        .fetch_all(&mut *conn)
        .await?;
    let tag_pairs: Vec<(String, Uuid)> = tags.into_iter().map(|r| (r.slug, r.id)).collect();
    let tag_ids = ordered_ids(&post.tags, "tags", "tag", &tag_pairs, &mut errors);
    let series_id = match &post.series {
        Some(slug) => {
            let id = sqlx::query_scalar!("select id from series where slug = $1", slug)
                .fetch_optional(&mut *conn)
                .await?;
            if id.is_none() {
                errors.push(FieldError::new(
                    "series",
                    "unknown",
                    format!("no series has the slug `{slug}`; create it at POST /v1/admin/series"),
                ));
            }
            id
        }
        None => None,
    };
    if errors.is_empty() {
        Ok(References {
            author_ids,
            tag_ids,
            series_id,
        })
    } else {
        Err(AppError::Validation(errors))
    }
}

fn ordered_ids(
    slugs: &[String],
    field: &str,
    what: &str,
    found: &[(String, Uuid)],
    errors: &mut Vec<FieldError>,
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for (i, slug) in slugs.iter().enumerate() {
        match found.iter().find(|(s, _)| s == slug) {
            Some((_, id)) => ids.push(*id),
            None => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown",
                format!("no {what} has the slug `{slug}`"),
            )),
        }
    }
    ids
}

/// The state of a post needed to update it.
struct Current {
    slug: String,
    published_at: Option<DateTime<Utc>>,
    status: String,
    kind: Kind,
}

async fn lock_current(conn: &mut PgConnection, id: Uuid) -> Result<Current> {
    sqlx::query_as!(
        Current,
        r#"select slug, published_at, status, kind as "kind: Kind" from posts where id = $1 for update"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| not_found(id))
}

pub async fn create(
    core: &Core,
    actor: AuditActor<'_>,
    kind: Kind,
    post: ValidPost,
) -> Result<AdminPost> {
    check_kind(kind, &post)?;
    let rendered = render_body(&post);
    let id = Uuid::now_v7();
    let mut tx = core.begin().await?;
    let refs = resolve(&mut tx, &post).await?;
    write(&mut tx, id, kind, None, &post, &rendered, &refs).await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new(
            if kind == Kind::Page {
                "page.create"
            } else {
                "post.create"
            },
            kind.as_str(),
            id,
        )
        .with_details(serde_json::json!({ "slug": post.slug, "status": post.status })),
    )
    .await?;
    announce(&mut tx, core, id, false).await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    get(&core.db, id).await
}

/// Pages stand outside series.
fn check_kind(kind: Kind, post: &ValidPost) -> Result<()> {
    if kind == Kind::Page && post.series.is_some() {
        return Err(AppError::Validation(vec![FieldError::new(
            "series",
            "not_for_pages",
            "a page cannot be part of a series; series are for posts",
        )]));
    }
    Ok(())
}

/// Tells webhook subscribers what a write did to a post's public life: `post.published`,
/// `post.updated` (a published post changed) or `post.unpublished`, each with
/// `site.changed`. A draft's edits tell nobody.
pub(crate) async fn announce(
    work: &mut Work,
    core: &Core,
    id: Uuid,
    was_published: bool,
) -> Result<()> {
    let post = sqlx::query!(
        "select slug, title, status, published_at, kind from posts where id = $1",
        id
    )
    .fetch_optional(&mut **work)
    .await?;
    let now_published = post.as_ref().is_some_and(|p| p.status == "published");
    if post.as_ref().is_some_and(|p| p.kind == "page") {
        // A page has no feed or newsletter: the site changed, and that is all.
        if was_published || now_published {
            let slug = post.as_ref().map(|p| p.slug.as_str());
            crate::webhooks::site_changed(work, &core.jobs, "page.updated", slug).await?;
        }
        return Ok(());
    }
    let event = match (was_published, now_published) {
        (false, true) => "post.published",
        (true, true) => "post.updated",
        (true, false) => "post.unpublished",
        (false, false) => return Ok(()),
    };
    let data = match &post {
        Some(p) => serde_json::json!({
            "id": id, "slug": p.slug, "title": p.title, "status": p.status,
            "published_at": p.published_at,
        }),
        None => serde_json::json!({ "id": id }),
    };
    crate::webhooks::publish(work, &core.jobs, event, &data).await?;
    let slug = post.as_ref().map(|p| p.slug.as_str());
    crate::webhooks::site_changed(work, &core.jobs, event, slug).await?;
    Ok(())
}

/// Numbered copies of a published post (`{slug}-{n}`, "{title} (#n)"), outside any series,
/// written in bulk from the post's stored rendering: how `seed-demo --posts N` makes a large
/// blog quickly. Each copy is `(id, n, published_at)`.
pub async fn copy_published(
    core: &Core,
    template: Uuid,
    copies: &[(Uuid, i64, DateTime<Utc>)],
) -> Result<u64> {
    let ids: Vec<Uuid> = copies.iter().map(|c| c.0).collect();
    let numbers: Vec<i64> = copies.iter().map(|c| c.1).collect();
    let dates: Vec<DateTime<Utc>> = copies.iter().map(|c| c.2).collect();
    let mut tx = core.begin().await?;
    let made = sqlx::query!(
        r#"
        insert into posts (id, slug, title, excerpt, excerpt_is_generated, body_markdown,
                           body_html, body_text, toc, word_count, reading_minutes,
                           cover_image_url, cover_image_alt, meta_title, meta_description,
                           status, published_at, created_at, updated_at, language)
        select c.id, t.slug || '-' || c.n, t.title || ' (#' || c.n || ')', t.excerpt,
               t.excerpt_is_generated, t.body_markdown, t.body_html, t.body_text, t.toc,
               t.word_count, t.reading_minutes, t.cover_image_url, t.cover_image_alt,
               t.meta_title, t.meta_description, 'published', c.at, c.at, c.at, t.language
        from posts t, unnest($2::uuid[], $3::int8[], $4::timestamptz[]) as c(id, n, at)
        where t.id = $1 and t.status = 'published' and t.kind = 'post'
        "#,
        template,
        &ids,
        &numbers,
        &dates
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!(
        r#"insert into post_authors (post_id, author_id, position)
           select c.id, a.author_id, a.position from post_authors a, unnest($2::uuid[]) as c(id)
           where a.post_id = $1"#,
        template,
        &ids
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"insert into post_tags (post_id, tag_id, position)
           select c.id, g.tag_id, g.position from post_tags g, unnest($2::uuid[]) as c(id)
           where g.post_id = $1"#,
        template,
        &ids
    )
    .execute(&mut *tx)
    .await?;
    crate::webhooks::site_changed(&mut tx, &core.jobs, "post.published", None).await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(made)
}

pub async fn replace(
    core: &Core,
    actor: AuditActor<'_>,
    id: Uuid,
    post: ValidPost,
) -> Result<AdminPost> {
    let rendered = render_body(&post);
    let mut tx = core.begin().await?;
    let current = lock_current(&mut tx, id).await?;
    let kind = current.kind;
    check_kind(kind, &post)?;
    let refs = resolve(&mut tx, &post).await?;
    let revision = save_revision(&mut tx, id, &actor).await?;
    write(&mut tx, id, kind, Some(&current), &post, &rendered, &refs).await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("post.update", "post", id).with_details(serde_json::json!({
            "slug": post.slug,
            "status": post.status,
            "previous_revision": revision,
        })),
    )
    .await?;
    announce(&mut tx, core, id, current.status == "published").await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    get(&core.db, id).await
}

/// Inserts or updates the post row and its links to authors, tags and old slugs.
#[allow(clippy::too_many_arguments)]
async fn write(
    conn: &mut PgConnection,
    id: Uuid,
    kind: Kind,
    current: Option<&Current>,
    post: &ValidPost,
    rendered: &Rendered,
    refs: &References,
) -> Result<()> {
    let (excerpt, excerpt_is_generated) = match &post.excerpt {
        Some(given) => (given.clone(), false),
        None => (
            render::excerpt(&rendered.lead, GENERATED_EXCERPT_CHARS),
            true,
        ),
    };
    let series_part = match (refs.series_id, post.series_part) {
        (Some(series_id), None) => Some(next_series_part(conn, series_id, id).await?),
        (_, part) => part,
    };
    let published_at = match (post.status, current.and_then(|c| c.published_at)) {
        (_, Some(first)) => Some(first),
        (PostStatus::Published, None) => Some(Utc::now()),
        _ => None,
    };
    let toc = serde_json::to_value(&rendered.toc).map_err(anyhow::Error::from)?;
    let social = serde_json::to_value(&post.social).map_err(anyhow::Error::from)?;
    sqlx::query!(
        r#"
        insert into posts (id, slug, title, excerpt, excerpt_is_generated, body_markdown, body_html,
                           body_text, toc, word_count, reading_minutes, cover_image_url,
                           cover_image_alt, series_id, series_part, meta_title, meta_description,
                           canonical_url, status, scheduled_at, published_at, language, kind,
                           featured, body_format, cover_image_caption, social,
                           show_title_and_feature_image)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                $19, $20, $21, coalesce($22, 'en'), $23, $24, $25, $26, $27, $28)
        on conflict (id) do update set
            slug = excluded.slug, title = excluded.title, excerpt = excluded.excerpt,
            excerpt_is_generated = excluded.excerpt_is_generated,
            body_markdown = excluded.body_markdown, body_html = excluded.body_html,
            body_text = excluded.body_text, toc = excluded.toc, word_count = excluded.word_count,
            reading_minutes = excluded.reading_minutes, cover_image_url = excluded.cover_image_url,
            cover_image_alt = excluded.cover_image_alt, series_id = excluded.series_id,
            series_part = excluded.series_part, meta_title = excluded.meta_title,
            meta_description = excluded.meta_description, canonical_url = excluded.canonical_url,
            status = excluded.status, scheduled_at = excluded.scheduled_at,
            published_at = excluded.published_at, updated_at = now(),
            language = coalesce($22, posts.language), featured = excluded.featured,
            body_format = excluded.body_format, cover_image_caption = excluded.cover_image_caption,
            social = excluded.social,
            show_title_and_feature_image = excluded.show_title_and_feature_image
        "#,
        id,
        post.slug,
        post.title,
        excerpt,
        excerpt_is_generated,
        // An HTML body is kept as sanitized: the source never holds what was cleaned out.
        match post.body_format {
            BodyFormat::Markdown => &post.body,
            BodyFormat::Html => &rendered.html,
        },
        rendered.html,
        rendered.search_text,
        toc,
        rendered.word_count,
        rendered.reading_minutes,
        post.cover_image_url,
        post.cover_image_alt,
        refs.series_id,
        series_part,
        post.meta_title,
        post.meta_description,
        post.canonical_url,
        post.status.as_str(),
        post.scheduled_at,
        published_at,
        post.language,
        kind.as_str(),
        post.featured,
        post.body_format.as_str(),
        post.cover_image_caption,
        social,
        post.show_title_and_feature_image,
    )
    .execute(&mut *conn)
    .await
    .on_constraint("posts_slug_key", || slug_taken(&post.slug))
    .on_constraint("posts_series_part_key", || {
        AppError::conflict(
            "series-part-taken",
            format!(
                "Part {} of this series is another post; choose another part number.",
                series_part.unwrap_or_default()
            ),
        )
    })?;
    keep_old_slug(conn, id, current.map(|c| c.slug.as_str()), &post.slug).await?;
    link_authors_and_tags(conn, id, refs).await
}

async fn next_series_part(conn: &mut PgConnection, series_id: Uuid, post_id: Uuid) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce(max(series_part), 0) + 1 as "part!" from posts
           where series_id = $1 and id <> $2"#,
        series_id,
        post_id
    )
    .fetch_one(conn)
    .await?)
}

/// A renamed post answers at its old slug with a redirect; a slug in use by a live post is
/// no longer a redirect.
async fn keep_old_slug(
    conn: &mut PgConnection,
    id: Uuid,
    old: Option<&str>,
    new: &str,
) -> Result<()> {
    sqlx::query!("delete from post_slug_redirects where old_slug = $1", new)
        .execute(&mut *conn)
        .await?;
    if let Some(old) = old.filter(|old| *old != new) {
        sqlx::query!(
            r#"insert into post_slug_redirects (old_slug, post_id) values ($1, $2)
               on conflict (old_slug) do update set post_id = excluded.post_id"#,
            old,
            id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn link_authors_and_tags(conn: &mut PgConnection, id: Uuid, refs: &References) -> Result<()> {
    sqlx::query!("delete from post_authors where post_id = $1", id)
        .execute(&mut *conn)
        .await?;
    let positions: Vec<i32> = (0..).take(refs.author_ids.len()).collect();
    sqlx::query!(
        r#"insert into post_authors (post_id, author_id, position)
           select $1, author_id, position from unnest($2::uuid[], $3::int[]) as t(author_id, position)"#,
        id,
        &refs.author_ids,
        &positions,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("delete from post_tags where post_id = $1", id)
        .execute(&mut *conn)
        .await?;
    let positions: Vec<i32> = (0..).take(refs.tag_ids.len()).collect();
    sqlx::query!(
        r#"insert into post_tags (post_id, tag_id, position)
           select $1, tag_id, position from unnest($2::uuid[], $3::int[]) as t(tag_id, position)"#,
        id,
        &refs.tag_ids,
        &positions,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stores the post as it is now as a revision, before it is changed; returns its number.
async fn save_revision(conn: &mut PgConnection, id: Uuid, actor: &AuditActor<'_>) -> Result<i32> {
    let snapshot = input_of(conn, id).await?;
    let snapshot = serde_json::to_value(&snapshot).map_err(anyhow::Error::from)?;
    let revision = sqlx::query_scalar!(
        r#"
        insert into post_revisions (id, post_id, revision, snapshot, created_by)
        select $1, $2, coalesce(max(revision), 0) + 1, $3, $4 from post_revisions where post_id = $2
        returning revision
        "#,
        Uuid::now_v7(),
        id,
        snapshot,
        actor.label(),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(revision)
}

/// The post in the shape an editor sends it (without its status, which a revision does not
/// carry).
async fn input_of(conn: &mut PgConnection, id: Uuid) -> Result<PostInput> {
    let row = sqlx::query!(
        r#"
        select p.title, p.slug, p.excerpt, p.excerpt_is_generated, p.body_markdown,
               p.cover_image_url, p.cover_image_alt, s.slug as "series?", p.series_part,
               p.meta_title, p.meta_description, p.canonical_url, p.featured, p.body_format,
               p.cover_image_caption, p.social as "social: sqlx::types::Json<SocialCards>",
               p.show_title_and_feature_image,
               array(select a.slug from post_authors pa join authors a on a.id = pa.author_id
                     where pa.post_id = p.id order by pa.position) as "authors!",
               array(select t.slug from post_tags pt join tags t on t.id = pt.tag_id
                     where pt.post_id = p.id order by pt.position, t.slug) as "tags!"
        from posts p left join series s on s.id = p.series_id
        where p.id = $1
        "#,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| not_found(id))?;
    Ok(PostInput {
        title: row.title,
        slug: Some(row.slug),
        excerpt: (!row.excerpt_is_generated).then_some(row.excerpt),
        body: row.body_markdown,
        cover_image_url: row.cover_image_url,
        cover_image_alt: row.cover_image_alt,
        authors: row.authors,
        tags: row.tags,
        series: row.series,
        series_part: row.series_part,
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        canonical_url: row.canonical_url,
        status: None,
        scheduled_at: None,
        language: None,
        featured: row.featured,
        body_format: Some(row.body_format),
        cover_image_caption: row.cover_image_caption,
        social: row.social.0,
        show_title_and_feature_image: Some(row.show_title_and_feature_image),
    })
}

pub async fn get(db: &Db, id: Uuid) -> Result<AdminPost> {
    let row = sqlx::query!(
        r#"
        select p.id, p.slug, p.title, p.excerpt, p.excerpt_is_generated, p.body_markdown,
               p.body_html, p.toc, p.word_count, p.reading_minutes, p.cover_image_url,
               p.cover_image_alt, s.slug as "series?", p.series_part, p.meta_title,
               p.meta_description, p.canonical_url, p.status as "status: PostStatus",
               p.scheduled_at, p.published_at, p.created_at, p.updated_at, p.language,
               p.kind as "kind: Kind", p.featured, p.body_format, p.cover_image_caption,
               p.social as "social: sqlx::types::Json<SocialCards>", p.show_title_and_feature_image
        from posts p left join series s on s.id = p.series_id
        where p.id = $1
        "#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found(id))?;
    let (authors, tags) = crate::blog::reading::authors_and_tags(db, id).await?;
    Ok(AdminPost {
        id: row.id,
        slug: row.slug,
        title: row.title,
        excerpt: row.excerpt,
        excerpt_is_generated: row.excerpt_is_generated,
        body: row.body_markdown,
        html: row.body_html,
        toc: serde_json::from_value(row.toc).unwrap_or_default(),
        word_count: row.word_count,
        reading_minutes: row.reading_minutes,
        cover_image_url: row.cover_image_url,
        cover_image_alt: row.cover_image_alt,
        authors,
        tags,
        series: row.series,
        series_part: row.series_part,
        meta_title: row.meta_title,
        meta_description: row.meta_description,
        canonical_url: row.canonical_url,
        status: row.status,
        scheduled_at: row.scheduled_at,
        published_at: row.published_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        language: row.language,
        kind: row.kind,
        featured: row.featured,
        body_format: row.body_format,
        cover_image_caption: row.cover_image_caption,
        social: row.social.0,
        show_title_and_feature_image: row.show_title_and_feature_image,
    })
}

/// Every post (or page), newest first, optionally of one status.
pub async fn list(
    db: &Db,
    kind: Kind,
    status: Option<PostStatus>,
    page: &PageParams,
) -> Result<Page<AdminPostSummary>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = sqlx::query_as!(
        AdminPostSummary,
        r#"
        select id, kind as "kind: Kind", slug, title, status as "status: PostStatus",
               scheduled_at, published_at, updated_at
        from posts
        where ($1::uuid is null or id < $1) and ($2::text is null or status = $2) and kind = $4
        order by id desc
        limit $3
        "#,
        after,
        status.map(PostStatus::as_str),
        i64::from(limit) + 1,
        kind.as_str(),
    )
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |p| p.id))
}

pub async fn delete(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = core.begin().await?;
    let gone = sqlx::query!(
        "delete from posts where id = $1 returning slug, status, kind",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(id))?;
    let slug = gone.slug;
    if gone.status == "published" && gone.kind == "page" {
        crate::webhooks::site_changed(&mut tx, &core.jobs, "page.deleted", Some(&slug)).await?;
    } else if gone.status == "published" {
        let data = serde_json::json!({ "id": id, "slug": slug, "status": "deleted" });
        crate::webhooks::publish(&mut tx, &core.jobs, "post.unpublished", &data).await?;
        crate::webhooks::site_changed(&mut tx, &core.jobs, "post.unpublished", Some(&slug)).await?;
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("post.delete", "post", id)
            .with_details(serde_json::json!({ "slug": slug })),
    )
    .await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn revisions(db: &Db, id: Uuid) -> Result<Vec<RevisionSummary>> {
    get(db, id).await?;
    Ok(sqlx::query_as!(
        RevisionSummary,
        r#"select revision, snapshot->>'title' as "title!", snapshot->>'slug' as "slug!",
                  created_by, created_at
           from post_revisions where post_id = $1 order by revision desc"#,
        id
    )
    .fetch_all(db)
    .await?)
}

pub async fn revision(db: &Db, id: Uuid, number: i32) -> Result<Revision> {
    let row = sqlx::query!(
        "select revision, snapshot, created_by, created_at from post_revisions where post_id = $1 and revision = $2",
        id,
        number
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::not_found(format!("Post {id} has no revision {number}.")))?;
    let post: PostInput = serde_json::from_value(row.snapshot).map_err(anyhow::Error::from)?;
    Ok(Revision {
        revision: row.revision,
        created_by: row.created_by,
        created_at: row.created_at,
        post,
    })
}

/// Puts a revision's content back (the current content becomes a revision in turn); the
/// post keeps its status.
pub async fn restore(
    core: &Core,
    actor: AuditActor<'_>,
    id: Uuid,
    number: i32,
) -> Result<AdminPost> {
    let old = revision(&core.db, id, number).await?;
    let current = get(&core.db, id).await?;
    let mut post = old.post.validate(Utc::now())?;
    post.status = current.status;
    post.scheduled_at = current.scheduled_at;
    let admin_post = replace(core, actor, id, post).await?;
    Ok(admin_post)
}

/// Publishes every scheduled post whose time has come. Safe with many replicas: the update
/// re-checks `status = 'scheduled'` after waiting on a row another replica is publishing,
/// so each post is published, and audited, once.
pub async fn publish_due(core: &Core) -> Result<Vec<String>> {
    let mut tx = core.begin().await?;
    let published = sqlx::query!(
        r#"
        update posts set status = 'published', published_at = coalesce(published_at, scheduled_at),
                         scheduled_at = null, updated_at = now()
        where status = 'scheduled' and scheduled_at <= now()
        returning id, slug
        "#
    )
    .fetch_all(&mut *tx)
    .await?;
    for post in &published {
        audit::record(
            &mut tx,
            AuditActor::System,
            AuditEvent::new("post.publish_scheduled", "post", post.id)
                .with_details(serde_json::json!({ "slug": post.slug })),
        )
        .await?;
        announce(&mut tx, core, post.id, false).await?;
    }
    if !published.is_empty() {
        core.cache.changed(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(published.into_iter().map(|p| p.slug).collect())
}
