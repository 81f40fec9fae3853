//! Webhooks: endpoints that owners subscribe to events (leads, the newsletter, bookings,
//! posts and the site's content), each
//! delivery a signed POST through the job runner, retried and logged.

mod config;
mod delivery;
mod handlers;
mod service;

use std::sync::Arc;

pub use config::WebhooksConfig;
pub use delivery::Deliverer;
pub use handlers::router;
pub use service::{EVENTS, JOB_KIND, add_deliveries, publish, purge_deliveries, site_changed};

/// What webhooks' handlers need besides the plumbing: their configuration.
#[derive(Clone)]
pub struct WebhooksState {
    pub config: Arc<WebhooksConfig>,
}
