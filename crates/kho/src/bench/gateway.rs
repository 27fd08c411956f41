//! `kho bench gateway` — the sharing gateway (`/r1/…`, X-Road REST) against nginx's
//! `proxy_pass`, both in front of the same small backend. The backend runs in this
//! process: HTTP/1.1 with kept-alive connections, answering `GET /echo/…` with a
//! fixed business record (about 200 bytes of JSON). Three sides are loaded by `wrk`,
//! one after the other, with the same settings and the same request headers:
//!
//! - **direct**: the backend itself, the floor every proxy adds to;
//! - **nginx**: `proxy_pass` to the backend through an `upstream` of kept-alive
//!   connections, `worker_processes auto` (Kho's runtime also uses every core);
//! - **hyper**: a bare proxy on the HTTP stack Kho is built on, with nothing else
//!   ([`bare_proxy`](super::bare_proxy)) — for comparison, not a target: what Kho's
//!   gateway costs beyond it is its own work;
//! - **Kho**: `kho serve` on a fresh data directory, the request going through the
//!   gateway with everything on: the consumer's bearer token, the agreement check
//!   (endpoint and purpose), the rate limiter and the chained message log.
//!
//! Each side gets a warm-up and a latency run on one connection (`-t1 -c1`); the added
//! latency of a proxy is its p50 on one connection less the backend's. Then come the
//! throughput runs (`-t2 -c32` by default) in rounds (`--rounds`, 3 by default): each
//! round loads every side once, starting with a different side each time, so that a
//! noisy minute on the shared machine falls on all sides alike; each side's median run
//! is compared, and every round's ratio is printed. Each side's CPU time per request
//! (its own processes' or threads', read from `/proc` around each run) is printed beside
//! its rate: unlike the rate, it hardly depends on what else the machine does. wrk and nginx are not installed by the benchmark:
//! when one is missing it says what to install and compares nothing. Every figure
//! printed is parsed from this run's wrk output; errors or non-2xx answers on any side
//! are reported and fail the verdicts. Afterwards `kho audit verify --messages` checks
//! Kho's message log, which must hold a record for every request that went through.

use super::bare_proxy::{self, BareProxy};
use super::process::CpuMeter;
use super::{grouped, http, process, verdict, BenchArgs, Kho, Workdir};
use anyhow::{anyhow, bail, Context};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The targets of the sharing-gateway issue.
const THROUGHPUT_RATIO_TARGET: f64 = 0.70;
const ADDED_P50_TARGET_MS: f64 = 1.0;
/// Seconds of load before each side's measured runs.
const WARMUP_SECS: u64 = 2;
/// The province agency both subsystems belong to.
const PROVINCE: &str = "000.00.00.H24";
const CONSUMER: &str = "VN/GOV/000.00.00.H24/BENCH-CONSUMER";
const PROVIDER: &str = "VN/GOV/000.00.00.H24/BENCH-PROVIDER";
const SERVICE: &str = "echo";
const PURPOSE: &str = "bench";
/// The backend's path every side ends up asking for.
const BACKEND_PATH: &str = "/echo/1";
/// Upstream connections nginx keeps open to the backend.
const NGINX_KEEPALIVE: usize = 64;
/// The record the backend answers: a business from the business registry
/// (đăng ký doanh nghiệp).
const RECORD: &str = concat!(
    r#"{"ma_so_doanh_nghiep":"2300123456","ten":"Công ty TNHH Thương mại Kinh Bắc","#,
    r#""dia_chi":"Số 12 Lý Thái Tổ, phường Kinh Bắc, tỉnh Bắc Ninh","ngay_thanh_lap":"2019-03-15","#,
    r#""von_dieu_le":5000000000,"trang_thai":"Đang hoạt động"}"#
);

/// The gateway's path of the backend's `BACKEND_PATH`.
fn gateway_path() -> String {
    format!("/r1/{PROVIDER}/{SERVICE}{BACKEND_PATH}")
}

