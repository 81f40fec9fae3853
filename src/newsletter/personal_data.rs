//! A person's newsletter subscription, for export and erasure.

use sqlx::PgConnection;

use crate::error::Result;
use crate::personal_data::{Found, Removed, Subject};

pub async fn export(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Found>> {
    let rows = sqlx::query_scalar!(
        r#"select jsonb_build_object('email', email, 'status', status,
                  'consent_text_version', consent_text_version, 'created_at', created_at,
                  'confirmed_at', confirmed_at, 'unsubscribed_at', unsubscribed_at,
                  'topics', topics, 'suppressed', suppressed, 'suppressed_at', suppressed_at) as "record!"
           from newsletter_subscribers where email = $1"#,
        subject.email
    )
    .fetch_all(&mut *conn)
    .await?;
    let deliveries = sqlx::query_scalar!(
        r#"select jsonb_build_object('issue_id', issue_id, 'status', status, 'sent_at', sent_at,
                  'bounced', bounced) as "record!"
           from newsletter_deliveries where email = $1 order by id"#,
        subject.email
    )
    .fetch_all(conn)
    .await?;
    Ok(vec![
        Found {
            kind: "newsletter_subscriptions",
            records: rows,
        },
        Found {
            kind: "newsletter_deliveries",
            records: deliveries,
        },
    ])
}

pub async fn erase(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Removed>> {
    let deliveries = sqlx::query!(
        "delete from newsletter_deliveries where email = $1",
        subject.email
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let n = sqlx::query!(
        "delete from newsletter_subscribers where email = $1",
        subject.email
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(vec![
        ("newsletter_subscriptions", n),
        ("newsletter_deliveries", deliveries),
    ])
}
