//! The SDK's own log lines, captured per run: what aws-sdk-rust said while the run went wrong.
//!
//! aws-config and the smithy runtime log warnings through `tracing` when a credential load or a
//! call fails ("failed to load assume role credentials", "identity resolver timed out"). Left on
//! stderr they interleave across parallel runs and print whole `Debug` dumps of the provider
//! (clock and all) once per failed call. Each in-process run therefore installs a [`Capture`]
//! as its thread's default subscriber (a run owns its thread and its `current_thread`
//! runtime): warnings and errors are kept as one line each — the message, string and number
//! fields, error chains; `Debug`-only fields shortened to their type name — counted when they
//! repeat and stamped with the simulated time they were first seen. The report shows them, and
//! an explanation quotes the relevant one.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use mock_sts::clock::SimClock;
use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::outcome::{one_line, truncate};

/// Distinct lines kept per run; later distinct lines are counted in [`SdkLog::dropped`].
const MAX_LINES: usize = 64;
/// Characters kept of a line.
const LINE_WIDTH: usize = 300;
/// A `Debug`-only field longer than this is shown as its type name.
const SHORT_DEBUG: usize = 60;

/// One distinct log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// `WARN` or `ERROR`.
    pub level: String,
    /// The module that logged it (`aws_config::profile::credentials`).
    pub target: String,
    /// The message and its fields, one line.
    pub message: String,
    /// How many times it was logged.
    pub count: u64,
    /// Simulated time it was first logged.
    #[serde(skip)]
    pub first: SystemTime,
}

/// What the SDK logged during a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SdkLog {
    /// Distinct lines, in the order first seen.
    pub lines: Vec<LogLine>,
    /// Lines not kept because 64 distinct ones were (the per-run cap).
    pub dropped: u64,
}

#[derive(Default)]
struct Store {
    log: SdkLog,
    index: HashMap<(String, String), usize>,
}

/// A per-run capture of the SDK's warnings and errors.
#[derive(Clone)]
pub struct Capture {
    store: Arc<Mutex<Store>>,
    clock: SimClock,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

impl Capture {
    /// A capture that stamps lines with `clock`.
    pub fn new(clock: SimClock) -> Capture {
        Capture {
            store: Arc::new(Mutex::new(Store::default())),
            clock,
        }
    }

    /// Makes this capture the current thread's subscriber until the guard drops.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::set_default(subscriber)
    }

    /// What was captured so far.
    pub fn log(&self) -> SdkLog {
        self.store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .log
            .clone()
    }

    fn record(&self, level: &Level, target: &str, message: String) {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let key = (target.to_string(), message);
        if let Some(&i) = store.index.get(&key) {
            store.log.lines[i].count += 1;
            return;
        }
        if store.log.lines.len() >= MAX_LINES {
            store.log.dropped += 1;
            return;
        }
        let i = store.log.lines.len();
        store.log.lines.push(LogLine {
            level: level.to_string(),
            target: key.0.clone(),
            message: key.1.clone(),
            count: 1,
            first: self.clock.now(),
        });
        store.index.insert(key, i);
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        *metadata.level() <= Level::WARN
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        if *metadata.level() > Level::WARN {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        self.record(metadata.level(), metadata.target(), line.finish());
    }
}

/// Renders an event's fields on one line, without `Debug` dumps.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn push(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = one_line(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), one_line(value));
        }
    }

    fn finish(self) -> String {
        truncate(&format!("{}{}", self.message, self.fields), LINE_WIDTH)
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, &crate::outcome::error_chain(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" || (text.len() <= SHORT_DEBUG && !text.contains('\n')) {
            self.push(field, &text);
            return;
        }
        // A struct dump (a provider with its clock, a whole config): its type name says enough.
        let name: String = text
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        self.push(field, &format!("{name}{{…}}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // only its Debug form is read
    struct Provider {
        clock: Vec<u64>,
        name: String,
    }

    #[test]
    fn warnings_are_one_line_counted_and_free_of_debug_dumps() {
        let clock = SimClock::frozen(mock_sts::clock::default_virtual_start());
        let capture = Capture::new(clock);
        {
            let _guard = capture.install();
            let provider = Provider {
                clock: (0..40).collect(),
                name: "assume role".into(),
            };
            for _ in 0..3 {
                tracing::warn!(provider = ?provider, attempts = 2, "failed to load\n credentials");
            }
            tracing::info!("not kept");
            tracing::error!(role = "arn:aws:iam::1:role/r", "refused");
        }
        let log = capture.log();
        assert_eq!(log.lines.len(), 2, "{log:?}");
        assert_eq!(
            log.lines[0].message,
            "failed to load credentials provider=Provider{…} attempts=2"
        );
        assert_eq!(log.lines[0].count, 3);
        assert_eq!(log.lines[0].level, "WARN");
        assert_eq!(log.lines[1].message, "refused role=arn:aws:iam::1:role/r");
    }
}
