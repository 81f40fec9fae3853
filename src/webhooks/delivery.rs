//! Delivering one webhook job, as the job runner's handler for kind `webhook`.
//!
//! Each delivery is a POST of `{"id", "event", "occurred_at", "data"}` with headers
//! `X-Frontdesk-Event`, `X-Frontdesk-Delivery` (the same on every retry: de-duplicate on it)
//! and `X-Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` made
//! with the endpoint's secret. Only allowed destinations are reached (see
//! [`crate::outbound`]).

use std::time::{Duration, Instant};

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::config::WebhooksConfig;
use super::service::WebhookJob;
use crate::jobs::worker::Delivery;
use crate::jobs::{Claimed, JobHandler};

pub const SIGNATURE_HEADER: &str = crate::signing::BODY_SIGNATURE_HEADER;
pub const DELIVERY_HEADER: &str = "x-frontdesk-delivery";
pub const EVENT_HEADER: &str = "x-frontdesk-event";

pub use crate::signing::sign_body as sign;

/// Delivers webhook jobs.
pub struct Deliverer {
    db: Db,
    http: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
}

impl Deliverer {
    pub fn new(db: Db, config: &WebhooksConfig) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            http: crate::outbound::client(config.allow_private, config.timeout)?,
            timeout: config.timeout,
            allow_private: config.allow_private,
        })
    }
}

impl JobHandler for Deliverer {
    fn deliver<'a>(&'a self, job: &'a Claimed) -> Delivery<'a> {
        Box::pin(async move {
            let delivered =
                deliver(&self.db, &self.http, job, self.timeout, self.allow_private).await?;
            Ok(if delivered { "http" } else { "skipped" })
        })
    }
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
async fn deliver(
    db: &Db,
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
