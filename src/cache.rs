//! The in-memory cache of published content, shared by every public read, and its
//! invalidation on every replica through Postgres LISTEN/NOTIFY.
//!
//! It stores values of any type (each capability keeps its own, under keys it names) and
//! knows none of them. A content write calls [`ContentCache::changed`] on its unit of work:
//! that sends a notification, which Postgres delivers to every replica when the transaction
//! commits, and each replica bumps its generation, making every entry built before it
//! stale; the writing replica also bumps its own as soon as the work commits, so it never
//! serves what it just changed. While the listener is not connected (start-up, a lost
//! connection), nothing is cached: a replica that could miss a notification must not trust
//! its cache. The listener proves it hears: it sends itself a probe through the pool every
//! half minute, and stops caching when one does not come back (LISTEN through a
//! transaction pooler hears nothing).
//!
//! With a read replica, an entry built from the replica must not hold content older than
//! the change that invalidated the last one: each change raises a barrier, the primary's
//! WAL position after it, which the replica must have replayed before reads go to it (see
//! `Core::reads`).

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use axum::response::Response;
use moka::sync::Cache;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, Work, replica};
use crate::error::Result;
use crate::http::conditional::{Cacheable, Preconditions};

pub const CHANNEL: &str = "frontdesk_content";
/// A listener's own check that notifications reach it; not a change.
const PROBE: &str = "probe:";
const PROBE_EVERY: Duration = Duration::from_secs(30);
const PROBE_PATIENCE: Duration = Duration::from_secs(10);

/// What the cache needs to know of a value: roughly how many bytes it holds, so the cache
/// is bounded in memory rather than in count.
pub trait Weigh: Any + Send + Sync {
    fn weight(&self) -> usize;
}

impl Weigh for Cacheable {
    fn weight(&self) -> usize {
        Cacheable::weight(self)
    }
}

/// A value kept outside the budget, with the generation it was built in.
type Built = (u64, Arc<dyn Any + Send + Sync>);
/// One large value's place: locked while it is built, so one caller builds and the rest wait.
type LargeSlot = Arc<tokio::sync::Mutex<Option<Built>>>;

/// Where an entry is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Pages, lists, feeds: what a site shows.
    Content,
    /// Answers to what visitors type (searches): many, each asked rarely.
    Queries,
}

fn weighed(max_bytes: u64) -> Cache<String, Entry> {
    Cache::builder()
        .max_capacity(max_bytes)
        .weigher(|key: &String, entry: &Entry| {
            entry
                .weight
                .saturating_add(u32::try_from(key.len()).unwrap_or(u32::MAX))
        })
        .build()
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    /// `None`: known not to exist.
    value: Option<Arc<dyn Any + Send + Sync>>,
    weight: u32,
}

pub struct ContentCache {
    generation: AtomicU64,
    listening: AtomicBool,
    entries: Cache<String, Entry>,
    /// Answers to queries (searches), in their own eighth of the budget: a flood of one-off
    /// queries evicts other queries, never the pages, lists and feeds.
    queries: Cache<String, Entry>,
    /// Values that may outgrow the budget (see [`ContentCache::get_or_build_large`]), with
    /// the generation each was built in: a slot per key, so building one (the search index)
    /// never holds up readers of another (the sitemaps).
    large: Mutex<std::collections::HashMap<&'static str, LargeSlot>>,
    /// The primary, to learn WAL positions, when a read replica is in use.
    positions: Option<Db>,
    barrier: Mutex<Barrier>,
}

/// The WAL position content has to be read at (`u64::MAX` until known), and which change
/// set it: only the latest change's position settles it.
#[derive(Default)]
struct Barrier {
    change: u64,
    position: u64,
}

impl ContentCache {
    /// `positions`: the primary, when reads may go to a replica.
    pub fn new(max_bytes: u64, positions: Option<Db>) -> Self {
        Self {
            positions,
            barrier: Mutex::new(Barrier::default()),
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            large: Mutex::default(),
            entries: weighed(max_bytes - max_bytes / 8),
            queries: weighed(max_bytes / 8),
        }
    }

    fn tier(&self, tier: Tier) -> &Cache<String, Entry> {
        match tier {
            Tier::Content => &self.entries,
            Tier::Queries => &self.queries,
        }
    }

