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

/// CPU time (user and system, in seconds) spent so far by what a benchmark side runs
/// in: whole processes, or threads by name. `None` where `/proc` cannot tell (not
/// Linux).
#[derive(Clone, Debug)]
pub enum CpuMeter {
    /// These processes and, when `children`, every process they started (nginx's
    /// master and its workers). The times include the processes' ended threads.
    Processes { pids: Vec<u32>, children: bool },
    /// This process's threads named `name` (at most 15 bytes, as Linux keeps it); they
    /// must live through the measurement. None of that name: `None`.
    Threads(&'static str),
    /// Process `pid`'s threads whose name starts with `prefix` (kho serve's serving
    /// threads); as with `Threads`, they must live through the measurement.
    ThreadsOf { pid: u32, prefix: &'static str },
    /// This whole process.
    ThisProcess,
}

impl CpuMeter {
    pub fn seconds(&self) -> Option<f64> {
        let ticks = match self {
            Self::Processes { pids, children } => {
                let mut all = pids.clone();
                if *children {
                    for pid in pids {
                        let listed = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
                        all.extend(listed.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
                    }
                }
                all.iter().map(|pid| stat_ticks(&format!("/proc/{pid}/stat"))).sum::<Option<u64>>()?
            }
            Self::Threads(name) => thread_ticks("self", |comm| comm == *name)?,
            Self::ThreadsOf { pid, prefix } => thread_ticks(&pid.to_string(), |comm| comm.starts_with(prefix))?,
            Self::ThisProcess => stat_ticks("/proc/self/stat")?,
        };
        Some(ticks as f64 / clock_ticks_per_second())
    }
}

/// The clock ticks of the threads of process `process` (a pid, or `self`) whose name
/// `pick` takes; `None` when it takes none (unknown, not idle).
fn thread_ticks(process: &str, pick: impl Fn(&str) -> bool) -> Option<u64> {
    let mut sum = None;
    for task in std::fs::read_dir(format!("/proc/{process}/task")).ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if pick(comm.trim_end()) {
            let ticks = stat_ticks(&task.path().join("stat").to_string_lossy()).unwrap_or(0);
            sum = Some(sum.unwrap_or(0) + ticks);
        }
    }
    sum
}

/// utime + stime of a `/proc/…/stat` file, in clock ticks.
fn stat_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[cfg(unix)]
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

#[cfg(not(unix))]
fn clock_ticks_per_second() -> f64 {
    100.0
}

#[cfg(all(test, target_os = "linux"))]
mod cpu_tests {
    use super::*;

    #[test]
    fn a_busy_thread_is_measured_by_name_and_in_its_process() {
        let before_all = CpuMeter::ThisProcess.seconds().unwrap();
        assert_eq!(CpuMeter::Threads("cpu-meter-test").seconds(), None, "no such thread yet");
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let busy = std::thread::Builder::new()
            .name("cpu-meter-test".into())
            .spawn(move || {
                let started = Instant::now();
                let mut x = 0u64;
                while started.elapsed() < Duration::from_millis(300) {
                    x = x.wrapping_mul(31).wrapping_add(7);
                }
                let _ = stop_rx.recv();
                x
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(350));
        let named = CpuMeter::Threads("cpu-meter-test").seconds().unwrap();
        stop_tx.send(()).unwrap();
        busy.join().unwrap();
        let all = CpuMeter::ThisProcess.seconds().unwrap() - before_all;
        assert!(named >= 0.1, "the busy thread spun for 0.3 s, measured {named}");
        assert!(all >= named, "the process ({all}) holds its thread ({named})");
        let me = CpuMeter::Processes { pids: vec![std::process::id()], children: true };
        assert!(me.seconds().unwrap() >= all - 0.05);
    }
}
