//! The state every handler receives: the pool, the configuration, the shutdown signal and
//! the metrics handle. Cloning it is cheap.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    /// Cancelled when the process starts shutting down; readiness then answers 503.
    pub shutdown: CancellationToken,
    pub metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(db: PgPool, config: Config) -> Self {
        Self {
            db,
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
            metrics: crate::telemetry::metrics_handle(),
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}
