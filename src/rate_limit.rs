//! Rate limits for public writes, per client: fixed-window counters in Postgres, so every
//! replica counts against the same limit. A client is its IP address, or for IPv6 its /64
//! (one subscriber's whole network: a host can pick any address in it).

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::PgExecutor;

use crate::db::Db;

use crate::error::{AppError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Limit {
    pub const OFF: Self = Self {
        max: 0,
        window: Duration::from_secs(1),
    };
}

/// The network a client is counted by: an IPv4 address, or the /64 of an IPv6 one.
pub fn client_network(ip: IpAddr) -> ipnet::IpNet {
    match ip {
        IpAddr::V4(v4) => ipnet::IpNet::from(IpAddr::V4(v4)),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let prefix = Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            );
            ipnet::Ipv6Net::new(prefix, 64)
                .map(ipnet::IpNet::V6)
                .unwrap_or_else(|_| ipnet::IpNet::from(IpAddr::V6(v6)))
        }
    }
}

/// How a client is named in a bucket: `203.0.113.9` or `2001:db8:1:2::/64`.
pub fn client_key(ip: IpAddr) -> String {
    match client_network(ip) {
        ipnet::IpNet::V4(net) => net.addr().to_string(),
        net @ ipnet::IpNet::V6(_) => net.to_string(),
    }
}

/// Counts one hit of `action` from the client at `ip`; 429 with Retry-After once over the
/// limit. Run it in the transaction of the work it guards: a refused request rolls back and
/// is not counted, an accepted one is counted with its work, in one commit.
pub async fn hit(
    db: impl PgExecutor<'_>,
    action: &str,
    ip: Option<IpAddr>,
    limit: Limit,
) -> Result<()> {
    let Some(ip) = ip else {
        return Ok(());
    };
    hit_bucket(db, &format!("{action}:{}", client_key(ip)), limit).await
}

/// One kind of public write from one client, with that kind's limit: what a service counts
/// in the transaction of the write it guards.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    pub action: &'static str,
    pub ip: Option<IpAddr>,
    pub limit: Limit,
}

impl Guard {
    pub fn new(action: &'static str, ip: Option<IpAddr>, limit: Limit) -> Self {
        Self { action, ip, limit }
    }

    pub fn is_active(&self) -> bool {
        self.ip.is_some() && self.limit.max > 0
    }

    pub async fn hit(&self, db: impl PgExecutor<'_>) -> Result<()> {
        hit(db, self.action, self.ip, self.limit).await
    }
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

/// A window of a bucket, for a privacy export of a bucket named after a person.
#[derive(Debug, serde::Serialize)]
pub struct Window {
    pub window_start: DateTime<Utc>,
    pub hits: i32,
}

pub async fn windows_of(db: impl PgExecutor<'_>, bucket: &str) -> Result<Vec<Window>> {
    Ok(sqlx::query_as!(
        Window,
        "select window_start, hits from rate_limit_counters where bucket = $1 order by window_start",
        bucket
    )
    .fetch_all(db)
    .await?)
}

/// Forgets a bucket's counts (a privacy erasure of a bucket named after a person).
pub async fn forget_bucket(db: impl PgExecutor<'_>, bucket: &str) -> Result<u64> {
    Ok(
        sqlx::query!("delete from rate_limit_counters where bucket = $1", bucket)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Drops counters of windows long past.
pub async fn forget_old(db: &Db) -> Result<u64> {
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
    fn ipv6_clients_are_their_64_and_ipv4_clients_their_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:eeee:dddd:cccc".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), "2001:db8:1:2::/64");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let v4: IpAddr = "203.0.113.9".parse().expect("ip");
        assert_eq!(client_key(v4), "203.0.113.9");
    }

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
