//! Admin authentication: argon2id passwords, opaque bearer tokens, roles and permissions.
//!
//! A handler that needs a permission takes `Authorized<perm::X>`; one that only needs a
//! logged-in caller takes `Principal`.

pub mod credentials;
mod handlers;
mod principal;
pub mod service;

pub use handlers::{Me, router};
pub use principal::{Actor, Authorized, Permission, Principal, RequiredPermission, Role, perm};
