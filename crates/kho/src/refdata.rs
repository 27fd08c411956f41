//! `kho refdata` — reference data (danh mục dùng chung) on the command line:
//! converting legacy administrative units, by address or by code, to the 2025 units,
//! as CSV on standard output. Pure: it reads the lists built into the binary and
//! opens no store.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use kho_refdata::{AdminUnits, Conversion, Kind};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
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
            Some(CsvColumn::open(file, column)?)
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
            column.each(|address| write(address, &units.convert_address(address)))?;
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

/// One column of a CSV file, read row by row.
struct CsvColumn {
    name: String,
    reader: csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<std::fs::File>>>,
    index: usize,
}

impl CsvColumn {
    /// Opens `file` and finds `column` in its header; the delimiter is the one of
    /// comma, semicolon and tab found most often in the header line.
    fn open(file: &Path, column: &str) -> anyhow::Result<Self> {
        let name = file.display().to_string();
        let opened = std::fs::File::open(file).with_context(|| format!("cannot open {name}"))?;
        let mut rest = BufReader::new(opened);
        let mut first = String::new();
        rest.read_line(&mut first).with_context(|| format!("{name}, line 1: cannot read the header as UTF-8"))?;
        let delimiter =
            [b',', b';', b'\t'].into_iter().max_by_key(|d| first.bytes().filter(|b| b == d).count()).unwrap_or(b',');
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(std::io::Cursor::new(first.into_bytes()).chain(rest));
        let headers = reader.headers().with_context(|| format!("{name}: cannot read the header row"))?;
        let names: Vec<&str> = headers.iter().map(|h| h.trim_start_matches('\u{feff}').trim()).collect();
        let Some(index) = names.iter().position(|h| *h == column) else {
            let listed = names.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
            bail!("{name} has no column {column:?}; its columns are {listed}; pass one of them to --column");
        };
        Ok(Self { name, reader, index })
    }

    /// Calls `each` with the cell of the column in every row.
    fn each(mut self, mut each: impl FnMut(&str) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => each(record.get(self.index).unwrap_or(""))?,
                Err(e) => {
                    let line = e.position().map(|p| p.line().to_string()).unwrap_or_else(|| "?".into());
                    bail!("{}, line {line}: {e}; save the file as UTF-8 CSV", self.name)
                }
            }
        }
    }
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
