//! `kho standardize` — Vietnamese standardisation (chuẩn hóa) on the command line: one
//! value a line from standard input, or a column of a CSV file, through
//! [`kho_standard`]; writes CSV rows `input,output,status,note` on standard output
//! and a tally on standard error. Pure: it opens no store.

use crate::csv_input::CsvColumns;
use anyhow::Context;
use clap::Args;
use kho_standard::Kind;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

/// The header of the CSV this command writes.
pub const HEADER: [&str; 4] = ["input", "output", "status", "note"];

#[derive(Args)]
pub struct StandardizeArgs {
    /// What the values are: text (legacy TCVN3/VNI to Unicode), name, phone (to E.164),
    /// citizen-id, tax-code, date (to yyyy-mm-dd), amount or address (to the 2025 units).
    #[arg(long, value_parser = Kind::parse)]
    kind: Kind,
    /// Read the values from this CSV file (UTF-8; comma, semicolon or tab between
    /// cells, detected from the header) instead of standard input.
    #[arg(long, value_name = "FILE", requires = "column")]
    csv: Option<PathBuf>,
    /// The column of --csv that holds the values, by its header.
    #[arg(long, value_name = "NAME", requires = "csv")]
    column: Option<String>,
    /// With --kind citizen-id: the column of --csv with the date of birth, to cross-check.
    #[arg(long, value_name = "NAME", requires = "csv")]
    dob: Option<String>,
}

pub fn run(args: StandardizeArgs) -> anyhow::Result<ExitCode> {
    if args.dob.is_some() && args.kind != Kind::CitizenId {
        anyhow::bail!("--dob cross-checks citizen IDs: use it with --kind citizen-id");
    }
    // A missing file or column is said before anything is written.
    let columns = match (&args.csv, &args.column) {
        (Some(file), Some(column)) => {
            let mut names = vec![column.as_str()];
            names.extend(args.dob.as_deref());
            Some(CsvColumns::open(file, &names)?)
        }
        _ => None,
    };
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(HEADER)?;
    let mut counts = [0u64; 3];
    let mut write = |input: &str, dob: Option<&str>| -> anyhow::Result<()> {
        let s = args.kind.standardize(input, dob);
        counts[s.status as usize] += 1;
        out.write_record([input, &s.output, s.status.as_str(), &s.note])?;
        Ok(())
    };
    match columns {
        Some(columns) => columns.each(|cells| write(cells[0], cells.get(1).copied()))?,
        None => {
            for (i, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.with_context(|| format!("standard input, line {}: cannot read it as UTF-8", i + 1))?;
                write(line.trim_start_matches('\u{feff}').trim_end_matches('\r'), None)?;
            }
        }
    }
    out.flush()?;
    let [ok, fixed, invalid] = counts;
    eprintln!("standardized {}: ok {ok}, fixed {fixed}, invalid {invalid}", ok + fixed + invalid);
    Ok(ExitCode::SUCCESS)
}
