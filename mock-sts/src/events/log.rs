//! [`EventLog`]: the shareable log every request appends to — a window of recent events in
//! memory, bounded by [`Retention`], and optionally a file that gets every event.
//!
//! `seq` is global (1, 2, … for the life of the log), not a position in the window: when the
//! window has let an event go, [`EventLog::tail`] still knows it existed and says how many
//! events after the caller's `since` it can no longer return, instead of skipping them
//! silently. A long-running server (`mock-sts serve`) keeps the last
//! [`Retention::SERVE_DEFAULT`] events, so its memory stays flat however long it runs;
//! in-process runs (the harness, tests) keep all of them, since their reports read every one.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::sink::Sink;
use super::{Event, Events};

/// How many events an [`EventLog`] keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// Every event: memory grows with every request (about 700 bytes each). The default of
    /// [`EventLog::new`], for in-process runs whose reports read every event.
    #[default]
    All,
    /// The most recent N events; older ones are dropped (counted by [`EventLog::dropped`]).
    /// `Last(0)` keeps none: the events file, if any, is then the only record.
    Last(usize),
}

impl Retention {
    /// `mock-sts serve`'s default window: ten thousand events, a few MiB, minutes of history
    /// for a poller of `GET /_mock/events?since=N` even at thousands of requests a second.
    pub const SERVE_DEFAULT: Retention = Retention::Last(10_000);
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retention::All => f.write_str("all"),
            Retention::Last(n) => write!(f, "{n}"),
        }
    }
}

/// A `--events-retain` value that is neither `all` nor a count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a number of events or `all`")]
pub struct RetentionError(String);

impl FromStr for Retention {
    type Err = RetentionError;

    /// `all`, or a number of events (`0`: none in memory).
    fn from_str(text: &str) -> Result<Retention, RetentionError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Ok(Retention::All);
        }
        text.replace('_', "")
            .parse()
            .map(Retention::Last)
            .map_err(|_| RetentionError(text.to_string()))
    }
}

/// What [`EventLog::tail`] answers: the events after `since` that the window still holds, and
/// how many after `since` it no longer does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tail {
    /// Events with `seq > since` still in memory, in order.
    pub events: Events,
    /// Events with `seq > since` the window has dropped: they came before `events`.
    pub dropped: u64,
    /// The last seq appended (0 when none has been).
    pub last_seq: u64,
}

#[derive(Debug, Default)]
struct LogState {
    /// The most recent events, oldest first; the last one has seq `last_seq`. Shared with
    /// the events file's writer, which gets the same event without a copy.
    window: VecDeque<Arc<Event>>,
    last_seq: u64,
    retention: Retention,
    sink: Option<Sink>,
}

impl LogState {
    /// Events appended that the window no longer holds (all of them come first).
    fn dropped(&self) -> u64 {
        self.last_seq - self.window.len() as u64
    }
}

/// The append-only, shareable event log (cheap to clone: clones share it).
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    state: Arc<Mutex<LogState>>,
    appended: Arc<Notify>,
}

impl EventLog {
    /// An empty in-memory log that keeps every event.
    pub fn new() -> Self {
        EventLog::default()
    }

    /// An empty log that keeps `retention` events in memory.
    pub fn retaining(retention: Retention) -> Self {
        let log = EventLog::default();
        log.lock().retention = retention;
        log
    }

