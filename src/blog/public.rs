//! Public reading of the blog: post lists, one post with its share counts, related posts,
//! and counting a share.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::model::{NETWORKS, PostPage, PostSummary, PostView, SharesEntry, SharesView};
use super::reading::{self, Lookup, PostFilter};
use crate::cache::{Cached, public_json, public_json_optional};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::{PUBLIC_CACHE_CONTROL, Preconditions, not_modified};
use crate::http::extract::{Json, Path, Query};
use crate::http::middleware::ClientIp;
use crate::pagination::{Page, PageParams};
use crate::rate_limit::Guard;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_posts))
        .routes(routes!(get_post))
        .routes(routes!(related_posts))
        .routes(routes!(share_post))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only posts with this tag (slug).
    tag: Option<String>,
    /// Only posts by this author (slug).
    author: Option<String>,
    /// Only posts of this series (slug).
    series: Option<String>,
}

/// Published posts, newest first.
#[utoipa::path(get, path = "/v1/posts", tag = "blog",
    params(ListQuery, PageParams),
    responses((status = 200, body = Page<PostSummary>), (status = 304, description = "Not modified"),
              (status = 422, body = Problem)))]
async fn list_posts(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageParams>,
    headers: Preconditions,
) -> Result<Response> {
    // Validate before caching, so bad parameters are never cached.
    page.limit()?;
    let key = format!(
        "posts?tag={}&author={}&series={}&limit={}&cursor={}",
        query.tag.as_deref().unwrap_or_default(),
        query.author.as_deref().unwrap_or_default(),
        query.series.as_deref().unwrap_or_default(),
        page.limit.unwrap_or_default(),
        page.cursor.as_deref().unwrap_or_default(),
    );
    let filter = PostFilter {
        tag: query.tag,
        author: query.author,
        series: query.series,
    };
    public_json(&state, &key, &headers, || async {
        reading::list_posts(&state.db, &filter, &page).await
    })
    .await
}

async fn lookup(state: &AppState, slug: &str) -> Result<Cached> {
    state
        .cache
        .get_or_build(&format!("post:{slug}"), || async {
            Ok(match reading::find_post(&state.db, slug).await? {
                Lookup::Found { id, post } => Cached::Post(Arc::new(
                    PostPage::new(id, &post).map_err(anyhow::Error::from)?,
                )),
                Lookup::Redirect(to) => Cached::Redirect(to.into()),
                Lookup::Missing => Cached::Missing,
            })
        })
        .await
}

fn no_such_post(slug: &str) -> AppError {
    AppError::not_found(format!("No published post has the slug `{slug}`."))
}

/// Share counts of a post, a couple of seconds old at most (on the replica that counted a
/// share: current).
async fn shares_of(state: &AppState, post_id: Uuid) -> Result<Arc<SharesView>> {
    if let Some(entry) = state.share_counts.get(&post_id) {
        if !entry.should_refresh() {
            return Ok(entry.view.clone());
        }
    }
    let counts = match reading::share_counts(&state.db, post_id).await {
        Ok(counts) => counts,
        Err(err) => {
            // Let the next request try again rather than keep a stale entry marked busy.
            state.share_counts.invalidate(&post_id);
            return Err(err);
        }
    };
    let entry = Arc::new(SharesEntry::new(SharesView::new(counts)));
    state.share_counts.insert(post_id, entry.clone());
    Ok(entry.view.clone())
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
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    match lookup(&state, &slug).await? {
        Cached::Post(page) => {
            let shares = shares_of(&state, page.post_id).await?;
            Ok(post_response(&page, &shares, &headers))
        }
        Cached::Redirect(to) => Ok(moved_permanently(&format!("/v1/posts/{to}"), &to)),
        _ => Err(no_such_post(&slug)),
    }
}

fn post_response(
    page: &PostPage,
    shares: &SharesView,
    request_headers: &Preconditions,
) -> Response {
    let etag = page.etag(shares);
    let mut response = if not_modified(request_headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(page.with_shares(shares)));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelatedQuery {
    /// How many (1 to 20, default 4).
    limit: Option<i64>,
}

/// Posts related to this one: same series first, then shared tags, then similar text.
#[utoipa::path(get, path = "/v1/posts/{slug}/related", tag = "blog",
    params(("slug" = String, Path), RelatedQuery),
    responses((status = 200, body = Page<PostSummary>), (status = 304, description = "Not modified"),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn related_posts(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<RelatedQuery>,
    headers: Preconditions,
) -> Result<Response> {
    let limit = query.limit.unwrap_or(4);
    if !(1..=20).contains(&limit) {
        return Err(AppError::field(
            "limit",
            "out_of_range",
            "limit must be between 1 and 20",
        ));
    }
    let Cached::Post(page) = lookup(&state, &slug).await? else {
        return Err(no_such_post(&slug));
    };
    public_json_optional(
        &state,
        &format!("related:{slug}:{limit}"),
        &headers,
        || async {
            Ok(Some(Page::all(
                reading::related(&state.db, page.post_id, limit).await?,
            )))
        },
    )
    .await?
    .ok_or_else(|| no_such_post(&slug))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ShareRequest {
    /// x, linkedin, facebook, reddit, hacker_news, email or copy_link.
    #[schema(example = "linkedin")]
    network: String,
}

/// Counts one share of a published post. The counts are in the post (GET /v1/posts/{slug}).
#[utoipa::path(post, path = "/v1/posts/{slug}/shares", tag = "blog",
    params(("slug" = String, Path)),
    request_body = ShareRequest,
    responses((status = 204, description = "Counted"),
              (status = 404, body = Problem), (status = 422, body = Problem),
              (status = 429, description = "Too many shares from this address", body = Problem)))]
async fn share_post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Json(request): Json<ShareRequest>,
) -> Result<StatusCode> {
    let network = NETWORKS
        .iter()
        .find(|n| **n == request.network.trim())
        .ok_or_else(|| {
            AppError::field(
                "network",
                "invalid_choice",
                format!("network must be one of {}", NETWORKS.join(", ")),
            )
        })?;
    let post_id = match lookup(&state, &slug).await? {
        Cached::Post(page) => page.post_id,
        Cached::Redirect(to) => match lookup(&state, &to).await? {
            Cached::Post(page) => page.post_id,
            _ => return Err(no_such_post(&slug)),
        },
        _ => return Err(no_such_post(&slug)),
    };
    Guard::new("share", ip, state.config.content.share_limit)
        .hit(&state.db)
        .await?;
    let shard = rand::thread_rng().gen_range(0..state.config.content.share_counter_shards);
    super::shares::record(&state.db, post_id, network, shard).await?;
    // This replica shows the new count at once; others within the counts' short TTL.
    state.share_counts.invalidate(&post_id);
    Ok(StatusCode::NO_CONTENT)
}
