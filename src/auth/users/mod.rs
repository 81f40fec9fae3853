//! Admin users (owners manage them): who may log in, with which role.

mod handlers;
mod model;
mod service;

pub use handlers::router;
pub use model::NewAdmin;
pub use service::create;
