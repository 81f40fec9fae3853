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
               created_at, updated_at, language
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
               created_at, updated_at, language
        from catalogue_services where slug = $1 and published
        "#,
        slug
    )
    .fetch_optional(db)
    .await?)
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
               created_at, updated_at, language
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
               created_at, updated_at, language
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
            (id, slug, title, summary, body_markdown, icon, display_order, published, language)
        values ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, 'en'))
        returning id, slug, title, summary, body_markdown as body, icon, display_order,
                  published, created_at, updated_at, language
        "#,
        Uuid::now_v7(),
        new.slug,
        new.title,
        new.summary,
        new.body,
        new.icon,
        new.display_order,
        new.published,
        new.language,
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
    crate::webhooks::site_changed(&mut tx, &core.jobs, "service.create", None).await?;
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
            display_order = $7, published = $8, updated_at = now(),
            language = coalesce($9, language)
        where id = $1
        returning id, slug, title, summary, body_markdown as body, icon, display_order,
                  published, created_at, updated_at, language
        "#,
        id,
        new.slug,
        new.title,
        new.summary,
        new.body,
        new.icon,
        new.display_order,
        new.published,
        new.language,
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
    crate::webhooks::site_changed(&mut tx, &core.jobs, "service.update", None).await?;
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
    crate::webhooks::site_changed(&mut tx, &core.jobs, "service.delete", None).await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
