//! `mock-sts`: serve the mock AWS endpoint, or print the default world.
//!
//! Exit codes: 0 on a clean shutdown, 1 when the server fails at run time, 2 on bad flags or
//! files (clap's own usage errors exit 2 too).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mock_sts::clock::{SimClock, parse_duration};
use mock_sts::compression::LifetimeCompression;
use mock_sts::credentials::ServerKey;
use mock_sts::events::{EventLog, Retention};
use mock_sts::world::{DEFAULT_WORLD_TOML, World};
use mock_sts::{MockAws, timestamp};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "mock-sts",
    version,
    about = "A mock AWS endpoint (STS, S3) whose temporary credentials expire on a simulated clock",
    after_help = "Exit status: 0 clean shutdown, 1 runtime failure, 2 bad flags or files."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve STS, S3, instance metadata (/latest/), container credentials and the control
    /// API (/_mock/) on one port.
    Serve(Box<ServeArgs>),
    /// Work with world files.
    World {
        /// Print the built-in default world (a starting point for --world).
        #[arg(long)]
        print_default: bool,
        /// Check a world file and exit (0 valid, 2 invalid).
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4566")]
    addr: SocketAddr,
    /// wall | scaled:RATE | frozen. `frozen` moves only via POST /_mock/clock/advance.
    #[arg(long, default_value = "wall", value_name = "MODE")]
    clock: String,
    /// Simulated start time (RFC 3339) for scaled and frozen clocks; default: now.
    #[arg(long, value_name = "RFC3339")]
    start: Option<String>,
    /// World file (TOML); default: the built-in world (`mock-sts world --print-default`).
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,
    /// Server key, 64 hex characters. The same key keeps issued credentials valid across
    /// restarts; default: a random key.
    #[arg(long, value_name = "HEX", env = "MOCK_STS_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Allowed request-time skew (e.g. 15m, 900s), or `off` for clients on another clock.
    #[arg(long, default_value = "15m", value_name = "DURATION|off")]
    max_skew: String,
    /// Append every event as a JSON line to this file (from a writer thread: lines reach the
    /// disk within 100 ms, and all of them on a clean shutdown).
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Recent events kept in memory for GET /_mock/events: a count (0: none), or `all` (memory
    /// then grows with every request). --events gets every event either way.
    #[arg(long, default_value_t = Retention::SERVE_DEFAULT, value_name = "N|all")]
    events_retain: Retention,
    /// Seed for request ids and access key ids (and the key, when --key is not given).
    #[arg(long)]
    seed: Option<u64>,
    /// Serve /_mock/ to non-loopback clients too, those that send the control token as
    /// `Authorization: Bearer TOKEN` (a remote client can expire every credential).
    #[arg(long, requires = "control_token")]
    allow_remote_control: bool,
    /// The bearer token remote clients must send to /_mock/ (with --allow-remote-control).
    #[arg(
        long,
        env = "MOCK_STS_CONTROL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    control_token: Option<String>,
    /// Keep S3 buckets and objects in this directory across restarts (default: in memory).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Largest S3 object or part accepted (bytes, or with K/M/G/KiB/MiB/GiB); larger uploads
    /// get EntityTooLarge. Uploads are held in memory while they are checked.
    #[arg(long, default_value = "5GiB", value_name = "SIZE")]
    max_object_size: String,
    /// Divide every lifetime the server grants (sessions, instance and container credentials,
    /// IMDSv2 tokens) by K, 1 to 60, for clients on real time that libfaketime cannot
    /// accelerate: at 60 a one-hour session lasts a minute. Meant for --clock wall.
    #[arg(long, default_value_t = 1, value_name = "K")]
    compress_lifetimes: u32,
    /// Longest a connection may take to send a request head, idle keep-alive time included;
    /// past it the connection is closed without an answer. `off`: no limit.
    #[arg(long, default_value = "20s", value_name = "DURATION|off")]
    header_timeout: String,
    /// Longest wait for the next piece of a request body; past it the request gets
    /// 400 RequestTimeout and the connection is closed. `off`: no limit.
    #[arg(long, default_value = "20s", value_name = "DURATION|off")]
    body_timeout: String,
    /// Request body bytes held at once, all connections together (SIZE as for
    /// --max-object-size); a request that does not fit gets S3's 503 SlowDown (STS: 400
    /// Throttling). Keep it above --max-object-size for uploads that large.
    #[arg(long, default_value = "1GiB", value_name = "SIZE")]
    max_upload_memory: String,
}

/// The largest --compress-lifetimes: a one-hour session (AssumeRole's default) still lasts a
/// minute.
const MAX_COMPRESSION: u32 = 60;

/// `1048576`, `64MiB`, `5G`: a size in bytes; K, M, G are binary multiples, as S3's limits are.
fn parse_size(flag: &str, text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => anyhow::bail!("{flag}: unknown unit `{other}` (use K, M or G)"),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag}: `{text}` is not a size"))?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| anyhow::anyhow!("{flag}: `{text}` is too large"))
}

/// Marks an error as a usage or input-file error: exit status 2.
fn usage<E: Into<anyhow::Error>>(e: E) -> anyhow::Error {
    anyhow::Error::new(UsageErrorMarker).context(e.into())
}