/// Runs the gateway benchmark in `work`.
pub fn run(args: &BenchArgs, work: &mut Workdir) -> anyhow::Result<ExitCode> {
    let load =
        Load { threads: args.wrk_threads.max(1), connections: args.connections.max(1), seconds: args.duration.max(1) };
    if load.threads > load.connections {
        bail!("--wrk-threads ({}) must not be more than --connections ({})", load.threads, load.connections);
    }
    println!("\n== gateway: Kho's sharing gateway against nginx proxy_pass, to the same local backend ==");
    let tools = match Tools::find() {
        Ok(t) => t,
        Err(missing) => {
            let verb = if missing.len() == 1 { "was" } else { "were" };
            eprintln!(
                "error: the gateway benchmark needs wrk and nginx: {} {verb} not found in PATH or the sbin directories",
                missing.join(" and ")
            );
            eprintln!("       install them (e.g. `apt-get install wrk nginx`, `brew install wrk nginx`); nothing was compared");
            return Ok(ExitCode::FAILURE);
        }
    };
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("  tools: {}, {}", tools.wrk_version, tools.nginx_version);

    let backend = Backend::start().context("cannot start the backend")?;
    println!(
        "  backend: in this process on {}, HTTP/1.1 kept alive, GET /echo/… → {} bytes of JSON",
        backend.address,
        RECORD.len()
    );
    let nginx = Nginx::start(&tools.nginx, &work.file("nginx"), backend.address)?;
    println!(
        "  nginx: worker_processes auto, upstream keepalive {NGINX_KEEPALIVE} over HTTP/1.1, access log on (its \
         default) into the working directory"
    );
    let bare = BareProxy::start(backend.address, &format!("/r1/{PROVIDER}/{SERVICE}"))
        .context("cannot start the bare hyper proxy")?;
    println!(
        "  hyper: a bare proxy in this process (a thread a core as in kho serve: hyper's HTTP/1.1 server, a hyper-util pooled client a thread): no \
         authentication, agreement, limiter or log — for comparison"
    );
    let kho = Kho { exe: std::env::current_exe()?, data: work.file("kho-gateway-data") };
    let (server, token) = start_kho(&kho, backend.address, &work.file("serve-gateway.log"))?;
    println!(
        "  Kho: kho serve, GET {} with X-Road-Client, X-Road-Purpose and the consumer's bearer token: authentication,",
        gateway_path()
    );
    println!(
        "       the agreement check (GET /*, purpose {PURPOSE}), the rate limiter (1000000/s), the chained message log"
    );

    let headers = [
        ("X-Road-Client", CONSUMER.to_string()),
        ("X-Road-Purpose", PURPOSE.to_string()),
        ("Authorization", format!("Bearer {token}")),
    ];
    let sides = [
        ("direct", backend.address.to_string(), BACKEND_PATH.to_string(), CpuMeter::ThisProcess, None),
        ("nginx", nginx.address.clone(), gateway_path(), nginx.cpu(), None),
        ("hyper", bare.address.to_string(), gateway_path(), CpuMeter::Threads(bare_proxy::THREAD_NAME), None),
        (
            "Kho",
            server.address.clone(),
            gateway_path(),
            CpuMeter::Processes { pids: server.pid().into_iter().collect(), children: false },
            server.pid().map(|pid| CpuMeter::ThreadsOf { pid, prefix: kho_server::SERVING_THREAD_PREFIX }),
        ),
    ];
    // Each side answers the record before it is loaded.
    for (name, address, path, _, _) in &sides {
        probe(name, address, path, &headers)?;
    }
    let wrk = Wrk { exe: tools.wrk.clone(), headers: headers.iter().map(|(n, v)| format!("{n}: {v}")).collect() };
    let rounds = args.rounds.max(1) as usize;
    println!(
        "  every side gets the same headers; {WARMUP_SECS} s of warm-up, latency: wrk {} --latency, then {rounds} \
         round(s) of wrk {} --latency, every side once a round",
        Load { threads: 1, connections: 1, ..load }.flags(),
        load.flags(),
    );
    println!("  the backend, nginx, Kho and wrk all share this machine's {cpus} CPUs");

    let mut measured = Vec::new();
    for (name, address, path, cpu, serving) in &sides {
        let url = format!("http://{address}{path}");
        eprint!("  warming up {name} and measuring its latency…");
        let meters = (CpuRuns::new(cpu.clone()), serving.clone().map(CpuRuns::new));
        measured.push(Side::warm_up(name, &wrk, url, meters, load, &backend)?);
        eprintln!(" done");
    }
    for round in 0..rounds {
        eprint!("  round {} of {rounds}:", round + 1);
        for i in 0..measured.len() {
            let side = &mut measured[(round + i) % sides.len()];
            eprint!(" {}…", side.name);
            side.load(&wrk, load, &backend)?;
        }
        eprintln!();
    }
    let server_rss = server.stop();
    drop(nginx);
    drop(bare);
    // The probe and Kho's runs: every one of them should have its record.
    let through_kho = measured.iter().find(|s| s.name == "Kho").map_or(0, |s| s.backend_total) + 1;
    let log = MessageLog::read(&kho, through_kho)?;

    report(&measured, load, server_rss, &log);
    let errors: u64 = measured.iter().map(Side::errors).sum();
    Ok(if errors == 0 && log.intact { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// wrk's load settings.
#[derive(Clone, Copy)]
struct Load {
    threads: u32,
    connections: u32,
    seconds: u64,
}

impl Load {
    fn flags(&self) -> String {
        format!("-t{} -c{} -d{}s", self.threads, self.connections, self.seconds)
    }
}

/// What one side measured.
struct Side {
    name: &'static str,
    url: String,
    warmup: WrkRun,
    latency: WrkRun,
    /// The throughput runs, one a round.
    throughput: Vec<WrkRun>,
    /// Requests the backend answered during each throughput run.
    backend_answered: Vec<u64>,
    /// Requests the backend answered during all of this side's runs.
    backend_total: u64,
    /// The CPU the side spent during each throughput run: all of it, and (Kho) its
    /// serving threads'.
    cpu: CpuRuns,
    serving: Option<CpuRuns>,
}

/// A CPU meter and the seconds it counted during each throughput run.
#[derive(Clone)]
struct CpuRuns {
    meter: CpuMeter,
    seconds: Vec<Option<f64>>,
}

impl CpuRuns {
    fn new(meter: CpuMeter) -> Self {
        Self { meter, seconds: Vec::new() }
    }

    /// Keeps what the meter counted since it read `before`.
    fn record(&mut self, before: Option<f64>) {
        let counted = self.meter.seconds().zip(before).map(|(after, before)| after - before);
        self.seconds.push(counted);
    }
}

impl Side {
    /// The warm-up and the latency run on one connection.
    fn warm_up(
        name: &'static str,
        wrk: &Wrk,
        url: String,
        (cpu, serving): (CpuRuns, Option<CpuRuns>),
        load: Load,
        backend: &Backend,
    ) -> anyhow::Result<Side> {
        let start = backend.answered();
        let warmup = wrk.run(&url, Load { seconds: WARMUP_SECS, ..load })?;
        let latency = wrk.run(&url, Load { threads: 1, connections: 1, ..load })?;
        let backend_total = backend.settled() - start;
        let (throughput, backend_answered) = (Vec::new(), Vec::new());
        Ok(Side { name, url, warmup, latency, throughput, backend_answered, backend_total, cpu, serving })
    }

    /// One throughput run.
    fn load(&mut self, wrk: &Wrk, load: Load, backend: &Backend) -> anyhow::Result<()> {
        let before = backend.answered();
        let cpu_before = self.cpu.meter.seconds();
        let serving_before = self.serving.as_ref().and_then(|s| s.meter.seconds());
        self.throughput.push(wrk.run(&self.url, load)?);
        self.cpu.record(cpu_before);
        if let Some(serving) = &mut self.serving {
            serving.record(serving_before);
        }
        let answered = backend.settled() - before;
        self.backend_answered.push(answered);
        self.backend_total += answered;
        Ok(())
    }

    /// The throughput run with the median rate (the lower middle one of an even count),
    /// and what the backend answered during it.
    fn median(&self) -> (&WrkRun, u64) {
        let i = self.median_run();
        (&self.throughput[i], self.backend_answered[i])
    }

    fn median_run(&self) -> usize {
        let mut order: Vec<usize> = (0..self.throughput.len()).collect();
        order.sort_by(|&a, &b| self.throughput[a].rps.total_cmp(&self.throughput[b].rps));
        order[(order.len() - 1) / 2]
    }

    /// Microseconds of the side's CPU time per request in its median run.
    fn cpu_per_request(&self) -> Option<f64> {
        self.per_request(&self.cpu)
    }

    /// Microseconds of CPU time `runs` counted per request in the median run.
    fn per_request(&self, runs: &CpuRuns) -> Option<f64> {
        let i = self.median_run();
        let requests = self.throughput[i].requests;
        runs.seconds.get(i).copied().flatten().filter(|_| requests > 0).map(|s| s * 1e6 / requests as f64)
    }

    /// [`Self::cpu_per_request`] as the report prints it.
    fn cpu_text(&self) -> String {
        self.cpu_per_request().map_or_else(|| "—".into(), |us| format!("{us:.1} µs"))
    }

    fn errors(&self) -> u64 {
        [&self.warmup, &self.latency].into_iter().chain(&self.throughput).map(|r| r.errors()).sum()
    }
}

/// Kho's message log after the run, as `kho audit verify --messages` reports it.
struct MessageLog {
    /// Its report line ("intact: N records, …" or where it is broken).
    verified: String,
    intact: bool,
    records: Option<u64>,
    /// Requests sent through the gateway (the probe, the warm-up and the runs) that
    /// reached the backend.
    forwarded: u64,
}

impl MessageLog {
    fn read(kho: &Kho, forwarded: u64) -> anyhow::Result<Self> {
        let done = process::run(kho.command(["audit", "verify", "--messages"]), b"")?;
        let line = done.stdout.lines().find(|l| l.starts_with("ok: ") || l.starts_with("BROKEN: "));
        let Some(line) = line else {
            bail!("kho audit verify --messages answered something else: {}", done.why());
        };
        let intact = done.success() && line.starts_with("ok: ");
        let verified = line.split_once(": ").map_or(line, |(_, rest)| rest).to_string();
        Ok(Self { records: records_in(&verified), verified, intact, forwarded })
    }

    /// Every request that went through has its record.
    fn complete(&self) -> bool {
        self.records.is_some_and(|r| r >= self.forwarded)
    }
}

/// The record count in a report such as "intact: 3,645 records, 6 signed checkpoints".
fn records_in(report: &str) -> Option<u64> {
    let words: Vec<&str> = report.split_whitespace().collect();
    let at = words.iter().position(|w| w.trim_end_matches(',') == "records")?;
    words.get(at.checked_sub(1)?)?.replace(',', "").parse().ok()
}

fn report(sides: &[Side], load: Load, server_rss: Option<u64>, log: &MessageLog) {
    let ms = |v: f64| format!("{v:.3} ms");
    let errors = |r: &WrkRun| {
        if r.errors() == 0 {
            "0".to_string()
        } else {
            format!("{} ({} socket, {} non-2xx)", r.errors(), r.socket_errors, r.non_2xx)
        }
    };
    let rounds = sides.first().map_or(0, |s| s.throughput.len());
    println!("\nthroughput: wrk {} --latency, the median of {rounds} round(s) for each side", load.flags());
    let mut rows = vec![[
        "side",
        "req/s",
        "CPU/request",
        "p50",
        "p99",
        "errors",
        "requests",
        "backend answered",
        "every round (req/s)",
    ]
    .map(String::from)
    .to_vec()];
    for s in sides {
        let (t, answered) = s.median();
        let all: Vec<String> = s.throughput.iter().map(|r| grouped(r.rps.round() as u64)).collect();
        rows.push(vec![
            s.name.to_string(),
            grouped(t.rps.round() as u64),
            s.cpu_text(),
            ms(t.p50_ms),
            ms(t.p99_ms),
            errors(t),
            grouped(t.requests),
            grouped(answered),
            all.join(", "),
        ]);
    }
    print_table(&rows);
    let one = Load { threads: 1, connections: 1, ..load };
    println!("\nlatency on one connection: wrk {} --latency", one.flags());
    let side = |name: &str| sides.iter().find(|s| s.name == name).expect("every side is measured");
    let direct_p50 = side("direct").latency.p50_ms;
    let mut rows = vec![["side", "req/s", "p50", "p99", "errors", "added p50"].map(String::from).to_vec()];
    for s in sides {
        let l = &s.latency;
        let added = if s.name == "direct" { "—".to_string() } else { ms(l.p50_ms - direct_p50) };
        rows.push(vec![
            s.name.to_string(),
            grouped(l.rps.round() as u64),
            ms(l.p50_ms),
            ms(l.p99_ms),
            errors(l),
            added,
        ]);
    }
    print_table(&rows);
    let warm_errors: Vec<String> =
        sides.iter().filter(|s| s.warmup.errors() > 0).map(|s| format!("{} {}", s.name, errors(&s.warmup))).collect();
    if !warm_errors.is_empty() {
        println!("  errors during the warm-up: {}", warm_errors.join(", "));
    }
    if let Some(rss) = server_rss {
        println!("  kho serve peak RSS: {}", super::mb(rss));
    }
    println!("  requests: as wrk counted them; backend answered: what reached the backend during the same run");
    println!(
        "  CPU/request: the side's own CPU time (user and system) over its requests — direct: this process (the \
         backend); nginx: its master and workers; hyper: its runtime threads; Kho: kho serve"
    );
    println!("  Kho's message log (kho audit verify --messages, after the run): {}", log.verified);

    let (nginx, kho) = (side("nginx"), side("Kho"));
    let mut failed: Vec<String> =
        sides.iter().filter(|s| s.errors() > 0).map(|s| format!("{} had {} errors", s.name, s.errors())).collect();
    if !log.intact {
        failed.push("Kho's message log is broken".into());
    }
    let outcome = |pass: bool| {
        if failed.is_empty() {
            verdict(pass).to_string()
        } else {
            format!("{} ({})", verdict(false), failed.join(", "))
        }
    };
    println!("targets:");
    let (kho_rps, nginx_rps) = (kho.median().0.rps, nginx.median().0.rps);
    let ratio = kho_rps / nginx_rps;
    let per_round: Vec<String> =
        kho.throughput.iter().zip(&nginx.throughput).map(|(k, n)| format!("{:.0}%", k.rps / n.rps * 100.0)).collect();
    println!(
        "  Kho / nginx throughput = {:.1}% (target ≥ {:.0}%) {} — medians {} vs {} req/s; round by round {}",
        ratio * 100.0,
        THROUGHPUT_RATIO_TARGET * 100.0,
        outcome(ratio >= THROUGHPUT_RATIO_TARGET),
        grouped(kho_rps.round() as u64),
        grouped(nginx_rps.round() as u64),
        per_round.join(", ")
    );
    let hyper = side("hyper");
    println!(
        "  for comparison: the bare hyper proxy = {:.0}% of nginx's rate; CPU per request: nginx {}, hyper {}, Kho {}",
        hyper.median().0.rps / nginx_rps * 100.0,
        nginx.cpu_text(),
        hyper.cpu_text(),
        kho.cpu_text()
    );
    let serving = kho.serving.as_ref().and_then(|s| kho.per_request(s));
    if let Some((all, serving)) = kho.cpu_per_request().zip(serving) {
        println!(
            "  Kho's CPU per request by thread: {serving:.1} µs on its serving threads ({}*: HTTP, the checks, the \
             record and its journal line), {:.1} µs on the others (moving the log into the store, checkpoints)",
            kho_server::SERVING_THREAD_PREFIX,
            all - serving
        );
    }
    let (kho_added, nginx_added) = (kho.latency.p50_ms - direct_p50, nginx.latency.p50_ms - direct_p50);
    println!(
        "  added p50: Kho {kho_added:.3} ms vs nginx {nginx_added:.3} ms (target < {ADDED_P50_TARGET_MS} ms) {} — over \
         the backend's {direct_p50:.3} ms on one connection",
        outcome(kho_added < ADDED_P50_TARGET_MS)
    );
    let records = log.records.map_or_else(|| "an unknown number of".into(), grouped);
    println!(
        "  every request through Kho has its message-log record: {} — {records} records for {} requests that reached \
         the backend (probe, warm-up and runs)",
        verdict(log.intact && log.complete()),
        grouped(log.forwarded)
    );
}

/// Left-aligned columns, three spaces apart.
fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        println!("  {}", line.join("   ").trim_end());
    }
}

/// Sends one request to a side and checks that the backend's record comes back.
fn probe(name: &str, address: &str, path: &str, headers: &[(&str, String)]) -> anyhow::Result<()> {
    let mut client = http::Client::new(address);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let r = client.send("GET", path, &headers, b"")?;
    if r.status != 200 {
        bail!("{name}: GET {path} answered {}: {}", r.status, r.text());
    }
    if r.body != RECORD.as_bytes() {
        bail!("{name}: GET {path} answered something else than the backend's record: {}", r.text());
    }
    Ok(())
}

/// Sets Kho up on a fresh data directory with the command line — the province, the
/// consumer and provider subsystems, the echo service and an approved agreement —
/// then starts `kho serve`. Returns the server and the consumer's token.
fn start_kho(kho: &Kho, backend: SocketAddr, log: &Path) -> anyhow::Result<(http::Server, String)> {
    kho.run(["agency", "create", "--code", PROVINCE, "--name", "UBND tỉnh Bắc Ninh", "--kind", "province"])?;
    let created = kho.run(["subsystem", "create", CONSUMER, "--agency", PROVINCE])?;
    let token = created.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        bail!("kho subsystem create printed {created:?} where the new token was expected");
    }
    kho.run(["subsystem", "create", PROVIDER, "--agency", PROVINCE])?;
    let backend = format!("http://{backend}");
    kho.run(["service", "add", "--provider", PROVIDER, "--code", SERVICE, "--backend", &backend])?;
    let service = format!("{PROVIDER}/{SERVICE}");
    kho.run([
        "agreement",
        "add",
        "--consumer",
        CONSUMER,
        "--service",
        &service,
        "--endpoints",
        "GET /*",
        "--purpose",
        PURPOSE,
        "--rate",
        "1000000/s",
        "--approve",
    ])?;
    let mut serve = kho.command(Vec::<&str>::new());
    serve.env("KHO_ADMIN_PASSWORD", format!("kho-bench-{:016x}", std::process::id()));
    let server = http::Server::start(serve, log)?;
    Ok((server, token.to_string()))
}

