//! Real-time waiting, for what happens in real time whatever the simulated clock does: a
//! program's wall-clock limit, a network fetch that must not hang, a back-off after a failed
//! accept, and the server's socket timeouts (a client that sends its headers or its body too
//! slowly).
//!
//! These cannot use tokio's timer. In a runtime started paused (a virtual clock) tokio's clock
//! jumps to the next timer whenever every task waits, including on a socket, so a
//! `tokio::time::timeout` around real I/O fires the moment the I/O is awaited
//! (tokio-rs/tokio#4522). The simulated clock is no better: on a virtual clock it is tokio's.
//! So the timer is a runtime of its own on one background thread, never paused, started on
//! first use: a wait is a task there that the waiter awaits from any runtime. The socket
//! timeouts wait per request, so a thread per wait (as this once was) would not do.
//!
//! `clippy.toml` bans `tokio::time::{sleep, timeout}` elsewhere, so a wait is either simulated
//! ([`SimClock::sleep`](super::SimClock::sleep)) or real (these), on purpose.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

/// A real-time wait ran out before the work finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("did not finish within {0:?} of real time")]
pub struct Elapsed(pub Duration);

/// Waits `d` of real time, even inside a paused runtime.
pub async fn real_sleep(d: Duration) {
    RealSleep::after(d).await;
}

/// A wait in real time, even inside a paused runtime: a future that completes at its deadline.
/// Dropping it cancels the wait.
#[derive(Debug)]
pub struct RealSleep(Wait);

#[derive(Debug)]
enum Wait {
    /// A task on the timer thread's runtime.
    Timer(tokio::task::JoinHandle<()>),
    /// No timer thread to be had: tokio's timer in the caller's runtime rather than no wait.
    Fallback(Pin<Box<tokio::time::Sleep>>),
}

impl RealSleep {
    /// Completes `d` of real time from now.
    pub fn after(d: Duration) -> RealSleep {
        match timer() {
            Some(handle) => RealSleep(Wait::Timer(handle.spawn(async move {
                #[allow(clippy::disallowed_methods)] // the timer runtime is never paused
                tokio::time::sleep(d).await;
            }))),
            None => {
                #[allow(clippy::disallowed_methods)] // the fallback of the real timer itself
                let sleep = tokio::time::sleep(d);
                RealSleep(Wait::Fallback(Box::pin(sleep)))
            }
        }
    }

    /// Completes at `deadline` (at once if it has passed).
    pub fn until(deadline: std::time::Instant) -> RealSleep {
        let deadline = tokio::time::Instant::from_std(deadline);
        match timer() {
            Some(handle) => RealSleep(Wait::Timer(handle.spawn(async move {
                tokio::time::sleep_until(deadline).await;
            }))),
            None => RealSleep(Wait::Fallback(Box::pin(tokio::time::sleep_until(deadline)))),
        }
    }
}

impl Future for RealSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.0 {
            // A failed task (the runtime went away) ends the wait too: never wait for ever.
            Wait::Timer(task) => Pin::new(task).poll(cx).map(|_| ()),
            Wait::Fallback(sleep) => sleep.as_mut().poll(cx),
        }
    }
}

impl Drop for RealSleep {
    fn drop(&mut self) {
        if let Wait::Timer(task) = &self.0 {
            task.abort();
        }
    }
}

/// The timer thread's runtime, started on first use; `None` when it cannot be.
fn timer() -> Option<&'static tokio::runtime::Handle> {
    static TIMER: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .ok()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("real-timer".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
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

    #[tokio::test(start_paused = true)]
    async fn a_real_sleep_until_a_deadline_waits_in_real_time() {
        let watch = crate::clock::Stopwatch::start();
        RealSleep::until(super::super::real_now() + Duration::from_millis(30)).await;
        assert!(watch.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn a_dropped_real_sleep_cancels_its_wait() {
        let sleep = RealSleep::after(Duration::from_secs(3600));
        let Wait::Timer(task) = &sleep.0 else {
            panic!("no timer thread")
        };
        let task = task.abort_handle();
        drop(sleep);
        real_sleep(Duration::from_millis(20)).await;
        assert!(task.is_finished());
    }

    #[tokio::test]
    async fn a_real_timeout_ends_work_that_takes_too_long() {
        let out = real_timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed(Duration::from_millis(20))));
    }
}
