//! Job workers: every replica runs OUTBOX_WORKERS of them. Each claims a small batch of
//! due jobs at a time (FOR UPDATE SKIP LOCKED) under a lease, delivers them one after
//! another while renewing the leases, and records failures (a retry with backoff, or
//! parking) as they happen and the successes together at the end. A worker that dies stops
//! renewing, so its job comes back within OUTBOX_LEASE_SECS. What a job is delivered by is
//! the handler registered for its kind: the runner itself knows none of them.
//!
//! The unit of work that adds a job wakes this replica's workers once it has committed;
//! the others find it on their next poll. (A NOTIFY in the adding transaction would wake
//! every replica, but Postgres serializes the commits of notifying transactions, which
//! would cap lead capture at one commit at a time.)

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::queue::{self, Claimed};

/// The most jobs a worker claims at once. A batch costs two statements (the claim, the
/// successes) instead of two per job; kept small so that one slow delivery holds up few
/// others while other workers are idle.
pub const BATCH: i64 = 8;

/// A delivery in progress: `Ok(how)` (`smtp`, `kept`, `http`, `skipped`...) or the error
/// that makes it a failed attempt.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = anyhow::Result<&'static str>> + Send + 'a>>;

/// Delivers jobs of one kind.
pub trait JobHandler: Send + Sync {
    fn deliver<'a>(&'a self, job: &'a Claimed) -> Delivery<'a>;
}

/// The handler of each job kind.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<&'static str, Arc<dyn JobHandler>>);

impl Handlers {
    pub fn with(mut self, kind: &'static str, handler: impl JobHandler + 'static) -> Self {
        self.0.insert(kind, Arc::new(handler));
        self
    }
}

/// How the workers run.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    pub workers: usize,
    pub poll: Duration,
    pub retry_base: Duration,
    pub lease: Duration,
}

#[derive(Clone)]
pub struct Runner {
    db: Db,
    handlers: Arc<Handlers>,
    settings: WorkerSettings,
}

impl Runner {
    pub fn new(db: Db, handlers: Handlers, settings: WorkerSettings) -> Self {
        Self {
            db,
            handlers: Arc::new(handlers),
            settings,
        }
    }