/// The two programs the benchmark runs but does not install.
struct Tools {
    wrk: PathBuf,
    nginx: PathBuf,
    wrk_version: String,
    nginx_version: String,
}

impl Tools {
    /// Finds wrk and nginx, or names the ones missing.
    fn find() -> Result<Self, Vec<&'static str>> {
        let (wrk, nginx) = (find_program("wrk"), find_program("nginx"));
        let (Some(wrk), Some(nginx)) = (wrk.clone(), nginx.clone()) else {
            return Err([("wrk", wrk), ("nginx", nginx)]
                .into_iter()
                .filter(|(_, p)| p.is_none())
                .map(|(n, _)| n)
                .collect());
        };
        // `wrk --version` prints its version and usage and exits with 1; nginx -v writes to stderr.
        let first_line = |exe: &Path, arg: &str, cut: &str| -> String {
            let out = Command::new(exe).arg(arg).stdin(Stdio::null()).output();
            let text =
                out.map(|o| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)));
            let line = text.unwrap_or_default().lines().next().unwrap_or_default().to_string();
            let line = line.split(cut).next().unwrap_or_default().trim().to_string();
            if line.is_empty() {
                exe.display().to_string()
            } else {
                line
            }
        };
        let wrk_version = first_line(&wrk, "--version", "Copyright");
        let nginx_version = first_line(&nginx, "-v", "\n").replace("nginx version: ", "");
        Ok(Self { wrk, nginx, wrk_version, nginx_version })
    }
}

