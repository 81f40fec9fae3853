//! The hosts' connected calendars: CalDAV accounts and iCalendar feeds. Their busy times
//! are read in the background (`sync`) into Postgres, so every replica offers the same
//! slots, and read again just before a booking is confirmed; a booking is written into the
//! host's CalDAV calendar through the outbox (`writeback`).
//!
//! `ical` (busy times in iCalendar data), `remote` (the HTTP of feeds and CalDAV).

mod ical;
mod remote;
pub(super) mod sync;
pub(super) mod writeback;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use url::Url;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::Db;
use crate::error::{AppError, ConstraintExt, Result};
use crate::validation::Validator;

pub use sync::Calendars;

/// A calendar to connect to a host.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarInput {
    /// `caldav` (an account on a CalDAV server) or `ical` (a feed's secret address).
    #[schema(example = "caldav")]
    pub kind: String,
    /// A label for admins.
    pub name: String,
    /// CalDAV: the calendar's (or the account's) URL. iCalendar: the feed's address
    /// (`webcal://` is read as `https://`). Kept sealed; shown again only as a hint.
    #[schema(example = "https://caldav.example.com/maya/work/")]
    pub url: String,
    /// CalDAV: the user name.
    pub username: Option<String>,
    /// CalDAV: the password or app token (without a user name: sent as a bearer token).
    /// Kept sealed and never shown again.
    pub password: Option<String>,
    /// CalDAV: the calendars read for busy times, as paths on the server or URLs (default:
    /// the `write` calendar, or else `url` itself).
    pub read: Vec<String>,
    /// CalDAV: the calendar confirmed bookings are written into (a path or URL); none: they
    /// are not written.
    pub write: Option<String>,
    /// Defaults to true.
    pub active: Option<bool>,
}

pub struct ValidCalendar {
    kind: &'static str,
    name: String,
    url: Url,
    username: Option<String>,
    password: Option<SecretString>,
    read: Vec<String>,
    write: Option<String>,
    active: bool,
}

/// A calendar's secrets as stored: sealed, each bound to the calendar and its column.
struct Sealed {
    url: Vec<u8>,
    password: Option<Vec<u8>>,
}

impl ValidCalendar {
    fn seal(&self, calendars: &Calendars, id: Uuid) -> Sealed {
        let sealer = calendars.sealer();
        Sealed {
            url: sealer.seal(&sync::url_field(id), self.url.as_str()),
            password: self.password.as_ref().map(|p| {
                sealer.seal(
                    &sync::password_field(id),
                    secrecy::ExposeSecret::expose_secret(p),
                )
            }),
        }
    }
}

