//! Đọc tệp — the reading half of a load: open the file in its format, find the
//! header, read a sample, settle the columns and their types (declared ones first),
//! then turn every row into Arrow batches for the writer. A row with a bad cell
//! either stops the load or, when a rejects file is asked for, is written there and
//! left out.

use crate::header;
use crate::infer::{self, ColumnType, Parsed};
use crate::ingest::{IngestOptions, LoadedColumn, Progress};
use crate::source::{self, Detected, Format, OpenOptions, OwnedRow, Row, RowProblem, RowSource};
use crate::{column_names, Lake, LakeError, RowError};
use deltalake::arrow::array::{ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::error::DataFusionError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// Rows read to infer column types.
const SAMPLE_ROWS: usize = 1000;
/// Rows per Arrow batch.
const BATCH_ROWS: usize = 16 * 1024;

pub(crate) type BatchResult = Result<RecordBatch, DataFusionError>;

fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Integer(_) => DataType::Int64,
        ColumnType::Decimal(_) => DataType::Float64,
        ColumnType::Date(_) => DataType::Date32,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Text => DataType::Utf8,
    }
}

impl Lake {
    /// The worksheets of an XLSX or XLS file, in order, so that a person can pick one.
    pub fn sheets(path: &Path, file_name: &str) -> Result<Vec<String>, LakeError> {
        source::sheet::sheet_names(path, file_name)
    }
}

/// A column's type and Arrow field metadata as the file declares them.
type Declared = (Option<ColumnType>, Vec<(String, String)>);

/// A sample row, with what the source found wrong with it.
type SampleRow = (OwnedRow, Option<RowProblem>);

/// The file opened and its columns settled; [`Prepared::run`] reads the rows.
pub(crate) struct Prepared {
    pub schema: SchemaRef,
    pub columns: Vec<LoadedColumn>,
    /// The row the header was read from, as the file numbers it.
    pub header_row: Option<u64>,
    source: Box<dyn RowSource>,
    sample: Vec<SampleRow>,
    types: Vec<ColumnType>,
    /// What errors call each column: its header, or its name when it has none.
    labels: Vec<String>,
    headers: Vec<String>,
    file: String,
    rejects: Option<PathBuf>,
}

/// What reading found, for the report.
pub(crate) struct ReadOutcome {
    pub sha256: String,
    pub total_bytes: u64,
    pub detected: Detected,
    pub rejected_rows: u64,
    pub rejects_file: Option<PathBuf>,
}

