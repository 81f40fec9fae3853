//! The audit log over HTTP, for operators.

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::audit::{self, AuditEntry, AuditFilter};
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Query};
use crate::pagination::{Page, PageParams};
use crate::state::Core;
use axum::extract::{FromRef, State};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action, e.g. `service.update`.
    action: Option<String>,
    /// Only this admin or API token.
    actor_id: Option<Uuid>,
}

/// The audit log, newest first.
#[utoipa::path(
    get, path = "/v1/admin/audit", tag = "admin",
    params(AuditQuery, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditEntry>),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `audit:read`", body = Problem),
        (status = 422, description = "Bad parameter", body = Problem),
    )
)]
async fn list_audit(
    _auth: Authorized<perm::AuditRead>,
    State(state): State<Core>,
    Query(query): Query<AuditQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<AuditEntry>>> {
    let filter = AuditFilter {
        action: query.action,
        actor_id: query.actor_id,
    };
    Ok(Json(audit::list(&state.db, &filter, &page).await?))
}
