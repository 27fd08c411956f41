//! Columns of a CSV file read row by row, for the commands that take `--csv FILE
//! --column NAME` (`kho refdata convert-address`, `kho standardize`).

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Some columns of a CSV file, read row by row.
pub struct CsvColumns {
    name: String,
    reader: csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<std::fs::File>>>,
    indexes: Vec<usize>,
}

impl CsvColumns {
    /// Opens `file` and finds `columns` in its header; the delimiter is the one of
    /// comma, semicolon and tab found most often in the header line.
    pub fn open(file: &Path, columns: &[&str]) -> anyhow::Result<Self> {
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
        let mut indexes = Vec::new();
        for column in columns {
            let Some(index) = names.iter().position(|h| h == column) else {
                let listed = names.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
                bail!("{name} has no column {column:?}; its columns are {listed}; pass one of them");
            };
            indexes.push(index);
        }
        Ok(Self { name, reader, indexes })
    }

    /// Calls `each` with the cells of the columns, in the order asked, in every row.
    pub fn each(mut self, mut each: impl FnMut(&[&str]) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let cells: Vec<&str> = self.indexes.iter().map(|i| record.get(*i).unwrap_or("")).collect();
                    each(&cells)?
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line().to_string()).unwrap_or_else(|| "?".into());
                    bail!("{}, line {line}: {e}; save the file as UTF-8 CSV", self.name)
                }
            }
        }
    }
}
