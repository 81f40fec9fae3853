//! Reading the connected calendars into `host_busy`: every replica runs the refresher, which
//! takes one due calendar at a time (FOR UPDATE SKIP LOCKED, so replicas share the work),
//! reads it, and replaces its busy times in one transaction. A calendar that cannot be read
//! keeps its last busy times and gets `last_error`, which marks the slots as maybe stale.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::time::MissedTickBehavior;
use url::Url;
use uuid::Uuid;

use super::ical::{self, Busy};
use super::remote::{self, Account};
use crate::error::Result;
use crate::scheduling::config::CalendarsConfig;
use crate::sealed::Sealer;
use crate::state::Core;

/// The longest reading one calendar's data may take.
const PARSE_TIMEOUT: Duration = Duration::from_secs(30);

/// What sealed columns are bound to.
pub(super) fn url_field(id: Uuid) -> String {
    format!("host_calendars.url:{id}")
}

pub(super) fn password_field(id: Uuid) -> String {
    format!("host_calendars.password:{id}")
}

/// The calendar reader and writer a replica shares: one HTTP client, the sealer of the
/// calendar secrets, and the settings.
#[derive(Clone)]
pub struct Calendars(Arc<Inner>);

struct Inner {
    http: reqwest::Client,
    sealer: Sealer,
    config: CalendarsConfig,
}

/// A connected calendar, opened for use.
pub(super) struct Connection {
    pub id: Uuid,
    pub host_id: Uuid,
    pub kind: String,
    pub url: Url,
    pub account: Account,
    pub read: Vec<Url>,
    pub write: Option<Url>,
    pub zone: Tz,
}

impl Calendars {
    pub fn new(core: &Core, config: CalendarsConfig) -> anyhow::Result<Self> {
        Ok(Self(Arc::new(Inner {
            http: crate::outbound::client(config.allow_private, config.timeout)?,
            sealer: Sealer::new(&core.signer, "calendars"),
            config,
        })))
    }

