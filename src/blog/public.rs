//! Public reading of the blog over HTTP: post lists, one post with its share counts,
//! related posts, and counting a share.

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::BlogState;
use super::model::{Kind, PublicPost};
use super::model::{
    ListQuery, PostPage, PostSummary, PostView, RelatedQuery, ShareCounts, ShareRequest, SharesView,
};
use super::reading::{self, CachedPost, Lookup, no_such_post};
use crate::error::{Problem, Result};
use crate::http::conditional::{PUBLIC_CACHE_CONTROL, Preconditions, not_modified};
use crate::http::extract::{Json, Path, Query};
use crate::http::middleware::ClientIp;
use crate::pagination::{Page, PageParams};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    BlogState: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_posts))
        .routes(routes!(get_post))
        .routes(routes!(related_posts))
        .routes(routes!(post_shares, share_post))
        .routes(routes!(list_pages))
        .routes(routes!(get_page))
}

/// Published posts, newest first.
#[utoipa::path(get, path = "/v1/posts", tag = "blog",
    params(ListQuery, PageParams),
    responses((status = 200, body = Page<PostSummary>), (status = 304, description = "Not modified"),
              (status = 422, body = Problem)))]
async fn list_posts(
    State(state): State<Core>,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageParams>,
    headers: Preconditions,
) -> Result<Response> {
    let (filter, key) = query.validate(&page)?;
    state
        .cache
        .public_json(&key, &headers, || async {
            reading::list_posts(state.reads(), Kind::Post, &filter, &page).await
        })
        .await
}

/// A published post: HTML, table of contents, authors, tags, series navigation and share
/// counts. An old slug answers 301 with the new address in Location.
#[utoipa::path(get, path = "/v1/posts/{slug}", tag = "blog",
    params(("slug" = String, Path, example = "why-rust-for-web-backends")),
    responses(
        (status = 200, body = PostView, headers(("etag" = String), ("cache-control" = String))),
        (status = 301, description = "The post moved to another slug; see Location"),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem)))]
async fn get_post(
    State(state): State<Core>,
    State(blog): State<BlogState>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    match reading::cached_post(&state, &slug).await?.as_deref() {
        Some(CachedPost::Page(page)) => {
            let shares = reading::shares_of(&state, &blog, page.post_id).await?;
            Ok(post_response(page, &shares, &headers))
        }
        Some(CachedPost::Redirect(to)) => Ok(moved_permanently(&format!("/v1/posts/{to}"), to)),
        None => Err(no_such_post(&slug)),
    }
}

/// Published pages (About, case studies, legal...), newest first.
#[utoipa::path(get, path = "/v1/pages", tag = "blog",
    params(PageParams),
    responses((status = 200, body = Page<PostSummary>), (status = 304, description = "Not modified"),
              (status = 422, body = Problem)))]
async fn list_pages(
    State(state): State<Core>,
    Query(page): Query<PageParams>,
    headers: Preconditions,
) -> Result<Response> {
    let (filter, key) = ListQuery::default().validate(&page)?;
    state
        .cache
        .public_json(&format!("pages:{key}"), &headers, || async {
            reading::list_posts(state.reads(), Kind::Page, &filter, &page).await
        })
        .await
}

/// A published page: HTML, table of contents, authors and tags. An old slug answers 301
/// with the new address in Location.
#[utoipa::path(get, path = "/v1/pages/{slug}", tag = "blog",
    params(("slug" = String, Path, example = "about")),
    responses(
        (status = 200, body = PublicPost, headers(("etag" = String), ("cache-control" = String))),
        (status = 301, description = "The page moved to another slug; see Location"),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem)))]
