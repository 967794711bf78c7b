//! A compressed clock's factor (`[clock] mode = "compressed"`, `factor = K`; the CLI's
//! `--clock compressed:K`) and what it may not shrink.
//!
//! The mock floors every compressed lifetime at a minute (`mock_sts::compression`), so a
//! lifetime the scenario relies on that K would take below a minute would no longer scale with
//! the rest of the story: a 15-minute session at K = 60 would last as long as a one-hour one.
//! Such a factor is refused when the scenario is read, naming the lifetime: the role sessions
//! the runs ask for (`duration_seconds`, a chained source's, Go's 15-minute default), the
//! instance and container credentials' lifetime and rotation, and the projected token's
//! lifetime (which the mock mints no shorter than Kubernetes' 10 minutes).

use std::ops::Range;
use std::time::Duration;

use mock_sts::compression::MIN_LIFETIME;
use mock_sts::world::Rotation;
use toml::Spanned;

use super::file::{ClockEntry, key_span};
use super::{ClockSpec, ProfileKind, RunSpec, Scenario, StrategyKind};

/// The largest factor: one hour, STS's default session, compresses to the one-minute floor.
pub const MAX_FACTOR: u32 = 60;

/// The one-hour session STS grants when no `DurationSeconds` is sent.
const DEFAULT_SESSION: Duration = Duration::from_secs(3600);

/// Parses K as the CLI writes it (`compressed:60`).
pub(super) fn parse_factor(text: &str) -> Result<u32, String> {
    match text.trim().parse::<f64>() {
        Ok(k) => check_factor(k),
        Err(_) => Err(format!(
            "`{text}` is not a compression factor: a whole number 1..={MAX_FACTOR} (compressed:60 makes an hour a minute)"
        )),
    }
}

/// Parses K as a scenario file writes it (`factor = 60`).
pub(super) fn factor_of(value: &toml::Value) -> Result<u32, String> {
    match value {
        toml::Value::Integer(k) => check_factor(*k as f64),
        toml::Value::Float(k) => check_factor(*k),
        other => Err(format!(
            "clock.factor: `{other}` is not a number: a whole number 1..={MAX_FACTOR} (factor = 60 makes an hour a minute)"
        )),
    }
}

fn check_factor(k: f64) -> Result<u32, String> {
    if !k.is_finite() || k < 1.0 {
        return Err(format!(
            "clock.factor: {k} is below 1: compression divides lifetimes by a factor 1..={MAX_FACTOR}"
        ));
    }
    if k > f64::from(MAX_FACTOR) {
        return Err(format!(
            "clock.factor: {k} is above {MAX_FACTOR}: the mock floors lifetimes at a minute, so STS's default one-hour session cannot shrink by more than {MAX_FACTOR}"
        ));
    }
    if k.fract() != 0.0 {
        return Err(format!(
            "clock.factor: {k} is not a whole number (1..={MAX_FACTOR})"
        ));
    }
    Ok(k as u32)
}

/// A lifetime the factor would shrink too far, or an option a compressed run cannot honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeProblem {
    /// The run it belongs to (index into [`Scenario::runs`]), or `None` for the scenario's own
    /// tables (`[projected_token]`, the world).
    pub run: Option<usize>,
    /// The key to point at: a run's (`duration_seconds`, `source`, `client`, `clock_offset`),
    /// `projected_token.lifetime`, or `clock.factor` for the world's rotations.
    pub key: &'static str,
    /// What is wrong, naming the key.
    pub message: String,
}

/// The lifetime of the credentials a run's client renews, in the scenario's time: the world's
/// instance or container credentials for the runs that read them, else the role session it
/// asks for (its `duration_seconds`, its SDK's default, or STS's hour).
pub fn run_lifetime(run: &RunSpec, world: &mock_sts::World) -> Duration {
    if reads_instance(run)
        && let Some(instance) = &world.instance
    {
        return instance.rotation.credential_lifetime;
    }
    if run.reads_container()
        && let Some(container) = &world.container
    {
        return container.rotation.credential_lifetime;
    }
    let client_default = run
        .process
        .as_ref()
        .filter(|p| p.profile == ProfileKind::AssumeRole)
        .and_then(|p| p.client)
        .and_then(|c| c.default_assume_role_seconds());
    run.duration_seconds
        .or(client_default)
        .map_or(DEFAULT_SESSION, |s| Duration::from_secs(u64::from(s)))
}