    /// The value cached under `key`, or what `build` makes (`None`: nothing there, which is
    /// remembered too), stored when it is safe to. A key always holds one type: the
    /// capability that names it decides which.
    pub async fn get_or_build<T, F, Fut>(&self, key: &str, build: F) -> Result<Option<Arc<T>>>
    where
        T: Weigh,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        self.get_or_build_in(Tier::Content, key, build).await
    }

    /// [`ContentCache::get_or_build`] in one of the tiers.
    pub async fn get_or_build_in<T, F, Fut>(
        &self,
        tier: Tier,
        key: &str,
        build: F,
    ) -> Result<Option<Arc<T>>>
    where
        T: Weigh,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let entries = self.tier(tier);
        // Read the generation before building: if content changes meanwhile, the entry is
        // already stale when stored.
        let generation = self.generation.load(Ordering::Acquire);
        let listening = self.listening.load(Ordering::Acquire);
        if listening {
            if let Some(found) = Self::lookup(entries, key, generation) {
                return Ok(found);
            }
        }
        let value = build().await?.map(Arc::new);
        if listening {
            let weight = value.as_ref().map_or(64, |v| v.weight() + 64);
            entries.insert(
                key.to_owned(),
                Entry {
                    generation,
                    value: value.clone().map(|v| -> Arc<dyn Any + Send + Sync> { v }),
                    weight: u32::try_from(weight).unwrap_or(u32::MAX),
                },
            );
        }
        Ok(value)
    }

    /// Like [`ContentCache::get_or_build`] for one value that may outgrow the budget (the
    /// sitemaps of a large site): built by one caller at a time while the others wait for
    /// it, and the latest kept, outside the budget, until content changes. So however many
    /// ask at once, there is one build per change, and one such value in memory.
    pub async fn get_or_build_large<T, F, Fut>(&self, key: &'static str, build: F) -> Result<Arc<T>>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let slot = self.large_slot(key);
        let mut large = slot.lock().await;
        let generation = self.generation.load(Ordering::Acquire);
        let listening = self.listening.load(Ordering::Acquire);
        if listening {
            if let Some((built, value)) = large.as_ref() {
                if *built == generation {
                    if let Ok(value) = value.clone().downcast::<T>() {
                        return Ok(value);
                    }
                }
            }
        }
        *large = None;
        let value = Arc::new(build().await?);
        if listening {
            *large = Some((generation, value.clone()));
        }
        Ok(value)
    }

    /// The current value kept under `key` by [`ContentCache::get_or_build_large`], if there
    /// is one; nothing is built, nor waited for (`None` while one is being built).
    pub fn large<T: Any + Send + Sync>(&self, key: &'static str) -> Option<Arc<T>> {
        let slot = self.large_slot(key);
        let large = slot.try_lock().ok()?;
        let generation = self.generation.load(Ordering::Acquire);
        let (built, value) = large.as_ref()?;
        (*built == generation).then(|| value.clone().downcast::<T>().ok())?
    }

    fn large_slot(&self, key: &'static str) -> LargeSlot {
        let mut slots = self
            .large
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.entry(key).or_default().clone()
    }

    /// What the content tier holds under `key`, if it holds it and it is current (the inner
    /// `None`: known not to exist); nothing is built.
    pub fn cached<T: Weigh>(&self, key: &str) -> Option<Option<Arc<T>>> {
        let generation = self.generation.load(Ordering::Acquire);
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        Self::lookup(&self.entries, key, generation)
    }

    fn lookup<T: Weigh>(
        entries: &Cache<String, Entry>,
        key: &str,
        generation: u64,
    ) -> Option<Option<Arc<T>>> {
        let entry = entries.get(key).filter(|e| e.generation == generation)?;
        match entry.value {
            None => Some(None),
            Some(value) => value.downcast::<T>().ok().map(Some),
        }
    }

    /// Forgets everything cached so far (on this replica).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
        self.queries.invalidate_all();
    }

    /// Content changed (a commit here, or a notification): reads must not come from
    /// anywhere behind the primary's position after it, and nothing cached stays.
    fn content_changed(self: &Arc<Self>) {
        let Some(primary) = self.positions.clone() else {
            self.invalidate();
            return;
        };
        let change = {
            let mut barrier = self.barrier.lock().unwrap_or_else(|e| e.into_inner());
            barrier.change += 1;
            barrier.position = u64::MAX;
            barrier.change
        };
        self.invalidate();
        let cache = self.clone();
        tokio::spawn(async move {
            match replica::current_position(&primary).await {
                Ok(position) => {
                    let mut barrier = cache.barrier.lock().unwrap_or_else(|e| e.into_inner());
                    if barrier.change == change {
                        barrier.position = position;
                    }
                }
                // Reads stay on the primary until the next change settles the barrier.
                Err(err) => tracing::warn!(error = %err, "cannot read the primary's WAL position"),
            }
        });
    }

    /// The WAL position public reads must see: a replica that has not replayed it yet
    /// must not serve them. Zero without a read replica.
    pub fn required_position(&self) -> u64 {
        self.barrier
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .position
    }

    /// Marks published content as changed by `work`: every replica is told when it
    /// commits, and this one forgets its cache as soon as it has.
    pub async fn changed(self: &Arc<Self>, work: &mut Work) -> Result<()> {
        sqlx::query!("select pg_notify($1, '')", CHANNEL)
            .execute(&mut **work)
            .await?;
        let cache = self.clone();
        work.after_commit(move || cache.content_changed());
        Ok(())
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Release);
    }

    /// Listens for content changes until `shutdown` on `direct` (Postgres itself),
    /// reconnecting after failures; probes go through `primary`, as changes do.
    pub async fn listen(self: Arc<Self>, direct: PgPool, primary: Db, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self.listen_once(&direct, &primary, &shutdown).await {
                Ok(()) => return,
                Err(ListenError::Unheard) => {
                    self.set_listening(false);
                    self.invalidate();
                    tracing::error!(
                        "content change notifications sent through DATABASE_URL do not reach the listener (on DATABASE_DIRECT_URL, or DATABASE_URL when unset) within {} s; caching is off until they do. Behind a transaction pooler, set DATABASE_POOLER=transaction and DATABASE_DIRECT_URL to Postgres itself",
                        PROBE_PATIENCE.as_secs()
                    );
                }
                Err(ListenError::Lost(err)) => {
                    self.set_listening(false);
                    self.invalidate();
                    tracing::warn!(error = %err, "content cache listener lost; caching paused until it reconnects");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn listen_once(
        self: &Arc<Self>,
        direct: &PgPool,
        primary: &Db,
        shutdown: &CancellationToken,
    ) -> Result<(), ListenError> {
        let mut listener = PgListener::connect_with(direct).await?;
        // Without this, sqlx would silently reconnect and we could miss a notification.
        listener.ignore_pool_close_event(false);
        listener.listen(CHANNEL).await?;
        // Anything cached before we were listening may have missed a change; caching
        // starts once the first probe is heard.
        self.invalidate();
        let mut probe = Probe::send(primary).await?;
        let mut next_probe = Instant::now() + PROBE_EVERY;
        loop {
            let wake = match &probe {
                Some(p) => p.sent + PROBE_PATIENCE,
                None => next_probe,
            };
            tokio::select! {
                () = shutdown.cancelled() => {
                    self.set_listening(false);
                    return Ok(());
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    if probe.is_some() {
                        return Err(ListenError::Unheard);
                    }
                    probe = Probe::send(primary).await?;
                    next_probe = Instant::now() + PROBE_EVERY;
                }
                message = listener.try_recv() => match message? {
                    Some(note) if probe.as_ref().is_some_and(|p| p.payload == note.payload()) => {
                        probe = None;
                        if !self.is_listening() {
                            self.set_listening(true);
                            tracing::debug!("content cache listening for changes");
                        }
                    }
                    // Another replica's probe.
                    Some(note) if note.payload().starts_with(PROBE) => {}
                    Some(_) => self.content_changed(),
                    None => return Err(ListenError::Lost(sqlx::Error::PoolClosed)),
                },
            }
        }
    }

    /// A public JSON read through the cache: the body and its ETag are built once per
    /// content generation, and If-None-Match is answered with 304.
    pub async fn public_json<T, F, Fut>(
        &self,
        key: &str,
        headers: &Preconditions,
        build: F,
    ) -> Result<Response>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.public_json_in(Tier::Content, key, headers, build)
            .await
    }

    /// [`ContentCache::public_json`] in one of the tiers.
    pub async fn public_json_in<T, F, Fut>(
        &self,
        tier: Tier,
        key: &str,
        headers: &Preconditions,
        build: F,
    ) -> Result<Response>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let body = self
            .get_or_build_in(tier, key, || async {
                Ok(Some(Cacheable::json(&build().await?)?))
            })
            .await?
            .ok_or_else(|| anyhow::anyhow!("cache key {key} lost its value"))?;
        Ok(body.respond(headers))
    }

    /// Like [`ContentCache::public_json`] for something that may not exist (`None` is
    /// cached too).
    pub async fn public_json_optional<T, F, Fut>(
        &self,
        key: &str,
        headers: &Preconditions,
        build: F,
    ) -> Result<Option<Response>>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let body = self
            .get_or_build(key, || async {
                build().await?.map(|v| Cacheable::json(&v)).transpose()
            })
            .await?;
        Ok(body.map(|b| b.respond(headers)))
    }

    /// A public non-JSON read (a feed, the sitemap) through the cache; `None` if there is
    /// nothing.
    pub async fn public_body<F, Fut>(
        &self,
        key: &str,
        headers: &Preconditions,
        content_type: HeaderValue,
        build: F,
    ) -> Result<Option<Response>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Vec<u8>>>>,
    {
        let body = self
            .get_or_build(key, || async {
                Ok(build()
                    .await?
                    .map(|body| Cacheable::new(body, content_type)))
            })
            .await?;
        Ok(body.map(|b| b.respond(headers)))
    }
}

