//! The scenario file format: TOML tables deserialised with their spans, and every check that
//! turns them into a [`Scenario`] (or an error naming the file, line, column and key).
//!
//! The model ([`super`]) knows nothing of TOML; this module knows nothing of running. Each
//! check runs when the file is read, so a scenario never fails later for a reason its author
//! cannot see.

use std::ops::{Range, RangeInclusive};
use std::path::Path;
use std::time::Duration;

use mock_sts::clock::{ClockFaults, ClockJump, SimClock, parse_duration};
use mock_sts::faults::{RuleSpec, TimeBase};
use mock_sts::timestamp;
use mock_sts::world::line_col;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use toml::Spanned;

use super::*;
use super::{compressed, projected, transfer, versions};
use crate::conformance::Rule;

/// Parses scenario text; `path` names it in errors and anchors relative world files.
pub(super) fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let invalid = |span: Option<Range<usize>>, message: String| {
        let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
        ScenarioError::Invalid {
            path: path.display().to_string(),
            line,
            column,
            message,
        }
    };
    let file: ScenarioFile =
        toml::from_str(text).map_err(|e| invalid(e.span(), e.message().trim().to_string()))?;

    let clock = match &file.clock {
        None => ClockSpec::Virtual,
        Some(c) if c.mode.get_ref() == "compressed" || c.factor.is_some() => {
            compressed::clock(c).map_err(|(span, m)| invalid(Some(span), m))?
        }
        Some(c) => match (c.mode.get_ref().as_str(), c.rate) {
            ("virtual", None) => ClockSpec::Virtual,
            ("virtual", Some(_)) => {
                return Err(invalid(
                    Some(c.mode.span()),
                    "clock.rate: a virtual clock has no rate (use mode = \"scaled\")".into(),
                ));
            }
            ("scaled", Some(rate)) if rate.is_finite() && rate > 0.0 => ClockSpec::Scaled { rate },
            ("scaled", _) => {
                return Err(invalid(
                    Some(c.mode.span()),
                    "clock.rate: a scaled clock needs rate > 0 (e.g. rate = 360)".into(),
                ));
            }
            (other, _) => {
                return Err(invalid(
                    Some(c.mode.span()),
                    format!(
                        "clock.mode: `{other}` is not \"virtual\", \"scaled\" or \"compressed\""
                    ),
                ));
            }
        },
    };
    let start = match file.clock.as_ref().and_then(|c| c.start.as_ref()) {
        None => mock_sts::clock::default_virtual_start(),
        // The wall-clock time now: with rate = 1, programs that libfaketime cannot reach
        // (static binaries) agree with the server.
        Some(s) if s.get_ref() == "now" => SimClock::wall().now(),
        Some(s) => timestamp::parse_rfc3339(s.get_ref()).ok_or_else(|| {
            invalid(
                Some(s.span()),
                format!(
                    "clock.start: `{}` is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z) or \"now\"",
                    s.get_ref()
                ),
            )
        })?,
    };

    let world = match &file.world {
        None => mock_sts::World::default(),
        Some(w) => {
            let base = path.parent().unwrap_or(Path::new("."));
            mock_sts::World::load(&base.join(w.file.get_ref()))?
        }
    };

    let w = &file.workload;
    let mut operations = Vec::new();
    for op in &w.operations {
        match Operation::parse(op.get_ref()) {
            Some(o) => operations.push(o),
            None => {
                return Err(invalid(
                    Some(op.span()),
                    format!(
                        "workload.operations: unknown operation `{}` ({})",
                        op.get_ref(),
                        Operation::ALL.map(|o| o.as_str()).join(", ")
                    ),
                ));
            }
        }
    }
    if operations.is_empty() {
        return Err(invalid(
            None,
            "workload.operations: give at least one operation".into(),
        ));
    }
    let workers = w.workers.unwrap_or(1);
    if !(1..=64).contains(&workers) {
        return Err(invalid(
            None,
            format!("workload.workers: must be 1..=64, got {workers}"),
        ));
    }
    let at = |(span, message): transfer::Invalid| invalid(span, message);
    let multipart = w
        .multipart
        .as_ref()
        .map(|m| m.get_ref().check().map_err(at))
        .transpose()?;
    let presign = w
        .presign
        .as_ref()
        .map(|p| p.get_ref().check().map_err(at))
        .transpose()?;
    let presigned = |o: &Operation| {
        matches!(
            o,
            Operation::PresignedGetObject | Operation::PresignedPutObject
        )
    };
    match (
        operations.contains(&Operation::MultipartUpload),
        &w.multipart,
    ) {
        (true, None) => {
            return Err(invalid(
                None,
                "workload.multipart: MultipartUpload needs [workload.multipart] (parts, part_size, bandwidth)".into(),
            ));
        }
        (false, Some(m)) => {
            return Err(invalid(
                Some(m.span()),
                "workload.multipart: given, but no operation is MultipartUpload".into(),
            ));
        }
        _ => {}
    }
    match (operations.iter().any(presigned), &w.presign) {
        (true, None) => {
            return Err(invalid(
                None,
                "workload.presign: PresignedGetObject and PresignedPutObject need [workload.presign] (expires, use_after)".into(),
            ));
        }
        (false, Some(p)) => {
            return Err(invalid(
                Some(p.span()),
                "workload.presign: given, but no operation is PresignedGetObject or PresignedPutObject".into(),
            ));
        }
        _ => {}
    }
    let workload = Workload {
        multipart,
        presign,
        length: w.length.0,
        every: w.every.0,
        operations,
        workers,
        object_size: w.object_size.unwrap_or(1024),
        latency: w.latency.as_ref().map_or(Duration::ZERO, |l| l.0),
        bucket: w.bucket.clone().unwrap_or_else(|| "pipeline-data".into()),
        jitter: w.jitter.unwrap_or(0.0),
    };
    if !(0.0..1.0).contains(&workload.jitter) {
        return Err(invalid(
            None,
            format!(
                "workload.jitter: must be 0 <= jitter < 1, got {}",
                workload.jitter
            ),
        ));
    }
    if workload.every.is_zero() {
        return Err(invalid(None, "workload.every: must be more than 0".into()));
    }

    if file.run.is_empty() {
        return Err(invalid(
            None,
            "a scenario needs at least one [[run]]".into(),
        ));
    }
    let mut runs = Vec::new();
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for r in &file.run {
        let span = r.strategy.span();
        let strategy = StrategyKind::parse(r.strategy.get_ref()).ok_or_else(|| {
            invalid(
                Some(span.clone()),
                format!(
                    "run.strategy: unknown strategy `{}` ({})",
                    r.strategy.get_ref(),
                    StrategyKind::ALL.map(|s| s.as_str()).join(", ")
                ),
            )
        })?;
        if r.duration_seconds.is_some() && !strategy.takes_duration() {
            return Err(invalid(
                Some(span),
                format!(
                    "run.duration_seconds: strategy `{}` never sends DurationSeconds (aws-config's profile provider does not read duration_seconds)",
                    strategy.as_str()
                ),
            ));
        }
        let process = check_process_options(r, strategy, clock, &world, &workload, path)
            .map_err(|(span, m)| invalid(Some(span), m))?;
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| strategy.as_str().to_string());
        if !names.insert(name.clone()) {
            return Err(invalid(
                Some(span),
                format!("run.name: two runs are named `{name}`; give one a `name`"),
            ));
        }
        let expect = r
            .expect
            .as_ref()
            .map(|e| {
                e.get_ref()
                    .validate(strategy)
                    .map_err(|m| invalid(Some(e.span()), m))
            })
            .transpose()?
            .ok_or_else(|| {
                invalid(
                    Some(r.strategy.span()),
                    "run.expect: every run needs an expectation (e.g. expect = { passes = true })"
                        .into(),
                )
            })?;
        if expect.credential_process_runs.is_some()
            && process.as_ref().map(|p| p.profile) != Some(ProfileKind::CredentialProcess)
            && let Some(e) = &r.expect
        {
            return Err(invalid(
                Some(e.span()),
                "expect: `credential_process_runs` counts the helper of profile = \"credential-process\"; this run's profile has none".into(),
            ));
        }
        let clock_faults =
            clock_faults(r, strategy, &workload).map_err(|(span, m)| invalid(Some(span), m))?;
        let source = r
            .source
            .as_ref()
            .map(|s| {
                s.get_ref()
                    .check(strategy)
                    .map_err(|m| invalid(Some(s.span()), m))
            })
            .transpose()?;
        let run = RunSpec {
            name,
            strategy,
            role_arn: r.role.clone().unwrap_or_else(|| DEFAULT_ROLE.to_string()),
            duration_seconds: r.duration_seconds,
            source,
            process,
            clock_faults,
            expect,
            line: line_col(text, r.strategy.span().start).0,
        };
        // A version matrix's rows are runs of their own, named for their versions.
        for row in versions::expand(run, r.versions.as_ref())
            .map_err(|(span, m)| invalid(Some(span), m))?
        {
            if row.process.as_ref().is_some_and(|p| p.packages.is_some())
                && !names.insert(row.name.clone())
            {
                return Err(invalid(
                    Some(r.strategy.span()),
                    format!("run.name: two runs are named `{}`; rename one", row.name),
                ));
            }
            runs.push(row);
            // One span per run, not per `[[run]]` table: a matrix's rows share their table's.
            spans.push(r.strategy.span());
        }
    }

    let projected_token = projected::resolve(file.projected_token.as_ref(), &world, &runs, &spans)
        .map_err(|(span, m)| invalid(span, m))?;

    let mut faults = Vec::new();
    for (i, spec) in file.fault.iter().enumerate() {
        let rule = spec
            .get_ref()
            .validate(TimeBase::SinceStart(start))
            .map_err(|e| {
                let span = key_span(text, spec.span(), &e.field);
                invalid(
                    Some(span),
                    format!("fault[{}].{}: {}", i + 1, e.field, e.message),
                )
            })?;
        faults.push(rule);
    }
    let mut revocations = Vec::new();
    for r in &file.revoke {
        let entry = r.get_ref();
        let role_arn = entry
            .role
            .clone()
            .unwrap_or_else(|| DEFAULT_ROLE.to_string());
        if world.role_by_arn(&role_arn).is_none() {
            return Err(invalid(
                Some(key_span(text, r.span(), "role")),
                format!("revoke.role: `{role_arn}` is not a role of the world"),
            ));
        }
        if entry.at.0 >= workload.length {
            return Err(invalid(
                Some(key_span(text, r.span(), "at")),
                "revoke.at: comes after the job's end".into(),
            ));
        }
        revocations.push(Revocation {
            at: entry.at.0,
            role_arn,
            issued_before: entry.issued_before.as_ref().map_or(entry.at.0, |d| d.0),
        });
    }

    let scenario = Scenario {
        path: path.to_path_buf(),
        name: file.name,
        description: file.description.unwrap_or_default(),
        seed: file.seed.unwrap_or(1),
        clock,
        start,
        world,
        workload,
        runs,
        faults,
        revocations,
        projected_token,
    };
    if let ClockSpec::Compressed { factor } = scenario.clock {
        check_compression(&scenario, factor).map_err(|p| {
            let span = compressed::problem_span(text, &p, &spans, file.clock.as_ref());
            invalid(Some(span), p.message)
        })?;
    }
    Ok(scenario)
}

