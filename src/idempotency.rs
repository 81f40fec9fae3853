//! Idempotency keys for public POSTs: a retry with the same `Idempotency-Key` and body gets
//! the first answer and creates nothing; the same key with another body is refused.
//!
//! The key is claimed by inserting it in the same transaction that does the work. A
//! concurrent retry's insert waits on that row until the first transaction ends, then finds
//! the stored answer (or, if the first rolled back, claims the key itself). No lock is held
//! in memory, so this holds across replicas.
//!
//! A key belongs to the client that sent it ([`scope_for`]: the kind of request and the
//! client's network), so nobody else can replay another visitor's answer. What is stored
//! as the answer is only what a replay needs — never a secret such as a booking's manage
//! token — and the person is named only by a hash of their address, so that a privacy
//! erasure finds and deletes the record.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::error::{AppError, Result};
use crate::rate_limit::client_key;

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

/// The scope of a key: the kind of request and the client (its IP, or IPv6 /64).
pub fn scope_for(kind: &str, ip: Option<std::net::IpAddr>) -> String {
    match ip {
        Some(ip) => format!("{kind}@{}", client_key(ip)),
        None => kind.to_owned(),
    }
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

/// Stores the answer for `key`, in the same transaction as the work. `body` is what a
/// replay needs (no secrets); `email` is the person the request was about, kept hashed.
pub async fn complete<T: Serialize>(
    conn: &mut PgConnection,
    scope: &str,
    key: Option<&str>,
    status: u16,
    body: &T,
    email: &str,
) -> Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let response = serde_json::to_value(body).map_err(anyhow::Error::from)?;
    sqlx::query!(
        "update idempotency_keys set status = $3, response = $4, email_hash = $5 where scope = $1 and key = $2",
        scope,
        key,
        i16::try_from(status).unwrap_or(200),
        response,
        email_hash(email)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The hash a record names its person by (as [`crate::personal_data::Subject`] has it).
fn email_hash(email: &str) -> Vec<u8> {
    Sha256::digest(email.trim().to_lowercase().as_bytes()).to_vec()
}

#[derive(Serialize)]
struct Record {
    scope: String,
    created_at: chrono::DateTime<chrono::Utc>,
    response: Option<serde_json::Value>,
}

/// The records about a person (privacy export).
pub async fn export(
    conn: &mut PgConnection,
    subject: &crate::personal_data::Subject,
) -> Result<Vec<crate::personal_data::Found>> {
    let rows = sqlx::query_as!(
        Record,
        "select scope, created_at, response from idempotency_keys where email_hash = $1 order by created_at",
        subject.email_hash
    )
    .fetch_all(conn)
    .await?;
    Ok(vec![crate::personal_data::Found::of(
        "idempotency_records",
        &rows,
    )?])
}

/// Deletes the records about a person (privacy erasure).
pub async fn erase(
    conn: &mut PgConnection,
    subject: &crate::personal_data::Subject,
) -> Result<Vec<crate::personal_data::Removed>> {
    let n = sqlx::query!(
        "delete from idempotency_keys where email_hash = $1",
        subject.email_hash
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(vec![("idempotency_records", n)])
}

/// Keys are kept for a day; retries come within minutes.
pub async fn forget_old(db: &crate::db::Db) -> Result<u64> {
    Ok(
        sqlx::query!("delete from idempotency_keys where created_at < now() - interval '24 hours'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}
