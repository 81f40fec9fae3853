//! The emails and webhooks about a person (mail to them, the team's and hosts'
//! notifications naming them, webhook payloads carrying their data or their leads' and
//! bookings' ids), for export and erasure. Their delivery logs go with the jobs.

use sqlx::PgConnection;

use super::queue::JobView;
use crate::error::Result;
use crate::personal_data::{Found, Removed, Subject};

pub async fn export(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Found>> {
    let related = subject.related_ids();
    let emails = sqlx::query_as!(
        JobView,
        r#"select id, kind, status, attempts, max_attempts, run_at, last_error, delivered_via,
                  payload, created_at, done_at
           from outbox_jobs where kind = 'email' and payload::text ~* $1 order by id"#,
        subject.pattern
    )
    .fetch_all(&mut *conn)
    .await?;
    let webhooks = sqlx::query_as!(
        JobView,
        r#"select id, kind, status, attempts, max_attempts, run_at, last_error, delivered_via,
                  payload, created_at, done_at
           from outbox_jobs where kind = 'webhook'
             and (payload::text ~* $1 or payload->'data'->>'id' = any($2)
                  or payload->'data'->>'booking_id' = any($2))
           order by id"#,
        subject.pattern,
        &related
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(vec![
        Found::of("emails", &emails)?,
        Found::of("webhooks", &webhooks)?,
    ])
}

pub async fn erase(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Removed>> {
    let related = subject.related_ids();
    let emails = sqlx::query!(
        "delete from outbox_jobs where kind = 'email' and payload::text ~* $1",
        subject.pattern
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let webhooks = sqlx::query!(
        r#"delete from outbox_jobs where kind = 'webhook'
             and (payload::text ~* $1 or payload->'data'->>'id' = any($2)
                  or payload->'data'->>'booking_id' = any($2))"#,
        subject.pattern,
        &related
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(vec![("emails", emails), ("webhooks", webhooks)])
}