    /// Claims up to [`BATCH`] due jobs and delivers them one after another; false when
    /// there were none. The claim and the successes are one statement each, however many
    /// jobs the batch holds; a failure is recorded as it happens. A job whose lease another
    /// worker took meanwhile (renewals failed for a whole lease) is left to that worker;
    /// once `stop` is cancelled no further job starts, and the unstarted ones are handed
    /// back at once, their attempt not counted.
    pub async fn run_once(&self, stop: &CancellationToken) -> crate::error::Result<bool> {
        let lease = self.settings.lease;
        let jobs = queue::claim(&self.db, BATCH, lease).await?;
        if jobs.is_empty() {
            return Ok(false);
        }
        let owned: std::sync::Mutex<HashSet<Uuid>> =
            std::sync::Mutex::new(jobs.iter().map(|job| job.id).collect());
        let mut delivered: Vec<(&Claimed, &'static str)> = Vec::with_capacity(jobs.len());
        let mut unstarted: Vec<&Claimed> = Vec::new();
        {
            let deliveries = async {
                for (i, job) in jobs.iter().enumerate() {
                    if stop.is_cancelled() {
                        unstarted.extend(&jobs[i..]);
                        break;
                    }
                    let still_ours = owned.lock().map_or(true, |owned| owned.contains(&job.id));
                    if !still_ours {
                        continue;
                    }
                    match self.deliver(job).await {
                        Ok(via) => delivered.push((job, via)),
                        // Not recorded: the lease lapses and the job is tried again.
                        Err(err) => {
                            if let Err(db) = self.failed(job, &err).await {
                                tracing::warn!(job = %job.id, error = %db, "could not record a failed delivery");
                            }
                        }
                    }
                }
            };
            tokio::pin!(deliveries);
            // Renew the leases a few times per lease while the deliveries run.
            let mut heartbeat = tokio::time::interval(lease / 3);
            heartbeat.tick().await;
            loop {
                tokio::select! {
                    () = &mut deliveries => break,
                    _ = heartbeat.tick() => match queue::renew(&self.db, &jobs, lease).await {
                        Ok(ours) => {
                            if let Ok(mut owned) = owned.lock() {
                                owned.retain(|id| ours.contains(id));
                            }
                        }
                        Err(err) => {
                            tracing::warn!(jobs = jobs.len(), error = %err, "could not renew the leases of claimed jobs");
                        }
                    },
                }
            }
        }
        // What was delivered must be recorded, or it is delivered again when its lease
        // lapses: one more try after a failure.
        if let Err(err) = queue::succeed(&self.db, &delivered).await {
            tracing::warn!(jobs = delivered.len(), error = %err, "could not record deliveries; trying again");
            queue::succeed(&self.db, &delivered).await?;
        }
        queue::release(&self.db, &unstarted).await?;
        Ok(true)
    }

    async fn failed(&self, job: &Claimed, err: &anyhow::Error) -> crate::error::Result<()> {
        let parked =
            queue::fail(&self.db, job, &format!("{err:#}"), self.settings.retry_base).await?;
        if parked {
            tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %err, "outbox job parked after its last attempt");
        } else {
            tracing::info!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %err, "outbox job failed; will retry");
        }
        Ok(())
    }

    async fn deliver(&self, job: &Claimed) -> anyhow::Result<&'static str> {
        match self.handlers.0.get(job.kind.as_str()) {
            Some(handler) => handler.deliver(job).await,
            None => anyhow::bail!("no handler for jobs of kind {}", job.kind),
        }
    }

    /// Runs the workers until `shutdown`; `wake` is the queue's (see `JobQueue::waker`).
    pub async fn run(self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let mut handles = Vec::new();
        for _ in 0..self.settings.workers {
            let runner = self.clone();
            let wake = wake.clone();
            let shutdown = shutdown.clone();
            handles.push(tokio::spawn(async move {
                loop {
                    if shutdown.is_cancelled() {
                        return;
                    }
                    match runner.run_once(&shutdown).await {
                        Ok(true) => continue,
                        Ok(false) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "outbox worker could not claim or record jobs");
                        }
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = wake.notified() => {}
                        () = tokio::time::sleep(runner.settings.poll) => {}
                    }
                }
            }));
        }
        for handle in handles {
            let _ = handle.await;
        }
    }
}

/// Something kept only for a while, dropped by housekeeping: its name (for logs) and what
/// removes what is past its time, returning how many rows went.
pub struct RetentionJob {
    pub name: &'static str,
    pub run: Box<dyn Fn(Db) -> Removal + Send + Sync>,
}

/// A retention job's run: how many rows it removed.
pub type Removal = Pin<Box<dyn Future<Output = crate::error::Result<u64>> + Send>>;

impl RetentionJob {
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: Fn(Db) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = crate::error::Result<u64>> + Send + 'static,
    {
        Self {
            name,
            run: Box::new(move |db| Box::pin(run(db))),
        }
    }
}

/// Every five minutes, on every replica (the deletes are idempotent), runs the retention
/// jobs the composition root lists.
pub async fn housekeeping(db: Db, jobs: Vec<RetentionJob>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(300));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        run_housekeeping(&db, &jobs).await;
    }
}

/// One round of housekeeping; what fails is logged and tried again next round.
pub async fn run_housekeeping(db: &Db, jobs: &[RetentionJob]) {
    for job in jobs {
        match (job.run)(db.clone()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "housekeeping: {}", job.name),
            Err(err) => tracing::warn!(error = %err, "housekeeping could not remove {}", job.name),
        }
    }
}