    pub(super) fn sealer(&self) -> &Sealer {
        &self.0.sealer
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    pub fn config(&self) -> &CalendarsConfig {
        &self.0.config
    }

    /// The calendar `id`, its secrets opened; `Err` (in words for an admin) when they
    /// cannot be.
    pub(super) async fn open(
        &self,
        db: impl sqlx::PgExecutor<'_>,
        id: Uuid,
    ) -> Result<Option<std::result::Result<Connection, String>>> {
        let Some(row) = sqlx::query!(
            r#"select c.id, c.host_id, c.kind, c.url_sealed, c.username, c.password_sealed,
                      c.read_paths, c.write_path, h.time_zone
               from host_calendars c join hosts h on h.admin_id = c.host_id where c.id = $1"#,
            id
        )
        .fetch_optional(db)
        .await?
        else {
            return Ok(None);
        };
        let sealer = self.sealer();
        let opened = (|| {
            let url = sealer
                .open(&url_field(row.id), &row.url_sealed)
                .map_err(|e| e.to_string())?;
            let url = Url::parse(secrecy::ExposeSecret::expose_secret(&url))
                .map_err(|_| "the stored address is not a URL".to_owned())?;
            let password = row
                .password_sealed
                .as_deref()
                .map(|p| sealer.open(&password_field(row.id), p))
                .transpose()
                .map_err(|e| e.to_string())?;
            let parse = |s: &str| {
                Url::parse(s).map_err(|_| "a stored calendar path is not a URL".to_owned())
            };
            Ok(Connection {
                id: row.id,
                host_id: row.host_id,
                kind: row.kind.clone(),
                read: row
                    .read_paths
                    .iter()
                    .map(|s| parse(s))
                    .collect::<std::result::Result<_, _>>()?,
                write: row.write_path.as_deref().map(parse).transpose()?,
                url,
                account: Account {
                    username: row.username.clone(),
                    password,
                },
                zone: row.time_zone.parse().unwrap_or(Tz::UTC),
            })
        })();
        Ok(Some(opened))
    }

    /// Reads calendar `id` now and stores what it says (or why it could not be read).
    pub async fn refresh(&self, core: &Core, id: Uuid) -> Result<()> {
        let Some(opened) = self.open(&core.db, id).await? else {
            return Ok(());
        };
        let connection = match opened {
            Ok(connection) => connection,
            Err(why) => return failed(core, id, &why).await,
        };
        let (from, to) = window(core, connection.host_id).await?;
        match self.read(&connection, from, to).await {
            Ok((busy, unreadable)) => {
                if unreadable > 0 {
                    tracing::info!(calendar = %id, unreadable, "calendar events that could not be read were skipped");
                }
                store(core, &connection, &busy).await
            }
            Err(why) => failed(core, id, &why).await,
        }
    }

    async fn read(
        &self,
        c: &Connection,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> std::result::Result<(Vec<Busy>, usize), String> {
        let texts = if c.kind == "ical" {
            vec![
                remote::feed(self.http(), &c.url)
                    .await
                    .map_err(|e| e.to_string())?,
            ]
        } else {
            let mut all = Vec::new();
            for collection in &c.read {
                all.extend(
                    remote::events(self.http(), &c.account, collection, from, to)
                        .await
                        .map_err(|e| e.to_string())?,
                );
            }
            all
        };
        // Parsing and expanding is CPU work: off the async workers.
        let (zone, id, caldav) = (c.zone, c.id, c.kind == "caldav");
        let parsing = tokio::task::spawn_blocking(move || {
            let mut busy = Vec::new();
            let mut unreadable = 0;
            for text in texts {
                // A panic in a parser is one unreadable resource, not a lost calendar.
                let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    ical::busy_times(&text, zone, from, to)
                }))
                .unwrap_or_else(|_| Err("the calendar data could not be read".to_owned()));
                match parsed {
                    Ok((found, skipped)) => {
                        busy.extend(found);
                        unreadable += skipped;
                    }
                    // One broken resource on a CalDAV server should not hide the others.
                    Err(why) if caldav => {
                        tracing::info!(calendar = %id, error = %why, "a calendar resource is not iCalendar; skipped");
                        unreadable += 1;
                    }
                    Err(why) => return Err(why),
                }
            }
            busy.truncate(ical::MAX_BUSY);
            Ok((busy, unreadable))
        });
        // Bounded by the expansion budget; the timeout is a last guard for the refresher.
        match tokio::time::timeout(PARSE_TIMEOUT, parsing).await {
            Ok(Ok(read)) => read,
            Ok(Err(_)) => Err("reading the calendar's events failed".to_owned()),
            Err(_) => Err("reading the calendar's events took too long".to_owned()),
        }
    }

    /// Reads again the calendars of `hosts` not tried in the last CALENDAR_CONFIRM_FRESH_SECS,
    /// waiting at most CALENDAR_CONFIRM_WAIT_MS: what a booking does just before it is
    /// confirmed. Past the wait, or on an error, the busy times read last count.
    pub async fn refresh_hosts(&self, core: &Core, hosts: &[Uuid]) -> Result<()> {
        // Claimed like the refresher claims: a calendar tried in the last
        // CALENDAR_CONFIRM_FRESH_SECS (by any booking, on any replica, whether it answered
        // or not) is not tried again.
        let ids = sqlx::query_scalar!(
            r#"update host_calendars set attempted_at = now()
               where host_id = any($1) and active
                 and (attempted_at is null or attempted_at < now() - make_interval(secs => $2))
               returning id"#,
            hosts,
            self.config().confirm_fresh.as_secs_f64()
        )
        .fetch_all(&core.db)
        .await?;
        if ids.is_empty() {
            return Ok(());
        }
        let all = futures_util::future::join_all(ids.iter().map(|id| self.refresh(core, *id)));
        match tokio::time::timeout(self.config().confirm_wait, all).await {
            Ok(results) => {
                for result in results {
                    if let Err(err) = result {
                        tracing::warn!(error = %err, "reading a host's calendar before a booking failed");
                    }
                }
            }
            Err(_) => tracing::info!(
                hosts = hosts.len(),
                "the hosts' calendars took too long before a booking; using what was read last"
            ),
        }
        Ok(())
    }

    /// Reads every calendar that is due, one after another; how many.
    pub async fn refresh_due(&self, core: &Core) -> Result<usize> {
        let mut done = 0;
        loop {
            let due = sqlx::query_scalar!(
                r#"update host_calendars set attempted_at = now()
                   where id = (select c.id from host_calendars c join hosts h on h.admin_id = c.host_id
                               where c.active and h.active
                                 and (c.attempted_at is null or c.attempted_at < now() - make_interval(secs => $1))
                               order by c.attempted_at nulls first limit 1 for update of c skip locked)
                   returning id"#,
                self.config().refresh.as_secs_f64()
            )
            .fetch_optional(&core.db)
            .await?;
            let Some(id) = due else {
                return Ok(done);
            };
            self.refresh(core, id).await?;
            done += 1;
        }
    }

    /// The refresher every replica runs until shutdown.
    pub async fn run(self, core: Core) {
        let every =
            (self.config().refresh / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = core.shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(err) = self.refresh_due(&core).await {
                tracing::warn!(error = %err, "refreshing the hosts' calendars failed; retrying");
            }
            if let Err(err) = super::writeback::sweep(&core, &self).await {
                tracing::warn!(error = %err, "removing erased bookings' calendar copies failed; retrying");
            }
        }
    }
}

