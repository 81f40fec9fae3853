//! Booking calls: offering slots, booking one (the database refuses any overlap), and the
//! visitor's and hosts' changes afterwards, each told by email with an iCalendar invite.

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::postgres::types::PgRange;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ics::{self, Invite};
use super::model::{AdminBooking, BookingCreated, BookingView, SlotView, Slots, ValidBooking};
use super::setup::{self, calendars};
use super::slots::{self, Slot};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::config::Config;
use crate::error::{AppError, ConstraintExt, Result};
use crate::idempotency::{self, Claim};
use crate::outbox::{self, Attachment, Email};
use crate::pagination::{Page, PageParams};
use crate::rate_limit::{self, Guard, Limit};
use crate::tokens::{email_hash, new_token, token_hash};

fn slot_taken() -> AppError {
    AppError::conflict(
        "slot-taken",
        "This time is no longer free; pick another from GET /v1/call-types/{slug}/slots.",
    )
}

fn booking_not_found() -> AppError {
    AppError::not_found("No booking matches this link.")
}

fn in_zone(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).to_rfc3339()
}

async fn active_call_type(conn: &mut PgConnection, slug: &str) -> Result<super::model::CallType> {
    setup::call_type_by_slug(&mut *conn, slug)
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| AppError::not_found(format!("No active call type has the slug `{slug}`.")))
}

/// Free start times in `[from, to)`, shown in `zone`.
pub async fn free_slots(
    db: &PgPool,
    slug: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
) -> Result<Slots> {
    let mut conn = db.acquire().await?;
    let call_type = active_call_type(&mut conn, slug).await?;
    let hosts = calendars(&mut conn, &call_type, from, to, None).await?;
    let found = slots::slots(&hosts, &call_type.rules(), from, to, Utc::now());
    Ok(Slots {
        call_type: call_type.slug,
        time_zone: zone.name().to_owned(),
        from,
        to,
        slots: found
            .into_iter()
            .map(|s| SlotView {
                start: in_zone(s.start, zone),
                end: in_zone(s.end, zone),
                start_utc: s.start,
            })
            .collect(),
    })
}

/// The hosts free at `start`, those with the fewest bookings that day first.
async fn free_hosts(
    conn: &mut PgConnection,
    call_type: &super::model::CallType,
    start: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<(Uuid, Tz)>> {
    let hosts = calendars(conn, call_type, start, start + Duration::minutes(1), except).await?;
    let slot: Option<Slot> = slots::slots(
        &hosts,
        &call_type.rules(),
        start,
        start + Duration::minutes(1),
        Utc::now(),
    )
    .into_iter()
    .find(|s| s.start == start);
    let Some(slot) = slot else {
        return Ok(Vec::new());
    };
    let mut free: Vec<(usize, Uuid, Tz)> = hosts
        .iter()
        .filter(|h| slot.hosts.contains(&h.id))
        .map(|h| {
            let day = slots::host_date(h.zone, start);
            let that_day = h
                .busy
                .iter()
                .filter(|(from, _)| slots::host_date(h.zone, *from) == day)
                .count();
            (that_day, h.id, h.zone)
        })
        .collect();
    free.sort_by_key(|(count, id, _)| (*count, *id));
    Ok(free.into_iter().map(|(_, id, zone)| (id, zone)).collect())
}

fn blocked(
    call_type: &super::model::CallType,
    start: DateTime<Utc>,
) -> (DateTime<Utc>, PgRange<DateTime<Utc>>) {
    let rules = call_type.rules();
    let end = start + rules.duration;
    let range = PgRange::from((start - rules.buffer_before)..(end + rules.buffer_after));
    (end, range)
}

/// Serializes bookings of one host on one of their days, for the daily cap.
async fn lock_host_day(conn: &mut PgConnection, host: Uuid, day: NaiveDate) -> Result<()> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended($1, 0))",
        format!("{host}:{day}")
    )
    .execute(conn)
    .await?;
    Ok(())
}

