use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::extract::Json;
use crate::state::Core;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
}

/// /metrics alone, for its own listener (METRICS_ADDR).
pub fn metrics_router(state: Core) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// /openapi.json and /docs (Swagger UI, its files served from the binary), built from the
/// finished document.
pub fn docs_router(openapi: OpenApi) -> Router {
    let json = bytes::Bytes::from(openapi.to_json().unwrap_or_default());
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json) }
            }),
        )
        .merge(swagger_ui_dist::generate_routes(
            swagger_ui_dist::ApiDefinition {
                uri_prefix: "/docs",
                api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
                title: Some("frontdesk API"),
            },
        ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `shutting_down` or `unavailable`.
    status: &'static str,
    /// `ok` or `unreachable`; absent when not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
}

/// The process is up (it does not check the database).
#[utoipa::path(
    get, path = "/health/live", tag = "ops",
    responses((status = 200, description = "Alive", body = Health))
)]
async fn live() -> Json<Health> {
    Json(Health {
        status: "ok",
        database: None,
    })
}

const READY_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Ready for traffic: the database answers and the process is not shutting down.
#[utoipa::path(
    get, path = "/health/ready", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Shutting down or the database is unreachable", body = Health),
    )
)]
async fn ready(State(state): State<Core>) -> Response {
    if state.is_shutting_down() {
        let body = Health {
            status: "shutting_down",
            database: None,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    match super::service::database_answers(&state, READY_DB_TIMEOUT).await {
        Ok(()) => Json(Health {
            status: "ok",
            database: Some("ok"),
        })
        .into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "readiness check: database unreachable");
            let body = Health {
                status: "unavailable",
                database: Some("unreachable"),
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// Prometheus metrics: requests by route and status, latency histogram, pool connections.
/// Served on METRICS_ADDR, not with the API.
async fn metrics(State(state): State<Core>) -> impl IntoResponse {
    let pool = state.db.pool();
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(pool.size()));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(pool.num_idle() as f64);
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.options().get_max_connections()));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
