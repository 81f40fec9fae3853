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
use crate::db::{Databases, Db, Replica, Work};
use crate::jobs::JobQueue;
use crate::signing::Signer;

#[derive(Clone)]
pub struct Core(Arc<CoreInner>);

pub struct CoreInner {
    /// The primary (through the pooler, when there is one): writes, admin reads, and every
    /// read that must see its own writes.
    pub db: Db,
    /// Postgres itself, for LISTEN.
    pub direct: PgPool,
    /// The read replica, when there is one; public reads choose with [`Core::reads`].
    pub replica: Option<Arc<Replica>>,
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
    pub async fn new(dbs: Databases, config: CoreConfig) -> anyhow::Result<Self> {
        let signer = Signer::load(&dbs.primary, config.signing_secret.as_ref()).await?;
        Ok(Self::with_signer(dbs, config, signer))
    }

    pub fn with_signer(dbs: Databases, config: CoreConfig, signer: Signer) -> Self {
        let replica = dbs
            .read
            .map(|read| Arc::new(Replica::new(read, config.database.read_max_lag)));
        let positions = replica.as_ref().map(|_| dbs.primary.clone());
        Self(Arc::new(CoreInner {
            cache: Arc::new(ContentCache::new(config.cache.max_bytes, positions)),
            jobs: JobQueue::new(config.outbox.max_attempts),
            db: dbs.primary,
            direct: dbs.direct,
            replica,
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

    /// Where a public read goes, for content whose staleness is harmless: the read replica
    /// while it is up, within its lag and past the last content change; else the primary.
    pub fn reads(&self) -> &Db {
        match &self.replica {
            Some(replica)
                if replica.usable() && replica.replayed() >= self.cache.required_position() =>
            {
                replica.db()
            }
            _ => &self.db,
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}
