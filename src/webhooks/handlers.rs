//! Webhook endpoints over HTTP: admin CRUD and the delivery log (owners).

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::WebhooksState;
use super::service::{self as webhooks, DeliveryLog, Endpoint, EndpointInput};
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Path};
use crate::pagination::Page;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    WebhooksState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, replace_webhook, delete_webhook))
        .routes(routes!(webhook_deliveries))
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
    State(state): State<Core>,
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
    State(state): State<Core>,
    State(hooks): State<WebhooksState>,
    Json(input): Json<EndpointInput>,
) -> Result<(StatusCode, Json<CreatedEndpoint>)> {
    let (endpoint, secret) = webhooks::create(
        &state.db,
        (&principal).into(),
        input.validate(hooks.config.allow_private)?,
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
    State(state): State<Core>,
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
    State(state): State<Core>,
    State(hooks): State<WebhooksState>,
    Path(id): Path<Uuid>,
    Json(input): Json<EndpointInput>,
) -> Result<Json<Endpoint>> {
    Ok(Json(
        webhooks::replace(
            &state.db,
            (&principal).into(),
            id,
            input.validate(hooks.config.allow_private)?,
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
    State(state): State<Core>,
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
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Page<DeliveryLog>>> {
    Ok(Json(Page::all(webhooks::deliveries(&state.db, id).await?)))
}
