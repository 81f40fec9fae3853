//! Counting shares. Each network's count of a post is spread over SHARE_COUNTER_SHARDS rows,
//! and each share adds one to a random shard: concurrent shares of one popular post rarely
//! wait for the same row lock. The count is the sum of the shards.

use std::net::IpAddr;

use crate::db::Db;
use rand::Rng;
use uuid::Uuid;

use super::BlogState;
use crate::error::Result;
use crate::rate_limit::Guard;
use crate::state::Core;

/// Counts one share of the published post at `slug` (following a redirect), within the
/// client's share limit. This replica shows the new count at once; others within the
/// counts' short TTL.
pub async fn share(
    core: &Core,
    blog: &BlogState,
    ip: Option<IpAddr>,
    slug: &str,
    network: &'static str,
) -> Result<()> {
    let post_id = super::reading::published_id(core, slug)
        .await?
        .ok_or_else(|| super::reading::no_such_post(slug))?;
    Guard::new("share", ip, blog.config.share_limit)
        .hit(&core.db)
        .await?;
    let shard = rand::thread_rng().gen_range(0..blog.config.share_counter_shards);
    record(&core.db, post_id, network, shard).await?;
    blog.share_counts.invalidate(&post_id);
    Ok(())
}

async fn record(db: &Db, post_id: Uuid, network: &str, shard: i16) -> Result<()> {
    sqlx::query!(
        r#"
        insert into post_share_counts (post_id, network, shard, count) values ($1, $2, $3, 1)
        on conflict (post_id, network, shard) do update set count = post_share_counts.count + 1
        "#,
        post_id,
        network,
        shard,
    )
    .execute(db)
    .await?;
    Ok(())
}
