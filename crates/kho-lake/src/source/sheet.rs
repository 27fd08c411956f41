//! Bảng tính — XLSX and XLS workbooks, one sheet at a time (the one asked for, or the
//! first visible sheet that holds anything). Number, boolean and date cells keep their
//! type; a date-time cell becomes a date when it has no time of day, and text
//! `yyyy-mm-dd hh:mm:ss` otherwise; error cells (`#N/A`) are text, so a number column
//! holding one reports it. Merged regions are handed to header detection.
//!
//! Memory: an XLSX sheet is streamed cell by cell from its zip entry on a thread of
//! its own, through a bounded channel; what stays in memory is the workbook's shared
//! strings table (every distinct text in the workbook, as Excel stores it) and its
//! styles. An XLS workbook (the old binary format, at most 65,536 rows a sheet) is
//! read into memory whole by `calamine`.

use super::{Counted, Detected, Format, Merge, OpenOptions, OwnedRow, Row, RowSource};
use crate::infer::Cell;
use crate::LakeError;
use calamine::{Data, Reader, SheetType, SheetVisible};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use unicode_normalization::UnicodeNormalization;

type Input = Counted<BufReader<File>>;

/// Rows handed from the reading thread to the load at a time, at most.
const QUEUE_ROWS: usize = 1024;

/// A sheet of a workbook, read row by row.
pub struct SheetSource {
    detected: Detected,
    rows: Receiver<Result<OwnedRow, LakeError>>,
    current: OwnedRow,
    merges: Vec<Merge>,
    bytes_read: Arc<AtomicU64>,
    total_bytes: u64,
    path: PathBuf,
    name: String,
}

fn workbook_error(name: &str, e: impl std::fmt::Display) -> LakeError {
    LakeError::Source { file: name.to_string(), message: format!("cannot read the workbook: {e}") }
}

fn open_input(path: &Path, name: &str) -> Result<(Input, u64), LakeError> {
    let file = File::open(path).map_err(|e| LakeError::Source { file: name.to_string(), message: e.to_string() })?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((Counted::new(BufReader::with_capacity(1 << 20, file)), total))
}

/// The worksheets of a workbook, in order, and which of them are visible.
fn worksheets<R: Reader<Input>>(wb: &R) -> Vec<(String, bool)> {
    wb.sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.name.clone(), s.visible == SheetVisible::Visible))
        .collect()
}

/// The names of the worksheets of an XLSX or XLS file, in order.
pub fn sheet_names(path: &Path, name: &str) -> Result<Vec<String>, LakeError> {
    let (input, _) = open_input(path, name)?;
    let sheets = match super::detect_format(path, name)? {
        Format::Xlsx => worksheets(&calamine::Xlsx::new(input).map_err(|e| workbook_error(name, e))?),
        Format::Xls => worksheets(&calamine::Xls::new(input).map_err(|e| workbook_error(name, e))?),
        other => {
            return Err(LakeError::Invalid(format!(
                "{name} is a {} file, not a workbook; only XLSX and XLS files have sheets",
                other.name()
            )))
        }
    };
    Ok(sheets.into_iter().map(|(n, _)| n).collect())
}

/// The sheet asked for, matched exactly or ignoring case and spacing.
fn find_sheet(sheets: &[(String, bool)], wanted: &str, file: &str) -> Result<String, LakeError> {
    let fold = |s: &str| s.trim().nfc().collect::<String>().to_lowercase();
    sheets
        .iter()
        .find(|(n, _)| n == wanted)
        .or_else(|| sheets.iter().find(|(n, _)| fold(n) == fold(wanted)))
        .map(|(n, _)| n.clone())
        .ok_or_else(|| {
            let names: Vec<String> = sheets.iter().map(|(n, _)| format!("{n:?}")).collect();
            LakeError::Invalid(format!(
                "sheet: {file} has no sheet {wanted:?}; its sheets are {}",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ))
        })
}

