//! Importing a Ghost export (Labs → Export: `{"db": [{"meta", "data": {table: [rows]}}]}`,
//! or the same object without the wrapper), Ghost 4 to 6: staff (`users`) as authors, tags,
//! posts and pages with their HTML (sanitized and kept as their body: Ghost's lexical and
//! mobiledoc sources have no markdown), the post↔tag and post↔author order, states and
//! dates, feature images with alt and caption, SEO and social fields, featured, and slugs
//! unchanged. `__GHOST_URL__` in stored URLs becomes the site's public URL.
//!
//! Idempotent: what an import made is remembered by the export's ids (`ghost_imports`), so
//! a second run imports nothing and says so. Authors and tags whose slug exists are reused
//! (as Ghost's importer does); a post whose slug another post already has is skipped and
//! reported, never renamed, so no address changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::nql::parse_instant;
use crate::audit::{self, AuditActor, AuditEvent};
use crate::blog::render;
use crate::error::{AppError, FieldError, Result};
use crate::state::Core;

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    /// The exporting Ghost's version (`meta.version`).
    pub ghost_version: Option<String>,
    pub posts_imported: usize,
    pub pages_imported: usize,
    pub tags_imported: usize,
    pub authors_imported: usize,
    /// Tags and authors whose slug existed here: linked, not duplicated.
    pub reused: Vec<Skipped>,
    /// What was not imported, and why.
    pub skipped: Vec<Skipped>,
    /// Imported as drafts although published in Ghost, and why.
    pub drafted: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Skipped {
    /// `post`, `page`, `tag` or `author`.
    pub kind: String,
    pub slug: String,
    pub reason: String,
}

fn invalid(detail: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new(
        "export",
        "not_a_ghost_export",
        detail,
    )])
}

/// The `data` object and `meta.version` of an export.
fn data_of(export: &Value) -> Result<(&serde_json::Map<String, Value>, Option<String>)> {
    let root = export.get("db").and_then(|db| db.get(0)).unwrap_or(export);
    let data = root
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("a Ghost export has `db[0].data` (or `data`) holding its tables"))?;
    let version = root
        .pointer("/meta/version")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((data, version))
}

fn rows<'a>(data: &'a serde_json::Map<String, Value>, table: &str) -> &'a [Value] {
    data.get(table)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A non-empty text field (Postgres refuses NUL characters: they are dropped).
fn text(row: &Value, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.replace('\0', "")),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(row: &Value, key: &str) -> Option<bool> {
    match row.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        Value::String(s) => Some(s == "1" || s == "true"),
        _ => None,
    }
}

fn time(row: &Value, key: &str) -> Option<DateTime<Utc>> {
    text(row, key).as_deref().and_then(parse_instant)
}

fn sort_order(row: &Value) -> i64 {
    row.get("sort_order").and_then(Value::as_i64).unwrap_or(0)
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Replaces Ghost's placeholder for its own address.
fn absolute(base: &str, value: Option<String>) -> Option<String> {
    value.map(|v| v.replace("__GHOST_URL__", base))
}

/// A link's absolute http(s) URL (the placeholder replaced); anything else is left out.
fn link(base: &str, value: Option<String>) -> Option<String> {
    let url = absolute(base, value)?;
    let parsed = reqwest::Url::parse(&url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(url)
}

/// An image's absolute http(s) URL: the placeholder replaced, a path made absolute on the
/// site; anything else (a `data:` URL, a relative path) is left out.
fn image(base: &str, value: Option<String>) -> Option<String> {
    let url = absolute(base, value)?;
    if url.starts_with('/') && !url.starts_with("//") {
        return Some(format!("{base}{url}"));
    }
    link(base, Some(url))
}

/// What an earlier import made of this export row, if it still exists.
async fn imported(conn: &mut PgConnection, kind: &str, ghost_id: &str) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        "select local_id from ghost_imports where kind = $1 and ghost_id = $2",
        kind,
        ghost_id
    )
    .fetch_optional(conn)
    .await?)
}

