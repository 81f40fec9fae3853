use axum::extract::{FromRef, State};
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::{SiteProfile, SiteProfileInput};
use super::service;
use crate::auth::{Authorized, perm};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::Json;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(get_site))
        .routes(routes!(put_site))
}

/// The firm's public profile and contact details.
#[utoipa::path(
    get, path = "/v1/site", tag = "site",
    responses(
        (status = 200, description = "The profile", body = SiteProfile,
         headers(("etag" = String), ("cache-control" = String))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 404, description = "Not set up yet", body = Problem),
    )
)]
async fn get_site(State(state): State<Core>, headers: Preconditions) -> Result<Response> {
    state
        .cache
        .public_json_optional("site", &headers, || service::get(state.reads()))
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "The site profile has not been set yet; an owner sets it with PUT /v1/admin/site.",
            )
        })
}

/// Replaces the site profile (owners).
#[utoipa::path(
    put, path = "/v1/admin/site", tag = "admin",
    security(("bearer" = [])),
    request_body = SiteProfileInput,
    responses(
        (status = 200, description = "Saved", body = SiteProfile),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `site:write` (owners)", body = Problem),
        (status = 422, description = "Invalid fields, each listed", body = Problem),
    )
)]
async fn put_site(
    Authorized(principal, _): Authorized<perm::SiteWrite>,
    State(state): State<Core>,
    Json(input): Json<SiteProfileInput>,
) -> Result<Json<SiteProfile>> {
    let profile = input.validate()?;
    let saved = service::put(&state, (&principal).into(), profile).await?;
    Ok(Json(saved))
}
