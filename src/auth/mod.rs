//! Identity: admin users (owners manage them), sign-in with argon2id passwords, opaque
//! bearer tokens (login sessions and named API tokens with scopes), roles and permissions.
//! Owns the tables admin_users, auth_sessions, api_tokens and login_failures; others read
//! the staff through the `staff_directory` view.
//!
//! A handler that needs a permission takes `Authorized<perm::X>`; one that only needs a
//! logged-in caller takes `Principal`.

mod config;
mod credentials;
mod handlers;
mod model;
mod principal;
mod service;
mod tokens;
mod users;

use std::sync::Arc;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

pub use config::AuthConfig;
pub use handlers::Me;
pub use principal::{Actor, Authorized, Permission, Principal, RequiredPermission, Role, perm};
pub use service::{forget_old_failures, purge_sessions};
pub use users::{NewAdmin, create as create_admin};

use crate::state::Core;

/// What sign-in keeps besides the plumbing: its configuration.
#[derive(Clone)]
pub struct AuthState {
    pub config: Arc<AuthConfig>,
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
    AuthState: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(handlers::router())
        .merge(users::router())
        .merge(tokens::router())
}
