//! The events file (`mock-sts serve --events FILE`): a dedicated writer thread that streams
//! every event as one JSON line, so that no request serialises, writes or flushes under the
//! log's lock.
//!
//! Appenders push each event onto a shared queue (under the log's lock, so the file is in
//! `seq` order) and wake the writer only once per [`BATCH`] events: a wake-up per event (a
//! futex call and a context switch) costs more than the write on two busy cores. The writer
//! takes the whole queue at once, serialises it into a 64 KiB buffer outside every lock, and
//! flushes when it falls idle for [`FLUSH_INTERVAL`], at least every [`FLUSH_INTERVAL`] under
//! load, when the buffer fills, on [`Sink::flush`], and when the sink is dropped (after
//! writing every event queued): a clean shutdown loses nothing; a killed process loses at most
//! the last [`FLUSH_INTERVAL`] or buffer's worth.
//!
//! The queue is bounded ([`QUEUE_EVENTS`]): when the disk cannot keep up, requests wait for it
//! rather than memory growing without bound or events being skipped. The first failed write
//! is logged once and ends the file there (a file with a hole in it would mislead more than
//! one that stops); the writer then discards what it is sent, so requests never wait on a
//! broken disk, and [`Sink::flush`] reports the failure.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Event;
use crate::clock::Stopwatch;

/// The longest an event waits before it reaches the file (while the writer is running).
pub(super) const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Events queued before an appender wakes the writer (it also wakes every
/// [`FLUSH_INTERVAL`]).
const BATCH: usize = 512;

/// Events queued at most; appenders wait beyond it.
const QUEUE_EVENTS: usize = 64 * 1024;

/// The writer's buffer.
const BUFFER_BYTES: usize = 64 * 1024;

/// What appenders and the writer share.
#[derive(Debug, Default)]
struct Queue {
    /// Events not yet taken by the writer, in `seq` order.
    pending: Vec<Arc<Event>>,
    /// Flushes asked for, and done: a flush waits until `flushed` reaches its number.
    flushes_requested: u64,
    flushes_done: u64,
    /// The sink is being dropped: write what is pending and stop.
    closing: bool,
    /// The writer has stopped (it finished, or panicked): nobody takes events any more.
    stopped: bool,
    /// The first failure, which ended the file.
    failed: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// The writer waits here for a batch, a flush request or closing.
    work: Condvar,
    /// Appenders wait here for room, and flushers for their flush.
    progress: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The appenders' side, held by the log; dropping it writes what is queued, flushes and joins
/// the writer.
#[derive(Debug)]
pub(super) struct Sink {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

impl Sink {
    /// Starts the writer thread on `file`.
    pub(super) fn start(file: File) -> io::Result<Sink> {
        let shared = Arc::new(Shared::default());
        let for_writer = shared.clone();
        let writer = std::thread::Builder::new()
            .name("mock-sts-events".into())
            .spawn(move || {
                let _stopped = Stopped(&for_writer);
                write_events(&for_writer, file);
            })?;
        Ok(Sink {
            shared,
            writer: Some(writer),
        })
    }

    /// Queues one event (waits while the queue is full).
    pub(super) fn send(&self, event: Arc<Event>) {
        let mut queue = self.shared.lock();
        while queue.pending.len() >= QUEUE_EVENTS && !queue.stopped {
            queue = self
                .shared
                .progress
                .wait(queue)
                .unwrap_or_else(|p| p.into_inner());
        }
        if queue.stopped || queue.failed.is_some() {
            return;
        }
        queue.pending.push(event);
        if queue.pending.len() == BATCH {
            self.shared.work.notify_one();
        }
    }

    /// A handle that asks the writer to flush, usable outside the log's lock.
    pub(super) fn flusher(&self) -> Flusher {
        Flusher(self.shared.clone())
    }
}

/// Asks the writer to flush everything queued before it, and waits.
pub(super) struct Flusher(Arc<Shared>);

impl Flusher {
    /// Waits until every event queued before the call is in the file (or the file failed).
    pub(super) fn flush(self) -> io::Result<()> {
        let mut queue = self.0.lock();
        queue.flushes_requested += 1;
        let mine = queue.flushes_requested;
        self.0.work.notify_one();
        while queue.flushes_done < mine && queue.failed.is_none() && !queue.stopped {
            queue = self
                .0
                .progress
                .wait(queue)
                .unwrap_or_else(|p| p.into_inner());
        }
        match (&queue.failed, queue.flushes_done >= mine) {
            (Some(message), _) => Err(io::Error::other(message.clone())),
            (None, true) => Ok(()),
            (None, false) => Err(io::Error::other("the events writer has stopped")),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.work.notify_one();
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the events writer panicked; the events file may be incomplete");
        }
    }
}

/// Marks the writer stopped however it ends, so that no appender waits for it for ever.
struct Stopped<'a>(&'a Shared);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.lock().stopped = true;
        self.0.progress.notify_all();
    }
}

