//! Who is calling and what they may do: roles, permissions, and the extractors that
//! authenticate a bearer token and check a permission before a handler runs.

use std::marker::PhantomData;
use std::net::IpAddr;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::AuditActor;
use crate::error::AppError;
use crate::http::middleware::ClientIp;
use crate::state::Core;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    /// Everything, including admin users, API tokens, the site profile and the audit log.
    Owner,
    /// Content: the services catalogue, the blog, and sending posts to the newsletter list.
    Editor,
    /// Leads, the newsletter list, and calls.
    Sales,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Sales => "sales",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "editor" => Some(Self::Editor),
            "sales" => Some(Self::Sales),
            _ => None,
        }
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Owner => Permission::ALL,
            Self::Editor => &[CatalogueWrite, ContentWrite, NewsletterSend],
            Self::Sales => &[LeadsRead, LeadsWrite, NewsletterRead, SchedulingManage],
        }
    }
}

/// A thing one may be allowed to do. API tokens carry these as scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Permission {
    #[serde(rename = "site:write")]
    SiteWrite,
    #[serde(rename = "catalogue:write")]
    CatalogueWrite,
    /// The blog: posts, authors, tags, series.
    #[serde(rename = "content:write")]
    ContentWrite,
    #[serde(rename = "audit:read")]
    AuditRead,
    /// The lead inbox and emails sent.
    #[serde(rename = "leads:read")]
    LeadsRead,
    /// Working leads: status, assignee, notes.
    #[serde(rename = "leads:write")]
    LeadsWrite,
    #[serde(rename = "newsletter:read")]
    NewsletterRead,
    /// Sending posts to the list (issues, test sends) and seeing how they went.
    #[serde(rename = "newsletter:send")]
    NewsletterSend,
    /// Hosts, call types and bookings.
    #[serde(rename = "scheduling:manage")]
    SchedulingManage,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Seeing and retrying outbox jobs.
    #[serde(rename = "outbox:manage")]
    OutboxManage,
    /// Exporting and erasing a person's data.
    #[serde(rename = "privacy:manage")]
    PrivacyManage,
    #[serde(rename = "users:manage")]
    UsersManage,
    #[serde(rename = "tokens:manage")]
    TokensManage,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Self::SiteWrite,
        Self::CatalogueWrite,
        Self::ContentWrite,
        Self::AuditRead,
        Self::LeadsRead,
        Self::LeadsWrite,
        Self::NewsletterRead,
        Self::NewsletterSend,
        Self::SchedulingManage,
        Self::WebhooksManage,
        Self::OutboxManage,
        Self::PrivacyManage,
        Self::UsersManage,
        Self::TokensManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SiteWrite => "site:write",
            Self::CatalogueWrite => "catalogue:write",
            Self::ContentWrite => "content:write",
            Self::AuditRead => "audit:read",
            Self::LeadsRead => "leads:read",
            Self::LeadsWrite => "leads:write",
            Self::NewsletterRead => "newsletter:read",
            Self::NewsletterSend => "newsletter:send",
            Self::SchedulingManage => "scheduling:manage",
            Self::WebhooksManage => "webhooks:manage",
            Self::OutboxManage => "outbox:manage",
            Self::PrivacyManage => "privacy:manage",
            Self::UsersManage => "users:manage",
            Self::TokensManage => "tokens:manage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }

    /// Managing people and credentials stays with a logged-in owner; an integration's token
    /// can never mint more tokens or admins.
    pub fn grantable_to_api_tokens(self) -> bool {
        !matches!(
            self,
            Self::UsersManage | Self::TokensManage | Self::WebhooksManage | Self::PrivacyManage
        )
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Actor {
    Admin {
        id: Uuid,
        session_id: Uuid,
        email: String,
        display_name: String,
        role: Role,
    },
    ApiToken {
        id: Uuid,
        name: String,
        scopes: Vec<Permission>,
    },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub actor: Actor,
    pub ip: Option<IpAddr>,
}

impl<'a> From<&'a Principal> for AuditActor<'a> {
    fn from(p: &'a Principal) -> Self {
        let (kind, id, label) = match &p.actor {
            Actor::Admin { id, email, .. } => ("admin", *id, email.as_str()),
            Actor::ApiToken { id, name, .. } => ("api_token", *id, name.as_str()),
        };
        AuditActor::Authenticated {
            kind,
            id,
            label,
            ip: p.ip,
        }
    }
}

impl Principal {
    pub fn allows(&self, permission: Permission) -> bool {
        match &self.actor {
            Actor::Admin { role, .. } => role.permissions().contains(&permission),
            Actor::ApiToken { scopes, .. } => scopes.contains(&permission),
        }
    }

    pub fn permissions(&self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.allows(*p))
            .collect()
    }

    pub fn admin_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::Admin { id, .. } => Some(*id),
            Actor::ApiToken { .. } => None,
        }
    }

    fn describe(&self) -> String {
        match &self.actor {
            Actor::Admin { role, .. } => format!("your role `{}`", role.as_str()),
            Actor::ApiToken { .. } => "this API token's scopes".to_owned(),
        }
    }

    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.allows(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This needs the `{}` permission, which {} does not include.",
                permission.as_str(),
                self.describe()
            )))
        }
    }
}

/// The bearer token of the request, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Core: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let token = bearer_token(parts).ok_or(AppError::Unauthorized)?;
        let core = Core::from_ref(state);
        let actor = super::service::authenticate(&core.db, token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let ip = parts.extensions.get::<ClientIp>().and_then(|c| c.0);
        Ok(Self { actor, ip })
    }
}

/// A permission a route requires, as a type: `Authorized<perm::CatalogueWrite>`.
pub trait RequiredPermission: Send + Sync {
    const PERMISSION: Permission;
}

pub mod perm {
    use super::{Permission, RequiredPermission};

    macro_rules! permissions {
        ($($name:ident),* $(,)?) => {$(
            pub struct $name;
            impl RequiredPermission for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    permissions!(
        SiteWrite,
        CatalogueWrite,
        ContentWrite,
        AuditRead,
        LeadsRead,
        LeadsWrite,
        NewsletterRead,
        NewsletterSend,
        SchedulingManage,
        WebhooksManage,
        OutboxManage,
        PrivacyManage,
        UsersManage,
        TokensManage
    );
}

/// An authenticated caller holding permission `P`; 401 without a valid token, 403 without
/// the permission. It runs before the body is read, so a refused caller learns nothing more.
pub struct Authorized<P: RequiredPermission>(pub Principal, pub PhantomData<P>);

impl<P, S> FromRequestParts<S> for Authorized<P>
where
    P: RequiredPermission,
    S: Send + Sync,
    Core: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require(P::PERMISSION)?;
        Ok(Self(principal, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_issue_describes() {
        assert!(Role::Owner.permissions().contains(&Permission::SiteWrite));
        assert!(
            Role::Editor
                .permissions()
                .contains(&Permission::CatalogueWrite)
        );
        assert!(!Role::Editor.permissions().contains(&Permission::SiteWrite));
        assert!(
            !Role::Sales
                .permissions()
                .contains(&Permission::CatalogueWrite)
        );
    }

    #[test]
    fn permissions_round_trip_through_their_names() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
            let json = serde_json::to_string(p).expect("json");
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
    }
}
