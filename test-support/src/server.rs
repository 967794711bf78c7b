//! The `mock-sts` binary as a fixture: `serve --addr 127.0.0.1:0` plus the caller's flags, the
//! URL taken from its `mock-sts listening on URL` line (so the port is the one it bound, never
//! a guessed free one), its other stderr lines forwarded with a `[mock-sts]` prefix, and the
//! process killed and reaped when the fixture is dropped, so a failing test leaves no server
//! behind.
//!
//! The caller names the binary: `env!("CARGO_BIN_EXE_mock-sts")` in mock-sts's tests, the
//! release build in the benches.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// How long the binary may take to say it is listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process, killed and reaped on drop.
#[derive(Debug)]
pub struct Reaped(pub Child);

impl Reaped {
    /// Its process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `mock-sts` binary, serving on loopback.
#[derive(Debug)]
pub struct Server {
    /// The process.
    pub process: Reaped,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `binary serve --addr 127.0.0.1:0 ARGS…` (`MOCK_STS_LOG=warn`) and waits for its
    /// "listening" line.
    ///
    /// # Errors
    /// When it cannot be spawned, exits first, says `error: …`, or is silent for
    /// [`START_TIMEOUT`].
    pub fn start(binary: &Path, args: &[&str]) -> io::Result<Server> {
        let mut child = Command::new(binary)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("MOCK_STS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("no stderr pipe"))?;
        let process = Reaped(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(rest) = line.strip_prefix("mock-sts listening on ") {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(Ok(url.to_owned()));
                    sent = true;
                    continue;
                }
                eprintln!("[mock-sts] {line}");
                if !sent && line.starts_with("error:") {
                    let _ = tx.send(Err(line));
                    sent = true;
                }
            }
        });
        let url = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(url)) => url,
            Ok(Err(line)) => return Err(io::Error::other(format!("mock-sts: {line}"))),
            Err(e) => return Err(io::Error::other(format!("mock-sts did not start: {e}"))),
        };
        let addr = url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| io::Error::other(format!("mock-sts listens on {url}?")))?;
        Ok(Server { process, url, addr })
    }

    /// Stops it as a service manager would: SIGTERM, then waits up to [`START_TIMEOUT`] for
    /// it to exit (a clean shutdown), killing it after that.
    ///
    /// # Errors
    /// When it cannot be signalled or waited for, or did not exit in time (it is then
    /// killed).
    pub fn terminate(mut self) -> io::Result<ExitStatus> {
        let pid = i32::try_from(self.process.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| io::Error::other("no such process id"))?;
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
        let step = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        while waited < START_TIMEOUT {
            if let Some(status) = self.process.0.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(step);
            waited += step;
        }
        Err(io::Error::other(
            "mock-sts did not exit within 30 s of SIGTERM",
        ))
    }

    /// Kills it as a crash would: SIGKILL (`Child::kill` on Unix), no chance to clean up, then
    /// reaps it.
    ///
    /// # Errors
    /// When it cannot be signalled or waited for.
    pub fn kill(mut self) -> io::Result<ExitStatus> {
        self.process.0.kill()?;
        self.process.0.wait()
    }

    /// [`Server::start`], panicking with the reason: for tests.
    #[track_caller]
    pub fn spawn(binary: &Path, args: &[&str]) -> Server {
        Server::start(binary, args).unwrap_or_else(|e| panic!("{e}"))
    }
}