/// The window read from a host's calendars: from a day ago to the furthest any of their
/// call types books ahead.
async fn window(core: &Core, host: Uuid) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let days = sqlx::query_scalar!(
        r#"select coalesce(max(c.horizon_days), 30) as "days!" from call_types c
           join call_type_hosts h on h.call_type_id = c.id where h.host_id = $1 and c.active"#,
        host
    )
    .fetch_one(&core.db)
    .await?;
    let now = Utc::now();
    Ok((
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(i64::from(days) + 2),
    ))
}

async fn store(core: &Core, c: &Connection, busy: &[Busy]) -> Result<()> {
    let starts: Vec<DateTime<Utc>> = busy.iter().map(|b| b.start).collect();
    let ends: Vec<DateTime<Utc>> = busy.iter().map(|b| b.end).collect();
    let uids: Vec<String> = busy.iter().map(|b| b.uid.clone()).collect();
    let mut tx = core.db.begin().await?;
    // Gone meanwhile (disconnected): nothing to store.
    let exists = sqlx::query_scalar!(
        "select id from host_calendars where id = $1 for update",
        c.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Ok(());
    }
    sqlx::query!("delete from host_busy where calendar_id = $1", c.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        r#"insert into host_busy (calendar_id, host_id, during, uid)
           select $1, $2, tstzrange(s, e), u
           from unnest($3::timestamptz[], $4::timestamptz[], $5::text[]) as t(s, e, u)"#,
        c.id,
        c.host_id,
        &starts,
        &ends,
        &uids
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"update host_calendars set synced_at = now(), attempted_at = now(), last_error = null,
                  busy_count = $2, updated_at = now() where id = $1"#,
        c.id,
        i32::try_from(busy.len()).unwrap_or(i32::MAX)
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn failed(core: &Core, id: Uuid, why: &str) -> Result<()> {
    // The outbound resolver's words are the webhooks'; the setting here is another.
    let why = why.replace("WEBHOOK_ALLOW_PRIVATE", "CALENDAR_ALLOW_PRIVATE");
    tracing::warn!(calendar = %id, error = %why, "a host's calendar could not be read");
    sqlx::query!(
        "update host_calendars set attempted_at = now(), last_error = $2 where id = $1",
        id,
        why.chars().take(500).collect::<String>()
    )
    .execute(&core.db)
    .await?;
    Ok(())
}
