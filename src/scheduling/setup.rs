//! Setting up scheduling: hosts (admins who take calls), their hours and date overrides, and
//! call types. Also what slot arithmetic needs, read from the database.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use sqlx::PgConnection;

use crate::db::Db;
use uuid::Uuid;

use super::meeting::LocationSpec;
use super::model::{
    CallType, DateOverride, Host, Hours, PublicCallType, PublicHost, ValidCallType, ValidHost,
    ValidOverride,
};
use super::slots::{HostCalendar, Interval, Override, Rules};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::error::{AppError, ConstraintExt, FieldError, Result};
use crate::tokens::{new_token, token_hash};

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn host_not_found(id: Uuid) -> AppError {
    AppError::not_found(format!(
        "No host has admin id {id}; make an admin a host with PUT /v1/admin/hosts/{id}."
    ))
}

pub async fn list_hosts(db: &Db) -> Result<Vec<Host>> {
    load_hosts(db, None).await
}

pub async fn get_host(db: &Db, id: Uuid) -> Result<Host> {
    load_hosts(db, Some(id))
        .await?
        .pop()
        .ok_or_else(|| host_not_found(id))
}

/// Hosts (all, or one) with their hours and overrides, in three queries whatever their
/// number; ordered by name.
async fn load_hosts(db: &Db, only: Option<Uuid>) -> Result<Vec<Host>> {
    let rows = sqlx::query!(
        r#"select h.admin_id, a.display_name as "display_name!", a.email as "email!", h.time_zone, h.active,
                  h.video_url, h.phone
           from hosts h join staff_directory a on a.id = h.admin_id
           where ($1::uuid is null or h.admin_id = $1)
           order by a.display_name, h.admin_id"#,
        only
    )
    .fetch_all(db)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.admin_id).collect();
    let mut hours: HashMap<Uuid, Vec<Hours>> = HashMap::new();
    for h in sqlx::query!(
        "select host_id, weekday, start_time, end_time from host_working_hours where host_id = any($1) order by weekday, start_time",
        &ids
    )
    .fetch_all(db)
    .await?
    {
        hours.entry(h.host_id).or_default().push(Hours {
            weekday: h.weekday,
            start: hhmm(h.start_time),
            end: hhmm(h.end_time),
        });
    }
    let mut overrides: HashMap<Uuid, Vec<DateOverride>> = HashMap::new();
    for o in sqlx::query!(
        "select host_id, id, day, kind, start_time, end_time from host_date_overrides where host_id = any($1) order by day, start_time",
        &ids
    )
    .fetch_all(db)
    .await?
    {
        overrides.entry(o.host_id).or_default().push(DateOverride {
            id: o.id,
            date: o.day,
            kind: o.kind,
            start: o.start_time.map(hhmm),
            end: o.end_time.map(hhmm),
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| Host {
            working_hours: hours.remove(&row.admin_id).unwrap_or_default(),
            overrides: overrides.remove(&row.admin_id).unwrap_or_default(),
            admin_id: row.admin_id,
            display_name: row.display_name,
            email: row.email,
            time_zone: row.time_zone,
            active: row.active,
            video_url: row.video_url,
            phone: row.phone,
        })
        .collect())
}

