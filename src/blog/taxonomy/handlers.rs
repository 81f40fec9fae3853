use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::{
    Author, AuthorInput, PublicAuthor, PublicSeries, PublicTag, Series, SeriesInput, Tag, TagInput,
};
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
        .routes(routes!(public_tags))
        .routes(routes!(public_tag))
        .routes(routes!(public_authors))
        .routes(routes!(public_author))
        .routes(routes!(public_series))
        .routes(routes!(list_authors, create_author))
        .routes(routes!(get_author, replace_author, delete_author))
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(get_tag, replace_tag, delete_tag))
        .routes(routes!(list_series, create_series))
        .routes(routes!(get_series, replace_series, delete_series))
}

// Public reads.

/// Every tag, with its number of published posts.
#[utoipa::path(get, path = "/v1/tags", tag = "blog",
    responses((status = 200, body = Page<PublicTag>), (status = 304, description = "Not modified")))]
async fn public_tags(State(state): State<Core>, headers: Preconditions) -> Result<Response> {
    state
        .cache
        .public_json("tags", &headers, || async {
            Ok(Page::all(service::public_tags(state.reads()).await?))
        })
        .await
}

/// One tag; its posts are at GET /v1/posts?tag={slug}.
#[utoipa::path(get, path = "/v1/tags/{slug}", tag = "blog",
    params(("slug" = String, Path)),
    responses((status = 200, body = PublicTag), (status = 304, description = "Not modified"),
              (status = 404, body = Problem)))]
async fn public_tag(
    State(state): State<Core>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    state
        .cache
        .public_json_optional(&format!("tag:{slug}"), &headers, || {
            service::public_tag(state.reads(), &slug)
        })
        .await?
        .ok_or_else(|| AppError::not_found(format!("No tag has the slug `{slug}`.")))
}

/// Every author, with their number of published posts.
#[utoipa::path(get, path = "/v1/authors", tag = "blog",
    responses((status = 200, body = Page<PublicAuthor>), (status = 304, description = "Not modified")))]
async fn public_authors(State(state): State<Core>, headers: Preconditions) -> Result<Response> {
    state
        .cache
        .public_json("authors", &headers, || async {
            Ok(Page::all(service::public_authors(state.reads()).await?))
        })
        .await
}

/// One author; their posts are at GET /v1/posts?author={slug}.
#[utoipa::path(get, path = "/v1/authors/{slug}", tag = "blog",
    params(("slug" = String, Path)),
    responses((status = 200, body = PublicAuthor), (status = 304, description = "Not modified"),
              (status = 404, body = Problem)))]
async fn public_author(
    State(state): State<Core>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    state
        .cache
        .public_json_optional(&format!("author:{slug}"), &headers, || {
            service::public_author(state.reads(), &slug)
        })
        .await?
        .ok_or_else(|| AppError::not_found(format!("No author has the slug `{slug}`.")))
}

/// A series and its published parts, in order.
#[utoipa::path(get, path = "/v1/series/{slug}", tag = "blog",
    params(("slug" = String, Path)),
    responses((status = 200, body = PublicSeries), (status = 304, description = "Not modified"),
              (status = 404, body = Problem)))]
async fn public_series(
    State(state): State<Core>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    state
        .cache
        .public_json_optional(&format!("series:{slug}"), &headers, || {
            service::public_series(state.reads(), &slug)
        })
        .await?
        .ok_or_else(|| AppError::not_found(format!("No series has the slug `{slug}`.")))
}

// Admin: authors.

/// Every author.
#[utoipa::path(get, path = "/v1/admin/authors", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Page<Author>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_authors(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
) -> Result<Json<Page<Author>>> {
    Ok(Json(Page::all(service::list_authors(&state.db).await?)))
}

/// Adds an author.
#[utoipa::path(post, path = "/v1/admin/authors", tag = "admin", security(("bearer" = [])),
    request_body = AuthorInput,
    responses((status = 201, body = Author), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_author(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Json(input): Json<AuthorInput>,
) -> Result<(StatusCode, Json<Author>)> {
    let author = service::save_author(&state, (&principal).into(), None, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(author)))
}