/// An executable named `name` in PATH or in the usual sbin directories (nginx lives
/// in /usr/sbin, which is not always in a user's PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let sbin = ["/usr/sbin", "/usr/local/sbin", "/sbin", "/opt/homebrew/bin"].map(PathBuf::from);
    std::env::split_paths(&path).chain(sbin).map(|d| d.join(name)).find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// A port free at the time of asking (the listener is closed before it is used).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The backend: a minimal HTTP/1.1 server, one thread a connection, connections kept
/// alive (pipelined requests are answered in order). It answers `GET /echo/…` with
/// `RECORD` and anything else with 404, and counts the records it sent.
struct Backend {
    address: SocketAddr,
    answered: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
}

impl Backend {
    fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let answered = Arc::new(AtomicU64::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let (count, stop) = (answered.clone(), stopping.clone());
        std::thread::Builder::new().name("bench-backend".into()).spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let count = count.clone();
                // A connection that fails only ends itself.
                let _ = std::thread::Builder::new().spawn(move || serve_connection(stream, &count));
            }
        })?;
        Ok(Self { address, answered, stopping })
    }

    fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    /// The count once no request has come for [`QUIET`]: a proxy may still forward
    /// what was in flight when wrk stopped, and those belong to its run, not the next.
    fn settled(&self) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = self.answered();
        loop {
            std::thread::sleep(QUIET);
            let now = self.answered();
            if now == last || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// The backend's answers, written once.
fn ok_response() -> &'static [u8] {
    static OK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    OK.get_or_init(|| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{RECORD}", RECORD.len())
            .into_bytes()
    })
}
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// How long the backend stays without a request before a run counts as over.
const QUIET: Duration = Duration::from_millis(100);
/// The longest request head the backend reads.
const MAX_HEAD: usize = 64 * 1024;

