//! Operations endpoints, outside /v1: liveness, readiness, Prometheus metrics, the OpenAPI
//! document and interactive API docs.

mod handlers;

pub use handlers::{docs_router, metrics_router, router};