impl SheetSource {
    pub fn open(path: &Path, format: Format, options: &OpenOptions) -> Result<Self, LakeError> {
        let name = options.name.as_str();
        let (input, total_bytes) = open_input(path, name)?;
        let bytes_read = input.furthest.clone();
        let (tx, rx) = sync_channel(QUEUE_ROWS);
        let (sheet, merges) = match format {
            Format::Xlsx => {
                let mut wb = calamine::Xlsx::new(input).map_err(|e| workbook_error(name, e))?;
                let sheets = worksheets(&wb);
                let sheet = match &options.sheet {
                    Some(wanted) => find_sheet(&sheets, wanted, name)?,
                    None => first_filled(&sheets, name, |s| xlsx_has_cells(&mut wb, s))?,
                };
                let merges = wb.merge_cells_by_sheet_name(&sheet).map_err(|e| workbook_error(name, e))?;
                let (file, sheet_name) = (name.to_string(), sheet.clone());
                let offset = {
                    let cells = wb.worksheet_cells_reader(&sheet).map_err(|e| workbook_error(name, e))?;
                    let d = cells.dimensions();
                    if d.start.1 <= d.end.1 {
                        d.start.1
                    } else {
                        0
                    }
                };
                std::thread::spawn(move || stream_xlsx(wb, &sheet_name, offset, &file, tx));
                (sheet, shift(merges, offset))
            }
            _ => {
                let mut wb = calamine::Xls::new(input).map_err(|e| workbook_error(name, e))?;
                let sheets = worksheets(&wb);
                let sheet = match &options.sheet {
                    Some(wanted) => find_sheet(&sheets, wanted, name)?,
                    None => first_filled(&sheets, name, |s| {
                        Ok(wb.worksheet_range(s).map(|r| r.used_cells().next().is_some()).unwrap_or(false))
                    })?,
                };
                let merges = wb.merge_cells_by_sheet_name(&sheet).map_err(|e| workbook_error(name, e))?;
                let range = wb.worksheet_range(&sheet).map_err(|e| workbook_error(name, e))?;
                drop(wb);
                let (row0, col0) = range.start().unwrap_or((0, 0));
                std::thread::spawn(move || {
                    for (i, cells) in range.rows().enumerate() {
                        let cells: Vec<Cell> = cells.iter().map(|d| cell(d.clone())).collect();
                        if send_row(&tx, row0 as u64 + i as u64 + 1, cells).is_err() {
                            return;
                        }
                    }
                });
                (sheet, shift(merges, col0))
            }
        };
        Ok(Self {
            detected: Detected { format, encoding: None, delimiter: None, sheet: Some(sheet) },
            rows: rx,
            current: OwnedRow { number: 0, cells: Vec::new() },
            merges,
            bytes_read,
            total_bytes,
            path: path.to_path_buf(),
            name: name.to_string(),
        })
    }
}

/// The first visible worksheet with a cell in it.
fn first_filled(
    sheets: &[(String, bool)],
    file: &str,
    mut filled: impl FnMut(&str) -> Result<bool, LakeError>,
) -> Result<String, LakeError> {
    for (sheet, visible) in sheets {
        if *visible && filled(sheet)? {
            return Ok(sheet.clone());
        }
    }
    Err(LakeError::Source { file: file.to_string(), message: "every sheet is empty; nothing to load".into() })
}

