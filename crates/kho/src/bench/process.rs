//! Child processes measured from outside: wall time from spawn to exit, and the
//! child's own peak resident memory (`ru_maxrss` from `wait4`), so that what is
//! reported is the measured program's memory and not the benchmark's.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A finished child.
#[derive(Debug)]
pub struct Finished {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// Peak resident set size in bytes, where the system tells it.
    pub peak_rss: Option<u64>,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The end of stderr (or stdout), to say why a child failed.
    pub fn why(&self) -> String {
        let text = if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
        let lines: Vec<&str> = text.trim().lines().rev().take(6).collect();
        let status = match self.code {
            Some(c) => format!("exit status {c}"),
            None => "ended by a signal".into(),
        };
        format!("{status}: {}", lines.into_iter().rev().collect::<Vec<_>>().join("\n"))
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `command` to its end with `input` on stdin, capturing stdout and stderr.
pub fn run(mut command: Command, input: &[u8]) -> std::io::Result<Finished> {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn()?;
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    if let Some(mut stdin) = child.stdin.take() {
        // A child that does not read its input is not an error here.
        let _ = std::io::Write::write_all(&mut stdin, input);
    }
    let (code, peak_rss) = wait(&mut child)?;
    let wall = started.elapsed();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Finished { code, stdout, stderr, wall, peak_rss })
}

/// Waits for the child and returns its exit code and peak RSS in bytes.
#[cfg(unix)]
pub fn wait(child: &mut std::process::Child) -> std::io::Result<(Option<i32>, Option<u64>)> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, not yet reaped; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let code = if libc::WIFEXITED(status) { Some(libc::WEXITSTATUS(status)) } else { None };
    // Linux counts ru_maxrss in kilobytes, macOS in bytes.
    let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    Ok((code, Some(usage.ru_maxrss as u64 * unit)))
}

#[cfg(not(unix))]
pub fn wait(child: &mut std::process::Child) -> std::io::Result<(Option<i32>, Option<u64>)> {
    Ok((child.wait()?.code(), None))
}

/// Asks a child to stop (SIGTERM where there are signals) and waits for it, killing
/// it after `grace`. Returns its peak RSS in bytes.
pub fn stop(child: &mut std::process::Child, grace: Duration) -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            let pid = child.id() as libc::pid_t;
            let mut status: libc::c_int = 0;
            // SAFETY: as in `wait`, with WNOHANG.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: pid is our own child; the pointers are valid for the call.
            let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            if r == pid {
                let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
                return Some(usage.ru_maxrss as u64 * unit);
            }
            if r < 0 {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    wait(child).ok().and_then(|(_, rss)| rss)
}