fn reads_instance(run: &RunSpec) -> bool {
    run.strategy == StrategyKind::SdkImds
        || run
            .process
            .as_ref()
            .is_some_and(|p| p.profile == ProfileKind::Imds)
}

/// Whether `lifetime / factor` keeps above the mock's one-minute floor.
fn scales(lifetime: Duration, factor: u32) -> bool {
    lifetime.as_secs() / u64::from(factor) >= MIN_LIFETIME.as_secs()
}

fn too_short(what: &str, lifetime: Duration, factor: u32) -> String {
    format!(
        "{what} of {} s at compressed:{factor} would last {} s, under the one-minute floor the mock keeps, so it would no longer scale with the scenario; use a factor of at most {}",
        lifetime.as_secs(),
        lifetime.as_secs() / u64::from(factor),
        (lifetime.as_secs() / MIN_LIFETIME.as_secs()).max(1)
    )
}

/// Checks that `factor` shrinks every lifetime of `scenario` to at least a minute and that
/// its runs can run compressed.
///
/// # Errors
/// The first [`LifetimeProblem`].
pub fn check_compression(scenario: &Scenario, factor: u32) -> Result<(), LifetimeProblem> {
    let world = &scenario.world;
    let rotation = |name: &str, r: &Rotation| -> Result<(), LifetimeProblem> {
        for (key, d) in [
            ("credential_lifetime", r.credential_lifetime),
            ("rotate_every", r.rotate_every),
        ] {
            if !scales(d, factor) {
                return Err(LifetimeProblem {
                    run: None,
                    key: "clock.factor",
                    message: format!(
                        "clock.factor: {}",
                        too_short(&format!("the world's {name}.{key}"), d, factor)
                    ),
                });
            }
        }
        Ok(())
    };
    for (i, run) in scenario.runs.iter().enumerate() {
        let problem = |key: &'static str, message: String| LifetimeProblem {
            run: Some(i),
            key,
            message: format!("run.{key}: {message}"),
        };
        if let Some(d) = run.duration_seconds {
            let d = Duration::from_secs(u64::from(d));
            if !scales(d, factor) {
                return Err(problem(
                    "duration_seconds",
                    too_short("a session", d, factor),
                ));
            }
        } else if let Some(client) = run.process.as_ref().and_then(|p| p.client)
            && run.process.as_ref().map(|p| p.profile) == Some(ProfileKind::AssumeRole)
            && let Some(d) = client.default_assume_role_seconds()
        {
            let d = Duration::from_secs(u64::from(d));
            if !scales(d, factor) {
                return Err(problem(
                    "client",
                    format!(
                        "{}; set duration_seconds (the program must send it: lab.go reads STS_LAB_DURATION_SECONDS)",
                        too_short(
                            &format!(
                                "{}'s assume-role provider asks for a session",
                                client.as_str()
                            ),
                            d,
                            factor
                        )
                    ),
                ));
            }
        }
        if let Some(d) = run.source.as_ref().and_then(|s| s.duration_seconds) {
            let d = Duration::from_secs(u64::from(d));
            if !scales(d, factor) {
                return Err(problem(
                    "source",
                    too_short("the source session", d, factor),
                ));
            }
        }
        if run.strategy == StrategyKind::Process && !run.clock_faults.is_none() {
            let key = if run.clock_faults.offset_seconds != 0.0 {
                "clock_offset"
            } else {
                "clock_drift"
            };
            return Err(problem(
                key,
                "a compressed run's program runs on the real clock, without libfaketime, so the harness cannot move its clock; clock faults of programs need a scaled clock".into(),
            ));
        }
        if reads_instance(run)
            && let Some(instance) = &world.instance
        {
            rotation("instance", &instance.rotation)?;
        }
        if run.reads_container()
            && let Some(container) = &world.container
        {
            rotation("container", &container.rotation)?;
        }
    }
    if let Some(token) = &scenario.projected_token {
        // The mock mints no token shorter than Kubernetes' minimum `expirationSeconds`.
        let floor = mock_sts::oidc::MIN_LIFETIME;
        let compressed = token.lifetime.as_secs() / u64::from(factor);
        if compressed < floor.as_secs() {
            return Err(LifetimeProblem {
                run: None,
                key: "projected_token.lifetime",
                message: format!(
                    "projected_token.lifetime: {} s at compressed:{factor} would be {compressed} s, under the {} s the mock mints (Kubernetes' minimum expirationSeconds); use a lifetime of at least {} s or a factor of at most {}",
                    token.lifetime.as_secs(),
                    floor.as_secs(),
                    floor.as_secs() * u64::from(factor),
                    (token.lifetime.as_secs() / floor.as_secs()).max(1)
                ),
            });
        }
    }
    Ok(())
}

