use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use chrono::Utc;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::input::{PostInput, StatusQuery};
use super::service::{self, AdminPost, AdminPostSummary, Revision, RevisionSummary};
use crate::auth::{Authorized, perm};
use crate::blog::model::{Kind, PostView};
use crate::blog::reading;
use crate::error::{AppError, Problem, Result};
use crate::http::extract::{Json, Path, Query};
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(admin_list_posts, create_post))
        .routes(routes!(admin_list_pages, create_page))
        .routes(routes!(admin_get_post, replace_post, delete_post))
        .routes(routes!(preview_post))
        .routes(routes!(list_revisions))
        .routes(routes!(get_revision))
        .routes(routes!(restore_revision))
}

/// Every post, newest first, whatever its status.
#[utoipa::path(get, path = "/v1/admin/posts", tag = "admin", security(("bearer" = [])),
    params(StatusQuery, PageParams),
    responses((status = 200, body = Page<AdminPostSummary>), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn admin_list_posts(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Query(query): Query<StatusQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<AdminPostSummary>>> {
    Ok(Json(
        service::list(&state.db, Kind::Post, query.validate()?, &page).await?,
    ))
}

/// Every page (About, case studies, legal...), newest first, whatever its status. A page is
/// read, replaced, deleted, previewed and restored at /v1/admin/posts/{id}, like a post.
#[utoipa::path(get, path = "/v1/admin/pages", tag = "admin", security(("bearer" = [])),
    params(StatusQuery, PageParams),
    responses((status = 200, body = Page<AdminPostSummary>), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn admin_list_pages(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Query(query): Query<StatusQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<AdminPostSummary>>> {
    Ok(Json(
        service::list(&state.db, Kind::Page, query.validate()?, &page).await?,
    ))
}

/// Writes a page: the same fields as a post (no series), outside the feed and share counts;
/// listed at GET /v1/pages, in search and in the sitemap once published.
#[utoipa::path(post, path = "/v1/admin/pages", tag = "admin", security(("bearer" = [])),
    request_body = PostInput,
    responses((status = 201, body = AdminPost), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, description = "Slug taken", body = Problem),
              (status = 422, body = Problem)))]
async fn create_page(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Json(input): Json<PostInput>,
) -> Result<(StatusCode, Json<AdminPost>)> {
    let page = input.validate(Utc::now())?;
    let saved = service::create(&state, (&principal).into(), Kind::Page, page).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// Writes a post: rendered now, published now, later or never, depending on `status`.
#[utoipa::path(post, path = "/v1/admin/posts", tag = "admin", security(("bearer" = [])),
    request_body = PostInput,
    responses((status = 201, body = AdminPost), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, description = "Slug or series part taken", body = Problem),
              (status = 422, body = Problem)))]
async fn create_post(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Json(input): Json<PostInput>,
) -> Result<(StatusCode, Json<AdminPost>)> {
    let post = input.validate(Utc::now())?;
    let saved = service::create(&state, (&principal).into(), Kind::Post, post).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// One post, whatever its status.
#[utoipa::path(get, path = "/v1/admin/posts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AdminPost), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn admin_get_post(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<AdminPost>> {
    Ok(Json(service::get(&state.db, id).await?))
}

/// Replaces a post; the previous version is kept as a revision, an old slug as a redirect.
#[utoipa::path(put, path = "/v1/admin/posts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PostInput,
    responses((status = 200, body = AdminPost), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_post(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<PostInput>,
) -> Result<Json<AdminPost>> {
    let post = input.validate(Utc::now())?;
    let saved = service::replace(&state, (&principal).into(), id, post).await?;
    Ok(Json(saved))
}

/// Deletes a post, its revisions and share counts.
#[utoipa::path(delete, path = "/v1/admin/posts/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_post(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::delete(&state, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The post as visitors will see it, whatever its status (drafts included).
#[utoipa::path(get, path = "/v1/admin/posts/{id}/preview", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PostView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn preview_post(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<PostView>> {
    let post = reading::preview(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No post has id {id}.")))?;
    let shares = reading::share_counts(&state.db, id).await?;
    Ok(Json(PostView { post, shares }))
}

/// Earlier versions of a post, newest first.
#[utoipa::path(get, path = "/v1/admin/posts/{id}/revisions", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Page<RevisionSummary>), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_revisions(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Page<RevisionSummary>>> {
    Ok(Json(Page::all(service::revisions(&state.db, id).await?)))
}

/// One earlier version, in the shape PUT accepts.
#[utoipa::path(get, path = "/v1/admin/posts/{id}/revisions/{revision}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("revision" = i32, Path)),
    responses((status = 200, body = Revision), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_revision(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path((id, revision)): Path<(Uuid, i32)>,
) -> Result<Json<Revision>> {
    Ok(Json(service::revision(&state.db, id, revision).await?))
}

/// Brings back an earlier version's content (the current one becomes a revision); the
/// post keeps its status.
#[utoipa::path(post, path = "/v1/admin/posts/{id}/revisions/{revision}/restore", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("revision" = i32, Path)),
    responses((status = 200, body = AdminPost), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, description = "The revision names authors or tags that no longer exist", body = Problem)))]
async fn restore_revision(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path((id, revision)): Path<(Uuid, i32)>,
) -> Result<Json<AdminPost>> {
    let restored = service::restore(&state, (&principal).into(), id, revision).await?;
    Ok(Json(restored))
}
