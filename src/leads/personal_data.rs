//! The leads held about a person (with their events), for export and erasure.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::personal_data::{Found, Removed, Subject};

/// The person's leads, by the address they gave.
pub async fn ids(conn: &mut PgConnection, email: &str) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar!("select id from leads where email = $1 order by id", email)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn export(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Found>> {
    let leads = super::service::with_events(conn, subject.lead_ids.clone()).await?;
    Ok(vec![Found::of("leads", &leads)?])
}

/// Deletes the leads (their events go with them).
pub async fn erase(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Removed>> {
    let leads = sqlx::query!("delete from leads where id = any($1)", &subject.lead_ids)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(vec![("leads", leads)])
}