async fn under_cap(
    conn: &mut PgConnection,
    call_type: &super::model::CallType,
    host: Uuid,
    zone: Tz,
    day: NaiveDate,
) -> Result<bool> {
    let Some(cap) = call_type.daily_cap else {
        return Ok(true);
    };
    let booked = sqlx::query_scalar!(
        r#"select count(*) as "count!" from bookings
           where host_id = $1 and call_type_id = $2 and status = 'confirmed'
             and (starts_at at time zone $3)::date = $4"#,
        host,
        call_type.id,
        zone.name(),
        day
    )
    .fetch_one(conn)
    .await?;
    Ok(booked < i64::from(cap))
}

/// A booking request with who and how it came.
pub struct BookingSubmission<'a> {
    pub request: ValidBooking,
    pub ip: Option<IpAddr>,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: Vec<u8>,
}

/// Books the slot with the free host who has the fewest calls that day. Two visitors can
/// never get one host at overlapping times: the exclusion constraint refuses the second
/// insert, whichever replica makes it, and the next free host is tried.
pub async fn book(
    db: &PgPool,
    config: &Config,
    submission: BookingSubmission<'_>,
) -> Result<BookingCreated> {
    let request = &submission.request;
    let call_type = {
        let mut conn = db.acquire().await?;
        active_call_type(&mut conn, &request.call_type).await?
    };
    let candidates = {
        let mut conn = db.acquire().await?;
        free_hosts(&mut conn, &call_type, request.start, None).await?
    };
    for (host, zone) in candidates {
        let mut tx = db.begin().await?;
        if let Claim::Replay { body, .. } = claim_key(&mut tx, &submission).await? {
            return replayed(&mut tx, body.booking_id).await;
        }
        // Counted with the booking, in its transaction: only a booking made counts.
        Guard::new("booking", submission.ip, config.scheduling.booking_limit)
            .hit(&mut *tx)
            .await?;
        per_email_cap(&mut tx, config, &request.email).await?;
        let day = slots::host_date(zone, request.start);
        lock_host_day(&mut tx, host, day).await?;
        if !under_cap(&mut tx, &call_type, host, zone, day).await? {
            continue;
        }
        match insert_booking(&mut tx, &call_type, host, request).await {
            Ok((id, token)) => {
                let lead_id = crate::leads::service::record_call(
                    &mut tx,
                    config,
                    &crate::leads::service::CallLead {
                        first_name: &request.first_name,
                        last_name: &request.last_name,
                        email: &request.email,
                        notes: &request.notes,
                        consent_text_version: &request.consent_text_version,
                        booking_id: id,
                        starts_at: request.start,
                        ip: submission.ip,
                    },
                )
                .await?;
                sqlx::query!(
                    "update bookings set lead_id = $2 where id = $1",
                    id,
                    lead_id
                )
                .execute(&mut *tx)
                .await?;
                let created = created(&mut tx, config, id, &token).await?;
                tell(&mut tx, config, id, Change::Booked).await?;
                idempotency::complete(
                    &mut tx,
                    &key_scope(&submission),
                    submission.idempotency_key,
                    201,
                    &Replay { booking_id: id },
                    &request.email,
                )
                .await?;
                tx.commit().await?;
                crate::outbox::wake();
                return Ok(created);
            }
            Err(AppError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
    // Every host is taken, perhaps by this very request answered before: a retry gets
    // its first answer, not a conflict with itself.
    match earlier_answer(db, &submission).await? {
        Some(created) => Ok(created),
        None => Err(slot_taken()),
    }
}

/// However many addresses a visitor books from, one email address gets at most
/// BOOKINGS_PER_EMAIL_PER_DAY calls a day (each sends that address mail).
async fn per_email_cap(conn: &mut PgConnection, config: &Config, email: &str) -> Result<()> {
    let limit = Limit {
        max: config.scheduling.bookings_per_email_per_day,
        window: std::time::Duration::from_secs(24 * 3600),
    };
    rate_limit::hit_bucket(conn, &email_cap_bucket(&email_hash(email)), limit).await
}

/// The bucket counting one address's bookings, named by the address's hash.
pub(crate) fn email_cap_bucket(email_hash: &[u8]) -> String {
    format!("booking-email:{}", hex::encode(email_hash))
}

/// What a retried booking request is answered from: the booking's id, never its manage
/// token (which is only in the first answer and the confirmation email).
#[derive(Debug, Serialize, serde::Deserialize)]
struct Replay {
    booking_id: Uuid,
}

fn key_scope(submission: &BookingSubmission<'_>) -> String {
    idempotency::scope_for("booking", submission.ip)
}

async fn claim_key(
    conn: &mut PgConnection,
    submission: &BookingSubmission<'_>,
) -> Result<Claim<Replay>> {
    idempotency::claim(
        conn,
        &key_scope(submission),
        submission.idempotency_key,
        &submission.request_hash,
    )
    .await
}

/// The booking as a replay shows it: as it stands now, without the manage link.
async fn replayed(conn: &mut PgConnection, id: Uuid) -> Result<BookingCreated> {
    Ok(BookingCreated {
        booking: load(conn, id).await?.view,
        manage_token: None,
        manage_url: None,
        invite_url: None,
    })
}

/// The stored answer to this request's idempotency key, if it was answered before. The
/// claim is rolled back, so it leaves nothing behind when there was none.
async fn earlier_answer(
    db: &PgPool,
    submission: &BookingSubmission<'_>,
) -> Result<Option<BookingCreated>> {
    if submission.idempotency_key.is_none() {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    let claim = claim_key(&mut tx, submission).await?;
    let answer = match claim {
        Claim::Replay { body, .. } => Some(replayed(&mut tx, body.booking_id).await?),
        Claim::Proceed => None,
    };
    tx.rollback().await?;
    Ok(answer)
}

async fn insert_booking(
    conn: &mut PgConnection,
    call_type: &super::model::CallType,
    host: Uuid,
    request: &ValidBooking,
) -> Result<(Uuid, String)> {
    let id = Uuid::now_v7();
    let token = new_token("bk_");
    let (end, range) = blocked(call_type, request.start);
    // A savepoint, so a refused insert leaves the transaction usable for the caller.
    sqlx::query!("savepoint booking_insert")
        .execute(&mut *conn)
        .await?;
    let inserted = sqlx::query!(
        r#"insert into bookings (id, call_type_id, host_id, starts_at, ends_at, blocked, first_name,
                                 last_name, email, notes, time_zone, consent_text_version,
                                 manage_token_hash, ical_uid)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"#,
        id,
        call_type.id,
        host,
        request.start,
        end,
        range,
        request.first_name,
        request.last_name,
        request.email,
        request.notes,
        request.time_zone.name(),
        request.consent_text_version,
        token_hash(&token),
        format!("{id}@frontdesk"),
    )
    .execute(&mut *conn)
    .await
    .on_constraint("bookings_no_overlap", slot_taken);
    match inserted {
        Ok(_) => Ok((id, token)),
        Err(err) => {
            sqlx::query!("rollback to savepoint booking_insert")
                .execute(&mut *conn)
                .await?;
            Err(err)
        }
    }
}

/// Everything about a booking, for views, emails and invites.
struct Loaded {
    view: BookingView,
    host_id: Uuid,
    host_email: String,
    lead_id: Option<Uuid>,
    uid: String,
    cancel_reason: Option<String>,
    cancelled_by: Option<String>,
    duration_minutes: i32,
}

async fn load(conn: impl sqlx::PgExecutor<'_>, id: Uuid) -> Result<Loaded> {
    let r = sqlx::query!(
        r#"select b.id, b.status, c.slug, c.name as call_name, c.duration_minutes, a.display_name,
                  a.email as host_email, b.host_id, b.starts_at, b.ends_at, b.time_zone, b.first_name,
                  b.last_name, b.email, b.notes, b.ical_sequence, b.ical_uid, b.created_at,
                  b.cancelled_at, b.cancel_reason, b.cancelled_by, b.lead_id
           from bookings b join call_types c on c.id = b.call_type_id
           join admin_users a on a.id = b.host_id
           where b.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(booking_not_found)?;
    let zone: Tz = r.time_zone.parse().unwrap_or(Tz::UTC);
    Ok(Loaded {
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
    })
}

fn manage_url(config: &Config, token: &str) -> String {
    format!("{}/v1/bookings/{token}", config.http.public_api_url)
}

async fn created(
    conn: &mut PgConnection,
    config: &Config,
    id: Uuid,
    token: &str,
) -> Result<BookingCreated> {
    let loaded = load(&mut *conn, id).await?;
    Ok(BookingCreated {
        booking: loaded.view,
        manage_token: Some(token.to_owned()),
        manage_url: Some(manage_url(config, token)),
        invite_url: Some(format!("{}/invite.ics", manage_url(config, token))),
    })
}

fn invite_of(loaded: &Loaded) -> Invite<'_> {
    let v = &loaded.view;
    Invite {
        uid: &loaded.uid,
        sequence: v.sequence,
        summary: format!("{} with {}", v.call_type_name, v.host_name),
        description: if v.notes.is_empty() {
            format!("{} ({} minutes)", v.call_type_name, loaded.duration_minutes)
        } else {
            format!(
                "{} ({} minutes)\n\n{}",
                v.call_type_name, loaded.duration_minutes, v.notes
            )
        },
        start: v.start_utc,
        end: v.end_utc,
        cancelled: v.status == "cancelled",
        organizer: (&v.host_name, &loaded.host_email),
        attendee: (&v.first_name, &v.email),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Booked,
    Moved,
    Cancelled,
}

/// Emails the visitor and the host (with the invite), and the webhook subscribers.
async fn tell(conn: &mut PgConnection, config: &Config, id: Uuid, change: Change) -> Result<()> {
    let loaded = load(&mut *conn, id).await?;
    let v = &loaded.view;
    let ics = ics::invite(&invite_of(&loaded));
    let method = if change == Change::Cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    };
    let attachment = Attachment {
        filename: "invite.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={method}"),
        content: ics,
    };
    let when = v.start.replace('T', " ");
    let (visitor_subject, host_subject, event) = match change {
        Change::Booked => (
            format!(
                "Your {} with {} is booked: {when}",
                v.call_type_name, v.host_name
            ),
            format!(
                "New booking: {} with {} {}",
                v.call_type_name, v.first_name, v.last_name
            ),
            "booking.created",
        ),
        Change::Moved => (
            format!(
                "Your {} with {} has moved to {when}",
                v.call_type_name, v.host_name
            ),
            format!(
                "Booking moved: {} with {} {}",
                v.call_type_name, v.first_name, v.last_name
            ),
            "booking.rescheduled",
        ),
        Change::Cancelled => (
            format!(
                "Your {} with {} on {when} is cancelled",
                v.call_type_name, v.host_name
            ),
            format!(
                "Booking cancelled: {} with {} {}",
                v.call_type_name, v.first_name, v.last_name
            ),
            "booking.cancelled",
        ),
    };
    let body = format!(
        "{}\n\n{} with {}\nStarts: {} ({})\nEnds: {}\n\nThe attached invite adds it to your calendar.\n",
        visitor_subject, v.call_type_name, v.host_name, v.start, v.time_zone, v.end
    );
    let emails = [
        Email {
            to: v.email.clone(),
            subject: visitor_subject,
            text: body.clone(),
            purpose: format!("{event}.visitor"),
            unsubscribe_url: None,
            attachment: Some(attachment.clone()),
        },
        Email {
            to: loaded.host_email.clone(),
            subject: host_subject,
            text: format!(
                "{body}\nVisitor: {} {} <{}>\nNotes: {}\n",
                v.first_name, v.last_name, v.email, v.notes
            ),
            purpose: format!("{event}.host"),
            unsubscribe_url: None,
            attachment: Some(attachment),
        },
    ];
    outbox::enqueue_emails(conn, &emails, config.outbox.max_attempts).await?;
    let data = serde_json::to_value(v).map_err(anyhow::Error::from)?;
    outbox::enqueue_event(conn, event, &data, config.outbox.max_attempts).await?;
    Ok(())
}

async fn id_for_token(conn: impl sqlx::PgExecutor<'_>, token: &str) -> Result<Uuid> {
    sqlx::query_scalar!(
        "select id from bookings where manage_token_hash = $1",
        token_hash(token)
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(booking_not_found)
}

pub async fn by_token(db: &PgPool, token: &str) -> Result<BookingView> {
    let id = id_for_token(db, token).await?;
    Ok(load(db, id).await?.view)
}

/// The invite of a booking as it stands (REQUEST, or CANCEL once cancelled).
pub async fn invite_by_token(db: &PgPool, token: &str) -> Result<String> {
    let id = id_for_token(db, token).await?;
    Ok(ics::invite(&invite_of(&load(db, id).await?)))
}

/// Cancels a booking (by its visitor, or by a host); the slot is free again at once.
pub async fn cancel(
    db: &PgPool,
    config: &Config,
    id: Uuid,
    by: &str,
    reason: Option<&str>,
    guard: Option<Guard>,
) -> Result<BookingView> {
    let mut tx = db.begin().await?;
    if let Some(guard) = guard {
        guard.hit(&mut *tx).await?;
    }
    let updated = sqlx::query!(
        r#"update bookings set status = 'cancelled', cancelled_at = now(), cancelled_by = $2,
                  cancel_reason = $3, ical_sequence = ical_sequence + 1, updated_at = now()
           where id = $1 and status = 'confirmed' returning lead_id"#,
        id,
        by,
        reason
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(updated) = updated else {
        load(&mut *tx, id).await?;
        return Err(AppError::conflict(
            "already-cancelled",
            "This booking is already cancelled.",
        ));
    };
    if let Some(lead) = updated.lead_id {
        crate::leads::service::note_booking(&mut tx, lead, "booking_cancelled", id, by).await?;
    }
    tell(&mut tx, config, id, Change::Cancelled).await?;
    tx.commit().await?;
    crate::outbox::wake();
    Ok(load(db, id).await?.view)
}

/// A visitor cancels from their link; counted against the client's booking-change limit.
pub async fn cancel_by_token(
    db: &PgPool,
    config: &Config,
    token: &str,
    reason: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<BookingView> {
    let id = id_for_token(db, token).await?;
    let guard = Guard::new("booking-change", ip, config.scheduling.change_limit);
    cancel(db, config, id, "visitor", reason, Some(guard)).await
}

/// Moves a booking to another free start; its UID stays, its SEQUENCE goes up. The host
/// stays if free, else another free host of the call type takes it.
pub async fn reschedule(
    db: &PgPool,
    config: &Config,
    token: &str,
    start: DateTime<Utc>,
    ip: Option<IpAddr>,
) -> Result<BookingView> {
    let guard = Guard::new("booking-change", ip, config.scheduling.change_limit);
    let id = id_for_token(db, token).await?;
    let mut conn = db.acquire().await?;
    let current = sqlx::query!(
        "select b.host_id, b.status, c.slug from bookings b join call_types c on c.id = b.call_type_id where b.id = $1",
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    if current.status != "confirmed" {
        return Err(AppError::conflict(
            "already-cancelled",
            "A cancelled booking cannot be moved; book a new call.",
        ));
    }
    let call_type = active_call_type(&mut conn, &current.slug).await?;
    let mut candidates = free_hosts(&mut conn, &call_type, start, Some(id)).await?;
    drop(conn);
    candidates.sort_by_key(|(host, _)| *host != current.host_id);
    for (host, zone) in candidates {
        let mut tx = db.begin().await?;
        guard.hit(&mut *tx).await?;
        let day = slots::host_date(zone, start);
        lock_host_day(&mut tx, host, day).await?;
        if !under_cap(&mut tx, &call_type, host, zone, day).await? {
            continue;
        }
        let (end, range) = blocked(&call_type, start);
        sqlx::query!("savepoint booking_move")
            .execute(&mut *tx)
            .await?;
        let moved = sqlx::query!(
            r#"update bookings set host_id = $2, starts_at = $3, ends_at = $4, blocked = $5,
                      ical_sequence = ical_sequence + 1, updated_at = now()
               where id = $1 and status = 'confirmed' returning lead_id"#,
            id,
            host,
            start,
            end,
            range
        )
        .fetch_optional(&mut *tx)
        .await
        .on_constraint("bookings_no_overlap", slot_taken);
        match moved {
            Ok(Some(row)) => {
                if let Some(lead) = row.lead_id {
                    crate::leads::service::note_booking(
                        &mut tx,
                        lead,
                        "booking_moved",
                        id,
                        "visitor",
                    )
                    .await?;
                }
                tell(&mut tx, config, id, Change::Moved).await?;
                tx.commit().await?;
                crate::outbox::wake();
                return Ok(load(db, id).await?.view);
            }
            Ok(None) => {
                return Err(AppError::conflict(
                    "already-cancelled",
                    "This booking was cancelled meanwhile.",
                ));
            }
            Err(AppError::Conflict { .. }) => {
                sqlx::query!("rollback to savepoint booking_move")
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            Err(err) => return Err(err),
        }
    }
    Err(slot_taken())
}

#[derive(Debug, Default)]
pub struct BookingFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub host: Option<Uuid>,
    pub status: Option<String>,
}

/// Bookings by start time (then id), for the hosts' agenda.
pub async fn list(
    db: &PgPool,
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
    let mut rows = Vec::with_capacity(ids.len());
    for row in ids {
        let loaded = load(db, row.id).await?;
        rows.push((
            (row.starts_at, row.id),
            AdminBooking {
                booking: loaded.view,
                host_id: loaded.host_id,
                lead_id: loaded.lead_id,
                cancel_reason: loaded.cancel_reason,
                cancelled_by: loaded.cancelled_by,
            },
        ));
    }
    let page = Page::from_rows(rows, limit, |(key, _)| *key);
    Ok(Page {
        items: page.items.into_iter().map(|(_, b)| b).collect(),
        next_cursor: page.next_cursor,
    })
}

/// A host cancels; the visitor is told.
pub async fn cancel_as_host(
    db: &PgPool,
    config: &Config,
    actor: AuditActor<'_>,
    id: Uuid,
    reason: Option<&str>,
) -> Result<BookingView> {
    let label = format!("host:{}", actor.label());
    let view = cancel(db, config, id, &label, reason, None).await?;
    let mut conn = db.acquire().await?;
    audit::record(
        &mut conn,
        actor,
        AuditEvent::new("booking.cancel", "booking", id),
    )
    .await?;
    Ok(view)
}

/// A host's secret calendar feed: confirmed bookings from 30 days ago on.
pub async fn host_feed(db: &PgPool, token: &str) -> Result<String> {
    let host = sqlx::query!(
        r#"select h.admin_id, a.display_name from hosts h join admin_users a on a.id = h.admin_id
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
    let mut loaded = Vec::with_capacity(ids.len());
    for id in ids {
        loaded.push(load(db, id).await?);
    }
    let invites: Vec<Invite<'_>> = loaded.iter().map(invite_of).collect();
    Ok(ics::feed(
        &format!("{} — calls", host.display_name),
        &invites,
    ))
}

/// Drops bookings cancelled, or ended, more than `days` ago (their leads stay).
pub async fn purge(db: &PgPool, days: u32) -> Result<u64> {
    Ok(sqlx::query!(
        r#"delete from bookings
           where ends_at < now() - make_interval(days => $1)
              or (status = 'cancelled' and cancelled_at < now() - make_interval(days => $1))"#,
        i32::try_from(days).unwrap_or(i32::MAX)
    )
    .execute(db)
    .await?
    .rows_affected())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarToken {
    /// Subscribe to this URL in a calendar app; keep it secret. A new token replaces it.
    pub url: String,
}
