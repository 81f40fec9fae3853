use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::{AdminUser, CreateAdminRequest, UpdateAdminRequest};
use super::service;
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
        .routes(routes!(list_admins, create_admin))
        .routes(routes!(get_admin_user, update_admin, delete_admin))
}

/// All admin users.
#[utoipa::path(
    get, path = "/v1/admin/users", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every admin user", body = Page<AdminUser>),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `users:manage` (owners)", body = Problem),
    )
)]
async fn list_admins(
    _auth: Authorized<perm::UsersManage>,
    State(state): State<Core>,
) -> Result<Json<Page<AdminUser>>> {
    Ok(Json(Page::all(service::list(&state.db).await?)))
}

/// Creates an admin user.
#[utoipa::path(
    post, path = "/v1/admin/users", tag = "admin",
    security(("bearer" = [])),
    request_body = CreateAdminRequest,
    responses(
        (status = 201, description = "Created", body = AdminUser),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `users:manage` (owners)", body = Problem),
        (status = 409, description = "The email is taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    )
)]
async fn create_admin(
    Authorized(principal, _): Authorized<perm::UsersManage>,
    State(state): State<Core>,
    Json(body): Json<CreateAdminRequest>,
) -> Result<(StatusCode, Json<AdminUser>)> {
    let user = service::create(&state.db, (&principal).into(), body.validate()?).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One admin user.
#[utoipa::path(
    get, path = "/v1/admin/users/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The admin's id")),
    responses(
        (status = 200, description = "The admin", body = AdminUser),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `users:manage` (owners)", body = Problem),
        (status = 404, description = "No such admin", body = Problem),
    )
)]
async fn get_admin_user(
    _auth: Authorized<perm::UsersManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<AdminUser>> {
    Ok(Json(service::get(&state.db, id).await?))
}

/// Changes an admin's name, role, active flag or password.
#[utoipa::path(
    patch, path = "/v1/admin/users/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The admin's id")),
    request_body = UpdateAdminRequest,
    responses(
        (status = 200, description = "Updated", body = AdminUser),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `users:manage` (owners)", body = Problem),
        (status = 404, description = "No such admin", body = Problem),
        (status = 409, description = "It would leave no active owner", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    )
)]
async fn update_admin(
    Authorized(principal, _): Authorized<perm::UsersManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateAdminRequest>,
) -> Result<Json<AdminUser>> {
    let changes = body.validate()?;
    Ok(Json(
        service::update(&state.db, (&principal).into(), id, changes).await?,
    ))
}

/// Deletes an admin user and their sessions.
#[utoipa::path(
    delete, path = "/v1/admin/users/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The admin's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = Problem),
        (status = 403, description = "Needs `users:manage` (owners)", body = Problem),
        (status = 404, description = "No such admin", body = Problem),
        (status = 409, description = "It is the last active owner", body = Problem),
    )
)]
async fn delete_admin(
    Authorized(principal, _): Authorized<perm::UsersManage>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::delete(&state.db, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
