//! Outbox workers: every replica runs OUTBOX_WORKERS of them. Each claims one due job at a
//! time (FOR UPDATE SKIP LOCKED), delivers it, and records success, a retry with backoff,
//! or parking. The replica that adds a job wakes its own workers as soon as the job is
//! committed; the others find it on their next poll. (A NOTIFY in the adding transaction
//! would wake every replica, but Postgres serializes the commits of notifying transactions,
//! which would cap lead capture at one commit at a time.)

use std::sync::Arc;
use std::time::Duration;

use std::sync::LazyLock;

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::jobs::{self, Claimed, Email};
use super::mailer::Mailer;
use super::webhooks;
use crate::config::Config;

#[derive(Clone)]
pub struct Deliverer {
    db: PgPool,
    mailer: Mailer,
    http: reqwest::Client,
    retry_base: Duration,
    webhook_timeout: Duration,
    webhook_allow_private: bool,
}

impl Deliverer {
    pub fn new(db: PgPool, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            mailer: Mailer::from_config(config)?,
            http: crate::outbound::client(
                config.outbox.webhook_allow_private,
                config.outbox.webhook_timeout,
            )?,
            retry_base: config.outbox.retry_base,
            webhook_timeout: config.outbox.webhook_timeout,
            webhook_allow_private: config.outbox.webhook_allow_private,
        })
    }

    /// Claims and delivers one due job; false when there was none.
    pub async fn run_once(&self) -> crate::error::Result<bool> {
        let Some(job) = jobs::claim(&self.db, 1).await?.into_iter().next() else {
            return Ok(false);
        };
        match self.deliver(&job).await {
            Ok(via) => jobs::succeed(&self.db, job.id, via).await?,
            Err(err) => {
                let parked =
                    jobs::fail(&self.db, &job, &format!("{err:#}"), self.retry_base).await?;
                if parked {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %err, "outbox job parked after its last attempt");
                } else {
                    tracing::info!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %err, "outbox job failed; will retry");
                }
            }
        }
        Ok(true)
    }

    async fn deliver(&self, job: &Claimed) -> anyhow::Result<&'static str> {
        match job.kind.as_str() {
            "email" => {
                let email: Email = serde_json::from_value(job.payload.clone())?;
                self.mailer.deliver(job.id, &email).await
            }
            "webhook" => {
                let delivered = webhooks::deliver(
                    &self.db,
                    &self.http,
                    job,
                    self.webhook_timeout,
                    self.webhook_allow_private,
                )
                .await?;
                Ok(if delivered { "http" } else { "skipped" })
            }
            other => anyhow::bail!("unknown job kind {other}"),
        }
    }
}

static WAKE: LazyLock<Arc<Notify>> = LazyLock::new(|| Arc::new(Notify::new()));

/// Wakes this process's idle workers: call it after committing a transaction that queued jobs.
pub fn wake() {
    WAKE.notify_waiters();
}

/// Runs the workers until `shutdown`.
pub async fn run(
    deliverer: Deliverer,
    workers: usize,
    poll: Duration,
    shutdown: CancellationToken,
) {
    let wake = WAKE.clone();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let deliverer = deliverer.clone();
        let wake = wake.clone();
        let shutdown = shutdown.clone();
        handles.push(tokio::spawn(async move {
            loop {
                if shutdown.is_cancelled() {
                    return;
                }
                match deliverer.run_once().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => tracing::warn!(error = %err, "outbox worker could not claim jobs"),
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
}

/// Drops what is only kept for a while: idempotency keys, rate-limit windows, expired
/// conversations and sessions, old login failures, and — after RETENTION_DAYS — delivered
/// jobs, delivery logs and old bookings. Every replica runs it; the deletes are idempotent.
pub async fn housekeeping(db: PgPool, retention_days: u32, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(300));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        run_housekeeping(&db, retention_days).await;
    }
}

/// One round of housekeeping; what fails is logged and tried again next round.
pub async fn run_housekeeping(db: &PgPool, retention_days: u32) {
    let outcomes = [
        ("idempotency keys", crate::idempotency::forget_old(db).await),
        (
            "rate-limit windows",
            crate::rate_limit::forget_old(db).await,
        ),
        (
            "expired assistant conversations",
            crate::assistant::service::forget_old(db).await,
        ),
        (
            "old sessions",
            crate::auth::service::purge_sessions(db).await,
        ),
        (
            "old login failures",
            crate::auth::service::forget_old_failures(db).await,
        ),
        (
            "delivered outbox jobs",
            jobs::purge_done(db, retention_days).await,
        ),
        (
            "webhook delivery logs",
            webhooks::purge_deliveries(db, retention_days).await,
        ),
        (
            "old bookings",
            crate::scheduling::bookings::purge(db, retention_days).await,
        ),
    ];
    for (what, outcome) in outcomes {
        match outcome {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "housekeeping: {what}"),
            Err(err) => tracing::warn!(error = %err, "housekeeping could not remove {what}"),
        }
    }
}
