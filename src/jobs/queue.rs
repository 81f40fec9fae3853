//! The outbox table: jobs written in the same unit of work as the change that causes them,
//! claimed by workers with FOR UPDATE SKIP LOCKED under a lease that a running delivery
//! renews, retried with backoff, parked when they keep failing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::db::Db;
use utoipa::ToSchema;
use uuid::Uuid;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::db::Work;
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
    /// An HTML alternative to `text` (mail clients show one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
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

/// Jobs to add, gathered first so that a caller can write them together, in one statement,
/// with the change that causes them (see [`NewJobs::insert`]).
#[derive(Debug, Default)]
pub struct NewJobs {
    ids: Vec<Uuid>,
    kinds: Vec<String>,
    payloads: Vec<serde_json::Value>,
    /// Seconds from the commit until each is due.
    delays: Vec<f64>,
}

impl NewJobs {
    pub fn email(&mut self, email: &Email) -> Result<()> {
        self.push("email", serde_json::to_value(email))
    }

    /// A job of `kind` (the runner delivers it with the handler registered for that kind).
    pub fn job(&mut self, kind: &str, payload: &impl Serialize) -> Result<()> {
        self.push(kind, serde_json::to_value(payload))
    }

    /// A job of `kind` due `delay` from now (how scheduled and paced work is queued).
    pub fn job_after(
        &mut self,
        kind: &str,
        payload: &impl Serialize,
        delay: Duration,
    ) -> Result<()> {
        self.push(kind, serde_json::to_value(payload))?;
        if let Some(last) = self.delays.last_mut() {
            *last = delay.as_secs_f64();
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn push(&mut self, kind: &str, payload: serde_json::Result<serde_json::Value>) -> Result<()> {
        self.payloads.push(payload.map_err(anyhow::Error::from)?);
        self.ids.push(Uuid::now_v7());
        self.kinds.push(kind.to_owned());
        self.delays.push(0.0);
        Ok(())
    }

    /// The jobs as columns (ids, kinds, payloads) of equal length, for a caller that
    /// writes them in its own statement (`insert into outbox_jobs (id, kind, payload,
    /// max_attempts) select … from unnest(…)`), with the work they belong to: the workers
    /// are woken when it commits. Only for jobs due at once (not [`NewJobs::job_after`]).
    pub fn columns_for(
        &self,
        work: &mut Work,
        queue: &JobQueue,
    ) -> (&[Uuid], &[String], &[serde_json::Value]) {
        debug_assert!(self.delays.iter().all(|d| *d == 0.0));
        if !self.is_empty() {
            queue.wake_after(work);
        }
        (&self.ids, &self.kinds, &self.payloads)
    }

    async fn insert(&self, conn: &mut PgConnection, max_attempts: i32) -> Result<()> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query!(
            r#"
            insert into outbox_jobs (id, kind, payload, max_attempts, run_at)
            select id, kind, payload, $4, now() + make_interval(secs => delay)
            from unnest($1::uuid[], $2::text[], $3::jsonb[], $5::float8[]) as t(id, kind, payload, delay)
            "#,
            &self.ids,
            &self.kinds,
            &self.payloads,
            max_attempts,
            &self.delays
        )
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Where units of work put their jobs: writes them with the work, and wakes this
/// replica's workers once the work commits (the others find them on their next poll).
#[derive(Clone)]
pub struct JobQueue {
    wake: Arc<Notify>,
    max_attempts: i32,
}

impl JobQueue {
    pub fn new(max_attempts: i32) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            max_attempts,
        }
    }

    /// Adds the jobs to `work`.
    pub async fn push(&self, work: &mut Work, jobs: &NewJobs) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        jobs.insert(work, self.max_attempts).await?;
        self.wake_after(work);
        Ok(())
    }

    pub async fn email(&self, work: &mut Work, email: &Email) -> Result<()> {
        self.emails(work, std::slice::from_ref(email)).await
    }

    pub async fn emails(&self, work: &mut Work, emails: &[Email]) -> Result<()> {
        let mut jobs = NewJobs::default();
        for email in emails {
            jobs.email(email)?;
        }
        self.push(work, &jobs).await
    }

    pub fn max_attempts(&self) -> i32 {
        self.max_attempts
    }

