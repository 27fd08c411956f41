//! Nạp dữ liệu — streaming a file into a Delta table. A blocking reader parses the
//! file into Arrow batches and hands them, through a small bounded channel, to a
//! DataFusion plan that Delta's writer consumes: memory stays bounded by a few
//! batches whatever the file's size. The write is one Delta commit; if reading fails
//! (a bad cell, a dropped task), nothing is committed.

use crate::infer::{self, Cell, ColumnType};
use crate::source::DelimitedSource;
use crate::versions::{RowChanges, VersionFacts};
use crate::{column_names, Lake, LakeError};
use deltalake::arrow::array::{ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::datasource::provider_as_source;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::logical_expr::LogicalPlanBuilder;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use deltalake::DeltaTable;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use unicode_normalization::UnicodeNormalization;

// Rows read to infer column types.
const SAMPLE_ROWS: usize = 1000;
/// Rows per Arrow batch.
const BATCH_ROWS: usize = 16 * 1024;

/// How a load changes the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// The file becomes the whole table (a new schema is allowed).
    #[default]
    Replace,
    /// The file's rows are added; the columns must match.
    Append,
    /// Rows whose key is already in the table replace those rows; the others are
    /// added (cập nhật theo khoá). Needs a key; the columns must match.
    Upsert,
}

impl LoadMode {
    pub fn parse(s: &str) -> Result<Self, LakeError> {
        match s {
            "replace" => Ok(Self::Replace),
            "append" => Ok(Self::Append),
            "upsert" => Ok(Self::Upsert),
            other => {
                Err(LakeError::Invalid(format!("mode: {other:?} is not a load mode; use replace, append or upsert")))
            }
        }
    }
}

/// What to load and how.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub mode: LoadMode,
    /// The delimiter, when it should not be detected.
    pub delimiter: Option<u8>,
    /// Who loads (recorded in the version).
    pub loaded_by: String,
    /// The file name to record (the path may be a temporary upload).
    pub source_name: String,
    /// The columns (names or headers) that identify a row (khoá): required for
    /// upsert; with any mode, recorded so versions can be compared row by row.
    pub key: Vec<String>,
}

/// Progress of a running load.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub rows: u64,
}

/// One column of a loaded table.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LoadedColumn {
    pub name: String,
    /// The header as written in the file.
    pub header: String,
    /// `integer`, `decimal`, `date`, `boolean` or `text`.
    pub kind: String,
}

/// The summary of a finished load.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// Kho's version number of the table after the load (1 for the first).
    pub version: i64,
    pub rows: u64,
    pub columns: Vec<LoadedColumn>,
    /// Rows added, removed and changed, when the load alone tells (append, upsert).
    pub changes: Option<RowChanges>,
    pub bytes: u64,
    pub sha256: String,
    pub encoding: String,
    pub delimiter: String,
    pub seconds: f64,
}

fn kind_name(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Integer(_) => "integer",
        ColumnType::Decimal(_) => "decimal",
        ColumnType::Date(_) => "date",
        ColumnType::Boolean => "boolean",
        ColumnType::Text => "text",
    }
}

fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Integer(_) => DataType::Int64,
        ColumnType::Decimal(_) => DataType::Float64,
        ColumnType::Date(_) => DataType::Date32,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Text => DataType::Utf8,
    }
}

