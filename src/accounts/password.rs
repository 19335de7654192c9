//! Password hashing. bcrypt runs on its own small pool of lower-priority threads: logins are
//! CPU-bound by design, and ticket validation must stay fast while they saturate the cores.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// bcrypt reads at most 72 bytes including a terminating NUL; the crate's plain `hash` would
/// silently ignore the rest, so longer passwords are refused rather than truncated.
pub const MAX_PASSWORD_BYTES: usize = 71;

/// A password that cannot be hashed as given.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordError {
    Empty,
    TooLong,
}

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordError::Empty => write!(f, "the password is empty"),
            PasswordError::TooLong => {
                write!(f, "the password is longer than {MAX_PASSWORD_BYTES} bytes")
            }
        }
    }
}

impl std::error::Error for PasswordError {}

/// Hashing could not run (its threads are gone) or bcrypt itself failed: a server fault,
/// never the user's.
#[derive(Debug, PartialEq, Eq)]
pub struct HashingFailed;

impl std::fmt::Display for HashingFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("password hashing failed")
    }
}

impl std::error::Error for HashingFailed {}

/// Refuses passwords bcrypt cannot take whole.
pub fn check_length(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        Err(PasswordError::Empty)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    jobs: mpsc::Sender<Job>,
    /// A real hash at the configured cost: unknown accounts are verified against it so they
    /// take as long as known ones (no timing oracle for user enumeration).
    dummy: Arc<str>,
    /// bcrypt verifications run, for tests that check every path pays one.
    #[cfg(feature = "test-hooks")]
    pub verifications: Arc<std::sync::atomic::AtomicU64>,
}

impl PasswordHasher {
    /// Starts `threads` hashing threads (0 = one per core).
    pub fn new(cost: u32, threads: usize) -> PasswordHasher {
        let threads = if threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            threads
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("bcrypt-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("cannot start bcrypt thread");
        }
        let dummy = hash_now("unicas-dummy-password", cost)
            .expect("bcrypt of a constant")
            .into();
        PasswordHasher {
            cost,
            jobs,
            dummy,
            #[cfg(feature = "test-hooks")]
            verifications: Arc::default(),
        }
    }

    /// Hashes on the pool a password `check_length` accepted.
    pub async fn hash(&self, password: String) -> Result<String, HashingFailed> {
        let cost = self.cost;
        self.run(move || hash_now(&password, cost)).await?
    }

    /// Verifies on the pool. `hash = None` (unknown account) spends the same time and fails.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        self.verify_any(password, hash.into_iter().collect()).await
    }

    /// Whether `password` matches any of `hashes` (password history), checked on the pool.
    /// With no hashes at all, one verification against the dummy keeps the time the same.
    pub async fn verify_any(&self, password: String, hashes: Vec<String>) -> bool {
        // Counted in the call that runs bcrypt, so the tests count runs, not calls.
        #[cfg(feature = "test-hooks")]
        let verifications = Arc::clone(&self.verifications);
        let verify = move |password: &[u8], hash: &str| {
            #[cfg(feature = "test-hooks")]
            verifications.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            bcrypt::non_truncating_verify(password, hash)
        };
        let dummy = Arc::clone(&self.dummy);
        self.run(move || {
            if hashes.is_empty() {
                let _ = verify(password.as_bytes(), &dummy);
                return false;
            }
            hashes.iter().any(|hash| {
                // Over-long input: run a verification anyway so timing does not tell.
                verify(password.as_bytes(), hash).unwrap_or_else(|_| {
                    let _ = bcrypt::verify(b"x", &dummy);
                    false
                })
            })
        })
        .await
        .unwrap_or(false)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingFailed> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.send(job).map_err(|_| HashingFailed)?;
        rx.await.map_err(|_| HashingFailed)
    }
}

/// Hashes on the calling thread, for the command line and the roster import.
pub fn hash_now(password: &str, cost: u32) -> Result<String, HashingFailed> {
    bcrypt::non_truncating_hash(password.as_bytes(), cost).map_err(|_| HashingFailed)
}

/// Nice the current thread so request handling preempts hashing when both want the CPU.
pub(crate) fn lower_priority() {
    // SAFETY: setpriority on our own thread id has no memory-safety preconditions.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Letters of a temporary password: lower case, without the look-alikes of digits and
/// of each other (o/0, i/l/1, s/5, z/2, b/8).
const SLIP_LETTERS: &[u8] = b"acdefghjkmnpqrtuvwxy";

/// Digits of a temporary password, without those that look like letters (0 1 2 5 8).
const SLIP_DIGITS: &[u8] = b"34679";

/// A temporary password an administrator hands over, printed on a slip or read out at the
/// counter: four letters, four digits, four letters (`kmtx-4739-hapw`), drawn from the OS
/// random source without look-alike characters, so someone who does not know which is
/// which (a retired professor, a phone's small screen) types it right first time. About
/// 44 bits: enough for a password that logins throttle and that must be changed at the next
/// login (which is why the school's policy does not apply to it, as to any `--must-change`
/// password).
pub fn temporary_password() -> String {
    let group = |alphabet: &[u8]| crate::tickets::random_from(alphabet, 4);
    format!(
        "{}-{}-{}",
        group(SLIP_LETTERS),
        group(SLIP_DIGITS),
        group(SLIP_LETTERS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 24 item 12: a temporary password reads and types without doubt: four letters,
    /// four digits, four letters, and no look-alike characters.
    #[test]
    fn temporary_passwords_have_no_look_alikes_and_are_grouped() {
        for _ in 0..500 {
            let p = temporary_password();
            let groups: Vec<&str> = p.split('-').collect();
            assert_eq!(groups.len(), 3, "{p}");
            assert!(
                groups[0].len() == 4 && groups[0].bytes().all(|b| b.is_ascii_lowercase()),
                "{p}"
            );
            assert!(
                groups[1].len() == 4 && groups[1].bytes().all(|b| b.is_ascii_digit()),
                "{p}"
            );
            assert!(
                groups[2].len() == 4 && groups[2].bytes().all(|b| b.is_ascii_lowercase()),
                "{p}"
            );
            assert!(
                !p.contains([
                    '0', 'O', 'o', '1', 'l', 'I', 'i', '5', 'S', 's', '2', 'Z', 'z', '8', 'B', 'b'
                ]),
                "{p}"
            );
        }
    }

    // docs/security.md F10
    #[tokio::test]
    async fn verifies_exactly_and_refuses_truncation() {
        let hasher = PasswordHasher::new(4, 1);
        let long = "a".repeat(MAX_PASSWORD_BYTES);
        let hash = hasher.hash(long.clone()).await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(hasher.verify(long.clone(), Some(hash.clone())).await);
        assert!(!hasher.verify(format!("{long}Y"), Some(hash.clone())).await);
        assert_eq!(
            check_length(&format!("{long}X")),
            Err(PasswordError::TooLong)
        );
        assert_eq!(check_length(""), Err(PasswordError::Empty));
        assert!(!hasher.verify("wrong".into(), Some(hash.clone())).await);
        assert!(!hasher.verify("unicas-dummy-password".into(), None).await);
        assert!(
            hasher
                .verify_any(long, vec!["$2b$04$junk".into(), hash])
                .await
        );
    }
}
