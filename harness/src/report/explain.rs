//! The paragraph that explains a run's failure, the way the seed's investigation did: which
//! credential signed the failing request, how and when it was issued, when it expired, whether
//! a refresh was attempted, and the remedy. Shared by the table, JSON and JUnit.

use std::fmt::Write as _;

use mock_sts::aws_error::ErrorCode;

use crate::metrics::{self, Metrics, Side, hms};
use crate::outcome::ClientFailure;
use crate::process::Exit;
use crate::runner::RunResult;
use crate::scenario::{Operation, Scenario, StrategyKind};
use crate::strategy;

use super::clock_faults_label;

/// The SDK log line that best explains a failure at `at_seconds`: the last distinct line first
/// logged at or before it, else the first line. Quoted as `"…" (×N, first at +T)`.
fn quote_sdk_log(result: &RunResult, at_seconds: f64) -> Option<String> {
    let lines = &result.sdk_log.lines;
    let line = lines
        .iter()
        .rfind(|l| metrics::since(result.start, l.first) <= at_seconds + 0.001)
        .or_else(|| lines.first())?;
    Some(format!(
        "The SDK logged: \"{}\" (×{}, first at +{}).",
        line.message,
        line.count,
        hms(metrics::since(result.start, line.first))
    ))
}

/// What to do about a failure only the client saw.
fn client_remedy(kind: ClientFailure) -> &'static str {
    match kind {
        ClientFailure::Timeout => {
            "a call, or the credential load behind it, took longer than the SDK waits: stalled-stream protection fails a transfer that moves no bytes for its grace period, the identity cache bounds a credential load (from the retry and timeout config), and configured operation or attempt timeouts bound each call; the server never sees those calls. Find the slow hop, or give the SDK's timeouts room for it"
        }
        ClientFailure::DispatchFailure => {
            "the connection failed before any response: the SDK retries transient I/O errors a few times (standard retry mode, 3 attempts); a longer outage reaches the caller"
        }
        ClientFailure::CredentialsNotLoaded => {
            "the credentials provider failed, so the SDK had nothing to sign with: the refresh itself failed (its STS or metadata call was refused or unreachable); see the SDK's log line and the server's failed issuing calls"
        }
        ClientFailure::ResponseError => {
            "a response came back that the SDK could not parse as the service's answer"
        }
        ClientFailure::ConstructionFailure => "the SDK could not build the request",
        ClientFailure::WorkerStopped => "a worker stopped before the job's end",
        ClientFailure::Other => "the SDK failed the call on its own; see its message",
    }
}

/// The paragraph that explains a run's first failure, or `None` when nothing failed; for a
/// `process` run, also how its program ended when that matters.
pub(super) fn explain(scenario: &Scenario, result: &RunResult, m: &Metrics) -> Option<String> {
    let mut text = explain_failure(scenario, result, m);
    for stop in &result.worker_stops {
        let note = format!(
            "Worker {} stopped at +{}: {}; the calls it had left were never made, so this run did not do its work.",
            stop.worker,
            hms(metrics::since(result.start, stop.at)),
            stop.reason
        );
        text = Some(match text {
            Some(t) => format!("{t} {note}"),
            None => note,
        });
    }
    let Some(process) = &result.process else {
        return text;
    };
    let note = match process.exit {
        Exit::TimedOut { limit_ms } => Some(format!(
            "The program was still running at its {} wall-clock limit ({}), so the harness killed it and its process group; a program that waits on something that never comes, or a rate too high for its start-up, ends this way.",
            hms(limit_ms as f64 / 1000.0),
            if result
                .run
                .process
                .as_ref()
                .is_some_and(|p| p.timeout.is_some())
            {
                "the run's `timeout`"
            } else {
                "the workload's length at the clock's rate, ×2, plus 60 s"
            }
        )),
        Exit::Code { code } if code != 0 && m.first_failure.is_none() => Some(format!(
            "The program exited with status {code} although no request failed on the server: see its output."
        )),
        Exit::Code { .. } => None,
    };
    match (text, note) {
        (Some(t), Some(n)) => Some(format!("{t} {n}")),
        (t, n) => t.or(n),
    }
}

