//! Idempotency keys for public POSTs: a retry with the same `Idempotency-Key` and body gets
//! the first answer and creates nothing; the same key with another body is refused.
//!
//! The key is claimed by inserting it in the same transaction that does the work. A
//! concurrent retry's insert waits on that row until the first transaction ends, then finds
//! the stored answer (or, if the first rolled back, claims the key itself). No lock is held
//! in memory, so this holds across replicas.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::error::{AppError, Result};

pub const HEADER: &str = "idempotency-key";
pub const MAX_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header, if the client sent one.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(Self(None));
        };
        let key = value.to_str().ok().map(str::trim).filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        });
        match key {
            Some(key) => Ok(Self(Some(key.to_owned()))),
            None => Err(AppError::field(
                "Idempotency-Key",
                "invalid_header",
                format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable characters, e.g. a UUID"
                ),
            )),
        }
    }
}

/// What claiming a key found.
pub enum Claim<T> {
    /// The key is new (or there was none): do the work, then [`complete`].
    Proceed,
    /// The same request was answered before: send this again.
    Replay { status: u16, body: T },
}

pub fn request_hash<B: Serialize>(body: &B) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(body).unwrap_or_default()).to_vec()
}

/// Claims `key` in `scope` for a request whose body hashes to `hash`, inside the caller's
/// transaction.
pub async fn claim<T: DeserializeOwned>(
    conn: &mut PgConnection,
    scope: &str,
    key: Option<&str>,
    hash: &[u8],
) -> Result<Claim<T>> {
    let Some(key) = key else {
        return Ok(Claim::Proceed);
    };
    let claimed = sqlx::query_scalar!(
        r#"insert into idempotency_keys (scope, key, request_hash) values ($1, $2, $3)
           on conflict do nothing returning true as "claimed!""#,
        scope,
        key,
        hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    if claimed.is_some() {
        return Ok(Claim::Proceed);
    }
    let earlier = sqlx::query!(
        "select request_hash, status, response from idempotency_keys where scope = $1 and key = $2",
        scope,
        key
    )
    .fetch_one(&mut *conn)
    .await?;
    if earlier.request_hash != hash {
        return Err(AppError::field(
            "Idempotency-Key",
            "reused",
            "this Idempotency-Key was already used for a different request; use a new key for new content",
        ));
    }
    match (earlier.status, earlier.response) {
        (Some(status), Some(response)) => Ok(Claim::Replay {
            status: u16::try_from(status).unwrap_or(200),
            body: serde_json::from_value(response).map_err(anyhow::Error::from)?,
        }),
        // Stored without an answer only if the first request failed midway; it rolled
        // back, so this cannot be seen after its commit. Treat it as in flight.
        _ => Err(AppError::conflict(
            "request-in-progress",
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
        )),
    }
}

/// Stores the answer for `key`, in the same transaction as the work.
pub async fn complete<T: Serialize>(
    conn: &mut PgConnection,
    scope: &str,
    key: Option<&str>,
    status: u16,
    body: &T,
) -> Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let response = serde_json::to_value(body).map_err(anyhow::Error::from)?;
    sqlx::query!(
        "update idempotency_keys set status = $3, response = $4 where scope = $1 and key = $2",
        scope,
        key,
        i16::try_from(status).unwrap_or(200),
        response
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keys are kept for a day; retries come within minutes.
pub async fn forget_old(db: &sqlx::PgPool) -> Result<u64> {
    Ok(
        sqlx::query!("delete from idempotency_keys where created_at < now() - interval '24 hours'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}
