//! What the newsletter reads of the blog (a post as it is mailed, the tags subscribers pick
//! as topics) and the one change it asks of it: publishing a post now ("publish and send").

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::Work;
use crate::error::{AppError, Result};
use crate::state::Core;

/// A post as the newsletter mails it.
#[derive(Debug, Clone)]
pub struct MailedPost {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    /// The rendered, sanitized body.
    pub html: String,
    /// The markdown source: readable as it is, the plain-text part of the email.
    pub markdown: String,
    /// `draft`, `scheduled`, `published` or `archived`.
    pub status: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    /// Tag slugs.
    pub tags: Vec<String>,
}

/// The post with this slug (or, when `slug` parses as one, this id).
pub async fn mailed_post(conn: &mut PgConnection, slug: &str) -> Result<Option<MailedPost>> {
    let id = Uuid::parse_str(slug).ok();
    Ok(sqlx::query_as!(
        MailedPost,
        r#"
        select p.id, p.slug, p.title, p.excerpt, p.body_html as html,
               case when p.body_format = 'html' then p.body_text else p.body_markdown end
                   as "markdown!",
               p.status, p.scheduled_at, p.cover_image_url, p.cover_image_alt,
               array(select t.slug from post_tags pt join tags t on t.id = pt.tag_id
                     where pt.post_id = p.id order by t.slug) as "tags!"
        from posts p where (p.slug = $1 or p.id = $2) and p.kind = 'post'
        "#,
        slug,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The post with this id.
pub async fn mailed_post_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<MailedPost>> {
    mailed_post(conn, &id.to_string()).await
}

/// Every tag as `(slug, name)`, by slug: the topics a subscriber may choose.
pub async fn topics(conn: impl sqlx::PgExecutor<'_>) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query!("select slug, name from tags order by slug")
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.slug, r.name))
        .collect())
}

/// Publishes a draft or scheduled post now, in `work` (a published one is left as it is).
pub async fn publish_now(
    core: &Core,
    work: &mut Work,
    actor: AuditActor<'_>,
    id: Uuid,
) -> Result<()> {
    let published = sqlx::query_scalar!(
        r#"update posts set status = 'published', published_at = now(), scheduled_at = null,
                  updated_at = now()
           where id = $1 and status in ('draft', 'scheduled')
           returning slug"#,
        id
    )
    .fetch_optional(&mut **work)
    .await?;
    let Some(slug) = published else {
        let status = sqlx::query_scalar!("select status from posts where id = $1", id)
            .fetch_optional(&mut **work)
            .await?;
        return match status.as_deref() {
            Some("published") => Ok(()),
            Some(status) => Err(AppError::conflict(
                "not-publishable",
                format!("This post is {status}; only a draft or scheduled post is published."),
            )),
            None => Err(AppError::not_found(format!("No post has id {id}."))),
        };
    };
    audit::record(
        work,
        actor,
        AuditEvent::new("post.publish", "post", id)
            .with_details(serde_json::json!({ "slug": slug })),
    )
    .await?;
    super::posts::announce(work, core, id, false).await?;
    core.cache.changed(work).await?;
    Ok(())
}
