use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::AuthState;
use super::model::LoginRequest;
use super::principal::{Actor, Permission, Principal, Role};
use super::service;
use crate::error::{AppError, Problem, Result};
use crate::http::extract::Json;
use crate::http::middleware::ClientIp;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    AuthState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    token_type: &'static str,
    expires_at: DateTime<Utc>,
    admin: Me,
}

/// The caller: an admin (logged in) or an integration (API token).
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// `admin` or `api_token`.
    kind: &'static str,
    id: Uuid,
    /// Admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// The admin's display name, or the API token's name.
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    permissions: Vec<Permission>,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Self {
        let permissions = p.permissions();
        match &p.actor {
            Actor::Admin {
                id,
                email,
                display_name,
                role,
                ..
            } => Self {
                kind: "admin",
                id: *id,
                email: Some(email.clone()),
                name: display_name.clone(),
                role: Some(*role),
                permissions,
            },
            Actor::ApiToken { id, name, .. } => Self {
                kind: "api_token",
                id: *id,
                email: None,
                name: name.clone(),
                role: None,
                permissions,
            },
        }
    }
}

/// Logs an admin in and returns an opaque bearer token.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong email or password", body = Problem),
        (status = 422, description = "Missing fields", body = Problem),
        (status = 429, description = "Too many failed logins; see Retry-After", body = Problem),
    )
)]
async fn login(
    State(state): State<Core>,
    State(auth): State<AuthState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    let (email, password) = body.validate()?;
    let success = service::login(&state.db, &auth.config, &email, password, ip).await?;
    let principal = Principal {
        actor: success.actor,
        ip,
    };
    Ok(Json(LoginResponse {
        token: success.token,
        token_type: "Bearer",
        expires_at: success.expires_at,
        admin: Me::from(&principal),
    }))
}

/// Revokes the login token used for this request.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token no longer works"),
        (status = 400, description = "An API token cannot log out; revoke it instead", body = Problem),
        (status = 401, description = "No valid token", body = Problem),
    )
)]
async fn logout(State(state): State<Core>, principal: Principal) -> Result<StatusCode> {
    match principal.actor {
        Actor::Admin { session_id, .. } => {
            service::logout(&state.db, session_id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        Actor::ApiToken { .. } => Err(AppError::BadRequest(
            "API tokens do not log out; revoke one with DELETE /v1/admin/api-tokens/{id}.".into(),
        )),
    }
}

/// Who the token belongs to and what it may do.
#[utoipa::path(
    get, path = "/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No valid token", body = Problem),
    )
)]
async fn me(principal: Principal) -> Json<Me> {
    Json(Me::from(&principal))
}