/// Where the key a validation error names sits inside a table's span: the key's last
/// segment (`effect.error` → `error`) written as `key =`, else the table itself.
pub(super) fn key_span(text: &str, table: Range<usize>, field: &str) -> Range<usize> {
    let key = field.rsplit('.').next().unwrap_or(field);
    // The table's own lines: from its header to the next table header (toml's span of an
    // array-of-tables entry may cover the header alone).
    let rest = text.get(table.start..).unwrap_or("");
    let end = rest
        .match_indices("\n[")
        .map(|(i, _)| i)
        .find(|&i| i > 0)
        .unwrap_or(rest.len())
        .max(table.end.saturating_sub(table.start).min(rest.len()));
    let body = &rest[..end];
    let mut offset = 0;
    while let Some(found) = body[offset..].find(key) {
        let at = offset + found;
        let before_ok = at == 0
            || !body[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = body[at + key.len()..].trim_start();
        if before_ok && after.starts_with('=') {
            let start = table.start + at;
            return start..start + key.len();
        }
        offset = at + key.len();
    }
    table
}

/// A run's client clock faults, checked: a drift that keeps the clock running forward, jumps
/// inside the job, and no jumps for `process` runs (libfaketime's clock is fixed when the
/// program starts: [`ClockFaults::faketime`]).
fn clock_faults(
    r: &RunEntry,
    strategy: StrategyKind,
    workload: &Workload,
) -> Result<ClockFaults, (Range<usize>, String)> {
    let mut faults = ClockFaults {
        offset_seconds: r.clock_offset.as_ref().map_or(0.0, |o| o.get_ref().0),
        ..ClockFaults::default()
    };
    if let Some(drift) = &r.clock_drift {
        let d = *drift.get_ref();
        if !d.is_finite() || d <= -1.0 || d.abs() > 1.0 {
            return Err((
                drift.span(),
                format!(
                    "run.clock_drift: a rate error between -1 and 1 (0.001 = 0.1 % fast), got {d}"
                ),
            ));
        }
        faults.drift = d;
    }
    if let Some(jumps) = &r.clock_jumps {
        if strategy == StrategyKind::Process {
            return Err((
                jumps.span(),
                "run.clock_jumps: a `process` run's clock is libfaketime's, fixed when the program starts; jumps need an in-process strategy (clock_offset and clock_drift work for programs)".into(),
            ));
        }
        for j in jumps.get_ref() {
            if j.at.0 >= workload.length {
                return Err((
                    jumps.span(),
                    format!(
                        "run.clock_jumps: a jump at {:?} comes after the job's {:?} length",
                        j.at.0, workload.length
                    ),
                ));
            }
            faults.jumps.push(ClockJump {
                at: j.at.0,
                by_seconds: j.by.0,
            });
        }
    }
    Ok(faults)
}

/// Checks a run's `process` options (`command`, `cwd`, `profile`, `timeout`) against its
/// strategy, the clock, the world and the workload; returns the program for `process` runs.
/// Errors carry the span to report and the message naming the key.
fn check_process_options(
    r: &RunEntry,
    strategy: StrategyKind,
    clock: ClockSpec,
    world: &mock_sts::World,
    workload: &Workload,
    path: &Path,
) -> Result<Option<ProcessSpec>, (Range<usize>, String)> {
    let strategy_span = r.strategy.span();
    if strategy != StrategyKind::Process {
        let given = [
            ("command", r.command.as_ref().map(Spanned::span)),
            ("cwd", r.cwd.as_ref().map(Spanned::span)),
            ("profile", r.profile.as_ref().map(Spanned::span)),
            ("timeout", r.timeout.as_ref().map(Spanned::span)),
            ("versions", r.versions.as_ref().map(Spanned::span)),
            ("client", r.client.as_ref().map(Spanned::span)),
            (
                "refresh_window",
                r.refresh_window.as_ref().map(Spanned::span),
            ),
        ];
        if let Some((key, Some(span))) = given.into_iter().find(|(_, s)| s.is_some()) {
            return Err((
                span,
                format!(
                    "run.{key}: only strategy `process` runs a program; `{}` runs aws-sdk-rust in the harness",
                    strategy.as_str()
                ),
            ));
        }
        return Ok(None);
    }
    if clock == ClockSpec::Virtual {
        return Err((
            strategy_span,
            "run.strategy: `process` runs a real program, which needs a scaled clock (under [clock]: mode = \"scaled\", rate = 360) or a compressed one (mode = \"compressed\", factor = 60); a virtual clock exists only inside the harness".into(),
        ));
    }
    if !workload.latency.is_zero() {
        return Err((
            strategy_span,
            "workload.latency: the harness cannot add latency to a program's requests; remove it from scenarios with `process` runs".into(),
        ));
    }
    let Some(command) = &r.command else {
        return Err((
            strategy_span,
            "run.command: strategy `process` needs a command (e.g. command = [\"python3\", \"clients/manual_env.py\"])".into(),
        ));
    };
    let words: Vec<String> = match command.get_ref() {
        CommandEntry::Line(line) => {
            if line.contains(['"', '\'', '\\']) {
                return Err((
                    command.span(),
                    "run.command: a command string is split on spaces, without quoting; write it as an array to pass arguments with spaces".into(),
                ));
            }
            line.split_whitespace().map(str::to_string).collect()
        }
        CommandEntry::Words(words) => words.clone(),
    };
    if words.first().is_none_or(|p| p.is_empty()) {
        return Err((command.span(), "run.command: the command is empty".into()));
    }
    // Absolute, so the program's path means the same inside its working directory.
    let parent = path.parent().unwrap_or(Path::new("."));
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let base = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
    let cwd = match &r.cwd {
        None => base.to_path_buf(),
        Some(c) => {
            let dir = base.join(c.get_ref());
            if !dir.is_dir() {
                return Err((
                    c.span(),
                    format!(
                        "run.cwd: `{}` is not a directory ({} relative to the scenario's folder)",
                        c.get_ref(),
                        dir.display()
                    ),
                ));
            }
            dir
        }
    };
    // A program named by a path must exist now (exit 2 before anything runs); a bare name is
    // looked up on the program's PATH when the run starts, which a venv may extend.
    let program = &words[0];
    if program.contains('/') {
        use std::os::unix::fs::PermissionsExt;
        let file = cwd.join(program);
        match std::fs::metadata(&file) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {}
            Ok(m) if m.is_file() => {
                return Err((
                    command.span(),
                    format!(
                        "run.command: `{program}` is not executable (chmod +x, or name its interpreter: [\"python3\", \"{program}\"])"
                    ),
                ));
            }
            _ => {
                return Err((
                    command.span(),
                    format!(
                        "run.command: `{program}` does not exist ({} relative to the run's cwd)",
                        file.display()
                    ),
                ));
            }
        }
    }
    let profile = match &r.profile {
        None => ProfileKind::Static,
        Some(p) => ProfileKind::parse(p.get_ref()).ok_or_else(|| {
            (
                p.span(),
                format!(
                    "run.profile: unknown profile `{}` ({})",
                    p.get_ref(),
                    ProfileKind::ALL.map(|k| k.as_str()).join(", ")
                ),
            )
        })?,
    };
    match (&r.profile, profile) {
        (Some(p), ProfileKind::Imds) if world.instance.is_none() => {
            return Err((
                p.span(),
                "run.profile: `imds` needs an [instance] in the world (the default world has one)"
                    .into(),
            ));
        }
        (Some(p), ProfileKind::Container) if world.container.is_none() => {
            return Err((
                p.span(),
                "run.profile: `container` needs a [container] in the world (the default world has one)"
                    .into(),
            ));
        }
        _ => {}
    }
    let timeout = match &r.timeout {
        Some(t) if t.get_ref().0.is_zero() => {
            return Err((
                t.span(),
                "run.timeout: must be more than 0 (wall-clock time)".into(),
            ));
        }
        t => t.as_ref().map(|t| t.get_ref().0),
    };
    let client = r
        .client
        .as_ref()
        .map(|c| {
            ClientSdk::parse(c.get_ref()).ok_or_else(|| {
                (
                    c.span(),
                    format!(
                        "run.client: unknown client `{}` ({})",
                        c.get_ref(),
                        ClientSdk::ALL.map(|k| k.as_str()).join(", ")
                    ),
                )
            })
        })
        .transpose()?;
    if let (Some(w), None) = (&r.refresh_window, client) {
        return Err((
            w.span(),
            "run.refresh_window: the window of the SDK `client` names; add client = \"go\" (or botocore, js-v3, rust, java-v2)".into(),
        ));
    }
    Ok(Some(ProcessSpec {
        command: words,
        cwd,
        profile,
        timeout,
        packages: None,
        client,
        refresh_window: r.refresh_window.as_ref().map(|w| w.get_ref().0),
    }))
}

