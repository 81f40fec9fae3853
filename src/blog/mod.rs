//! The blog: posts rendered at save (sanitized HTML, heading anchors, table of contents),
//! authors, tags, series, revisions, scheduled publishing, full-text search, share counts,
//! feeds and the sitemap. Public reads come from the content cache (see `crate::cache`).

mod config;
mod feeds;
mod ghost;
mod mailing;
mod model;
mod posts;
mod public;
mod reading;
mod render;
mod scheduler;
mod search;
mod shares;
mod taxonomy;

use std::sync::Arc;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

pub use config::BlogConfig;
pub use ghost::content_router as ghost_content_router;
pub use ghost::{ImportReport, import_export as import_ghost};
pub use mailing::{MailedPost, mailed_post, mailed_post_by_id, publish_now, topics};
pub use model::{Kind, PostPage, ShareCounts, SharesView};
pub use posts::{PostInput, copy_published, create as create_post, publish_due};
pub use scheduler::run as run_scheduler;
pub use search::{
    Idea, MAX_QUERY_CHARS as MAX_SEARCH_CHARS, Relevant, SearchHit, SearchResults, correct_word,
    find as search, index_bytes as search_index_bytes, relevant,
};
pub use taxonomy::{
    AuthorInput, AuthorProfile, SeriesInput, TagDetails, TagInput, save_author, save_series,
    save_tag,
};

use crate::state::Core;

/// What the blog keeps besides the plumbing: its configuration and the share counts it
/// reads often (briefly cached, so a burst of reads does not count each time).
#[derive(Clone)]
pub struct BlogState {
    pub config: Arc<BlogConfig>,
    pub share_counts: moka::sync::Cache<Uuid, Arc<model::SharesEntry>>,
}

impl BlogState {
    pub fn new(config: BlogConfig) -> Self {
        Self {
            config: Arc::new(config),
            share_counts: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
        }
    }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    BlogState: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(public::router())
        .merge(posts::router())
        .merge(taxonomy::router())
        .merge(search::router())
        .merge(feeds::router())
        .merge(ghost::admin_router())
}
