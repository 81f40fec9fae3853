//! Recording admin writes, inside the transaction of the write itself, and reading them back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::ipnetwork::IpNetwork;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Result;
use crate::pagination::{Page, PageParams};

/// Who did it, when the actor is not an authenticated request (e.g. the CLI).
#[derive(Debug, Clone)]
pub enum AuditActor<'a> {
    /// A signed-in admin (`kind` "admin") or an API token ("api_token"); `label` is the
    /// admin's email or the token's name.
    Authenticated {
        kind: &'static str,
        id: Uuid,
        label: &'a str,
        ip: Option<std::net::IpAddr>,
    },
    Cli,
    /// The service itself, e.g. the scheduler publishing a post.
    System,
}

impl AuditActor<'_> {
    fn kind_id_label(&self) -> (&'static str, Option<Uuid>, String) {
        match self {
            Self::Authenticated {
                kind, id, label, ..
            } => (kind, Some(*id), (*label).to_owned()),
            Self::Cli => ("cli", None, "command line".to_owned()),
            Self::System => ("system", None, "frontdesk".to_owned()),
        }
    }

    /// Who it was, in a few words (an admin's email, a token's name).
    pub fn label(&self) -> String {
        self.kind_id_label().2
    }

    fn ip(&self) -> Option<IpNetwork> {
        match self {
            Self::Authenticated { ip, .. } => ip.map(IpNetwork::from),
            Self::Cli | Self::System => None,
        }
    }
}

/// What was done: `action` like `service.update`, the target, and details that help a
/// reader (never secrets; admin emails are fine, visitors' personal data is not).
pub struct AuditEvent<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: &'a str, target_type: &'a str, target_id: impl ToString) -> Self {
        Self {
            action,
            target_type,
            target_id: Some(target_id.to_string()),
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

pub async fn record(
    conn: &mut PgConnection,
    actor: impl Into<AuditActor<'_>>,
    event: AuditEvent<'_>,
) -> Result<()> {
    let actor = actor.into();
    let (kind, actor_id, label) = actor.kind_id_label();
    sqlx::query!(
        r#"
        insert into audit_log (id, actor_kind, actor_id, actor_label, action, target_type, target_id, ip, details)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        "#,
        Uuid::now_v7(),
        kind,
        actor_id,
        label,
        event.action,
        event.target_type,
        event.target_id,
        actor.ip(),
        event.details,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `admin`, `api_token`, `cli` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    /// The admin's email or the API token's name.
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
}

/// Newest first; ids are UUIDv7, so ordering by id is ordering by time.
pub async fn list(
    db: &crate::db::Db,
    filter: &AuditFilter,
    page: &PageParams,
) -> Result<Page<AuditEntry>> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.decode()?;
    let rows = sqlx::query!(
        r#"
        select id, occurred_at, actor_kind, actor_id, actor_label, action, target_type,
               target_id, ip, details
        from audit_log
        where ($1::uuid is null or id < $1)
          and ($2::text is null or action = $2)
          and ($3::uuid is null or actor_id = $3)
        order by id desc
        limit $4
        "#,
        after,
        filter.action,
        filter.actor_id,
        i64::from(limit) + 1,
    )
    .fetch_all(db)
    .await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            ip: r.ip.map(|ip| ip.ip().to_string()),
            details: r.details,
        })
        .collect();
    Ok(Page::from_rows(entries, limit, |e| e.id))
}
