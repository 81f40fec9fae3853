//! Feeds and the sitemap over HTTP, through the content cache.

use axum::extract::{FromRef, State};
use axum::http::HeaderValue;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Format, SitemapPart};
use crate::error::{AppError, Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::{Path, Query};
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(rss_feed))
        .routes(routes!(atom_feed))
        .routes(routes!(json_feed))
        .routes(routes!(sitemap))
        .routes(routes!(sitemap_page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only posts with this tag (slug).
    tag: Option<String>,
}

impl FeedQuery {
    fn tag(&self) -> Option<&str> {
        self.tag.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
}

async fn feed(
    state: &Core,
    query: &FeedQuery,
    headers: &Preconditions,
    format: Format,
) -> Result<Response> {
    let tag = query.tag();
    let key = format!("feed:{}:{}", format.name(), tag.unwrap_or_default());
    state
        .cache
        .public_body(
            &key,
            headers,
            HeaderValue::from_static(format.content_type()),
            || super::feed(state.reads(), tag, format),
        )
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "No tag has the slug `{}`.",
                tag.unwrap_or_default()
            ))
        })
}

/// RSS 2.0 feed of the latest posts.
#[utoipa::path(get, path = "/v1/feeds/rss", tag = "blog", params(FeedQuery),
    responses((status = 200, description = "RSS 2.0", content_type = "application/rss+xml"),
              (status = 304, description = "Not modified"), (status = 404, body = Problem)))]
async fn rss_feed(
    State(state): State<Core>,
    Query(query): Query<FeedQuery>,
    headers: Preconditions,
) -> Result<Response> {
    feed(&state, &query, &headers, Format::Rss).await
}

/// Atom feed of the latest posts.
#[utoipa::path(get, path = "/v1/feeds/atom", tag = "blog", params(FeedQuery),
    responses((status = 200, description = "Atom 1.0", content_type = "application/atom+xml"),
              (status = 304, description = "Not modified"), (status = 404, body = Problem)))]
async fn atom_feed(
    State(state): State<Core>,
    Query(query): Query<FeedQuery>,
    headers: Preconditions,
) -> Result<Response> {
    feed(&state, &query, &headers, Format::Atom).await
}

/// JSON Feed 1.1 of the latest posts.
#[utoipa::path(get, path = "/v1/feeds/json", tag = "blog", params(FeedQuery),
    responses((status = 200, description = "JSON Feed 1.1", content_type = "application/feed+json"),
              (status = 304, description = "Not modified"), (status = 404, body = Problem)))]
async fn json_feed(
    State(state): State<Core>,
    Query(query): Query<FeedQuery>,
    headers: Preconditions,
) -> Result<Response> {
    feed(&state, &query, &headers, Format::Json).await
}

/// The public pages of the site, for search engines; past 50,000 of them (the protocol's
/// limit), a sitemap index of `/sitemaps/{n}.xml`.
#[utoipa::path(get, path = "/sitemap.xml", tag = "blog",
    responses((status = 200, description = "sitemaps.org XML: a urlset, or a sitemapindex", content_type = "application/xml"),
              (status = 304, description = "Not modified"), (status = 404, body = Problem)))]
async fn sitemap(State(state): State<Core>, headers: Preconditions) -> Result<Response> {
    let sitemaps = super::sitemaps(&state).await?;
    let file = sitemaps
        .file(SitemapPart::Root)
        .ok_or_else(super::no_site)?;
    Ok(file.respond(&headers))
}

/// One sitemap of the index /sitemap.xml gives when the site has more than 50,000 pages.
#[utoipa::path(get, path = "/sitemaps/{file}", tag = "blog",
    params(("file" = String, Path, description = "`{n}.xml`, n from 1", example = "1.xml")),
    responses((status = 200, description = "sitemaps.org XML", content_type = "application/xml"),
              (status = 304, description = "Not modified"), (status = 404, body = Problem)))]
async fn sitemap_page(
    State(state): State<Core>,
    Path(file): Path<String>,
    headers: Preconditions,
) -> Result<Response> {
    let part = SitemapPart::parse_file(&file);
    let sitemaps = super::sitemaps(&state).await?;
    let file = part
        .and_then(|part| sitemaps.file(part))
        .ok_or_else(|| AppError::not_found(format!("There is no sitemap `{file}`.")))?;
    Ok(file.respond(&headers))
}