/// The root cause of every usage error (see [`usage`]).
#[derive(Debug, thiserror::Error)]
#[error("usage")]
struct UsageErrorMarker;

fn parse_clock(spec: &str, start: Option<&str>) -> anyhow::Result<SimClock> {
    let start = match start {
        Some(s) => timestamp::parse_rfc3339(s).ok_or_else(|| {
            anyhow::anyhow!("--start: `{s}` is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)")
        })?,
        None => timestamp::floor_to_second(SimClock::wall().now()),
    };
    match spec {
        "wall" => Ok(SimClock::wall()),
        "frozen" => Ok(SimClock::frozen(start)),
        other => {
            let rate = other.strip_prefix("scaled:").ok_or_else(|| {
                anyhow::anyhow!("--clock: `{other}` is not wall, scaled:RATE or frozen")
            })?;
            let rate: f64 = rate
                .parse()
                .map_err(|_| anyhow::anyhow!("--clock: `{rate}` is not a number in scaled:RATE"))?;
            SimClock::scaled(rate, start).map_err(|e| anyhow::anyhow!("--clock: {e}"))
        }
    }
}

/// A duration flag that may be `off`: `None`.
fn parse_optional_duration(flag: &str, text: &str) -> anyhow::Result<Option<Duration>> {
    if text == "off" {
        return Ok(None);
    }
    parse_duration(text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{flag}: {e}, or `off`"))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let clock = parse_clock(&args.clock, args.start.as_deref()).map_err(usage)?;
    if args.start.is_some() && args.clock == "wall" {
        return Err(usage(anyhow::anyhow!(
            "--start needs --clock scaled:RATE or frozen (a wall clock is the system time)"
        )));
    }
    let max_skew = parse_optional_duration("--max-skew", &args.max_skew).map_err(usage)?;
    let max_object_size = parse_size("--max-object-size", &args.max_object_size).map_err(usage)?;
    let header_timeout =
        parse_optional_duration("--header-timeout", &args.header_timeout).map_err(usage)?;
    let body_timeout =
        parse_optional_duration("--body-timeout", &args.body_timeout).map_err(usage)?;
    let max_upload_memory =
        parse_size("--max-upload-memory", &args.max_upload_memory).map_err(usage)?;
    let world = match &args.world {
        Some(path) => World::load(path).map_err(usage)?,
        None => World::default(),
    };
    let mut builder = MockAws::builder()
        .clock(clock.clone())
        .world(world)
        .max_skew(max_skew)
        .allow_remote_control(args.allow_remote_control)
        .max_object_size(max_object_size)
        .header_timeout(header_timeout)
        .body_timeout(body_timeout)
        .max_upload_memory(max_upload_memory);
    if let Some(token) = &args.control_token {
        if token.trim().is_empty() {
            return Err(usage(anyhow::anyhow!(
                "--control-token: the token is empty"
            )));
        }
        builder = builder.control_token(token.trim());
    }
    if let Some(dir) = &args.data_dir {
        builder = builder.data_dir(dir);
    }
    match NonZeroU32::new(args.compress_lifetimes) {
        Some(k) if k.get() <= MAX_COMPRESSION => {
            builder = builder.compress_lifetimes(LifetimeCompression::new(k));
        }
        _ => {
            return Err(usage(anyhow::anyhow!(
                "--compress-lifetimes: {} is out of range: K is 1 (none) to {MAX_COMPRESSION} (a one-hour session lasts a minute)",
                args.compress_lifetimes
            )));
        }
    }
    if let Some(key) = &args.key {
        builder = builder
            .key(ServerKey::from_hex(key).map_err(|e| usage(anyhow::anyhow!("--key: {e}")))?);
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    let mut events = EventLog::retaining(args.events_retain);
    if let Some(path) = &args.events {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("--events: cannot open {}", path.display()))
            .map_err(usage)?;
        events = events
            .with_sink(file)
            .context("--events: cannot start the writer")?;
    }
    builder = builder.events(events);
    let listener = TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;
    let aws = builder.start_on(listener).await?;
    tracing::info!(
        endpoint = %aws.endpoint_url(),
        clock = %clock,
        max_skew = %args.max_skew,
        "mock-sts listening"
    );
    eprintln!("mock-sts listening on http://{addr} ({clock})");
    shutdown_signal().await;
    tracing::info!("shutting down");
    aws.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::World {
            print_default,
            check,
        } => {
            if let Some(path) = check {
                World::load(&path).map_err(usage)?;
                println!("{}: ok", path.display());
                return Ok(());
            }
            if !print_default {
                return Err(usage(anyhow::anyhow!(
                    "`mock-sts world` needs --print-default or --check FILE"
                )));
            }
            print!("{DEFAULT_WORLD_TOML}");
            Ok(())
        }
        Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(serve(*args))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MOCK_STS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let is_usage = err.downcast_ref::<UsageErrorMarker>().is_some()
                || err.chain().any(|c| c.is::<UsageErrorMarker>());
            // The marker is the root cause; print the context chain above it.
            let message: Vec<String> = err
                .chain()
                .filter(|c| !c.is::<UsageErrorMarker>())
                .map(ToString::to_string)
                .collect();
            eprintln!("error: {}", message.join(": "));
            if is_usage {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
