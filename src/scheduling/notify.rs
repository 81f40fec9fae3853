//! Telling people about a booking, all in the unit of work of the change: an email with the
//! iCalendar invite (REQUEST, or CANCEL) to the visitor and to the host, the booking's
//! webhook event, its reminders (queued for their time), and its copy in the host's CalDAV
//! calendar (written by the outbox).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::agenda::{Loaded, description, invite_of, load, manage_token, manage_url};
use super::ics;
use crate::db::Work;
use crate::error::Result;
use crate::jobs::{Attachment, Email, NewJobs};
use crate::state::Core;
use uuid::Uuid;

/// The job kind of a booking's reminder.
pub const REMINDER_JOB: &str = "booking.reminder";
/// The job kind of writing a booking into (or out of) the host's CalDAV calendar.
pub const CALENDAR_JOB: &str = "calendar.booking";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Booked,
    Moved,
    Cancelled,
}

/// A reminder due: of which booking, for which start (a moved booking's old reminders find
/// the start changed and send nothing), how long before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reminder {
    pub booking_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub minutes: i32,
}

/// Which booking to write into its host's calendar as it stands now (or to remove).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalendarCopy {
    pub booking_id: Uuid,
}

/// What the visitor's email says about where and what.
fn details(loaded: &Loaded, manage: Option<&str>) -> String {
    let v = &loaded.view;
    format!(
        "{} with {}\nStarts: {} ({})\nEnds: {}\n\n{}\n",
        v.call_type_name,
        v.host_name,
        v.start,
        v.time_zone,
        v.end,
        description(loaded, manage)
    )
}

fn host_details(loaded: &Loaded) -> String {
    let v = &loaded.view;
    let phone = if v.phone.is_empty() {
        String::new()
    } else {
        format!("Phone: {}\n", v.phone)
    };
    format!(
        "Visitor: {} {} <{}>\n{phone}",
        v.first_name, v.last_name, v.email
    )
}

/// Emails the visitor and the host (with the invite), the webhook subscribers, queues the
/// reminders, and the copy in the host's calendar.
pub(super) async fn tell(work: &mut Work, core: &Core, id: Uuid, change: Change) -> Result<()> {
    let loaded = load(&mut **work, id).await?;
    let v = &loaded.view;
    let manage = manage_token(core, &loaded).map(|t| manage_url(core, &t));
    let visitor_invite = ics::invite(&invite_of(&loaded, manage.as_deref()));
    let host_invite = ics::invite(&invite_of(&loaded, None));
    let method = if change == Change::Cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    };
    let attachment = |content: String| Attachment {
        filename: "invite.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={method}"),
        content,
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
    let invite_line = if change == Change::Cancelled {
        "The attached update removes it from your calendar."
    } else {
        "The attached invite adds it to your calendar."
    };
    let emails = [
        Email {
            to: v.email.clone(),
            subject: visitor_subject.clone(),
            text: format!(
                "{visitor_subject}\n\n{}\n{invite_line}\n",
                details(&loaded, manage.as_deref())
            ),
            purpose: format!("{event}.visitor"),
            unsubscribe_url: None,
            html: None,
            attachment: Some(attachment(visitor_invite)),
        },
        Email {
            to: loaded.host_email.clone(),
            subject: host_subject,
            text: format!(
                "{visitor_subject}\n\n{}\n{}",
                details(&loaded, None),
                host_details(&loaded)
            ),
            purpose: format!("{event}.host"),
            unsubscribe_url: None,
            html: None,
            attachment: Some(attachment(host_invite)),
        },
    ];
    core.jobs.emails(work, &emails).await?;
    let mut data = serde_json::to_value(v).map_err(anyhow::Error::from)?;
    if let Some(object) = data.as_object_mut() {
        object.insert("host_id".into(), loaded.host_id.to_string().into());
        if change == Change::Cancelled {
            object.insert(
                "cancelled_by".into(),
                loaded.cancelled_by.clone().unwrap_or_default().into(),
            );
            object.insert("cancel_reason".into(), loaded.cancel_reason.clone().into());
        }
    }
    crate::webhooks::publish(work, &core.jobs, event, &data).await?;
    let mut jobs = NewJobs::default();
    if change != Change::Cancelled {
        queue_reminders(&mut jobs, &loaded)?;
    }
    if writes_to_calendar(work, &loaded).await? {
        jobs.job(CALENDAR_JOB, &CalendarCopy { booking_id: id })?;
    }
    if !jobs.is_empty() {
        core.jobs.push(work, &jobs).await?;
    }
    Ok(())
}

