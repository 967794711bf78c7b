//! Real-time waiting, for what happens in real time whatever the simulated clock does: a
//! program's wall-clock limit, a network fetch that must not hang, a back-off after a failed
//! accept, and the server's socket timeouts (a client that sends its headers or its body too
//! slowly).
//!
//! These cannot use tokio's timer. In a runtime started paused (a virtual clock) tokio's clock
//! jumps to the next timer whenever every task waits, including on a socket, so a
//! `tokio::time::timeout` around real I/O fires the moment the I/O is awaited
//! (tokio-rs/tokio#4522). The simulated clock is no better: on a virtual clock it is tokio's.
//!
//! So one background thread keeps the deadlines, in order, and sleeps on a condition variable
//! until the first; a wait registers its deadline and waker there on its first poll and
//! unregisters when dropped. The socket timeouts wait per request (a header timeout armed and
//! dropped for every request head), so this must cost next to nothing when the wait does not
//! run out: registering and unregistering are a map insert and remove under an uncontended
//! lock, and the thread is woken only when a new deadline is earlier than the one it sleeps
//! until, which for timeouts of one length is almost never.
//!
//! `clippy.toml` bans `tokio::time::{sleep, timeout}` elsewhere, so a wait is either simulated
//! ([`SimClock::sleep`](super::SimClock::sleep)) or real (these), on purpose.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::real_now;

/// A real-time wait ran out before the work finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("did not finish within {0:?} of real time")]
pub struct Elapsed(pub Duration);

/// Waits `d` of real time, even inside a paused runtime.
pub async fn real_sleep(d: Duration) {
    RealSleep::after(d).await;
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

/// A wait in real time, even inside a paused runtime: a future that completes at its deadline.
/// Dropping it cancels the wait.
#[derive(Debug)]
pub struct RealSleep {
    deadline: Instant,
    state: SleepState,
}

#[derive(Debug)]
enum SleepState {
    /// Not polled yet: nothing registered.
    New,
    /// Registered with the timer thread under this key.
    Registered(Key, Arc<Entry>),
    /// No timer thread to be had: tokio's timer in the caller's runtime rather than no wait.
    Fallback(Pin<Box<tokio::time::Sleep>>),
    /// Completed.
    Done,
}

/// A deadline and a tie-breaker, so that equal deadlines are distinct entries.
type Key = (Instant, u64);

/// What the timer thread and one wait share.
#[derive(Debug, Default)]
struct Entry {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl RealSleep {
    /// Completes `d` of real time from now.
    pub fn after(d: Duration) -> RealSleep {
        let now = real_now();
        RealSleep::until(
            now.checked_add(d)
                .unwrap_or(now + Duration::from_secs(1 << 40)),
        )
    }

    /// Completes at `deadline` (at once if it has passed).
    pub fn until(deadline: Instant) -> RealSleep {
        RealSleep {
            deadline,
            state: SleepState::New,
        }
    }
}

impl Future for RealSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        match &mut self.state {
            SleepState::New => {
                if deadline <= real_now() {
                    self.state = SleepState::Done;
                    return Poll::Ready(());
                }
                self.state = match timer() {
                    Some(timer) => {
                        let entry = Arc::new(Entry::default());
                        *lock(&entry.waker) = Some(cx.waker().clone());
                        SleepState::Registered(timer.register(deadline, entry.clone()), entry)
                    }
                    None => {
                        let mut sleep = Box::pin(tokio::time::sleep_until(
                            tokio::time::Instant::from_std(deadline),
                        ));
                        if sleep.as_mut().poll(cx).is_ready() {
                            self.state = SleepState::Done;
                            return Poll::Ready(());
                        }
                        SleepState::Fallback(sleep)
                    }
                };
                Poll::Pending
            }
            SleepState::Registered(_, entry) => {
                if entry.fired.load(Ordering::Acquire) {
                    self.state = SleepState::Done;
                    return Poll::Ready(());
                }
                {
                    let mut waker = lock(&entry.waker);
                    if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *waker = Some(cx.waker().clone());
                    }
                }
                // The thread may have fired between the check and the new waker.
                if entry.fired.load(Ordering::Acquire) {
                    self.state = SleepState::Done;
                    return Poll::Ready(());
                }
                Poll::Pending
            }
            SleepState::Fallback(sleep) => {
                let ready = sleep.as_mut().poll(cx);
                if ready.is_ready() {
                    self.state = SleepState::Done;
                }
                ready
            }
            SleepState::Done => Poll::Ready(()),
        }
    }
}