/// One author.
#[utoipa::path(get, path = "/v1/admin/authors/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Author), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_author(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Author>> {
    Ok(Json(service::get_author(&state.db, id).await?))
}

/// Replaces an author.
#[utoipa::path(put, path = "/v1/admin/authors/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = AuthorInput,
    responses((status = 200, body = Author), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_author(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<AuthorInput>,
) -> Result<Json<Author>> {
    let term = input.validate()?;
    service::get_author(&state.db, id).await?;
    let author = service::save_author(&state, (&principal).into(), Some(id), term).await?;
    Ok(Json(author))
}

/// Deletes an author who is on no post.
#[utoipa::path(delete, path = "/v1/admin/authors/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, description = "The author is on posts", body = Problem)))]
async fn delete_author(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::delete_author(&state, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Admin: tags.

/// Every tag.
#[utoipa::path(get, path = "/v1/admin/tags", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Page<Tag>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_tags(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
) -> Result<Json<Page<Tag>>> {
    Ok(Json(Page::all(service::list_tags(&state.db).await?)))
}

/// Adds a tag.
#[utoipa::path(post, path = "/v1/admin/tags", tag = "admin", security(("bearer" = [])),
    request_body = TagInput,
    responses((status = 201, body = Tag), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_tag(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Json(input): Json<TagInput>,
) -> Result<(StatusCode, Json<Tag>)> {
    let tag = service::save_tag(&state, (&principal).into(), None, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(tag)))
}

/// One tag.
#[utoipa::path(get, path = "/v1/admin/tags/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Tag), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_tag(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Tag>> {
    Ok(Json(service::get_tag(&state.db, id).await?))
}

/// Replaces a tag.
#[utoipa::path(put, path = "/v1/admin/tags/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = TagInput,
    responses((status = 200, body = Tag), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_tag(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<TagInput>,
) -> Result<Json<Tag>> {
    let term = input.validate()?;
    service::get_tag(&state.db, id).await?;
    let tag = service::save_tag(&state, (&principal).into(), Some(id), term).await?;
    Ok(Json(tag))
}

/// Deletes a tag (posts lose it).
#[utoipa::path(delete, path = "/v1/admin/tags/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn delete_tag(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::delete_tag(&state, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Admin: series.

/// Every series.
#[utoipa::path(get, path = "/v1/admin/series", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Page<Series>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_series(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
) -> Result<Json<Page<Series>>> {
    Ok(Json(Page::all(service::list_series(&state.db).await?)))
}

/// Adds a series.
#[utoipa::path(post, path = "/v1/admin/series", tag = "admin", security(("bearer" = [])),
    request_body = SeriesInput,
    responses((status = 201, body = Series), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_series(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Json(input): Json<SeriesInput>,
) -> Result<(StatusCode, Json<Series>)> {
    let series = service::save_series(&state, (&principal).into(), None, input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(series)))
}

/// One series.
#[utoipa::path(get, path = "/v1/admin/series/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Series), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn get_series(
    _auth: Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<Json<Series>> {
    Ok(Json(service::get_series(&state.db, id).await?))
}

/// Replaces a series.
#[utoipa::path(put, path = "/v1/admin/series/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SeriesInput,
    responses((status = 200, body = Series), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_series(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
    Json(input): Json<SeriesInput>,
) -> Result<Json<Series>> {
    let term = input.validate()?;
    service::get_series(&state.db, id).await?;
    let series = service::save_series(&state, (&principal).into(), Some(id), term).await?;
    Ok(Json(series))
}

/// Deletes a series (its posts stay, outside any series).
#[utoipa::path(delete, path = "/v1/admin/series/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
async fn delete_series(
    Authorized(principal, _): Authorized<perm::ContentWrite>,
    State(state): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    service::delete_series(&state, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
