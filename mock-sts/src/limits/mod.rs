//! The server's limits on slow and greedy clients: how long a client may take over its
//! request head and between the pieces of its body, and how many bytes of request bodies the
//! whole server holds at once. These protect the mock itself (thousands of idle connections, a
//! client that sends a byte a second, a body that never ends, uploads bigger than memory), and
//! they answer as AWS does.
//!
//! - **Header timeout** (`header_timeout`, default [`DEFAULT_HEADER_TIMEOUT`]): hyper's header
//!   read timeout. It runs from the moment a connection waits for a request head, so it closes
//!   both a connection that dribbles its headers (slowloris) and one idle between requests
//!   (keep-alive), without a response, as AWS's front ends close idle connections.
//! - **Body timeout** (`body_timeout`, default [`DEFAULT_BODY_TIMEOUT`]): the longest wait for
//!   the next piece of a request body. Past it S3 answers `400 RequestTimeout` (AWS's
//!   knowledge-centre article "s3-socket-connection-timeout-error": S3 closes a connection idle
//!   for 20 seconds with this error) and the connection is closed.
//! - **Upload memory** (`max_upload_memory`, default [`DEFAULT_MAX_UPLOAD_MEMORY`]): request
//!   bodies are buffered whole before they are checked, so the server reserves each request's
//!   declared length (or its bytes as they come, without a `Content-Length`) from one budget,
//!   and gives it back when the request is answered. A request that does not fit gets S3's
//!   `503 SlowDown` (STS: `400 Throttling`, its overload answer), and its body is read and
//!   dropped rather than held, so that a client that sends its whole body before it reads an
//!   answer gets the 503, not a reset.
//!
//! A body that ends before its `Content-Length` (the client shut down its write half) gets S3's
//! `400 IncompleteBody`; hyper's `half_close` keeps the connection open for the answer. A
//! client that just stops sending and waits gets `RequestTimeout` instead, as from S3, which
//! cannot tell a stall from a short body until the connection ends.
//!
//! STS has no documented code for a stalled or short form body; the mock answers in STS's XML
//! with the codes the SDKs already classify: `RequestTimeout` (a transient error in
//! aws-sdk-js-v3's `TRANSIENT_ERROR_CODES` and aws-sdk-rust's retry classifiers) for a stall
//! and `IncompleteBody` for a short body, both 400.
//!
//! The limits apply on the socket only (`serve`); in-process calls through the `Router` have
//! no socket to be slow on. Timeouts run in real time ([`crate::clock::RealSleep`]), whatever
//! the simulated clock does.

use std::time::Duration;

use crate::aws_error::{AwsError, ErrorCode, Service};

mod body;
mod budget;

pub(crate) use body::{BodyGuard, GuardedBody};
pub(crate) use budget::UploadBudget;

/// The default [header timeout](crate::MockAwsBuilder::header_timeout): 20 s, S3's idle
/// connection timeout as AWS's knowledge centre gives it.
pub(crate) const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(20);

/// The default [body timeout](crate::MockAwsBuilder::body_timeout): 20 s, S3's idle timeout
/// before `RequestTimeout`.
pub(crate) const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(20);

/// The default [upload memory budget](crate::MockAwsBuilder::max_upload_memory): 1 GiB of
/// request bodies held at once.
pub(crate) const DEFAULT_MAX_UPLOAD_MEMORY: u64 = 1 << 30;

/// How a request body could not be read, as the services answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyError {
    /// No piece of the body arrived within the body timeout.
    #[error("no request body data within {0:?}")]
    Stalled(Duration),
    /// The connection ended (or its write half was shut) before the declared length arrived.
    #[error("the request body ended before its declared length")]
    Incomplete,
    /// Holding the body would take the server past its upload memory budget.
    #[error("the upload memory budget is spent")]
    OverBudget,
}

impl BodyError {
    /// The body error behind an error from reading a body (`axum::body::to_bytes`), if any.
    /// hyper's own "body ended early" errors count as [`BodyError::Incomplete`].
    pub(crate) fn find(error: &(dyn std::error::Error + 'static)) -> Option<BodyError> {
        let mut source = Some(error);
        while let Some(e) = source {
            if let Some(body) = e.downcast_ref::<BodyError>() {
                return Some(*body);
            }
            if let Some(hyper) = e.downcast_ref::<hyper::Error>()
                && hyper.is_incomplete_message()
            {
                return Some(BodyError::Incomplete);
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::UnexpectedEof
            {
                return Some(BodyError::Incomplete);
            }
            source = e.source();
        }
        None
    }

    /// The error `service` answers with.
    pub(crate) fn to_aws_error(self, service: Service) -> AwsError {
        let code = match (self, service) {
            (BodyError::Stalled(_), _) => ErrorCode::RequestTimeout,
            (BodyError::Incomplete, _) => ErrorCode::IncompleteBody,
            (BodyError::OverBudget, Service::S3) => ErrorCode::SlowDown,
            (BodyError::OverBudget, _) => ErrorCode::Throttling,
        };
        AwsError::new(service, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_error_is_found_under_the_errors_that_wrap_it() {
        let wrapped = axum::Error::new(BodyError::Stalled(Duration::from_secs(1)));
        assert_eq!(
            BodyError::find(&wrapped),
            Some(BodyError::Stalled(Duration::from_secs(1)))
        );
        let eof = axum::Error::new(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "early",
        ));
        assert_eq!(BodyError::find(&eof), Some(BodyError::Incomplete));
        let other = axum::Error::new(std::io::Error::other("other"));
        assert_eq!(BodyError::find(&other), None);
    }

    #[test]
    fn each_service_answers_a_body_error_with_its_own_code() {
        let s3 = |e: BodyError| e.to_aws_error(Service::S3);
        let sts = |e: BodyError| e.to_aws_error(Service::Sts);
        let stalled = BodyError::Stalled(Duration::from_secs(20));
        assert_eq!(s3(stalled).code, ErrorCode::RequestTimeout);
        assert_eq!(s3(stalled).status.as_u16(), 400);
        assert_eq!(s3(BodyError::Incomplete).code, ErrorCode::IncompleteBody);
        assert_eq!(s3(BodyError::OverBudget).code, ErrorCode::SlowDown);
        assert_eq!(s3(BodyError::OverBudget).status.as_u16(), 503);
        assert_eq!(sts(stalled).code, ErrorCode::RequestTimeout);
        assert_eq!(sts(BodyError::OverBudget).code, ErrorCode::Throttling);
        assert_eq!(sts(BodyError::OverBudget).status.as_u16(), 400);
    }
}
