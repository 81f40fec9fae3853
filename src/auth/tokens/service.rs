//! Named API tokens for integrations: the secret is shown once, stored only as a hash.

use crate::db::Db;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, AuditEvent};
use crate::auth::credentials::API_TOKEN_PREFIX;
use crate::auth::{Permission, Principal};
use crate::error::{AppError, Result};
use crate::tokens::{new_token, token_hash};
use crate::validation::Validator;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Permission>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewApiToken {
    pub name: String,
    pub scopes: Vec<Permission>,
    pub expires_in_days: Option<u32>,
}

pub const MAX_EXPIRY_DAYS: u32 = 3650;

impl NewApiToken {
    pub fn validate(name: &str, scopes: &[String], expires_in_days: Option<u32>) -> Result<Self> {
        let mut v = Validator::new();
        let name = v.required_text("name", name, 100);
        if scopes.is_empty() {
            v.error(
                "scopes",
                "required",
                "scopes must list at least one permission",
            );
        }
        let mut parsed = Vec::new();
        for (i, scope) in scopes.iter().enumerate() {
            let field = format!("scopes[{i}]");
            match Permission::parse(scope) {
                Some(p) if p.grantable_to_api_tokens() => {
                    if !parsed.contains(&p) {
                        parsed.push(p);
                    }
                }
                Some(_) => v.error(
                    &field,
                    "not_grantable",
                    format!("`{scope}` cannot be given to an API token"),
                ),
                None => v.error(
                    &field,
                    "invalid_choice",
                    format!(
                        "unknown scope `{scope}`; valid scopes: {}",
                        grantable_scope_names().join(", ")
                    ),
                ),
            }
        }
        if let Some(days) = expires_in_days {
            if days == 0 || days > MAX_EXPIRY_DAYS {
                v.error(
                    "expires_in_days",
                    "out_of_range",
                    format!("expires_in_days must be between 1 and {MAX_EXPIRY_DAYS}"),
                );
            }
        }
        v.finish()?;
        Ok(Self {
            name,
            scopes: parsed,
            expires_in_days,
        })
    }
}

fn grantable_scope_names() -> Vec<&'static str> {
    Permission::ALL
        .iter()
        .filter(|p| p.grantable_to_api_tokens())
        .map(|p| p.as_str())
        .collect()
}

fn scopes_of(raw: Vec<String>) -> Vec<Permission> {
    raw.iter().filter_map(|s| Permission::parse(s)).collect()
}

/// Creates the token and returns it with its secret, which is not stored.
pub async fn create(db: &Db, by: &Principal, new: NewApiToken) -> Result<(ApiToken, String)> {
    let secret = new_token(API_TOKEN_PREFIX);
    let scope_names: Vec<String> = new.scopes.iter().map(|p| p.as_str().to_owned()).collect();
    let expires_at = new
        .expires_in_days
        .map(|days| Utc::now() + chrono::Duration::days(i64::from(days)));
    let mut tx = db.begin().await?;
    let row = sqlx::query!(
        r#"
        insert into api_tokens (id, name, token_hash, scopes, created_by, expires_at)
        values ($1, $2, $3, $4, $5, $6)
        returning id, name, scopes, created_by, created_at, expires_at, last_used_at, revoked_at
        "#,
        Uuid::now_v7(),
        new.name,
        token_hash(&secret),
        &scope_names,
        by.admin_id(),
        expires_at,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        by,
        AuditEvent::new("api_token.create", "api_token", row.id)
            .with_details(serde_json::json!({ "name": row.name, "scopes": scope_names })),
    )
    .await?;
    tx.commit().await?;
    let token = ApiToken {
        id: row.id,
        name: row.name,
        scopes: scopes_of(row.scopes),
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    };
    Ok((token, secret))
}

pub async fn list(db: &Db) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query!(
        r#"select id, name, scopes, created_by, created_at, expires_at, last_used_at, revoked_at
           from api_tokens order by id desc"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ApiToken {
            id: r.id,
            name: r.name,
            scopes: scopes_of(r.scopes),
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

/// Revokes a token; revoking one already revoked changes nothing.
pub async fn revoke(db: &Db, by: &Principal, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let found = sqlx::query_scalar!(
        "update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1 returning name",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found(format!("No API token has id {id}.")))?;
    audit::record(
        &mut tx,
        by,
        AuditEvent::new("api_token.revoke", "api_token", id)
            .with_details(serde_json::json!({ "name": found })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