/// The line of the scenario's file a [`LifetimeProblem`] points at, for a factor given on the
/// command line: the key's line inside its run's table (or `[projected_token]`), else the
/// run's line, else 1.
pub fn problem_line(scenario: &Scenario, problem: &LifetimeProblem) -> usize {
    let run_line = problem
        .run
        .and_then(|i| scenario.runs.get(i))
        .map(|r| r.line);
    let Ok(text) = std::fs::read_to_string(&scenario.path) else {
        return run_line.unwrap_or(1);
    };
    let lines: Vec<&str> = text.lines().collect();
    let (header, key) = match (run_line, problem.key) {
        (Some(line), key) => {
            let header = lines[..line.min(lines.len())]
                .iter()
                .rposition(|l| l.trim() == "[[run]]");
            (header, key)
        }
        (None, "projected_token.lifetime") => (
            lines.iter().position(|l| l.trim() == "[projected_token]"),
            "lifetime",
        ),
        (None, _) => (None, problem.key),
    };
    let Some(header) = header else {
        return run_line.unwrap_or(1);
    };
    lines
        .iter()
        .enumerate()
        .skip(header + 1)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(run_line.unwrap_or(header + 1), |(i, _)| i + 1)
}

/// `[clock]` with `mode = "compressed"` (or a `factor`): the factor, checked, and nothing a
/// compressed clock cannot honour (`rate`, `start`).
pub(super) fn clock(c: &ClockEntry) -> Result<ClockSpec, (Range<usize>, String)> {
    if c.mode.get_ref() != "compressed" {
        let span = c.factor.as_ref().map_or(c.mode.span(), Spanned::span);
        return Err((
            span,
            "clock.factor: only a compressed clock has a factor (mode = \"compressed\")".into(),
        ));
    }
    if c.rate.is_some() {
        return Err((
            c.mode.span(),
            "clock.rate: a compressed clock runs at wall speed and divides lifetimes by its factor; give factor = K, not a rate".into(),
        ));
    }
    if let Some(start) = &c.start {
        return Err((
            start.span(),
            "clock.start: a compressed clock runs on the real time, now (the program's own clock); remove start".into(),
        ));
    }
    let Some(factor) = &c.factor else {
        return Err((
            c.mode.span(),
            format!("clock.factor: a compressed clock needs factor = K (1..={MAX_FACTOR})"),
        ));
    };
    factor_of(factor.get_ref())
        .map(|factor| ClockSpec::Compressed { factor })
        .map_err(|m| (factor.span(), m))
}

