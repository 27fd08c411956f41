//! Reads the CSV lists Kho ships (bảng danh mục): finds the required columns by name
//! in the header and hands each row over with its line number, so that every error
//! names the file, the line and the column.

use kho_core::{Error, Result};

/// One row of a list, with what is needed to point at one of its cells.
pub(crate) struct Row<'a> {
    source: &'a str,
    columns: &'a [&'a str],
    index: &'a [usize],
    record: &'a csv::StringRecord,
    line: u64,
}

impl Row<'_> {
    /// The cell of the `k`-th required column, trimmed.
    pub(crate) fn get(&self, k: usize) -> &str {
        self.record.get(self.index[k]).unwrap_or("").trim()
    }

    /// An error about the cell of the `k`-th required column.
    pub(crate) fn error(&self, k: usize, message: impl std::fmt::Display) -> Error {
        Error::invalid("file", format!("{}, line {}, column {}: {message}", self.source, self.line, self.columns[k]))
    }

    /// The cell of the `k`-th column, which must be `digits` ASCII digits.
    pub(crate) fn code(&self, k: usize, digits: usize) -> Result<&str> {
        let value = self.get(k);
        if value.len() == digits && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(value)
        } else {
            Err(self.error(k, format!("{value:?} is not a {digits}-digit code")))
        }
    }
}

/// Reads `text` (the file `source`) and calls `each` on every row; `columns` are the
/// columns the caller needs, found by name in the header in any order.
pub(crate) fn read(
    source: &str,
    text: &str,
    columns: &[&str],
    mut each: impl FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::invalid("file", format!("{source}: cannot read the header row: {e}")))?
        .clone();
    let mut index = Vec::with_capacity(columns.len());
    for name in columns {
        let position =
            headers.iter().position(|h| h.trim_start_matches('\u{feff}').trim() == *name).ok_or_else(|| {
                Error::invalid(
                    "file",
                    format!("{source}: the header has no column {name:?}; expected columns {}", columns.join(", ")),
                )
            })?;
        index.push(position);
    }
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                each(&Row { source, columns, index: &index, record: &record, line })?;
            }
            Err(e) => {
                let line = e.position().map(|p| p.line().to_string()).unwrap_or_else(|| "?".into());
                return Err(Error::invalid("file", format!("{source}, line {line}: {e}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_line_and_column() {
        let text = "b,a\n1,2\n3,x\n";
        let mut seen = Vec::new();
        let err = read("t.csv", text, &["a", "b"], |row| {
            seen.push(row.get(1).to_string());
            row.code(0, 1).map(|_| ())
        })
        .unwrap_err();
        assert_eq!(seen, ["1", "3"]);
        assert_eq!(err.message, "file: t.csv, line 3, column a: \"x\" is not a 1-digit code");

        let err = read("t.csv", text, &["c"], |_| Ok(())).unwrap_err();
        assert_eq!(err.message, "file: t.csv: the header has no column \"c\"; expected columns c");

        let err = read("u.csv", "a,b\n1,2\n1\n", &["a"], |_| Ok(())).unwrap_err();
        assert!(err.message.starts_with("file: u.csv, line 3: "), "{}", err.message);
    }
}
