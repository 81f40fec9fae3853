//! Export and erasure of everything held about one email address. Privacy holds no data of
//! its own: it asks each capability that stores personal data (see
//! [`crate::personal_data`]) for what it holds, or to erase it, in one transaction, so an
//! export shows exactly what an erasure removes.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::PgConnection;

use crate::db::Db;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::error::Result;
use crate::personal_data::{Found, Removed, Subject};

/// Every table, and whether (and by whom) its personal data is exported and erased. A test
/// lists the database's tables and fails when one is missing here, so a new table that
/// stores personal data cannot be forgotten.
pub const TABLES: &[(&str, Coverage)] = &[
    ("leads", Coverage::By("leads")),
    ("lead_events", Coverage::By("leads (with their lead)")),
    ("newsletter_subscribers", Coverage::By("newsletter")),
    (
        "newsletter_deliveries",
        Coverage::By("newsletter (who was sent which issue)"),
    ),
    ("newsletter_issues", Coverage::None),
    ("bookings", Coverage::By("scheduling")),
    (
        "rate_limit_counters",
        Coverage::By(
            "scheduling (the per-address booking cap) and plumbing (per-IP windows, a day)",
        ),
    ),
    ("outbox_jobs", Coverage::By("outbox (emails and webhooks)")),
    (
        "webhook_deliveries",
        Coverage::By("outbox (with their job)"),
    ),
    ("assistant_conversations", Coverage::By("assistant")),
    (
        "assistant_messages",
        Coverage::By("assistant (with their conversation)"),
    ),
    (
        "idempotency_keys",
        Coverage::By("idempotency (by the address's hash)"),
    ),
    (
        "admin_users",
        Coverage::NotVisitors("the firm's staff, managed by owners"),
    ),
    ("auth_sessions", Coverage::NotVisitors("staff sessions")),
    ("api_tokens", Coverage::NotVisitors("integrations")),
    (
        "login_failures",
        Coverage::NotVisitors("hashed staff sign-in attempts, a day"),
    ),
    (
        "audit_log",
        Coverage::NotVisitors("staff actions; names leads and bookings by id only"),
    ),
    (
        "privacy_erasures",
        Coverage::NotVisitors("what remains of an erasure: counts under a hash"),
    ),
    ("app_secrets", Coverage::None),
    ("site_profile", Coverage::None),
    ("catalogue_services", Coverage::None),
    ("authors", Coverage::NotVisitors("public author profiles")),
    ("tags", Coverage::None),
    ("series", Coverage::None),
    ("posts", Coverage::None),
    ("post_authors", Coverage::None),
    ("post_tags", Coverage::None),
    ("post_slug_redirects", Coverage::None),
    ("post_revisions", Coverage::None),
    ("post_share_counts", Coverage::None),
    ("webhook_endpoints", Coverage::None),
    ("hosts", Coverage::NotVisitors("staff as hosts")),
    ("host_working_hours", Coverage::None),
    ("host_date_overrides", Coverage::None),
    (
        "host_calendars",
        Coverage::NotVisitors("hosts' calendar connections, secrets sealed"),
    ),
    (
        "host_busy",
        Coverage::NotVisitors("when hosts are busy, without titles"),
    ),
    ("booking_calendar_events", Coverage::None),
    ("booking_reminders", Coverage::None),
    ("call_types", Coverage::None),
    ("call_type_hosts", Coverage::None),
    (
        "content_api_keys",
        Coverage::NotVisitors("front-ends' keys, naming the staff member who made each"),
    ),
    ("ghost_imports", Coverage::None),
];

/// What a table holds of visitors' personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Exported and erased by this capability.
    By(&'static str),
    /// Personal data of staff or integrations, not of visitors: not subject to a visitor's
    /// request.
    NotVisitors(&'static str),
    /// No personal data.
    None,
}

/// The person, with the ids of their leads and bookings that other rows refer to.
async fn subject(conn: &mut PgConnection, email: &str) -> Result<Subject> {
    let mut subject = Subject::new(email);
    subject.lead_ids = crate::leads::personal_data::ids(conn, &subject.email).await?;
    subject.booking_ids = crate::scheduling::personal_data::ids(conn, &subject.email).await?;
    Ok(subject)
}

/// Everything held about an address, by kind (the kinds an erasure counts).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    pub email: String,
    /// Every kind of record (`leads`, `newsletter_subscriptions`, `bookings`,
    /// `booking_cap_windows`, `emails`, `webhooks`, `assistant_conversations`,
    /// `idempotency_records`) with the records of that kind.
    #[schema(value_type = Object)]
    pub records: BTreeMap<&'static str, Vec<serde_json::Value>>,
}

pub async fn export(db: &Db, email: &str) -> Result<PersonalData> {
    // One snapshot: every part sees the same moment.
    let mut tx = db.begin().await?;
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let subject = subject(&mut tx, email).await?;
    let mut found: Vec<Found> = Vec::new();
    found.extend(crate::leads::personal_data::export(&mut tx, &subject).await?);
    found.extend(crate::newsletter::personal_data::export(&mut tx, &subject).await?);
    found.extend(crate::scheduling::personal_data::export(&mut tx, &subject).await?);
    found.extend(crate::jobs::personal_data::export(&mut tx, &subject).await?);
    found.extend(crate::assistant::personal_data::export(&mut tx, &subject).await?);
    found.extend(crate::idempotency::export(&mut tx, &subject).await?);
    tx.commit().await?;
    Ok(PersonalData {
        email: subject.email,
        records: found.into_iter().map(|f| (f.kind, f.records)).collect(),
    })
}

/// What an erasure removed, by kind; all that remains of the person.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Erased {
    pub counts: BTreeMap<String, i64>,
}

/// Erases the address everywhere, in one transaction, and records only the counts (under a
/// hash of the address) and an audit entry without the address. Rows that point at the
/// person's leads and bookings go before them.
pub async fn erase(db: &Db, actor: AuditActor<'_>, email: &str) -> Result<Erased> {
    let mut tx = db.begin().await?;
    let subject = subject(&mut tx, email).await?;
    let mut removed: Vec<Removed> = Vec::new();
    removed.extend(crate::assistant::personal_data::erase(&mut tx, &subject).await?);
    removed.extend(crate::jobs::personal_data::erase(&mut tx, &subject).await?);
    removed.extend(crate::scheduling::personal_data::erase(&mut tx, &subject).await?);
    removed.extend(crate::leads::personal_data::erase(&mut tx, &subject).await?);
    removed.extend(crate::newsletter::personal_data::erase(&mut tx, &subject).await?);
    removed.extend(crate::idempotency::erase(&mut tx, &subject).await?);
    let counts: BTreeMap<String, i64> = removed
        .into_iter()
        .map(|(k, v)| (k.to_owned(), i64::try_from(v).unwrap_or(i64::MAX)))
        .collect();
    let counts_json = serde_json::to_value(&counts).map_err(anyhow::Error::from)?;
    sqlx::query!(
        "insert into privacy_erasures (id, email_hash, counts) values ($1, $2, $3)",
        Uuid::now_v7(),
        subject.email_hash,
        counts_json
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("privacy.erase", "person", "erased").with_details(counts_json),
    )
    .await?;
    tx.commit().await?;
    Ok(Erased { counts })
}