/// Where in the file a [`LifetimeProblem`] points: the run's key (`run_spans` are the runs'
/// `strategy` spans), `[projected_token]`'s `lifetime`, or the clock's factor.
pub(super) fn problem_span(
    text: &str,
    problem: &LifetimeProblem,
    run_spans: &[Range<usize>],
    clock: Option<&ClockEntry>,
) -> Range<usize> {
    let factor = clock
        .and_then(|c| c.factor.as_ref().map(Spanned::span))
        .unwrap_or(0..0);
    match problem.run.and_then(|i| run_spans.get(i)) {
        Some(strategy) => {
            let start = text[..strategy.start]
                .rfind("[[run]]")
                .unwrap_or(strategy.start);
            key_span(text, start..strategy.end, problem.key)
        }
        None => match (problem.key, text.find("[projected_token]")) {
            ("projected_token.lifetime", Some(at)) => {
                key_span(text, at..at + "[projected_token]".len(), "lifetime")
            }
            _ => factor,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const GOOD: &str = r#"name = "c"
[clock]
mode = "compressed"
factor = 60
[workload]
length = "2h"
every = "1m"
operations = ["PutObject"]
[[run]]
name = "rust"
strategy = "sdk-profile"
expect = { passes = true }
[[run]]
name = "go"
strategy = "process"
command = "sh -c true"
profile = "assume-role"
duration_seconds = 3600
client = "go"
expect = { passes = true }
"#;

    fn err(text: &str) -> String {
        Scenario::parse(text, Path::new("c.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_compressed_scenario_parses() {
        let s = Scenario::parse(GOOD, Path::new("c.toml")).unwrap();
        assert_eq!(s.clock, ClockSpec::Compressed { factor: 60 });
        assert_eq!(s.clock.label(), "compressed:60");
        let go = s.runs[1].process.as_ref().unwrap();
        assert_eq!(go.client, Some(super::super::ClientSdk::Go));
        assert_eq!(
            ClockSpec::parse("compressed:12"),
            Ok(ClockSpec::Compressed { factor: 12 })
        );
    }

    #[test]
    fn factors_below_one_above_sixty_or_not_numbers_name_the_key() {
        for (factor, says) in [
            ("0", "below 1"),
            ("-3", "below 1"),
            ("0.5", "below 1"),
            ("\"sixty\"", "not a number"),
            ("61", "above 60"),
            ("1.5", "not a whole number"),
        ] {
            let e = err(&GOOD.replace("factor = 60", &format!("factor = {factor}")));
            assert!(
                e.starts_with("c.toml:4:10: clock.factor: ") && e.contains(says),
                "{factor}: {e}"
            );
        }
        let e = err(&GOOD.replace("factor = 60\n", ""));
        assert!(
            e.starts_with("c.toml:3:") && e.contains("needs factor"),
            "{e}"
        );
        let e = err(&GOOD.replace("factor = 60", "factor = 60\nrate = 2.0"));
        assert!(e.contains("clock.rate"), "{e}");
        let e = err(&GOOD.replace("mode = \"compressed\"", "mode = \"scaled\"\nrate = 360.0"));
        assert!(e.contains("only a compressed clock has a factor"), "{e}");
        for bad in [
            "compressed:0",
            "compressed:61",
            "compressed:x",
            "compressed:2.5",
        ] {
            assert!(ClockSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_factor_that_takes_a_lifetime_under_a_minute_names_its_line_and_key() {
        // A 15-minute session at K = 60 would be floored, not scaled.
        let e = err(&GOOD.replace("duration_seconds = 3600", "duration_seconds = 900"));
        assert!(
            e.starts_with("c.toml:18:1: run.duration_seconds: ") && e.contains("900 s"),
            "{e}"
        );
        assert!(e.contains("at most 15"), "{e}");
        // The same session at K = 15 scales: 60 s.
        Scenario::parse(
            &GOOD
                .replace("duration_seconds = 3600", "duration_seconds = 900")
                .replace("factor = 60", "factor = 15"),
            Path::new("c.toml"),
        )
        .unwrap();
        // Go's assume-role provider asks for 15 minutes unless told otherwise.
        let e = err(&GOOD.replace("duration_seconds = 3600\n", ""));
        assert!(e.starts_with("c.toml:18:1: run.client: "), "{e}");
        assert!(e.contains("set duration_seconds"), "{e}");
        // A projected token's hour would be a minute: the mock mints 10 minutes at least.
        let text = format!(
            "{}[projected_token]\nlifetime = \"1h\"\n",
            GOOD.replace(
                "strategy = \"sdk-profile\"",
                "strategy = \"sdk-web-identity\"\nrole = \"arn:aws:iam::123456789012:role/pod-role\""
            )
            .replace("[workload]", "[world]\nfile = \"worlds/eks-pod.toml\"\n[workload]")
        );
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/c.toml");
        let e = Scenario::parse(&text, &path).unwrap_err().to_string();
        assert!(
            e.contains("c.toml:25:1: projected_token.lifetime: 3600 s"),
            "{e}"
        );
        // A refresh window needs the client it belongs to; an unknown client is named.
        let e = err(&GOOD.replace("client = \"go\"", "refresh_window = \"10s\""));
        assert!(e.starts_with("c.toml:19:18: run.refresh_window: "), "{e}");
        let e = err(&GOOD.replace("client = \"go\"", "client = \"golang\""));
        assert!(
            e.starts_with("c.toml:19:10: run.client: unknown client `golang`"),
            "{e}"
        );
        // A program's clock faults need libfaketime.
        let e = err(&GOOD.replace("client = \"go\"", "client = \"go\"\nclock_offset = \"-5m\""));
        assert!(e.starts_with("c.toml:20:1: run.clock_offset: "), "{e}");
    }
}
