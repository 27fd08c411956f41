//! `kho bench quality` — a suite of 15 data-quality checks (kiểm tra chất lượng dữ
//! liệu) on a table of citizens (công dân) of 10,000,000 rows, run by Kho's quality
//! engine and by DuckDB on the same Parquet files, side by side in one run.
//!
//! The table is generated here, the same for the same seed: citizen IDs (CCCD) with
//! province prefixes and some duplicates, names with diacritics, birth dates, sex
//! codes, 2025 province codes (some legacy ones), phone numbers and e-mail addresses
//! (some badly written), monthly incomes and update dates, with some cells missing. It
//! is written as a Parquet file (arrow-rs, in chunks of 65,536 rows made in parallel,
//! each from its own generator) and loaded with `Lake::ingest` into a Delta table in
//! a Kho lake under the working directory.
//!
//! Kho's side plans the rules for DataFusion ([`kho_quality::Plan`]) and runs them with
//! the quality service's [`observe`] on that table version, as a quality run does; the
//! DuckDB side runs the same plan written for DuckDB — the same SQL text but for the
//! name of the regular-expression function — over a view, named like the table, of the
//! Delta table's own Parquet files (the ones its log lists). Both results go through
//! [`kho_quality::Plan::results`]; every check must find the same rows failing on both
//! engines, or the run says so and fails: a comparison of different work is worthless.

use super::dataset::{push_person_name, Rng};
use super::{grouped, mb, verdict, DuckDb, Table, Workdir, NOT_COMPARED};
use anyhow::{anyhow, bail, Context};
use chrono::NaiveDate;
use deltalake::arrow::array::{ArrayRef, Date32Builder, Int64Builder, RecordBatch, StringBuilder};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::parquet::arrow::ArrowWriter;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::WriterProperties;
use kho_lake::{IngestOptions, Lake, QueryLimits, QueryTable, TableName};
use kho_quality::{CheckResult, CodeLists, Column, ColumnKind, Dialect, Observed, Plan, RuleSet, TableShape};
use kho_server::services::quality::observe;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Rows when `--rows` is not given: the issue's table.
pub const DEFAULT_ROWS: u64 = 10_000_000;
/// The issue's target: Kho's time at most this many times DuckDB's.
const RATIO_TARGET: f64 = 1.5;
/// Timed runs on each side, after one that is not timed.
const RUNS: usize = 3;
/// The resource (its id in the lake) and the table checked.
const RESOURCE: &str = "benchquality";
const TABLE: &str = "cong_dan";
/// Rows made by one generator.
const CHUNK_ROWS: u64 = 1 << 16;

/// The checks: nulls ×3, unique ×2 (one compound), regex ×2, code list ×2, range ×3,
/// length, freshness of a date column, row count.
const RULES: &str = r#"checks:
  - not_null: so_cccd
  - not_null: ho_ten
  - not_null: ngay_sinh
    threshold: 99.5
  - unique: so_cccd
  - unique: [ho_ten, ngay_sinh, ma_tinh]
    severity: warning
  - regex: { column: so_dien_thoai, pattern: '^(0|\+84)[35789][0-9]{8}$' }
    threshold: 95
  - regex: { column: email, pattern: '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$' }
    threshold: 98
  - code_list: { column: ma_tinh, list: tinh-2025 }
  - code_list: { column: gioi_tinh, list: gioi-tinh }
  - range: { column: thu_nhap, min: 0, max: 1000000000 }
  - range: { column: ngay_sinh, min: '1900-01-01', max: '2025-12-31' }
  - range: { column: ngay_cap_nhat, min: '2020-01-01', max: '2026-12-31' }
  - length: { column: so_cccd, min: 12, max: 12 }
  - freshness: { column: ngay_cap_nhat, within: 30d }
  - row_count: { min: 1000 }
"#;

