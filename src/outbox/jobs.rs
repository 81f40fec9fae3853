//! The outbox table: jobs written in the same transaction as the change that causes them,
//! claimed by workers with FOR UPDATE SKIP LOCKED, retried with backoff, parked when they
//! keep failing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{AppError, Result};
use crate::pagination::{Page, PageParams};

/// An email to send. Kept in the job, so it is readable even when no SMTP server is set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Why it is sent: `lead_confirmation`, `lead_notification`, `newsletter_confirmation`...
    pub purpose: String,
    /// For newsletter mail: the one-click unsubscribe URL (RFC 8058).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
    /// A text attachment, such as a calendar invite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Attachment {
    #[schema(example = "invite.ics")]
    pub filename: String,
    #[schema(example = "text/calendar; charset=utf-8; method=REQUEST")]
    pub content_type: String,
    pub content: String,
}

/// A webhook delivery to do: which endpoint, which event, what data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookJob {
    pub endpoint_id: Uuid,
    pub event: String,
    pub data: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

/// Jobs to add, gathered first so that a caller can write them together, in one statement,
/// with the change that causes them (see [`NewJobs::insert`]).
#[derive(Debug, Default)]
pub struct NewJobs {
    ids: Vec<Uuid>,
    kinds: Vec<String>,
    payloads: Vec<serde_json::Value>,
}

impl NewJobs {
    pub fn email(&mut self, email: &Email) -> Result<()> {
        self.push("email", serde_json::to_value(email))
    }

    /// A webhook job for each endpoint subscribed to `event`.
    pub fn event(
        &mut self,
        endpoints: &[Uuid],
        event: &str,
        data: &serde_json::Value,
    ) -> Result<()> {
        let occurred_at = Utc::now();
        for endpoint_id in endpoints {
            let job = WebhookJob {
                endpoint_id: *endpoint_id,
                event: event.to_owned(),
                data: data.clone(),
                occurred_at,
            };
            self.push("webhook", serde_json::to_value(job))?;
        }
        Ok(())
    }

    fn push(&mut self, kind: &str, payload: serde_json::Result<serde_json::Value>) -> Result<()> {
        self.payloads.push(payload.map_err(anyhow::Error::from)?);
        self.ids.push(Uuid::now_v7());
        self.kinds.push(kind.to_owned());
        Ok(())
    }

    /// The jobs as columns (ids, kinds, payloads) of equal length, for `unnest`.
    pub fn columns(&self) -> (&[Uuid], &[String], &[serde_json::Value]) {
        (&self.ids, &self.kinds, &self.payloads)
    }

    /// Writes the jobs. Call [`crate::outbox::wake`] once the transaction has committed.
    pub async fn insert(&self, conn: &mut PgConnection, max_attempts: i32) -> Result<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        // The same rows as leads::service::write_lead adds in its own statement.
        sqlx::query!(
            r#"
            insert into outbox_jobs (id, kind, payload, max_attempts)
            select id, kind, payload, $4
            from unnest($1::uuid[], $2::text[], $3::jsonb[]) as t(id, kind, payload)
            "#,
            &self.ids,
            &self.kinds,
            &self.payloads,
            max_attempts
        )
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Queues an email. Call [`crate::outbox::wake`] once the transaction has committed.
pub async fn enqueue_email(
    conn: &mut PgConnection,
    email: &Email,
    max_attempts: i32,
) -> Result<()> {
    enqueue_emails(conn, std::slice::from_ref(email), max_attempts).await
}

/// Queues emails. Call [`crate::outbox::wake`] once the transaction has committed.
pub async fn enqueue_emails(
    conn: &mut PgConnection,
    emails: &[Email],
    max_attempts: i32,
) -> Result<()> {
    let mut jobs = NewJobs::default();
    for email in emails {
        jobs.email(email)?;
    }
    jobs.insert(conn, max_attempts).await
}

/// The active endpoints subscribed to `event`.
pub async fn subscribers(conn: &mut PgConnection, event: &str) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "select id from webhook_endpoints where active and $1 = any(events)",
        event
    )
    .fetch_all(conn)
    .await?)
}

/// A job for every active endpoint subscribed to `event`.
pub async fn enqueue_event(
    conn: &mut PgConnection,
    event: &str,
    data: &serde_json::Value,
    max_attempts: i32,
) -> Result<usize> {
    let endpoints = subscribers(conn, event).await?;
    let mut jobs = NewJobs::default();
    jobs.event(&endpoints, event, data)?;
    jobs.insert(conn, max_attempts).await?;
    Ok(endpoints.len())
}

/// A job a worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// How long a claimed job stays invisible to other workers; past it, a job whose worker
/// died is claimed again.
pub const LEASE: Duration = Duration::from_secs(120);