    /// What idle workers wait on.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Puts a parked (or pending) job back in line with a fresh set of attempts.
    pub async fn retry(&self, work: &mut Work, id: Uuid) -> Result<()> {
        requeue(work, id).await?;
        self.wake_after(work);
        Ok(())
    }

    fn wake_after(&self, work: &mut Work) {
        let wake = self.wake.clone();
        work.after_commit(move || wake.notify_waiters());
    }
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

/// Claims up to `limit` due jobs for `lease`: past it, a job whose worker died (and so
/// stopped renewing it, see [`renew`]) is claimed again. SKIP LOCKED lets concurrent
/// workers (on any replica) take different jobs without waiting for each other.
pub async fn claim(db: &Db, limit: i64, lease: Duration) -> Result<Vec<Claimed>> {
    let lease = lease.as_secs_f64();
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

/// Extends the lease of jobs still being delivered; returns those still this claim's (a
/// job whose lease lapsed may have been taken by another worker).
pub async fn renew(db: &Db, jobs: &[Claimed], lease: Duration) -> Result<Vec<Uuid>> {
    let (ids, attempts) = keys(jobs.iter());
    Ok(sqlx::query_scalar!(
        r#"update outbox_jobs j set locked_until = now() + make_interval(secs => $3)
           from unnest($1::uuid[], $2::int[]) as k(id, attempts)
           where j.id = k.id and j.status = 'running' and j.attempts = k.attempts
           returning j.id"#,
        &ids,
        &attempts,
        lease.as_secs_f64()
    )
    .fetch_all(db)
    .await?)
}

/// Hands claimed jobs back undelivered (a worker stopping): due again at once, the attempt
/// not counted.
pub async fn release(db: &Db, jobs: &[&Claimed]) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let (ids, attempts) = keys(jobs.iter().copied());
    sqlx::query!(
        r#"update outbox_jobs j set status = 'pending', attempts = j.attempts - 1,
                  locked_until = null, updated_at = now()
           from unnest($1::uuid[], $2::int[]) as k(id, attempts)
           where j.id = k.id and j.status = 'running' and j.attempts = k.attempts"#,
        &ids,
        &attempts
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records the deliveries of several claimed jobs in one statement: `(job, how)`.
pub async fn succeed(db: &Db, delivered: &[(&Claimed, &str)]) -> Result<()> {
    if delivered.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = delivered.iter().map(|(job, _)| job.id).collect();
    let attempts: Vec<i32> = delivered.iter().map(|(job, _)| job.attempts).collect();
    let via: Vec<String> = delivered.iter().map(|(_, via)| (*via).to_owned()).collect();
    sqlx::query!(
        r#"update outbox_jobs j set status = 'done', done_at = now(), updated_at = now(),
                  locked_until = null, last_error = null, delivered_via = k.via
           from unnest($1::uuid[], $2::int[], $3::text[]) as k(id, attempts, via)
           where j.id = k.id and j.attempts = k.attempts"#,
        &ids,
        &attempts,
        &via
    )
    .execute(db)
    .await?;
    Ok(())
}

fn keys<'a>(jobs: impl Iterator<Item = &'a Claimed>) -> (Vec<Uuid>, Vec<i32>) {
    jobs.map(|job| (job.id, job.attempts)).unzip()
}

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
pub async fn fail(db: &Db, job: &Claimed, error: &str, base: Duration) -> Result<bool> {
    let parked = job.attempts >= job.max_attempts;
    let delay = backoff(base, job.attempts).as_secs_f64();
    let error: String = error.chars().take(1000).collect();
    sqlx::query!(
        r#"update outbox_jobs set
               status = case when $2 then 'parked' else 'pending' end,
               run_at = now() + make_interval(secs => $3),
               locked_until = null, last_error = $4, updated_at = now()
           where id = $1 and attempts = $5"#,
        job.id,
        parked,
        delay,
        error,
        job.attempts
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
    db: &Db,
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

pub async fn get(db: &Db, id: Uuid, kind: Option<&str>) -> Result<JobView> {
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
async fn requeue(conn: &mut PgConnection, id: Uuid) -> Result<()> {
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
pub async fn purge_done(db: &Db, days: u32) -> Result<u64> {
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