/// The writer's own state: the buffered file and its first failure.
struct Writer {
    out: BufWriter<File>,
    failed: Option<String>,
    dirty: bool,
    since_flush: Stopwatch,
}

impl Writer {
    fn write(&mut self, events: &[Arc<Event>]) {
        for event in events {
            if self.failed.is_some() {
                return;
            }
            let written = serde_json::to_writer(&mut self.out, &**event)
                .map_err(io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"));
            self.dirty = true;
            if let Err(e) = written {
                self.fail(Some(event.seq), &e);
            }
        }
    }

    fn flush(&mut self) {
        self.since_flush = Stopwatch::start();
        if !self.dirty || self.failed.is_some() {
            return;
        }
        self.dirty = false;
        if let Err(e) = self.out.flush() {
            self.fail(None, &e);
        }
    }

    /// Logs the first failure (the only log line the file ever costs) and stops writing.
    fn fail(&mut self, seq: Option<u64>, e: &io::Error) {
        let message = match seq {
            Some(seq) => format!("cannot write the events file at event {seq}: {e}"),
            None => format!("cannot write the events file: {e}"),
        };
        tracing::error!(
            error = %e,
            seq,
            "cannot write the events file; it ends here, events stay in memory only"
        );
        self.failed = Some(message);
    }
}

fn write_events(shared: &Shared, file: File) {
    let mut writer = Writer {
        out: BufWriter::with_capacity(BUFFER_BYTES, file),
        failed: None,
        dirty: false,
        since_flush: Stopwatch::start(),
    };
    let mut batch = Vec::new();
    loop {
        let (flush_to, closing) = {
            let queue = shared.lock();
            let (mut queue, timeout) = shared
                .work
                .wait_timeout_while(queue, FLUSH_INTERVAL, |q| {
                    q.pending.len() < BATCH && q.flushes_requested == q.flushes_done && !q.closing
                })
                .unwrap_or_else(|p| p.into_inner());
            // Swap, so both vectors keep their capacity: no allocation per batch.
            std::mem::swap(&mut batch, &mut queue.pending);
            let flush_to = (queue.flushes_requested > queue.flushes_done
                || timeout.timed_out()
                || queue.closing)
                .then_some(queue.flushes_requested);
            shared.progress.notify_all();
            (flush_to, queue.closing)
        };
        writer.write(&batch);
        batch.clear();
        if flush_to.is_some() || writer.since_flush.elapsed() >= FLUSH_INTERVAL {
            writer.flush();
        }
        let mut queue = shared.lock();
        if let Some(done) = flush_to {
            queue.flushes_done = queue.flushes_done.max(done);
        }
        if queue.failed.is_none() {
            queue.failed.clone_from(&writer.failed);
        }
        shared.progress.notify_all();
        if closing && queue.pending.is_empty() {
            return;
        }
    }
}
