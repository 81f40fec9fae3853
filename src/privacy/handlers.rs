use axum::extract::{FromRef, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::model::PersonRef;
use super::service::{self, Erased, PersonalData};
use crate::auth::{Authorized, perm};
use crate::error::{Problem, Result};
use crate::http::extract::{Json, Query};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(export_person))
        .routes(routes!(erase_person))
}

/// Everything held about an email address, as JSON (a subject access request).
#[utoipa::path(get, path = "/v1/admin/privacy/export", tag = "admin", security(("bearer" = [])),
    params(PersonRef),
    responses((status = 200, body = PersonalData), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn export_person(
    _auth: Authorized<perm::PrivacyManage>,
    State(state): State<Core>,
    Query(person): Query<PersonRef>,
) -> Result<Json<PersonalData>> {
    Ok(Json(service::export(&state.db, &person.validate()?).await?))
}

/// Erases an email address everywhere (leads, newsletter, emails, webhooks); only counts
/// remain.
#[utoipa::path(post, path = "/v1/admin/privacy/erase", tag = "admin", security(("bearer" = [])),
    request_body = PersonRef,
    responses((status = 200, body = Erased), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn erase_person(
    Authorized(principal, _): Authorized<perm::PrivacyManage>,
    State(state): State<Core>,
    Json(person): Json<PersonRef>,
) -> Result<Json<Erased>> {
    Ok(Json(
        service::erase(&state.db, (&principal).into(), &person.validate()?).await?,
    ))
}
