//! The state every handler receives: the pool, the configuration, the shutdown signal, the
//! metrics handle and the caches. It is one `Arc`, so cloning it per request is one atomic
//! increment.

use std::ops::Deref;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::assistant::Assistant;
use crate::blog::model::SharesEntry;
use crate::cache::ContentCache;
use crate::config::Config;
use crate::signing::Signer;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: PgPool,
    pub config: Config,
    /// Cancelled when the process starts shutting down; readiness then answers 503.
    pub shutdown: CancellationToken,
    pub metrics: PrometheusHandle,
    /// Signs links in emails, with the key every replica shares.
    pub signer: Signer,
    /// Published content, shared by public reads; see [`crate::cache`].
    pub cache: Arc<ContentCache>,
    /// Share counts per post, briefly cached: a burst of reads does not re-count each time.
    pub share_counts: moka::sync::Cache<uuid::Uuid, Arc<SharesEntry>>,
    /// The on-site assistant's engines (the model's client, when one is configured).
    pub assistant: Assistant,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The state of a serving process; reads (or makes) the shared link-signing key.
    pub async fn new(db: PgPool, config: Config) -> anyhow::Result<Self> {
        let signer = Signer::load(&db, config.signing_secret.as_ref()).await?;
        Ok(Self::with_signer(db, config, signer))
    }

    pub fn with_signer(db: PgPool, config: Config, signer: Signer) -> Self {
        let cache = Arc::new(ContentCache::new(config.content.cache_bytes));
        let assistant = Assistant::from_config(&config);
        Self(Arc::new(Shared {
            db,
            config,
            shutdown: CancellationToken::new(),
            metrics: crate::telemetry::metrics_handle(),
            signer,
            cache,
            share_counts: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
            assistant,
        }))
    }

    /// Starts the background work of a serving process: the cache's change listener, the
    /// scheduler that publishes scheduled posts, the outbox workers and housekeeping. All
    /// stop at shutdown.
    pub fn start_background(&self) -> anyhow::Result<()> {
        let deliverer = crate::outbox::worker::Deliverer::new(self.db.clone(), &self.config)?;
        tokio::spawn(crate::outbox::worker::run(
            deliverer,
            self.config.outbox.workers,
            self.config.outbox.poll,
            self.shutdown.clone(),
        ));
        tokio::spawn(crate::outbox::worker::housekeeping(
            self.db.clone(),
            self.config.retention.days,
            self.shutdown.clone(),
        ));
        tokio::spawn(
            self.cache
                .clone()
                .listen(self.db.clone(), self.shutdown.clone()),
        );
        tokio::spawn(crate::blog::scheduler::run(
            self.db.clone(),
            self.cache.clone(),
            self.config.content.scheduler_interval,
            self.shutdown.clone(),
        ));
        Ok(())
    }

    /// After a content write returns: this replica forgets its cache at once (the others do
    /// when the write's notification reaches them).
    pub fn content_changed(&self) {
        self.cache.invalidate();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}