fn serve_connection(mut stream: TcpStream, answered: &AtomicU64) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    let mut out: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let mut used = 0;
        let mut close = false;
        while let Some(end) = find(&buf[used..], b"\r\n\r\n") {
            let head = RequestHead::read(&buf[used..used + end]);
            let whole = end + 4 + head.content_length;
            if buf.len() - used < whole {
                break;
            }
            used += whole;
            if head.echo {
                out.extend_from_slice(ok_response());
                answered.fetch_add(1, Ordering::Relaxed);
            } else {
                out.extend_from_slice(NOT_FOUND);
            }
            if !head.keep_alive {
                close = true;
                break;
            }
        }
        buf.drain(..used);
        if !out.is_empty() {
            stream.write_all(&out)?;
            out.clear();
        }
        if close || buf.len() > MAX_HEAD {
            return Ok(());
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the backend reads of a request head.
#[derive(Debug, PartialEq, Eq)]
struct RequestHead {
    /// `GET /echo/…`.
    echo: bool,
    keep_alive: bool,
    content_length: usize,
}

impl RequestHead {
    fn read(head: &[u8]) -> Self {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let mut request = lines.next().unwrap_or_default().split(' ');
        let (method, target, version) = (
            request.next().unwrap_or_default(),
            request.next().unwrap_or_default(),
            request.next().unwrap_or_default(),
        );
        let mut keep_alive = version == "HTTP/1.1";
        let mut content_length = 0;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("connection") {
                if value.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if value.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        }
        Self { echo: method == "GET" && target.starts_with("/echo/"), keep_alive, content_length }
    }
}

/// nginx as a child process with its own configuration, stopped when dropped.
struct Nginx {
    child: Option<Child>,
    address: String,
}

impl Nginx {
    /// nginx's master process and its workers.
    fn cpu(&self) -> CpuMeter {
        CpuMeter::Processes { pids: self.child.as_ref().map(Child::id).into_iter().collect(), children: true }
    }

    fn start(exe: &Path, dir: &Path, backend: SocketAddr) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let address = format!("127.0.0.1:{}", free_port()?);
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, nginx_conf(dir, &address, backend))
            .with_context(|| format!("cannot write {}", conf.display()))?;
        let error_log = dir.join("error.log");
        let mut command = Command::new(exe);
        command.arg("-p").arg(dir).arg("-c").arg(&conf).arg("-e").arg(&error_log).args(["-g", "daemon off;"]);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let child = command.spawn().with_context(|| format!("cannot start {}", exe.display()))?;
        let mut nginx = Self { child: Some(child), address };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(&nginx.address).is_ok() {
                return Ok(nginx);
            }
            let exited = nginx.child.as_mut().map(|c| c.try_wait()).transpose()?.flatten();
            if let Some(status) = exited {
                nginx.child = None;
                let log = std::fs::read_to_string(&error_log).unwrap_or_default();
                bail!("nginx stopped at start ({status}): {}", log.trim());
            }
            if Instant::now() > deadline {
                bail!("nginx did not listen on {} within 10 s (see {})", nginx.address, error_log.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM is nginx's fast shutdown: the master stops its workers.
            process::stop(&mut c, Duration::from_secs(10));
        }
    }
}

