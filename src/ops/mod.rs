//! Operations: liveness, readiness, Prometheus metrics (on their own listener), the OpenAPI
//! document and interactive docs, the audit log and the job runner's admin view (jobs, emails).

mod audit;
mod handlers;
mod jobs;
mod model;
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
        .merge(audit::router())
}
