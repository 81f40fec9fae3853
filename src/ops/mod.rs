//! Operations: liveness, readiness, Prometheus metrics (on their own listener), the OpenAPI
//! document and interactive docs, and the job runner's admin view (jobs, emails).

mod handlers;
mod jobs;
mod service;

pub use handlers::{docs_router, metrics_router};

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(handlers::router())
        .merge(jobs::router())
}
