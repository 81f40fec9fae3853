//! Webhook endpoints (admin CRUD), signing, and delivering one webhook job.
//!
//! Each delivery is a POST of `{"id", "event", "occurred_at", "data"}` with headers
//! `X-Frontdesk-Event`, `X-Frontdesk-Delivery` (the same on every retry: de-duplicate on it)
//! and `X-Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` made
//! with the endpoint's secret.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::jobs::{Claimed, WebhookJob};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::error::{AppError, Result};
use crate::validation::Validator;

/// Events an endpoint can subscribe to.
pub const EVENTS: &[&str] = &[
    "lead.created",
    "lead.status_changed",
    "newsletter.confirmed",
];

pub const SIGNATURE_HEADER: &str = "x-frontdesk-signature";
pub const DELIVERY_HEADER: &str = "x-frontdesk-delivery";
pub const EVENT_HEADER: &str = "x-frontdesk-event";

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
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
    /// Events to receive: lead.created, lead.status_changed, newsletter.confirmed.
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

pub async fn list(db: &PgPool) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query_as!(
        Row,
        "select id, url, events, description, active, secret, created_at, updated_at from webhook_endpoints order by id"
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Endpoint::from).collect())
}

pub async fn get(db: &PgPool, id: Uuid) -> Result<Endpoint> {
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
    db: &PgPool,
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
    db: &PgPool,
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

pub async fn delete(db: &PgPool, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
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

pub async fn deliveries(db: &PgPool, endpoint_id: Uuid) -> Result<Vec<DeliveryLog>> {
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
pub async fn purge_deliveries(db: &PgPool, days: u32) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from webhook_deliveries where occurred_at < now() - make_interval(days => $1)",
        i32::try_from(days).unwrap_or(i32::MAX)
    )
    .execute(db)
    .await?
    .rows_affected())
}

#[derive(Serialize)]
struct Envelope<'a> {
    id: Uuid,
    event: &'a str,
    occurred_at: DateTime<Utc>,
    data: &'a serde_json::Value,
}

/// Delivers one webhook job; `Ok(false)` when its endpoint is gone or inactive (nothing to do).
/// `http` is an [`crate::outbound::client`]: it connects only to allowed addresses.
pub async fn deliver(
    db: &PgPool,
    http: &reqwest::Client,
    job: &Claimed,
    timeout: Duration,
    allow_private: bool,
) -> anyhow::Result<bool> {
    let webhook: WebhookJob = serde_json::from_value(job.payload.clone())?;
    let endpoint = sqlx::query!(
        "select url, secret from webhook_endpoints where id = $1 and active",
        webhook.endpoint_id
    )
    .fetch_optional(db)
    .await?;
    let Some(endpoint) = endpoint else {
        return Ok(false);
    };
    let body = serde_json::to_vec(&Envelope {
        id: job.id,
        event: &webhook.event,
        occurred_at: webhook.occurred_at,
        data: &webhook.data,
    })?;
    let timestamp = Utc::now().timestamp();
    let started = Instant::now();
    // Stored before the destination rules, or allowed before WEBHOOK_ALLOW_PRIVATE was
    // turned off: checked again at every delivery.
    let permitted = url::Url::parse(&endpoint.url)
        .map_err(|_| "the endpoint's URL is not valid")
        .and_then(|url| crate::outbound::check_url(&url, allow_private));
    if let Err(reason) = permitted {
        anyhow::bail!("not delivered: {reason}");
    }
    let outcome = http
        .post(&endpoint.url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, &webhook.event)
        .header(DELIVERY_HEADER, job.id.to_string())
        .header(SIGNATURE_HEADER, sign(&endpoint.secret, timestamp, &body))
        .body(body)
        .send()
        .await;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (status_code, error) = match &outcome {
        Ok(response) if response.status().is_success() => {
            (Some(i32::from(response.status().as_u16())), None)
        }
        Ok(response) => (
            Some(i32::from(response.status().as_u16())),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(err) => (None, Some(describe(err))),
    };
    sqlx::query!(
        r#"insert into webhook_deliveries (id, job_id, endpoint_id, attempt, status_code, error, duration_ms)
           values ($1, $2, $3, $4, $5, $6, $7)"#,
        Uuid::now_v7(),
        job.id,
        webhook.endpoint_id,
        job.attempts,
        status_code,
        error,
        duration_ms
    )
    .execute(db)
    .await?;
    match error {
        None => Ok(true),
        Some(error) => Err(anyhow::anyhow!(error)),
    }
}

/// One message for every way a request can fail before an answer: which one it was
/// (refused, timed out, unresolvable, filtered) would turn the delivery log into a port
/// scanner. The log keeps the duration and, when the receiver answered, its status.
fn describe(_err: &reqwest::Error) -> String {
    "the receiver could not be reached or did not answer in time".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = sign("whsec_secret", 1_700_000_000, b"{}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_eq!(a.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(a, sign("whsec_secret", 1_700_000_001, b"{}"));
        assert_ne!(a, sign("whsec_secret", 1_700_000_000, b"{ }"));
        assert_ne!(a, sign("whsec_other", 1_700_000_000, b"{}"));
        assert_eq!(a, sign("whsec_secret", 1_700_000_000, b"{}"));
    }
}
