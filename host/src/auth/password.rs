//! Argon2id password hashing with OWASP's parameters (19 MiB, 2 passes, 1
//! lane). Hashing is deliberately slow, so it runs on the blocking pool,
//! never on the async threads.
//!
//! Each hash holds 19 MiB and a core while it runs, so a [`Hasher`] lets at
//! most one per core run at once: the rest wait for a slot, a login at most
//! [`DEFAULT_WAIT`], after which it is refused with 503 rather than piling
//! up memory (a flood of failed logins once grew the server by gigabytes).
//!
//! A login takes its [`Slot`] before anything else and spends it on exactly
//! one check, whether or not the account exists, so that unknown users and
//! wrong passwords cost the same.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Argon2 accepts more, but a longer "password" is a denial-of-service vector.
pub const MAX_PASSWORD_LEN: usize = 256;
/// How long a login waits for a hashing slot before it is refused.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);
/// The `Retry-After` of a login refused for want of a slot.
pub const BUSY_RETRY_AFTER_SECS: u32 = 2;

/// The parameters every new hash gets; stored hashes weaker than these are
/// replaced on their owner's next successful login.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task was lost: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Every slot stayed taken for the whole wait.
    #[error("every password-hashing slot is busy")]
    Busy,
}

fn hasher() -> Argon2<'static> {
    let params =
        Params::new(M_COST_KIB, T_COST, P_COST, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified against when the account does
/// not exist so that unknown users and wrong passwords take the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking(&crate::secrets::random_token(24)).expect("hashing a random password")
});

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether a stored PHC string is weaker than what new hashes get (another
/// algorithm or version, less memory or fewer passes), or unreadable.
pub fn needs_upgrade(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(Version::V0x13.into())
        || params.m_cost() < M_COST_KIB
        || params.t_cost() < T_COST
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The password is right (never for an unknown account).
    pub matches: bool,
    /// A stronger hash of the right password, to store in place of a weak one.
    pub upgraded: Option<String>,
}

fn check_blocking(password: &str, stored: Option<&str>) -> Result<Checked, PasswordError> {
    let hash = stored.unwrap_or(DUMMY_HASH.as_str());
    let matches = hasher().verify_password(password.as_bytes(), hash).is_ok() && stored.is_some();
    let upgraded = if matches && needs_upgrade(hash) {
        Some(hash_blocking(password)?)
    } else {
        None
    };
    Ok(Checked { matches, upgraded })
}

/// Bounds the hashes running at once; cheap to clone (clones share slots).
#[derive(Clone, Debug)]
pub struct Hasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    running: AtomicUsize,
    peak: AtomicUsize,
    unchecked: AtomicU64,
}

/// The process's hasher: one slot per core.
static GLOBAL: LazyLock<Hasher> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    Hasher::new(cores, DEFAULT_WAIT)
});

/// Counts a hash as running while it lives, even if it panics.
struct Running<'a>(&'a Inner);

impl<'a> Running<'a> {
    fn start(inner: &'a Inner) -> Self {
        let now = inner.running.fetch_add(1, Ordering::SeqCst) + 1;
        inner.peak.fetch_max(now, Ordering::SeqCst);
        Self(inner)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    /// At most `size` hashes at once (at least one); a login waits `wait` for a slot.
    pub fn new(size: usize, wait: Duration) -> Self {
        let size = size.max(1);
        Self {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(size)),
                size,
                wait,
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                unchecked: AtomicU64::new(0),
            }),
        }
    }

    pub fn global() -> &'static Hasher {
        &GLOBAL
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// The most hashes that have ever run at once.
    pub fn peak(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }

    /// Slots given up without a check and without [`Slot::release`]: a login
    /// path that skipped its password check (0 unless a request failed).
    pub fn unchecked(&self) -> u64 {
        self.inner.unchecked.load(Ordering::SeqCst)
    }

    /// A slot for one check, waiting at most this hasher's wait for it.
    pub async fn slot(&self) -> Result<Slot, PasswordError> {
        let acquire = self.inner.slots.clone().acquire_owned();
        match tokio::time::timeout(self.inner.wait, acquire).await {
            Ok(Ok(permit)) => Ok(Slot {
                permit: Some(permit),
                hasher: self.clone(),
            }),
            // The semaphore is never closed.
            Ok(Err(_)) | Err(_) => {
                metrics::counter!(crate::telemetry::metrics::SHED, "resource" => "password_hash")
                    .increment(1);
                Err(PasswordError::Busy)
            }
        }
    }

    /// Hashes a new password into a PHC string, waiting as long as it takes
    /// for a slot (only authenticated callers set passwords).
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let permit = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        self.run(permit, move || hash_blocking(&password)).await?
    }

    async fn run<T: Send + 'static>(
        &self,
        permit: OwnedSemaphorePermit,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let inner = self.inner.clone();
        let done = tokio::task::spawn_blocking(move || {
            let _running = Running::start(&inner);
            work()
        })
        .await;
        drop(permit);
        Ok(done?)
    }
}

