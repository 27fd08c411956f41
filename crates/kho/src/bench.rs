//! `kho bench` — the benchmark behind the warehouse's performance targets. It makes a
//! realistic CSV (a year of administrative-procedure dossiers: Vietnamese names,
//! `dd/mm/yyyy` dates, `1.250.000` fees, 2025 commune codes), then measures, side by
//! side in one run:
//!
//! - **ingest**: `kho ingest` of the file into a Delta table, as a child process
//!   whose own wall time and peak memory are taken, against DuckDB's
//!   `COPY (SELECT * FROM read_csv(…)) TO '….parquet'` on the same file;
//! - **read**: filtered requests to the tabular API of a running `kho serve`, and an
//!   SQL aggregate over the table, against the same filter and the same SQL run by
//!   DuckDB on the Parquet file it wrote.
//!
//! DuckDB runs through its Python package (`duckdb_side.py`, each job in its own
//! process). When it is not available the run says so and compares nothing; no
//! figure is ever invented or remembered: everything printed comes from this run.

mod bare_proxy;
mod dataset;
mod gateway;
mod http;
mod portal;
mod process;
mod quality;
mod refdata;
mod standardize;

use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The script that runs DuckDB's side.
const DUCKDB_SIDE: &str = include_str!("bench/duckdb_side.py");
/// The resource the table belongs to, and how SQL names its table.
const SLUG: &str = "ho-so-bench";
const SQL_TABLE: &str = "ho_so_bench.main";
/// The targets of the catalogue/warehouse issue.
const INGEST_RATIO_TARGET: f64 = 2.0;
const INGEST_RSS_TARGET: u64 = 1_000_000_000;
const INGEST_RSS_FILE: u64 = 2_000_000_000;
const FILTERED_P50_TARGET_MS: f64 = 50.0;
const AGGREGATE_RATIO_TARGET: f64 = 3.0;
/// Rows a filtered request asks for, and the date its range starts from.
const PAGE: usize = 100;
const SUBMITTED_FROM: &str = "2025-07-01";
/// Rows of the warehouse benchmark's CSV when `--rows` is not given.
const WAREHOUSE_ROWS: u64 = 5_000_000;
/// Distinct filters sent before timing starts (each side).
const WARMUP: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Ingest, read and portal.
    All,
    /// CSV into a table: time and peak memory.
    Ingest,
    /// Filtered tabular-API requests and an SQL aggregate (the table is loaded first).
    Read,
    /// The open data portal on a large catalogue: package_search and the dataset page.
    Portal,
    /// Legacy addresses and codes converted to the 2025 administrative units, in process.
    Refdata,
    /// The sharing gateway against nginx proxy_pass: throughput and added latency
    /// (needs wrk and nginx; not part of `all`).
    Gateway,
    /// Vietnamese names, phones and citizen IDs standardised, in process.
    Standardize,
    /// 15 data-quality checks on a generated table, Kho's engine against DuckDB on
    /// the same Parquet files.
    Quality,
}

#[derive(Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum, default_value = "all")]
    which: Which,
    /// Rows of the generated CSV (about 135 bytes each; 15000000 make 2 GB), or of the
    /// quality benchmark's table [default: 5000000; 10000000 for quality].
    #[arg(long, env = "KHO_BENCH_ROWS")]
    rows: Option<u64>,
    /// Working directory for the CSV, the data directory and DuckDB's Parquet file
    /// [default: a new directory under the system's temporary directory].
    #[arg(long, env = "KHO_BENCH_DIR", value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Keep the files made in the working directory.
    #[arg(long)]
    keep: bool,
    /// Filtered requests timed on each side.
    #[arg(long, env = "KHO_BENCH_REQUESTS", default_value_t = 200)]
    requests: usize,
    /// Open datasets the portal benchmark seeds.
    #[arg(long, env = "KHO_BENCH_DATASETS", default_value_t = 10_000)]
    datasets: usize,
    /// Runs of the SQL aggregate on each side (the median is reported).
    #[arg(long, env = "KHO_BENCH_RUNS", default_value_t = 5)]
    runs: usize,
    /// Seed of the dataset and of the filter values.
    #[arg(long, env = "KHO_BENCH_SEED", default_value_t = 2025)]
    seed: u64,
    /// The Python that has the `duckdb` package (pip install duckdb).
    #[arg(long, env = "KHO_BENCH_PYTHON", default_value = "python3")]
    python: String,
    /// Seconds of each measured wrk run of the gateway benchmark (each side).
    #[arg(long, env = "KHO_BENCH_DURATION", default_value_t = 10)]
    duration: u64,
    /// Connections wrk keeps open in the gateway benchmark's throughput runs.
    #[arg(long, env = "KHO_BENCH_CONNECTIONS", default_value_t = 32)]
    connections: u32,
    /// wrk's threads in the gateway benchmark's throughput runs.
    #[arg(long, env = "KHO_BENCH_WRK_THREADS", default_value_t = 2)]
    wrk_threads: u32,
    /// Rounds of the gateway benchmark's throughput runs: each round loads every side
    /// once, in turn; each side's median run is compared.
    #[arg(long, env = "KHO_BENCH_ROUNDS", default_value_t = 3)]
    rounds: u32,
}

