//! Memory the process no longer uses, given back to the kernel.
//!
//! Start-up (building the OpenAPI document, the router) frees a few MB of heap that glibc's
//! malloc keeps for reuse unless asked to return it; so do bursts of requests. On other
//! platforms and allocators this does nothing. (Most of a fresh server's resident memory is
//! the binary's own code pages, mapped from the page cache: see bench/RESULTS.md.)

/// Gives the heap's free pages back to the kernel (glibc keeps them otherwise, for reuse):
/// after start-up, and every few seconds while serving (see [`release_periodically`]).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "mimalloc")))]
    // SAFETY: malloc_trim only returns unused memory of glibc's allocator; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How often a serving process gives free heap back: a burst of requests leaves its memory
/// resident for about this long at most. A trim walks the allocator's free lists.
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Releases free memory every [`RELEASE_EVERY`] until `shutdown`.
pub async fn release_periodically(shutdown: tokio_util::sync::CancellationToken) {
    let mut ticker = tokio::time::interval(RELEASE_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => release_free_memory(),
        }
    }
}
