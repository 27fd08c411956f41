//! Nguồn dữ liệu — reading a file as rows, whatever its format. Each format is a
//! [`RowSource`] that hands over one row at a time, with the row's number as a person
//! sees it (the line of a CSV file, the row of a sheet, the record of a JSON file):
//!
//! - [`delimited`]: CSV, TSV and other delimited text in any encoding offices use;
//! - [`sheet`]: XLSX (streamed) and XLS workbooks, one sheet at a time;
//! - [`json`]: JSON arrays of objects, NDJSON and GeoJSON feature collections;
//! - [`parquet`]: Parquet files, batch by batch.
//!
//! The format comes from the file's first bytes and its name ([`detect_format`]) unless
//! the caller names it.

pub mod delimited;
pub mod json;
pub mod parquet;
pub mod sheet;

use crate::infer::{Cell, CellRef, ColumnType};
use crate::LakeError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use delimited::{detect_delimiter, DelimitedSource};

/// A file format Kho loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, TSV or other delimited text.
    Csv,
    Xlsx,
    Xls,
    /// A JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A GeoJSON FeatureCollection.
    GeoJson,
    Parquet,
}

impl Format {
    pub const ALL: [Format; 7] =
        [Format::Csv, Format::Xlsx, Format::Xls, Format::Json, Format::Ndjson, Format::GeoJson, Format::Parquet];

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::GeoJson => "geojson",
            Format::Parquet => "parquet",
        }
    }

    /// A format by name (`csv`, `tsv`, `xlsx`, `xls`, `json`, `ndjson`, `geojson`, `parquet`).
    pub fn parse(s: &str) -> Result<Self, LakeError> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "tsv" | "txt" => return Ok(Format::Csv),
            "jsonl" => return Ok(Format::Ndjson),
            _ => {}
        }
        Format::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            LakeError::Invalid(format!("format: {s:?} is not a format Kho reads; use one of {}", names.join(", ")))
        })
    }
}

/// Picks the format from the first bytes of the file, then from the extension of
/// `name`: `PK` (a zip) is XLSX, `D0 CF 11 E0` (an OLE file) is XLS, `PAR1` is
/// Parquet; text starting with `[` is a JSON array, with `{` a GeoJSON
/// FeatureCollection when it says so, else NDJSON; anything else is delimited text.
pub fn detect_format(path: &Path, name: &str) -> Result<Format, LakeError> {
    let mut head = vec![0u8; 4096];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| LakeError::Source { file: name.to_string(), message: e.to_string() })?;
    head.truncate(n);
    let extension = Path::new(name).extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    Ok(sniff(&head, &extension))
}

fn sniff(head: &[u8], extension: &str) -> Format {
    if head.starts_with(b"PK\x03\x04") {
        return Format::Xlsx;
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Format::Xls;
    }
    if head.starts_with(b"PAR1") {
        return Format::Parquet;
    }
    let text = delimited::decode_head(head, delimited::detect_encoding(head));
    let trimmed = text.trim_start();
    match extension {
        "geojson" => return Format::GeoJson,
        "ndjson" | "jsonl" => return Format::Ndjson,
        _ => {}
    }
    if trimmed.starts_with('[') {
        return Format::Json;
    }
    if trimmed.starts_with('{') {
        let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.contains("\"type\":\"FeatureCollection\"") {
            return Format::GeoJson;
        }
        return Format::Ndjson;
    }
    if extension == "json" {
        return Format::Json;
    }
    Format::Csv
}

/// How to open a file.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The name errors use (the uploaded file's name); its extension helps detection.
    pub name: String,
    pub format: Option<Format>,
    pub delimiter: Option<u8>,
    /// The sheet of a workbook; the first non-empty one when `None`.
    pub sheet: Option<String>,
}

/// What was found out about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub format: Format,
    /// The text encoding, for text formats.
    pub encoding: Option<&'static str>,
    /// The delimiter, for delimited text.
    pub delimiter: Option<u8>,
    /// The sheet read, for workbooks.
    pub sheet: Option<String>,
}

/// A column the file names itself (JSON keys, GeoJSON properties, a Parquet schema).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceColumn {
    pub header: String,
    /// The type the file declares, when it does (Parquet, the GeoJSON geometry).
    pub kind: Option<ColumnType>,
    /// Arrow field metadata to keep (`kho.geometry` = `wkt` for a geometry).
    pub metadata: Vec<(String, String)>,
}