/// Runs the benchmark (on a blocking thread: it mostly waits for child processes).
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || bench(args)).await.map_err(|e| anyhow!("the benchmark stopped: {e}"))?
}

/// The working directory; what was made in it is removed at the end unless kept.
struct Workdir {
    path: PathBuf,
    created: bool,
    keep: bool,
    made: Vec<PathBuf>,
}

impl Workdir {
    fn new(dir: Option<PathBuf>, keep: bool) -> anyhow::Result<Self> {
        let path = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("kho-bench-{}", std::process::id())));
        let created = !path.exists();
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let path = path.canonicalize()?;
        Ok(Self { path, created, keep, made: Vec::new() })
    }

    /// A path in the directory, removed at the end unless kept.
    fn file(&mut self, name: &str) -> PathBuf {
        let p = self.path.join(name);
        self.made.push(p.clone());
        p
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if self.created {
            let _ = std::fs::remove_dir_all(&self.path);
            return;
        }
        for p in &self.made {
            let _ = if p.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) };
        }
    }
}

/// The same `kho` binary, on the benchmark's own data directory.
struct Kho {
    exe: PathBuf,
    data: PathBuf,
}

impl Kho {
    /// A `kho` command on the benchmark's data directory, whatever KHO_* says.
    fn command<I: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = I>) -> Command {
        let mut c = Command::new(&self.exe);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KHO_") {
                c.env_remove(name);
            }
        }
        c.arg("--data-dir").arg(&self.data).args(args);
        c
    }

    fn run<I: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = I> + Clone) -> anyhow::Result<String> {
        let shown: Vec<String> = args.clone().into_iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let done = process::run(self.command(args), b"")?;
        if !done.success() {
            bail!("kho {} failed: {}", shown.join(" "), done.why());
        }
        Ok(done.stdout)
    }
}

/// DuckDB through the Python package, or why it is not available.
struct DuckDb {
    python: String,
    script: PathBuf,
    version: String,
}

impl DuckDb {
    fn probe(python: &str, script: PathBuf) -> Result<Self, String> {
        std::fs::write(&script, DUCKDB_SIDE).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        let duck = Self { python: python.to_string(), script, version: String::new() };
        let answer = duck.job(&serde_json::json!({"task": "version"})).map_err(|e| format!("{e:#}"))?;
        let version = answer.0["version"].as_str().unwrap_or("?").to_string();
        Ok(Self { version, ..duck })
    }

    /// Runs one job in its own process: its JSON answer, and the process as measured.
    fn job(&self, job: &serde_json::Value) -> anyhow::Result<(serde_json::Value, process::Finished)> {
        let mut c = Command::new(&self.python);
        c.arg(&self.script);
        let done = process::run(c, job.to_string().as_bytes()).with_context(|| self.python.clone())?;
        if !done.success() {
            let why = done.why();
            if why.contains("No module named 'duckdb'") {
                bail!("{} has no duckdb package", self.python);
            }
            bail!("{} {}: {why}", self.python, self.script.display());
        }
        let answer = serde_json::from_str(done.stdout.trim())
            .map_err(|e| anyhow!("the DuckDB script answered something else than JSON ({e}): {}", done.stdout))?;
        Ok((answer, done))
    }
}

/// Milliseconds, seconds and sizes as the report writes them.
fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn grouped(n: u64) -> String {
    let mut out = String::new();
    dataset::push_grouped(&mut out, n, ',');
    out
}