/// A collection URL on the account's server, ending in `/`.
fn collection(base: &Url, given: &str) -> std::result::Result<Url, &'static str> {
    let mut url = base.join(given.trim()).map_err(|_| "not a path or URL")?;
    if url.origin() != base.origin() {
        return Err("must be on the account's server (the credentials are sent to it)");
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    // Credentials go in username and password, sealed; never in a stored path.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

impl CalendarInput {
    pub fn validate(&self, allow_private: bool) -> Result<ValidCalendar> {
        let mut v = Validator::new();
        let kind = match self.kind.as_str() {
            "caldav" => "caldav",
            "ical" => "ical",
            _ => {
                v.error("kind", "invalid", "kind must be `caldav` or `ical`");
                "ical"
            }
        };
        let name = v
            .optional_text("name", Some(&self.name), 120)
            .unwrap_or_default();
        let given = self.url.trim();
        let given = given
            .strip_prefix("webcal://")
            .map(|rest| format!("https://{rest}"))
            .unwrap_or_else(|| given.to_owned());
        let url = v.http_url("url", &given).and_then(|url| {
            match crate::outbound::check_url(&url, allow_private) {
                Ok(()) => Some(url),
                Err(why) => {
                    v.error(
                        "url",
                        "invalid",
                        why.replace("WEBHOOK_ALLOW_PRIVATE", "CALENDAR_ALLOW_PRIVATE"),
                    );
                    None
                }
            }
        });
        let username = v.optional_text("username", self.username.as_deref(), 200);
        let password = self.password.as_deref().filter(|p| !p.is_empty()).map(|p| {
            if p.len() > 1_000 || p.chars().any(char::is_control) {
                v.error(
                    "password",
                    "invalid",
                    "password must be at most 1000 characters, without control characters",
                );
            }
            SecretString::from(p.to_owned())
        });
        let mut read = Vec::new();
        let mut write = None;
        if kind == "ical" {
            if !self.read.is_empty()
                || self.write.is_some()
                || username.is_some()
                || password.is_some()
            {
                v.error(
                    "kind",
                    "invalid",
                    "an iCalendar feed is read from its address alone: read, write, username and password are for CalDAV",
                );
            }
        } else if let Some(base) = &url {
            if let Some(w) = self.write.as_deref() {
                match collection(base, w) {
                    Ok(url) => write = Some(url.to_string()),
                    Err(why) => v.error("write", "invalid", format!("write {why}")),
                }
            }
            if self.read.len() > 20 {
                v.error(
                    "read",
                    "too_many",
                    "at most 20 calendars are read per account",
                );
            }
            for (i, r) in self.read.iter().enumerate() {
                match collection(base, r) {
                    Ok(url) => read.push(url.to_string()),
                    Err(why) => {
                        v.error(&format!("read[{i}]"), "invalid", format!("read[{i}] {why}"))
                    }
                }
            }
            if read.is_empty() {
                read.push(write.clone().unwrap_or_else(|| {
                    collection(base, "")
                        .map(|u| u.to_string())
                        .unwrap_or_default()
                }));
            }
        }
        v.finish()?;
        Ok(ValidCalendar {
            kind,
            name,
            url: url.ok_or_else(|| AppError::field("url", "required", "url is required"))?,
            username,
            password,
            read,
            write,
            active: self.active.unwrap_or(true),
        })
    }
}

/// A connected calendar as admins see it: never its password, and its address only as a
/// hint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarView {
    pub id: Uuid,
    pub host_id: Uuid,
    pub kind: String,
    pub name: String,
    /// The server and the start of the path: `https://calendar.example.com/…`.
    pub url_hint: String,
    pub username: Option<String>,
    pub has_password: bool,
    /// CalDAV: the calendars read, and the one bookings are written into.
    pub read: Vec<String>,
    pub write: Option<String>,
    pub active: bool,
    /// When it was last read without error.
    pub synced_at: Option<DateTime<Utc>>,
    /// When it was last tried.
    pub attempted_at: Option<DateTime<Utc>>,
    /// Why the last try failed (null once one succeeds).
    pub last_error: Option<String>,
    /// Busy intervals held from it.
    pub busy_count: i32,
    /// The slots may not reflect this calendar: its last read failed, or none succeeded yet.
    pub stale: bool,
    pub created_at: DateTime<Utc>,
}