/// nginx's configuration: everything under `dir`, one `proxy_pass` location that
/// maps the gateway's path onto the backend's, as Kho's service does.
fn nginx_conf(dir: &Path, listen: &str, backend: SocketAddr) -> String {
    let d = dir.display();
    let prefix = format!("/r1/{PROVIDER}/{SERVICE}/");
    format!(
        "worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    upstream backend {{
        server {backend};
        keepalive {NGINX_KEEPALIVE};
        keepalive_requests 1000000;
    }}
    server {{
        listen {listen};
        location {prefix} {{
            proxy_pass http://backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }}
    }}
}}
"
    )
}

/// wrk with the benchmark's request headers.
struct Wrk {
    exe: PathBuf,
    headers: Vec<String>,
}

impl Wrk {
    fn run(&self, url: &str, load: Load) -> anyhow::Result<WrkRun> {
        let mut c = Command::new(&self.exe);
        c.arg(format!("-t{}", load.threads)).arg(format!("-c{}", load.connections));
        c.arg(format!("-d{}s", load.seconds)).arg("--latency");
        for h in &self.headers {
            c.arg("-H").arg(h);
        }
        c.arg(url);
        let done = process::run(c, b"").with_context(|| format!("cannot run {}", self.exe.display()))?;
        if !done.success() {
            bail!("wrk {} {url} failed: {}", load.flags(), done.why());
        }
        parse_wrk(&done.stdout).with_context(|| format!("wrk {} {url}", load.flags()))
    }
}

