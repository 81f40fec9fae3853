//! Booking a call (the database refuses any overlap), moving it and cancelling it: each
//! change in one unit of work with its lead's events and its notifications.
//!
//! Booking and moving share one loop: the free hosts are tried in turn, each in its own
//! transaction holding that host's day, until one takes the call; a host whom someone else
//! took meanwhile (the exclusion constraint refuses the write) is skipped.

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::postgres::types::PgRange;

use crate::db::Db;
use uuid::Uuid;

use super::SchedulingState;
use super::agenda::{derived_token, id_for_token, in_zone, load, manage_url};
use super::meeting::{self, Answer, LocationSpec};
use super::model::{BookingCreated, BookingView, CallType, SlotView, Slots, ValidBooking};
use super::notify::{Change, tell};
use super::setup::{self, calendars};
use super::slots::{self, Slot};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::Work;
use crate::error::{AppError, ConstraintExt, FieldError, Result};
use crate::idempotency::{self, Claim};
use crate::rate_limit::{self, Guard, Limit};
use crate::state::Core;
use crate::tokens::{email_hash, token_hash};

/// The problem kind of a time someone else booked first.
pub const SLOT_TAKEN: &str = "slot-taken";

fn slot_taken() -> AppError {
    AppError::conflict(
        SLOT_TAKEN,
        "This time is no longer free; pick another from GET /v1/call-types/{slug}/slots.",
    )
}

async fn active_call_type(conn: &mut PgConnection, slug: &str) -> Result<CallType> {
    setup::call_type_by_slug(&mut *conn, slug)
        .await?
        .filter(|c| c.active)
        .ok_or_else(|| AppError::not_found(format!("No active call type has the slug `{slug}`.")))
}

