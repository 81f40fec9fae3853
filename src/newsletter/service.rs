//! The newsletter list with double opt-in: subscribing sends a confirmation link; only a
//! confirmed address is on the list. Unsubscribing works from a signed link (and RFC 8058
//! one-click), and subscribing again works.

use std::net::IpAddr;

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::NewsletterState;
use crate::error::{AppError, Result};
use crate::jobs::Email;
use crate::pagination::{Page, PageParams};
use crate::rate_limit::Guard;
use crate::signing::Signer;
use crate::state::Core;
use crate::tokens::{new_token, token_hash};

const UNSUBSCRIBE: &str = "unsubscribe";
const PREFERENCES: &str = "newsletter-preferences";

/// A confirmation link works for a week.
pub const CONFIRM_TTL_DAYS: i64 = 7;
/// At most one confirmation email per address this often, however often the form is sent.
pub const RESEND_AFTER_MINUTES: i64 = 5;

/// The reader's own unsubscribe link (also the RFC 8058 one-click target).
pub fn unsubscribe_url(public_api_url: &str, signer: &Signer, email: &str) -> String {
    let sig = signer.sign(UNSUBSCRIBE, email);
    signed_link(public_api_url, "/v1/newsletter/unsubscribe", &sig, email)
}

/// The reader's own unsubscribe page (a button), for the footer of what they receive.
pub fn unsubscribe_page_url(public_api_url: &str, signer: &Signer, email: &str) -> String {
    let sig = signer.sign(UNSUBSCRIBE, email);
    signed_link(public_api_url, "/newsletter/unsubscribe", &sig, email)
}

/// The reader's own preferences page (topics), for the footer of what they receive.
pub fn preferences_page_url(public_api_url: &str, signer: &Signer, email: &str) -> String {
    let sig = signer.sign(PREFERENCES, email);
    signed_link(public_api_url, "/newsletter/preferences", &sig, email)
}

fn signed_link(public_api_url: &str, path: &str, sig: &str, email: &str) -> String {
    let mut url = url::Url::parse(&format!("{public_api_url}{path}")).unwrap_or_else(|_| {
        url::Url::parse(&format!("http://localhost{path}")).expect("a valid URL")
    });
    url.query_pairs_mut()
        .append_pair("email", email)
        .append_pair("sig", sig);
    url.to_string()
}

