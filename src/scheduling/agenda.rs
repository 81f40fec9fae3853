//! Reading bookings: one by its manage token or its invite, the hosts' agenda, a host's
//! subscribable feed, and the retention purge. Listings load all their bookings in one query.

use crate::db::Db;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ics::{self, Invite};
use super::meeting::{self, HostContact, LocationSpec};
use super::model::{AdminBooking, BookingFilter, BookingView};
use crate::error::{AppError, Result};
use crate::pagination::{Page, PageParams};
use crate::state::Core;
use crate::tokens::token_hash;

pub(super) fn booking_not_found() -> AppError {
    AppError::not_found("No booking matches this link.")
}

pub(super) fn in_zone(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).to_rfc3339()
}

/// Everything about a booking, for views, emails and invites.
pub(super) struct Loaded {
    pub view: BookingView,
    pub host_id: Uuid,
    pub host_email: String,
    pub lead_id: Option<Uuid>,
    pub uid: String,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub duration_minutes: i32,
    pub manage_token_hash: Vec<u8>,
    pub reminder_minutes: Vec<i32>,
}

/// These bookings (in the order of `ids`), in one query.
pub(super) async fn load_many(
    conn: impl sqlx::PgExecutor<'_>,
    ids: &[Uuid],
) -> Result<Vec<Loaded>> {
    let rows = sqlx::query!(
        r#"select b.id, b.status, c.slug, c.name as call_name, c.duration_minutes,
                  a.display_name as "display_name!", a.email as "host_email!", b.host_id,
                  b.starts_at, b.ends_at, b.time_zone, b.first_name, b.last_name, b.email, b.notes,
                  b.ical_sequence, b.ical_uid, b.created_at, b.cancelled_at, b.cancel_reason,
                  b.cancelled_by, b.lead_id, b.manage_token_hash, b.answers, b.phone,
                  c.location, c.reminder_minutes, h.video_url, h.phone as host_phone
           from bookings b join call_types c on c.id = b.call_type_id
           join staff_directory a on a.id = b.host_id
           join hosts h on h.admin_id = b.host_id
           where b.id = any($1)
           order by array_position($1, b.id)"#,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let zone: Tz = r.time_zone.parse().unwrap_or(Tz::UTC);
            let location = r
                .location
                .and_then(|l| serde_json::from_value::<LocationSpec>(l).ok())
                .map(|spec| {
                    meeting::resolve(
                        &spec,
                        &HostContact {
                            name: &r.display_name,
                            video_url: r.video_url.as_deref(),
                            phone: r.host_phone.as_deref(),
                        },
                        &r.phone,
                    )
                });
            Loaded {
                view: BookingView {
                    id: r.id,
                    status: r.status,
                    call_type: r.slug,
                    call_type_name: r.call_name,
                    host_name: r.display_name,
                    start: in_zone(r.starts_at, zone),
                    end: in_zone(r.ends_at, zone),
                    start_utc: r.starts_at,
                    end_utc: r.ends_at,
                    time_zone: r.time_zone,
                    first_name: r.first_name,
                    last_name: r.last_name,
                    email: r.email,
                    notes: r.notes,
                    location,
                    answers: serde_json::from_value(r.answers).unwrap_or_default(),
                    phone: r.phone,
                    sequence: r.ical_sequence,
                    created_at: r.created_at,
                    cancelled_at: r.cancelled_at,
                },
                host_id: r.host_id,
                host_email: r.host_email,
                lead_id: r.lead_id,
                uid: r.ical_uid,
                cancel_reason: r.cancel_reason,
                cancelled_by: r.cancelled_by,
                duration_minutes: r.duration_minutes,
                manage_token_hash: r.manage_token_hash,
                reminder_minutes: r.reminder_minutes,
            }
        })
        .collect())
}

pub(super) async fn load(conn: impl sqlx::PgExecutor<'_>, id: Uuid) -> Result<Loaded> {
    load_many(conn, &[id])
        .await?
        .pop()
        .ok_or_else(booking_not_found)
}

/// What a booking's invite, emails and calendar copy say about it: the call, where it
/// happens, the visitor's notes and answers, and (for the visitor's invite) the link to
/// see, move or cancel it.
pub(super) fn description(loaded: &Loaded, manage_url: Option<&str>) -> String {
    let v = &loaded.view;
    let mut text = format!(
        "{} ({} minutes)\n",
        v.call_type_name, loaded.duration_minutes
    );
    if let Some(location) = &v.location {
        text.push_str(&format!("Where: {}\n", location.text));
    }
    let answers = meeting::answer_lines(&v.answers);
    if !answers.is_empty() {
        text.push('\n');
        text.push_str(&answers);
    }
    if !v.notes.is_empty() {
        text.push_str(&format!("\n{}\n", v.notes));
    }
    if let Some(url) = manage_url {
        text.push_str(&format!("\nSee, move or cancel this call: {url}\n"));
    }
    text.trim_end().to_owned()
}

pub(super) fn invite_of<'a>(loaded: &'a Loaded, manage_url: Option<&str>) -> Invite<'a> {
    let v = &loaded.view;
    Invite {
        uid: &loaded.uid,
        sequence: v.sequence,
        summary: format!("{} with {}", v.call_type_name, v.host_name),
        description: description(loaded, manage_url),
        start: v.start_utc,
        end: v.end_utc,
        cancelled: v.status == "cancelled",
        organizer: (&v.host_name, &loaded.host_email),
        attendee: (&v.first_name, &v.email),
        location: v.location.as_ref().map(|l| l.text.clone()),
        url: v.location.as_ref().and_then(|l| l.url.clone()),
    }
}

