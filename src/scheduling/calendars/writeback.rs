//! Bookings written into the hosts' CalDAV calendars, as the job runner's handler for
//! `calendar.booking`. A job says only which booking: it makes the calendars agree with the
//! booking as it stands when the job runs (a confirmed booking is PUT into its host's
//! calendar under its own resource name; a copy anywhere else, or of a cancelled or erased
//! booking, is deleted), so retries, reordering and moves between hosts all come out right.

use url::Url;
use uuid::Uuid;

use sqlx::PgConnection;

use super::sync::{Calendars, Connection};
use crate::error::Result;
use crate::jobs::Claimed;
use crate::scheduling::agenda::{invite_of, load};
use crate::scheduling::ics;
use crate::scheduling::notify::CalendarCopy;
use crate::state::Core;

/// The writer (the job runner's handler for [`crate::scheduling::CALENDAR_JOB`]).
pub struct CalendarWriter {
    core: Core,
    calendars: Calendars,
}

impl CalendarWriter {
    pub fn new(core: Core, calendars: Calendars) -> Self {
        Self { core, calendars }
    }
}

impl crate::jobs::JobHandler for CalendarWriter {
    fn deliver<'a>(&'a self, job: &'a Claimed) -> crate::jobs::worker::Delivery<'a> {
        Box::pin(async move {
            let CalendarCopy { booking_id } = serde_json::from_value(job.payload.clone())?;
            reconcile(&self.core, &self.calendars, booking_id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
    }
}

/// Where a booking should be: the host's first active CalDAV calendar that takes bookings.
async fn target(conn: &mut PgConnection, host: Uuid) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"select id from host_calendars where host_id = $1 and active and kind = 'caldav'
           and write_path is not null order by created_at, id limit 1"#,
        host
    )
    .fetch_optional(conn)
    .await?)
}

#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    App(#[from] crate::error::AppError),
    #[error("{0}")]
    Remote(String),
}

/// [`write`] for one booking at a time: two jobs of one booking (or a job and a sweep)
/// would otherwise interleave, and an older view could undo a newer write. The lock is a
/// transaction's, so it holds through a transaction-mode pooler too, and goes with a
/// worker that dies.
async fn reconcile(
    core: &Core,
    calendars: &Calendars,
    booking: Uuid,
) -> std::result::Result<&'static str, WriteError> {
    let mut lock = core
        .db
        .begin()
        .await
        .map_err(crate::error::AppError::from)?;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended($1, 0))",
        format!("calendar-copy:{booking}")
    )
    .execute(&mut *lock)
    .await
    .map_err(crate::error::AppError::from)?;
    // Every statement of the work goes through the locked connection: one connection per
    // worker, whatever the pool's size.
    let done = write(&mut lock, calendars, booking).await;
    lock.commit().await.map_err(crate::error::AppError::from)?;
    done
}

/// Credentials go only to the calendar's own server: a copy written before its URL changed
/// to another server is forgotten here instead (it cannot be reached as this account).
fn same_server(connection: &Connection, href: &Url) -> bool {
    href.origin() == connection.url.origin()
}

/// Makes the calendars agree with the booking as it stands now.
async fn write(
    conn: &mut PgConnection,
    calendars: &Calendars,
    booking: Uuid,
) -> std::result::Result<&'static str, WriteError> {
    let loaded = match load(&mut *conn, booking).await {
        Ok(loaded) => Some(loaded),
        Err(crate::error::AppError::NotFound(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let wanted = match &loaded {
        Some(l) if l.view.status == "confirmed" => target(conn, l.host_id).await?,
        _ => None,
    };
    let copies = sqlx::query!(
        "select calendar_id, href from booking_calendar_events where booking_id = $1",
        booking
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(crate::error::AppError::from)?;
    // Copies where the booking no longer belongs.
    for copy in copies.iter().filter(|c| Some(c.calendar_id) != wanted) {
        remove_copy(conn, calendars, booking, copy.calendar_id, &copy.href).await?;
    }
    let (Some(calendar), Some(loaded)) = (wanted, loaded) else {
        return Ok(if copies.is_empty() { "skipped" } else { "http" });
    };
    let Some(Ok(connection)) = calendars.open(&mut *conn, calendar).await? else {
        return Err(WriteError::Remote(
            "the host's calendar credentials could not be opened".into(),
        ));
    };
    let Some(collection) = &connection.write else {
        return Ok("skipped");
    };
    let href = copies
        .iter()
        .find(|c| c.calendar_id == calendar)
        .and_then(|c| Url::parse(&c.href).ok())
        .filter(|href| same_server(&connection, href))
        .map_or_else(|| collection.join(&format!("{booking}.ics")), Ok)
        .map_err(|_| {
            WriteError::Remote("the calendar's address cannot take a resource name".into())
        })?;
    let body = ics::resource(&invite_of(&loaded, None));
    let etag = super::remote::put(calendars.http(), &connection.account, &href, &body)
        .await
        .map_err(|e| WriteError::Remote(e.to_string()))?;
    sqlx::query!(
        r#"insert into booking_calendar_events (booking_id, calendar_id, href, etag)
           values ($1, $2, $3, $4)
           on conflict (booking_id, calendar_id) do update set href = excluded.href,
               etag = excluded.etag, written_at = now()"#,
        booking,
        calendar,
        href.as_str(),
        etag
    )
    .execute(&mut *conn)
    .await
    .map_err(crate::error::AppError::from)?;
    Ok("http")
}

async fn remove_copy(
    conn: &mut PgConnection,
    calendars: &Calendars,
    booking: Uuid,
    calendar: Uuid,
    href: &str,
) -> std::result::Result<(), WriteError> {
    // A calendar disconnected meanwhile took its copies' rows with it; one that cannot be
    // opened cannot be written: the copy stays there, and its row here.
    let Some(opened) = calendars.open(&mut *conn, calendar).await? else {
        return Ok(());
    };
    let connection = opened.map_err(WriteError::Remote)?;
    let url = Url::parse(href)
        .map_err(|_| WriteError::Remote("a stored copy's address is not a URL".into()))?;
    if same_server(&connection, &url) {
        super::remote::delete(calendars.http(), &connection.account, &url)
            .await
            .map_err(|e| WriteError::Remote(e.to_string()))?;
    }
    sqlx::query!(
        "delete from booking_calendar_events where booking_id = $1 and calendar_id = $2",
        booking,
        calendar
    )
    .execute(&mut *conn)
    .await
    .map_err(crate::error::AppError::from)?;
    Ok(())
}

/// Removes the copies of bookings erased since they were written (an erasure deletes the
/// booking row, not the copy), from every calendar, active or not; what fails is tried at
/// the refresher's next turn.
pub(super) async fn sweep(core: &Core, calendars: &Calendars) -> Result<()> {
    let orphans = sqlx::query_scalar!(
        r#"select distinct e.booking_id from booking_calendar_events e
           where not exists (select 1 from bookings b where b.id = e.booking_id) limit 100"#
    )
    .fetch_all(&core.db)
    .await?;
    for booking in orphans {
        if let Err(err) = reconcile(core, calendars, booking).await {
            tracing::info!(error = %err, "removing an erased booking's calendar copy failed; will retry");
        }
    }
    Ok(())
}