fn hint(url: &Url) -> String {
    format!(
        "{}://{}{}/…",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

fn calendar_not_found(id: Uuid) -> AppError {
    AppError::not_found(format!("This host has no calendar {id}."))
}

async fn views(
    conn: impl sqlx::PgExecutor<'_>,
    host: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<CalendarView>> {
    Ok(sqlx::query_as!(
        CalendarView,
        r#"select id, host_id, kind, name, url_hint, username, password_sealed is not null as "has_password!",
                  read_paths as read, write_path as write, active, synced_at, attempted_at, last_error,
                  busy_count, (last_error is not null or synced_at is null) as "stale!", created_at
           from host_calendars where host_id = $1 and ($2::uuid is null or id = $2)
           order by created_at, id"#,
        host,
        only
    )
    .fetch_all(conn)
    .await?)
}

pub async fn list(db: &Db, host: Uuid) -> Result<Vec<CalendarView>> {
    super::setup::get_host(db, host).await?;
    views(db, host, None).await
}

pub async fn get(db: &Db, host: Uuid, id: Uuid) -> Result<CalendarView> {
    views(db, host, Some(id))
        .await?
        .pop()
        .ok_or_else(|| calendar_not_found(id))
}

/// Connects a calendar to a host and reads it once at once, so the answer says whether it
/// works (`synced_at`, or `last_error`).
pub async fn add(
    core: &crate::state::Core,
    calendars: &Calendars,
    actor: AuditActor<'_>,
    host: Uuid,
    input: ValidCalendar,
) -> Result<CalendarView> {
    let id = Uuid::now_v7();
    let sealed = input.seal(calendars, id);
    let mut tx = core.db.begin().await?;
    sqlx::query!(
        r#"insert into host_calendars (id, host_id, kind, name, url_sealed, url_hint, username,
                                       password_sealed, read_paths, write_path, active)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        id,
        host,
        input.kind,
        input.name,
        sealed.url,
        hint(&input.url),
        input.username,
        sealed.password,
        &input.read,
        input.write,
        input.active
    )
    .execute(&mut *tx)
    .await
    .on_constraint("host_calendars_host_id_fkey", || {
        AppError::not_found(format!(
            "No host has admin id {host}; make the admin a host with PUT /v1/admin/hosts/{host}."
        ))
    })?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.calendar_add", "host", host)
            .with_details(serde_json::json!({ "calendar": id, "kind": input.kind })),
    )
    .await?;
    tx.commit().await?;
    if input.active {
        calendars.refresh(core, id).await?;
    }
    get(&core.db, host, id).await
}

/// Replaces a connected calendar's settings (its password is kept when none is given) and
/// reads it again at once.
pub async fn replace(
    core: &crate::state::Core,
    calendars: &Calendars,
    actor: AuditActor<'_>,
    host: Uuid,
    id: Uuid,
    input: ValidCalendar,
) -> Result<CalendarView> {
    if input.password.is_none() && input.kind == "caldav" {
        // The stored password is kept only for the server it was given for.
        let stored = calendars.open(&core.db, id).await?;
        let needs_password = match &stored {
            Some(Ok(c)) => {
                c.account.password.is_some()
                    && (c.host_id != host || c.url.origin() != input.url.origin())
            }
            // Sealed under another key: it must be given again.
            Some(Err(_)) => true,
            None => return Err(calendar_not_found(id)),
        };
        if needs_password {
            return Err(AppError::field(
                "password",
                "required",
                "password is required again: the calendar's server changed (or its stored password cannot be opened)",
            ));
        }
    }
    let sealed = input.seal(calendars, id);
    let mut tx = core.db.begin().await?;
    let updated = sqlx::query!(
        r#"update host_calendars set kind = $3, name = $4, url_sealed = $5, url_hint = $6,
                  username = $7, password_sealed = coalesce($8, password_sealed),
                  read_paths = $9, write_path = $10, active = $11, last_error = null,
                  synced_at = null, updated_at = now()
           where id = $1 and host_id = $2"#,
        id,
        host,
        input.kind,
        input.name,
        sealed.url,
        hint(&input.url),
        input.username,
        sealed.password,
        &input.read,
        input.write,
        input.active
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(calendar_not_found(id));
    }
    if input.kind == "ical" {
        // A feed has no password; one kept from a CalDAV set-up would never be used.
        sqlx::query!(
            "update host_calendars set password_sealed = null where id = $1",
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.calendar_replace", "host", host)
            .with_details(serde_json::json!({ "calendar": id, "kind": input.kind })),
    )
    .await?;
    tx.commit().await?;
    if input.active {
        calendars.refresh(core, id).await?;
    }
    get(&core.db, host, id).await
}

/// Reads a calendar again now.
pub async fn refresh(
    core: &crate::state::Core,
    calendars: &Calendars,
    host: Uuid,
    id: Uuid,
) -> Result<CalendarView> {
    get(&core.db, host, id).await?;
    calendars.refresh(core, id).await?;
    get(&core.db, host, id).await
}

/// Disconnects a calendar: its busy times stop counting at once. Bookings already written
/// into it stay there.
pub async fn remove(db: &Db, actor: AuditActor<'_>, host: Uuid, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query!(
        "delete from host_calendars where id = $1 and host_id = $2",
        id,
        host
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Err(calendar_not_found(id));
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.calendar_remove", "host", host)
            .with_details(serde_json::json!({ "calendar": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Busy times from the connected calendars of `hosts` overlapping `[from, to)`, by host,
/// leaving out the copies of frontdesk's own bookings (also of bookings erased since, whose
/// copies are being removed); and whether any of those calendars
/// is stale.
pub(super) async fn busy(
    conn: &mut PgConnection,
    hosts: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>, bool)> {
    let rows = sqlx::query!(
        r#"select b.host_id, lower(b.during) as "from!", upper(b.during) as "to!"
           from host_busy b join host_calendars c on c.id = b.calendar_id and c.active
           where b.host_id = any($1) and b.during && tstzrange($2, $3)
             and not exists (select 1 from bookings k where k.ical_uid = b.uid)
             and not exists (select 1 from booking_calendar_events e
                             where b.uid = e.booking_id::text || '@frontdesk')"#,
        hosts,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?;
    let stale = sqlx::query_scalar!(
        r#"select exists(select 1 from host_calendars where host_id = any($1) and active
                         and (last_error is not null or synced_at is null)) as "stale!""#,
        hosts
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        rows.into_iter()
            .map(|r| (r.host_id, r.from, r.to))
            .collect(),
        stale,
    ))
}