/// Claims up to `limit` due jobs. SKIP LOCKED lets concurrent workers (on any replica) take
/// different jobs without waiting for each other.
pub async fn claim(db: &PgPool, limit: i64) -> Result<Vec<Claimed>> {
    let lease = LEASE.as_secs_f64();
    Ok(sqlx::query_as!(
        Claimed,
        r#"
        update outbox_jobs set status = 'running', attempts = attempts + 1,
                               locked_until = now() + make_interval(secs => $2), updated_at = now()
        where id in (
            select id from outbox_jobs
            where (status = 'pending' and run_at <= now())
               or (status = 'running' and locked_until < now())
            order by run_at
            limit $1
            for update skip locked
        )
        returning id, kind, payload, attempts, max_attempts
        "#,
        limit,
        lease
    )
    .fetch_all(db)
    .await?)
}

pub async fn succeed(db: &PgPool, id: Uuid, via: &str) -> Result<()> {
    sqlx::query!(
        r#"update outbox_jobs set status = 'done', done_at = now(), updated_at = now(),
                  locked_until = null, last_error = null, delivered_via = $2
           where id = $1"#,
        id,
        via
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The delay before retry `attempt` (1-based): base × 2^(attempt−1), ±20 % jitter so
/// failed jobs do not come back in lockstep, at most an hour.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let delay = base.saturating_mul(2u32.saturating_pow(exponent));
    let capped = delay.min(Duration::from_secs(3600));
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    capped.mul_f64(jitter)
}

/// Records a failed attempt: retried later, or parked once out of attempts.
pub async fn fail(db: &PgPool, job: &Claimed, error: &str, base: Duration) -> Result<bool> {
    let parked = job.attempts >= job.max_attempts;
    let delay = backoff(base, job.attempts).as_secs_f64();
    let error: String = error.chars().take(1000).collect();
    sqlx::query!(
        r#"update outbox_jobs set
               status = case when $2 then 'parked' else 'pending' end,
               run_at = now() + make_interval(secs => $3),
               locked_until = null, last_error = $4, updated_at = now()
           where id = $1"#,
        job.id,
        parked,
        delay,
        error
    )
    .execute(db)
    .await?;
    Ok(parked)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    /// `email` or `webhook`.
    pub kind: String,
    /// `pending`, `running`, `done` or `parked`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// For done jobs: `smtp`, `kept` (no SMTP server set) or `http`.
    pub delivered_via: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

pub async fn list(
    db: &PgPool,
    kind: Option<&str>,
    status: Option<&str>,
    to: Option<&str>,
    page: &PageParams,
) -> Result<Page<JobView>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = sqlx::query_as!(
        JobView,
        r#"
        select id, kind, status, attempts, max_attempts, run_at, last_error, delivered_via,
               payload, created_at, done_at
        from outbox_jobs
        where ($1::uuid is null or id < $1)
          and ($2::text is null or kind = $2)
          and ($3::text is null or status = $3)
          and ($4::text is null or payload->>'to' = $4)
        order by id desc
        limit $5
        "#,
        after,
        kind,
        status,
        to,
        i64::from(limit) + 1
    )
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |j| j.id))
}

pub async fn get(db: &PgPool, id: Uuid, kind: Option<&str>) -> Result<JobView> {
    sqlx::query_as!(
        JobView,
        r#"
        select id, kind, status, attempts, max_attempts, run_at, last_error, delivered_via,
               payload, created_at, done_at
        from outbox_jobs where id = $1 and ($2::text is null or kind = $2)
        "#,
        id,
        kind
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::not_found(format!("No job has id {id}.")))
}

/// Puts a parked (or failed) job back in line, with a fresh set of attempts.
pub async fn retry(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    let updated = sqlx::query!(
        r#"update outbox_jobs set status = 'pending', attempts = 0, run_at = now(),
                  locked_until = null, updated_at = now()
           where id = $1 and status in ('parked', 'pending')"#,
        id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        let exists = sqlx::query_scalar!("select status from outbox_jobs where id = $1", id)
            .fetch_optional(&mut *conn)
            .await?;
        return Err(match exists {
            None => AppError::not_found(format!("No job has id {id}.")),
            Some(status) => AppError::conflict(
                "not-retryable",
                format!("This job is {status}; only parked or pending jobs can be retried."),
            ),
        });
    }
    Ok(())
}

/// Drops delivered jobs (and their delivery logs) done more than `days` ago: the emails
/// they carried are personal data, kept only as long as RETENTION_DAYS says.
pub async fn purge_done(db: &PgPool, days: u32) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from outbox_jobs where status = 'done' and done_at < now() - make_interval(days => $1)",
        i32::try_from(days).unwrap_or(i32::MAX)
    )
    .execute(db)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(2);
        for attempt in 1..=5 {
            let expected = 2.0 * f64::from(1u32 << (attempt - 1));
            let got = backoff(base, attempt).as_secs_f64();
            assert!(
                (expected * 0.8..=expected * 1.2).contains(&got),
                "attempt {attempt}: {got}"
            );
        }
        assert!(backoff(base, 40) <= Duration::from_secs(4320));
    }
}