/// The token of a booking's manage link: derived from its id with the signing key, so that
/// every email about it can carry the link although only its hash is stored. `None` when
/// the stored hash is not this token's (the signing key changed, or the booking is older).
pub(super) fn manage_token(core: &Core, loaded: &Loaded) -> Option<String> {
    let token = derived_token(core, loaded.view.id);
    (token_hash(&token) == loaded.manage_token_hash).then_some(token)
}

pub(super) fn derived_token(core: &Core, id: Uuid) -> String {
    format!("bk_{}", core.signer.sign("booking-manage", &id.to_string()))
}

pub(super) fn manage_url(core: &Core, token: &str) -> String {
    format!("{}/v1/bookings/{token}", core.config.http.public_api_url)
}

pub(super) async fn id_for_token(conn: impl sqlx::PgExecutor<'_>, token: &str) -> Result<Uuid> {
    sqlx::query_scalar!(
        "select id from bookings where manage_token_hash = $1",
        token_hash(token)
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(booking_not_found)
}

pub async fn by_token(db: &Db, token: &str) -> Result<BookingView> {
    let id = id_for_token(db, token).await?;
    Ok(load(db, id).await?.view)
}

/// The invite of a booking as it stands (REQUEST, or CANCEL once cancelled).
pub async fn invite_by_token(core: &Core, token: &str) -> Result<String> {
    let id = id_for_token(&core.db, token).await?;
    let loaded = load(&core.db, id).await?;
    let url = manage_url(core, token);
    Ok(ics::invite(&invite_of(&loaded, Some(&url))))
}

/// Bookings by start time (then id), for the hosts' agenda.
pub async fn list(
    db: &Db,
    filter: &BookingFilter,
    page: &PageParams,
) -> Result<Page<AdminBooking>> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.decode()?;
    let ids = sqlx::query!(
        r#"select id, starts_at from bookings
           where ($1::timestamptz is null or starts_at >= $1) and ($2::timestamptz is null or starts_at < $2)
             and ($3::uuid is null or host_id = $3) and ($4::text is null or status = $4)
             and ($5::timestamptz is null or (starts_at, id) > ($5, $6))
           order by starts_at, id limit $7"#,
        filter.from,
        filter.to,
        filter.host,
        filter.status,
        after.map(|(at, _)| at),
        after.map(|(_, id)| id),
        i64::from(limit) + 1
    )
    .fetch_all(db)
    .await?;
    let keys: Vec<(DateTime<Utc>, Uuid)> = ids.iter().map(|r| (r.starts_at, r.id)).collect();
    let loaded = load_many(db, &keys.iter().map(|k| k.1).collect::<Vec<_>>()).await?;
    let rows: Vec<((DateTime<Utc>, Uuid), AdminBooking)> = keys
        .into_iter()
        .zip(loaded)
        .map(|(key, loaded)| {
            (
                key,
                AdminBooking {
                    booking: loaded.view,
                    host_id: loaded.host_id,
                    lead_id: loaded.lead_id,
                    cancel_reason: loaded.cancel_reason,
                    cancelled_by: loaded.cancelled_by,
                },
            )
        })
        .collect();
    let page = Page::from_rows(rows, limit, |(key, _)| *key);
    Ok(Page {
        items: page.items.into_iter().map(|(_, b)| b).collect(),
        next_cursor: page.next_cursor,
    })
}

/// A host's secret calendar feed: confirmed bookings from 30 days ago on.
pub async fn host_feed(db: &Db, token: &str) -> Result<String> {
    let host = sqlx::query!(
        r#"select h.admin_id, a.display_name as "display_name!" from hosts h join staff_directory a on a.id = h.admin_id
           where h.calendar_token_hash = $1"#,
        token_hash(token)
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::not_found("No calendar has this address."))?;
    let ids = sqlx::query_scalar!(
        r#"select id from bookings where host_id = $1 and status = 'confirmed'
           and starts_at > now() - interval '30 days' order by starts_at"#,
        host.admin_id
    )
    .fetch_all(db)
    .await?;
    let loaded = load_many(db, &ids).await?;
    let invites: Vec<Invite<'_>> = loaded.iter().map(|l| invite_of(l, None)).collect();
    Ok(ics::feed(
        &format!("{} — calls", host.display_name),
        &invites,
    ))
}

/// How many bookings are stored, whatever their status.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(
        sqlx::query_scalar!(r#"select count(*) as "n!" from bookings"#)
            .fetch_one(db)
            .await?,
    )
}

/// Drops bookings cancelled, or ended, more than `days` ago (their leads stay, and so do
/// their copies in the hosts' calendars: only the record of where they are goes).
pub async fn purge(db: &Db, days: u32) -> Result<u64> {
    let days = i32::try_from(days).unwrap_or(i32::MAX);
    let mut tx = db.begin().await?;
    sqlx::query!(
        r#"delete from booking_calendar_events e using bookings b
           where b.id = e.booking_id
             and (b.ends_at < now() - make_interval(days => $1)
                  or (b.status = 'cancelled' and b.cancelled_at < now() - make_interval(days => $1)))"#,
        days
    )
    .execute(&mut *tx)
    .await?;
    let purged = sqlx::query!(
        r#"delete from bookings
           where ends_at < now() - make_interval(days => $1)
              or (status = 'cancelled' and cancelled_at < now() - make_interval(days => $1))"#,
        days
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(purged)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarToken {
    /// Subscribe to this URL in a calendar app; keep it secret. A new token replaces it.
    pub url: String,
}
