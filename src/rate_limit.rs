//! Rate limits for public writes, per client IP: fixed-window counters in Postgres, so every
//! replica counts against the same limit.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgExecutor, PgPool};

use crate::error::{AppError, Result};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Hits allowed per window; 0 turns the limit off.
    pub max: u32,
    pub window: Duration,
}

/// The start of the window `now` falls in.
pub fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let secs = i64::try_from(window.as_secs().max(1)).unwrap_or(i64::MAX);
    let start = now.timestamp().div_euclid(secs) * secs;
    Utc.timestamp_opt(start, 0).single().unwrap_or(now)
}

/// Counts one hit of `action` from `ip`; 429 with Retry-After once over the limit. Run it
/// in the transaction of the work it guards: a refused request rolls back and is not counted,
/// an accepted one is counted with its work, in one commit.
pub async fn hit(
    db: impl PgExecutor<'_>,
    action: &str,
    ip: Option<IpAddr>,
    limit: Limit,
) -> Result<()> {
    let Some(ip) = ip else {
        return Ok(());
    };
    hit_bucket(db, &format!("{action}:{ip}"), limit).await
}

/// Counts one hit in `bucket`, whoever makes it (e.g. one conversation's messages).
pub async fn hit_bucket(db: impl PgExecutor<'_>, bucket: &str, limit: Limit) -> Result<()> {
    if limit.max == 0 {
        return Ok(());
    }
    let now = Utc::now();
    let start = window_start(now, limit.window);
    let hits = sqlx::query_scalar!(
        r#"
        insert into rate_limit_counters (bucket, window_start, hits) values ($1, $2, 1)
        on conflict (bucket, window_start) do update set hits = rate_limit_counters.hits + 1
        returning hits
        "#,
        bucket,
        start
    )
    .fetch_one(db)
    .await?;
    if u32::try_from(hits).unwrap_or(u32::MAX) > limit.max {
        let window = chrono::Duration::from_std(limit.window).unwrap_or_default();
        let retry_after = (start + window - now)
            .to_std()
            .unwrap_or(Duration::from_secs(1));
        return Err(AppError::TooManyRequests { retry_after });
    }
    Ok(())
}

/// Drops counters of windows long past.
pub async fn forget_old(db: &PgPool) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from rate_limit_counters where window_start < now() - interval '1 day'"
    )
    .execute(db)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 7, 31)
            .single()
            .expect("time");
        let start = window_start(at, Duration::from_secs(600));
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
                .single()
                .expect("time")
        );
    }
}
