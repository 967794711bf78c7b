//! The request body as the socket loop hands it to the router: hyper's body under the body
//! timeout and the upload memory budget, failing with a [`BodyError`] the services answer.
//!
//! The timeout is a watchdog, not a timer per read: the time of the last piece is noted as
//! pieces arrive, and one real-time sleep, armed when a read has to wait, wakes the body to
//! look; if data came meanwhile it sleeps again for the rest of the timeout. An active upload
//! so costs one timer per timeout period, not one per chunk.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use super::BodyError;
use super::budget::{Reservation, UploadBudget};
use crate::clock::{RealSleep, Stopwatch};

/// The most a body without a `Content-Length` is read and dropped for, once over budget,
/// before the server gives up on answering it and closes the connection.
const DRAIN_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// What a connection task and the body it wraps share about one request: the budget it holds
/// (given back when both are done with it) and whether reading the body failed, in which case
/// the connection closes after the answer.
#[derive(Debug)]
pub(crate) struct BodyGuard {
    reservation: Reservation,
    failed: AtomicBool,
}

impl BodyGuard {
    /// A guard holding nothing yet of `budget`.
    pub(crate) fn new(budget: Arc<UploadBudget>) -> Arc<BodyGuard> {
        Arc::new(BodyGuard {
            reservation: Reservation::new(budget),
            failed: AtomicBool::new(false),
        })
    }

    /// Reading the request's body failed (timeout, short body, over budget).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}

/// hyper's request body under the body timeout and the upload budget.
#[derive(Debug)]
pub(crate) struct GuardedBody {
    inner: Incoming,
    guard: Arc<BodyGuard>,
    timeout: Option<Duration>,
    /// `Content-Length`, reserved whole on the first read.
    declared: Option<u64>,
    /// `Expect: 100-continue`: a body refused before it is read is never asked for.
    expects_continue: bool,
    started: bool,
    done: bool,
    /// Over budget: the rest of the body is read and dropped, then the error is returned.
    draining: bool,
    read_bytes: u64,
    drained_bytes: u64,
    last_data: Option<Stopwatch>,
    watchdog: Option<RealSleep>,
}

impl GuardedBody {
    /// Wraps `inner`, the body of a request with `headers`.
    pub(crate) fn new(
        inner: Incoming,
        headers: &HeaderMap,
        guard: Arc<BodyGuard>,
        timeout: Option<Duration>,
    ) -> GuardedBody {
        let declared = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let expects_continue = headers
            .get(http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        GuardedBody {
            inner,
            guard,
            timeout,
            declared,
            expects_continue,
            started: false,
            done: false,
            draining: false,
            read_bytes: 0,
            drained_bytes: 0,
            last_data: None,
            watchdog: None,
        }
    }

    fn fail(&mut self, error: BodyError) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let error = if self.draining {
            BodyError::OverBudget
        } else {
            error
        };
        self.done = true;
        self.watchdog = None;
        self.guard.failed.store(true, Ordering::Release);
        Poll::Ready(Some(Err(error)))
    }

    /// Whether `bytes` more can be held; if not, the body starts draining.
    fn hold(&mut self, bytes: u64) -> bool {
        self.read_bytes += bytes;
        let reserved = self.guard.reservation.bytes();
        if self.read_bytes <= reserved || self.guard.reservation.grow(self.read_bytes - reserved) {
            return true;
        }
        self.draining = true;
        false
    }

    /// Called when the inner body has nothing: pending until data or the body timeout.
    fn poll_stall(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let Some(timeout) = self.timeout else {
            return Poll::Pending;
        };
        loop {
            let idle = self
                .last_data
                .get_or_insert_with(Stopwatch::start)
                .elapsed();
            if idle >= timeout {
                return self.fail(BodyError::Stalled(timeout));
            }
            let watchdog = self
                .watchdog
                .get_or_insert_with(|| RealSleep::after(timeout - idle));
            match Pin::new(watchdog).poll(cx) {
                // Look again: data may have come since the watchdog was armed.
                Poll::Ready(()) => self.watchdog = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if !this.started {
            this.started = true;
            this.last_data = Some(Stopwatch::start());
            if !this.guard.reservation.grow(this.declared.unwrap_or(0)) {
                if this.expects_continue {
                    // Not polling hyper's body means no `100 Continue`: the client never
                    // sends the body and reads the answer at once.
                    this.draining = true;
                    return this.fail(BodyError::OverBudget);
                }
                this.draining = true;
            }
        }
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    this.last_data = Some(Stopwatch::start());
                    let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                    if this.draining || !this.hold(len) {
                        this.drained_bytes += len;
                        if this.declared.is_none() && this.drained_bytes > DRAIN_LIMIT_BYTES {
                            return this.fail(BodyError::OverBudget);
                        }
                        continue;
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                // hyper's errors mid-body are the connection ending early, or framing that
                // cannot be read to its end: either way the body is not all there.
                Poll::Ready(Some(Err(_))) => return this.fail(BodyError::Incomplete),
                Poll::Ready(None) if this.draining => return this.fail(BodyError::OverBudget),
                Poll::Ready(None) => {
                    this.done = true;
                    this.watchdog = None;
                    return Poll::Ready(None);
                }
                Poll::Pending => return this.poll_stall(cx),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || (self.started && !self.draining && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        if self.done {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}
