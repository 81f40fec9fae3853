use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::jobs::{self, JobView};
use super::webhooks::{self, DeliveryLog, Endpoint, EndpointInput};
use crate::audit::{self, AuditEvent};
use crate::auth::{Authorized, perm};
use crate::error::{AppError, Problem, Result};
use crate::http::extract::{Json, Path, Query};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
        .routes(routes!(list_emails))
        .routes(routes!(get_email))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, replace_webhook, delete_webhook))
        .routes(routes!(webhook_deliveries))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `pending`, `running`, `done` or `parked`.
    status: Option<String>,
    /// `email` or `webhook`.
    kind: Option<String>,
}

fn check_choice(field: &str, value: Option<&str>, choices: &[&str]) -> Result<()> {
    match value {
        Some(v) if !choices.contains(&v) => Err(AppError::field(
            field,
            "invalid_choice",
            format!("{field} must be one of {}", choices.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// Outbox jobs (emails and webhooks), newest first; `?status=parked` shows those that gave up.
#[utoipa::path(get, path = "/v1/admin/outbox", tag = "admin", security(("bearer" = [])),
    params(JobQuery, PageParams),
    responses((status = 200, body = Page<JobView>), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_jobs(
    _auth: Authorized<perm::OutboxManage>,
    State(state): State<AppState>,
    Query(query): Query<JobQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<JobView>>> {
    check_choice(
        "status",
        query.status.as_deref(),
        &["pending", "running", "done", "parked"],
    )?;
    check_choice("kind", query.kind.as_deref(), &["email", "webhook"])?;
    Ok(Json(
        jobs::list(
            &state.db,
            query.kind.as_deref(),
            query.status.as_deref(),
            None,
            &page,
        )
        .await?,
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
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    jobs::retry(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &principal,
        AuditEvent::new("outbox.retry", "outbox_job", id),
    )
    .await?;
    tx.commit().await?;
    crate::outbox::wake();
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
    State(state): State<AppState>,
    Query(query): Query<EmailQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<JobView>>> {
    let to = query.to.map(|t| t.trim().to_lowercase());
    Ok(Json(
        jobs::list(&state.db, Some("email"), None, to.as_deref(), &page).await?,
    ))
}

/// One email.
#[utoipa::path(get, path = "/v1/admin/emails/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = JobView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_email(
    _auth: Authorized<perm::LeadsRead>,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<JobView>> {
    Ok(Json(jobs::get(&state.db, id, Some("email")).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    endpoint: Endpoint,
    /// The signing secret, shown only now.
    secret: String,
}

/// Webhook endpoints.
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Page<Endpoint>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_webhooks(
    _auth: Authorized<perm::WebhooksManage>,
    State(state): State<AppState>,
) -> Result<Json<Page<Endpoint>>> {
    Ok(Json(Page::all(webhooks::list(&state.db).await?)))
}

/// Adds a webhook endpoint; the answer holds its signing secret, once.
#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "admin", security(("bearer" = [])),
    request_body = EndpointInput,
    responses((status = 201, body = CreatedEndpoint), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn create_webhook(
    Authorized(principal, _): Authorized<perm::WebhooksManage>,
    State(state): State<AppState>,
    Json(input): Json<EndpointInput>,
) -> Result<(StatusCode, Json<CreatedEndpoint>)> {
    let (endpoint, secret) = webhooks::create(
        &state.db,
        (&principal).into(),
        input.validate(state.config.outbox.webhook_allow_private)?,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint { endpoint, secret }),
    ))
}

/// One webhook endpoint.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_webhook(
    _auth: Authorized<perm::WebhooksManage>,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<Endpoint>> {
    Ok(Json(webhooks::get(&state.db, id).await?))
}

/// Replaces a webhook endpoint (its secret too, if one is given).
#[utoipa::path(put, path = "/v1/admin/webhooks/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = EndpointInput,
    responses((status = 200, body = Endpoint), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn replace_webhook(
    Authorized(principal, _): Authorized<perm::WebhooksManage>,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Json(input): Json<EndpointInput>,
) -> Result<Json<Endpoint>> {
    Ok(Json(
        webhooks::replace(
            &state.db,
            (&principal).into(),
            id,
            input.validate(state.config.outbox.webhook_allow_private)?,
        )
        .await?,
    ))
}

/// Deletes a webhook endpoint; its pending deliveries are dropped.
#[utoipa::path(delete, path = "/v1/admin/webhooks/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn delete_webhook(
    Authorized(principal, _): Authorized<perm::WebhooksManage>,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    webhooks::delete(&state.db, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The last 100 delivery attempts to an endpoint, newest first.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Page<DeliveryLog>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn webhook_deliveries(
    _auth: Authorized<perm::WebhooksManage>,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<Page<DeliveryLog>>> {
    Ok(Json(Page::all(webhooks::deliveries(&state.db, id).await?)))
}