fn xlsx_has_cells(wb: &mut calamine::Xlsx<Input>, sheet: &str) -> Result<bool, LakeError> {
    let Ok(mut cells) = wb.worksheet_cells_reader(sheet) else { return Ok(false) };
    while let Ok(Some(c)) = cells.next_cell() {
        if !matches!(cell(Data::from(c.get_value().clone())), Cell::Null) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn shift(merges: Vec<calamine::Dimensions>, col0: u32) -> Vec<Merge> {
    merges
        .into_iter()
        .map(|d| Merge {
            first_row: d.start.0 as u64 + 1,
            last_row: d.end.0 as u64 + 1,
            first_col: d.start.1.saturating_sub(col0) as usize,
            last_col: d.end.1.saturating_sub(col0) as usize,
        })
        .collect()
}

/// Sends a row unless it is blank; `Err` when the load no longer listens.
fn send_row(tx: &SyncSender<Result<OwnedRow, LakeError>>, number: u64, mut cells: Vec<Cell>) -> Result<(), ()> {
    while matches!(cells.last(), Some(Cell::Null)) {
        cells.pop();
    }
    if cells.is_empty() {
        return Ok(());
    }
    tx.send(Ok(OwnedRow { number, cells })).map_err(|_| ())
}

/// Reads an XLSX sheet cell by cell (they come in row order) and sends it row by row.
fn stream_xlsx(
    mut wb: calamine::Xlsx<Input>,
    sheet: &str,
    col0: u32,
    file: &str,
    tx: SyncSender<Result<OwnedRow, LakeError>>,
) {
    let mut reader = match wb.worksheet_cells_reader(sheet) {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(workbook_error(file, e)));
            return;
        }
    };
    let mut row: Option<u32> = None;
    let mut cells: Vec<Cell> = Vec::new();
    loop {
        let next = match reader.next_cell() {
            Ok(next) => next,
            Err(e) => {
                let _ = tx.send(Err(workbook_error(file, e)));
                return;
            }
        };
        let Some(c) = next else { break };
        let (r, col) = c.get_position();
        let value = cell(Data::from(c.get_value().clone()));
        if matches!(value, Cell::Null) {
            continue;
        }
        if row != Some(r) {
            if let Some(prev) = row {
                if send_row(&tx, prev as u64 + 1, std::mem::take(&mut cells)).is_err() {
                    return;
                }
            }
            row = Some(r);
        }
        let Some(i) = col.checked_sub(col0).map(|i| i as usize) else {
            let message = format!(
                "row {}: a cell lies left of the sheet's recorded range; open the file in Excel and save it again",
                r + 1
            );
            let _ = tx.send(Err(LakeError::Source { file: file.to_string(), message }));
            return;
        };
        if cells.len() <= i {
            cells.resize(i + 1, Cell::Null);
        }
        cells[i] = value;
    }
    if let Some(prev) = row {
        let _ = send_row(&tx, prev as u64 + 1, cells);
    }
}

/// A spreadsheet value as Kho's cell.
fn cell(data: Data) -> Cell {
    match data {
        Data::Empty => Cell::Null,
        Data::Int(v) => Cell::Integer(v),
        Data::Float(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Cell::Integer(v as i64),
        Data::Float(v) => Cell::Decimal(v),
        Data::Bool(b) => Cell::Boolean(b),
        Data::String(s) if s.trim().is_empty() => Cell::Null,
        Data::String(s) => Cell::Text(s),
        Data::Error(e) => Cell::Text(e.to_string()),
        Data::DurationIso(s) => Cell::Text(s),
        Data::DateTimeIso(s) => match chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) => Cell::Date(d),
            Err(_) => match chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S") {
                Ok(t) => date_time(t),
                Err(_) => Cell::Text(s),
            },
        },
        Data::DateTime(dt) => {
            if dt.is_duration() || dt.as_f64() < 1.0 {
                // A time of day or a duration: hh:mm:ss.
                let secs = (dt.as_f64() * 86_400.0).round() as i64;
                Cell::Text(format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60))
            } else {
                match dt.as_datetime() {
                    Some(t) => date_time(t),
                    None => Cell::Decimal(dt.as_f64()),
                }
            }
        }
    }
}

fn date_time(t: chrono::NaiveDateTime) -> Cell {
    if t.time() == chrono::NaiveTime::MIN {
        Cell::Date(t.date())
    } else {
        Cell::Text(t.format("%Y-%m-%d %H:%M:%S").to_string())
    }
}

impl RowSource for SheetSource {
    fn advance(&mut self) -> Result<bool, LakeError> {
        match self.rows.recv() {
            Ok(Ok(row)) => {
                self.current = row;
                Ok(true)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }

    fn current(&self) -> &dyn Row {
        &self.current.cells
    }

    fn row_number(&self) -> u64 {
        self.current.number
    }

    fn merges(&self) -> &[Merge] {
        &self.merges
    }

    fn detected(&self) -> &Detected {
        &self.detected
    }

    fn bytes_read(&self) -> Arc<AtomicU64> {
        self.bytes_read.clone()
    }

    fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    fn finish(&mut self) -> Result<String, LakeError> {
        super::hash_file(&self.path, &self.name)
    }
}