    /// This log, also writing every event as a JSON line to `file`, from a writer thread of
    /// its own (see the `sink` module for when lines reach the disk). Call before sharing the
    /// log.
    ///
    /// # Errors
    /// When the writer thread cannot be started.
    pub fn with_sink(self, file: File) -> io::Result<Self> {
        let sink = Sink::start(file)?;
        self.lock().sink = Some(sink);
        Ok(self)
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an event, assigning its `seq`, and returns that seq. With a file, the event is
    /// queued for the writer (under the lock, so lines are in `seq` order); this waits only
    /// when the writer is a full queue behind.
    pub fn append(&self, mut event: Event) -> u64 {
        let seq = {
            let mut state = self.lock();
            state.last_seq += 1;
            let seq = state.last_seq;
            event.seq = seq;
            let keep = match state.retention {
                Retention::All => true,
                Retention::Last(n) => {
                    while state.window.len() >= n && state.window.pop_front().is_some() {}
                    n > 0
                }
            };
            let event = Arc::new(event);
            if let Some(sink) = &state.sink {
                sink.send(event.clone());
            }
            if keep {
                state.window.push_back(event);
            }
            seq
        };
        self.appended.notify_waiters();
        seq
    }

    /// The events in memory (every event, unless the retention let some go).
    pub fn snapshot(&self) -> Events {
        Events(self.lock().window.iter().map(|e| Event::clone(e)).collect())
    }

    /// Moves the events in memory out of the log, in order, leaving it empty (they count as
    /// dropped from then on; `seq` carries on). For a run that is over: its report gets the
    /// events without a second copy of them.
    pub fn drain(&self) -> Events {
        let window = std::mem::take(&mut self.lock().window);
        // Unique unless the writer has not written it yet: then one copy of that event.
        Events(window.into_iter().map(Arc::unwrap_or_clone).collect())
    }

    /// Events with `seq > since` still in memory.
    pub fn since(&self, since: u64) -> Events {
        self.tail(since).events
    }

    /// Events with `seq > since` still in memory, and how many after `since` are not.
    pub fn tail(&self, since: u64) -> Tail {
        let state = self.lock();
        let dropped = state.dropped();
        let skip = usize::try_from(since.saturating_sub(dropped))
            .unwrap_or(usize::MAX)
            .min(state.window.len());
        Tail {
            events: Events(
                state
                    .window
                    .range(skip..)
                    .map(|e| Event::clone(e))
                    .collect(),
            ),
            dropped: dropped.saturating_sub(since),
            last_seq: state.last_seq,
        }
    }

    /// Number of events appended so far (also the last seq), including dropped ones.
    pub fn len(&self) -> u64 {
        self.lock().last_seq
    }

    /// Whether nothing has been logged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events appended that are no longer in memory (seqs `1..=dropped`).
    pub fn dropped(&self) -> u64 {
        self.lock().dropped()
    }

    /// How many events the log keeps in memory.
    pub fn retention(&self) -> Retention {
        self.lock().retention
    }

    /// Whether the log writes an events file.
    pub fn has_sink(&self) -> bool {
        self.lock().sink.is_some()
    }

    /// Waits (blocking the thread) until every event appended so far is in the events file.
    /// Without a file, returns at once.
    ///
    /// # Errors
    /// When writing the file failed (the first failure ends the file; it was logged).
    pub fn flush(&self) -> io::Result<()> {
        let flusher = self.lock().sink.as_ref().map(Sink::flusher);
        flusher.map_or(Ok(()), |f| f.flush())
    }

    /// Waits until the log has more than `seq` events.
    pub async fn wait_beyond(&self, seq: u64) {
        loop {
            let notified = self.appended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.len() > seq {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::tests::event;
    use crate::{aws_error::ErrorCode, s3, sts};

    #[test]
    fn seqs_count_from_one_and_since_is_exclusive() {
        let log = EventLog::new();
        assert_eq!(log.append(event(sts::Action::AssumeRole, None)), 1);
        assert_eq!(
            log.append(event(
                s3::Operation::PutObject,
                Some(ErrorCode::ExpiredToken)
            )),
            2
        );
        assert_eq!(log.since(1).0.len(), 1);
        assert_eq!(
            log.since(1).0[0].action,
            super::super::Action::S3(s3::Operation::PutObject)
        );
        assert!(log.since(99).is_empty());
        assert_eq!(log.snapshot().errors().count(), 1);
        assert_eq!(log.snapshot().action(sts::Action::AssumeRole).count(), 1);
        assert_eq!(log.tail(0).dropped, 0);
    }

    #[test]
    fn a_bounded_log_keeps_the_last_n_and_counts_what_it_dropped() {
        let log = EventLog::retaining(Retention::Last(3));
        for _ in 0..10 {
            log.append(event(sts::Action::AssumeRole, None));
        }
        assert_eq!(log.len(), 10);
        assert_eq!(log.dropped(), 7);
        let seqs = |events: &Events| events.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&log.snapshot()), [8, 9, 10]);
        // since=N before the window: what is left, and how many after N are gone.
        let tail = log.tail(2);
        assert_eq!(
            (seqs(&tail.events), tail.dropped, tail.last_seq),
            (vec![8, 9, 10], 5, 10)
        );
        assert_eq!(log.tail(0).dropped, 7);
        // Inside the window: nothing missed.
        let tail = log.tail(8);
        assert_eq!((seqs(&tail.events), tail.dropped), (vec![9, 10], 0));
        let tail = log.tail(10);
        assert_eq!((tail.events.len(), tail.dropped), (0, 0));
        assert_eq!(log.tail(u64::MAX).dropped, 0);
    }

    #[test]
    fn drain_moves_the_events_out_and_seqs_carry_on() {
        let log = EventLog::new();
        log.append(event(sts::Action::AssumeRole, None));
        log.append(event(sts::Action::AssumeRole, None));
        let drained = log.drain();
        assert_eq!(drained.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        assert!(log.snapshot().is_empty());
        assert_eq!((log.len(), log.dropped()), (2, 2));
        assert_eq!(log.append(event(sts::Action::AssumeRole, None)), 3);
        let tail = log.tail(0);
        assert_eq!((tail.events.len(), tail.dropped), (1, 2));
    }

    #[test]
    fn retaining_none_keeps_only_the_count() {
        let log = EventLog::retaining(Retention::Last(0));
        log.append(event(sts::Action::AssumeRole, None));
        log.append(event(sts::Action::AssumeRole, None));
        assert_eq!((log.len(), log.dropped()), (2, 2));
        assert!(log.snapshot().is_empty());
        assert_eq!(log.tail(1).dropped, 1);
    }

    #[test]
    fn retention_parses_all_or_a_count() {
        assert_eq!("all".parse(), Ok(Retention::All));
        assert_eq!("ALL".parse(), Ok(Retention::All));
        assert_eq!("0".parse(), Ok(Retention::Last(0)));
        assert_eq!("100_000".parse(), Ok(Retention::Last(100_000)));
        assert!("-1".parse::<Retention>().is_err());
        assert!("lots".parse::<Retention>().is_err());
        assert_eq!(Retention::SERVE_DEFAULT.to_string(), "10000");
        assert_eq!(Retention::All.to_string(), "all");
    }

    #[test]
    fn sink_gets_every_event_even_those_the_window_dropped() {
        let dir = std::env::temp_dir().join(format!("mock-sts-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.jsonl");
        let log = EventLog::retaining(Retention::Last(1))
            .with_sink(File::create(&path).unwrap())
            .unwrap();
        for _ in 0..1000 {
            log.append(event(sts::Action::AssumeRole, None));
        }
        log.append(event(s3::Operation::PutObject, None));
        log.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1001);
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(
            (last["seq"].as_u64(), last["action"].as_str()),
            (Some(1001), Some("PutObject"))
        );
        // Dropping the last handle drains and flushes too.
        log.append(event(sts::Action::AssumeRole, None));
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1002);
        for (i, line) in text.lines().enumerate() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["seq"].as_u64(), Some(i as u64 + 1));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_is_reported_by_flush_and_requests_go_on() {
        // /dev/full fails every write with ENOSPC.
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let log = EventLog::new().with_sink(full).unwrap();
        for _ in 0..3 {
            log.append(event(sts::Action::AssumeRole, None));
        }
        let err = log.flush().unwrap_err();
        assert!(
            err.to_string().contains("cannot write the events file"),
            "{err}"
        );
        log.append(event(sts::Action::AssumeRole, None));
        assert_eq!(log.snapshot().len(), 4);
    }
}
