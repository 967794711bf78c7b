//! What a workload call ended as, seen from the client: the half of a run the server's events
//! cannot show.
//!
//! A call can fail without the server ever hearing of it: the SDK's identity cache times out
//! loading credentials, a connection is reset, a dispatch fails, the provider gives up. A verdict
//! read from the server's events alone would call such a run healthy (a run whose every call
//! timed out inside the SDK reports "0 requests, 0 failures"). So every call's outcome is kept
//! as the client saw it, classified into an AWS error code (the server answered with it) or a
//! client-side [`ClientFailure`] kind with the SDK's own message, one line, no `Debug` dumps.

use std::error::Error;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use serde::Serialize;

/// A failure the client saw that no server response carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientFailure {
    /// Something timed out in the SDK: the identity cache's credential load, stalled-stream
    /// protection, an operation or attempt timeout, a connect or read timeout.
    Timeout,
    /// The request could not be sent or its response not read: connection refused or reset,
    /// I/O errors.
    DispatchFailure,
    /// The credentials provider failed (and did not time out): no credentials to sign with.
    CredentialsNotLoaded,
    /// A response came but could not be understood (not an AWS error document).
    ResponseError,
    /// The request could not be built.
    ConstructionFailure,
    /// The worker running the call panicked or stopped before its job ended.
    WorkerStopped,
    /// Any other SDK error.
    Other,
}

impl ClientFailure {
    /// Every kind, as scenario files spell them.
    pub const ALL: [ClientFailure; 7] = [
        ClientFailure::Timeout,
        ClientFailure::DispatchFailure,
        ClientFailure::CredentialsNotLoaded,
        ClientFailure::ResponseError,
        ClientFailure::ConstructionFailure,
        ClientFailure::WorkerStopped,
        ClientFailure::Other,
    ];

    /// The kind as reports and scenario files spell it (`timeout`, `dispatch-failure`, …):
    /// lower case, so it never reads as an AWS error code.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClientFailure::Timeout => "timeout",
            ClientFailure::DispatchFailure => "dispatch-failure",
            ClientFailure::CredentialsNotLoaded => "credentials-not-loaded",
            ClientFailure::ResponseError => "response-error",
            ClientFailure::ConstructionFailure => "construction-failure",
            ClientFailure::WorkerStopped => "worker-stopped",
            ClientFailure::Other => "other",
        }
    }

    /// The kind a scenario names, if it names one.
    pub fn parse(text: &str) -> Option<ClientFailure> {
        ClientFailure::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// How a sentence says what happened to calls of this kind ("timed out in the SDK").
    pub fn phrase(&self) -> &'static str {
        match self {
            ClientFailure::Timeout => "timed out in the SDK",
            ClientFailure::DispatchFailure => "could not be sent or their response not read",
            ClientFailure::CredentialsNotLoaded => "found no credentials to sign with",
            ClientFailure::ResponseError => "got a response the SDK could not read",
            ClientFailure::ConstructionFailure => "could not be built",
            ClientFailure::WorkerStopped => "were lost when their worker stopped",
            ClientFailure::Other => "failed in the SDK",
        }
    }
}

impl fmt::Display for ClientFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one call ended, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOutcome {
    /// It succeeded.
    Ok,
    /// The server answered with an AWS error (after the SDK's retries).
    Aws {
        /// The error code.
        code: String,
    },
    /// It failed in the client, with no server answer to show for it.
    Client {
        /// The kind.
        kind: ClientFailure,
        /// The SDK's error chain, one line.
        message: String,
    },
}

impl ClientOutcome {
    /// Whether the call failed.
    pub fn is_failure(&self) -> bool {
        !matches!(self, ClientOutcome::Ok)
    }

