//! Publishes scheduled posts when their time comes. Every replica runs it; the update itself
//! makes sure each post is published once (see `posts::service::publish_due`).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::posts::service::publish_due;
use crate::cache::ContentCache;

pub async fn run(
    db: PgPool,
    cache: Arc<ContentCache>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match publish_due(&db).await {
            Ok(published) if !published.is_empty() => {
                cache.invalidate();
                tracing::info!(count = published.len(), slugs = ?published, "published scheduled posts");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "publishing scheduled posts failed; retrying"),
        }
    }
}
