//! The events file (`mock-sts serve --events FILE`): a dedicated writer thread that streams
//! every event as one JSON line, so that no request serialises, writes or flushes under the
//! log's lock.
//!
//! Appenders hand the writer each event through a bounded channel, in `seq` order (they send
//! under the log's lock). The writer serialises into a 64 KiB buffer and flushes it when it
//! falls idle for [`FLUSH_INTERVAL`], at least every [`FLUSH_INTERVAL`] under load, when the
//! buffer fills, on [`Sink::flush`], and when the sink is dropped (after draining every event
//! already sent): a clean shutdown loses nothing; a killed process loses at most the last
//! [`FLUSH_INTERVAL`] or buffer's worth.
//!
//! The channel is bounded ([`QUEUE_EVENTS`]): when the disk cannot keep up, requests wait for
//! it rather than memory growing without bound or events being skipped. The first failed write
//! is logged once and ends the file there (a file with a hole in it would mislead more than
//! one that stops); the writer then discards what it is sent, so requests never wait on a
//! broken disk, and [`Sink::flush`] reports the failure.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Event;
use crate::clock::Stopwatch;

/// The longest an event waits in the writer's buffer before it reaches the file (while the
/// writer is running).
pub(super) const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Events in flight between the appenders and the writer. Boxed, so the queue itself is small
/// (its slots are allocated up front).
const QUEUE_EVENTS: usize = 16 * 1024;

/// The writer's buffer.
const BUFFER_BYTES: usize = 64 * 1024;

enum Message {
    Event(Box<Event>),
    /// Flush, then answer with the writer's state.
    Flush(SyncSender<Result<(), String>>),
}

/// The sending half, held by the log; dropping it drains the queue, flushes and joins the
/// writer.
#[derive(Debug)]
pub(super) struct Sink {
    tx: Option<SyncSender<Message>>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Event(e) => write!(f, "Event({})", e.seq),
            Message::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl Sink {
    /// Starts the writer thread on `file`.
    pub(super) fn start(file: File) -> io::Result<Sink> {
        let (tx, rx) = sync_channel(QUEUE_EVENTS);
        let writer = std::thread::Builder::new()
            .name("mock-sts-events".into())
            .spawn(move || write_events(&rx, file))?;
        Ok(Sink {
            tx: Some(tx),
            writer: Some(writer),
        })
    }

    /// Queues one event (blocks while the queue is full).
    pub(super) fn send(&self, event: Event) {
        if let Some(tx) = &self.tx {
            // An error means the writer is gone (it never exits while `tx` lives unless it
            // panicked); its failure was logged.
            let _ = tx.send(Message::Event(Box::new(event)));
        }
    }

    /// A handle that asks the writer to flush, usable outside the log's lock.
    pub(super) fn flusher(&self) -> Option<Flusher> {
        self.tx.clone().map(Flusher)
    }
}

/// Asks the writer to flush everything queued before it, and waits.
pub(super) struct Flusher(SyncSender<Message>);

impl Flusher {
    /// Waits until every event queued before the call is in the file (or the file failed).
    pub(super) fn flush(self) -> io::Result<()> {
        let (ack_tx, ack_rx) = sync_channel(1);
        self.0
            .send(Message::Flush(ack_tx))
            .map_err(|_| io::Error::other("the events writer has stopped"))?;
        match ack_rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(io::Error::other(message)),
            Err(_) => Err(io::Error::other("the events writer has stopped")),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Closing the channel lets the writer drain what is queued, flush and return.
        drop(self.tx.take());
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the events writer panicked; the events file may be incomplete");
        }
    }
}

/// The writer's state: the buffered file, and the first failure, which ends the file.
struct Writer {
    out: BufWriter<File>,
    failed: Option<String>,
    dirty: bool,
    since_flush: Stopwatch,
}

impl Writer {
    fn write(&mut self, event: &Event) {
        if self.failed.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, event)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        self.dirty = true;
        if let Err(e) = written {
            self.fail(Some(event.seq), &e);
        } else if self.since_flush.elapsed() >= FLUSH_INTERVAL {
            self.flush();
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

fn write_events(rx: &Receiver<Message>, file: File) {
    let mut writer = Writer {
        out: BufWriter::with_capacity(BUFFER_BYTES, file),
        failed: None,
        dirty: false,
        since_flush: Stopwatch::start(),
    };
    loop {
        // Idle with unflushed lines: wait at most the flush interval; otherwise sleep until
        // something arrives.
        let message = if writer.dirty {
            match rx.recv_timeout(FLUSH_INTERVAL) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    writer.flush();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(m) => m,
                Err(_) => break,
            }
        };
        match message {
            Message::Event(event) => writer.write(&event),
            Message::Flush(ack) => {
                writer.flush();
                let _ = ack.send(writer.failed.clone().map_or(Ok(()), Err));
            }
        }
    }
    writer.flush();
}
