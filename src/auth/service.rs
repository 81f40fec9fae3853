//! Login, logout and resolving a bearer token to its caller.

use std::net::IpAddr;
use std::time::Duration;

use crate::db::Db;
use chrono::{DateTime, Utc};
use sqlx::types::ipnetwork::IpNetwork;
use uuid::Uuid;

use super::config::AuthConfig;
use super::credentials::{API_TOKEN_PREFIX, SESSION_PREFIX, verify_password_blocking};
use super::principal::{Actor, Permission, Role};
use crate::error::{AppError, Result};
use crate::rate_limit::client_network;
use crate::tokens::{email_hash, new_token, token_hash};

/// Resolves a bearer token to its caller; `None` for an unknown, expired or revoked token,
/// a session whose admin has been deactivated, or an API token whose creator is no longer
/// an active owner.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<Actor>> {
    if token.starts_with(SESSION_PREFIX) {
        session_actor(db, token).await
    } else if token.starts_with(API_TOKEN_PREFIX) {
        api_token_actor(db, token).await
    } else {
        Ok(None)
    }
}

async fn session_actor(db: &Db, token: &str) -> Result<Option<Actor>> {
    let row = sqlx::query!(
        r#"
        select s.id as session_id, a.id, a.email, a.display_name, a.role as "role: Role"
        from auth_sessions s
        join admin_users a on a.id = s.admin_id
        where s.token_hash = $1 and s.revoked_at is null and s.expires_at > now() and a.active
        "#,
        token_hash(token),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Actor::Admin {
        id: r.id,
        session_id: r.session_id,
        email: r.email,
        display_name: r.display_name,
        role: r.role,
    }))
}

async fn api_token_actor(db: &Db, token: &str) -> Result<Option<Actor>> {
    // Marks the token used (at most once a minute, to spare writes) and reads it in one trip.
    let row = sqlx::query!(
        r#"
        with found as (
            -- A token acts for the owner who made it: it stops working when they are no
            -- longer an active owner (demoted, deactivated or deleted).
            select t.id, t.name, t.scopes from api_tokens t
            join admin_users a on a.id = t.created_by
            where t.token_hash = $1 and t.revoked_at is null
              and (t.expires_at is null or t.expires_at > now())
              and a.active and a.role = 'owner'
        ), touched as (
            update api_tokens set last_used_at = now()
            where id = (select id from found)
              and (last_used_at is null or last_used_at < now() - interval '1 minute')
        )
        select id as "id!", name as "name!", scopes as "scopes!" from found
        "#,
        token_hash(token),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Actor::ApiToken {
        id: r.id,
        name: r.name,
        scopes: r
            .scopes
            .iter()
            .filter_map(|s| Permission::parse(s))
            .collect(),
    }))
}