/// Free start times in `[from, to)`, shown in `zone`.
pub async fn free_slots(
    db: &Db,
    slug: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
) -> Result<Slots> {
    let mut conn = db.read_session().await?;
    let call_type = active_call_type(&mut conn, slug).await?;
    let (hosts, stale) = calendars(&mut conn, &call_type, from, to, None).await?;
    let found = slots::slots(&hosts, &call_type.rules(), from, to, Utc::now());
    Ok(Slots {
        stale,
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
    call_type: &CallType,
    start: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<(Uuid, Tz)>> {
    let (hosts, _) =
        calendars(conn, call_type, start, start + Duration::minutes(1), except).await?;
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

/// The hosts free at `start` by their calendars as they are now: when the stored busy times
/// leave any free, their connected calendars are read again (see
/// `Calendars::refresh_hosts`) and the answer taken from what they say. A time already
/// taken costs no calendar request.
async fn free_hosts_now(
    core: &Core,
    scheduling: &SchedulingState,
    call_type: &CallType,
    start: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<(Uuid, Tz)>> {
    let stored = {
        let mut conn = core.db.read_session().await?;
        free_hosts(&mut conn, call_type, start, except).await?
    };
    if stored.is_empty() {
        return Ok(stored);
    }
    let hosts: Vec<Uuid> = stored.iter().map(|(id, _)| *id).collect();
    scheduling.calendars.refresh_hosts(core, &hosts).await?;
    let mut conn = core.db.read_session().await?;
    free_hosts(&mut conn, call_type, start, except).await
}

fn blocked(call_type: &CallType, start: DateTime<Utc>) -> (DateTime<Utc>, PgRange<DateTime<Utc>>) {
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
    call_type: &CallType,
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

/// One free host's turn at taking a call: a unit of work holding the host's day (for the
/// daily cap), the host under the cap. Commit the work if the call is placed; drop it
/// (rolling back) to give the next host its turn.
struct Turn {
    work: Work,
    host: Uuid,
}

/// The next of `candidates` still under its daily cap, with its unit of work begun; `None`
/// when there is none left. Booking and moving share this loop.
async fn next_turn(
    core: &Core,
    call_type: &CallType,
    start: DateTime<Utc>,
    candidates: &mut std::vec::IntoIter<(Uuid, Tz)>,
) -> Result<Option<Turn>> {
    for (host, zone) in candidates.by_ref() {
        let mut work = core.begin().await?;
        let day = slots::host_date(zone, start);
        lock_host_day(&mut work, host, day).await?;
        if under_cap(&mut work, call_type, host, zone, day).await? {
            return Ok(Some(Turn { work, host }));
        }
    }
    Ok(None)
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
/// insert, whichever replica makes it, and the next free host is tried. The visitor
/// becomes (or stays) a lead, and the visitor, the host and webhooks are told.
pub async fn book(
    core: &Core,
    scheduling: &SchedulingState,
    submission: BookingSubmission<'_>,
) -> Result<BookingCreated> {
    let request = &submission.request;
    let call_type = {
        let mut conn = core.db.read_session().await?;
        active_call_type(&mut conn, &request.call_type).await?
    };
    let answers = check_call_details(&call_type, request)?;
    let candidates = free_hosts_now(core, scheduling, &call_type, request.start, None).await?;
    let mut candidates = candidates.into_iter();
    while let Some(Turn { mut work, host }) =
        next_turn(core, &call_type, request.start, &mut candidates).await?
    {
        if let Claim::Replay { body, .. } = claim_key(&mut work, &submission).await? {
            let answer = replayed(&mut work, body.booking_id).await?;
            work.commit().await?;
            return Ok(answer);
        }
        // Counted with the booking, in its transaction: only a booking made counts.
        Guard::new("booking", submission.ip, scheduling.config.booking_limit)
            .hit(&mut *work)
            .await?;
        per_email_cap(&mut work, scheduling, &request.email).await?;
        let (id, token) =
            match insert_booking(&mut work, core, &call_type, host, request, &answers).await {
                Ok(inserted) => inserted,
                // Taken meanwhile: dropping the work rolls it back; the next host's turn.
                Err(AppError::Conflict { .. }) => continue,
                Err(err) => return Err(err),
            };
        let lead_id = crate::leads::record_call(
            &mut work,
            core,
            &scheduling.leads,
            &crate::leads::CallLead {
                first_name: &request.first_name,
                last_name: &request.last_name,
                email: &request.email,
                notes: &request.notes,
                consent_text_version: &request.consent_text_version,
                booking_id: id,
                starts_at: request.start,
                ip: submission.ip,
                answers: serde_json::to_value(&answers).map_err(anyhow::Error::from)?,
            },
        )
        .await?;
        sqlx::query!(
            "update bookings set lead_id = $2 where id = $1",
            id,
            lead_id
        )
        .execute(&mut *work)
        .await?;
        let created = created(&mut work, core, id, &token).await?;
        tell(&mut work, core, id, Change::Booked).await?;
        idempotency::complete(
            &mut work,
            &key_scope(&submission),
            submission.idempotency_key,
            201,
            &Replay { booking_id: id },
            &request.email,
        )
        .await?;
        work.commit().await?;
        return Ok(created);
    }
    // Every host is taken, perhaps by this very request answered before: a retry gets
    // its first answer, not a conflict with itself.
    match earlier_answer(&core.db, &submission).await? {
        Some(created) => Ok(created),
        None => Err(slot_taken()),
    }
}

/// However many addresses a visitor books from, one email address gets at most
/// BOOKINGS_PER_EMAIL_PER_DAY calls a day (each sends that address mail).
async fn per_email_cap(
    conn: &mut PgConnection,
    scheduling: &SchedulingState,
    email: &str,
) -> Result<()> {
    let limit = Limit {
        max: scheduling.config.bookings_per_email_per_day,
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
    db: &Db,
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

/// The answers to the call type's questions, checked; and the phone number it needs.
fn check_call_details(call_type: &CallType, request: &ValidBooking) -> Result<Vec<Answer>> {
    let answers = meeting::check_answers(&call_type.questions, &request.answers);
    let phone_missing = request.phone.is_empty()
        && call_type
            .location
            .as_ref()
            .is_some_and(LocationSpec::needs_visitor_phone);
    match (answers, phone_missing) {
        (Ok(answers), false) => Ok(answers),
        (Ok(_), true) => Err(AppError::field(
            "phone",
            "required",
            "phone is required: the host calls you for this call",
        )),
        (Err(AppError::Validation(mut errors)), true) => {
            errors.push(FieldError::new(
                "phone",
                "required",
                "phone is required: the host calls you for this call",
            ));
            Err(AppError::Validation(errors))
        }
        (Err(err), _) => Err(err),
    }
}

async fn insert_booking(
    conn: &mut PgConnection,
    core: &Core,
    call_type: &CallType,
    host: Uuid,
    request: &ValidBooking,
    answers: &[Answer],
) -> Result<(Uuid, String)> {
    let id = Uuid::now_v7();
    // Derived from the id, so every later email can carry the manage link (see
    // `agenda::manage_token`); only its hash is stored.
    let token = derived_token(core, id);
    let (end, range) = blocked(call_type, request.start);
    sqlx::query!(
        r#"insert into bookings (id, call_type_id, host_id, starts_at, ends_at, blocked, first_name,
                                 last_name, email, notes, time_zone, consent_text_version,
                                 manage_token_hash, ical_uid, answers, phone)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"#,
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
        serde_json::to_value(answers).map_err(anyhow::Error::from)?,
        request.phone,
    )
    .execute(&mut *conn)
    .await
    .on_constraint("bookings_no_overlap", slot_taken)?;
    Ok((id, token))
}

async fn created(
    conn: &mut PgConnection,
    core: &Core,
    id: Uuid,
    token: &str,
) -> Result<BookingCreated> {
    let loaded = load(&mut *conn, id).await?;
    Ok(BookingCreated {
        booking: loaded.view,
        manage_token: Some(token.to_owned()),
        manage_url: Some(manage_url(core, token)),
        invite_url: Some(format!("{}/invite.ics", manage_url(core, token))),
    })
}

/// Who cancels a booking, and how that is counted and recorded.
pub enum Canceller<'a> {
    /// The visitor, from their link: counted against the client's change limit.
    Visitor(Guard),
    /// A host or admin: audited with the booking's change.
    Host(AuditActor<'a>),
}

/// Cancels a booking; the slot is free again at once, and visitor, host and webhooks are
/// told, all in one unit of work.
pub async fn cancel(
    core: &Core,
    id: Uuid,
    by: Canceller<'_>,
    reason: Option<&str>,
) -> Result<BookingView> {
    let mut work = core.begin().await?;
    let label = match &by {
        Canceller::Visitor(guard) => {
            guard.hit(&mut *work).await?;
            "visitor".to_owned()
        }
        Canceller::Host(actor) => format!("host:{}", actor.label()),
    };
    let updated = sqlx::query!(
        r#"update bookings set status = 'cancelled', cancelled_at = now(), cancelled_by = $2,
                  cancel_reason = $3, ical_sequence = ical_sequence + 1, updated_at = now()
           where id = $1 and status = 'confirmed' returning lead_id"#,
        id,
        label,
        reason
    )
    .fetch_optional(&mut *work)
    .await?;
    let Some(updated) = updated else {
        load(&mut *work, id).await?;
        return Err(AppError::conflict(
            "already-cancelled",
            "This booking is already cancelled.",
        ));
    };
    if let Some(lead) = updated.lead_id {
        crate::leads::note_booking(&mut work, lead, "booking_cancelled", id, &label).await?;
    }
    if let Canceller::Host(actor) = by {
        audit::record(
            &mut work,
            actor,
            AuditEvent::new("booking.cancel", "booking", id),
        )
        .await?;
    }
    tell(&mut work, core, id, Change::Cancelled).await?;
    work.commit().await?;
    Ok(load(&core.db, id).await?.view)
}

/// A visitor cancels from their link.
pub async fn cancel_by_token(
    core: &Core,
    scheduling: &SchedulingState,
    token: &str,
    reason: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<BookingView> {
    let id = id_for_token(&core.db, token).await?;
    let guard = Guard::new("booking-change", ip, scheduling.config.change_limit);
    cancel(core, id, Canceller::Visitor(guard), reason).await
}

/// Moves a booking to another free start; its UID stays, its SEQUENCE goes up. The host
/// stays if free, else another free host of the call type takes it.
pub async fn reschedule(
    core: &Core,
    scheduling: &SchedulingState,
    token: &str,
    start: DateTime<Utc>,
    ip: Option<IpAddr>,
) -> Result<BookingView> {
    let guard = Guard::new("booking-change", ip, scheduling.config.change_limit);
    let id = id_for_token(&core.db, token).await?;
    let (call_type, candidates) = {
        let mut conn = core.db.read_session().await?;
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
        drop(conn);
        let mut candidates = free_hosts_now(core, scheduling, &call_type, start, Some(id)).await?;
        candidates.sort_by_key(|(host, _)| *host != current.host_id);
        (call_type, candidates)
    };
    let mut candidates = candidates.into_iter();
    while let Some(Turn { mut work, host }) =
        next_turn(core, &call_type, start, &mut candidates).await?
    {
        guard.hit(&mut *work).await?;
        let (end, range) = blocked(&call_type, start);
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
        .fetch_optional(&mut *work)
        .await
        .on_constraint("bookings_no_overlap", slot_taken);
        let row = match moved {
            Ok(Some(row)) => row,
            Ok(None) => {
                return Err(AppError::conflict(
                    "already-cancelled",
                    "This booking was cancelled meanwhile.",
                ));
            }
            Err(AppError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        };
        if let Some(lead) = row.lead_id {
            crate::leads::note_booking(&mut work, lead, "booking_moved", id, "visitor").await?;
        }
        tell(&mut work, core, id, Change::Moved).await?;
        work.commit().await?;
        return Ok(load(&core.db, id).await?.view);
    }
    Err(slot_taken())
}
