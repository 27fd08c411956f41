//! `kho bench refdata` — converting legacy addresses and codes to the 2025
//! administrative units (`kho_refdata`), in this process. It writes 100,000 free-text
//! addresses from the legacy list the way offices typed them — with and without
//! diacritics, type words in full or abbreviated (`P.`, `TP`, `P.Tân Mỹ`), the
//! district sometimes left out, a house number, street or hamlet in front — the same
//! for the same seed, then times `convert_address` on each and `convert_code` on every
//! legacy commune code.
//!
//! Then it looks codes up as of a date in the `admin-units` code list (danh mục dùng
//! chung) through the service (`Kho::lookup_code`), in this process, on a fresh store
//! in a temporary directory: random dates from 2020 to 2026, each with a code of the
//! version in force that day (codes are reused, so the date decides the answer).
//!
//! There is no external reference to compare with: no other converter runs beside
//! it, and the figures are judged against the target alone. Each address is also
//! checked against the conversion of the commune it was written from, so the run
//! says how many were answered the same, listed as candidates or not found.

use super::{dataset::Rng, grouped, percentile, verdict};
use kho_refdata::{AdminUnits, Kind, LegacyCommune};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Addresses converted, and the target for them.
const ADDRESSES: usize = 100_000;
const TARGET_SECS: f64 = 10.0;
/// Code lookups as of a date, and the target for their p99.
const LOOKUPS: usize = 100_000;
const LOOKUP_TARGET_MS: f64 = 1.0;

const STREETS: &[&str] = &[
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Hùng Vương",
    "Lý Thường Kiệt",
    "Hai Bà Trưng",
    "Nguyễn Văn Cừ",
    "Trần Phú",
    "Lê Duẩn",
    "Điện Biên Phủ",
];
/// Thôn, xóm, tổ, ấp, khu phố — the hamlet or block an address may start with.
const HAMLETS: &[&str] = &["Thôn", "Xóm", "Tổ", "Ấp", "Khu phố"];

/// Type words (folded) and their abbreviations; `thi xa` before `xa`.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("thi tran", "TT"),
    ("thi xa", "TX"),
    ("thanh pho", "TP"),
    ("phuong", "P"),
    ("xa", "X"),
    ("quan", "Q"),
    ("huyen", "H"),
    ("tinh", "T"),
];

/// How a type word is written in one address.
#[derive(Clone, Copy)]
enum TypeWord {
    /// `Phường Tân Mỹ`
    Full,
    /// `P. Tân Mỹ`
    DotSpace,
    /// `P.Tân Mỹ`
    Dot,
    /// `P Tân Mỹ`
    Space,
    /// `Tân Mỹ`
    Omitted,
}

/// `name` written with its type word as `style` says.
fn typed(name: &str, style: TypeWord) -> String {
    let folded = kho_vn::fold(name);
    let Some((ty, abbreviation)) =
        ABBREVIATIONS.iter().find(|(ty, _)| folded.strip_prefix(ty).is_some_and(|rest| rest.starts_with(' ')))
    else {
        return name.to_string();
    };
    let bare: String = name.split_whitespace().skip(ty.split(' ').count()).collect::<Vec<_>>().join(" ");
    match style {
        TypeWord::Full => name.to_string(),
        TypeWord::DotSpace => format!("{abbreviation}. {bare}"),
        TypeWord::Dot => format!("{abbreviation}.{bare}"),
        TypeWord::Space => format!("{abbreviation} {bare}"),
        TypeWord::Omitted => bare,
    }
}

fn style(rng: &mut Rng) -> TypeWord {
    match rng.below(100) {
        0..50 => TypeWord::Full,
        50..70 => TypeWord::DotSpace,
        70..85 => TypeWord::Dot,
        _ => TypeWord::Space,
    }
}

