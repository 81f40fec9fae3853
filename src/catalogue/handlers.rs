use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::{Offering, OfferingInput, PublicOffering};
use super::service;
use crate::auth::{Authorized, perm};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::{Json, Path};
use crate::pagination::Page;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_public))
        .routes(routes!(get_public))
        .routes(routes!(list_admin, create_offering))
        .routes(routes!(
            admin_get_service,
            replace_offering,
            delete_offering
        ))
}

/// Published services, in display order.
#[utoipa::path(
    get, path = "/v1/services", tag = "services",
    responses(
        (status = 200, description = "The published services", body = Page<PublicOffering>,
         headers(("etag" = String), ("cache-control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
    )
)]
async fn list_public(State(state): State<Core>, headers: Preconditions) -> Result<Response> {
    state
        .cache
        .public_json("services", &headers, || async {
            let offerings = service::list_published(state.reads()).await?;
            Ok(Page::all(
                offerings
                    .into_iter()
                    .map(PublicOffering::from)
                    .collect::<Vec<_>>(),
            ))
        })
        .await
}

/// One published service.
#[utoipa::path(
    get, path = "/v1/services/{slug}", tag = "services",
    params(("slug" = String, Path, description = "The service's slug", example = "web-development")),
    responses(
        (status = 200, description = "The service", body = PublicOffering,
         headers(("etag" = String), ("cache-control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 404, description = "No published service has this slug", body = Problem),
    )
)]
async fn get_public(
    State(state): State<Core>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    state
        .cache
        .public_json_optional(&format!("service:{slug}"), &headers, || async {
            Ok(service::find_published(state.reads(), &slug)
                .await?
                .map(PublicOffering::from))
        })
        .await?
        .ok_or_else(|| AppError::not_found(format!("No published service has the slug `{slug}`.")))
}

/// Every service, published or not.
#[utoipa::path(
    get, path = "/v1/admin/services", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All services", body = Page<Offering>),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `catalogue:write` (editors, owners)", body = Problem),
    )
)]
async fn list_admin(
    _auth: Authorized<perm::CatalogueWrite>,
    State(state): State<Core>,
) -> Result<Json<Page<Offering>>> {
    Ok(Json(Page::all(service::list_all(&state.db).await?)))
}

/// Adds a service.
#[utoipa::path(
    post, path = "/v1/admin/services", tag = "admin",
    security(("bearer" = [])),
    request_body = OfferingInput,
    responses(
        (status = 201, description = "Created", body = Offering),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `catalogue:write` (editors, owners)", body = Problem),
        (status = 409, description = "The slug is taken", body = Problem),
        (status = 422, description = "Invalid fields, each listed", body = Problem),
    )
)]
async fn create_offering(
    Authorized(principal, _): Authorized<perm::CatalogueWrite>,
    State(state): State<Core>,
    Json(input): Json<OfferingInput>,
) -> Result<(StatusCode, Json<Offering>)> {
    let offering = service::create(&state, (&principal).into(), input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(offering)))
}

/// One service, published or not.
#[utoipa::path(
    get, path = "/v1/admin/services/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The service's id")),
    responses(
        (status = 200, description = "The service", body = Offering),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `catalogue:write` (editors, owners)", body = Problem),
        (status = 404, description = "No such service", body = Problem),
    )
)]
async fn admin_get_service(
    _auth: Authorized<perm::CatalogueWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Offering>> {
    Ok(Json(service::get(&state.db, id).await?))
}

/// Replaces a service with the one sent.
#[utoipa::path(
    put, path = "/v1/admin/services/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The service's id")),
    request_body = OfferingInput,
    responses(
        (status = 200, description = "Saved", body = Offering),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `catalogue:write` (editors, owners)", body = Problem),
        (status = 404, description = "No such service", body = Problem),
        (status = 409, description = "The slug is taken", body = Problem),
        (status = 422, description = "Invalid fields, each listed", body = Problem),
    )
)]
async fn replace_offering(
    Authorized(principal, _): Authorized<perm::CatalogueWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<OfferingInput>,
) -> Result<Json<Offering>> {
    let offering = service::replace(&state, (&principal).into(), id, input.validate()?).await?;
    Ok(Json(offering))
}

/// Deletes a service.
#[utoipa::path(
    delete, path = "/v1/admin/services/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The service's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `catalogue:write` (editors, owners)", body = Problem),
        (status = 404, description = "No such service", body = Problem),
    )
)]
async fn delete_offering(
    Authorized(principal, _): Authorized<perm::CatalogueWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::delete(&state, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
