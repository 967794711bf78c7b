//! Servers under test, each in its own process on a free loopback port: the `mock-sts` binary
//! (release build), moto's `moto_server` (the pinned moto in the test venv), and a null server
//! that answers 200 to everything, for the load generator's own ceiling.
//!
//! A [`Child`] kills and reaps its process when dropped, so a bench that panics leaves no
//! server behind. Waiting for a server is bounded (30 s).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use mock_sts::clock::Stopwatch;
pub use sts_lab_test_support::external::{venv_dir as venv, workspace_root};
use sts_lab_test_support::server::{Reaped, Server};

/// How long a server may take to answer its first request.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process; killed and reaped on drop.
#[derive(Debug)]
pub struct Child {
    process: Reaped,
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it is, for messages.
    pub name: String,
}

impl Child {
    /// Its resident memory (Linux `/proc/PID/status` `VmRSS`), KiB.
    pub fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

/// A loopback port nobody listens on right now (moto and the null server take a port
/// argument; mock-sts binds port 0 itself).
///
/// # Errors
/// When no socket can be bound.
pub fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// `moto_server` in the venv, when it is there.
pub fn moto_server() -> Option<PathBuf> {
    let path = venv().join("bin/moto_server");
    path.is_file().then_some(path)
}

/// The release `mock-sts` binary: `MOCK_STS_BIN` if set, else built now with `cargo build
/// --release -p mock-sts` (cargo releases its lock while benches run, so this works under
/// `cargo bench`; it is a no-op when the binary is up to date).
///
/// # Errors
/// When cargo cannot be run or the build fails.
pub fn mock_sts_binary() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os("MOCK_STS_BIN") {
        return Ok(PathBuf::from(path));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "mock-sts",
            "--bin",
            "mock-sts",
        ])
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "cargo build --release -p mock-sts failed: {status}"
        )));
    }
    // This bench runs from <target>/release/deps/; the binary is in <target>/release/.
    let exe = std::env::current_exe()?;
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| io::Error::other("cannot find the target directory"))?;
    Ok(release.join("mock-sts"))
}

/// Starts `moto_server -H 127.0.0.1 -p PORT` (auth off, its default: throughput only), its
/// request log discarded.
///
/// # Errors
/// When it cannot be spawned or does not answer within [`START_TIMEOUT`].
pub fn start_moto(moto_server: &Path) -> io::Result<Child> {
    let port = free_port()?;
    let process = Reaped(
        Command::new(moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let child = Child {
        process,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        name: "moto".to_owned(),
    };
    wait_ready(&child, "/moto-api/")?;
    Ok(child)
}

/// Starts `mock-sts serve --addr 127.0.0.1:0` (wall clock, default world, in-memory S3) and
/// waits for its "listening" line (sts-lab-test-support's fixture, as the tests start it).
///
/// # Errors
/// When it cannot be spawned or does not say it listens within 30 s.
pub fn start_mock_sts(binary: &Path) -> io::Result<Child> {
    start_mock_sts_with(binary, &[])
}

/// [`start_mock_sts`] with `serve` flags of the caller's.
///
/// # Errors
/// When it cannot be spawned or does not say it listens within 30 s.
pub fn start_mock_sts_with(binary: &Path, args: &[&str]) -> io::Result<Child> {
    let Server { process, addr, .. } = Server::start(binary, args)?;
    Ok(Child {
        process,
        addr,
        name: "mock-sts".to_owned(),
    })
}

/// Polls `GET path` until the server answers at all (any status), for at most
/// [`START_TIMEOUT`].
fn wait_ready(child: &Child, path: &str) -> io::Result<()> {
    use std::io::{Read, Write};
    let stopwatch = Stopwatch::start();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(child.addr) {
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                child.addr
            );
            let mut answer = [0u8; 12];
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_exact(&mut answer).is_ok()
                && answer.starts_with(b"HTTP/1.")
            {
                return Ok(());
            }
        }
        if stopwatch.elapsed() > START_TIMEOUT {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{} did not answer on {} within {START_TIMEOUT:?}",
                    child.name, child.addr
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The environment variable that turns a bench binary into the null server (see
/// [`start_null`]): the address to listen on.
pub const NULL_SERVER_ENV: &str = "BENCHES_NULL_SERVER_ADDR";

/// Starts the null server — 200 with an empty body to every request — as a process of its
/// own, like the servers it stands in for: this bench binary again, with [`NULL_SERVER_ENV`]
/// set, which [`serve_null_if_asked`] turns into the server. It gives the load generator's
/// ceiling on this machine.
///
/// # Errors
/// When it cannot be spawned or does not answer within [`START_TIMEOUT`].
pub fn start_null() -> io::Result<Child> {
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let process = Reaped(
        Command::new(std::env::current_exe()?)
            .env(NULL_SERVER_ENV, addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let child = Child {
        process,
        addr,
        name: "null".to_owned(),
    };
    wait_ready(&child, "/")?;
    Ok(child)
}

/// When [`NULL_SERVER_ENV`] is set, serves 200 to everything on that address until killed
/// (on a two-worker runtime, as the `mock-sts` binary runs on this machine) and returns
/// `true`; otherwise returns `false` at once. Call it first thing in a bench's `main`.
pub fn serve_null_if_asked() -> bool {
    let Some(addr) = std::env::var_os(NULL_SERVER_ENV) else {
        return false;
    };
    let addr = addr.to_string_lossy().into_owned();
    let served = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .and_then(|runtime| {
            runtime.block_on(async {
                use axum::serve::ListenerExt;
                let listener = tokio::net::TcpListener::bind(&addr)
                    .await?
                    .tap_io(|stream| {
                        let _ = stream.set_nodelay(true);
                    });
                let app = axum::Router::new().fallback(|| async { "" });
                axum::serve(listener, app).await
            })
        });
    if let Err(e) = served {
        eprintln!("error: null server on {addr}: {e}");
    }
    true
}
