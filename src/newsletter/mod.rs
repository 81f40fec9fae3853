//! The newsletter: double opt-in signup that reveals nothing, confirmation by token,
//! unsubscribe by signed link and RFC 8058 one-click, readers' topics, the list for admins,
//! and sending posts to it (see `sending`).

mod config;
mod handlers;
mod model;
mod pages;
pub(crate) mod personal_data;
mod sending;
mod service;

use std::sync::Arc;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

pub use config::NewsletterConfig;
pub use sending::{DELIVERY_JOB, START_JOB, Sender, Starter};

use crate::rate_limit::Limit;
use crate::state::Core;

/// What the newsletter keeps besides the plumbing: the signup form's limit (FORM_RATE_LIMIT)
/// and its configuration.
#[derive(Clone)]
pub struct NewsletterState {
    pub form_limit: Limit,
    pub config: Arc<NewsletterConfig>,
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    NewsletterState: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(handlers::router())
        .merge(sending::router())
}
