//! `kho refdata` — reference data (danh mục dùng chung) on the command line:
//! converting legacy administrative units, by address or by code, to the 2025 units,
//! as CSV on standard output. Pure: it reads the lists built into the binary and
//! opens no store.

use crate::csv_input::CsvColumns;
use anyhow::Context;
use clap::{Args, Subcommand};
use kho_refdata::{AdminUnits, Conversion, Kind};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The header of every CSV this command writes.
pub const HEADER: [&str; 7] = ["input", "kind", "code", "name", "province_code", "province_name", "rest"];

#[derive(Subcommand)]
pub enum RefdataCommand {
    /// Convert free-text addresses (địa chỉ) to the 2025 administrative units: one
    /// address a line from standard input, or a column of a CSV file; writes CSV
    /// (input,kind,code,name,province_code,province_name,rest), one row per input.
    ///
    /// kind is exact, merged, split-default, split-candidates (several units
    /// possible: code and name stay empty) or not-found; rest is the street part.
    /// See docs/refdata.md.
    ConvertAddress(ConvertAddressArgs),
    /// Convert legacy commune codes (mã xã cũ) to the 2025 units; writes the same CSV.
    ConvertCode {
        /// One or more legacy commune codes, e.g. 07687.
        #[arg(required = true, value_name = "CODE")]
        codes: Vec<String>,
    },
    /// Code lists (danh mục dùng chung): list, show, import, publish, export and look
    /// up codes as of a date. Opens the store (--data-dir) and acts as the local operator.
    #[command(subcommand)]
    Codelist(crate::codelist::CodelistCommand),
}

#[derive(Args)]
pub struct ConvertAddressArgs {
    /// Read the addresses from this CSV file (UTF-8; comma, semicolon or tab
    /// between cells, detected from the header) instead of standard input.
    #[arg(long, value_name = "FILE", requires = "column")]
    csv: Option<PathBuf>,
    /// The column of --csv that holds the addresses, by its header.
    #[arg(long, value_name = "NAME", requires = "csv")]
    column: Option<String>,
}

pub fn run(command: RefdataCommand) -> anyhow::Result<ExitCode> {
    let units = AdminUnits::embedded();
    // A missing file or column is said before anything is written.
    let column = match &command {
        RefdataCommand::ConvertAddress(ConvertAddressArgs { csv: Some(file), column: Some(column) }) => {
            Some(CsvColumns::open(file, &[column.as_str()])?)
        }
        _ => None,
    };
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(HEADER)?;
    let mut tally = Tally::default();
    let mut write = |input: &str, conversion: &Conversion| -> anyhow::Result<()> {
        tally.add(conversion.kind);
        write_row(&mut out, input, conversion)
    };
    match (command, column) {
        (RefdataCommand::Codelist(_), _) => unreachable!("code lists are run on the store by the caller"),
        (RefdataCommand::ConvertCode { codes }, _) => {
            for code in codes {
                write(&code, &units.convert_code(&code))?;
            }
        }
        (RefdataCommand::ConvertAddress(_), Some(column)) => {
            column.each(|cells| write(cells[0], &units.convert_address(cells[0])))?;
        }
        (RefdataCommand::ConvertAddress(_), None) => {
            for (i, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.with_context(|| format!("standard input, line {}: cannot read it as UTF-8", i + 1))?;
                let address = line.trim_start_matches('\u{feff}').trim_end_matches('\r');
                write(address, &units.convert_address(address))?;
            }
        }
    }
    out.flush()?;
    eprintln!("{tally}");
    Ok(ExitCode::SUCCESS)
}

fn write_row(out: &mut csv::Writer<impl Write>, input: &str, c: &Conversion) -> anyhow::Result<()> {
    let unit = c.unit.as_ref();
    let field = |f: fn(&kho_refdata::Unit) -> &str| unit.map(f).unwrap_or("");
    out.write_record([
        input,
        c.kind.as_str(),
        field(|u| &u.code),
        field(|u| &u.name),
        field(|u| &u.province_code),
        field(|u| &u.province_name),
        &c.rest,
    ])?;
    Ok(())
}

/// How many inputs got each kind, for the summary on standard error.
#[derive(Default)]
struct Tally(BTreeMap<usize, (Kind, u64)>);

impl Tally {
    fn add(&mut self, kind: Kind) {
        let order = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.0.entry(order).or_insert((kind, 0)).1 += 1;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: u64 = self.0.values().map(|(_, n)| n).sum();
        write!(f, "converted {total}")?;
        for (kind, n) in self.0.values() {
            write!(f, ", {kind} {n}")?;
        }
        Ok(())
    }
}