/// Makes an admin a host, or replaces a host's zone and weekly hours.
pub async fn put_host(db: &Db, actor: AuditActor<'_>, id: Uuid, host: ValidHost) -> Result<Host> {
    let mut tx = db.begin().await?;
    let admin_exists = sqlx::query_scalar!(
        r#"select exists(select 1 from staff_directory where id = $1 and active) as "exists!""#,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if !admin_exists {
        return Err(AppError::not_found(format!(
            "No active admin user has id {id}."
        )));
    }
    sqlx::query!(
        r#"insert into hosts (admin_id, time_zone, active, video_url, phone) values ($1, $2, $3, $4, $5)
           on conflict (admin_id) do update set time_zone = excluded.time_zone,
               active = excluded.active, video_url = excluded.video_url, phone = excluded.phone,
               updated_at = now()"#,
        id,
        host.time_zone.name(),
        host.active,
        host.video_url,
        host.phone
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("delete from host_working_hours where host_id = $1", id)
        .execute(&mut *tx)
        .await?;
    for (weekday, start, end) in &host.hours {
        sqlx::query!(
            "insert into host_working_hours (id, host_id, weekday, start_time, end_time) values ($1, $2, $3, $4, $5)",
            Uuid::now_v7(),
            id,
            weekday,
            start,
            end
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.put", "host", id)
            .with_details(serde_json::json!({ "time_zone": host.time_zone.name(), "intervals": host.hours.len() })),
    )
    .await?;
    tx.commit().await?;
    get_host(db, id).await
}

pub async fn delete_host(db: &Db, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let has_bookings = sqlx::query_scalar!(
        r#"select exists(select 1 from bookings where host_id = $1) as "exists!""#,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if has_bookings {
        return Err(AppError::conflict(
            "host-has-bookings",
            "This host has bookings; deactivate them instead (PUT with \"active\": false).",
        ));
    }
    let deleted = sqlx::query!("delete from hosts where admin_id = $1", id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(host_not_found(id));
    }
    audit::record(&mut tx, actor, AuditEvent::new("host.delete", "host", id)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_override(
    db: &Db,
    actor: AuditActor<'_>,
    host: Uuid,
    o: ValidOverride,
) -> Result<Host> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "insert into host_date_overrides (id, host_id, day, kind, start_time, end_time) values ($1, $2, $3, $4, $5, $6)",
        Uuid::now_v7(),
        host,
        o.date,
        o.kind,
        o.start,
        o.end
    )
    .execute(&mut *tx)
    .await
    .on_constraint("host_date_overrides_host_id_fkey", || host_not_found(host))?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.override_add", "host", host)
            .with_details(serde_json::json!({ "date": o.date, "kind": o.kind })),
    )
    .await?;
    tx.commit().await?;
    get_host(db, host).await
}

pub async fn remove_override(db: &Db, actor: AuditActor<'_>, host: Uuid, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query!(
        "delete from host_date_overrides where id = $1 and host_id = $2",
        id,
        host
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Err(AppError::not_found(format!(
            "Host {host} has no override {id}."
        )));
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.override_remove", "host", host),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret calendar-feed token for the host (the old one stops working); returned once.
pub async fn new_calendar_token(db: &Db, actor: AuditActor<'_>, host: Uuid) -> Result<String> {
    let token = new_token("cal_");
    let mut tx = db.begin().await?;
    let updated = sqlx::query!(
        "update hosts set calendar_token_hash = $2, updated_at = now() where admin_id = $1",
        host,
        token_hash(&token)
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(host_not_found(host));
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("host.calendar_token", "host", host),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

// Call types.

struct CallTypeRow {
    id: Uuid,
    slug: String,
    name: String,
    description: String,
    duration_minutes: i32,
    buffer_before_minutes: i32,
    buffer_after_minutes: i32,
    min_notice_minutes: i32,
    horizon_days: i32,
    slot_step_minutes: i32,
    daily_cap: Option<i32>,
    active: bool,
    host_ids: Vec<Uuid>,
    location: Option<serde_json::Value>,
    questions: serde_json::Value,
    reminder_minutes: Vec<i32>,
}

impl From<CallTypeRow> for CallType {
    fn from(r: CallTypeRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            name: r.name,
            description: r.description,
            duration_minutes: r.duration_minutes,
            buffer_before_minutes: r.buffer_before_minutes,
            buffer_after_minutes: r.buffer_after_minutes,
            min_notice_minutes: r.min_notice_minutes,
            horizon_days: r.horizon_days,
            slot_step_minutes: r.slot_step_minutes,
            daily_cap: r.daily_cap,
            host_ids: r.host_ids,
            active: r.active,
            // Written validated by `save_call_type`; what cannot be read is left out.
            location: r.location.and_then(|l| serde_json::from_value(l).ok()),
            questions: serde_json::from_value(r.questions).unwrap_or_default(),
            reminder_minutes: r.reminder_minutes,
        }
    }
}

impl CallType {
    pub fn rules(&self) -> Rules {
        let minutes = |m: i32| chrono::Duration::minutes(i64::from(m));
        Rules {
            duration: minutes(self.duration_minutes),
            buffer_before: minutes(self.buffer_before_minutes),
            buffer_after: minutes(self.buffer_after_minutes),
            min_notice: minutes(self.min_notice_minutes),
            horizon: chrono::Duration::days(i64::from(self.horizon_days)),
            step: minutes(self.slot_step_minutes),
            daily_cap: self.daily_cap.and_then(|c| u32::try_from(c).ok()),
        }
    }
}

fn call_type_not_found(what: impl std::fmt::Display) -> AppError {
    AppError::not_found(format!("No call type {what}."))
}

pub async fn list_call_types(db: &Db, only_active: bool) -> Result<Vec<CallType>> {
    let rows = sqlx::query_as!(
        CallTypeRow,
        r#"select c.id, c.slug, c.name, c.description, c.duration_minutes, c.buffer_before_minutes,
                  c.buffer_after_minutes, c.min_notice_minutes, c.horizon_days, c.slot_step_minutes,
                  c.daily_cap, c.active, c.location, c.questions, c.reminder_minutes,
                  array(select host_id from call_type_hosts where call_type_id = c.id order by host_id) as "host_ids!"
           from call_types c where (not $1 or c.active) order by c.name"#,
        only_active
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(CallType::from).collect())
}

pub async fn call_type_by_slug(
    db: impl sqlx::PgExecutor<'_>,
    slug: &str,
) -> Result<Option<CallType>> {
    Ok(sqlx::query_as!(
        CallTypeRow,
        r#"select c.id, c.slug, c.name, c.description, c.duration_minutes, c.buffer_before_minutes,
                  c.buffer_after_minutes, c.min_notice_minutes, c.horizon_days, c.slot_step_minutes,
                  c.daily_cap, c.active, c.location, c.questions, c.reminder_minutes,
                  array(select host_id from call_type_hosts where call_type_id = c.id order by host_id) as "host_ids!"
           from call_types c where c.slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await?
    .map(CallType::from))
}

pub async fn call_type_by_id(db: &Db, id: Uuid) -> Result<CallType> {
    sqlx::query_as!(
        CallTypeRow,
        r#"select c.id, c.slug, c.name, c.description, c.duration_minutes, c.buffer_before_minutes,
                  c.buffer_after_minutes, c.min_notice_minutes, c.horizon_days, c.slot_step_minutes,
                  c.daily_cap, c.active, c.location, c.questions, c.reminder_minutes,
                  array(select host_id from call_type_hosts where call_type_id = c.id order by host_id) as "host_ids!"
           from call_types c where c.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .map(CallType::from)
    .ok_or_else(|| call_type_not_found(format!("has id {id}")))
}

/// The active call type with this slug, as visitors see it.
pub async fn public_call_type(db: &Db, slug: &str) -> Result<Option<PublicCallType>> {
    Ok(public_call_types(db, Some(slug)).await?.pop())
}

/// Active call types (all, or the one with `slug`) as visitors see them, in two queries.
pub async fn public_call_types(db: &Db, slug: Option<&str>) -> Result<Vec<PublicCallType>> {
    let types: Vec<CallType> = list_call_types(db, true)
        .await?
        .into_iter()
        .filter(|c| slug.is_none_or(|s| c.slug == s))
        .collect();
    let ids: Vec<Uuid> = types.iter().map(|c| c.id).collect();
    let mut hosts: HashMap<Uuid, Vec<PublicHost>> = HashMap::new();
    for h in sqlx::query!(
        r#"select ch.call_type_id, a.display_name as "display_name!", h.time_zone from call_type_hosts ch
           join hosts h on h.admin_id = ch.host_id join staff_directory a on a.id = h.admin_id
           where ch.call_type_id = any($1) and h.active and a.active order by a.display_name"#,
        &ids
    )
    .fetch_all(db)
    .await?
    {
        hosts.entry(h.call_type_id).or_default().push(PublicHost {
            name: h.display_name,
            time_zone: h.time_zone,
        });
    }
    Ok(types
        .into_iter()
        .map(|call_type| PublicCallType {
            phone_required: call_type
                .location
                .as_ref()
                .is_some_and(LocationSpec::needs_visitor_phone),
            location: call_type.location.as_ref().map(LocationSpec::public),
            questions: call_type.questions,
            hosts: hosts.remove(&call_type.id).unwrap_or_default(),
            slug: call_type.slug,
            name: call_type.name,
            description: call_type.description,
            duration_minutes: call_type.duration_minutes,
            horizon_days: call_type.horizon_days,
            min_notice_minutes: call_type.min_notice_minutes,
        })
        .collect())
}

async fn check_hosts(conn: &mut PgConnection, ids: &[Uuid]) -> Result<()> {
    let known = sqlx::query_scalar!("select admin_id from hosts where admin_id = any($1)", ids)
        .fetch_all(&mut *conn)
        .await?;
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(id))
        .map(|(i, id)| {
            FieldError::new(
                format!("host_ids[{i}]"),
                "unknown",
                format!("{id} is not a host; make the admin a host with PUT /v1/admin/hosts/{id}"),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Creates a call type, or replaces the one with `id`.
pub async fn save_call_type(
    db: &Db,
    actor: AuditActor<'_>,
    id: Option<Uuid>,
    call_type: ValidCallType,
) -> Result<CallType> {
    let mut tx = db.begin().await?;
    check_hosts(&mut tx, &call_type.host_ids).await?;
    let id = id.unwrap_or_else(Uuid::now_v7);
    sqlx::query!(
        r#"
        insert into call_types (id, slug, name, description, duration_minutes, buffer_before_minutes,
                                buffer_after_minutes, min_notice_minutes, horizon_days,
                                slot_step_minutes, daily_cap, active, location, questions,
                                reminder_minutes)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        on conflict (id) do update set
            slug = excluded.slug, name = excluded.name, description = excluded.description,
            duration_minutes = excluded.duration_minutes,
            buffer_before_minutes = excluded.buffer_before_minutes,
            buffer_after_minutes = excluded.buffer_after_minutes,
            min_notice_minutes = excluded.min_notice_minutes, horizon_days = excluded.horizon_days,
            slot_step_minutes = excluded.slot_step_minutes, daily_cap = excluded.daily_cap,
            active = excluded.active, location = excluded.location,
            questions = excluded.questions, reminder_minutes = excluded.reminder_minutes,
            updated_at = now()
        "#,
        id,
        call_type.slug,
        call_type.name,
        call_type.description,
        call_type.duration_minutes,
        call_type.buffer_before_minutes,
        call_type.buffer_after_minutes,
        call_type.min_notice_minutes,
        call_type.horizon_days,
        call_type.slot_step_minutes,
        call_type.daily_cap,
        call_type.active,
        call_type
            .location
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(anyhow::Error::from)?,
        serde_json::to_value(&call_type.questions).map_err(anyhow::Error::from)?,
        &call_type.reminder_minutes
    )
    .execute(&mut *tx)
    .await
    .on_constraint("call_types_slug_key", || {
        AppError::conflict(
            "duplicate-slug",
            format!("Another call type already uses the slug `{}`.", call_type.slug),
        )
    })?;
    sqlx::query!("delete from call_type_hosts where call_type_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "insert into call_type_hosts (call_type_id, host_id) select $1, unnest($2::uuid[])",
        id,
        &call_type.host_ids
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("call_type.save", "call_type", id)
            .with_details(serde_json::json!({ "slug": call_type.slug })),
    )
    .await?;
    tx.commit().await?;
    call_type_by_id(db, id).await
}

pub async fn delete_call_type(db: &Db, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let slug = sqlx::query_scalar!("delete from call_types where id = $1 returning slug", id)
        .fetch_optional(&mut *tx)
        .await
        .on_constraint("bookings_call_type_id_fkey", || {
            AppError::conflict(
                "call-type-has-bookings",
                "This call type has bookings; deactivate it instead (\"active\": false).",
            )
        })?
        .ok_or_else(|| call_type_not_found(format!("has id {id}")))?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("call_type.delete", "call_type", id)
            .with_details(serde_json::json!({ "slug": slug })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The calendars of a call type's active hosts between `from` and `to`: hours, overrides,
/// confirmed bookings (other than `except`), bookings per day, and the busy times of their
/// connected calendars; and whether any of those may be stale.
pub async fn calendars(
    conn: &mut PgConnection,
    call_type: &CallType,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<(Vec<HostCalendar>, bool)> {
    let hosts = sqlx::query!(
        r#"select h.admin_id, h.time_zone from hosts h join staff_directory a on a.id = h.admin_id
           where h.admin_id = any($1) and h.active and a.active order by h.admin_id"#,
        &call_type.host_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = hosts.iter().map(|h| h.admin_id).collect();
    let margin = chrono::Duration::days(2);
    let mut weekly: HashMap<Uuid, HashMap<u32, Vec<Interval>>> = HashMap::new();
    for h in sqlx::query!(
        "select host_id, weekday, start_time, end_time from host_working_hours where host_id = any($1)",
        &ids
    )
    .fetch_all(&mut *conn)
    .await?
    {
        weekly
            .entry(h.host_id)
            .or_default()
            .entry(u32::try_from(h.weekday).unwrap_or(0))
            .or_default()
            .push(Interval {
                start: h.start_time,
                end: h.end_time,
            });
    }
    let mut overrides: HashMap<Uuid, HashMap<NaiveDate, Vec<Override>>> = HashMap::new();
    for o in sqlx::query!(
        "select host_id, day, kind, start_time, end_time from host_date_overrides where host_id = any($1) and day between $2 and $3",
        &ids,
        (from - margin).date_naive(),
        (to + margin).date_naive()
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let entry = match (o.kind.as_str(), o.start_time, o.end_time) {
            ("extra", Some(start), Some(end)) => Override::Extra(Interval { start, end }),
            _ => Override::DayOff,
        };
        overrides
            .entry(o.host_id)
            .or_default()
            .entry(o.day)
            .or_default()
            .push(entry);
    }
    let bookings = sqlx::query!(
        r#"select host_id, lower(blocked) as "from!", upper(blocked) as "to!", starts_at, call_type_id from bookings
           where host_id = any($1) and status = 'confirmed' and ($4::uuid is null or id <> $4)
             and blocked && tstzrange($2, $3)"#,
        &ids,
        from - margin,
        to + margin,
        except
    )
    .fetch_all(&mut *conn)
    .await?;
    let (elsewhere, stale) =
        super::calendars::busy(&mut *conn, &ids, from - margin, to + margin).await?;
    let mut calendars = Vec::with_capacity(hosts.len());
    for host in hosts {
        let zone: Tz = host.time_zone.parse().unwrap_or(Tz::UTC);
        let mine: Vec<_> = bookings
            .iter()
            .filter(|b| b.host_id == host.admin_id)
            .collect();
        let mut booked_per_day: HashMap<NaiveDate, u32> = HashMap::new();
        // The cap counts this call type's calls; the busy times are every booking's.
        for b in mine.iter().filter(|b| b.call_type_id == call_type.id) {
            *booked_per_day
                .entry(b.starts_at.with_timezone(&zone).date_naive())
                .or_default() += 1;
        }
        calendars.push(HostCalendar {
            id: host.admin_id,
            zone,
            weekly: weekly.remove(&host.admin_id).unwrap_or_default(),
            overrides: overrides.remove(&host.admin_id).unwrap_or_default(),
            busy: mine.iter().map(|b| (b.from, b.to)).collect(),
            elsewhere: elsewhere
                .iter()
                .filter(|(id, _, _)| *id == host.admin_id)
                .map(|(_, from, to)| (*from, *to))
                .collect(),
            booked_per_day,
        });
    }
    Ok((calendars, stale))
}