/// Giới tính — the sex codes: 0 not known, 1 male (nam), 2 female (nữ).
const SEX_CODES: [&str; 3] = ["0", "1", "2"];
/// Mobile prefixes of the 2018 numbering plan, and old 11-digit ones.
const MOBILE: [&str; 10] = ["091", "098", "086", "032", "035", "070", "077", "083", "088", "096"];
const OLD_MOBILE: [&str; 4] = ["0168", "0126", "0123", "0199"];
const MAIL_DOMAINS: [&str; 5] = ["gmail.com", "yahoo.com", "bacninh.gov.vn", "outlook.com", "vnpt.vn"];

/// The columns, in the file's order.
fn schema() -> Arc<Schema> {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        text("so_cccd"),
        text("ho_ten"),
        Field::new("ngay_sinh", DataType::Date32, true),
        text("gioi_tinh"),
        text("ma_tinh"),
        text("so_dien_thoai"),
        text("email"),
        Field::new("thu_nhap", DataType::Int64, true),
        Field::new("ngay_cap_nhat", DataType::Date32, true),
    ]))
}

/// The province codes rows draw from.
struct Provinces {
    /// Legacy (before 2025) codes, as a CCCD's digits 2–3 name the province of birth.
    legacy: Vec<String>,
    /// The 34 codes of 2025: the `tinh-2025` code list.
    current: Vec<String>,
    /// Legacy codes that are not 2025 ones: a register not yet converted.
    retired: Vec<String>,
}

