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
//! its cache.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::Response;
use moka::sync::Cache;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::db::Work;
use crate::error::Result;
use crate::http::conditional::{Cacheable, Preconditions};

pub const CHANNEL: &str = "frontdesk_content";

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
}

impl ContentCache {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Entry| {
                    entry
                        .weight
                        .saturating_add(u32::try_from(key.len()).unwrap_or(u32::MAX))
                })
                .build(),
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
        // Read the generation before building: if content changes meanwhile, the entry is
        // already stale when stored.
        let generation = self.generation.load(Ordering::Acquire);
        let listening = self.listening.load(Ordering::Acquire);
        if listening {
            if let Some(entry) = self.entries.get(key) {
                if entry.generation == generation {
                    match entry.value {
                        None => return Ok(None),
                        Some(value) => {
                            if let Ok(value) = value.downcast::<T>() {
                                return Ok(Some(value));
                            }
                        }
                    }
                }
            }
        }
        let value = build().await?.map(Arc::new);
        if listening {
            let weight = value.as_ref().map_or(64, |v| v.weight() + 64);
            self.entries.insert(
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

    /// Forgets everything cached so far (on this replica).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// Marks published content as changed by `work`: every replica is told when it
    /// commits, and this one forgets its cache as soon as it has.
    pub async fn changed(self: &Arc<Self>, work: &mut Work) -> Result<()> {
        sqlx::query!("select pg_notify($1, '')", CHANNEL)
            .execute(&mut **work)
            .await?;
        let cache = self.clone();
        work.after_commit(move || cache.invalidate());
        Ok(())
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Release);
    }

    /// Listens for content changes until `shutdown`, reconnecting after failures.
    pub async fn listen(self: Arc<Self>, db: PgPool, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self.listen_once(&db, &shutdown).await {
                Ok(()) => return,
                Err(err) => {
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
        &self,
        db: &PgPool,
        shutdown: &CancellationToken,
    ) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(db).await?;
        // Without this, sqlx would silently reconnect and we could miss a notification.
        listener.ignore_pool_close_event(false);
        listener.listen(CHANNEL).await?;
        // Anything cached before we were listening may have missed a change.
        self.invalidate();
        self.set_listening(true);
        tracing::debug!("content cache listening for changes");
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    self.set_listening(false);
                    return Ok(());
                }
                message = listener.try_recv() => match message? {
                    Some(_) => self.invalidate(),
                    None => return Err(sqlx::Error::PoolClosed),
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
        let body = self
            .get_or_build(key, || async {
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
        let cache = ContentCache::new(1 << 20);
        get(&cache, 1).await;
        assert_eq!(get(&cache, 2).await, 2);
    }

    #[tokio::test]
    async fn entries_are_served_until_invalidated() {
        let cache = ContentCache::new(1 << 20);
        cache.set_listening(true);
        get(&cache, 1).await;
        assert_eq!(get(&cache, 2).await, 1);
        cache.invalidate();
        assert_eq!(get(&cache, 3).await, 3);
    }

    #[tokio::test]
    async fn missing_things_are_remembered_too() {
        let cache = ContentCache::new(1 << 20);
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
        let cache = ContentCache::new(1 << 20);
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