    /// The AWS code or the client-side kind; `None` on success.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientOutcome::Ok => None,
            ClientOutcome::Aws { code } => Some(code),
            ClientOutcome::Client { kind, .. } => Some(kind.as_str()),
        }
    }

    /// The client-side kind, when the failure was the client's alone.
    pub fn client_failure(&self) -> Option<ClientFailure> {
        match self {
            ClientOutcome::Client { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Classifies an SDK error.
    pub fn from_sdk_error<E, R>(err: &SdkError<E, R>) -> ClientOutcome
    where
        E: ProvideErrorMetadata + Error + 'static,
        R: fmt::Debug + 'static,
    {
        let kind = match err {
            SdkError::ServiceError(e) => {
                return ClientOutcome::Aws {
                    code: e.err().code().unwrap_or("Unknown").to_string(),
                };
            }
            SdkError::TimeoutError(_) => ClientFailure::Timeout,
            SdkError::DispatchFailure(e) if e.is_timeout() => ClientFailure::Timeout,
            // I/O, and identity resolution too: it fails before transmit and the orchestrator
            // reports it as a dispatch failure of kind "other"; `refine` reads the chain.
            SdkError::DispatchFailure(_) => ClientFailure::DispatchFailure,
            SdkError::ResponseError(_) => ClientFailure::ResponseError,
            SdkError::ConstructionFailure(_) => ClientFailure::ConstructionFailure,
            _ => ClientFailure::Other,
        };
        let kind = refine(err, kind);
        ClientOutcome::Client {
            kind,
            message: error_chain(err),
        }
    }
}

/// Looks through the error chain for what the SDK's variant hides: a credentials provider that
/// failed, or the identity cache's load timeout.
fn refine(err: &(dyn Error + 'static), kind: ClientFailure) -> ClientFailure {
    let mut credentials = false;
    let mut current: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<CredentialsError>().is_some() {
            credentials = true;
        }
        // A timeout anywhere in the chain is what happened, even inside a credentials error:
        // aws-smithy-runtime's lazy identity cache fails with a private `TimedOutError`
        // ("identity resolver timed out after 5s"), and an STS call that a provider makes
        // fails with the SDK's "timeout" (an operation timeout, or stalled-stream protection:
        // "minimum throughput was specified at 1 B/s, but throughput of 0 B/s was observed").
        let text = e.to_string();
        if text == "timeout" || text.starts_with("timeout:") || text.contains("timed out") {
            return ClientFailure::Timeout;
        }
        if let Some(CredentialsError::ProviderTimedOut(_)) = e.downcast_ref::<CredentialsError>() {
            return ClientFailure::Timeout;
        }
        current = e.source();
    }
    if credentials {
        ClientFailure::CredentialsNotLoaded
    } else {
        kind
    }
}

/// An error and its sources on one line, `a: b: c`, each level once (SDK errors often repeat
/// their source's text), without the `Debug` form that aws-smithy's `DisplayErrorContext`
/// appends. At most 400 characters.
pub fn error_chain(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    truncate(&parts.join(": "), 400)
}

/// Collapses whitespace runs (newlines included) to single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("dispatch failure")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("identity resolver timed out after 5s")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }
    impl Error for Inner {}

    #[test]
    fn kinds_round_trip_and_never_look_like_aws_codes() {
        for kind in ClientFailure::ALL {
            assert_eq!(ClientFailure::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.as_str(), kind.as_str().to_lowercase());
        }
        assert_eq!(ClientFailure::parse("Throttling"), None);
    }

    #[test]
    fn the_chain_is_one_line_and_finds_the_identity_timeout() {
        let err = Outer(Inner);
        assert_eq!(
            error_chain(&err),
            "dispatch failure: identity resolver timed out after 5s"
        );
        assert_eq!(
            refine(&err, ClientFailure::DispatchFailure),
            ClientFailure::Timeout
        );
        let credentials = CredentialsError::provider_error("no keys");
        assert_eq!(
            refine(&credentials, ClientFailure::DispatchFailure),
            ClientFailure::CredentialsNotLoaded
        );
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
