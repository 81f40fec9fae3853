//! Search over HTTP, through the content cache.

use axum::extract::{FromRef, State};
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{SearchQuery, SearchResults, find};
use crate::cache::Tier;
use crate::error::{Problem, Result};
use crate::http::conditional::Preconditions;
use crate::http::extract::Query;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(search))
}

/// Searches published posts and services.
#[utoipa::path(get, path = "/v1/search", tag = "blog",
    params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 304, description = "Not modified"),
              (status = 422, description = "Missing or too long query", body = Problem)))]
async fn search(
    State(state): State<Core>,
    Query(query): Query<SearchQuery>,
    headers: Preconditions,
) -> Result<Response> {
    let (q, limit) = query.validate()?;
    state
        .cache
        .public_json_in(
            Tier::Queries,
            &format!("search:{limit}:{q}"),
            &headers,
            || async { find(&state, &q, limit).await },
        )
        .await
}