impl Provinces {
    fn new() -> Self {
        let mut legacy: Vec<String> = kho_standard::province_codes().iter().cloned().collect();
        legacy.sort();
        let current: Vec<String> = super::dataset::admin_units()
            .into_iter()
            .map(|u| u.province_code)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let retired = legacy.iter().filter(|c| !current.contains(c)).cloned().collect();
        Self { legacy, current, retired }
    }
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")).num_days() as i32
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Rows `first..end`, made by the chunk's own generator.
fn chunk(p: &Provinces, seed: u64, chunk: u64, first: u64, end: u64) -> RecordBatch {
    use chrono::Datelike;
    let n = (end - first) as usize;
    let mut rng = Rng::new(seed ^ 0xC0C0_DA7A ^ chunk.wrapping_mul(0xA24B_AED4_963E_E407));
    let (mut cccd, mut name, mut born, mut sex) =
        (StringBuilder::new(), StringBuilder::new(), Date32Builder::new(), StringBuilder::new());
    let (mut province, mut phone, mut email) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
    let (mut income, mut updated) = (Int64Builder::new(), Date32Builder::new());
    let (first_birth, last_birth) = (days(date(1935, 1, 1)), days(date(2007, 12, 31)));
    let (first_update, last_update) = (days(date(2024, 1, 1)), days(date(2026, 11, 15)));
    // IDs seen lately: a citizen registered twice reappears with the same CCCD.
    let mut recent: Vec<String> = Vec::with_capacity(1024);
    let mut full = String::new();
    for _ in 0..n {
        full.clear();
        push_person_name(&mut rng, &mut full);
        let female = if full.contains(" Thị ") {
            true
        } else if full.contains(" Văn ") {
            false
        } else {
            rng.below(2) == 1
        };
        let birth = first_birth + rng.below((last_birth - first_birth) as u64) as i32;
        let birth_date = NaiveDate::from_num_days_from_ce_opt(birth + 719_163).expect("a date");

        // Số CCCD: 0, the province of birth, century and sex, the year, six digits.
        let id = if !recent.is_empty() && rng.below(250) == 0 {
            recent[rng.below(recent.len() as u64) as usize].clone()
        } else {
            let pp = &p.legacy[rng.below(p.legacy.len() as u64) as usize];
            let century = if birth_date.year() >= 2000 { 2 } else { 0 } + u8::from(female);
            format!("0{pp}{century}{:02}{:06}", birth_date.year() % 100, rng.below(1_000_000))
        };
        if recent.len() < 1024 {
            recent.push(id.clone());
        } else {
            let slot = rng.below(1024) as usize;
            recent[slot] = id.clone();
        }
        match rng.below(1000) {
            0..=2 => cccd.append_null(),
            3..=4 => cccd.append_value(format!("{} {} {}", &id[..3], &id[3..6], &id[6..])),
            5 => cccd.append_value(&id[3..]),
            _ => cccd.append_value(&id),
        }

        // Họ và tên.
        match rng.below(2000) {
            0..=1 => name.append_null(),
            2 => name.append_value(" "),
            _ => name.append_value(&full),
        }

        // Ngày sinh: a few missing, a few typed wrong (a year in the future, or 18xx).
        match rng.below(2000) {
            0..=3 => born.append_null(),
            4 => born.append_value(days(date(2031, 1 + rng.below(12) as u32, 1))),
            5 => born.append_value(days(date(1880 + rng.below(19) as i32, 6, 15))),
            _ => born.append_value(birth),
        }

        // Giới tính.
        match rng.below(2000) {
            0 => sex.append_null(),
            1..=2 => sex.append_value(SEX_CODES[0]),
            3..=4 => sex.append_value(if female { "Nữ" } else { "Nam" }),
            _ => sex.append_value(if female { SEX_CODES[2] } else { SEX_CODES[1] }),
        }

        // Mã tỉnh of residence: 2025 codes, some legacy ones not converted.
        if rng.below(200) == 0 {
            province.append_value(&p.retired[rng.below(p.retired.len() as u64) as usize]);
        } else {
            province.append_value(&p.current[rng.below(p.current.len() as u64) as usize]);
        }

        // Số điện thoại.
        let digits = format!("{:07}", rng.below(10_000_000));
        match rng.below(100) {
            0 => phone.append_null(),
            1..=2 => phone.append_value(format!("{}{digits}", OLD_MOBILE[rng.below(4) as usize])),
            3 => {
                let number = format!("{}{digits}", MOBILE[rng.below(MOBILE.len() as u64) as usize]);
                phone.append_value(format!("{} {} {}", &number[..4], &number[4..7], &number[7..]));
            }
            4..=6 => {
                let number = format!("{}{digits}", MOBILE[rng.below(MOBILE.len() as u64) as usize]);
                phone.append_value(format!("+84{}", &number[1..]));
            }
            _ => phone.append_value(format!("{}{digits}", MOBILE[rng.below(MOBILE.len() as u64) as usize])),
        }

        // Thư điện tử: about half have one; a few are written wrong.
        let address = || {
            let local: String = kho_vn::fold(&full).chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            (local, birth_date.year() % 100)
        };
        match rng.below(200) {
            0..=89 => email.append_null(),
            90 => {
                let (local, yy) = address();
                email.append_value(format!("{local}{yy:02}.gmail.com"));
            }
            91 => {
                let (local, yy) = address();
                email.append_value(format!("{}{yy:02}@Gmail.com ", local.to_uppercase()));
            }
            _ => {
                let (local, yy) = address();
                let domain = MAIL_DOMAINS[rng.below(MAIL_DOMAINS.len() as u64) as usize];
                email.append_value(format!("{local}{yy:02}@{domain}"));
            }
        }

        // Thu nhập (đồng a month): most under 20 million, a few missing, negative or
        // with zeros too many.
        let thousands = match rng.below(20) {
            0..=9 => 2_000 + rng.below(8_000),
            10..=16 => 10_000 + rng.below(20_000),
            17..=18 => 30_000 + rng.below(70_000),
            _ => 100_000 + rng.below(400_000),
        } as i64;
        match rng.below(2000) {
            0..=39 => income.append_null(),
            40..=41 => income.append_value(-thousands * 1_000),
            42 => income.append_value(thousands * 1_000_000),
            _ => income.append_value(thousands * 1_000),
        }

        // Ngày cập nhật: the day the record was last changed.
        match rng.below(2000) {
            0..=1 => updated.append_value(days(date(1900, 1, 1))),
            _ => updated.append_value(first_update + rng.below((last_update - first_update + 1) as u64) as i32),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(cccd.finish()),
        Arc::new(name.finish()),
        Arc::new(born.finish()),
        Arc::new(sex.finish()),
        Arc::new(province.finish()),
        Arc::new(phone.finish()),
        Arc::new(email.finish()),
        Arc::new(income.finish()),
        Arc::new(updated.finish()),
    ];
    RecordBatch::try_new(schema(), columns).expect("the columns fit the schema")
}

/// Writes `rows` citizens to a Parquet file, a few chunks at a time in parallel.
fn write_parquet(path: &Path, rows: u64, seed: u64, p: &Provinces) -> anyhow::Result<u64> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(file, schema(), Some(properties))?;
    let chunks = rows.div_ceil(CHUNK_ROWS);
    let workers = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1);
    let mut next = 0;
    while next < chunks {
        let round: Vec<u64> = (next..chunks.min(next + workers)).collect();
        let made: Vec<RecordBatch> = std::thread::scope(|s| {
            let handles: Vec<_> = round
                .iter()
                .map(|&c| {
                    s.spawn(move || {
                        let first = c * CHUNK_ROWS;
                        chunk(p, seed, c, first, (first + CHUNK_ROWS).min(rows))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a generator thread finished")).collect()
        });
        for batch in &made {
            writer.write(batch)?;
        }
        next += round.len() as u64;
    }
    writer.close()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The Parquet files of the table's version as its Delta log lists them (a table
/// loaded once: its first commit adds them all).
fn delta_files(table_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let log = table_dir.join("_delta_log").join(format!("{:020}.json", 0));
    let text = std::fs::read_to_string(&log).with_context(|| format!("cannot read {}", log.display()))?;
    let base =
        url::Url::from_directory_path(table_dir).map_err(|_| anyhow!("{} is not absolute", table_dir.display()))?;
    let mut files = Vec::new();
    for line in text.lines() {
        let action: serde_json::Value = serde_json::from_str(line)?;
        if let Some(path) = action["add"]["path"].as_str() {
            // Delta writes the path relative to the table and URL-encoded.
            let file = base.join(path)?.to_file_path().map_err(|_| anyhow!("{path} is not a local file"))?;
            files.push(file);
        }
    }
    if files.is_empty() {
        bail!("the Delta log {} adds no file", log.display());
    }
    Ok(files)
}

/// A memory figure of this process from /proc/self/status (`VmHWM`: the peak
/// resident memory; `VmRSS`: the present one), in bytes.
fn own_memory(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Starts counting the peak resident memory again from the present (Linux).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// One query as a quality run sends it to the warehouse.
async fn kho_query(lake: &Lake, sql: &str, tables: &[QueryTable], limits: QueryLimits) -> anyhow::Result<()> {
    let checked = kho_lake::query::check_allowing_bare_names(sql)?;
    lake.query(checked, tables, limits).await?;
    Ok(())
}

/// DataFusion's `EXPLAIN ANALYZE` of each statement, in a session set up as
/// `Lake::query` sets its own (two partitions, the same memory limit, no spill): where
/// Kho's time goes, operator by operator. Asked for with `KHO_BENCH_EXPLAIN=1`.
async fn explain(lake: &Lake, statements: &[&str], version: i64, limits: QueryLimits) -> anyhow::Result<()> {
    use deltalake::datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
    use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use deltalake::datafusion::prelude::{SessionConfig, SessionContext};
    let runtime_env = RuntimeEnvBuilder::new()
        .with_memory_limit(limits.memory_bytes, 1.0)
        .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled))
        .build_arc()?;
    let config = SessionConfig::new().with_information_schema(false).with_target_partitions(2);
    let ctx = SessionContext::new_with_config_rt(config, runtime_env);
    let snapshot = lake.snapshot(RESOURCE, TABLE, Some(version)).await?;
    snapshot.update_datafusion_session(&ctx.state())?;
    ctx.register_table(TABLE, snapshot.table_provider().await?)?;
    for sql in statements {
        let batches = ctx.sql(&format!("EXPLAIN ANALYZE {sql}")).await?.collect().await?;
        let text = deltalake::arrow::util::pretty::pretty_format_batches(&batches)?;
        println!("\n  EXPLAIN ANALYZE (DataFusion) {sql}\n{text}");
    }
    Ok(())
}

/// What the Kho side measured.
struct KhoRun {
    seconds: Vec<f64>,
    results: Vec<CheckResult>,
    now: chrono::DateTime<chrono::Utc>,
    /// Each statement's fastest time: the aggregate, then each other query.
    statement_seconds: Vec<f64>,
    peak_rss: Option<u64>,
    /// Resident memory when the checks started.
    start_rss: Option<u64>,
}

async fn kho_side(lake: &Lake, plan: &Plan, tables: &[QueryTable]) -> anyhow::Result<KhoRun> {
    let limits = kho_server::Settings::default().quality_limits();
    let reset = reset_peak_rss();
    let start_rss = own_memory("VmRSS:");
    // One run that is not timed, as on DuckDB's side.
    observe(lake, plan, tables, limits).await?;
    let mut seconds = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let observed = observe(lake, plan, tables, limits).await?;
        let results = plan.results(&observed);
        seconds.push(t.elapsed().as_secs_f64());
        last = Some((observed, results));
    }
    let (observed, results) = last.expect("at least one run");
    if let Some((i, r)) = results.iter().enumerate().find(|(_, r)| r.error.is_some()) {
        bail!("Kho could not run check {} ({}): {}", i + 1, r.check, r.error.as_deref().unwrap_or(""));
    }
    // Each statement on its own, for where the time goes.
    let statements: Vec<&str> =
        std::iter::once(plan.aggregate_sql()).chain(plan.queries().into_iter().map(|(_, sql)| sql)).collect();
    let mut statement_seconds = Vec::new();
    for sql in statements {
        let mut fastest = f64::INFINITY;
        for _ in 0..RUNS {
            let t = Instant::now();
            kho_query(lake, sql, tables, limits).await?;
            fastest = fastest.min(t.elapsed().as_secs_f64());
        }
        statement_seconds.push(fastest);
    }
    let peak_rss = if reset { own_memory("VmHWM:") } else { None };
    if std::env::var_os("KHO_BENCH_EXPLAIN").is_some_and(|v| !v.is_empty() && v != "0") {
        let statements: Vec<&str> =
            std::iter::once(plan.aggregate_sql()).chain(plan.queries().into_iter().map(|(_, sql)| sql)).collect();
        explain(lake, &statements, tables[0].version.unwrap_or(1), limits).await?;
    }
    Ok(KhoRun { seconds, results, now: observed.now, statement_seconds, peak_rss, start_rss })
}

/// What the DuckDB side measured.
struct DuckRun {
    seconds: f64,
    runs: Vec<f64>,
    results: Vec<CheckResult>,
    statement_seconds: Vec<f64>,
    peak_rss: Option<u64>,
}

fn duck_side(
    duck: &DuckDb,
    plan: &Plan,
    files: &[PathBuf],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<DuckRun> {
    let queries = plan.queries();
    let statements: Vec<&str> =
        std::iter::once(plan.aggregate_sql()).chain(queries.iter().map(|(_, sql)| *sql)).collect();
    let job = serde_json::json!({
        "task": "sql",
        "parquet": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "view": TABLE,
        "statements": statements,
        "runs": RUNS,
    });
    let (answer, process) = duck.job(&job).context("DuckDB's checks failed")?;
    let first_row = |k: usize| -> serde_json::Map<String, serde_json::Value> {
        answer["rows"][k][0].as_object().cloned().unwrap_or_default()
    };
    let mut observed = Observed::at(now);
    observed.aggregate = first_row(0);
    for (k, (i, _)) in queries.iter().enumerate() {
        observed.queries.insert(*i, first_row(k + 1));
    }
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array().map(|a| a.iter().filter_map(|s| s.as_f64()).collect()).unwrap_or_default()
    };
    Ok(DuckRun {
        seconds: answer["seconds"].as_f64().ok_or_else(|| anyhow!("DuckDB's answer has no time: {answer}"))?,
        runs: numbers(&answer["runs"]),
        results: plan.results(&observed),
        statement_seconds: numbers(&answer["statement_seconds"]),
        // Its own peak (VmHWM); wait4's ru_maxrss would include this process's memory,
        // which a child started by fork and exec inherits as its starting peak.
        peak_rss: answer["peak_rss"].as_u64().or(process.peak_rss),
    })
}

/// The comparable part of a result: rows checked and failing, and what was seen.
fn outcome(r: &CheckResult) -> (u64, u64, Option<&str>) {
    (r.checked, r.failed, r.observed.as_deref())
}

fn secs(s: f64) -> String {
    format!("{s:.3} s")
}

fn list_secs(s: &[f64]) -> String {
    s.iter().map(|s| format!("{s:.3}")).collect::<Vec<_>>().join(", ")
}

pub fn run(rows: u64, seed: u64, python: &str, work: &mut Workdir) -> anyhow::Result<ExitCode> {
    let rules = RuleSet::parse(RULES).map_err(|e| anyhow!("the benchmark's rules: {e}"))?;
    println!("\n== quality: {} checks on a table of {} rows, Kho against DuckDB ==", rules.checks.len(), grouped(rows));
    if cfg!(debug_assertions) {
        println!("  (a debug build: its figures say little about a release build)");
    }
    let duck = match DuckDb::probe(python, work.file("duckdb_side.py")) {
        Ok(d) => {
            println!("  reference: DuckDB {} (Python package, run by {})", d.version, d.python);
            Some(d)
        }
        Err(why) => {
            println!("  reference: DuckDB was not available ({why}); Kho's figures are not compared");
            println!("             install it with `pip install duckdb` (or pass --python) to compare");
            None
        }
    };

    // The table: generated as Parquet, then loaded into a Kho lake.
    let provinces = Provinces::new();
    let source = work.file(&format!("cong-dan-{rows}.parquet"));
    let t = Instant::now();
    let bytes = write_parquet(&source, rows, seed, &provinces)?;
    println!(
        "  table {TABLE} (công dân): {} rows × {} columns, generated in Rust (arrow-rs) as {} of Parquet in {:.1} s",
        grouped(rows),
        schema().fields().len(),
        mb(bytes),
        t.elapsed().as_secs_f64()
    );
    let data = work.file("kho-quality-data");
    std::fs::create_dir_all(&data)?;
    let objects = data.join("objects");
    let lake_url =
        url::Url::from_directory_path(&objects).map_err(|_| anyhow!("{} is not absolute", objects.display()))?;
    let lake = Lake::new(lake_url.as_str())?;
    let handle = tokio::runtime::Handle::current();
    let t = Instant::now();
    let options = IngestOptions {
        loaded_by: "bench".into(),
        source_name: source.file_name().unwrap_or_default().to_string_lossy().into_owned(),
        ..Default::default()
    };
    let report = handle.block_on(lake.ingest(RESOURCE, TABLE, &source, options, |_| {}))?;
    let (version, columns) = handle.block_on(lake.arrow_columns(RESOURCE, TABLE, None))?;
    let table_dir = objects.join("lake").join(RESOURCE).join(TABLE);
    let files = delta_files(&table_dir)?;
    let table_bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    println!(
        "  loaded with Lake::ingest in {:.1} s: version {version}, {} rows, {} Parquet file(s) of {} in all \
         (both engines read these)",
        t.elapsed().as_secs_f64(),
        grouped(report.rows),
        files.len(),
        mb(table_bytes)
    );
    let shape = TableShape::new(
        TABLE,
        columns.iter().map(|(name, ty)| Column::new(name, ColumnKind::from_arrow_name(ty))).collect(),
    );
    let kinds: Vec<String> = shape.columns.iter().map(|c| format!("{} {}", c.name, c.kind.as_str())).collect();
    println!("  columns: {}", kinds.join(", "));
    rules.check_against(&shape).map_err(|e| anyhow!("the benchmark's rules do not fit the table: {e}"))?;

    // The rules and the code lists they name.
    println!("  rules (YAML):");
    for line in RULES.lines() {
        println!("    {line}");
    }
    let mut code_lists = CodeLists::new();
    code_lists.insert(("tinh-2025".into(), None), provinces.current.clone());
    code_lists.insert(("gioi-tinh".into(), None), SEX_CODES.iter().map(|c| c.to_string()).collect());
    println!(
        "  code lists: tinh-2025 = the {} province codes of 2025 ({}, …, {}); gioi-tinh = {}",
        provinces.current.len(),
        provinces.current[0],
        provinces.current[provinces.current.len() - 1],
        SEX_CODES.join(", ")
    );
    let kho_plan = Plan::new(&rules, &shape, &code_lists, Dialect::DataFusion).map_err(|e| anyhow!(e))?;
    let duck_plan = Plan::new(&rules, &shape, &code_lists, Dialect::DuckDb).map_err(|e| anyhow!(e))?;
    let row_checks = rules.checks.len() - kho_plan.queries().len();
    println!(
        "  SQL: one aggregate pass for {row_checks} checks, and a query for each of the {} uniqueness checks; the \
         same text for both engines but the regex function (regexp_like / regexp_matches)",
        kho_plan.queries().len()
    );
    println!("  aggregate (DataFusion): {}", kho_plan.aggregate_sql());
    for (i, sql) in kho_plan.queries() {
        println!("  check {}: {sql}", i + 1);
    }

    // Kho, then DuckDB.
    let tables = [QueryTable {
        name: TableName { schema: String::new(), table: TABLE.into() },
        resource_id: RESOURCE.into(),
        table: TABLE.into(),
        version: Some(version),
    }];
    // The files just written go to disk before anything is timed, so that neither
    // side's runs share the machine with their writeback.
    #[cfg(unix)]
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe {
        libc::sync()
    };
    let kho = handle.block_on(kho_side(&lake, &kho_plan, &tables))?;
    let duck_run = duck.as_ref().map(|d| duck_side(d, &duck_plan, &files, kho.now)).transpose()?;

    // What each engine found.
    println!(
        "\n  {:<47}{:>12}{:>16}{:>17}  {:<7}seen",
        "check", "rows checked", "failed (Kho)", "failed (DuckDB)", "passed"
    );
    let mut disagree = Vec::new();
    for (i, k) in kho.results.iter().enumerate() {
        let d = duck_run.as_ref().map(|d| &d.results[i]);
        let same = d.is_none_or(|d| outcome(d) == outcome(k) && d.passed == k.passed);
        if !same {
            disagree.push(i);
        }
        let seen = match (k.observed.as_deref(), d.and_then(|d| d.observed.as_deref())) {
            (Some(a), Some(b)) if a != b => format!("{a} / DuckDB: {b}"),
            (Some(a), _) => a.to_string(),
            _ => String::new(),
        };
        println!(
            "  {:>2} {:<44}{:>12}{:>16}{:>17}  {}{}",
            i + 1,
            k.check,
            grouped(k.checked),
            grouped(k.failed),
            d.map(|d| grouped(d.failed)).unwrap_or_else(|| "—".into()),
            format!("{:<7}{seen}", if k.passed { "yes" } else { "no" }).trim_end(),
            if same { "" } else { "   <-- MISMATCH" }
        );
    }
    if duck_run.is_some() {
        if disagree.is_empty() {
            println!("  the engines agree on every check: yes ({} of {})", kho.results.len(), kho.results.len());
        } else {
            println!(
                "  MISMATCH: the engines disagree on {} check(s): {} — the comparison below is of different work",
                disagree.len(),
                disagree.iter().map(|i| kho.results[*i].check.clone()).collect::<Vec<_>>().join(", ")
            );
        }
    }

    // Where the time goes.
    println!("\n  per query, fastest of {RUNS} (each side)");
    let mut t = Table::new("Kho (DataFusion)", "DuckDB");
    let names = std::iter::once(format!("aggregate ({row_checks} checks)"))
        .chain(kho_plan.queries().into_iter().map(|(i, _)| kho.results[i].check.clone()));
    for (k, name) in names.enumerate() {
        let ks = kho.statement_seconds[k];
        let ds = duck_run.as_ref().and_then(|d| d.statement_seconds.get(k).copied());
        t.row(&name, secs(ks), ds.map(secs), ds.map(|d| super::ratio(ks, d)));
    }
    t.print();

    let best = kho.seconds.iter().copied().fold(f64::INFINITY, f64::min);
    println!("\n  the suite, best of {RUNS} after one untimed run (each side)");
    let mut t = Table::new("Kho (observe → DataFusion)", "DuckDB (Python package)");
    t.row("rows", grouped(rows), duck_run.as_ref().map(|_| grouped(rows)), None);
    t.row("checks", rules.checks.len().to_string(), duck_run.as_ref().map(|_| rules.checks.len().to_string()), None);
    t.row(
        "time",
        secs(best),
        duck_run.as_ref().map(|d| secs(d.seconds)),
        duck_run.as_ref().map(|d| super::ratio(best, d.seconds)),
    );
    t.row("runs (s)", list_secs(&kho.seconds), duck_run.as_ref().map(|d| list_secs(&d.runs)), None);
    t.row(
        "peak RSS",
        match (kho.peak_rss, kho.start_rss) {
            (Some(peak), Some(start)) => format!("{} (this process; {} before the checks)", mb(peak), mb(start)),
            (Some(peak), None) => format!("{} (this process)", mb(peak)),
            _ => "unknown".into(),
        },
        duck_run.as_ref().and_then(|d| d.peak_rss).map(|b| format!("{} (its process, Python too)", mb(b))),
        None,
    );
    t.print();
    println!(
        "  Kho: kho_server::services::quality::observe on the table version and Plan::results, as a quality run does."
    );
    println!("  DuckDB: the same statements over a view of the same Parquet files, timed inside its process.");

    println!("targets:");
    let label = format!("{} checks on {} rows ≤ {RATIO_TARGET}× DuckDB's time", rules.checks.len(), grouped(rows));
    match &duck_run {
        Some(d) => {
            let r = best / d.seconds;
            let why = format!("{r:.2}×: Kho {best:.3} s, DuckDB {:.3} s", d.seconds);
            println!("  {label}   {} ({why})", verdict(r <= RATIO_TARGET));
        }
        None => println!("  {label}   {NOT_COMPARED}"),
    }
    if !disagree.is_empty() {
        eprintln!("kho bench quality: the engines disagree on {} check(s); see MISMATCH above", disagree.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Array, StringArray};

    #[test]
    fn the_suite_has_the_fifteen_checks_the_target_names() {
        let rules = RuleSet::parse(RULES).unwrap();
        let kinds: Vec<&str> = rules.checks.iter().map(|c| c.rule.kind()).collect();
        let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
        assert_eq!(rules.checks.len(), 15);
        assert_eq!(
            [count("not_null"), count("unique"), count("regex"), count("code_list"), count("range")],
            [3, 2, 2, 2, 3]
        );
        assert_eq!([count("length"), count("freshness"), count("row_count")], [1, 1, 1]);
    }

    #[test]
    fn the_same_seed_makes_the_same_rows_with_their_defects() {
        let p = Provinces::new();
        assert_eq!(p.current.len(), 34);
        assert!(!p.retired.is_empty());
        let a = chunk(&p, 7, 3, 0, 5_000);
        assert_eq!(a, chunk(&p, 7, 3, 0, 5_000));
        assert_ne!(a, chunk(&p, 8, 3, 0, 5_000));
        let ids = a.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        let well_formed = ids.iter().flatten().filter(|id| id.len() == 12 && id.starts_with('0')).count();
        assert!(well_formed > 4_900 && well_formed < 5_000, "{well_formed}");
        assert!(ids.null_count() > 0);
        let distinct: BTreeSet<&str> = ids.iter().flatten().collect();
        assert!(distinct.len() < ids.len() - ids.null_count(), "some citizens are registered twice");
    }
}
