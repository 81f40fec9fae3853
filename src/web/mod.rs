//! What frontdesk serves to browsers besides the API: the embeddable widget (`/widget.js`,
//! web/widget.js, embedded at build time) and the demo page (`/demo/`, web/demo/), the
//! firm's article page rebuilt from the public API. Static files, no tables.

mod config;
mod handlers;

use std::sync::Arc;

pub use config::WebConfig;
pub use handlers::router;

/// The web capability's state: its configuration and the files, with their ETags.
#[derive(Clone)]
pub struct WebState {
    pub config: Arc<WebConfig>,
    pub files: Arc<handlers::Files>,
}

impl WebState {
    pub fn new(config: WebConfig) -> Self {
        Self {
            config: Arc::new(config),
            files: Arc::new(handlers::Files::embedded()),
        }
    }
}