async fn get_page(
    State(state): State<Core>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    // A page is small and read rarely next to posts: cached as its JSON, a redirect as the
    // slug it moved to.
    let target = state
        .cache
        .get_or_build(&format!("page-slug:{slug}"), || async {
            Ok(
                match reading::find_post(state.reads(), &slug, Kind::Page).await? {
                    Lookup::Found { post, .. } => Some(PageTarget::Here(
                        crate::http::conditional::Cacheable::json(&*post)?,
                    )),
                    Lookup::Redirect(to) => Some(PageTarget::Moved(to)),
                    Lookup::Missing => None,
                },
            )
        })
        .await?;
    match target.as_deref() {
        Some(PageTarget::Here(body)) => Ok(body.respond(&headers)),
        Some(PageTarget::Moved(to)) => Ok(moved_permanently(&format!("/v1/pages/{to}"), to)),
        None => Err(crate::error::AppError::not_found(format!(
            "No published page has the slug `{slug}`."
        ))),
    }
}

enum PageTarget {
    Here(crate::http::conditional::Cacheable),
    Moved(String),
}

impl crate::cache::Weigh for PageTarget {
    fn weight(&self) -> usize {
        match self {
            Self::Here(body) => body.weight(),
            Self::Moved(slug) => slug.len() + 64,
        }
    }
}

fn post_response(
    page: &PostPage,
    shares: &SharesView,
    request_headers: &Preconditions,
) -> Response {
    let answer = page.answer(shares);
    let etag = std::str::from_utf8(&answer.etag).unwrap_or_default();
    let mut response = if not_modified(request_headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::new(crate::http::JoinedBody::new(answer.body)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_maybe_shared(answer.etag.clone()) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PUBLIC_CACHE_CONTROL),
    );
    response
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Moved {
    /// The post's current slug.
    slug: String,
}

fn moved_permanently(location: &str, slug: &str) -> Response {
    let mut response = (
        StatusCode::MOVED_PERMANENTLY,
        Json(Moved {
            slug: slug.to_owned(),
        }),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Posts related to this one: same series first, then shared tags, then similar text.
#[utoipa::path(get, path = "/v1/posts/{slug}/related", tag = "blog",
    params(("slug" = String, Path), RelatedQuery),
    responses((status = 200, body = Page<PostSummary>), (status = 304, description = "Not modified"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn related_posts(
    State(state): State<Core>,
    Path(slug): Path<String>,
    Query(query): Query<RelatedQuery>,
    headers: Preconditions,
) -> Result<Response> {
    let limit = query.limit()?;
    let post_id = reading::page_id(&state, &slug).await?;
    state
        .cache
        .public_json(&format!("related:{slug}:{limit}"), &headers, || async {
            Ok(Page::all(
                reading::related(state.reads(), post_id, limit).await?,
            ))
        })
        .await
}

/// A published post's share counts, a couple of seconds old at most (also in the post).
#[utoipa::path(get, path = "/v1/posts/{slug}/shares", tag = "blog",
    params(("slug" = String, Path)),
    responses((status = 200, body = ShareCounts), (status = 404, body = Problem)))]
async fn post_shares(
    State(state): State<Core>,
    State(blog): State<BlogState>,
    Path(slug): Path<String>,
) -> Result<Response> {
    let post_id = reading::page_id(&state, &slug).await?;
    let shares = reading::shares_of(&state, &blog, post_id).await?;
    let mut response = Json(shares.counts.clone()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=2"),
    );
    Ok(response)
}

/// Counts one share of a published post. The counts are in the post (GET /v1/posts/{slug})
/// and at GET /v1/posts/{slug}/shares.
#[utoipa::path(post, path = "/v1/posts/{slug}/shares", tag = "blog",
    params(("slug" = String, Path)),
    request_body = ShareRequest,
    responses((status = 204, description = "Counted"),
              (status = 404, body = Problem), (status = 422, body = Problem),
              (status = 429, description = "Too many shares from this address", body = Problem)))]
async fn share_post(
    State(state): State<Core>,
    State(blog): State<BlogState>,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Json(request): Json<ShareRequest>,
) -> Result<StatusCode> {
    let network = request.network()?;
    super::shares::share(&state, &blog, ip, &slug, network).await?;
    Ok(StatusCode::NO_CONTENT)
}
