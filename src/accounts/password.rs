//! Password hashing. bcrypt runs on its own small pool of lower-priority threads: logins are
//! CPU-bound by design, and ticket validation must stay fast while they saturate the cores.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// bcrypt reads at most 72 bytes including a terminating NUL; the crate's plain `hash` would
/// silently ignore the rest, so longer passwords are refused rather than truncated.
pub const MAX_PASSWORD_BYTES: usize = 71;

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

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    jobs: mpsc::Sender<Job>,
    /// A real hash at the configured cost: unknown accounts are verified against it so they
    /// take as long as known ones (no timing oracle for user enumeration).
    dummy: Arc<str>,
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
        PasswordHasher { cost, jobs, dummy }
    }

    /// Hashes on the pool. Refuses empty and over-long passwords.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        check(&password)?;
        let cost = self.cost;
        self.run(move || hash_now(&password, cost))
            .await
            .and_then(|r| r)
    }

    /// Verifies on the pool. `hash = None` (unknown account) spends the same time and fails.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let dummy = Arc::clone(&self.dummy);
        self.run(move || {
            let known = hash.is_some();
            let hash = hash.as_deref().unwrap_or(&dummy);
            // Over-long input: run a verification anyway so timing does not tell.
            let ok =
                bcrypt::non_truncating_verify(password.as_bytes(), hash).unwrap_or_else(|_| {
                    let _ = bcrypt::verify(b"x", &dummy);
                    false
                });
            ok && known
        })
        .await
        .unwrap_or(false)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        // The pool only stops with the process; a lost job reads as a failed verification.
        if self.jobs.send(job).is_err() {
            return Err(PasswordError::Empty);
        }
        rx.await.map_err(|_| PasswordError::Empty)
    }
}

/// Hashes on the calling thread, for the command line.
pub fn hash_password(password: &str, cost: u32) -> Result<String, PasswordError> {
    check(password)?;
    hash_now(password, cost)
}

fn check(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        Err(PasswordError::Empty)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

fn hash_now(password: &str, cost: u32) -> Result<String, PasswordError> {
    bcrypt::non_truncating_hash(password.as_bytes(), cost).map_err(|_| PasswordError::TooLong)
}

/// Nice the current thread so request handling preempts hashing when both want the CPU.
fn lower_priority() {
    // SAFETY: setpriority on our own thread id has no memory-safety preconditions.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_exactly_and_refuses_truncation() {
        let hasher = PasswordHasher::new(4, 1);
        let long = "a".repeat(MAX_PASSWORD_BYTES);
        let hash = hasher.hash(long.clone()).await.unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert!(hasher.verify(long.clone(), Some(hash.clone())).await);
        assert!(!hasher.verify(format!("{long}Y"), Some(hash.clone())).await);
        assert_eq!(
            hasher.hash(format!("{long}X")).await,
            Err(PasswordError::TooLong)
        );
        assert!(!hasher.verify("wrong".into(), Some(hash)).await);
        assert!(!hasher.verify("unicas-dummy-password".into(), None).await);
    }
}