/// What the benchmark reads of wrk's report.
#[derive(Debug, Clone, PartialEq)]
struct WrkRun {
    requests: u64,
    seconds: f64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// connect, read, write and timeout errors together.
    socket_errors: u64,
    /// Answers with a status of 400 or more (wrk's "Non-2xx or 3xx responses").
    non_2xx: u64,
}

impl WrkRun {
    fn errors(&self) -> u64 {
        self.socket_errors + self.non_2xx
    }
}

/// Reads wrk's text report (run with `--latency`).
fn parse_wrk(text: &str) -> anyhow::Result<WrkRun> {
    let (mut requests, mut seconds, mut rps, mut p50, mut p99) = (None, None, None, None, None);
    let (mut socket_errors, mut non_2xx) = (0, 0);
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rps = rest.trim().parse::<f64>().ok();
        } else if let Some((count, rest)) = line.split_once(" requests in ") {
            requests = count.trim().parse::<u64>().ok();
            seconds = rest.split(',').next().and_then(duration_ms).map(|ms| ms / 1e3);
        } else if let Some(rest) = line.strip_prefix("50%") {
            p50 = duration_ms(rest.trim());
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99 = duration_ms(rest.trim());
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            socket_errors = rest
                .split(',')
                .map(|part| part.split_whitespace().last().and_then(|n| n.parse::<u64>().ok()))
                .sum::<Option<u64>>()
                .ok_or_else(|| anyhow!("cannot read wrk's line {line:?}"))?;
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest.trim().parse().map_err(|_| anyhow!("cannot read wrk's line {line:?}"))?;
        }
    }
    let missing = |what: &str| anyhow!("wrk's report has no {what}: {text}");
    Ok(WrkRun {
        requests: requests.ok_or_else(|| missing("\"N requests in\" line"))?,
        seconds: seconds.ok_or_else(|| missing("duration"))?,
        rps: rps.ok_or_else(|| missing("Requests/sec"))?,
        p50_ms: p50.ok_or_else(|| missing("50% latency (was it run with --latency?)"))?,
        p99_ms: p99.ok_or_else(|| missing("99% latency"))?,
        socket_errors,
        non_2xx,
    })
}

/// One of wrk's durations (`95.00us`, `1.23ms`, `2.00s`, `1.50m`, `1.00h`) in milliseconds.
fn duration_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3_600e3,
        _ => return None,
    };
    Some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wrk 4.1.0's report of a run against nginx on this kind of machine.
    const WRK_REPORT: &str = "Running 2s test @ http://127.0.0.1:38181/echo/1
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.89ms    1.42ms  15.82ms   87.64%
    Req/Sec    32.65k     4.00k   38.07k    75.00%
  Latency Distribution
     50%  393.00us
     75%  608.00us
     90%    2.78ms
     99%    7.04ms
  130260 requests in 2.01s, 25.22MB read
Requests/sec:  64822.35
Transfer/sec:     12.55MB
";
    /// The same against a location that answers 404.
    const WRK_REPORT_404: &str = "Running 2s test @ http://127.0.0.1:38181/other
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.95ms    1.89ms  28.25ms   90.33%
    Req/Sec    33.87k     3.93k   43.74k    75.00%
  Latency Distribution
     50%  387.00us
     75%  578.00us
     90%    2.76ms
     99%    8.38ms
  134915 requests in 2.00s, 39.63MB read
  Non-2xx or 3xx responses: 134915
Requests/sec:  67422.84
Transfer/sec:     19.80MB
";
    /// The same against a location that closes every connection unanswered.
    const WRK_REPORT_DROPPED: &str = "Running 1s test @ http://127.0.0.1:38181/drop/1
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 1.01s, 0.00B read
  Socket errors: connect 0, read 10101, write 0, timeout 0