/// Starts (or restarts) the double opt-in for `email`. Whatever the address's state, the
/// caller answers the same, so the form reveals nothing about who is subscribed.
pub async fn subscribe(
    core: &Core,
    newsletter: &NewsletterState,
    ip: Option<IpAddr>,
    email: &str,
    consent_version: &str,
    topics: &[String],
) -> Result<()> {
    let mut tx = core.begin().await?;
    Guard::new("newsletter", ip, newsletter.form_limit)
        .hit(&mut *tx)
        .await?;
    known_topics(&mut tx, topics).await?;
    let current = sqlx::query!(
        r#"select status, confirmation_sent_at, suppressed from newsletter_subscribers
           where email = $1 for update"#,
        email
    )
    .fetch_optional(&mut *tx)
    .await?;
    let recently_sent = |sent: Option<DateTime<Utc>>| {
        sent.is_some_and(|at| Utc::now() - at < chrono::Duration::minutes(RESEND_AFTER_MINUTES))
    };
    let send = match &current {
        None => true,
        // An address that reported our mail as spam is sent nothing, confirmations included.
        Some(row) if row.suppressed.as_deref() == Some("complained") => false,
        // A bounced address confirms again (opening the link proves the mailbox works).
        Some(row) if row.status == "confirmed" && row.suppressed.is_none() => false,
        Some(row) if row.status == "pending" => !recently_sent(row.confirmation_sent_at),
        Some(_) => true,
    };
    if send {
        let token = new_token("nl_");
        let expires = Utc::now() + chrono::Duration::days(CONFIRM_TTL_DAYS);
        sqlx::query!(
            r#"
            insert into newsletter_subscribers (id, email, status, confirm_token_hash, confirm_expires_at,
                                                confirmation_sent_at, consent_text_version, topics)
            values ($1, $2, 'pending', $3, $4, now(), $5, $6)
            on conflict (email) do update set
                status = 'pending', confirm_token_hash = excluded.confirm_token_hash,
                confirm_expires_at = excluded.confirm_expires_at, confirmation_sent_at = now(),
                consent_text_version = excluded.consent_text_version, topics = excluded.topics,
                updated_at = now()
            "#,
            Uuid::now_v7(),
            email,
            token_hash(&token),
            expires,
            consent_version,
            topics
        )
        .execute(&mut *tx)
        .await?;
        let firm = crate::site::identity(&mut *tx)
            .await?
            .map_or_else(|| "frontdesk".to_owned(), |(firm, _)| firm);
        let email_job = confirmation_email(core, &firm, email, &token);
        core.jobs.email(&mut tx, &email_job).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn confirmation_email(core: &Core, firm: &str, email: &str, token: &str) -> Email {
    let base = &core.config.http.public_api_url;
    let confirm = format!("{base}/v1/newsletter/confirm?token={token}");
    Email {
        to: email.to_owned(),
        subject: format!("Confirm your subscription to {firm}'s newsletter"),
        text: format!(
            "Hello,\n\nSomeone (we hope you) asked to receive {firm}'s newsletter at this address.\n\n\
             To confirm, open this link within {CONFIRM_TTL_DAYS} days:\n{confirm}\n\n\
             If it was not you, ignore this email: you will not hear from us again.\n\n— {firm}\n"
        ),
        purpose: "newsletter_confirmation".into(),
        unsubscribe_url: Some(unsubscribe_url(base, &core.signer, email)),
        html: None,
        attachment: None,
    }
}

fn invalid_link() -> AppError {
    AppError::not_found(
        "This confirmation link is not valid or has expired; subscribe again to get a new one.",
    )
}

/// Confirms the subscription a token was sent for.
pub async fn confirm(core: &Core, token: &str) -> Result<()> {
    let mut tx = core.begin().await?;
    let email = sqlx::query_scalar!(
        r#"
        update newsletter_subscribers
        set status = 'confirmed', confirmed_at = now(), confirm_token_hash = null,
            confirm_expires_at = null, unsubscribed_at = null, suppressed = null,
            suppressed_at = null, updated_at = now()
        where confirm_token_hash = $1 and status = 'pending' and confirm_expires_at > now()
        returning email
        "#,
        token_hash(token)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(invalid_link)?;
    crate::webhooks::publish(
        &mut tx,
        &core.jobs,
        "newsletter.confirmed",
        &serde_json::json!({ "email": email }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `email` off the list, if the signature is ours. True when it was on it.
pub async fn unsubscribe(db: &Db, signer: &Signer, email: &str, signature: &str) -> Result<bool> {
    if !signer.verify(UNSUBSCRIBE, email, signature) {
        return Err(AppError::not_found("This unsubscribe link is not valid."));
    }
    let changed = sqlx::query!(
        r#"update newsletter_subscribers set status = 'unsubscribed', unsubscribed_at = now(),
                  confirm_token_hash = null, updated_at = now()
           where email = $1 and status <> 'unsubscribed'"#,
        email
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// Refuses topics that are not tag slugs.
async fn known_topics(conn: &mut sqlx::PgConnection, topics: &[String]) -> Result<()> {
    if topics.is_empty() {
        return Ok(());
    }
    let known = crate::blog::topics(conn).await?;
    let unknown: Vec<&str> = topics
        .iter()
        .filter(|t| !known.iter().any(|(slug, _)| slug == *t))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(AppError::field(
            "topics",
            "unknown",
            format!(
                "No tag has the slug {}; topics are tag slugs (GET /v1/tags).",
                unknown.join(", ")
            ),
        ))
    }
}

/// A reader's preferences, as their preferences link shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preferences {
    pub email: String,
    /// pending, confirmed or unsubscribed.
    pub status: String,
    /// The topics (tag slugs) chosen; none: only issues sent to everyone.
    pub topics: Vec<String>,
    /// Every topic there is to choose.
    pub available_topics: Vec<Topic>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Topic {
    pub slug: String,
    pub name: String,
}

fn check_preferences_link(signer: &Signer, email: &str, signature: &str) -> Result<()> {
    if signer.verify(PREFERENCES, email, signature) {
        Ok(())
    } else {
        Err(AppError::not_found("This preferences link is not valid."))
    }
}

/// The preferences of a signed link's address.
pub async fn preferences(
    db: &Db,
    signer: &Signer,
    email: &str,
    signature: &str,
) -> Result<Preferences> {
    check_preferences_link(signer, email, signature)?;
    let mut conn = db.read_session().await?;
    read_preferences(&mut conn, email).await
}

async fn read_preferences(conn: &mut sqlx::PgConnection, email: &str) -> Result<Preferences> {
    let row = sqlx::query!(
        "select status, topics from newsletter_subscribers where email = $1",
        email
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("This address is not on the list."))?;
    let available_topics = crate::blog::topics(&mut *conn)
        .await?
        .into_iter()
        .map(|(slug, name)| Topic { slug, name })
        .collect();
    Ok(Preferences {
        email: email.to_owned(),
        status: row.status,
        topics: row.topics,
        available_topics,
    })
}

/// Replaces the topics of a signed link's address.
pub async fn set_topics(
    core: &Core,
    email: &str,
    signature: &str,
    topics: &[String],
) -> Result<Preferences> {
    check_preferences_link(&core.signer, email, signature)?;
    let mut tx = core.begin().await?;
    known_topics(&mut tx, topics).await?;
    let changed = sqlx::query!(
        "update newsletter_subscribers set topics = $2, updated_at = now() where email = $1",
        email,
        topics
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::not_found("This address is not on the list."));
    }
    let preferences = read_preferences(&mut tx, email).await?;
    tx.commit().await?;
    Ok(preferences)
}

async fn firm_name(db: &Db) -> Result<String> {
    Ok(crate::site::identity(db)
        .await?
        .map_or_else(|| "our".to_owned(), |(firm, _)| firm))
}

/// What the reader's unsubscribe page shows.
#[derive(Debug)]
pub struct UnsubscribePage {
    pub firm: String,
    pub email: String,
    pub subscribed: bool,
    /// Just unsubscribed by this request.
    pub done: bool,
    pub preferences_url: String,
}

/// The unsubscribe page of a signed link; with `confirm` (its button), unsubscribes.
pub async fn unsubscribe_page(
    core: &Core,
    email: &str,
    signature: &str,
    confirm: bool,
) -> Result<UnsubscribePage> {
    let subscribed = if confirm {
        unsubscribe(&core.db, &core.signer, email, signature).await?;
        false
    } else {
        is_subscribed(&core.db, &core.signer, email, signature).await?
    };
    Ok(UnsubscribePage {
        firm: firm_name(&core.db).await?,
        email: email.to_owned(),
        subscribed,
        done: confirm,
        preferences_url: preferences_page_url(
            &core.config.http.public_api_url,
            &core.signer,
            email,
        ),
    })
}

/// What the reader's preferences page shows.
#[derive(Debug)]
pub struct PreferencesPage {
    pub firm: String,
    pub preferences: Preferences,
    /// Just saved by this request.
    pub saved: bool,
    pub unsubscribe_url: String,
}

/// The preferences page of a signed link; with `topics` (its form), saves them first.
pub async fn preferences_page(
    core: &Core,
    email: &str,
    signature: &str,
    topics: Option<&[String]>,
) -> Result<PreferencesPage> {
    let preferences = match topics {
        Some(topics) => set_topics(core, email, signature, topics).await?,
        None => preferences(&core.db, &core.signer, email, signature).await?,
    };
    Ok(PreferencesPage {
        firm: firm_name(&core.db).await?,
        preferences,
        saved: topics.is_some(),
        unsubscribe_url: unsubscribe_page_url(
            &core.config.http.public_api_url,
            &core.signer,
            email,
        ),
    })
}

/// Whether a signed link's address is on the list (for the unsubscribe page).
pub async fn is_subscribed(db: &Db, signer: &Signer, email: &str, signature: &str) -> Result<bool> {
    if !signer.verify(UNSUBSCRIBE, email, signature) {
        return Err(AppError::not_found("This unsubscribe link is not valid."));
    }
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from newsletter_subscribers where email = $1 and status <> 'unsubscribed') as "subscribed!""#,
        email
    )
    .fetch_one(db)
    .await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Subscriber {
    pub id: Uuid,
    pub email: String,
    /// pending, confirmed or unsubscribed.
    pub status: String,
    pub consent_text_version: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

pub async fn list(db: &Db, status: Option<&str>, page: &PageParams) -> Result<Page<Subscriber>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = sqlx::query_as!(
        Subscriber,
        r#"select id, email, status, consent_text_version, created_at, confirmed_at, unsubscribed_at
           from newsletter_subscribers
           where ($1::uuid is null or id < $1) and ($2::text is null or status = $2)
           order by id desc limit $3"#,
        after,
        status,
        i64::from(limit) + 1
    )
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |s| s.id))
}

/// The subscribers (of one status, or all) as CSV.
pub async fn csv(db: &Db, status: Option<&str>) -> Result<Vec<u8>> {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let rows = all(db, status).await?.into_iter().map(|s| {
        vec![
            s.email,
            s.status,
            s.consent_text_version,
            s.created_at.to_rfc3339(),
            time(s.confirmed_at),
            time(s.unsubscribed_at),
        ]
    });
    crate::spreadsheet::csv(
        &[
            "email",
            "status",
            "consent_text_version",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
        ],
        rows,
    )
}

async fn all(db: &Db, status: Option<&str>) -> Result<Vec<Subscriber>> {
    Ok(sqlx::query_as!(
        Subscriber,
        r#"select id, email, status, consent_text_version, created_at, confirmed_at, unsubscribed_at
           from newsletter_subscribers where ($1::text is null or status = $1) order by id"#,
        status
    )
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub confirmed: i64,
    pub unsubscribed: i64,
}

pub async fn counts(db: &Db) -> Result<Counts> {
    let row = sqlx::query!(
        r#"select count(*) filter (where status = 'pending') as "pending!",
                  count(*) filter (where status = 'confirmed') as "confirmed!",
                  count(*) filter (where status = 'unsubscribed') as "unsubscribed!"
           from newsletter_subscribers"#
    )
    .fetch_one(db)
    .await?;
    Ok(Counts {
        pending: row.pending,
        confirmed: row.confirmed,
        unsubscribed: row.unsubscribed,
    })
}