/// The right to run one password check; spent by [`Slot::check`].
#[must_use = "a login's slot must be spent on its password check"]
#[derive(Debug)]
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    hasher: Hasher,
}

impl Slot {
    /// Checks a password against a stored hash, or against a dummy hash when
    /// `stored` is `None`, in which case it never matches. A right password
    /// whose stored hash is weak also gets a new hash.
    pub async fn check(
        mut self,
        password: String,
        stored: Option<String>,
    ) -> Result<Checked, PasswordError> {
        let permit = self.permit.take().expect("a slot is spent once");
        self.hasher
            .run(permit, move || check_blocking(&password, stored.as_deref()))
            .await?
    }

    /// Gives the slot back unspent, on purpose (a throttled login).
    pub fn release(mut self) {
        self.permit.take();
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.permit.is_some() {
            self.hasher.inner.unchecked.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Hashes a new password into a PHC string.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    Hasher::global().hash(password).await
}

/// Checks a password against a stored hash, or against a dummy hash when
/// `stored` is `None`, in which case the answer is always false.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, PasswordError> {
    let slot = Hasher::global().slot().await?;
    Ok(slot.check(password, stored).await?.matches)
}

/// Frequent passwords of 12 or more characters are refused when set. The
/// list: the 3,000 most common of Royce Williams' 20,000 (as Django ships
/// them, BSD-licensed: lower-cased, deduplicated), and every other one of
/// the 20,000 long enough to pass the length check.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Whether `password`, ignoring case, is a commonly used one.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!needs_upgrade(&hash));
        assert!(
            verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("correct horse battery!".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    fn weak_hash(password: &str, algorithm: Algorithm, m: u32, t: u32) -> String {
        let params = Params::new(m, t, 1, None).unwrap();
        Argon2::new(algorithm, Version::V0x13, params)
            .hash_password(password.as_bytes())
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn a_weak_hash_is_upgraded_when_its_password_is_right() {
        for weak in [
            weak_hash("legacy password", Algorithm::Argon2id, 4096, 3),
            weak_hash("legacy password", Algorithm::Argon2id, 19456, 1),
            weak_hash("legacy password", Algorithm::Argon2i, 19456, 2),
        ] {
            assert!(needs_upgrade(&weak), "{weak}");
            let hasher = Hasher::new(1, DEFAULT_WAIT);
            let wrong = hasher.slot().await.unwrap();
            let wrong = wrong.check("wrong".into(), Some(weak.clone())).await;
            assert_eq!(
                wrong.unwrap(),
                Checked {
                    matches: false,
                    upgraded: None
                }
            );
            let right = hasher.slot().await.unwrap();
            let right = right
                .check("legacy password".into(), Some(weak))
                .await
                .unwrap();
            assert!(right.matches);
            let upgraded = right.upgraded.expect("a new hash");
            assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
            assert!(
                verify("legacy password".into(), Some(upgraded))
                    .await
                    .unwrap()
            );
        }
        // Stronger than the default is kept as it is.
        let strong = weak_hash("strong", Algorithm::Argon2id, 32768, 3);
        assert!(!needs_upgrade(&strong));
        assert!(needs_upgrade("$2b$12$not-argon-at-all"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_hundred_parallel_checks_never_run_more_hashes_than_slots() {
        let hasher = Hasher::new(3, Duration::from_secs(600));
        let stored = hasher.hash("the right password".into()).await.unwrap();
        let checks = (0..100).map(|i| {
            let hasher = hasher.clone();
            let stored = (i % 2 == 0).then(|| stored.clone());
            tokio::spawn(async move {
                let slot = hasher.slot().await?;
                slot.check(format!("guess {i}"), stored).await
            })
        });
        for check in futures_util::future::join_all(checks).await {
            assert!(!check.unwrap().unwrap().matches);
        }
        let peak = hasher.peak();
        assert!(peak <= 3, "{peak} hashes ran at once with 3 slots");
        assert!(
            peak >= 2,
            "the checks never overlapped, so nothing was bounded"
        );
        assert_eq!(hasher.unchecked(), 0);
    }

    #[tokio::test]
    async fn past_the_wait_a_check_is_refused_as_busy() {
        let hasher = Hasher::new(1, Duration::from_millis(50));
        let held = hasher.slot().await.unwrap();
        assert!(matches!(hasher.slot().await, Err(PasswordError::Busy)));
        held.release();
        let slot = hasher.slot().await.unwrap();
        assert!(!slot.check("x".into(), None).await.unwrap().matches);
        assert_eq!(hasher.unchecked(), 0);
        // A slot dropped without a check is counted.
        drop(hasher.slot().await.unwrap());
        assert_eq!(hasher.unchecked(), 1);
    }

    #[test]
    fn common_passwords_are_known_whatever_their_case() {
        assert!(is_common("qwerty123456"));
        assert!(is_common("1Q2W3E4R5T6Y"));
        assert!(is_common("password"));
        assert!(!is_common("a long enough password"));
        assert!(COMMON.len() > 3000);
    }
}