/// Builds Arrow columns row by row, checking each cell against its column type.
struct BatchBuilder {
    /// Compose text to NFC (Windows-1258 writes tones as separate combining marks).
    compose: bool,
    schema: SchemaRef,
    types: Vec<ColumnType>,
    headers: Vec<String>,
    file: String,
    columns: Vec<ColumnBuilder>,
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
    fn new(schema: SchemaRef, types: Vec<ColumnType>, headers: Vec<String>, file: String, compose: bool) -> Self {
        let mut b = Self { compose, schema, types, headers, file, columns: Vec::new(), rows: 0 };
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

    /// Adds one record; `line` is its 1-based row number in the file.
    fn push(&mut self, record: &csv::StringRecord, line: u64) -> Result<(), LakeError> {
        for (i, (ty, col)) in self.types.iter().zip(self.columns.iter_mut()).enumerate() {
            let raw = record.get(i).unwrap_or("");
            let cell = infer::parse(*ty, raw).ok_or_else(|| LakeError::Cell {
                file: self.file.clone(),
                row: line,
                column: self.headers[i].clone(),
                value: raw.to_string(),
                expected: ty.expected(),
            })?;
            match (col, cell) {
                (ColumnBuilder::Int(b), Cell::Integer(v)) => b.append_value(v),
                (ColumnBuilder::Float(b), Cell::Decimal(v)) => b.append_value(v),
                (ColumnBuilder::Float(b), Cell::Integer(v)) => b.append_value(v as f64),
                (ColumnBuilder::Date(b), Cell::Date(d)) => b.append_value((d - EPOCH).num_days() as i32),
                (ColumnBuilder::Bool(b), Cell::Boolean(v)) => b.append_value(v),
                (ColumnBuilder::Text(b), Cell::Text(v)) if self.compose => b.append_value(v.nfc().collect::<String>()),
                (ColumnBuilder::Text(b), Cell::Text(v)) => b.append_value(v),
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

type BatchResult = Result<RecordBatch, DataFusionError>;

/// The reader's batches as a DataFusion partition, consumed once.
#[derive(Debug)]
struct ChannelPartition {
    schema: SchemaRef,
    receiver: Mutex<Option<mpsc::Receiver<BatchResult>>>,
    /// For an upsert: the key must identify one row of the file.
    unique: Option<UniqueKey>,
}

/// Checks, as batches pass, that no key appears twice in the file.
#[derive(Debug, Clone)]
struct UniqueKey {
    columns: Vec<usize>,
    file: String,
    /// Where the duplicate is reported: the load's own error slot.
    error: Arc<Mutex<Option<LakeError>>>,
}

impl UniqueKey {
    /// Two independent 64-bit hashes of each key, so that different keys practically
    /// never collide, without holding the keys themselves.
    fn check(
        &self,
        seen: &mut std::collections::HashSet<(u64, u64)>,
        first_row: u64,
        batch: &RecordBatch,
    ) -> BatchResult {
        use deltalake::arrow::util::display::array_value_to_string;
        use std::hash::{Hash, Hasher};
        for row in 0..batch.num_rows() {
            let values: Vec<String> =
                self.columns.iter().map(|&c| array_value_to_string(batch.column(c), row).unwrap_or_default()).collect();
            let hash = |salt: u8| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                salt.hash(&mut h);
                values.hash(&mut h);
                h.finish()
            };
            if !seen.insert((hash(1), hash(2))) {
                let names: Vec<&str> =
                    self.columns.iter().map(|&c| batch.schema_ref().field(c).name().as_str()).collect();
                *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(LakeError::Invalid(format!(
                    "{}: the key {} = {} appears more than once (again at data row {}); an upsert needs one row per key",
                    self.file,
                    names.join(", "),
                    values.join(", "),
                    first_row + row as u64 + 1
                )));
                return Err(DataFusionError::Execution("a key appears twice in the file".into()));
            }
        }
        Ok(batch.clone())
    }
}

impl PartitionStream for ChannelPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let receiver = self.receiver.lock().unwrap_or_else(|e| e.into_inner()).take();
        let unique = self.unique.clone();
        let state = (receiver, std::collections::HashSet::new(), 0_u64);
        let stream = futures::stream::unfold(state, move |(rx, mut seen, rows)| {
            let unique = unique.clone();
            async move {
                let mut rx = rx?;
                let item = rx.recv().await?;
                let (item, count) = match (item, &unique) {
                    (Ok(batch), Some(key)) => {
                        let n = batch.num_rows() as u64;
                        (key.check(&mut seen, rows, &batch), n)
                    }
                    (item, _) => (item, 0),
                };
                Some((item, (Some(rx), seen, rows + count)))
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

impl Lake {
    /// Loads a delimited text file into `table` of `resource_id` as one new version.
    pub async fn ingest(
        &self,
        resource_id: &str,
        table: &str,
        path: &Path,
        options: IngestOptions,
        progress: impl Fn(Progress) + Send + 'static,
    ) -> Result<IngestReport, LakeError> {
        let started = Instant::now();
        let delta = self.open(resource_id, table).await?;
        let file_name = options.source_name.clone();

        // Read the header and a sample to settle the columns.
        let path_buf = path.to_path_buf();
        let delimiter = options.delimiter;
        let name = file_name.clone();
        let (mut source, headers, sample) = tokio::task::spawn_blocking(move || -> Result<_, LakeError> {
            let mut source = DelimitedSource::open(&path_buf, delimiter)?;
            let mut records = source.reader.records();
            let headers: Vec<String> = match records.next() {
                Some(Ok(r)) => r.iter().map(|h| h.trim().nfc().collect()).collect(),
                Some(Err(e)) => return Err(LakeError::Source { file: name, message: e.to_string() }),
                None => {
                    return Err(LakeError::Source { file: name, message: "the file is empty; nothing to load".into() })
                }
            };
            let mut sample = Vec::new();
            for r in records.by_ref().take(SAMPLE_ROWS) {
                sample.push(r.map_err(|e| LakeError::Source { file: name.clone(), message: e.to_string() })?);
            }
            drop(records);
            Ok((source, headers, sample))
        })
        .await
        .map_err(|_| LakeError::Interrupted)??;
        if headers.iter().all(|h| h.is_empty()) {
            return Err(LakeError::Source { file: file_name, message: "the first row has no column names".into() });
        }
        let types: Vec<ColumnType> =
            (0..headers.len()).map(|i| infer::infer(sample.iter().map(|r| r.get(i).unwrap_or("")))).collect();
        let names = column_names(&headers);
        let fields: Vec<Field> = names
            .iter()
            .zip(&types)
            .zip(&headers)
            .map(|((n, t), h)| {
                Field::new(n, arrow_type(*t), true)
                    .with_metadata([("kho.header".to_string(), h.clone())].into_iter().collect())
            })
            .collect();
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let key = resolve_key(&options.key, &names, &headers, options.mode)?;
        let key_for_facts = key.clone();
        let columns: Vec<LoadedColumn> = names
            .iter()
            .zip(&types)
            .zip(&headers)
            .map(|((n, t), h)| LoadedColumn { name: n.clone(), header: h.clone(), kind: kind_name(*t).into() })
            .collect();

        // The reader: sample rows first, then the rest of the file.
        let (tx, rx) = mpsc::channel::<BatchResult>(2);
        let rows = Arc::new(AtomicU64::new(0));
        let (total_bytes, bytes_read) = (source.total_bytes, source.bytes_read.clone());
        // The reader's own error, kept here: DataFusion only learns that reading stopped.
        let read_error: Arc<Mutex<Option<LakeError>>> = Arc::default();
        let reader = {
            let (schema, types, headers, file, rows) =
                (schema.clone(), types.clone(), headers.clone(), file_name.clone(), rows.clone());
            let read_error = read_error.clone();
            tokio::task::spawn_blocking(move || {
                let fail = |e: LakeError| {
                    *read_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    DataFusionError::Execution("reading the source file failed".into())
                };
                let compose = source.detected.encoding == encoding_rs::WINDOWS_1258.name();
                let mut builder = BatchBuilder::new(schema, types, headers, file.clone(), compose);
                let mut last_report = Instant::now();
                let rest = source
                    .reader
                    .records()
                    .map(|r| r.map_err(|e| LakeError::Source { file: file.clone(), message: e.to_string() }));
                // Line 1 is the header; data rows are numbered from 2, as a spreadsheet shows them.
                for (line, record) in (2_u64..).zip(sample.into_iter().map(Ok).chain(rest)) {
                    let pushed = record.and_then(|r| builder.push(&r, line));
                    if let Err(e) = pushed {
                        let _ = tx.blocking_send(Err(fail(e)));
                        return None;
                    }
                    if builder.rows == BATCH_ROWS {
                        rows.fetch_add(BATCH_ROWS as u64, Ordering::Relaxed);
                        if tx.blocking_send(Ok(builder.finish())).is_err() {
                            return None;
                        }
                        if last_report.elapsed() > Duration::from_millis(200) {
                            progress(Progress {
                                bytes_read: bytes_read.load(Ordering::Relaxed),
                                total_bytes,
                                rows: rows.load(Ordering::Relaxed),
                            });
                            last_report = Instant::now();
                        }
                    }
                }
                if builder.rows > 0 {
                    rows.fetch_add(builder.rows as u64, Ordering::Relaxed);
                    let _ = tx.blocking_send(Ok(builder.finish()));
                }
                progress(Progress {
                    bytes_read: bytes_read.load(Ordering::Relaxed),
                    total_bytes,
                    rows: rows.load(Ordering::Relaxed),
                });
                let report = (source.sha256(), source.detected.clone());
                drop(source);
                Some(report)
            })
        };

        let unique = (options.mode == LoadMode::Upsert).then(|| UniqueKey {
            columns: key.iter().filter_map(|k| names.iter().position(|n| n == k)).collect(),
            file: file_name.clone(),
            error: read_error.clone(),
        });
        let partition = Arc::new(ChannelPartition { schema: schema.clone(), receiver: Mutex::new(Some(rx)), unique });
        let provider =
            StreamingTable::try_new(schema.clone(), vec![partition]).map_err(deltalake::DeltaTableError::from)?;

        // The commit records what was loaded, by whom and with which key.
        let rows_for_commit = rows.clone();
        let mut metadata = vec![
            ("kho.source".to_string(), serde_json::json!(options.source_name)),
            ("kho.loaded_by".to_string(), serde_json::json!(options.loaded_by)),
            ("kho.mode".to_string(), serde_json::json!(options.mode)),
        ];
        if !key.is_empty() {
            metadata.push(("kho.key".to_string(), serde_json::json!(key)));
        }
        let commit = CommitProperties::default().with_metadata(metadata);
        let write = async move {
            if options.mode == LoadMode::Upsert && delta.version().is_some() {
                let (table, changes) = upsert(delta, provider, &key, &names, commit).await?;
                return Ok((table, Some(changes)));
            }
            let plan = LogicalPlanBuilder::scan("source", provider_as_source(Arc::new(provider)), None)?.build()?;
            let mut builder = delta.write(Vec::<RecordBatch>::new()).with_input_plan(plan);
            builder = match options.mode {
                LoadMode::Replace | LoadMode::Upsert => {
                    builder.with_save_mode(SaveMode::Overwrite).with_schema_mode(SchemaMode::Overwrite)
                }
                LoadMode::Append => builder.with_save_mode(SaveMode::Append),
            };
            Ok::<_, deltalake::DeltaTableError>((builder.with_commit_properties(commit).await?, None))
        };
        let written = write.await;
        let read = reader.await.map_err(|_| LakeError::Interrupted)?;
        let (table, changes) = match written {
            Ok(t) => t,
            Err(e) => {
                let reading = read_error.lock().unwrap_or_else(|p| p.into_inner()).take();
                return Err(reading.unwrap_or_else(|| write_failure(e)));
            }
        };
        let (sha256, detected) = read.ok_or(LakeError::Interrupted)?;
        let version = table.version().unwrap_or(0) as i64 + 1;
        let rows = rows_for_commit.load(Ordering::Relaxed);
        let changes = changes.or((options.mode == LoadMode::Append).then_some(RowChanges {
            added: rows,
            removed: 0,
            changed: 0,
        }));
        let facts = VersionFacts {
            sha256: sha256.clone(),
            rows: crate::versions::row_count(&table),
            columns: columns.clone(),
            key: key_for_facts,
            changes,
        };
        // The version is committed; its facts are a record beside it, so a failure
        // here is logged and leaves the version as it is.
        if let Err(e) = crate::versions::write_facts(&table, version, &facts).await {
            tracing::warn!(error = %e, version, "the version's facts could not be written");
        }
        Ok(IngestReport {
            version,
            rows,
            columns,
            changes,
            bytes: total_bytes,
            sha256,
            encoding: detected.encoding.to_string(),
            delimiter: (detected.delimiter as char).to_string(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// Merges the file into the table on `key`: rows whose key is present and whose
/// values differ are replaced, new keys are added, the rest stay as they are.
async fn upsert(
    delta: DeltaTable,
    provider: StreamingTable,
    key: &[String],
    columns: &[String],
    commit: CommitProperties,
) -> Result<(DeltaTable, RowChanges), deltalake::DeltaTableError> {
    use deltalake::datafusion::logical_expr::{binary_expr, Operator};
    use deltalake::datafusion::prelude::{col, Expr, SessionContext};
    let side = |alias: &str, c: &str| col(format!("{alias}.{c}"));
    let source = SessionContext::new().read_table(Arc::new(provider))?;
    let on = key.iter().map(|k| side("target", k).eq(side("source", k))).reduce(Expr::and);
    let on = on.ok_or_else(|| deltalake::DeltaTableError::Generic("an upsert needs a key".into()))?;
    let values: Vec<&String> = columns.iter().filter(|c| !key.contains(c)).collect();
    let differs = values
        .iter()
        .map(|c| binary_expr(side("target", c), Operator::IsDistinctFrom, side("source", c)))
        .reduce(Expr::or);
    let mut merge = delta
        .merge(source, on)
        .with_source_alias("source")
        .with_target_alias("target")
        .with_streaming(true)
        .with_commit_properties(commit);
    if let Some(differs) = differs {
        merge = merge.when_matched_update(|update| {
            values.iter().fold(update.predicate(differs), |u, c| u.update(c.as_str(), side("source", c)))
        })?;
    }
    let (table, metrics) = merge
        .when_not_matched_insert(|insert| columns.iter().fold(insert, |i, c| i.set(c.as_str(), side("source", c))))?
        .await?;
    let changes = RowChanges {
        added: metrics.num_target_rows_inserted as u64,
        removed: 0,
        changed: metrics.num_target_rows_updated as u64,
    };
    Ok((table, changes))
}

/// The key's column names, from names or headers as the caller wrote them.
fn resolve_key(
    requested: &[String],
    names: &[String],
    headers: &[String],
    mode: LoadMode,
) -> Result<Vec<String>, LakeError> {
    if mode == LoadMode::Upsert && requested.is_empty() {
        return Err(LakeError::Invalid(
            "key: an upsert needs the column(s) that identify a row; name them with key (e.g. --key ma_ho)".into(),
        ));
    }
    let mut key = Vec::new();
    for wanted in requested.iter().flat_map(|k| k.split(',')).map(str::trim).filter(|k| !k.is_empty()) {
        let found = names.iter().zip(headers).find(|(n, h)| *n == wanted || h.as_str() == wanted).map(|(n, _)| n);
        match found {
            Some(name) if !key.contains(name) => key.push(name.clone()),
            Some(_) => {}
            None => {
                return Err(LakeError::Invalid(format!(
                    "key: the file has no column {wanted:?}; its columns are {}",
                    names.join(", ")
                )))
            }
        }
    }
    Ok(key)
}

/// Explains a failed write that was not caused by reading the file.
fn write_failure(e: deltalake::DeltaTableError) -> LakeError {
    let text = e.to_string();
    if text.to_lowercase().contains("schema") {
        return LakeError::Invalid(format!(
            "the file's columns do not match the table's; load it with mode replace to change the columns ({text})"
        ));
    }
    LakeError::Delta(e)
}
