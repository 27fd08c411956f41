//! Reading a delimited text file as rows, whatever the office saved it as:
//! UTF-8 with or without BOM, UTF-16 (by its BOM), or Windows-1258 (the legacy
//! Vietnamese code page, assumed when the bytes are not valid UTF-8); the delimiter
//! (`,` `;` tab `|`) is detected from the first lines. The raw bytes are hashed as
//! they stream past.

use super::{Detected, Format, Row, RowSource, TextInput};
use crate::LakeError;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// An open delimited file. Rows are read into one reused record: no allocation per
/// row or cell.
pub struct DelimitedSource {
    detected: Detected,
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: csv::StringRecord,
    line: u64,
    input: TextInput,
    name: String,
}

impl DelimitedSource {
    pub fn open(path: &Path, name: &str, delimiter: Option<u8>) -> Result<Self, LakeError> {
        let (input, text, decoded) = TextInput::open(path, name)?;
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&text));
        let reader =
            csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(false).from_reader(decoded);
        Ok(Self {
            detected: Detected {
                format: Format::Csv,
                encoding: Some(input.encoding.name()),
                delimiter: Some(delimiter),
                sheet: None,
            },
            reader,
            record: csv::StringRecord::new(),
            line: 0,
            input,
            name: name.to_string(),
        })
    }
}

/// What went wrong reading a record, and where.
fn read_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => format!(
            "line {}, column {}: these bytes are not UTF-8, although the file begins as UTF-8; \
             save the whole file as UTF-8 (or the whole file as Windows-1258)",
            pos.as_ref().map(|p| p.line()).unwrap_or(0),
            err.field() + 1
        ),
        _ => e.to_string(),
    }
}

impl RowSource for DelimitedSource {
    fn advance(&mut self) -> Result<bool, LakeError> {
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                self.line = self.record.position().map(|p| p.line()).unwrap_or(self.line + 1);
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => Err(LakeError::Source { file: self.name.clone(), message: read_error(&e) }),
        }
    }

    fn current(&self) -> &dyn Row {
        &self.record
    }

    fn row_number(&self) -> u64 {
        self.line
    }

    fn detected(&self) -> &Detected {
        &self.detected
    }

    fn bytes_read(&self) -> Arc<AtomicU64> {
        self.input.bytes_read.clone()
    }

    fn total_bytes(&self) -> u64 {
        self.input.total_bytes
    }

    fn finish(&mut self) -> Result<String, LakeError> {
        Ok(self.input.sha256())
    }
}

pub(crate) fn detect_encoding(head: &[u8]) -> &'static encoding_rs::Encoding {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(head) {
        return enc;
    }
    // A cut in the middle of a multi-byte character at the end of the sample is fine.
    match std::str::from_utf8(head) {
        Ok(_) => encoding_rs::UTF_8,
        Err(e) if e.error_len().is_none() => encoding_rs::UTF_8,
        Err(_) => encoding_rs::WINDOWS_1258,
    }
}

pub(crate) fn decode_head(head: &[u8], encoding: &'static encoding_rs::Encoding) -> String {
    encoding.decode_with_bom_removal(head).0.into_owned()
}

/// Picks the delimiter that splits the first lines into the same number (> 1) of
/// fields most often; quotes are respected. Defaults to a comma.
pub fn detect_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines.iter().map(|l| fields_in(l, d)).collect();
        let Some(&first) = counts.first() else { continue };
        if first < 2 {
            continue;
        }
        let agreeing = counts.iter().filter(|&&c| c == first).count();
        let score = agreeing * 1000 + first;
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

fn fields_in(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut n = 1;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b if b == delimiter && !quoted => n += 1,
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_detected() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("Họ tên;Số tiền\nAn;1.234,5\nBình;2,5\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter("\"Bắc Ninh, Việt Nam\"|x\n\"a,b\"|y\n"), b'|');
        assert_eq!(detect_delimiter("one column\nvalue\n"), b',');
    }

    #[test]
    fn encodings_are_recognised() {
        assert_eq!(detect_encoding("Hà Nội".as_bytes()).name(), "UTF-8");
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFabc").name(), "UTF-8");
        assert_eq!(detect_encoding(b"\xFF\xFEa\x00").name(), "UTF-16LE");
        // "Hà Nội" in Windows-1258: H, a + combining grave (0xCC), space, N, ô (0xF4), i + dot below (0xF2).
        assert_eq!(detect_encoding(b"Ha\xCC N\xF4i\xF2").name(), "windows-1258");
    }
}
