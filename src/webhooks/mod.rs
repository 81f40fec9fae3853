//! Webhooks: endpoints that owners subscribe to events (leads, the newsletter), each
//! delivery a signed POST through the job runner, retried and logged.

pub mod config;
pub mod delivery;
mod handlers;
pub mod service;

use std::sync::Arc;

pub use config::WebhooksConfig;
pub use delivery::Deliverer;
pub use handlers::router;
pub use service::{EVENTS, JOB_KIND, add_deliveries, publish};

/// What webhooks' handlers need besides the plumbing: their configuration.
#[derive(Clone)]
pub struct WebhooksState {
    pub config: Arc<WebhooksConfig>,
}
