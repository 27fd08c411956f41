//! Parquet files, read batch by batch with the Parquet crate's Arrow reader (the one
//! Delta itself uses). The file's schema names the columns and gives their types:
//! whole numbers are integer columns, floating point and decimal numbers are decimal
//! columns, dates are dates, booleans booleans, and everything else (timestamps,
//! binary, nested values) is kept as text as Arrow displays it.

use super::{Detected, Format, Row, RowSource, SourceColumn};
use crate::infer::{CellRef, ColumnType, DateStyle, NumberStyle};
use crate::LakeError;
use deltalake::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use deltalake::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const BATCH_ROWS: usize = 8 * 1024;

/// The column type a Parquet (Arrow) type loads as.
fn kind(t: &DataType) -> ColumnType {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 => ColumnType::Integer(NumberStyle::International),
        UInt64 | Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => {
            ColumnType::Decimal(NumberStyle::International)
        }
        Date32 | Date64 => ColumnType::Date(DateStyle::Iso),
        Boolean => ColumnType::Boolean,
        _ => ColumnType::Text,
    }
}

/// A batch's column, cast to the Arrow type of its column type.
enum Column {
    Int(ArrayRef),
    Float(ArrayRef),
    Date(ArrayRef),
    Bool(ArrayRef),
    Text(ArrayRef),
}

/// One row of the current batch.
struct BatchRow {
    columns: Vec<Column>,
    index: usize,
}

impl Row for BatchRow {
    fn len(&self) -> usize {
        self.columns.len()
    }

    fn cell(&self, i: usize) -> CellRef<'_> {
        let Some(c) = self.columns.get(i) else { return CellRef::Empty };
        let (Column::Int(a) | Column::Float(a) | Column::Date(a) | Column::Bool(a) | Column::Text(a)) = c;
        let r = self.index;
        if a.is_null(r) {
            return CellRef::Empty;
        }
        match c {
            Column::Int(a) => CellRef::Integer(a.as_primitive::<Int64Type>().value(r)),
            Column::Float(a) => CellRef::Decimal(a.as_primitive::<Float64Type>().value(r)),
            Column::Date(a) => match a.as_primitive::<Date32Type>().value_as_date(r) {
                Some(d) => CellRef::Date(d),
                None => CellRef::Empty,
            },
            Column::Bool(a) => CellRef::Boolean(a.as_boolean().value(r)),
            Column::Text(a) => CellRef::Text(a.as_string::<i32>().value(r)),
        }
    }
}

/// A Parquet file read batch by batch.
pub struct ParquetSource {
    detected: Detected,
    reader: ParquetRecordBatchReader,
    fields: Vec<(String, DataType)>,
    row: BatchRow,
    batch_rows: usize,
    number: u64,
    total_rows: u64,
    bytes_read: Arc<AtomicU64>,
    total_bytes: u64,
    path: PathBuf,
    name: String,
}

impl ParquetSource {
    pub fn open(path: &Path, name: &str) -> Result<Self, LakeError> {
        let fail = |e: &dyn std::fmt::Display| LakeError::Source {
            file: name.to_string(),
            message: format!("cannot read the Parquet file: {e}"),
        };
        let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| fail(&e))?;
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let fields = builder.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
        let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| fail(&e))?;
        Ok(Self {
            detected: Detected { format: Format::Parquet, encoding: None, delimiter: None, sheet: None },
            reader,
            fields,
            row: BatchRow { columns: Vec::new(), index: 0 },
            batch_rows: 0,
            number: 0,
            total_rows,
            bytes_read: Arc::new(AtomicU64::new(0)),
            total_bytes,
            path: path.to_path_buf(),
            name: name.to_string(),
        })
    }

    fn fail(&self, e: impl std::fmt::Display) -> LakeError {
        LakeError::Source { file: self.name.clone(), message: format!("cannot read the Parquet file: {e}") }
    }

    /// A column of a batch in the Arrow type its column type is built from.
    fn normalise(&self, array: &ArrayRef) -> Result<Column, LakeError> {
        let cast_to = |t: &DataType| cast(array, t).map_err(|e| self.fail(e));
        Ok(match kind(array.data_type()) {
            ColumnType::Integer(_) => Column::Int(cast_to(&DataType::Int64)?),
            ColumnType::Decimal(_) => Column::Float(cast_to(&DataType::Float64)?),
            ColumnType::Date(_) => Column::Date(cast_to(&DataType::Date32)?),
            ColumnType::Boolean => Column::Bool(array.clone()),
            ColumnType::Text => match array.data_type() {
                DataType::Utf8 => Column::Text(array.clone()),
                DataType::LargeUtf8 | DataType::Utf8View => Column::Text(cast_to(&DataType::Utf8)?),
                _ => {
                    let options = FormatOptions::default();
                    let formatter = ArrayFormatter::try_new(array.as_ref(), &options).map_err(|e| self.fail(e))?;
                    let mut b = StringBuilder::with_capacity(array.len(), array.len() * 16);
                    for i in 0..array.len() {
                        if array.is_null(i) {
                            b.append_null();
                        } else {
                            b.append_value(formatter.value(i).to_string());
                        }
                    }
                    Column::Text(Arc::new(b.finish()))
                }
            },
        })
    }
}

impl RowSource for ParquetSource {
    fn advance(&mut self) -> Result<bool, LakeError> {
        self.row.index += 1;
        while self.row.index >= self.batch_rows {
            let Some(batch) = self.reader.next() else { return Ok(false) };
            let batch = batch.map_err(|e| self.fail(e))?;
            let columns = batch.columns().iter().map(|a| self.normalise(a)).collect::<Result<Vec<_>, _>>()?;
            self.row = BatchRow { columns, index: 0 };
            self.batch_rows = batch.num_rows();
        }
        self.number += 1;
        if self.total_rows > 0 {
            let estimate = self.total_bytes as f64 * self.number as f64 / self.total_rows as f64;
            self.bytes_read.store(estimate as u64, Ordering::Relaxed);
        }
        Ok(true)
    }

    fn current(&self) -> &dyn Row {
        &self.row
    }

    fn row_number(&self) -> u64 {
        self.number
    }

    fn columns(&mut self) -> Option<Vec<SourceColumn>> {
        Some(
            self.fields
                .iter()
                .map(|(name, t)| SourceColumn { header: name.clone(), kind: Some(kind(t)), metadata: Vec::new() })
                .collect(),
        )
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
        self.bytes_read.store(self.total_bytes, Ordering::Relaxed);
        super::hash_file(&self.path, &self.name)
    }
}