impl Drop for RealSleep {
    fn drop(&mut self) {
        if let SleepState::Registered(key, entry) = &self.state
            && !entry.fired.load(Ordering::Acquire)
            && let Some(timer) = timer()
        {
            timer.cancel(*key);
        }
    }
}

/// The deadlines the timer thread keeps.
#[derive(Debug, Default)]
struct Timer {
    state: Mutex<TimerState>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct TimerState {
    entries: BTreeMap<Key, Arc<Entry>>,
    next_id: u64,
    /// When the thread will look next by itself (`None`: it waits to be woken).
    planned: Option<Instant>,
}

impl Timer {
    fn register(&self, deadline: Instant, entry: Arc<Entry>) -> Key {
        let mut state = lock(&self.state);
        let key = (deadline, state.next_id);
        state.next_id += 1;
        state.entries.insert(key, entry);
        if state.planned.is_none_or(|planned| deadline < planned) {
            state.planned = Some(deadline);
            self.wake.notify_one();
        }
        key
    }

    /// Forgets a wait; the thread may still wake at its deadline, to find nothing.
    fn cancel(&self, key: Key) {
        lock(&self.state).entries.remove(&key);
    }

    /// The thread: fire what is due, sleep until the first deadline or a wake.
    fn run(&self) {
        let mut state = lock(&self.state);
        loop {
            let now = real_now();
            while let Some(first) = state.entries.first_entry() {
                if first.key().0 > now {
                    break;
                }
                let entry = first.remove();
                entry.fired.store(true, Ordering::Release);
                if let Some(waker) = lock(&entry.waker).take() {
                    waker.wake();
                }
            }
            let next = state.entries.first_key_value().map(|(key, _)| key.0);
            state.planned = next;
            state = match next {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.wake
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.wake.wait(state).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

/// The timer thread's deadlines, the thread started on first use; `None` when it cannot be.
fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("real-timer".into())
            .spawn(move || timer.run())
            .ok()?;
        Some(timer)
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
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
        RealSleep::until(real_now() + Duration::from_millis(30)).await;
        assert!(watch.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn waits_complete_in_deadline_order_whatever_the_order_they_began_in() {
        let watch = crate::clock::Stopwatch::start();
        let (long, short) = tokio::join!(
            async {
                real_sleep(Duration::from_millis(60)).await;
                watch.elapsed()
            },
            async {
                real_sleep(Duration::from_millis(20)).await;
                watch.elapsed()
            }
        );
        assert!(short >= Duration::from_millis(20), "{short:?}");
        assert!(long >= Duration::from_millis(60), "{long:?}");
        assert!(short < long);
    }

    #[tokio::test]
    async fn a_dropped_real_sleep_is_forgotten_by_the_timer() {
        let mut sleep = RealSleep::after(Duration::from_secs(3600));
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut sleep).poll(cx))).await;
        assert!(first.is_pending());
        let SleepState::Registered(key, _) = &sleep.state else {
            panic!("no timer thread")
        };
        let key = *key;
        let timer = timer().unwrap();
        assert!(lock(&timer.state).entries.contains_key(&key));
        drop(sleep);
        assert!(!lock(&timer.state).entries.contains_key(&key));
    }

    #[tokio::test]
    async fn a_real_timeout_ends_work_that_takes_too_long() {
        let out = real_timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed(Duration::from_millis(20))));
    }
}
