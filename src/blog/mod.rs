//! The blog: posts rendered at save (sanitized HTML, heading anchors, table of contents),
//! authors, tags, series, revisions, scheduled publishing, full-text search, share counts,
//! feeds and the sitemap. Public reads come from the content cache (see `crate::cache`).

pub mod feeds;
pub mod model;
pub mod posts;
mod public;
pub mod reading;
pub mod render;
pub mod scheduler;
pub mod search;
mod shares;
pub mod taxonomy;

pub use model::{PostPage, ShareCounts, SharesView};

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(public::router())
        .merge(posts::router())
        .merge(taxonomy::router())
        .merge(search::router())
        .merge(feeds::router())
}
