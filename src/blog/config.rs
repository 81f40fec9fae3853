//! The blog's configuration variables.

use std::time::Duration;

use crate::config::shard_count;
use crate::config::{ConfigError, Reader};
use crate::rate_limit::Limit;
use crate::var;

/// The blog.
#[derive(Debug, Clone)]
pub struct BlogConfig {
    pub scheduler_interval: Duration,
    pub share_counter_shards: i16,
    pub share_limit: Limit,
}

impl BlogConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Blog");
        Ok(Self {
            scheduler_interval: r.seconds(var!(
                "SCHEDULER_INTERVAL_SECS",
                "1",
                "how often each replica publishes scheduled posts that are due"
            ))?,
            share_counter_shards: r.parse(
                var!(
                    "SHARE_COUNTER_SHARDS",
                    "16",
                    "rows each post's share count per network is spread over, so bursts do not queue on one row"
                ),
                shard_count,
            )?,
            share_limit: r.limit(
                var!(
                    "SHARE_RATE_LIMIT",
                    "30",
                    "share clicks counted per client IP (an IPv6 /64) within SHARE_RATE_WINDOW_SECS; more answer 429; 0 turns the limit off"
                ),
                var!("SHARE_RATE_WINDOW_SECS", "600", "the window of SHARE_RATE_LIMIT"),
            )?,
        })
    }
}
