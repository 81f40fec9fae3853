//! Webhook endpoints (admin CRUD, audited), and publishing an event: a delivery job per
//! endpoint subscribed to it, in the unit of work of the change (see `delivery` for how a
//! job is delivered).

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::Work;
use crate::error::{AppError, Result};
use crate::jobs::{JobQueue, NewJobs};
use crate::validation::Validator;

/// Events an endpoint can subscribe to.
pub const EVENTS: &[&str] = &[
    "lead.created",
    "lead.status_changed",
    "newsletter.confirmed",
    "booking.created",
    "booking.rescheduled",
    "booking.cancelled",
    "post.published",
    "post.unpublished",
    "post.updated",
    "site.changed",
];

/// The job kind of a delivery.
pub const JOB_KIND: &str = "webhook";

/// A webhook delivery to do: which endpoint, which event, what data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookJob {
    pub endpoint_id: Uuid,
    pub event: String,
    pub data: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// Adds a delivery of `event` to each of `endpoints` to `jobs` (for a caller that writes
/// its jobs together with its change, knowing the subscribers already).
pub fn add_deliveries(
    jobs: &mut NewJobs,
    endpoints: &[Uuid],
    event: &str,
    data: &serde_json::Value,
) -> Result<()> {
    let occurred_at = Utc::now();
    for endpoint_id in endpoints {
        jobs.job(
            JOB_KIND,
            &WebhookJob {
                endpoint_id: *endpoint_id,
                event: event.to_owned(),
                data: data.clone(),
                occurred_at,
            },
        )?;
    }
    Ok(())
}

/// The active endpoints subscribed to `event`.
pub async fn subscribers(conn: &mut sqlx::PgConnection, event: &str) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "select id from webhook_endpoints where active and $1 = any(events)",
        event
    )
    .fetch_all(conn)
    .await?)
}

/// Publishes `event` from within `work`: a delivery job for every active endpoint
/// subscribed to it, written and delivered only if the work commits. Returns how many.
pub async fn publish(
    work: &mut Work,
    queue: &JobQueue,
    event: &str,
    data: &serde_json::Value,
) -> Result<usize> {
    let endpoints = subscribers(work, event).await?;
    let mut jobs = NewJobs::default();
    add_deliveries(&mut jobs, &endpoints, event, data)?;
    queue.push(work, &jobs).await?;
    Ok(endpoints.len())
}

