//! Content API keys: 26 hex characters (what `@tryghost/content-api` accepts), made and
//! revoked by an owner. Like Ghost's, they are public by design: a front-end ships its key
//! to browsers. They are stored as SHA-256 digests all the same, and the set of live digests
//! is kept in the content cache, so a request checks its key without a query; making or
//! revoking a key invalidates it on every replica.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditActor, AuditEvent};
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::state::Core;
use crate::validation::Validator;

/// A key as an owner sees it in lists (the key itself only once, when made).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentKey {
    pub id: Uuid,
    pub name: String,
    /// The key's last four characters.
    pub hint: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A new key: the only time its value is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewContentKey {
    #[serde(flatten)]
    pub key: ContentKey,
    /// Give it to the front-end: `new GhostContentAPI({url, key, version: 'v6.0'})`.
    #[schema(example = "1f2e3d4c5b6a79880796a5b4c3")]
    pub secret: String,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ContentKeyInput {
    /// What it is for: "Gatsby front-end".
    #[schema(example = "Gatsby front-end")]
    pub name: String,
}

impl ContentKeyInput {
    pub fn validate(self) -> Result<String> {
        let mut v = Validator::new();
        let name = v.required_text("name", &self.name, 100);
        v.finish()?;
        Ok(name)
    }
}

/// The digests of the live keys.
pub struct LiveKeys(HashSet<[u8; 32]>);

impl LiveKeys {
    /// Whether `key` is a live key (any string: a malformed one is simply unknown).
    pub fn knows(&self, key: &str) -> bool {
        self.0.contains(&digest(key))
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The live keys, through the content cache.
pub async fn live(core: &Core) -> Result<std::sync::Arc<LiveKeys>> {
    // Every Content API request asks: the current set without waiting on the slot's lock.
    if let Some(keys) = core.cache.large::<LiveKeys>("ghost:content-keys") {
        return Ok(keys);
    }
    core.cache
        .get_or_build_large("ghost:content-keys", || async {
            let rows = sqlx::query_scalar!(
                "select key_sha256 from content_api_keys where revoked_at is null"
            )
            .fetch_all(&core.db)
            .await?;
            Ok(LiveKeys(
                rows.into_iter()
                    .filter_map(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
                    .collect(),
            ))
        })
        .await
}

pub async fn create(core: &Core, actor: AuditActor<'_>, name: String) -> Result<NewContentKey> {
    let mut bytes = [0u8; 13];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let id = Uuid::now_v7();
    let hint = secret[secret.len() - 4..].to_owned();
    let created_by = actor.label();
    let mut tx = core.begin().await?;
    let created_at = sqlx::query_scalar!(
        r#"insert into content_api_keys (id, name, key_sha256, key_hint, created_by)
           values ($1, $2, $3, $4, $5) returning created_at"#,
        id,
        name,
        &digest(&secret)[..],
        hint,
        created_by,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("content_key.create", "content_api_key", id)
            .with_details(serde_json::json!({ "name": name })),
    )
    .await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(NewContentKey {
        key: ContentKey {
            id,
            name,
            hint,
            created_by,
            created_at,
        },
        secret,
    })
}

/// The live keys, newest first.
pub async fn list(db: &Db) -> Result<Vec<ContentKey>> {
    Ok(sqlx::query_as!(
        ContentKey,
        r#"select id, name, key_hint as hint, created_by, created_at from content_api_keys
           where revoked_at is null order by created_at desc"#
    )
    .fetch_all(db)
    .await?)
}

/// Revokes a key: every replica stops accepting it at once.
pub async fn revoke(core: &Core, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = core.begin().await?;
    let name = sqlx::query_scalar!(
        r#"update content_api_keys set revoked_at = now()
           where id = $1 and revoked_at is null returning name"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(format!("No live Content API key has id {id}.")))?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("content_key.revoke", "content_api_key", id)
            .with_details(serde_json::json!({ "name": name })),
    )
    .await?;
    core.cache.changed(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