enum ListenError {
    /// Our own probe did not come back.
    Unheard,
    Lost(sqlx::Error),
}

impl From<sqlx::Error> for ListenError {
    fn from(err: sqlx::Error) -> Self {
        Self::Lost(err)
    }
}

/// A notification a listener sends itself, to know that it hears.
struct Probe {
    payload: String,
    sent: Instant,
}

impl Probe {
    async fn send(primary: &Db) -> Result<Option<Self>, sqlx::Error> {
        let payload = format!("{PROBE}{}", uuid::Uuid::new_v4());
        sqlx::query!("select pg_notify($1, $2)", CHANNEL, payload)
            .execute(primary)
            .await?;
        Ok(Some(Self {
            payload,
            sent: Instant::now(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Number(i32);

    impl Weigh for Number {
        fn weight(&self) -> usize {
            4
        }
    }

    async fn get(cache: &ContentCache, n: i32) -> i32 {
        cache
            .get_or_build("k", || async { Ok(Some(Number(n))) })
            .await
            .expect("build")
            .map_or(-1, |v| v.0)
    }

    #[tokio::test]
    async fn nothing_is_cached_until_listening() {
        let cache = ContentCache::new(1 << 20, None);
        get(&cache, 1).await;
        assert_eq!(get(&cache, 2).await, 2);
    }

    #[tokio::test]
    async fn entries_are_served_until_invalidated() {
        let cache = ContentCache::new(1 << 20, None);
        cache.set_listening(true);
        get(&cache, 1).await;
        assert_eq!(get(&cache, 2).await, 1);
        cache.invalidate();
        assert_eq!(get(&cache, 3).await, 3);
    }

    #[tokio::test]
    async fn missing_things_are_remembered_too() {
        let cache = ContentCache::new(1 << 20, None);
        cache.set_listening(true);
        let none = cache
            .get_or_build::<Number, _, _>("gone", || async { Ok(None) })
            .await
            .expect("build");
        assert!(none.is_none());
        let still = cache
            .get_or_build("gone", || async { Ok(Some(Number(1))) })
            .await
            .expect("hit");
        assert!(still.is_none());
    }

    #[tokio::test]
    async fn an_entry_built_across_an_invalidation_is_not_reused() {
        let cache = ContentCache::new(1 << 20, None);
        cache.set_listening(true);
        cache
            .get_or_build("k", || async {
                // The content changes while this read is building its answer.
                cache.invalidate();
                Ok(Some(Number(1)))
            })
            .await
            .expect("build");
        assert_eq!(get(&cache, 2).await, 2);
    }
}
