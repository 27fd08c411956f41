//! `kho bench standardize` — Vietnamese standardisation (`kho_standard`) in this
//! process: 1,000,000 person names, 1,000,000 phone numbers and 1,000,000 citizen IDs,
//! written the way old spreadsheets hold them (capitals and spaces off, some names in
//! the TCVN3 font encoding, phones with spaces, dots, `+84`, `0084` and the 11-digit
//! mobile prefixes of before 2018, IDs with spaces), the same for the same seed, then
//! each standardised once. The target is absolute — under 5 s for the three together
//! — so no other tool runs beside it.

use super::dataset::{push_person_name, Rng};
use super::{grouped, verdict};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const VALUES: usize = 1_000_000;
const TARGET_SECS: f64 = 5.0;

/// Mobile prefixes of the 2018 plan and old 11-digit ones.
const MOBILE: [&str; 8] = ["091", "098", "086", "032", "070", "0168", "0126", "0123"];
/// Two-digit pre-2025 province codes that start a CCCD (after a 0).
const PROVINCES: [&str; 8] = ["01", "79", "24", "27", "48", "31", "92", "38"];

fn messy_name(rng: &mut Rng) -> String {
    let mut name = String::new();
    push_person_name(rng, &mut name);
    match rng.below(10) {
        0..=2 => name.to_uppercase(),
        3..=4 => name.to_lowercase(),
        5..=6 => format!("  {}", name.replace(' ', "  ")),
        7 => kho_standard::to_tcvn3(&name).unwrap_or(name),
        _ => name,
    }
}

fn messy_phone(rng: &mut Rng) -> String {
    let prefix = MOBILE[rng.below(MOBILE.len() as u64) as usize];
    let rest = format!("{:07}", rng.below(10_000_000));
    let number = format!("{prefix}{rest}");
    let national = &number[1..];
    match rng.below(5) {
        0 => format!("{} {} {}", &number[..4], &number[4..7], &number[7..]),
        1 => format!("+84{national}"),
        2 => format!("0084.{national}"),
        3 => format!("84-{national}"),
        _ => number,
    }
}

fn messy_citizen_id(rng: &mut Rng) -> String {
    let province = PROVINCES[rng.below(PROVINCES.len() as u64) as usize];
    let born = 1940 + rng.below(65);
    let century = if born >= 2000 { 2 } else { 0 } + rng.below(2);
    let id = format!("0{province}{century}{:02}{:06}", born % 100, rng.below(1_000_000));
    if rng.below(4) == 0 {
        format!("{} {} {}", &id[..3], &id[3..6], &id[6..])
    } else {
        id
    }
}

/// Standardises every value; the time taken and the count of each status.
fn measure(values: &[String], f: impl Fn(&str) -> kho_standard::Standardized) -> (Duration, [usize; 3]) {
    let mut counts = [0; 3];
    let t = Instant::now();
    for v in values {
        let s = f(v);
        counts[s.status as usize] += 1;
    }
    (t.elapsed(), counts)
}

pub fn run(seed: u64) -> anyhow::Result<ExitCode> {
    println!("\n== standardize: {} names + phones + citizen IDs (kho_standard, one thread) ==", grouped(VALUES as u64));
    if cfg!(debug_assertions) {
        println!("  (a debug build: its figures say little about a release build)");
    }
    let mut rng = Rng::new(seed ^ 0x5AFE_C0DE);
    let names: Vec<String> = (0..VALUES).map(|_| messy_name(&mut rng)).collect();
    let phones: Vec<String> = (0..VALUES).map(|_| messy_phone(&mut rng)).collect();
    let ids: Vec<String> = (0..VALUES).map(|_| messy_citizen_id(&mut rng)).collect();
    println!("  e.g. {:?}, {:?}, {:?}", names[0], phones[0], ids[0]);
    let runs = [
        ("names", measure(&names, kho_standard::person_name)),
        ("phones", measure(&phones, kho_standard::phone)),
        ("citizen IDs", measure(&ids, |v| kho_standard::citizen_id(v, None))),
    ];
    println!("  {:<12} {:>9}   {:>9} {:>9} {:>9}", "kind", "time", "ok", "fixed", "invalid");
    let mut total = Duration::ZERO;
    for (kind, (took, [ok, fixed, invalid])) in &runs {
        total += *took;
        println!(
            "  {kind:<12} {:>7.2} s   {:>9} {:>9} {:>9}",
            took.as_secs_f64(),
            grouped(*ok as u64),
            grouped(*fixed as u64),
            grouped(*invalid as u64)
        );
    }
    let secs = total.as_secs_f64();
    println!("targets:");
    println!(
        "  {} names + phones + citizen IDs in {secs:.2} s (target < {TARGET_SECS} s) {}",
        grouped(VALUES as u64),
        verdict(secs < TARGET_SECS)
    );
    Ok(ExitCode::SUCCESS)
}
