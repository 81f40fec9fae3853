//! A person's bookings (and the per-address booking cap's counters), for export and erasure.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::personal_data::{Found, Removed, Subject};

/// The person's bookings, by the address they gave.
pub async fn ids(conn: &mut PgConnection, email: &str) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "select id from bookings where email = $1 order by id",
        email
    )
    .fetch_all(conn)
    .await?)
}

pub async fn export(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Found>> {
    let bookings = sqlx::query_scalar!(
        r#"select jsonb_build_object('id', b.id, 'call_type', c.slug, 'status', b.status,
                  'starts_at', b.starts_at, 'ends_at', b.ends_at, 'time_zone', b.time_zone,
                  'first_name', b.first_name, 'last_name', b.last_name, 'email', b.email,
                  'notes', b.notes, 'consent_text_version', b.consent_text_version,
                  'created_at', b.created_at, 'cancelled_at', b.cancelled_at,
                  'cancel_reason', b.cancel_reason, 'phone', b.phone,
                  'answers', b.answers) as "booking!"
           from bookings b join call_types c on c.id = b.call_type_id
           where b.id = any($1) order by b.id"#,
        &subject.booking_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let windows = crate::rate_limit::windows_of(&mut *conn, &cap_bucket(subject)).await?;
    Ok(vec![
        Found {
            kind: "bookings",
            records: bookings,
        },
        Found::of("booking_cap_windows", &windows)?,
    ])
}

pub async fn erase(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Removed>> {
    let bookings = sqlx::query!(
        "delete from bookings where id = any($1)",
        &subject.booking_ids
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let windows = crate::rate_limit::forget_bucket(&mut *conn, &cap_bucket(subject)).await?;
    Ok(vec![
        ("bookings", bookings),
        ("booking_cap_windows", windows),
    ])
}

/// The rate-limit bucket of BOOKINGS_PER_EMAIL_PER_DAY for the subject.
fn cap_bucket(subject: &Subject) -> String {
    super::booking::email_cap_bucket(&subject.email_hash)
}
