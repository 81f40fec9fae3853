//! Login, logout and resolving a bearer token to its caller.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::ipnetwork::IpNetwork;
use uuid::Uuid;

use super::credentials::{
    API_TOKEN_PREFIX, SESSION_PREFIX, email_hash, new_token, token_hash, verify_password_blocking,
};
use super::principal::{Actor, Permission, Role};
use crate::config::Config;
use crate::error::{AppError, Result};

/// Resolves a bearer token to its caller; `None` for an unknown, expired or revoked token,
/// or one whose admin has been deactivated.
pub async fn authenticate(db: &PgPool, token: &str) -> Result<Option<Actor>> {
    if token.starts_with(SESSION_PREFIX) {
        session_actor(db, token).await
    } else if token.starts_with(API_TOKEN_PREFIX) {
        api_token_actor(db, token).await
    } else {
        Ok(None)
    }
}

async fn session_actor(db: &PgPool, token: &str) -> Result<Option<Actor>> {
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

async fn api_token_actor(db: &PgPool, token: &str) -> Result<Option<Actor>> {
    // Marks the token used (at most once a minute, to spare writes) and reads it in one trip.
    let row = sqlx::query!(
        r#"
        with found as (
            select id, name, scopes from api_tokens
            where token_hash = $1 and revoked_at is null
              and (expires_at is null or expires_at > now())
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
/// same answer after the same work (one argon2 verification); failures are throttled per
/// email and per IP.
pub async fn login(
    db: &PgPool,
    config: &Config,
    email: &str,
    password: String,
    ip: Option<IpAddr>,
) -> Result<LoginSuccess> {
    let email = email.trim().to_lowercase();
    let email_key = email_hash(&email);
    let ip_net = ip.map(IpNetwork::from);
    refuse_if_throttled(db, config, &email_key, ip_net).await?;

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
        record_failure(db, &email_key, ip_net).await?;
        return Err(AppError::InvalidCredentials);
    };

    sqlx::query!(
        "delete from login_failures where email_hash = $1",
        email_key
    )
    .execute(db)
    .await?;
    let token = new_token(SESSION_PREFIX);
    let session_id = Uuid::now_v7();
    let ttl = chrono::Duration::from_std(config.session_ttl).map_err(anyhow::Error::from)?;
    let expires_at = Utc::now() + ttl;
    sqlx::query!(
        "insert into auth_sessions (id, admin_id, token_hash, expires_at) values ($1, $2, $3, $4)",
        session_id,
        user.id,
        token_hash(&token),
        expires_at,
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

/// An IP may fail more often than one email: several admins can share an office.
const IP_FAILURE_FACTOR: i64 = 4;

async fn refuse_if_throttled(
    db: &PgPool,
    config: &Config,
    email_key: &[u8],
    ip: Option<IpNetwork>,
) -> Result<()> {
    let window_secs = config.login_failure_window.as_secs_f64();
    let counts = sqlx::query!(
        r#"
        select
          count(*) filter (where email_hash = $1) as "by_email!",
          count(*) filter (where ip = $2) as "by_ip!",
          min(failed_at) filter (where email_hash = $1 or ip = $2) as oldest
        from login_failures
        where (email_hash = $1 or ip = $2)
          and failed_at > now() - make_interval(secs => $3)
        "#,
        email_key,
        ip,
        window_secs,
    )
    .fetch_one(db)
    .await?;
    let max = i64::from(config.login_max_failures);
    if counts.by_email >= max || counts.by_ip >= max * IP_FAILURE_FACTOR {
        let retry_after = counts
            .oldest
            .map(|oldest| {
                let frees_at = oldest + chrono::Duration::seconds(window_secs as i64);
                (frees_at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::from_secs(1))
            })
            .unwrap_or(config.login_failure_window);
        return Err(AppError::TooManyRequests { retry_after });
    }
    Ok(())
}

async fn record_failure(db: &PgPool, email_key: &[u8], ip: Option<IpNetwork>) -> Result<()> {
    sqlx::query!(
        "insert into login_failures (email_hash, ip) values ($1, $2)",
        email_key,
        ip
    )
    .execute(db)
    .await?;
    // Old rows only matter inside the window; keep the table small as we go.
    sqlx::query!("delete from login_failures where failed_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(())
}

pub async fn logout(db: &PgPool, session_id: Uuid) -> Result<()> {
    sqlx::query!(
        "update auth_sessions set revoked_at = now() where id = $1 and revoked_at is null",
        session_id
    )
    .execute(db)
    .await?;
    Ok(())
}