Requests/sec:      0.00
Transfer/sec:       0.00B
";

    #[test]
    fn wrk_reports_are_read() {
        let run = parse_wrk(WRK_REPORT).unwrap();
        assert_eq!(run.requests, 130_260);
        assert!((run.seconds - 2.01).abs() < 1e-9);
        assert!((run.rps - 64_822.35).abs() < 1e-9);
        assert!((run.p50_ms - 0.393).abs() < 1e-9);
        assert!((run.p99_ms - 7.04).abs() < 1e-9);
        assert_eq!(run.errors(), 0);
    }

    #[test]
    fn the_bare_proxy_forwards_the_gateway_path_to_the_backend() {
        let backend = Backend::start().unwrap();
        let bare = BareProxy::start(backend.address, &format!("/r1/{PROVIDER}/{SERVICE}")).unwrap();
        probe("hyper", &bare.address.to_string(), &gateway_path(), &[]).unwrap();
        assert_eq!(backend.settled(), 1, "one request reached the backend");
        if cfg!(target_os = "linux") {
            let found = CpuMeter::Threads(bare_proxy::THREAD_NAME).seconds();
            assert!(found.is_some(), "its runtime threads are found by name");
            assert_eq!(CpuMeter::Threads("no-such-thread").seconds(), None);
            let pid = std::process::id();
            let by_prefix = CpuMeter::ThreadsOf { pid, prefix: &bare_proxy::THREAD_NAME[..4] }.seconds();
            assert!(by_prefix.is_some(), "a process's threads are found by the start of their name");
            assert_eq!(CpuMeter::ThreadsOf { pid, prefix: "no-such-" }.seconds(), None);
        }
    }

    #[test]
    fn each_side_is_compared_by_its_median_round() {
        let run = |rps: f64| WrkRun { rps, ..parse_wrk(WRK_REPORT).unwrap() };
        let mut side = Side {
            name: "Kho",
            url: String::new(),
            warmup: run(1.0),
            latency: run(1.0),
            throughput: vec![run(30.0), run(10.0), run(20.0)],
            backend_answered: vec![300, 100, 200],
            backend_total: 600,
            cpu: CpuRuns { meter: CpuMeter::ThisProcess, seconds: vec![Some(1.0), None, Some(0.26052)] },
            serving: None,
        };
        let (median, answered) = side.median();
        assert_eq!((median.rps, answered), (20.0, 200));
        let per_request = side.cpu_per_request().unwrap();
        assert!((per_request - 2.0).abs() < 1e-9, "0.26052 s over the median run's 130,260 requests: {per_request}");
        side.throughput.truncate(2);
        assert_eq!(side.cpu_per_request(), None, "the median run's CPU time is unknown");
        assert_eq!(side.median().0.rps, 10.0, "of two runs, the lower");
    }

    #[test]
    fn wrk_errors_and_non_2xx_answers_are_counted() {
        let run = parse_wrk(WRK_REPORT_404).unwrap();
        assert_eq!((run.non_2xx, run.socket_errors, run.errors()), (134_915, 0, 134_915));
        let run = parse_wrk(WRK_REPORT_DROPPED).unwrap();
        assert_eq!((run.requests, run.non_2xx, run.socket_errors), (0, 0, 10_101));
        assert_eq!(run.rps, 0.0);
    }

    #[test]
    fn a_report_without_the_latency_distribution_is_refused() {
        let without: String =
            WRK_REPORT.lines().filter(|l| !l.trim_start().starts_with(['5', '7', '9'])).collect::<Vec<_>>().join("\n");
        let e = parse_wrk(&without).unwrap_err().to_string();
        assert!(e.contains("50% latency"), "{e}");
        assert!(parse_wrk("unable to connect to 127.0.0.1:1 Connection refused").is_err());
    }

    #[test]
    fn the_record_count_is_read_from_the_verification_report() {
        assert_eq!(
            records_in("intact: 3,645 records, 6 signed checkpoints, 0 records after the last checkpoint"),
            Some(3645)
        );
        assert_eq!(records_in("intact: 1 records"), Some(1));
        assert_eq!(records_in("broken at record 12: the hash does not match"), None);
    }

    #[test]
    fn wrk_durations_are_read_in_milliseconds() {
        assert_eq!(duration_ms("95.00us"), Some(0.095));
        assert_eq!(duration_ms("1.23ms"), Some(1.23));
        assert_eq!(duration_ms("2.00s"), Some(2000.0));
        assert_eq!(duration_ms("1.50m"), Some(90_000.0));
        assert_eq!(duration_ms("12"), None);
        assert_eq!(duration_ms("3.0ns"), None);
    }

    #[test]
    fn request_heads_say_echo_keep_alive_and_body_length() {
        let head = RequestHead::read(b"GET /echo/1 HTTP/1.1\r\nHost: x\r\nX-Road-Client: VN/GOV/M/S");
        assert_eq!(head, RequestHead { echo: true, keep_alive: true, content_length: 0 });
        let head = RequestHead::read(b"POST /echo/1 HTTP/1.1\r\ncontent-length: 12\r\nConnection: close");
        assert_eq!(head, RequestHead { echo: false, keep_alive: false, content_length: 12 });
        let head = RequestHead::read(b"GET /echo/2 HTTP/1.0\r\nConnection: keep-alive");
        assert_eq!(head, RequestHead { echo: true, keep_alive: true, content_length: 0 });
        assert!(!RequestHead::read(b"GET /other HTTP/1.1").echo);
    }

    #[test]
    fn the_backend_answers_pipelined_requests_on_one_connection() {
        let backend = Backend::start().unwrap();
        let mut s = TcpStream::connect(backend.address).unwrap();
        s.write_all(b"GET /echo/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /nothing HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        s.write_all(b"GET /echo/2 HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2, "{answer}");
        assert_eq!(answer.matches("HTTP/1.1 404 Not Found").count(), 1, "{answer}");
        assert_eq!(answer.matches(RECORD).count(), 2);
        assert_eq!(backend.answered(), 2);
    }
}
