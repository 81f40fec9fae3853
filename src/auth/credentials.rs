//! Secrets: argon2id password hashes and random bearer tokens stored only as SHA-256.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Decimal, Ident, Output, ParamsString, Salt, SaltString};
use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
};
use tokio::sync::Semaphore;

use crate::validation::Validator;

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Prefix of login-session tokens.
pub const SESSION_PREFIX: &str = "fds_";
/// Prefix of API tokens (so secret scanners can recognise a leaked one).
pub const API_TOKEN_PREFIX: &str = "fdt_";

/// Hashes a password with argon2id and a random salt. Slow by design: call it off the
/// async workers (see [`hash_password_blocking`]).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    MappedArgon2
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        MappedArgon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The most working memory a stored hash may ask for (its `m` parameter, in KiB): a hash
/// that somebody planted in the database must not make a login map gigabytes...
const MAX_MEMORY_KIB: u32 = 256 * 1024;
/// Nor tie up a hashing slot for minutes.
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 16;

/// argon2id with the recommended parameters (19 MiB, two passes, one lane), whose working
/// memory is mapped from the kernel for each hash and unmapped as soon as it is done.
/// `Argon2::hash_password` takes it from the allocator instead, which keeps freed blocks of
/// this size resident (glibc raises its mmap threshold after the first one, and keeps an
/// arena per thread that hashed): a few logins cost the process 19 MiB each for the rest of
/// its life. The algorithm is the `argon2` crate's, untouched; only the memory differs.
struct MappedArgon2;

impl PasswordHasher for MappedArgon2 {
    type Params = Params;

    fn hash_password<'a>(
        &self,
        password: &[u8],
        salt: impl Into<Salt<'a>>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        self.hash_password_customized(password, None, None, Params::default(), salt)
    }

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        use argon2::password_hash::Error;
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or(Algorithm::Argon2id);
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        if params.m_cost() > MAX_MEMORY_KIB
            || params.t_cost() > MAX_PASSES
            || params.p_cost() > MAX_LANES
        {
            return Err(Error::ParamValueInvalid(
                argon2::password_hash::errors::InvalidValue::TooLong,
            ));
        }
        let salt = salt.into();
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let mut memory = WorkingMemory::map(params.block_count()).map_err(|_| Error::Crypto)?;
        let hasher = Argon2::new(algorithm, version, params.clone());
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            Ok(hasher.hash_password_into_with_memory(password, salt_bytes, out, &mut memory)?)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

/// argon2's blocks in an anonymous mapping of their own, returned to the kernel on drop.
struct WorkingMemory {
    map: memmap2::MmapMut,
    blocks: usize,
}

impl WorkingMemory {
    fn map(blocks: usize) -> std::io::Result<Self> {
        let bytes = blocks
            .checked_mul(Block::SIZE)
            .ok_or_else(|| std::io::Error::other("argon2 memory too large"))?;
        Ok(Self {
            map: memmap2::MmapMut::map_anon(bytes.max(1))?,
            blocks,
        })
    }
}

impl AsMut<[Block]> for WorkingMemory {
    fn as_mut(&mut self) -> &mut [Block] {
        let start = self.map.as_mut_ptr();
        debug_assert!(start.cast::<Block>().is_aligned());
        // SAFETY: the mapping is `blocks * Block::SIZE` bytes long, page-aligned (more than
        // Block's 64-byte alignment), zeroed by the kernel (a valid Block: it is plain u64s),
        // and borrowed mutably through `self` for as long as the slice lives.
        unsafe { std::slice::from_raw_parts_mut(start.cast::<Block>(), self.blocks) }
    }
}

/// Each argon2 run holds 19 MiB for its duration; at most one per core runs at a time, so a
/// flood of logins queues instead of multiplying memory.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// Verifies against the stored hash, or against a dummy hash when there is no such user,
/// so both cases take the same time.
pub async fn verify_password_blocking(password: String, hash: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        verify_password(&password, hash.as_deref().unwrap_or(DUMMY_HASH))
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash, with the default parameters, of a password nobody uses: what unknown
/// emails are checked against.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$KPK9jmsFbKiWPAz5ZxYQ+w$UUneQ9ZtbQuV5Yw5kYAyRVWpNA7h7lkDfn1XvQVQ3K0";

pub fn check_password(v: &mut Validator, field: &str, password: &str) {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        v.error(
            field,
            "too_short",
            format!("{field} must be at least {MIN_PASSWORD_LEN} characters"),
        );
    } else if len > MAX_PASSWORD_LEN {
        v.error(
            field,
            "too_long",
            format!("{field} must be at most {MAX_PASSWORD_LEN} characters"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the bytes each thread asks the allocator for, to show where argon2's working
    /// memory comes from.
    struct CountingAllocator;

    thread_local! {
        static ALLOCATED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    // SAFETY: every call is forwarded to the system allocator unchanged.
    unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            ALLOCATED.with(|n| n.set(n.get().saturating_add(layout.size())));
            // SAFETY: the caller's contract is the system allocator's.
            unsafe { std::alloc::System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            // SAFETY: as above.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static COUNTING: CountingAllocator = CountingAllocator;

    fn allocated_by(work: impl FnOnce()) -> usize {
        let before = ALLOCATED.with(std::cell::Cell::get);
        work();
        ALLOCATED.with(std::cell::Cell::get) - before
    }

    #[test]
    fn hashing_takes_its_working_memory_from_the_kernel_not_the_allocator() {
        // Stock argon2 takes its 19 MiB from the allocator, which keeps it resident.
        let stock = allocated_by(|| {
            let salt = SaltString::generate(&mut OsRng);
            assert!(Argon2::default().hash_password(b"pw", &salt).is_ok());
        });
        assert!(
            stock >= 19 * 1024 * 1024,
            "stock argon2 allocated {stock} bytes"
        );
        let ours = allocated_by(|| {
            let hash = hash_password("correct horse battery").expect("hash");
            assert!(verify_password("correct horse battery", &hash));
            assert!(!verify_password("x", DUMMY_HASH));
        });
        assert!(ours < 64 * 1024, "hash and verify allocated {ours} bytes");
    }

    #[test]
    fn hashes_are_the_argon2_crates_own() {
        let salt = SaltString::generate(&mut OsRng);
        let stock = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .expect("stock hash")
            .to_string();
        assert!(verify_password("correct horse battery", &stock));
        let ours = MappedArgon2
            .hash_password(b"correct horse battery", &salt)
            .expect("our hash")
            .to_string();
        assert_eq!(ours, stock, "same salt, same parameters, same hash");
    }

    #[test]
    fn a_hash_asking_for_too_much_memory_or_time_is_refused() {
        let greedy = "$argon2id$v=19$m=4194304,t=1,p=1$KPK9jmsFbKiWPAz5ZxYQ+w$UUneQ9ZtbQuV5Yw5kYAyRVWpNA7h7lkDfn1XvQVQ3K0";
        assert!(!verify_password("anything", greedy));
        let slow = "$argon2id$v=19$m=19456,t=100000,p=1$KPK9jmsFbKiWPAz5ZxYQ+w$UUneQ9ZtbQuV5Yw5kYAyRVWpNA7h7lkDfn1XvQVQ3K0";
        assert!(!verify_password("anything", slow));
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        assert!(verify_password(
            "not a password anybody has: timing only",
            DUMMY_HASH
        ));
        let real = hash_password("x").expect("hash");
        let params = |h: &str| h.split('$').nth(3).map(str::to_owned);
        assert_eq!(params(&real), params(DUMMY_HASH), "same argon2 parameters");
    }
}
