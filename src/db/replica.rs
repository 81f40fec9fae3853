//! The read replica: which public reads may go to it, and how far behind it is.
//!
//! A watcher samples the primary's WAL position and the replica's replayed position twice a
//! second. The lag is how long ago the primary had written the oldest WAL the replica has
//! not replayed yet (zero once it has replayed everything sampled), at the sampling's
//! resolution; it is exported as `frontdesk_db_replica_lag_seconds`. The replica serves
//! reads only while it answers and its lag is within DATABASE_READ_MAX_LAG_SECS; otherwise
//! reads go to the primary. Whether content a cache is about to store has reached the
//! replica is the caller's question: [`Replica::replayed`] is the position it has reached.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Db;

pub const LAG_METRIC: &str = "frontdesk_db_replica_lag_seconds";
pub const UP_METRIC: &str = "frontdesk_db_replica_up";

const EVERY: Duration = Duration::from_millis(500);
/// Samples kept: a minute of the primary's positions.
const KEPT: usize = 120;

pub struct Replica {
    db: Db,
    max_lag: Duration,
    usable: AtomicBool,
    /// The WAL position the replica has replayed (bytes since 0/0).
    replayed: AtomicU64,
    primary_positions: Mutex<VecDeque<(Instant, u64)>>,
}

impl Replica {
    pub fn new(db: Db, max_lag: Duration) -> Self {
        Self {
            db,
            max_lag,
            usable: AtomicBool::new(false),
            replayed: AtomicU64::new(0),
            primary_positions: Mutex::new(VecDeque::with_capacity(KEPT)),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether reads may go to the replica now.
    pub fn usable(&self) -> bool {
        self.usable.load(Ordering::Acquire)
    }

    /// The position the replica had replayed when last asked (it only grows).
    pub fn replayed(&self) -> u64 {
        self.replayed.load(Ordering::Acquire)
    }

    /// Samples both sides until `shutdown`.
    pub async fn watch(self: std::sync::Arc<Self>, primary: Db, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            self.sample(&primary).await;
        }
    }

    async fn sample(&self, primary: &Db) {
        match current_position(primary).await {
            Ok(position) => {
                let mut positions = self
                    .primary_positions
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if positions.len() == KEPT {
                    positions.pop_front();
                }
                positions.push_back((Instant::now(), position));
            }
            Err(err) => tracing::debug!(error = %err, "cannot read the primary's WAL position"),
        }
        let lag = match replayed_position(&self.db).await {
            Ok(replayed) => {
                self.replayed.fetch_max(replayed, Ordering::AcqRel);
                Some(self.lag_behind(replayed))
            }
            Err(err) => {
                if self.usable() {
                    tracing::warn!(error = %err, "the read replica does not answer; public reads go to the primary");
                }
                None
            }
        };
        let usable = lag.is_some_and(|lag| lag <= self.max_lag);
        let was = self.usable.swap(usable, Ordering::AcqRel);
        match lag {
            Some(lag) => {
                metrics::gauge!(LAG_METRIC).set(lag.as_secs_f64());
                metrics::gauge!(UP_METRIC).set(1.0);
                if was && !usable {
                    tracing::warn!(
                        lag_secs = lag.as_secs_f64(),
                        "the read replica is too far behind; public reads go to the primary"
                    );
                } else if !was && usable {
                    tracing::info!(
                        lag_secs = lag.as_secs_f64(),
                        "the read replica serves public reads"
                    );
                }
            }
            None => metrics::gauge!(UP_METRIC).set(0.0),
        }
    }

    /// How long ago the primary wrote the oldest sampled WAL beyond `replayed`.
    fn lag_behind(&self, replayed: u64) -> Duration {
        let positions = self
            .primary_positions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        lag_of(&positions, replayed, Instant::now())
    }
}

fn lag_of(positions: &VecDeque<(Instant, u64)>, replayed: u64, now: Instant) -> Duration {
    positions
        .iter()
        .find(|(_, position)| *position > replayed)
        .map_or(Duration::ZERO, |(at, _)| now.saturating_duration_since(*at))
}

/// The primary's WAL position now (bytes since 0/0).
pub async fn current_position(primary: &Db) -> Result<u64, sqlx::Error> {
    let position: i64 =
        sqlx::query_scalar!(r#"select (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8 as "p!""#)
            .fetch_one(primary)
            .await?;
    Ok(u64::try_from(position).unwrap_or_default())
}

/// How far a replica has replayed; on a server that is not replaying (a read URL that
/// names the primary itself), its own position.
async fn replayed_position(replica: &Db) -> Result<u64, sqlx::Error> {
    let position: i64 = sqlx::query_scalar!(
        r#"select (case when pg_is_in_recovery() then pg_last_wal_replay_lsn()
                       else pg_current_wal_lsn() end - '0/0'::pg_lsn)::int8 as "p!""#
    )
    .fetch_one(replica)
    .await?;
    Ok(u64::try_from(position).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_age_of_the_oldest_position_not_replayed() {
        let now = Instant::now();
        let positions: VecDeque<(Instant, u64)> = [
            (now - Duration::from_secs(3), 100),
            (now - Duration::from_secs(2), 200),
            (now - Duration::from_secs(1), 300),
        ]
        .into_iter()
        .collect();
        assert_eq!(lag_of(&positions, 300, now), Duration::ZERO);
        assert_eq!(lag_of(&positions, 250, now), Duration::from_secs(1));
        assert_eq!(lag_of(&positions, 150, now), Duration::from_secs(2));
        assert_eq!(lag_of(&positions, 0, now), Duration::from_secs(3));
        assert_eq!(lag_of(&VecDeque::new(), 0, now), Duration::ZERO);
    }
}