/// Publishes `site.changed`: the public site's content changed (`what`: `post.published`,
/// `service.update`, `site.update`...), so a statically built frontend can rebuild.
pub async fn site_changed(
    work: &mut Work,
    queue: &JobQueue,
    what: &str,
    slug: Option<&str>,
) -> Result<usize> {
    publish(
        work,
        queue,
        "site.changed",
        &serde_json::json!({ "change": what, "slug": slug }),
    )
    .await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub active: bool,
    /// The first characters only; the whole secret is shown once, when created.
    pub secret_hint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointInput {
    #[schema(example = "https://crm.example.com/hooks/frontdesk")]
    pub url: String,
    /// Events to receive: lead.created, lead.status_changed, newsletter.confirmed,
    /// booking.created, booking.rescheduled, booking.cancelled, post.published,
    /// post.unpublished, post.updated, site.changed.
    #[schema(example = json!(["lead.created"]))]
    pub events: Vec<String>,
    pub description: String,
    /// Defaults to true.
    pub active: Option<bool>,
    /// The signing secret; generated when absent (at least 16 characters when given).
    pub secret: Option<String>,
}

pub struct ValidEndpoint {
    pub url: String,
    pub allow_private: bool,
    pub events: Vec<String>,
    pub description: String,
    pub active: bool,
    pub secret: Option<String>,
}

impl EndpointInput {
    /// `allow_private`: WEBHOOK_ALLOW_PRIVATE (see [`crate::outbound`]).
    pub fn validate(self, allow_private: bool) -> Result<ValidEndpoint> {
        let mut v = Validator::new();
        let url = match v.http_url("url", &self.url) {
            Some(url) => {
                if let Err(reason) = crate::outbound::check_url(&url, allow_private) {
                    v.error("url", "forbidden_destination", reason);
                }
                url.to_string()
            }
            None => String::new(),
        };
        if self.events.is_empty() {
            v.error(
                "events",
                "required",
                format!("events must list at least one of {}", EVENTS.join(", ")),
            );
        }
        for (i, event) in self.events.iter().enumerate() {
            if !EVENTS.contains(&event.as_str()) {
                v.error(
                    &format!("events[{i}]"),
                    "invalid_choice",
                    format!("unknown event `{event}`; events are {}", EVENTS.join(", ")),
                );
            }
        }
        let description = v.text("description", &self.description, 500);
        if let Some(secret) = &self.secret {
            if !(16..=200).contains(&secret.len()) {
                v.error(
                    "secret",
                    "invalid_length",
                    "secret must be 16 to 200 characters",
                );
            }
        }
        v.finish()?;
        let mut events: Vec<String> = Vec::with_capacity(self.events.len());
        for event in self.events {
            if !events.contains(&event) {
                events.push(event);
            }
        }
        Ok(ValidEndpoint {
            url,
            events,
            description,
            active: self.active.unwrap_or(true),
            secret: self.secret,
            allow_private,
        })
    }
}

fn hint(secret: &str) -> String {
    format!("{}…", secret.chars().take(10).collect::<String>())
}

struct Row {
    id: Uuid,
    url: String,
    events: Vec<String>,
    description: String,
    active: bool,
    secret: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Endpoint {
    fn from(r: Row) -> Self {
        Self {
            secret_hint: hint(&r.secret),
            id: r.id,
            url: r.url,
            events: r.events,
            description: r.description,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn not_found(id: Uuid) -> AppError {
    AppError::not_found(format!("No webhook endpoint has id {id}."))
}

pub async fn list(db: &Db) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query_as!(
        Row,
        "select id, url, events, description, active, secret, created_at, updated_at from webhook_endpoints order by id"
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Endpoint::from).collect())
}

pub async fn get(db: &Db, id: Uuid) -> Result<Endpoint> {
    sqlx::query_as!(
        Row,
        "select id, url, events, description, active, secret, created_at, updated_at from webhook_endpoints where id = $1",
        id
    )
    .fetch_optional(db)
    .await?
    .map(Endpoint::from)
    .ok_or_else(|| not_found(id))
}

/// A name that resolves only to non-public addresses is refused now (a name that does not
/// resolve yet is accepted: the receiver may not be up; deliveries check again).
async fn check_destination(input: &ValidEndpoint) -> Result<()> {
    if input.allow_private {
        return Ok(());
    }
    let Some(host) = url::Url::parse(&input.url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
    else {
        return Ok(());
    };
    let Ok(addrs) = tokio::net::lookup_host((host.as_str(), 0)).await else {
        return Ok(());
    };
    let addrs: Vec<_> = addrs.collect();
    if !addrs.is_empty() && !addrs.iter().any(|a| crate::outbound::is_public(a.ip())) {
        return Err(AppError::field(
            "url",
            "forbidden_destination",
            crate::outbound::PRIVATE_DESTINATION,
        ));
    }
    Ok(())
}

/// Creates an endpoint; returns it with its whole secret.
pub async fn create(
    db: &Db,
    actor: AuditActor<'_>,
    input: ValidEndpoint,
) -> Result<(Endpoint, String)> {
    check_destination(&input).await?;
    let secret = input
        .secret
        .unwrap_or_else(|| crate::tokens::new_token("whsec_"));
    let mut tx = db.begin().await?;
    let row = sqlx::query_as!(
        Row,
        r#"insert into webhook_endpoints (id, url, events, description, active, secret)
           values ($1, $2, $3, $4, $5, $6)
           returning id, url, events, description, active, secret, created_at, updated_at"#,
        Uuid::now_v7(),
        input.url,
        &input.events,
        input.description,
        input.active,
        secret
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("webhook.create", "webhook_endpoint", row.id)
            .with_details(serde_json::json!({ "url": row.url, "events": row.events })),
    )
    .await?;
    tx.commit().await?;
    Ok((Endpoint::from(row), secret))
}

pub async fn replace(
    db: &Db,
    actor: AuditActor<'_>,
    id: Uuid,
    input: ValidEndpoint,
) -> Result<Endpoint> {
    check_destination(&input).await?;
    let mut tx = db.begin().await?;
    let row = sqlx::query_as!(
        Row,
        r#"update webhook_endpoints set url = $2, events = $3, description = $4, active = $5,
                  secret = coalesce($6, secret), updated_at = now()
           where id = $1
           returning id, url, events, description, active, secret, created_at, updated_at"#,
        id,
        input.url,
        &input.events,
        input.description,
        input.active,
        input.secret
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(id))?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("webhook.update", "webhook_endpoint", id).with_details(
            serde_json::json!({ "url": row.url, "events": row.events, "active": row.active }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Endpoint::from(row))
}

pub async fn delete(db: &Db, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let url = sqlx::query_scalar!(
        "delete from webhook_endpoints where id = $1 returning url",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(id))?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("webhook.delete", "webhook_endpoint", id)
            .with_details(serde_json::json!({ "url": url })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLog {
    pub id: Uuid,
    /// The delivery id the receiver saw (the same on every attempt).
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub occurred_at: DateTime<Utc>,
}

pub async fn deliveries(db: &Db, endpoint_id: Uuid) -> Result<Vec<DeliveryLog>> {
    get(db, endpoint_id).await?;
    Ok(sqlx::query_as!(
        DeliveryLog,
        r#"select id, job_id as delivery_id, attempt, status_code, error, duration_ms, occurred_at
           from webhook_deliveries where endpoint_id = $1 order by id desc limit 100"#,
        endpoint_id
    )
    .fetch_all(db)
    .await?)
}

/// Drops delivery logs older than `days`, whatever became of their jobs.
pub async fn purge_deliveries(db: &Db, days: u32) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from webhook_deliveries where occurred_at < now() - make_interval(days => $1)",
        i32::try_from(days).unwrap_or(i32::MAX)
    )
    .execute(db)
    .await?
    .rows_affected())
}