async fn remember(
    conn: &mut PgConnection,
    kind: &str,
    ghost_id: &str,
    local: Uuid,
    slug: &str,
) -> Result<()> {
    sqlx::query!(
        r#"insert into ghost_imports (kind, ghost_id, local_id, slug) values ($1, $2, $3, $4)
           on conflict (kind, ghost_id) do update set local_id = excluded.local_id, slug = excluded.slug"#,
        kind,
        ghost_id,
        local,
        slug
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Imports an export in one transaction.
pub async fn import_export(
    core: &Core,
    actor: AuditActor<'_>,
    export: &Value,
) -> Result<ImportReport> {
    let (data, ghost_version) = data_of(export)?;
    // Ghost stores its own address as a placeholder; it becomes the site's.
    let base = crate::site::get(&core.db)
        .await?
        .map(|s| s.public_url.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            AppError::conflict(
                "site-profile-missing",
                "Set the site profile first (PUT /v1/admin/site): its public_url replaces \
                 __GHOST_URL__ in the export's images and links.",
            )
        })?;
    let mut report = ImportReport {
        ghost_version,
        ..ImportReport::default()
    };
    let mut tx = core.begin().await?;
    // One import at a time: two at once would race for the same slugs.
    sqlx::query!("select pg_advisory_xact_lock(hashtext('frontdesk:ghost-import'))")
        .execute(&mut *tx)
        .await?;

    // Staff → authors, by slug.
    let mut authors: HashMap<String, Uuid> = HashMap::new();
    for user in rows(data, "users") {
        let (Some(ghost_id), Some(slug)) = (text(user, "id"), text(user, "slug")) else {
            continue;
        };
        let name = text(user, "name").unwrap_or_else(|| slug.clone());
        if !valid_slug(&slug) {
            report.skipped.push(Skipped {
                kind: "author".into(),
                slug,
                reason: "the slug is not lowercase letters, digits and dashes".into(),
            });
            continue;
        }
        if let Some(local) = sqlx::query_scalar!("select id from authors where slug = $1", slug)
            .fetch_optional(&mut *tx)
            .await?
        {
            if imported(&mut tx, "author", &ghost_id).await? != Some(local) {
                report.reused.push(Skipped {
                    kind: "author".into(),
                    slug: slug.clone(),
                    reason: "an author with this slug exists: linked".into(),
                });
            }
            authors.insert(ghost_id, local);
            continue;
        }
        let id = Uuid::now_v7();
        let profile = serde_json::json!({
            "cover_image": image(&base, text(user, "cover_image")),
            "website": link(&base, text(user, "website")), "location": text(user, "location"),
            "facebook": text(user, "facebook"), "twitter": text(user, "twitter"),
            "meta_title": text(user, "meta_title"),
            "meta_description": text(user, "meta_description"),
        });
        sqlx::query!(
            r#"insert into authors (id, slug, name, bio, avatar_url, profile)
               values ($1, $2, $3, $4, $5, $6)"#,
            id,
            slug,
            name,
            text(user, "bio").unwrap_or_default(),
            image(&base, text(user, "profile_image")),
            profile,
        )
        .execute(&mut *tx)
        .await?;
        remember(&mut tx, "author", &ghost_id, id, &slug).await?;
        report.authors_imported += 1;
        authors.insert(ghost_id, id);
    }

    // Tags, by slug.
    let mut tags: HashMap<String, Uuid> = HashMap::new();
    for tag in rows(data, "tags") {
        let (Some(ghost_id), Some(slug)) = (text(tag, "id"), text(tag, "slug")) else {
            continue;
        };
        if !valid_slug(&slug) {
            report.skipped.push(Skipped {
                kind: "tag".into(),
                slug,
                reason: "the slug is not lowercase letters, digits and dashes".into(),
            });
            continue;
        }
        if let Some(local) = sqlx::query_scalar!("select id from tags where slug = $1", slug)
            .fetch_optional(&mut *tx)
            .await?
        {
            if imported(&mut tx, "tag", &ghost_id).await? != Some(local) {
                report.reused.push(Skipped {
                    kind: "tag".into(),
                    slug: slug.clone(),
                    reason: "a tag with this slug exists: linked".into(),
                });
            }
            tags.insert(ghost_id, local);
            continue;
        }
        let id = Uuid::now_v7();
        let mut details = serde_json::Map::new();
        for key in [
            "feature_image",
            "accent_color",
            "canonical_url",
            "meta_title",
            "meta_description",
            "og_image",
            "og_title",
            "og_description",
            "twitter_image",
            "twitter_title",
            "twitter_description",
        ] {
            let value = if key.ends_with("image") {
                image(&base, text(tag, key))
            } else {
                absolute(&base, text(tag, key))
            };
            if let Some(value) = value {
                details.insert(key.into(), Value::String(value));
            }
        }
        sqlx::query!(
            "insert into tags (id, slug, name, description, details) values ($1, $2, $3, $4, $5)",
            id,
            slug,
            text(tag, "name").unwrap_or_else(|| slug.clone()),
            text(tag, "description").unwrap_or_default(),
            Value::Object(details),
        )
        .execute(&mut *tx)
        .await?;
        remember(&mut tx, "tag", &ghost_id, id, &slug).await?;
        report.tags_imported += 1;
        tags.insert(ghost_id, id);
    }

    // The links, in their order.
    let links = |table: &str, key: &str| -> HashMap<String, Vec<(i64, String)>> {
        let mut map: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for row in rows(data, table) {
            if let (Some(post), Some(other)) = (text(row, "post_id"), text(row, key)) {
                map.entry(post).or_default().push((sort_order(row), other));
            }
        }
        for list in map.values_mut() {
            list.sort();
        }
        map
    };
    let post_tags = links("posts_tags", "tag_id");
    let post_authors = links("posts_authors", "author_id");
    let meta: HashMap<String, &Value> = rows(data, "posts_meta")
        .iter()
        .filter_map(|m| text(m, "post_id").map(|id| (id, m)))
        .collect();

    for post in rows(data, "posts") {
        let (Some(ghost_id), Some(slug)) = (text(post, "id"), text(post, "slug")) else {
            continue;
        };
        let kind = if text(post, "type").as_deref() == Some("page") {
            "page"
        } else {
            "post"
        };
        let skip = |reason: &str| Skipped {
            kind: kind.into(),
            slug: slug.clone(),
            reason: reason.into(),
        };
        if let Some(local) = imported(&mut tx, "post", &ghost_id).await? {
            let exists = sqlx::query_scalar!(
                "select exists(select 1 from posts where id = $1) as \"e!\"",
                local
            )
            .fetch_one(&mut *tx)
            .await?;
            if exists {
                report.skipped.push(skip("already imported"));
                continue;
            }
        }
        if !valid_slug(&slug) {
            report
                .skipped
                .push(skip("the slug is not lowercase letters, digits and dashes"));
            continue;
        }
        if sqlx::query_scalar!(
            "select exists(select 1 from posts where slug = $1) as \"e!\"",
            slug
        )
        .fetch_one(&mut *tx)
        .await?
        {
            report
                .skipped
                .push(skip("another post or page here has this slug"));
            continue;
        }
        let m = meta.get(&ghost_id).copied().unwrap_or(&Value::Null);
        // `sent`: mailed to members only, never on the web.
        let email_only = text(post, "status").as_deref() == Some("sent")
            || flag(m, "email_only").unwrap_or(false);
        let mut status = match text(post, "status").as_deref() {
            Some("published") => "published",
            Some("scheduled") => "scheduled",
            _ => "draft",
        };
        let visibility = text(post, "visibility").unwrap_or_else(|| "public".into());
        if email_only {
            status = "draft";
            report.drafted.push(skip(
                "sent by email only, never on the web: imported as a draft rather than made public",
            ));
        } else if visibility != "public" && status != "draft" {
            // frontdesk has no members: publishing it would give everyone what only members
            // (or payers) could read.
            status = "draft";
            report.drafted.push(skip(&format!(
                "visibility `{visibility}`: frontdesk has no members, so it was imported as a draft rather than made public"
            )));
        }
        let published_at = time(post, "published_at");
        if status != "draft" && published_at.is_none() {
            report
                .skipped
                .push(skip("published or scheduled without a published_at"));
            continue;
        }
        let rendered =
            render::render_html(&absolute(&base, text(post, "html")).unwrap_or_default());
        let field = |key: &str| text(m, key).or_else(|| text(post, key));
        let (excerpt, generated) = match text(post, "custom_excerpt") {
            Some(custom) => (custom, false),
            None => (
                render::excerpt(&rendered.lead, crate::blog::posts::GENERATED_EXCERPT_CHARS),
                true,
            ),
        };
        let social = serde_json::json!({
            "og_image": image(&base, field("og_image")), "og_title": field("og_title"),
            "og_description": field("og_description"),
            "twitter_image": image(&base, field("twitter_image")),
            "twitter_title": field("twitter_title"),
            "twitter_description": field("twitter_description"),
        });
        let created_at = time(post, "created_at").unwrap_or_else(Utc::now);
        let updated_at = time(post, "updated_at").unwrap_or(created_at);
        let toc = serde_json::to_value(&rendered.toc).map_err(anyhow::Error::from)?;
        let id = Uuid::now_v7();
        sqlx::query!(
            r#"
            insert into posts (id, kind, slug, title, excerpt, excerpt_is_generated, body_markdown,
                               body_format, body_html, body_text, toc, word_count, reading_minutes,
                               cover_image_url, cover_image_alt, cover_image_caption, featured,
                               meta_title, meta_description, canonical_url, social,
                               show_title_and_feature_image, status, scheduled_at, published_at,
                               created_at, updated_at)
            values ($1, $2, $3, $4, $5, $6, $7, 'html', $8, $9, $10, $11, $12, $13, $14, $15, $16,
                    $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
            "#,
            id,
            kind,
            slug,
            text(post, "title").unwrap_or_else(|| slug.clone()),
            excerpt,
            generated,
            // The sanitized HTML is the source: what an editor later changes.
            rendered.html,
            rendered.html,
            rendered.search_text,
            toc,
            rendered.word_count,
            rendered.reading_minutes,
            image(&base, text(post, "feature_image")),
            field("feature_image_alt"),
            field("feature_image_caption").map(|c| ammonia::clean(&c)),
            flag(post, "featured").unwrap_or(false),
            field("meta_title"),
            field("meta_description"),
            link(&base, text(post, "canonical_url")),
            social,
            flag(post, "show_title_and_feature_image").unwrap_or(true),
            status,
            (status == "scheduled").then_some(published_at).flatten(),
            (status == "published").then_some(published_at).flatten(),
            created_at,
            updated_at,
        )
        .execute(&mut *tx)
        .await?;
        let author_ids: Vec<Uuid> = post_authors
            .get(&ghost_id)
            .map(|list| {
                list.iter()
                    .filter_map(|(_, a)| authors.get(a).copied())
                    .collect::<Vec<_>>()
            })
            .filter(|list| !list.is_empty())
            .or_else(|| {
                text(post, "author_id")
                    .and_then(|a| authors.get(&a).copied())
                    .map(|a| vec![a])
            })
            .unwrap_or_default();
        let mut seen = Vec::new();
        for (position, author) in author_ids.into_iter().enumerate() {
            if seen.contains(&author) {
                continue;
            }
            seen.push(author);
            sqlx::query!(
                "insert into post_authors (post_id, author_id, position) values ($1, $2, $3)",
                id,
                author,
                i32::try_from(position).unwrap_or(i32::MAX)
            )
            .execute(&mut *tx)
            .await?;
        }
        let mut seen = Vec::new();
        for (position, (_, tag)) in post_tags.get(&ghost_id).into_iter().flatten().enumerate() {
            let Some(tag) = tags.get(tag).copied() else {
                continue;
            };
            if seen.contains(&tag) {
                continue;
            }
            seen.push(tag);
            sqlx::query!(
                "insert into post_tags (post_id, tag_id, position) values ($1, $2, $3)",
                id,
                tag,
                i32::try_from(position).unwrap_or(i32::MAX)
            )
            .execute(&mut *tx)
            .await?;
        }
        remember(&mut tx, "post", &ghost_id, id, &slug).await?;
        if kind == "page" {
            report.pages_imported += 1;
        } else {
            report.posts_imported += 1;
        }
    }
    let made = report.posts_imported
        + report.pages_imported
        + report.tags_imported
        + report.authors_imported;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("ghost.import", "ghost_import", "export").with_details(serde_json::json!({
            "ghost_version": report.ghost_version,
            "posts": report.posts_imported, "pages": report.pages_imported,
            "tags": report.tags_imported, "authors": report.authors_imported,
            "skipped": report.skipped.len(),
        })),
    )
    .await?;
    if made > 0 {
        crate::webhooks::site_changed(&mut tx, &core.jobs, "ghost.import", None).await?;
        core.cache.changed(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(report)
}
