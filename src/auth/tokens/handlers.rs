use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::service::{self, ApiToken, NewApiToken};
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Path};
use crate::pagination::Page;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[schema(example = "CRM sync")]
    name: String,
    /// Permissions of the token, e.g. `["catalogue:write"]`.
    #[schema(example = json!(["catalogue:write"]))]
    scopes: Vec<String>,
    /// Days until the token stops working; never, when absent.
    expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    token: ApiToken,
    /// The secret, shown only now: send it as `Authorization: Bearer <secret>`.
    secret: String,
}

/// Every API token (secrets are never shown again).
#[utoipa::path(
    get, path = "/v1/admin/api-tokens", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tokens, newest first", body = Page<ApiToken>),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `tokens:manage` (owners)", body = Problem),
    )
)]
async fn list_tokens(
    _auth: Authorized<perm::TokensManage>,
    State(state): State<Core>,
) -> Result<Json<Page<ApiToken>>> {
    Ok(Json(Page::all(service::list(&state.db).await?)))
}

/// Creates an API token; the response holds its secret, once.
#[utoipa::path(
    post, path = "/v1/admin/api-tokens", tag = "admin",
    security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; keep the secret now", body = CreatedToken),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `tokens:manage` (owners)", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    )
)]
async fn create_token(
    Authorized(principal, _): Authorized<perm::TokensManage>,
    State(state): State<Core>,
    Json(body): Json<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>)> {
    let new = NewApiToken::validate(&body.name, &body.scopes, body.expires_in_days)?;
    let (token, secret) = service::create(&state.db, &principal, new).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revokes an API token at once.
#[utoipa::path(
    delete, path = "/v1/admin/api-tokens/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `tokens:manage` (owners)", body = Problem),
        (status = 404, description = "No such token", body = Problem),
    )
)]
async fn revoke_token(
    Authorized(principal, _): Authorized<perm::TokensManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::revoke(&state.db, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