/// A region of merged cells in a sheet: rows as the sheet numbers them (from 1),
/// columns as indexes into the rows handed over (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub first_row: u64,
    pub last_row: u64,
    pub first_col: usize,
    pub last_col: usize,
}

/// Something wrong with a row, beyond a cell that does not fit its column's type: a
/// JSON key the first records do not have, a geometry that is not GeoJSON, a value
/// right of the table. Reported as "`value` is not `expected`; `fix`".
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub column: String,
    pub value: String,
    pub expected: String,
    pub fix: String,
}

/// One row's cells.
pub trait Row {
    fn len(&self) -> usize;
    fn cell(&self, i: usize) -> CellRef<'_>;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// No cell holds anything.
    fn is_blank(&self) -> bool {
        (0..self.len()).all(|i| self.cell(i).is_empty())
    }
}

impl Row for csv::StringRecord {
    fn len(&self) -> usize {
        csv::StringRecord::len(self)
    }
    fn cell(&self, i: usize) -> CellRef<'_> {
        CellRef::Text(self.get(i).unwrap_or(""))
    }
}

impl Row for [Cell] {
    fn len(&self) -> usize {
        <[Cell]>::len(self)
    }
    fn cell(&self, i: usize) -> CellRef<'_> {
        self.get(i).map(CellRef::from).unwrap_or(CellRef::Empty)
    }
}

impl Row for Vec<Cell> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn cell(&self, i: usize) -> CellRef<'_> {
        self.get(i).map(CellRef::from).unwrap_or(CellRef::Empty)
    }
}

/// A row kept in memory (the sample read before the columns are settled).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedRow {
    pub number: u64,
    pub cells: Vec<Cell>,
}

impl OwnedRow {
    pub fn copy(row: &dyn Row, number: u64) -> Self {
        Self { number, cells: (0..row.len()).map(|i| row.cell(i).to_cell()).collect() }
    }
}

/// A file read row by row. After [`RowSource::advance`] returns `true`,
/// [`RowSource::current`] is the row and [`RowSource::row_number`] its number.
pub trait RowSource: Send {
    fn advance(&mut self) -> Result<bool, LakeError>;
    fn current(&self) -> &dyn Row;
    fn row_number(&self) -> u64;
    /// A problem with the current row as a whole, if any.
    fn problem(&self) -> Option<RowProblem> {
        None
    }
    /// The columns, when the file names them itself; called once, after the sample
    /// has been read, and fixes them.
    fn columns(&mut self) -> Option<Vec<SourceColumn>> {
        None
    }
    /// Merged cells, for sheets.
    fn merges(&self) -> &[Merge] {
        &[]
    }
    fn detected(&self) -> &Detected;
    /// Bytes of the file read so far (shared with progress reports).
    fn bytes_read(&self) -> Arc<AtomicU64>;
    fn total_bytes(&self) -> u64;
    /// Called after the last row: the SHA-256 of the whole file.
    fn finish(&mut self) -> Result<String, LakeError>;
}

/// Opens `path` as rows in the format detected or asked for.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Box<dyn RowSource>, LakeError> {
    let format = match options.format {
        Some(f) => f,
        None => detect_format(path, &options.name)?,
    };
    if options.sheet.is_some() && !matches!(format, Format::Xlsx | Format::Xls) {
        return Err(LakeError::Invalid(format!(
            "sheet: {} is a {} file, which has no sheets; leave the sheet out",
            options.name,
            format.name()
        )));
    }
    Ok(match format {
        Format::Csv => Box::new(DelimitedSource::open(path, &options.name, options.delimiter)?),
        Format::Xlsx | Format::Xls => Box::new(sheet::SheetSource::open(path, format, options)?),
        Format::Json | Format::Ndjson | Format::GeoJson => Box::new(json::JsonSource::open(path, format, options)?),
        Format::Parquet => Box::new(parquet::ParquetSource::open(path, &options.name)?),
    })
}

