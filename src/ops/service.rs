//! What operations ask of the plumbing: whether the database answers, and the job
//! runner's jobs (listing them, retrying a parked one with its audit entry).

use std::time::Duration;

use uuid::Uuid;

use super::model::JobFilter;
use crate::audit::{self, AuditActor, AuditEvent};
use crate::error::Result;
use crate::jobs::{JobView, queue};
use crate::pagination::{Page, PageParams};
use crate::state::Core;

/// Whether the database answers within `timeout`; the reason when it does not.
pub async fn database_answers(core: &Core, timeout: Duration) -> std::result::Result<(), String> {
    let ping = sqlx::query_scalar!("select 1 as one").fetch_one(&core.db);
    match tokio::time::timeout(timeout, ping).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("timed out".to_owned()),
    }
}

pub async fn list_jobs(
    core: &Core,
    filter: &JobFilter,
    page: &PageParams,
) -> Result<Page<JobView>> {
    queue::list(
        &core.db,
        filter.kind.as_deref(),
        filter.status.as_deref(),
        None,
        page,
    )
    .await
}

pub async fn list_emails(
    core: &Core,
    to: Option<&str>,
    page: &PageParams,
) -> Result<Page<JobView>> {
    queue::list(&core.db, Some("email"), None, to, page).await
}

pub async fn email(core: &Core, id: Uuid) -> Result<JobView> {
    queue::get(&core.db, id, Some("email")).await
}

/// Puts a parked job back in line, audited, in one unit of work (the workers wake when it
/// commits).
pub async fn retry_job(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut work = core.begin().await?;
    core.jobs.retry(&mut work, id).await?;
    audit::record(
        &mut work,
        actor,
        AuditEvent::new("outbox.retry", "outbox_job", id),
    )
    .await?;
    work.commit().await?;
    Ok(())
}