fn ratio(kho: f64, duck: f64) -> String {
    format!("{:.2}×", kho / duck)
}

/// The `p`-th percentile (nearest rank) of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    percentile(&sorted, 0.5)
}

/// A side-by-side table: what, Kho, DuckDB, Kho / DuckDB.
struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    fn new(kho: &str, duck: &str) -> Self {
        Self { rows: vec![[String::new(), kho.into(), duck.into(), "Kho / DuckDB".into()]] }
    }

    fn row(&mut self, what: &str, kho: String, duck: Option<String>, ratio: Option<String>) {
        let duck = duck.unwrap_or_else(|| "not available".into());
        self.rows.push([what.into(), kho, duck, ratio.unwrap_or_else(|| "—".into())]);
    }

    fn print(&self) {
        let width = |i: usize| self.rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0) + 3;
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for r in &self.rows {
            let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
            println!("  {}{}{}{}", pad(&r[0], w0), pad(&r[1], w1), pad(&r[2], w2), r[3]);
        }
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

/// Bytes of the files under `dir`.
fn size_of(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => size_of(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut work = Workdir::new(args.dir.clone(), args.keep)?;
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "Kho benchmark: seed {}, {cpus} CPUs ({} {}); working in {}",
        args.seed,
        std::env::consts::OS,
        std::env::consts::ARCH,
        work.path.display()
    );
    if args.which == Which::Refdata {
        return refdata::run(args.seed);
    }
    if args.which == Which::Gateway {
        return gateway::run(&args, &mut work);
    }
    if args.which == Which::Standardize {
        return standardize::run(args.seed);
    }
    if args.which == Which::Quality {
        let rows = args.rows.unwrap_or(quality::DEFAULT_ROWS);
        return quality::run(rows, args.seed, &args.python, &mut work);
    }
    if args.which != Which::Portal {
        warehouse(&args, &mut work)?;
    }
    if matches!(args.which, Which::All | Which::Portal) {
        let kho = Kho { exe: std::env::current_exe()?, data: work.file("kho-portal-data") };
        portal::run(&mut work, &kho, args.datasets, args.requests, args.seed)?;
    }

    let total = started.elapsed().as_secs_f64();
    println!("\ntotal wall time: {:.0} min {:.1} s ({total:.1} s)", (total / 60.0).floor(), total % 60.0);
    if args.keep {
        println!("kept: {}", work.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The warehouse: ingest and reads, beside DuckDB.
fn warehouse(args: &BenchArgs, work: &mut Workdir) -> anyhow::Result<()> {
    let script = work.file("duckdb_side.py");
    let duck = match DuckDb::probe(&args.python, script) {
        Ok(d) => {
            println!("reference: DuckDB {} (Python package, run by {})", d.version, d.python);
            Some(d)
        }
        Err(why) => {
            println!("reference: DuckDB was not available ({why}); every DuckDB figure below is left out");
            println!("           install it with `pip install duckdb` (or pass --python) to compare");
            None
        }
    };

    // The dataset.
    let rows = args.rows.unwrap_or(WAREHOUSE_ROWS);
    let csv = work.file(&format!("ho-so-{rows}.csv"));
    let t = Instant::now();
    let written = dataset::write(&csv, rows, args.seed).with_context(|| format!("cannot write {}", csv.display()))?;
    println!(
        "dataset: {} rows × {} columns, {:.1} MB CSV ({}), generated in {:.1} s",
        grouped(written.rows),
        dataset::HEADERS.len(),
        written.bytes as f64 / 1e6,
        csv.file_name().unwrap_or_default().to_string_lossy(),
        t.elapsed().as_secs_f64()
    );

    // Kho's data directory with an open resource to load into.
    let kho = Kho { exe: std::env::current_exe()?, data: work.file("kho-data") };
    let province =
        ["agency", "create", "--code", "000.00.00.H24", "--name", "UBND tỉnh Bắc Ninh", "--kind", "province"];
    kho.run(province)?;
    kho.run([
        "resource",
        "create",
        "--title",
        "Hồ sơ thủ tục hành chính 2025 (benchmark)",
        "--agency",
        "000.00.00.H24",
        "--scope",
        "open",
        "--slug",
        SLUG,
        "--theme",
        "hành chính công",
    ])?;

    // Ingest, each side in its own process.
    let ingest =
        process::run(kho.command([OsStr::new("ingest"), csv.as_os_str(), "--resource".as_ref(), SLUG.as_ref()]), b"")?;
    if !ingest.success() {
        bail!("kho ingest failed: {}", ingest.why());
    }
    let kinds = loaded_columns(&ingest.stdout);
    let parquet = work.file("duckdb.parquet");
    let duck_ingest = duck.as_ref().map(|d| duckdb_ingest(d, &csv, &parquet, &kinds)).transpose()?;
    let kho_bytes = size_of(&kho.data.join("objects").join("lake"));
    if args.which != Which::Read {
        report_ingest(&ingest, &kinds, duck_ingest.as_ref(), written.bytes, written.rows, kho_bytes);
    } else {
        println!("\n(the table was loaded in {:.2} s; `kho bench ingest` compares that)", ingest.wall.as_secs_f64());
    }

    if args.which != Which::Ingest {
        kho.run(["resource", "status", SLUG, "published"])?;
        read(args, &kho, duck.as_ref(), &parquet, work)?;
    }
    Ok(())
}

/// What DuckDB's ingest measured.
struct DuckIngest {
    seconds: f64,
    rows: u64,
    process: process::Finished,
    bytes: u64,
    columns: Vec<(String, String)>,
}

/// The columns `kho ingest` reports after "loaded N rows, …": (name, kind) a line.
fn loaded_columns(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

/// DuckDB reads the CSV the way the file is written (`;`, day-first dates, `.`
/// thousands, decimal comma) into the columns Kho made, with the types Kho inferred
/// (DuckDB's own sniffer reads neither `1.250.000` nor `1.234,75` as numbers), and
/// writes Parquet: the same work as Kho's.
fn duckdb_ingest(duck: &DuckDb, csv: &Path, parquet: &Path, kinds: &[(String, String)]) -> anyhow::Result<DuckIngest> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let names: Vec<String> = kinds.iter().map(|(n, _)| quote(n)).collect();
    let types: Vec<String> = kinds
        .iter()
        .map(|(n, kind)| {
            let t = match kind.as_str() {
                "integer" => "BIGINT",
                "decimal" => "DOUBLE",
                "date" => "DATE",
                "boolean" => "BOOLEAN",
                _ => "VARCHAR",
            };
            format!("{}: '{t}'", quote(n))
        })
        .collect();
    let sql = format!(
        "COPY (SELECT * FROM read_csv({}, delim=';', header=true, dateformat='%d/%m/%Y', \
         decimal_separator=',', thousands='.', names=[{}], types={{{}}})) TO {} (FORMAT parquet)",
        quote(&csv.display().to_string()),
        names.join(", "),
        types.join(", "),
        quote(&parquet.display().to_string())
    );
    let job = serde_json::json!({"task": "ingest", "sql": sql, "parquet": parquet.display().to_string()});
    let (answer, process) = duck.job(&job).context("DuckDB's ingest failed")?;
    let columns = answer["columns"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| (c[0].as_str().unwrap_or("").to_string(), c[1].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(DuckIngest {
        seconds: answer["seconds"].as_f64().unwrap_or(f64::NAN),
        rows: answer["rows"].as_u64().unwrap_or(0),
        process,
        bytes: std::fs::metadata(parquet).map(|m| m.len()).unwrap_or(0),
        columns,
    })
}

fn report_ingest(
    kho: &process::Finished,
    kinds: &[(String, String)],
    duck: Option<&DuckIngest>,
    csv_bytes: u64,
    rows: u64,
    kho_bytes: u64,
) {
    let loaded = kho.stdout.lines().find(|l| l.starts_with("loaded ")).unwrap_or("").to_string();
    let loaded_rows: u64 = loaded.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
    let seconds = kho.wall.as_secs_f64();
    println!("\n== ingest: CSV ({:.1} MB, {} rows) → table ==", csv_bytes as f64 / 1e6, grouped(rows));
    let mut t = Table::new("Kho (kho ingest → Delta)", "DuckDB (COPY → Parquet)");
    t.row(
        "time",
        format!("{seconds:.2} s"),
        duck.map(|d| format!("{:.2} s", d.seconds)),
        duck.map(|d| ratio(seconds, d.seconds)),
    );
    let per_s = |s: f64| format!("{} rows/s", grouped((rows as f64 / s) as u64));
    t.row("rows/s", per_s(seconds), duck.map(|d| per_s(d.seconds)), None);
    let mbs = |s: f64| format!("{:.1} MB/s", csv_bytes as f64 / 1e6 / s);
    t.row("throughput", mbs(seconds), duck.map(|d| mbs(d.seconds)), None);
    let rss = kho.peak_rss.unwrap_or(0);
    let duck_rss = duck.and_then(|d| d.process.peak_rss);
    t.row(
        "peak RSS",
        kho.peak_rss.map(mb).unwrap_or_else(|| "unknown".into()),
        duck_rss.map(mb),
        duck_rss.map(|d| ratio(rss as f64, d as f64)),
    );
    t.row("rows read", grouped(loaded_rows), duck.map(|d| grouped(d.rows)), None);
    t.row(
        "output size",
        mb(kho_bytes),
        duck.map(|d| mb(d.bytes)),
        duck.map(|d| ratio(kho_bytes as f64, d.bytes as f64)),
    );
    t.print();
    println!("  Kho: the whole `kho ingest` process, from start to exit (store, load, commit, audit).");
    println!("  DuckDB: the COPY statement alone, timed inside its process; its peak RSS includes Python's.");
    let typed: Vec<String> = kinds
        .iter()
        .filter(|(_, kind)| kind != "text")
        .map(|(name, kind)| {
            let other = duck
                .and_then(|d| d.columns.iter().find(|(n, _)| n == name))
                .map(|(_, t)| format!("/{t}"))
                .unwrap_or_default();
            format!("{name} {kind}{other}")
        })
        .collect();
    println!("  typed columns (Kho/DuckDB): {}", typed.join(", "));
    if let Some(d) = duck {
        if d.rows != loaded_rows {
            println!("  WARNING: Kho loaded {loaded_rows} rows and DuckDB {}", d.rows);
        }
    }
    println!("targets:");
    let label = format!("ingest time ≤ {INGEST_RATIO_TARGET}× DuckDB's");
    match duck {
        Some(d) => {
            let r = seconds / d.seconds;
            target(&label, &format!("{} ({r:.2}×)", verdict(r <= INGEST_RATIO_TARGET)));
        }
        None => target(&label, NOT_COMPARED),
    }
    let pass = verdict(rss < INGEST_RSS_TARGET);
    let label = "peak RSS < 1 GB for a 2 GB CSV";
    if csv_bytes >= INGEST_RSS_FILE {
        target(label, &format!("{pass} ({} on {:.0} MB)", mb(rss), csv_bytes as f64 / 1e6));
    } else {
        // The rows that make a 2 GB file of rows like these, rounded up to a million.
        let millions = (INGEST_RSS_FILE as f64 / (csv_bytes as f64 / rows.max(1) as f64) / 1e6).ceil() as u64;
        let why = format!("{} on {:.0} MB; --rows {millions}000000 makes 2 GB", mb(rss), csv_bytes as f64 / 1e6);
        target(label, &format!("{pass} at this size ({why})"));
    }
}

const NOT_COMPARED: &str = "not compared: DuckDB was not available";

/// One target and how this run fares against it.
fn target(label: &str, outcome: &str) {
    println!("  {label:<36}{outcome}");
}

/// The read benchmark: filtered requests and an SQL aggregate.
fn read(args: &BenchArgs, kho: &Kho, duck: Option<&DuckDb>, parquet: &Path, work: &mut Workdir) -> anyhow::Result<()> {
    // Filter values: communes picked from the seed, the warm-up ones first.
    let units = dataset::admin_units();
    let mut rng = dataset::Rng::new(args.seed ^ 0x5EED_F11E);
    let codes: Vec<String> =
        (0..WARMUP + args.requests).map(|_| units[rng.below(units.len() as u64) as usize].ward_code.clone()).collect();
    let (warm, timed) = codes.split_at(WARMUP);
    let path = |code: &str| {
        format!(
            "/api/v1/resources/{SLUG}/tables/main/rows?ma_xa={}&ngay_nop.gte={SUBMITTED_FROM}&limit={PAGE}",
            http::encode(code)
        )
    };
    let sql = |code: &str| {
        format!("SELECT * FROM t WHERE ma_xa = '{code}' AND ngay_nop >= DATE '{SUBMITTED_FROM}' LIMIT {PAGE}")
    };
    let aggregate = "SELECT ma_tinh, count(*) AS so_ho_so, sum(le_phi_dong) AS tong_le_phi, \
                     count(dien_tich_m2) AS co_dien_tich FROM {table} GROUP BY ma_tinh ORDER BY ma_tinh";

    // Kho: a token for SQL, then the server.
    let password = format!("kho-bench-{:016x}", dataset::Rng::new(args.seed).next_u64());
    let mut reader =
        kho.command(["user", "create", "--username", "bench", "--agency", "000.00.00.H24", "--password-stdin"]);
    reader.args(["--roles", "viewer"]);
    let created = process::run(reader, format!("{password}\n").as_bytes())?;
    if !created.success() {
        bail!("kho user create failed: {}", created.why());
    }
    let token =
        kho.run(["token", "create", "--user", "bench", "--name", "benchmark", "--days", "1"])?.trim().to_string();
    let mut serve = kho.command(Vec::<&str>::new());
    serve.env("KHO_ADMIN_PASSWORD", &password);
    let server = http::Server::start(serve, &work.file("serve.log"))?;
    let mut client = http::Client::new(&server.address);

    let mut kho_counts = Vec::new();
    let mut request = |code: &str, counts: &mut Vec<usize>| -> anyhow::Result<Duration> {
        let t = Instant::now();
        let r = client.send("GET", &path(code), &[], b"")?;
        let elapsed = t.elapsed();
        if r.status != 200 {
            bail!("GET {} answered {}: {}", path(code), r.status, r.text());
        }
        counts.push(r.json()?["items"].as_array().map_or(0, |a| a.len()));
        Ok(elapsed)
    };
    for code in warm {
        request(code, &mut Vec::new())?;
    }
    let mut kho_times = Vec::new();
    for code in timed {
        kho_times.push(request(code, &mut kho_counts)?);
    }
    let auth = format!("Bearer {token}");
    let kho_sql = aggregate.replace("{table}", SQL_TABLE);
    let (kho_agg_times, kho_agg_rows) = kho_aggregate(&mut client, &auth, &kho_sql, args.runs)?;
    let server_rss = server.stop();

    // DuckDB: the same filters and the same SQL on its Parquet file, in one process.
    let duck_read = match duck {
        Some(d) => {
            let job = serde_json::json!({
                "task": "read",
                "parquet": parquet.display().to_string(),
                "warmup": warm.iter().map(|c| sql(c)).collect::<Vec<_>>(),
                "filtered": timed.iter().map(|c| sql(c)).collect::<Vec<_>>(),
                "aggregate": aggregate.replace("{table}", "t"),
                "runs": args.runs,
            });
            let (answer, process) = d.job(&job).context("DuckDB's read failed")?;
            Some((answer, process))
        }
        None => None,
    };
    let seconds = |v: &serde_json::Value| -> Vec<Duration> {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| s.as_f64()).map(Duration::from_secs_f64).collect())
            .unwrap_or_default()
    };

    // Filtered requests.
    let mut sorted = kho_times.clone();
    sorted.sort();
    let duck_sorted = duck_read.as_ref().map(|(a, _)| {
        let mut s = seconds(&a["filtered_seconds"]);
        s.sort();
        s
    });
    println!("\n== read: filtered rows, {} requests after {WARMUP} warm-up (each side) ==", args.requests);
    println!("  Kho:    GET {}", path(&timed[0]).replace(&timed[0], "<commune>"));
    println!("  DuckDB: {}", sql(&timed[0]).replace(&timed[0], "<commune>"));
    let mut t = Table::new("Kho (HTTP API, kho serve)", "DuckDB (Parquet, in process)");
    for (name, p) in [("p50", 0.5), ("p95", 0.95)] {
        let k = percentile(&sorted, p);
        let d = duck_sorted.as_ref().map(|s| percentile(s, p));
        t.row(name, ms(k), d.map(ms), d.map(|d| ratio(k.as_secs_f64(), d.as_secs_f64())));
    }
    let mean_rows = |c: &[usize]| c.iter().sum::<usize>() as f64 / c.len().max(1) as f64;
    let duck_counts: Option<Vec<usize>> = duck_read.as_ref().map(|(a, _)| {
        a["filtered_rows"]
            .as_array()
            .map(|r| r.iter().filter_map(|n| n.as_u64()).map(|n| n as usize).collect())
            .unwrap_or_default()
    });
    t.row(
        "rows a request",
        format!("{:.1}", mean_rows(&kho_counts)),
        duck_counts.as_ref().map(|c| format!("{:.1}", mean_rows(c))),
        None,
    );
    t.row(
        "peak RSS",
        server_rss.map(mb).map(|m| format!("{m} (server)")).unwrap_or_else(|| "unknown".into()),
        duck_read.as_ref().and_then(|(_, p)| p.peak_rss).map(|m| format!("{} (whole read job)", mb(m))),
        None,
    );
    t.print();
    if let Some(c) = &duck_counts {
        let same = c == &kho_counts;
        println!("  rows returned agree on every request: {}", if same { "yes" } else { "NO" });
    }

    // The SQL aggregate.
    println!("\n== read: SQL aggregate, median of {} runs (each side) ==", args.runs);
    println!("  {}", aggregate.replace("{table}", "<table>"));
    let mut t = Table::new("Kho (POST /api/v1/query)", "DuckDB (Parquet, in process)");
    let k = median(&kho_agg_times);
    let duck_agg = duck_read.as_ref().map(|(a, _)| seconds(&a["aggregate_seconds"]));
    let d = duck_agg.as_ref().map(|s| median(s));
    t.row("median", ms(k), d.map(ms), d.map(|d| ratio(k.as_secs_f64(), d.as_secs_f64())));
    let fastest = |s: &[Duration]| s.iter().min().copied().unwrap_or_default();
    t.row("fastest", ms(fastest(&kho_agg_times)), duck_agg.as_ref().map(|s| ms(fastest(s))), None);
    t.row(
        "groups",
        kho_agg_rows.len().to_string(),
        duck_read.as_ref().map(|(a, _)| a["aggregate_rows"].as_array().map_or(0, |r| r.len()).to_string()),
        None,
    );
    t.print();
    if let Some((a, _)) = &duck_read {
        let theirs: Vec<Vec<String>> = serde_json::from_value(a["aggregate_rows"].clone()).unwrap_or_default();
        println!("  results agree: {}", if theirs == kho_agg_rows { "yes" } else { "NO" });
    }

    println!("targets:");
    let p50 = percentile(&sorted, 0.5).as_secs_f64() * 1e3;
    let outcome = format!("{} ({p50:.1} ms)", verdict(p50 < FILTERED_P50_TARGET_MS));
    target(&format!("filtered request p50 < {FILTERED_P50_TARGET_MS} ms"), &outcome);
    let label = format!("SQL aggregate ≤ {AGGREGATE_RATIO_TARGET}× DuckDB's");
    match d {
        Some(d) => {
            let r = k.as_secs_f64() / d.as_secs_f64();
            target(&label, &format!("{} ({r:.2}×)", verdict(r <= AGGREGATE_RATIO_TARGET)));
        }
        None => target(&label, NOT_COMPARED),
    }
    Ok(())
}

/// A result row as text in the columns' order, to compare with DuckDB's.
fn cells(row: &serde_json::Map<String, serde_json::Value>, columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .map(|c| match row.get(c) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        })
        .collect()
}

/// Runs the aggregate through `POST /api/v1/query` as a viewer; the first request
/// is not timed (it warms up, as DuckDB's first run does). The rows come back as text.
fn kho_aggregate(
    client: &mut http::Client,
    auth: &str,
    sql: &str,
    runs: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Vec<String>>)> {
    let body = serde_json::json!({ "sql": sql }).to_string();
    let headers = [("Authorization", auth), ("Content-Type", "application/json")];
    let probe = client.send("POST", "/api/v1/query", &headers, body.as_bytes())?;
    if probe.status != 200 {
        bail!("POST /api/v1/query answered {}: {}", probe.status, probe.text());
    }
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let r = client.send("POST", "/api/v1/query", &headers, body.as_bytes())?;
        times.push(t.elapsed());
        if r.status != 200 {
            bail!("POST /api/v1/query answered {}: {}", r.status, r.text());
        }
        let answer = r.json()?;
        let columns: Vec<String> = answer["columns"]
            .as_array()
            .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).map(String::from).collect())
            .unwrap_or_default();
        rows = answer["rows"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r.as_object()).map(|r| cells(r, &columns)).collect())
            .unwrap_or_default();
    }
    Ok((times, rows))
}