/// A reminder job for each of the call type's offsets still ahead.
fn queue_reminders(jobs: &mut NewJobs, loaded: &Loaded) -> Result<()> {
    let now = Utc::now();
    for minutes in &loaded.reminder_minutes {
        let due = loaded.view.start_utc - chrono::Duration::minutes(i64::from(*minutes));
        let Ok(delay) = (due - now).to_std() else {
            continue;
        };
        jobs.job_after(
            REMINDER_JOB,
            &Reminder {
                booking_id: loaded.view.id,
                starts_at: loaded.view.start_utc,
                minutes: *minutes,
            },
            delay,
        )?;
    }
    Ok(())
}

/// Whether the booking has (or had) a copy in a CalDAV calendar to write.
async fn writes_to_calendar(work: &mut Work, loaded: &Loaded) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from host_calendars where host_id = $1 and active
                         and kind = 'caldav' and write_path is not null)
               or exists(select 1 from booking_calendar_events where booking_id = $2) as "writes!""#,
        loaded.host_id,
        loaded.view.id
    )
    .fetch_one(&mut **work)
    .await?)
}

/// Sends a due reminder to the visitor and the host, once: a booking cancelled or moved
/// since sends nothing, and the reminder's row (written with its emails) makes a retry or
/// another replica a no-op.
pub(super) async fn remind(core: &Core, reminder: &Reminder) -> Result<&'static str> {
    let mut work = core.begin().await?;
    // A cancel or a move waits for this reminder to commit (or the reminder for it), so a
    // reminder never goes out for a call cancelled or moved meanwhile.
    sqlx::query!(
        "select id from bookings where id = $1 for share",
        reminder.booking_id
    )
    .fetch_optional(&mut *work)
    .await?;
    let loaded = match load(&mut *work, reminder.booking_id).await {
        Ok(loaded) => loaded,
        Err(crate::error::AppError::NotFound(_)) => return Ok("skipped"),
        Err(err) => return Err(err),
    };
    let v = &loaded.view;
    // Late (the outbox was down): a reminder after the call has started helps nobody.
    if v.status != "confirmed" || v.start_utc != reminder.starts_at || Utc::now() >= v.start_utc {
        return Ok("skipped");
    }
    let first = sqlx::query!(
        r#"insert into booking_reminders (booking_id, starts_at, minutes) values ($1, $2, $3)
           on conflict do nothing"#,
        reminder.booking_id,
        reminder.starts_at,
        reminder.minutes
    )
    .execute(&mut *work)
    .await?
    .rows_affected()
        == 1;
    if !first {
        return Ok("skipped");
    }
    let manage = manage_token(core, &loaded).map(|t| manage_url(core, &t));
    let when = v.start.replace('T', " ");
    let subject = format!(
        "Reminder: your {} with {} at {when}",
        v.call_type_name, v.host_name
    );
    let host_subject = format!(
        "Reminder: {} with {} {} at {}",
        v.call_type_name,
        v.first_name,
        v.last_name,
        v.start_utc.format("%Y-%m-%d %H:%M UTC")
    );
    let emails = [
        Email {
            to: v.email.clone(),
            subject: subject.clone(),
            text: format!("{subject}\n\n{}", details(&loaded, manage.as_deref())),
            purpose: "booking.reminder.visitor".into(),
            unsubscribe_url: None,
            html: None,
            attachment: None,
        },
        Email {
            to: loaded.host_email.clone(),
            subject: host_subject.clone(),
            text: format!(
                "{host_subject}\n\n{}\n{}",
                details(&loaded, None),
                host_details(&loaded)
            ),
            purpose: "booking.reminder.host".into(),
            unsubscribe_url: None,
            html: None,
            attachment: None,
        },
    ];
    core.jobs.emails(&mut work, &emails).await?;
    work.commit().await?;
    Ok("sent")
}

/// Sends due reminders (the job runner's handler for [`REMINDER_JOB`]).
pub struct Reminders {
    core: Core,
}

impl Reminders {
    pub fn new(core: Core) -> Self {
        Self { core }
    }
}

impl crate::jobs::JobHandler for Reminders {
    fn deliver<'a>(&'a self, job: &'a crate::jobs::Claimed) -> crate::jobs::worker::Delivery<'a> {
        Box::pin(async move {
            let reminder: Reminder = serde_json::from_value(job.payload.clone())?;
            Ok(remind(&self.core, &reminder).await?)
        })
    }
}
