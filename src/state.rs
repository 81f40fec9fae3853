//! The shared plumbing's state, which every capability's handlers and services may use:
//! the pool, the plumbing's configuration, the shutdown signal, metrics, the link signer,
//! the content cache and the job queue. It is one `Arc`, so cloning it per request is one
//! atomic increment. Each capability keeps its own state beside it (see `frontdesk::AppState`).

use std::ops::Deref;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::cache::ContentCache;
use crate::config::CoreConfig;
use crate::db::Work;
use crate::jobs::JobQueue;
use crate::signing::Signer;

#[derive(Clone)]
pub struct Core(Arc<CoreInner>);

pub struct CoreInner {
    pub db: PgPool,
    pub config: CoreConfig,
    /// Cancelled when the process starts shutting down; readiness then answers 503.
    pub shutdown: CancellationToken,
    pub metrics: PrometheusHandle,
    /// Signs links in emails, with the key every replica shares.
    pub signer: Signer,
    /// Published content, shared by public reads; see [`crate::cache`].
    pub cache: Arc<ContentCache>,
    /// Where units of work put their jobs.
    pub jobs: JobQueue,
}

impl Deref for Core {
    type Target = CoreInner;

    fn deref(&self) -> &CoreInner {
        &self.0
    }
}

impl Core {
    /// The state of a serving process; reads (or makes) the shared link-signing key.
    pub async fn new(db: PgPool, config: CoreConfig) -> anyhow::Result<Self> {
        let signer = Signer::load(&db, config.signing_secret.as_ref()).await?;
        Ok(Self::with_signer(db, config, signer))
    }

    pub fn with_signer(db: PgPool, config: CoreConfig, signer: Signer) -> Self {
        Self(Arc::new(CoreInner {
            cache: Arc::new(ContentCache::new(config.cache.max_bytes)),
            jobs: JobQueue::new(config.outbox.max_attempts),
            db,
            config,
            shutdown: CancellationToken::new(),
            metrics: crate::telemetry::metrics_handle(),
            signer,
        }))
    }

    /// Begins a unit of work (a transaction whose side effects run once it commits).
    pub async fn begin(&self) -> Result<Work, sqlx::Error> {
        Work::begin(&self.db).await
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}
