//! Named API tokens with scopes, for integrations (owners manage them).

mod handlers;
mod service;

pub use handlers::router;