pub struct LoginSuccess {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

/// Checks the credentials and opens a session. A wrong email and a wrong password get the
/// same answer after the same work (one argon2 verification).
///
/// Each attempt is counted as a failure before the password is checked (a success removes
/// its count), under a lock per email and per client, so parallel guesses cannot slip past
/// the limit. A client (an IP, or an IPv6 /64) that fails too often is refused for the
/// window. An email that fails too often is slowed down, not locked: one attempt per
/// window/max from then on, and not at all for a network the admin signed in from before.
pub async fn login(
    db: &Db,
    config: &AuthConfig,
    email: &str,
    password: String,
    ip: Option<IpAddr>,
) -> Result<LoginSuccess> {
    let email = email.trim().to_lowercase();
    let email_key = email_hash(&email);
    let network = ip.and_then(|ip| {
        let net = client_network(ip);
        IpNetwork::new(net.addr(), net.prefix_len()).ok()
    });
    let attempt = begin_attempt(db, config, &email, &email_key, network).await?;

    let user = sqlx::query!(
        r#"select id, email, display_name, role as "role: Role", password_hash
           from admin_users where email = $1 and active"#,
        email,
    )
    .fetch_optional(db)
    .await?;

    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = verify_password_blocking(password, stored_hash).await;
    let Some(user) = user.filter(|_| password_ok) else {
        return Err(AppError::InvalidCredentials);
    };

    // The admin's own mistakes from this network are forgiven; strangers' stay counted.
    sqlx::query!(
        "delete from login_failures where id = $1 or (email_hash = $2 and ip is not distinct from $3)",
        attempt,
        email_key,
        network
    )
    .execute(db)
    .await?;
    let token = new_token(SESSION_PREFIX);
    let session_id = Uuid::now_v7();
    let ttl = chrono::Duration::from_std(config.session_ttl).map_err(anyhow::Error::from)?;
    let expires_at = Utc::now() + ttl;
    sqlx::query!(
        "insert into auth_sessions (id, admin_id, token_hash, expires_at, client_ip) values ($1, $2, $3, $4, $5)",
        session_id,
        user.id,
        token_hash(&token),
        expires_at,
        network,
    )
    .execute(db)
    .await?;
    Ok(LoginSuccess {
        token,
        expires_at,
        actor: Actor::Admin {
            id: user.id,
            session_id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
        },
    })
}

/// A client may fail more often than one email: several admins can share an office.
const IP_FAILURE_FACTOR: i64 = 4;

/// A sign-in from a network with a session in this long is "known".
const KNOWN_NETWORK_DAYS: f64 = 30.0;

/// Decides whether this attempt may go ahead and, if so, records it (as a failure until it
/// succeeds), all under advisory locks on the email and on the client: the check and the
/// count are one step. Returns the attempt's id.
async fn begin_attempt(
    db: &Db,
    config: &AuthConfig,
    email: &str,
    email_key: &[u8],
    network: Option<IpNetwork>,
) -> Result<i64> {
    let window_secs = config.login_failure_window.as_secs_f64();
    let max = i64::from(config.login_max_failures);
    let mut tx = db.begin().await?;
    // Always the email's lock first, then the client's: no two logins wait on each other
    // in opposite orders.
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('login:' || encode($1, 'hex'), 0))",
        email_key
    )
    .execute(&mut *tx)
    .await?;
    if let Some(network) = network {
        sqlx::query!(
            "select pg_advisory_xact_lock(hashtextextended('login-ip:' || $1::inet::text, 0))",
            network
        )
        .execute(&mut *tx)
        .await?;
    }
    let seen = sqlx::query!(
        r#"
        select
          count(*) filter (where email_hash = $1) as "by_email!",
          count(*) filter (where ip = $2) as "by_ip!",
          max(failed_at) filter (where email_hash = $1) as last_by_email,
          min(failed_at) filter (where ip = $2) as oldest_by_ip,
          exists(
            select 1 from auth_sessions s join admin_users a on a.id = s.admin_id
            where a.email = $4 and s.client_ip = $2
              and s.created_at > now() - make_interval(days => $5::float8::int)
          ) as "known!"
        from login_failures
        where (email_hash = $1 or ip = $2)
          and failed_at > now() - make_interval(secs => $3)
        "#,
        email_key,
        network,
        window_secs,
        email,
        KNOWN_NETWORK_DAYS,
    )
    .fetch_one(&mut *tx)
    .await?;
    let now = Utc::now();
    let window =
        chrono::Duration::from_std(config.login_failure_window).map_err(anyhow::Error::from)?;
    let wait_until = |at: DateTime<Utc>| {
        (at - now)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_secs(1))
    };
    if seen.by_ip >= max * IP_FAILURE_FACTOR {
        let frees_at = seen.oldest_by_ip.map_or(now + window, |at| at + window);
        return Err(AppError::TooManyRequests {
            retry_after: wait_until(frees_at),
        });
    }
    if seen.by_email >= max && !seen.known {
        // Slowed, not locked: one more attempt each window/max.
        let spacing = window / i32::try_from(max).unwrap_or(i32::MAX).max(1);
        if let Some(last) = seen.last_by_email.filter(|last| *last + spacing > now) {
            return Err(AppError::TooManyRequests {
                retry_after: wait_until(last + spacing),
            });
        }
    }
    let id = sqlx::query_scalar!(
        "insert into login_failures (email_hash, ip) values ($1, $2) returning id",
        email_key,
        network
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Sessions that expired or were revoked more than a day ago.
pub async fn purge_sessions(db: &Db) -> Result<u64> {
    Ok(sqlx::query!(
        "delete from auth_sessions where expires_at < now() - interval '1 day' or revoked_at < now() - interval '1 day'"
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Failed logins only matter inside their window (at most a day).
pub async fn forget_old_failures(db: &Db) -> Result<u64> {
    Ok(
        sqlx::query!("delete from login_failures where failed_at < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}

pub async fn logout(db: &Db, session_id: Uuid) -> Result<()> {
    sqlx::query!(
        "update auth_sessions set revoked_at = now() where id = $1 and revoked_at is null",
        session_id
    )
    .execute(db)
    .await?;
    Ok(())
}
