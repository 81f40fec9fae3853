use crate::db::Db;
use sqlx::types::Json as Jsonb;

use super::model::{Branding, PostalAddress, SiteProfile, SocialLink, ValidSiteProfile};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::error::Result;
use crate::state::Core;

/// The firm's name and contact address, for what other capabilities send (`None` before
/// the profile is set).
pub async fn identity(conn: impl sqlx::PgExecutor<'_>) -> Result<Option<(String, String)>> {
    Ok(
        sqlx::query!("select firm_name, contact_email from site_profile")
            .fetch_optional(conn)
            .await?
            .map(|r| (r.firm_name, r.contact_email)),
    )
}

/// The profile, or `None` before an owner has set it.
pub async fn get(db: &Db) -> Result<Option<SiteProfile>> {
    let row = sqlx::query!(
        r#"
        select firm_name, tagline, contact_email, phone,
               postal_address as "postal_address: Jsonb<PostalAddress>",
               social_links as "social_links: Jsonb<Vec<SocialLink>>",
               public_url, branding as "branding: Jsonb<Branding>", updated_at
        from site_profile
        "#
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| SiteProfile {
        firm_name: r.firm_name,
        tagline: r.tagline,
        contact_email: r.contact_email,
        phone: r.phone,
        postal_address: r.postal_address.map(|a| a.0),
        social_links: r.social_links.0,
        public_url: r.public_url,
        branding: r.branding.0,
        updated_at: r.updated_at,
    }))
}

/// Replaces the profile.
pub async fn put(
    core: &Core,
    by: AuditActor<'_>,
    profile: ValidSiteProfile,
) -> Result<SiteProfile> {
    let mut tx = core.begin().await?;
    let updated_at = sqlx::query_scalar!(
        r#"
        insert into site_profile
            (singleton, firm_name, tagline, contact_email, phone, postal_address, social_links,
             public_url, branding)
        values (true, $1, $2, $3, $4, $5, $6, $7, $8)
        on conflict (singleton) do update set
            firm_name = excluded.firm_name, tagline = excluded.tagline,
            contact_email = excluded.contact_email, phone = excluded.phone,
            postal_address = excluded.postal_address, social_links = excluded.social_links,
            public_url = excluded.public_url, branding = excluded.branding, updated_at = now()
        returning updated_at
        "#,
        profile.firm_name,
        profile.tagline,
        profile.contact_email,
        profile.phone,
        profile.postal_address.clone().map(Jsonb) as _,
        Jsonb(profile.social_links.clone()) as _,
        profile.public_url,
        Jsonb(profile.branding.clone()) as _,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        by,
        AuditEvent::new("site.update", "site_profile", "site").with_details(serde_json::json!({
            "firm_name": profile.firm_name,
            "public_url": profile.public_url,
        })),
    )
    .await?;
    crate::webhooks::site_changed(&mut tx, &core.jobs, "site.update", None).await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(SiteProfile {
        firm_name: profile.firm_name,
        tagline: profile.tagline,
        contact_email: profile.contact_email,
        phone: profile.phone,
        postal_address: profile.postal_address,
        social_links: profile.social_links,
        public_url: profile.public_url,
        branding: profile.branding,
        updated_at,
    })
}