fn explain_failure(scenario: &Scenario, result: &RunResult, m: &Metrics) -> Option<String> {
    let strategy = result.run.strategy;
    if let Some(error) = &result.startup_error
        && strategy == StrategyKind::Process
    {
        return Some(format!(
            "The run failed before its program started: {error}."
        ));
    }
    if let Some(error) = &result.startup_error {
        let role_max = scenario
            .world
            .role_by_arn(&result.run.role_arn)
            .map(|r| r.max_session_duration);
        let mut text = format!(
            "The run failed before its workload started: {}. ",
            error.trim_end_matches('.')
        );
        if let (Some(asked), Some(_)) = (result.run.duration_seconds, &result.run.source) {
            let _ = write!(
                text,
                "Its role is assumed by role chaining (from a session of {}), which AWS caps at 3600 s: DurationSeconds={asked} cannot be granted, whatever the role's maximum. Ask for at most 3600, or better, ",
                result
                    .run
                    .source
                    .as_ref()
                    .map_or("", |s| s.role_arn.as_str())
            );
            text.push_str(strategy::remedy(StrategyKind::ManualEnv));
            text.push('.');
            return Some(text);
        }
        if let (Some(asked), Some(max)) = (result.run.duration_seconds, role_max)
            && (asked > max || asked > 43200)
        {
            let _ = write!(
                text,
                "It asked for DurationSeconds={asked}, but the role allows at most {max} s (and STS at most 43200 s). Ask for at most the role's MaxSessionDuration, or better, "
            );
            text.push_str(strategy::remedy(StrategyKind::ManualEnv));
            text.push('.');
            return Some(text);
        }
        let _ = write!(text, "Remedy: {}.", strategy::remedy(strategy));
        return Some(text);
    }
    let f = m.first_failure.as_ref()?;
    if f.side == Side::Client {
        return Some(explain_client_failure(result, m, f));
    }
    let mut text = format!(
        "{} at +{} failed with {}: \"{}\". ",
        f.action,
        hms(f.at_seconds),
        f.code,
        f.message
    );
    if let Some(effect) = &f.injected {
        let _ = write!(
            text,
            "The mock injected it (fault rule `{effect}`), and the SDK's retries did not absorb it. "
        );
    }
    if let Some(effect) = &f.delayed {
        let _ = write!(
            text,
            "It was held in flight by a fault rule (`{effect}`) and judged when it arrived. "
        );
    }
    match (&f.signed_by, &f.issued) {
        (Some(signer), Some(issued)) => {
            let asked = match issued.duration_seconds_requested {
                Some(d) => format!("DurationSeconds={d} asked"),
                None => "no DurationSeconds sent".to_string(),
            };
            let max = issued
                .max_session_duration
                .map_or(String::new(), |m| format!("; the role allows {m} s"));
            let _ = write!(
                text,
                "It was signed with {}, issued by {} at +{} ({asked}, {} s granted{max}), which expired at +{}. ",
                signer.access_key_id,
                signer.issued_by.map_or("STS", |by| by.as_str()),
                f.issued_at_seconds.map_or("?".into(), hms),
                issued.duration_seconds_granted,
                f.expired_at_seconds.map_or("?".into(), hms),
            );
        }
        (Some(signer), None) => {
            let _ = write!(
                text,
                "It was signed with {} ({}). ",
                signer.access_key_id,
                signer
                    .principal_arn
                    .as_deref()
                    .unwrap_or("unknown principal")
            );
        }
        (None, _) => text.push_str("It carried no signature the server could attribute. "),
    }
    if f.error_code == Some(ErrorCode::ExpiredToken) {
        if f.refresh_attempts == 0 {
            text.push_str("No refresh was attempted after those credentials were issued. ");
        } else {
            let _ = write!(
                text,
                "{} credential refresh call(s) came after they were issued, yet this request still carried the expired credential. ",
                f.refresh_attempts
            );
        }
    }
    let clock = &result.run.clock_faults;
    let presigned_use = scenario.workload.presign.is_some()
        && result.operations.iter().any(|op| {
            matches!(
                op,
                Operation::PresignedGetObject | Operation::PresignedPutObject
            ) && op.actions().iter().any(|a| a.as_str() == f.action)
        });
    let advice = match (strategy, f.error_code, result.run.duration_seconds) {
        (_, Some(ErrorCode::ExpiredToken), _) if presigned_use => {
            "A presigned URL carries the credentials it was signed with, session token included: it works until its X-Amz-Expires or until that session expires, whichever comes first, and refreshing the client's credentials afterwards does not renew it (aws-sdk-rust warns when it presigns: see its log line). Presign with credentials that live as long as the URL must (an IAM user's keys, or a role session as long as the role allows), or presign just before the URL is used.".to_string()
        }
        (_, Some(ErrorCode::AccessDenied), _) if presigned_use => {
            "The URL's X-Amz-Expires ran out before it was used: presign closer to its use, or with a longer validity (at most 7 days, and never longer than the session that signs it).".to_string()
        }
        _ if !clock.is_none() => format!(
            "The client's clock is wrong ({}) while AWS judges every request by its own: keep it synchronised (NTP, chrony; re-sync after a resume). aws-runtime 1.10 learns the skew from a skew error's Date header and re-signs, but its credential cache still judges expiry by the local clock: behind, it keeps keys past their expiry (ExpiredToken until it catches up); ahead, it thinks fresh keys have expired and calls STS before every request.",
            clock_faults_label(clock)
        ),
        (_, Some(ErrorCode::ExpiredToken), _)
            if f.action == "AssumeRole" && result.run.source.as_ref().is_some_and(|s| s.copied) =>
        {
            "The provider assumes the job's role with a source session that was assumed once and copied into its profile (aws_session_token): nothing refreshes it, so when it expires every refresh of the job's role is refused. Let the SDK refresh the whole chain (role_arn + source_profile at each level, or credential_source), or give the source a provider of its own.".to_string()
        }
        (StrategyKind::ManualEnv, Some(ErrorCode::ExpiredToken), None)
            if f.issued.as_ref().is_some_and(|i| i.chained) =>
        {
            format!(
                "Credentials from one chained AssumeRole at start-up (a role session assuming a role: AWS caps it at 3600 s, whatever the role's {} s) are never refreshed; {}.",
                f.issued
                    .as_ref()
                    .and_then(|i| i.max_session_duration)
                    .unwrap_or(3600),
                strategy::remedy(strategy)
            )
        }
        (StrategyKind::ManualEnv, Some(ErrorCode::ExpiredToken), None) => format!(
            "Credentials from one AssumeRole at start-up, with the 3600 s default although the role allows {} s, are never refreshed; {}.",
            f.issued
                .as_ref()
                .and_then(|i| i.max_session_duration)
                .unwrap_or(3600),
            strategy::remedy(strategy)
        ),
        (StrategyKind::ManualEnv, Some(ErrorCode::ExpiredToken), Some(d)) => format!(
            "A hard-coded DurationSeconds={d} only moves the cliff to +{}: any job longer than that, or a role with a lower maximum, fails the same way; {}.",
            hms(f64::from(d)),
            strategy::remedy(strategy)
        ),
        (StrategyKind::Process, Some(ErrorCode::ExpiredToken), _)
            if f.refresh_attempts == 0
                && crate::credential_process::uses_helper(&result.run) =>
        {
            format!(
                "The program ran its credential_process {} and kept the keys it printed past the Expiration it printed with them (aws/aws-cli#7246). Remedy: keep the credentials the SDK resolves from the profile instead of freezing them (get_frozen_credentials, keys copied into a client): botocore's ProcessProvider runs the process again 15 minutes before that Expiration.",
                match m.credential_process_runs {
                    Some(1) => "once".to_string(),
                    Some(n) => format!("{n} times"),
                    None => "?".to_string(),
                }
            )
        }
        (StrategyKind::Process, Some(ErrorCode::ExpiredToken), _) if f.refresh_attempts == 0 => {
            format!(
                "The program kept signing with the keys it had at start-up, as keys copied into its environment are{}; {}.",
                result
                    .run
                    .duration_seconds
                    .map_or(String::new(), |d| format!(
                        " (DurationSeconds={d} only moves the cliff to +{})",
                        hms(f64::from(d))
                    )),
                strategy::remedy(strategy)
            )
        }
        (_, Some(ErrorCode::ExpiredTokenException), _)
            if f.action == "AssumeRoleWithWebIdentity" =>
        {
            format!(
                "The web identity token the client sent had expired: it read the projected token file once and kept the token, while the kubelet writes a new one at 80 % of its lifetime ({} here). Remedy: {}.",
                scenario
                    .projected_token
                    .as_ref()
                    .map_or_else(|| "?".to_string(), |p| hms(p.rotate_after().as_secs_f64())),
                strategy::remedy(StrategyKind::WebIdentityReadOnce)
            )
        }
        (_, Some(ErrorCode::AccessDenied), _)
            if f.action == "GetContainerCredentials" && f.message.contains("Token expired") =>
        {
            format!(
                "The EKS Pod Identity token the client sent had expired: it was read once, while the kubelet writes a new one at 80 % of its lifetime. Remedy: {}.",
                strategy::remedy(StrategyKind::PodIdentityReadOnce)
            )
        }
        _ if f.injected.is_some() => format!(
            "This is the failure the scenario's fault rule causes on {}, and it reached the caller. What rides it out: renewing early enough that a short outage falls between refreshes (botocore's 15-minute advisory window, JS v3's 5 minutes), keeping cached credentials that are still valid when a refresh fails (static stability, as the 2026 cross-SDK refresh rules ask), and retrying throttled calls with backoff.",
            f.action
        ),
        (_, Some(ErrorCode::AccessDenied), _) if !scenario.revocations.is_empty() => {
            let r = &scenario.revocations[0];
            format!(
                "The scenario revoked {}'s sessions at +{} (those issued before +{}), as IAM's \"Revoke active sessions\" does: only credentials issued after that instant work. aws-sdk-rust and botocore do not drop cached credentials on AccessDenied, so a refreshing provider keeps failing until its next scheduled refresh, and keys copied at start-up never recover; after a revocation, restart the job or build a new client.",
                r.role_arn,
                hms(r.at.as_secs_f64()),
                hms(r.issued_before.as_secs_f64())
            )
        }
        _ => format!("Remedy: {}.", strategy::remedy(strategy)),
    };
    text.push_str(&advice);
    if let Some(fid) = &m.fidelity
        && fid.could_decide_verdict
    {
        let against = match fid.expiry_margin_seconds {
            Some(m) => format!("the {m:.1} s between a request and its keys' expiry"),
            None => format!(
                "the strategy's {:.0} s refresh buffer",
                fid.refresh_buffer_seconds
            ),
        };
        let _ = write!(
            text,
            " Note: on this scaled clock one call spanned {:.1} simulated seconds, more than {against}, so the clock's speed alone could have caused this; rerun at a lower rate or with --clock virtual.",
            fid.max_call_span_seconds
        );
    }
    Some(text)
}