/// Counts and hashes the bytes read from the file.
pub struct Tap<R> {
    inner: R,
    pub bytes: Arc<AtomicU64>,
    hasher: Arc<Mutex<Sha256>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.hasher.lock().unwrap_or_else(|e| e.into_inner()).update(&buf[..n]);
        Ok(n)
    }
}

/// A text file being read through a [`Tap`], decoded to UTF-8.
pub(crate) struct TextInput {
    pub encoding: &'static encoding_rs::Encoding,
    pub bytes_read: Arc<AtomicU64>,
    pub total_bytes: u64,
    hasher: Arc<Mutex<Sha256>>,
}

impl TextInput {
    /// Detects the encoding from the first bytes and opens the decoded text.
    pub fn open(path: &Path, name: &str) -> Result<(Self, String, Box<dyn Read + Send>), LakeError> {
        let io = |e: std::io::Error| LakeError::Source { file: name.to_string(), message: e.to_string() };
        let mut head = vec![0u8; 64 * 1024];
        let n = File::open(path).and_then(|mut f| f.read(&mut head)).map_err(io)?;
        head.truncate(n);
        let encoding = delimited::detect_encoding(&head);
        let text = delimited::decode_head(&head, encoding);
        let file = File::open(path).map_err(io)?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bytes_read = Arc::new(AtomicU64::new(0));
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let tap =
            Tap { inner: BufReader::with_capacity(1 << 20, file), bytes: bytes_read.clone(), hasher: hasher.clone() };
        let decoded: Box<dyn Read + Send> = if encoding == encoding_rs::UTF_8 {
            // UTF-8 is read as it is (the CSV reader checks it), past its byte-order mark.
            let mut tap = tap;
            if head.starts_with(b"\xEF\xBB\xBF") {
                tap.read_exact(&mut [0u8; 3]).map_err(io)?;
            }
            Box::new(tap)
        } else {
            Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding))
                    .bom_override(true)
                    .strip_bom(true)
                    .build(tap),
            )
        };
        Ok((Self { encoding, bytes_read, total_bytes, hasher }, text, decoded))
    }

    /// SHA-256 of the bytes read so far (of the whole file once it is read through).
    pub fn sha256(&self) -> String {
        hex::encode(self.hasher.lock().unwrap_or_else(|e| e.into_inner()).clone().finalize())
    }
}

/// Reads what is left of `reader`, so that the hash covers the whole file.
pub(crate) fn drain(reader: &mut dyn Read, name: &str) -> Result<(), LakeError> {
    std::io::copy(reader, &mut std::io::sink())
        .map(|_| ())
        .map_err(|e| LakeError::Source { file: name.to_string(), message: e.to_string() })
}

/// SHA-256 of a whole file, for formats read by seeking (workbooks, Parquet).
pub(crate) fn hash_file(path: &Path, name: &str) -> Result<String, LakeError> {
    let io = |e: std::io::Error| LakeError::Source { file: name.to_string(), message: e.to_string() };
    let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A file read by seeking, counting how far into it reading has got (for progress).
pub(crate) struct Counted<R> {
    inner: R,
    position: u64,
    pub furthest: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, position: 0, furthest: Arc::new(AtomicU64::new(0)) }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        self.furthest.fetch_max(self.position, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.position = self.inner.seek(pos)?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes_then_their_name() {
        assert_eq!(sniff(b"PK\x03\x04rest", ""), Format::Xlsx);
        assert_eq!(sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1], "csv"), Format::Xls);
        assert_eq!(sniff(b"PAR1\x15\x04", ""), Format::Parquet);
        assert_eq!(sniff(b"  [{\"a\":1}]", ""), Format::Json);
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\":2}\n", ""), Format::Ndjson);
        assert_eq!(sniff(b"{ \"type\" : \"FeatureCollection\", \"features\": []}", ""), Format::GeoJson);
        assert_eq!(sniff(b"{\"features\": []}", "geojson"), Format::GeoJson);
        assert_eq!(sniff(b"\xEF\xBB\xBF[]", ""), Format::Json);
        assert_eq!(sniff("Họ tên;Tuổi\n".as_bytes(), "txt"), Format::Csv);
        assert_eq!(Format::parse("TSV").unwrap(), Format::Csv);
        assert!(Format::parse("docx").unwrap_err().to_string().contains("use one of csv, xlsx"));
    }
}