// ---- the file format ----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    description: Option<String>,
    seed: Option<u64>,
    clock: Option<ClockEntry>,
    world: Option<WorldEntry>,
    workload: WorkloadEntry,
    #[serde(default)]
    run: Vec<RunEntry>,
    #[serde(default)]
    fault: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    revoke: Vec<Spanned<RevokeEntry>>,
    projected_token: Option<projected::ProjectedTokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeEntry {
    at: Dur,
    role: Option<String>,
    issued_before: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClockEntry {
    pub(super) mode: Spanned<String>,
    pub(super) rate: Option<f64>,
    pub(super) start: Option<Spanned<String>>,
    /// K of `mode = "compressed"`, any TOML value so a non-number gets our message.
    pub(super) factor: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldEntry {
    file: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadEntry {
    length: Dur,
    every: Dur,
    operations: Vec<Spanned<String>>,
    workers: Option<u32>,
    object_size: Option<usize>,
    latency: Option<Dur>,
    bucket: Option<String>,
    jitter: Option<f64>,
    multipart: Option<Spanned<transfer::MultipartEntry>>,
    presign: Option<Spanned<transfer::PresignEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunEntry {
    name: Option<String>,
    strategy: Spanned<String>,
    role: Option<String>,
    duration_seconds: Option<u32>,
    source: Option<Spanned<source::SourceEntry>>,
    command: Option<Spanned<CommandEntry>>,
    cwd: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    timeout: Option<Spanned<Dur>>,
    versions: Option<Spanned<versions::VersionsEntry>>,
    client: Option<Spanned<String>>,
    refresh_window: Option<Spanned<Dur>>,
    clock_offset: Option<Spanned<SignedDur>>,
    clock_drift: Option<Spanned<f64>>,
    clock_jumps: Option<Spanned<Vec<JumpEntry>>>,
    expect: Option<Spanned<ExpectEntry>>,
}

/// `{ at = "30m", by = "+2h" }`: the client's clock steps by `by` when `at` has passed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JumpEntry {
    at: Dur,
    by: SignedDur,
}

/// A duration with an optional sign: `-20m`, `+2h`, `90s`.
struct SignedDur(f64);

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let t = text.trim();
        let (sign, rest) = match t.strip_prefix('-') {
            Some(rest) => (-1.0, rest),
            None => (1.0, t.strip_prefix('+').unwrap_or(t)),
        };
        parse_duration(rest)
            .map(|d| SignedDur(sign * d.as_secs_f64()))
            .map_err(|_| {
                de::Error::custom(format!(
                    "`{text}` is not a signed duration (e.g. -20m, +2h, 90s)"
                ))
            })
    }
}

/// `command = ["python3", "client.py"]` or `command = "python3 client.py"`.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a command: an array of strings, or a string")]
enum CommandEntry {
    Words(Vec<String>),
    Line(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectEntry {
    passes: Option<bool>,
    fails_with: Option<String>,
    at: Option<Dur>,
    within: Option<Dur>,
    message: Option<String>,
    refreshes: Option<Count>,
    sts_calls: Option<Count>,
    min_refresh_lead: Option<Dur>,
    requests: Option<Count>,
    exit_code: Option<i64>,
    exits_nonzero: Option<bool>,
    credential_process_runs: Option<Count>,
    conforms: Option<Vec<String>>,
    violates: Option<Vec<String>>,
}

/// `conforms = [...]` or `violates = [...]`: rule names, each known and stated once.
fn rules(key: &str, names: Option<&Vec<String>>) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for name in names.into_iter().flatten() {
        let rule = Rule::from_name(name).ok_or_else(|| {
            format!(
                "expect.{key}: unknown conformance rule `{name}`; one of {}",
                Rule::names()
            )
        })?;
        if rules.contains(&rule) {
            return Err(format!("expect.{key}: `{name}` is listed twice"));
        }
        rules.push(rule);
    }
    Ok(rules)
}

impl ExpectEntry {
    fn validate(&self, strategy: StrategyKind) -> Result<Expect, String> {
        let failing = self.fails_with.is_some();
        let conforms = rules("conforms", self.conforms.as_ref())?;
        let violates = rules("violates", self.violates.as_ref())?;
        if let Some(both) = conforms.iter().find(|r| violates.contains(r)) {
            return Err(format!(
                "expect: `{both}` is in both `conforms` and `violates`; keep one"
            ));
        }
        let states_rules = !conforms.is_empty() || !violates.is_empty();
        // `passes` unless failing, or unless conformance is all the run states.
        let passes = !(failing || states_rules && self.passes.is_none());
        match (self.passes, failing) {
            (Some(true), true) => {
                return Err(
                    "expect: `passes = true` contradicts `fails_with`; keep one".to_string()
                );
            }
            (Some(false), false) => {
                return Err(
                    "expect: `passes = false` needs `fails_with = \"CODE\"` to say how".to_string(),
                );
            }
            // Conformance alone is an expectation: the rules, not the outcome, are the point.
            (None, false) if states_rules => {}
            (None, false) => {
                return Err("expect: say `passes = true` or `fails_with = \"CODE\"`".to_string());
            }
            _ => {}
        }
        if !failing && (self.at.is_some() || self.within.is_some() || self.message.is_some()) {
            return Err(
                "expect: `at`, `within` and `message` describe a failure; add `fails_with`"
                    .to_string(),
            );
        }
        if self.within.is_some() && self.at.is_none() {
            return Err("expect: `within` needs `at`".to_string());
        }
        let process = strategy == StrategyKind::Process;
        if !process && self.credential_process_runs.is_some() {
            return Err(format!(
                "expect: `credential_process_runs` counts a program's credential_process helper (strategy `process`, profile = \"credential-process\"); `{}` runs none",
                strategy.as_str()
            ));
        }
        if !process && (self.exit_code.is_some() || self.exits_nonzero.is_some()) {
            return Err(format!(
                "expect: `exit_code` and `exits_nonzero` are for `process` runs; `{}` has no exit status",
                strategy.as_str()
            ));
        }
        let exit_code = match (self.exit_code, self.exits_nonzero) {
            (Some(_), Some(_)) => {
                return Err(
                    "expect: `exit_code` and `exits_nonzero` both say how the program exits; keep one"
                        .to_string(),
                );
            }
            (None, Some(false)) => {
                return Err(
                    "expect: `exits_nonzero = false` says nothing; write `exit_code = 0`"
                        .to_string(),
                );
            }
            (Some(code), None) => Some(
                i32::try_from(code)
                    .ok()
                    .filter(|c| (0..=255).contains(c))
                    .ok_or_else(|| format!("expect: `exit_code` must be 0..=255, got {code}"))?,
            ),
            // A program that passes exits 0 unless the scenario says otherwise.
            (None, None) if process && passes => Some(0),
            _ => None,
        };
        Ok(Expect {
            passes,
            fails_with: self.fails_with.clone(),
            at: self.at.as_ref().map(|d| d.0),
            within: self.within.as_ref().map_or(Duration::from_secs(1), |d| d.0),
            message: self.message.clone(),
            refreshes: self.refreshes.as_ref().map(|c| c.0.clone()),
            sts_calls: self.sts_calls.as_ref().map(|c| c.0.clone()),
            requests: self.requests.as_ref().map(|c| c.0.clone()),
            min_refresh_lead: self.min_refresh_lead.as_ref().map(|d| d.0),
            exit_code,
            exits_nonzero: self.exits_nonzero == Some(true),
            credential_process_runs: self.credential_process_runs.as_ref().map(|c| c.0.clone()),
            conforms,
            violates,
        })
    }
}

/// A duration written as text: `90s`, `15m`, `4h`, `1h30m`.
pub(super) struct Dur(pub(super) Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(Dur).map_err(de::Error::custom)
    }
}

/// A count or a range: `4`, `"3..=5"`, `"3..5"`, `"2.."`, `"..=4"`.
struct Count(RangeInclusive<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Count(n..=n)),
            Raw::S(s) => parse_range(&s).map(Count).map_err(de::Error::custom),
        }
    }
}

pub(super) fn parse_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let bad = || format!("`{text}` is not a count or range (e.g. 4, \"3..=5\", \"2..\")");
    let t = text.trim();
    let num = |s: &str, default: u64| -> Result<u64, String> {
        if s.is_empty() {
            Ok(default)
        } else {
            s.parse().map_err(|_| bad())
        }
    };
    if let Some((lo, hi)) = t.split_once("..=") {
        let (lo, hi) = (num(lo, 0)?, num(hi, u64::MAX)?);
        return if lo <= hi { Ok(lo..=hi) } else { Err(bad()) };
    }
    if let Some((lo, hi)) = t.split_once("..") {
        let lo = num(lo, 0)?;
        if hi.is_empty() {
            return Ok(lo..=u64::MAX);
        }
        let hi = num(hi, 0)?;
        return if lo < hi { Ok(lo..=hi - 1) } else { Err(bad()) };
    }
    let n = num(t, 0)?;
    Ok(n..=n)
}