/// A first failure only the client saw: what it was, how many calls it hit, whether any
/// request reached the server, what the SDK logged, and the remedy.
fn explain_client_failure(result: &RunResult, m: &Metrics, f: &metrics::FirstFailure) -> String {
    let mut text = format!(
        "{} at +{} failed in the client, with no answer from the server: {}",
        f.action,
        hms(f.at_seconds),
        f.code
    );
    if !f.message.is_empty() {
        let _ = write!(text, " (\"{}\")", f.message);
    }
    text.push_str(". ");
    if m.requests == 0 {
        let _ = write!(
            text,
            "{}. ",
            capitalise(&metrics::no_request_reached(result, m))
        );
    } else {
        let kinds: Vec<String> = m
            .client_failures
            .iter()
            .map(|(k, n)| format!("{} {k}", metrics::thousands(*n)))
            .collect();
        let _ = write!(
            text,
            "{} of {} calls failed in the client ({}); {} requests reached the server. ",
            metrics::thousands(m.client_failures.values().sum()),
            metrics::thousands(m.calls),
            kinds.join(", "),
            metrics::thousands(m.requests)
        );
    }
    if let Some(quote) = quote_sdk_log(result, f.at_seconds) {
        text.push_str(&quote);
        text.push(' ');
    }
    let kind = ClientFailure::parse(&f.code).unwrap_or(ClientFailure::Other);
    let _ = write!(text, "Remedy: {}.", client_remedy(kind));
    text
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
