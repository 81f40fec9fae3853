//! The job runner's admin view: outbox jobs (owners retry what was parked) and the emails
//! sent or kept (sales read them).

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::JobQuery;
use super::service;
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Path, Query};
use crate::jobs::JobView;
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
        .routes(routes!(list_emails))
        .routes(routes!(get_email))
}

/// Outbox jobs (emails and webhooks), newest first; `?status=parked` shows those that gave up.
#[utoipa::path(get, path = "/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    params(JobQuery, PageParams),
    responses((status = 200, body = Page<JobView>), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_jobs(
    _auth: Authorized<perm::OutboxManage>,
    State(core): State<Core>,
    Query(query): Query<JobQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<JobView>>> {
    Ok(Json(
        service::list_jobs(&core, &query.validate()?, &page).await?,
    ))
}

/// Puts a parked job back in line with a fresh set of attempts.
#[utoipa::path(post, path = "/v1/admin/outbox/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202, description = "Queued again"), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "The job is done or running", body = Problem)))]
async fn retry_job(
    Authorized(principal, _): Authorized<perm::OutboxManage>,
    State(core): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::retry_job(&core, (&principal).into(), id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailQuery {
    /// Only mail to this address.
    to: Option<String>,
}

/// Every email the service sent or kept (without SMTP_URL, this is where mail goes).
#[utoipa::path(get, path = "/v1/admin/emails", tag = "admin", security(("bearer" = [])),
    params(EmailQuery, PageParams),
    responses((status = 200, body = Page<JobView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_emails(
    _auth: Authorized<perm::LeadsRead>,
    State(core): State<Core>,
    Query(query): Query<EmailQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<JobView>>> {
    let to = query.to.map(|t| t.trim().to_lowercase());
    Ok(Json(
        service::list_emails(&core, to.as_deref(), &page).await?,
    ))
}

/// One email.
#[utoipa::path(get, path = "/v1/admin/emails/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = JobView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_email(
    _auth: Authorized<perm::LeadsRead>,
    State(core): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<JobView>> {
    Ok(Json(service::email(&core, id).await?))
}
