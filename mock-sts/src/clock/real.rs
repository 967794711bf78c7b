//! Real-time waiting, for what happens in real time whatever the simulated clock does: a
//! program's wall-clock limit, a network fetch that must not hang, a back-off after a failed
//! accept.
//!
//! These cannot use tokio's timer. In a runtime started paused (a virtual clock) tokio's clock
//! jumps to the next timer whenever every task waits, including on a socket, so a
//! `tokio::time::timeout` around real I/O fires the moment the I/O is awaited
//! (tokio-rs/tokio#4522). The simulated clock is no better: on a virtual clock it is tokio's.
//! So the timer is a thread that sleeps in real time and then wakes the waiter. A thread per
//! wait is fine for what waits here: a few per run, never per request.
//!
//! `clippy.toml` bans `tokio::time::{sleep, timeout}` elsewhere, so a wait is either simulated
//! ([`SimClock::sleep`](super::SimClock::sleep)) or real (these), on purpose.

use std::future::Future;
use std::time::Duration;

/// A real-time wait ran out before the work finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("did not finish within {0:?} of real time")]
pub struct Elapsed(pub Duration);

/// Waits `d` of real time, even inside a paused runtime.
pub async fn real_sleep(d: Duration) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("real-sleep".into())
        .spawn(move || {
            std::thread::sleep(d);
            let _ = tx.send(());
        });
    match spawned {
        // A dropped sender (the thread died) ends the wait too: never wait for ever.
        Ok(_) => {
            let _ = rx.await;
        }
        // No thread to be had: fall back to tokio's timer rather than not waiting at all.
        Err(_) => {
            #[allow(clippy::disallowed_methods)] // the fallback of the real timer itself
            tokio::time::sleep(d).await;
        }
    }
}

/// Runs `work` for at most `d` of real time, even inside a paused runtime.
///
/// # Errors
/// [`Elapsed`] when `d` passed first (`work` is dropped).
pub async fn real_timeout<F: Future>(d: Duration, work: F) -> Result<F::Output, Elapsed> {
    tokio::select! {
        out = work => Ok(out),
        () = real_sleep(d) => Err(Elapsed(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_paused_runtime_does_not_fire_a_real_timeout_early() {
        // A socket-like wait: a oneshot answered by a thread after 50 ms of real time. On a
        // paused runtime, tokio's own timeout around it would fire at once.
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let _ = tx.send(7);
        });
        let out = real_timeout(Duration::from_secs(10), rx).await;
        assert_eq!(out, Ok(Ok(7)));
    }

    #[tokio::test]
    async fn a_real_timeout_ends_work_that_takes_too_long() {
        let out = real_timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed(Duration::from_millis(20))));
    }
}
