//! The in-memory cache of published content, shared by every public read, and its
//! invalidation on every replica through Postgres LISTEN/NOTIFY.
//!
//! A content write calls [`notify_changed`] inside its transaction; Postgres delivers the
//! notification to every replica when the transaction commits, and each replica bumps its
//! generation, which makes every entry built before it stale. The writing replica also bumps
//! its own generation as soon as the write returns, so it never serves what it just changed.
//! While the listener is not connected (start-up, a lost connection), nothing is cached:
//! a replica that could miss a notification must not trust its cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::Response;
use moka::sync::Cache;
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::http::conditional::{Cacheable, Preconditions};
use crate::state::AppState;

pub const CHANNEL: &str = "frontdesk_content";

/// What a cache entry holds. Each kind of read puts its own variant.
#[derive(Clone)]
pub enum Cached {
    /// A finished public response body (JSON, XML) with its validator.
    Response(crate::http::conditional::Cacheable),
    /// A post page, ready to be completed with live share counts.
    Post(Arc<crate::blog::PostPage>),
    /// An old slug of a post: redirect to the current one.
    Redirect(Arc<str>),
    /// The words of published content, for correcting typos in searches.
    Lexicon(Arc<crate::blog::search::Lexicon>),
    /// Known not to exist.
    Missing,
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    value: Cached,
}

impl Entry {
    /// Roughly the bytes the entry holds, so the cache is bounded in memory, not in count.
    fn weight(&self, key: &str) -> u32 {
        let value = match &self.value {
            Cached::Response(response) => response.weight(),
            Cached::Post(page) => page.json_prefix.len() + 256,
            Cached::Lexicon(lexicon) => lexicon.weight(),
            Cached::Redirect(slug) => slug.len() + 64,
            Cached::Missing => 64,
        };
        u32::try_from(key.len() + value).unwrap_or(u32::MAX)
    }
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
                .weigher(|key: &String, entry: &Entry| entry.weight(key))
                .build(),
        }
    }

    /// The cached value for `key`, or `build`'s result, remembered when it is safe to.
    pub async fn get_or_build<F, Fut>(&self, key: &str, build: F) -> Result<Cached>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Cached>>,
    {
        // Read the generation before building: if content changes meanwhile, the entry is
        // already stale when stored.
        let generation = self.generation.load(Ordering::Acquire);
        let listening = self.listening.load(Ordering::Acquire);
        if listening {
            if let Some(entry) = self.entries.get(key) {
                if entry.generation == generation {
                    return Ok(entry.value);
                }
            }
        }
        let value = build().await?;
        if listening {
            self.entries.insert(
                key.to_owned(),
                Entry {
                    generation,
                    value: value.clone(),
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
}

/// A public JSON read through the cache: the body and its ETag are built once per content
/// generation, and If-None-Match is answered with 304.
pub async fn public_json<T, F, Fut>(
    state: &AppState,
    key: &str,
    headers: &Preconditions,
    build: F,
) -> Result<Response>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let cached = state
        .cache
        .get_or_build(key, || async {
            Ok(Cached::Response(Cacheable::json(&build().await?)?))
        })
        .await?;
    match cached {
        Cached::Response(response) => Ok(response.respond(headers)),
        _ => Err(anyhow::anyhow!("cache key {key} holds another kind of entry").into()),
    }
}

/// Like [`public_json`] for something that may not exist (`None` is cached too).
pub async fn public_json_optional<T, F, Fut>(
    state: &AppState,
    key: &str,
    headers: &Preconditions,
    build: F,
) -> Result<Option<Response>>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let cached = state
        .cache
        .get_or_build(key, || async {
            Ok(match build().await? {
                Some(value) => Cached::Response(Cacheable::json(&value)?),
                None => Cached::Missing,
            })
        })
        .await?;
    Ok(match cached {
        Cached::Response(response) => Some(response.respond(headers)),
        _ => None,
    })
}

/// A public non-JSON read (a feed, the sitemap) through the cache; `None` if there is nothing.
pub async fn public_body<F, Fut>(
    state: &AppState,
    key: &str,
    headers: &Preconditions,
    content_type: HeaderValue,
    build: F,
) -> Result<Option<Response>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<Vec<u8>>>>,
{
    let cached = state
        .cache
        .get_or_build(key, || async {
            Ok(match build().await? {
                Some(body) => Cached::Response(Cacheable::new(body, content_type)),
                None => Cached::Missing,
            })
        })
        .await?;
    Ok(match cached {
        Cached::Response(response) => Some(response.respond(headers)),
        _ => None,
    })
}

/// Tells every replica that published content changed, when the transaction commits.
pub async fn notify_changed(conn: &mut PgConnection) -> Result<()> {
    sqlx::query!("select pg_notify($1, '')", CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(n: i32) -> Cached {
        Cached::Response(Cacheable::json(&n).expect("json"))
    }

    fn body(c: &Cached) -> String {
        match c {
            Cached::Response(r) => String::from_utf8(r.body().to_vec()).expect("utf8"),
            _ => String::new(),
        }
    }

    #[tokio::test]
    async fn nothing_is_cached_until_listening() {
        let cache = ContentCache::new(1 << 20);
        cache
            .get_or_build("k", || async { Ok(value(1)) })
            .await
            .expect("build");
        let second = cache
            .get_or_build("k", || async { Ok(value(2)) })
            .await
            .expect("build");
        assert_eq!(body(&second), "2");
    }

    #[tokio::test]
    async fn entries_are_served_until_invalidated() {
        let cache = ContentCache::new(1 << 20);
        cache.set_listening(true);
        cache
            .get_or_build("k", || async { Ok(value(1)) })
            .await
            .expect("build");
        let hit = cache
            .get_or_build("k", || async { Ok(value(2)) })
            .await
            .expect("hit");
        assert_eq!(body(&hit), "1");
        cache.invalidate();
        let rebuilt = cache
            .get_or_build("k", || async { Ok(value(3)) })
            .await
            .expect("build");
        assert_eq!(body(&rebuilt), "3");
    }

    #[tokio::test]
    async fn an_entry_built_across_an_invalidation_is_not_reused() {
        let cache = ContentCache::new(1 << 20);
        cache.set_listening(true);
        cache
            .get_or_build("k", || async {
                // The content changes while this read is building its answer.
                cache.invalidate();
                Ok(value(1))
            })
            .await
            .expect("build");
        let next = cache
            .get_or_build("k", || async { Ok(value(2)) })
            .await
            .expect("build");
        assert_eq!(body(&next), "2");
    }
}
