//! Counting shares. Each network's count of a post is spread over SHARE_COUNTER_SHARDS rows,
//! and each share adds one to a random shard: concurrent shares of one popular post rarely
//! wait for the same row lock. The count is the sum of the shards.

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Result;

pub async fn record(db: &PgPool, post_id: Uuid, network: &str, shard: i16) -> Result<()> {
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
