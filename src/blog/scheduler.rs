//! Publishes scheduled posts when their time comes. Every replica runs it; the update itself
//! makes sure each post is published once (see `posts::service::publish_due`), and the
//! change reaches every replica's cache like any content write.

use std::time::Duration;

use tokio::time::MissedTickBehavior;

use super::posts::publish_due;
use crate::state::Core;

pub async fn run(core: Core, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = core.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match publish_due(&core).await {
            Ok(published) if !published.is_empty() => {
                tracing::info!(count = published.len(), slugs = ?published, "published scheduled posts");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "publishing scheduled posts failed; retrying"),
        }
    }
}