/// Opens the file and settles its columns (runs on a blocking thread). `existing` are
/// the (name, kind) of the table's columns when the load adds to a table.
pub(crate) fn prepare(
    path: &Path,
    options: &IngestOptions,
    existing: &[(String, &'static str)],
) -> Result<Prepared, LakeError> {
    let file = options.source_name.clone();
    let open = OpenOptions {
        name: file.clone(),
        format: options.format,
        delimiter: options.delimiter,
        sheet: options.sheet.clone(),
    };
    let mut source = source::open(path, &open)?;
    let empty = || LakeError::Source { file: file.clone(), message: "the file is empty; nothing to load".into() };
    let self_describing = !matches!(source.detected().format, Format::Csv | Format::Xlsx | Format::Xls);

    let mut sample: Vec<SampleRow> = Vec::new();
    let mut header_row = None;
    let mut headers: Vec<String>;
    let mut declared: Vec<Declared> = Vec::new();
    if self_describing {
        if options.header_row.is_some() {
            return Err(LakeError::Invalid(format!(
                "header_row: a {} file names its columns itself; leave the header row out",
                source.detected().format.name()
            )));
        }
        read_sample(&mut *source, &mut sample, SAMPLE_ROWS)?;
        let columns = source.columns().unwrap_or_default();
        if columns.is_empty() {
            // No record gave a column: the first record's problem says why, if any.
            return Err(match sample.into_iter().find_map(|(r, p)| p.map(|p| (r.number, p))) {
                Some((row, p)) => LakeError::Row(Box::new(RowError {
                    file,
                    row,
                    column: p.column,
                    value: p.value,
                    expected: p.expected,
                    fix: p.fix,
                })),
                None => empty(),
            });
        }
        headers = columns.iter().map(|c| c.header.trim().nfc().collect()).collect();
        declared = columns.into_iter().map(|c| (c.kind, c.metadata)).collect();
    } else {
        let mut head = Vec::new();
        read_sample(&mut *source, &mut head, header::WINDOW)?;
        if head.is_empty() {
            return Err(empty());
        }
        let rows: Vec<OwnedRow> = head.into_iter().map(|(r, _)| r).collect();
        let layout = header::detect(&rows, source.merges(), options.header_row)
            .map_err(|m| LakeError::Invalid(format!("header_row: {m}")))?;
        header_row = layout.header.map(|(i, _)| rows[i].number);
        headers = layout.headers;
        sample.extend(rows.into_iter().skip(layout.data_start).map(|r| (r, None)));
        read_sample(&mut *source, &mut sample, SAMPLE_ROWS)?;
        // Columns right of the header that hold values in the sample are kept, unnamed.
        let width = sample.iter().map(|(r, _)| filled_width(&r.cells)).max().unwrap_or(0).max(headers.len());
        headers.resize(width, String::new());
        if headers.is_empty() {
            return Err(empty());
        }
    }
    declared.resize(headers.len(), (None, Vec::new()));

    let names = column_names(&headers);
    let mut types: Vec<ColumnType> = (0..headers.len())
        .map(|i| match declared[i].0 {
            Some(t) => t,
            None => infer::infer(sample.iter().map(|(r, _)| r.cells.cell(i))),
        })
        .collect();
    // Added to a table, a column keeps the table's type: a value that does not fit it is
    // then named by row and column like any other.
    for (name, kind) in existing {
        let Some(i) = names.iter().position(|n| n == name) else { continue };
        if declared[i].0.is_none() {
            if let Some(t) = infer::declared(kind, sample.iter().map(|(r, _)| r.cells.cell(i))) {
                types[i] = t;
            }
        }
    }
    for (column, kind) in &options.schema {
        let kind = kind.trim().to_lowercase();
        let i = find_column(column, &headers, &names)?;
        types[i] = infer::declared(&kind, sample.iter().map(|(r, _)| r.cells.cell(i))).ok_or_else(|| {
            LakeError::Invalid(format!(
                "schema: {kind:?} (for column {column:?}) is not a column type; use one of {}",
                infer::KINDS.join(", ")
            ))
        })?;
    }

    let fields: Vec<Field> = names
        .iter()
        .zip(&types)
        .zip(&headers)
        .zip(&declared)
        .map(|(((n, t), h), (_, metadata))| {
            let mut meta: std::collections::HashMap<String, String> = metadata.iter().cloned().collect();
            meta.insert("kho.header".to_string(), h.clone());
            Field::new(n, arrow_type(*t), true).with_metadata(meta)
        })
        .collect();
    let columns = names
        .iter()
        .zip(&types)
        .zip(&headers)
        .map(|((n, t), h)| LoadedColumn { name: n.clone(), header: h.clone(), kind: t.kind().into() })
        .collect();
    let labels = headers.iter().zip(&names).map(|(h, n)| if h.is_empty() { n.clone() } else { h.clone() }).collect();
    Ok(Prepared {
        schema: Arc::new(Schema::new(fields)),
        columns,
        header_row,
        source,
        sample,
        types,
        labels,
        headers,
        file,
        rejects: options.rejects.clone(),
    })
}

/// Reads rows that hold anything until `into` has `limit` of them.
fn read_sample(source: &mut dyn RowSource, into: &mut Vec<SampleRow>, limit: usize) -> Result<(), LakeError> {
    while into.len() < limit && source.advance()? {
        let problem = source.problem();
        let row = source.current();
        if problem.is_none() && row.is_blank() {
            continue;
        }
        into.push((OwnedRow::copy(row, source.row_number()), problem));
    }
    Ok(())
}

/// Cells up to the last one that holds anything.
fn filled_width(row: &dyn Row) -> usize {
    (0..row.len()).rev().find(|&i| !row.cell(i).is_empty()).map_or(0, |i| i + 1)
}

/// A declared column by its header as written, its column name, or the name its
/// header would get.
fn find_column(column: &str, headers: &[String], names: &[String]) -> Result<usize, LakeError> {
    let wanted: String = column.trim().nfc().collect();
    let slug = column_names(std::slice::from_ref(&wanted)).remove(0);
    headers
        .iter()
        .position(|h| *h == wanted)
        .or_else(|| names.iter().position(|n| *n == wanted))
        .or_else(|| names.iter().position(|n| *n == slug))
        .ok_or_else(|| {
            LakeError::Invalid(format!(
                "schema: the file has no column {column:?}; its columns are {}",
                names.join(", ")
            ))
        })
}

/// What is wrong with one row.
enum Bad {
    Cell { column: usize, value: String, ty: ColumnType },
    Row(RowProblem),
}

impl Prepared {
    fn error(&self, bad: Bad, row: u64) -> LakeError {
        match bad {
            Bad::Cell { column, value, ty } => LakeError::Cell {
                file: self.file.clone(),
                row,
                column: self.labels[column].clone(),
                value,
                expected: ty.expected(),
            },
            Bad::Row(p) => LakeError::Row(Box::new(RowError {
                file: self.file.clone(),
                row,
                column: p.column,
                value: p.value,
                expected: p.expected,
                fix: p.fix,
            })),
        }
    }

    /// Reads every row into batches sent on `tx` (runs on a blocking thread). The
    /// reader's own error is kept in `read_error`: DataFusion only learns that
    /// reading stopped. `None` when reading stopped.
    pub(crate) fn run(
        mut self,
        tx: mpsc::Sender<BatchResult>,
        rows: Arc<AtomicU64>,
        read_error: Arc<Mutex<Option<LakeError>>>,
        progress: impl Fn(Progress),
    ) -> Option<ReadOutcome> {
        let (bytes_read, total_bytes) = (self.source.bytes_read(), self.source.total_bytes());
        let report = |rows: &AtomicU64| {
            progress(Progress {
                bytes_read: bytes_read.load(Ordering::Relaxed),
                total_bytes,
                rows: rows.load(Ordering::Relaxed),
            })
        };
        let mut rejects = Rejects::new(self.rejects.take(), &self.headers);
        let result = self.read_all(&tx, &rows, &mut rejects, &report);
        match result {
            Ok(sha256) => Some(ReadOutcome {
                sha256,
                total_bytes,
                detected: self.source.detected().clone(),
                rejected_rows: rejects.count,
                rejects_file: rejects.path.filter(|_| rejects.count > 0),
            }),
            Err(e) => {
                if !matches!(e, LakeError::Interrupted) {
                    let keep = rejects.count > 0 && matches!(e, LakeError::Invalid(_));
                    if !keep {
                        rejects.discard();
                    }
                    *read_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    let _ = tx.blocking_send(Err(DataFusionError::Execution("reading the source file failed".into())));
                }
                None
            }
        }
    }

    fn read_all(
        &mut self,
        tx: &mpsc::Sender<BatchResult>,
        rows: &AtomicU64,
        rejects: &mut Rejects,
        report: &dyn Fn(&AtomicU64),
    ) -> Result<String, LakeError> {
        let compose = self.source.detected().encoding == Some(encoding_rs::WINDOWS_1258.name());
        let mut builder = BatchBuilder::new(self.schema.clone(), self.types.clone(), compose);
        let mut last_report = Instant::now();
        let mut flush = |builder: &mut BatchBuilder, force: bool| -> Result<(), LakeError> {
            if builder.rows == BATCH_ROWS || (force && builder.rows > 0) {
                rows.fetch_add(builder.rows as u64, Ordering::Relaxed);
                tx.blocking_send(Ok(builder.finish())).map_err(|_| LakeError::Interrupted)?;
                if force || last_report.elapsed() > Duration::from_millis(200) {
                    report(rows);
                    last_report = Instant::now();
                }
            }
            Ok(())
        };
        for (row, problem) in std::mem::take(&mut self.sample) {
            self.take(&mut builder, rejects, &row.cells, row.number, problem)?;
            flush(&mut builder, false)?;
        }
        while self.source.advance()? {
            let problem = self.source.problem();
            let number = self.source.row_number();
            let row = self.source.current();
            if problem.is_none() && row.is_blank() {
                continue;
            }
            self.take(&mut builder, rejects, row, number, problem)?;
            flush(&mut builder, false)?;
        }
        flush(&mut builder, true)?;
        report(rows);
        rejects.finish(&self.file)?;
        if rejects.count > 0 && rows.load(Ordering::Relaxed) == 0 {
            return Err(LakeError::Invalid(format!(
                "{}: all {} rows were rejected, so nothing was loaded; the reasons are in {}",
                self.file,
                rejects.count,
                rejects.path.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
            )));
        }
        self.source.finish()
    }

    /// One sample row: into the batch, or rejected.
    fn take(
        &self,
        builder: &mut BatchBuilder,
        rejects: &mut Rejects,
        row: &dyn Row,
        number: u64,
        problem: Option<RowProblem>,
    ) -> Result<(), LakeError> {
        let bad = match problem {
            Some(p) => Some(Bad::Row(p)),
            None => builder.push(row).err(),
        };
        match bad {
            None => Ok(()),
            Some(bad) if rejects.path.is_some() => {
                rejects.write(row, number, &describe(&bad, &self.labels), &self.file)
            }
            Some(bad) => Err(self.error(bad, number)),
        }
    }
}

/// (column, value, expected) for a rejects file.
fn describe(bad: &Bad, labels: &[String]) -> [String; 3] {
    match bad {
        Bad::Cell { column, value, ty } => [labels[*column].clone(), value.clone(), ty.expected().to_string()],
        Bad::Row(p) => [p.column.clone(), p.value.clone(), p.expected.clone()],
    }
}

/// The rejected rows' file: `row, column, value, expected`, then the row's cells
/// under the file's headers.
struct Rejects {
    path: Option<PathBuf>,
    writer: Option<csv::Writer<std::fs::File>>,
    headers: Vec<String>,
    count: u64,
}

impl Rejects {
    fn new(path: Option<PathBuf>, headers: &[String]) -> Self {
        Self { path, writer: None, headers: headers.to_vec(), count: 0 }
    }

    fn write(&mut self, row: &dyn Row, number: u64, what: &[String; 3], file: &str) -> Result<(), LakeError> {
        let Some(path) = &self.path else { return Ok(()) };
        let fail = |e: &dyn std::fmt::Display| LakeError::Source {
            file: path.display().to_string(),
            message: format!("cannot write the rejected rows of {file}: {e}"),
        };
        if self.writer.is_none() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
            }
            let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
            let head = ["row", "column", "value", "expected"].into_iter().map(String::from);
            w.write_record(head.chain(self.headers.iter().cloned())).map_err(|e| fail(&e))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("opened above");
        let cells = (0..row.len()).map(|i| row.cell(i).to_text().into_owned());
        let record = [number.to_string(), what[0].clone(), what[1].clone(), what[2].clone()];
        w.write_record(record.into_iter().chain(cells)).map_err(|e| fail(&e))?;
        self.count += 1;
        Ok(())
    }

    fn finish(&mut self, file: &str) -> Result<(), LakeError> {
        if let (Some(w), Some(path)) = (self.writer.as_mut(), &self.path) {
            w.flush().map_err(|e| LakeError::Source {
                file: path.display().to_string(),
                message: format!("cannot write the rejected rows of {file}: {e}"),
            })?;
        }
        Ok(())
    }

    /// Removes a rejects file of a load that failed.
    fn discard(&mut self) {
        if self.writer.take().is_some() {
            if let Some(path) = &self.path {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Builds Arrow columns row by row, checking each cell against its column type. A
/// row is checked whole before any of it is added, so a rejected row leaves no trace.
struct BatchBuilder {
    /// Compose text to NFC (Windows-1258 writes tones as separate combining marks).
    compose: bool,
    schema: SchemaRef,
    types: Vec<ColumnType>,
    columns: Vec<ColumnBuilder>,
    parsed: Vec<Parsed>,
    rows: usize,
}

enum ColumnBuilder {
    Int(Int64Builder),
    Float(Float64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
}

const EPOCH: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

impl BatchBuilder {
    fn new(schema: SchemaRef, types: Vec<ColumnType>, compose: bool) -> Self {
        let parsed = vec![Parsed::Null; types.len()];
        let mut b = Self { compose, schema, types, columns: Vec::new(), parsed, rows: 0 };
        b.reset();
        b
    }

    fn reset(&mut self) {
        self.columns = self
            .types
            .iter()
            .map(|t| match t {
                ColumnType::Integer(_) => ColumnBuilder::Int(Int64Builder::with_capacity(BATCH_ROWS)),
                ColumnType::Decimal(_) => ColumnBuilder::Float(Float64Builder::with_capacity(BATCH_ROWS)),
                ColumnType::Date(_) => ColumnBuilder::Date(Date32Builder::with_capacity(BATCH_ROWS)),
                ColumnType::Boolean => ColumnBuilder::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
                ColumnType::Text => ColumnBuilder::Text(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
            })
            .collect();
        self.rows = 0;
    }

    /// Adds one row, or says what is wrong with it and adds nothing.
    fn push(&mut self, row: &dyn Row) -> Result<(), Bad> {
        let width = self.types.len();
        for (i, ty) in self.types.iter().enumerate() {
            let cell = row.cell(i);
            self.parsed[i] = infer::read(*ty, cell).ok_or_else(|| Bad::Cell {
                column: i,
                value: cell.to_text().into_owned(),
                ty: *ty,
            })?;
        }
        if row.len() > width {
            if let Some(i) = (width..row.len()).find(|&i| !row.cell(i).is_empty()) {
                return Err(Bad::Row(RowProblem {
                    column: format!("column_{}", i + 1),
                    value: row.cell(i).to_text().into_owned(),
                    expected: format!("in one of the table's {width} columns"),
                    fix: "remove the value, or give its column a header among the first rows".into(),
                }));
            }
        }
        for (i, (col, parsed)) in self.columns.iter_mut().zip(&self.parsed).enumerate() {
            match (col, *parsed) {
                (ColumnBuilder::Int(b), Parsed::Integer(v)) => b.append_value(v),
                (ColumnBuilder::Float(b), Parsed::Decimal(v)) => b.append_value(v),
                (ColumnBuilder::Float(b), Parsed::Integer(v)) => b.append_value(v as f64),
                (ColumnBuilder::Date(b), Parsed::Date(d)) => b.append_value((d - EPOCH).num_days() as i32),
                (ColumnBuilder::Bool(b), Parsed::Boolean(v)) => b.append_value(v),
                (ColumnBuilder::Text(b), Parsed::Text) => {
                    let text = row.cell(i).to_text();
                    let composed = || matches!(unicode_normalization::is_nfc_quick(text.chars()), IsNormalized::Yes);
                    if self.compose && !composed() {
                        b.append_value(text.nfc().collect::<String>())
                    } else {
                        b.append_value(text)
                    }
                }
                (ColumnBuilder::Int(b), _) => b.append_null(),
                (ColumnBuilder::Float(b), _) => b.append_null(),
                (ColumnBuilder::Date(b), _) => b.append_null(),
                (ColumnBuilder::Bool(b), _) => b.append_null(),
                (ColumnBuilder::Text(b), _) => b.append_null(),
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    ColumnBuilder::Int(b) => Arc::new(b.finish()),
                    ColumnBuilder::Float(b) => Arc::new(b.finish()),
                    ColumnBuilder::Date(b) => Arc::new(b.finish()),
                    ColumnBuilder::Bool(b) => Arc::new(b.finish()),
                    ColumnBuilder::Text(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).expect("builders match the schema");
        self.rows = 0;
        batch
    }
}
