//! HTTP for Ghost compatibility: the Content API paths (Ghost's headers: CORS open to every
//! origin, `content-version`, `vary: Accept-Version`, `cache-control: public, max-age=0`,
//! ETags), the owner's Content API keys, and the owner's upload of a Ghost export.

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::keys::{self, ContentKey, ContentKeyInput, NewContentKey};
use super::{Answer, GHOST_VERSION, Request};
use super::{ImportReport, import_export};
use crate::auth::{Authorized, perm};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::{Json, Path};
use crate::state::Core;

/// Ghost's own paths; not in frontdesk's OpenAPI document (Ghost documents them).
pub fn content_router<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    axum::Router::new()
        .route("/ghost/api/content/{*rest}", any(content))
        .route("/ghost/api/{version}/content/{*rest}", any(legacy_content))
}

pub fn admin_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_ghost))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_EXPORT_BYTES)),
        )
}

/// The largest export the upload takes (a blog of thousands of posts); the command line
/// (`frontdesk import ghost FILE`) has no limit.
pub const MAX_EXPORT_BYTES: usize = 64 * 1024 * 1024;

async fn content(
    State(core): State<Core>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    preconditions: Preconditions,
) -> Result<Response> {
    respond(&core, &method, &uri, &headers, &preconditions, None).await
}

/// `/ghost/api/v2/content/...` (v3, v4, canary): answered like the current path, with
/// Ghost's deprecation notice.
async fn legacy_content(
    State(core): State<Core>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    preconditions: Preconditions,
) -> Result<Response> {
    let version = uri.path().split('/').nth(3).unwrap_or_default().to_owned();
    if !matches!(version.as_str(), "v2" | "v3" | "v4" | "canary") {
        return respond(&core, &method, &uri, &headers, &preconditions, Some("")).await;
    }
    let mut response = respond(
        &core,
        &method,
        &uri,
        &headers,
        &preconditions,
        Some(&version),
    )
    .await?;
    let deprecated = if version == "canary" { "v4" } else { &version };
    if let Ok(value) = HeaderValue::from_str(&format!("version=\"{deprecated}\"")) {
        response.headers_mut().insert("deprecation", value);
    }
    Ok(response)
}

async fn respond(
    core: &Core,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    preconditions: &Preconditions,
    legacy: Option<&str>,
) -> Result<Response> {
    let path = uri.path();
    let rest = path.split_once("/content/").map_or("", |(_, rest)| rest);
    let accept_version = headers.get("accept-version").and_then(|v| v.to_str().ok());
    let answer = if legacy == Some("") {
        // An unknown prefix (/ghost/api/v9/content/): no endpoint.
        super::content_api(
            core,
            Request {
                method: method.as_str(),
                rest: "unknown/",
                path,
                query: None,
                accept_version,
            },
        )
        .await?
    } else {
        super::content_api(
            core,
            Request {
                method: method.as_str(),
                rest,
                path,
                query: uri.query(),
                accept_version,
            },
        )
        .await?
    };
    let mut response = match answer {
        Answer::Json(body) => {
            let mut response = body.respond(preconditions);
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=0"),
            );
            response
        }
        Answer::Error { status, body } => {
            let mut response = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                axum::Json(body),
            )
                .into_response();
            // As Ghost words it (a 404 says max-age=0 where the others say private).
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(if status == 404 {
                    "no-cache, max-age=0, no-store, must-revalidate, max-stale=0, post-check=0, pre-check=0"
                } else {
                    "no-cache, private, no-store, must-revalidate, max-stale=0, post-check=0, pre-check=0"
                }),
            );
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Answer::Redirect(location) => {
            let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000"),
            );
            response
        }
        Answer::Preflight => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            let h = response.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
            );
            let asked = headers
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned()
                .unwrap_or_else(|| HeaderValue::from_static("accept-version"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            response
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(version) = HeaderValue::from_str(&format!("v{GHOST_VERSION}")) {
        h.insert("content-version", version);
    }
    h.append(header::VARY, HeaderValue::from_static("Accept-Version"));
    Ok(response)
}

/// The live Content API keys (their values are shown only when made).
#[utoipa::path(get, path = "/v1/admin/content-api-keys", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<ContentKey>), (status = 401, body = Problem),
              (status = 403, body = Problem)))]
async fn list_keys(
    _auth: Authorized<perm::SiteWrite>,
    State(core): State<Core>,
) -> Result<Json<Vec<ContentKey>>> {
    Ok(Json(keys::list(&core.db).await?))
}

/// Makes a Content API key for a Ghost front-end (`?key=` on /ghost/api/content/...). The
/// answer is the only time the key is shown.
#[utoipa::path(post, path = "/v1/admin/content-api-keys", tag = "admin", security(("bearer" = [])),
    request_body = ContentKeyInput,
    responses((status = 201, body = NewContentKey), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_key(
    Authorized(principal, _): Authorized<perm::SiteWrite>,
    State(core): State<Core>,
    Json(input): Json<ContentKeyInput>,
) -> Result<(StatusCode, Json<NewContentKey>)> {
    let name = input.validate()?;
    let key = keys::create(&core, (&principal).into(), name).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// Revokes a Content API key: requests with it answer 401 on every replica at once.
#[utoipa::path(delete, path = "/v1/admin/content-api-keys/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_key(
    Authorized(principal, _): Authorized<perm::SiteWrite>,
    State(core): State<Core>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    keys::revoke(&core, (&principal).into(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports a Ghost export (the JSON of Ghost's Labs → Export, versions 4 to 6, up to 64 MiB):
/// posts and pages, tags, authors, their order, states and dates, images, SEO fields, slugs
/// unchanged. Members-only and paid posts come in as drafts. Running it again changes
/// nothing; the report says what was imported, reused, drafted and skipped.
#[utoipa::path(post, path = "/v1/admin/import/ghost", tag = "admin", security(("bearer" = [])),
    request_body(content = Object, description = "A Ghost export file", content_type = "application/json"),
    responses((status = 200, body = ImportReport), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import_ghost(
    Authorized(principal, _): Authorized<perm::SiteWrite>,
    State(core): State<Core>,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>> {
    let export: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        AppError::Validation(vec![crate::error::FieldError::new(
            "body",
            "invalid_json",
            format!("the export is not JSON: {e}"),
        )])
    })?;
    Ok(Json(
        import_export(&core, (&principal).into(), &export).await?,
    ))
}