/// One address for the legacy commune `c`.
fn address(rng: &mut Rng, c: &LegacyCommune) -> String {
    let mut parts = Vec::with_capacity(5);
    match rng.below(10) {
        0..3 => {}
        3..7 => parts.push(format!("{} {}", 1 + rng.below(300), STREETS[rng.below(STREETS.len() as u64) as usize])),
        7..9 => parts.push(format!("{} {}", HAMLETS[rng.below(HAMLETS.len() as u64) as usize], 1 + rng.below(12))),
        _ => parts.push(format!(
            "Số {}, ngõ {}, đường {}",
            1 + rng.below(200),
            1 + rng.below(50),
            STREETS[rng.below(STREETS.len() as u64) as usize]
        )),
    }
    let s = style(rng);
    parts.push(typed(&c.name, s));
    if rng.below(5) > 0 {
        let s = style(rng);
        parts.push(typed(&c.district_name, s));
    }
    let s = if rng.below(10) < 3 { TypeWord::Omitted } else { style(rng) };
    parts.push(typed(&c.province_name, s));
    let text = parts.join(if rng.below(10) == 0 { " - " } else { ", " });
    match rng.below(20) {
        0..6 => kho_vn::fold(&text),
        6 => text.to_uppercase(),
        _ => text,
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Runs the benchmark and prints its report.
pub fn run(seed: u64) -> anyhow::Result<ExitCode> {
    println!("\n== refdata: {} free-text legacy addresses → 2025 administrative units ==", grouped(ADDRESSES as u64));
    if cfg!(debug_assertions) {
        println!("  (a debug build: its figures say little about a release build)");
    }
    let t = Instant::now();
    let units = AdminUnits::embedded();
    let load = t.elapsed();
    let communes = units.legacy_communes();
    println!(
        "  lists: {} 2025 units, {} legacy communes; parsed and indexed in {:.1} ms",
        grouped(units.units_2025().len() as u64),
        grouped(communes.len() as u64),
        load.as_secs_f64() * 1e3
    );

    let mut rng = Rng::new(seed ^ 0x00AD_D8E5);
    let picks: Vec<usize> = (0..ADDRESSES).map(|_| rng.below(communes.len() as u64) as usize).collect();
    let texts: Vec<String> = picks.iter().map(|&i| address(&mut rng, &communes[i])).collect();
    println!("  e.g. {:?}", texts[0]);
    println!("       {:?}", texts[1]);

    let mut times = Vec::with_capacity(ADDRESSES);
    let mut answers = Vec::with_capacity(ADDRESSES);
    let all = Instant::now();
    for text in &texts {
        let t = Instant::now();
        let c = units.convert_address(text);
        times.push(t.elapsed());
        answers.push(c);
    }
    let total = all.elapsed();
    times.sort();

    let mut code_times = Vec::with_capacity(communes.len());
    let codes = Instant::now();
    let by_code: Vec<_> = communes
        .iter()
        .map(|c| {
            let t = Instant::now();
            let answer = units.convert_code(&c.code);
            code_times.push(t.elapsed());
            answer
        })
        .collect();
    let codes_total = codes.elapsed();
    code_times.sort();

    // How the addresses fared against the conversion of the commune each was written from.
    let (mut same, mut candidates, mut not_found, mut other) = (0u64, 0u64, 0u64, 0u64);
    for (answer, &i) in answers.iter().zip(&picks) {
        let expected = &by_code[i];
        if answer.unit.is_some() && answer.unit == expected.unit {
            same += 1;
        } else if answer.kind == Kind::SplitCandidates
            && expected.candidates.iter().all(|u| answer.candidates.contains(u))
        {
            candidates += 1;
        } else if answer.kind == Kind::NotFound {
            not_found += 1;
        } else {
            other += 1;
        }
    }
    let share = |n: u64| format!("{} ({:.1} %)", grouped(n), n as f64 * 100.0 / ADDRESSES as f64);

    println!("  reference: none — no other converter runs beside Kho; the figures are judged against the target alone");
    println!("  {:<44}{:>12}{:>12}{:>12}", "", "total", "p50", "p99");
    println!(
        "  {:<44}{:>12}{:>12}{:>12}",
        format!("convert_address × {}", grouped(ADDRESSES as u64)),
        format!("{:.3} s", total.as_secs_f64()),
        micros(percentile(&times, 0.5)),
        micros(percentile(&times, 0.99))
    );
    println!(
        "  {:<44}{:>12}{:>12}{:>12}",
        format!("convert_code × {} (every legacy code)", grouped(communes.len() as u64)),
        format!("{:.3} s", codes_total.as_secs_f64()),
        micros(percentile(&code_times, 0.5)),
        micros(percentile(&code_times, 0.99))
    );
    println!("  addresses answered as their commune's code: {}", share(same));
    println!("  listed as candidates (commune among them):  {}", share(candidates));
    println!("  not found:                                  {}", share(not_found));
    println!("  other answers:                              {}", share(other));
    let lookup_p99 = code_lookups(seed)?;
    println!("targets:");
    super::target(
        &format!("{} addresses < {TARGET_SECS:.0} s", grouped(ADDRESSES as u64)),
        &format!("{} ({:.3} s)", verdict(total.as_secs_f64() < TARGET_SECS), total.as_secs_f64()),
    );
    let p99_ms = lookup_p99.as_secs_f64() * 1e3;
    super::target(
        &format!("code as of a date: p99 < {LOOKUP_TARGET_MS:.0} ms"),
        &format!("{} ({:.3} ms)", verdict(p99_ms < LOOKUP_TARGET_MS), p99_ms),
    );
    Ok(ExitCode::SUCCESS)
}

/// Looks codes of `admin-units` up as of random dates through the service; prints the
/// figures and returns the p99.
fn code_lookups(seed: u64) -> anyhow::Result<Duration> {
    use chrono::NaiveDate;
    use kho_server::services::codelists::{reform_day, ADMIN_UNITS};
    let dir = tempfile::tempdir()?;
    let settings = kho_server::Settings::for_data_dir(dir.path());
    tokio::runtime::Handle::current().block_on(async move {
        let kho = kho_server::services::Kho::open(settings).await?;
        let operator = kho_core::identity::Subject::operator();
        let ctx = kho_core::audit::AuditContext::operator();
        let root = kho_core::agency::NewAgency {
            code: kho_core::agency::AgencyCode::parse("000.00.00.H24").map_err(|e| anyhow::anyhow!(e.message))?,
            name: "UBND tỉnh".into(),
            name_en: None,
            kind: kho_core::agency::AgencyKind::Province,
            parent_id: None,
            admin_unit_code: None,
        };
        kho.create_agency(&operator, &ctx, root).await.map_err(|e| anyhow::anyhow!(e.message))?;
        let t = Instant::now();
        kho.seed_code_lists().await.map_err(|e| anyhow::anyhow!(e.message))?;
        let seeded = t.elapsed();
        let units = AdminUnits::embedded();
        let legacy: Vec<&str> = units.legacy_communes().iter().map(|c| c.code.as_str()).collect();
        let current: Vec<&str> = units.units_2025().map(|u| u.code.as_str()).collect();
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).expect("a date");
        let days = (NaiveDate::from_ymd_opt(2026, 12, 31).expect("a date") - start).num_days() as u64;
        let mut rng = Rng::new(seed ^ 0xC0DE);
        let asks: Vec<(NaiveDate, &str)> = (0..LOOKUPS)
            .map(|_| {
                let date = start + chrono::Duration::days(rng.below(days + 1) as i64);
                let codes = if date < reform_day() { &legacy } else { &current };
                (date, codes[rng.below(codes.len() as u64) as usize])
            })
            .collect();
        // The first lookup reads the list into the cache; it is timed apart.
        let t = Instant::now();
        kho.lookup_code(ADMIN_UNITS, asks[0].1, Some(asks[0].0)).await.map_err(|e| anyhow::anyhow!(e.message))?;
        let first = t.elapsed();
        let mut times = Vec::with_capacity(LOOKUPS);
        let all = Instant::now();
        for (date, code) in &asks {
            let t = Instant::now();
            let found = kho.lookup_code(ADMIN_UNITS, code, Some(*date)).await;
            times.push(t.elapsed());
            found.map_err(|e| anyhow::anyhow!("{code} as of {date}: {}", e.message))?;
        }
        let total = all.elapsed();
        times.sort();
        println!(
            "  code list admin-units: stored on a fresh SQLite store in {:.0} ms; first lookup (reads it into memory) {:.1} ms",
            seeded.as_secs_f64() * 1e3,
            first.as_secs_f64() * 1e3
        );
        println!(
            "  {:<44}{:>12}{:>12}{:>12}",
            format!("Kho::lookup_code as of a date × {}", grouped(LOOKUPS as u64)),
            format!("{:.3} s", total.as_secs_f64()),
            micros(percentile(&times, 0.5)),
            micros(percentile(&times, 0.99))
        );
        Ok(percentile(&times, 0.99))
    })
}
