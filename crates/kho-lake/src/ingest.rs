//! Nạp dữ liệu — streaming a file into a Delta table. A blocking reader parses the
//! file into Arrow batches and hands them, through a small bounded channel, to a
//! DataFusion plan that Delta's writer consumes: memory stays bounded by a few
//! batches whatever the file's size. The write is one Delta commit; if reading fails
//! (a bad cell, a dropped task), nothing is committed.

use crate::read::{self, BatchResult};
use crate::source::Format;
use crate::versions::{RowChanges, VersionFacts};
use crate::{Lake, LakeError};
use deltalake::arrow::datatypes::SchemaRef;
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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// Rows in a row group of the table's Parquet files. A read fetches a row group's
/// column chunks whole, so this bounds what a page of the tabular API costs: 128 Ki
/// rows (DuckDB writes 122,880) instead of the writer's default of a million, which
/// made a one-row page decode a million-row chunk of every column.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Rows in a data page (at most). A filtered read decodes the filter's columns, then
/// only the pages of the other columns that hold a matching row (the offset index
/// says where each page is): small pages let a selective filter skip most of them.
pub const PAGE_ROWS: usize = 2048;

/// How the table's Parquet files are written: Snappy, as Delta's writer does by
/// default, in row groups of [`ROW_GROUP_ROWS`] and pages of [`PAGE_ROWS`].
fn writer_properties() -> deltalake::parquet::file::properties::WriterProperties {
    deltalake::parquet::file::properties::WriterProperties::builder()
        .set_compression(deltalake::parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .build()
}

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
    /// The file name to record (the path may be a temporary upload); its extension
    /// helps tell the format.
    pub source_name: String,
    /// The format, when it should not be detected.
    pub format: Option<Format>,
    /// The sheet of a workbook to load; the first non-empty one when `None`.
    pub sheet: Option<String>,
    /// The header row as the file numbers it, when it should not be detected; `Some(0)`
    /// for a file without a header.
    pub header_row: Option<u64>,
    /// Declared column types, (column, `integer|decimal|date|boolean|text`): they
    /// override inference. The column is its header as written or its column name.
    pub schema: Vec<(String, String)>,
    /// When set, rows with a bad cell are left out and written to this CSV file
    /// (`row, column, value, expected`, then the row's cells) instead of failing the
    /// load; the good rows are still committed as one version.
    pub rejects: Option<PathBuf>,
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
    /// `csv`, `xlsx`, `xls`, `json`, `ndjson`, `geojson` or `parquet`.
    pub format: String,
    /// The sheet loaded, for workbooks.
    pub sheet: Option<String>,
    /// The row the header was read from, as the file numbers it (none for a file
    /// without a header, or one that names its columns itself such as JSON).
    pub header_row: Option<u64>,
    /// Rows left out and written to the rejects file.
    pub rejected_rows: u64,
    /// Where the rejected rows were written, when there were any.
    pub rejects_file: Option<String>,
}

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
    /// Loads a file (CSV, XLSX, XLS, JSON, NDJSON, GeoJSON or Parquet) into `table` of
    /// `resource_id` as one new version.
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

        // Open the file, find its header and settle the columns from a sample.
        let path_buf = path.to_path_buf();
        let read_options = options.clone();
        let existing: Vec<(String, &'static str)> = match (options.mode, delta.version()) {
            (LoadMode::Append | LoadMode::Upsert, Some(_)) => crate::versions::arrow_schema(&delta)
                .await?
                .fields()
                .iter()
                .map(|f| (f.name().clone(), crate::versions::kind_of(f.data_type())))
                .collect(),
            _ => Vec::new(),
        };
        let prepared = tokio::task::spawn_blocking(move || read::prepare(&path_buf, &read_options, &existing))
            .await
            .map_err(|_| LakeError::Interrupted)??;
        let (schema, columns, header_row) = (prepared.schema.clone(), prepared.columns.clone(), prepared.header_row);
        let file_name = options.source_name.clone();
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let headers: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
        let key = resolve_key(&options.key, &names, &headers, options.mode)?;
        let key_for_facts = key.clone();

        // The reader: sample rows first, then the rest of the file.
        let (tx, rx) = mpsc::channel::<BatchResult>(2);
        let rows = Arc::new(AtomicU64::new(0));
        // The reader's own error, kept here: DataFusion only learns that reading stopped.
        let read_error: Arc<Mutex<Option<LakeError>>> = Arc::default();
        let reader = {
            let (rows, read_error) = (rows.clone(), read_error.clone());
            tokio::task::spawn_blocking(move || prepared.run(tx, rows, read_error, progress))
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
        let commit = commit_properties(&options.source_name, &options.loaded_by, options.mode, &key, vec![]);
        let write = async move {
            if options.mode == LoadMode::Upsert && delta.version().is_some() {
                let (table, changes) = upsert(delta, provider, &key, &names, commit).await?;
                return Ok((table, Some(changes)));
            }
            let replace = options.mode != LoadMode::Append;
            Ok::<_, deltalake::DeltaTableError>((write_rows(delta, provider, replace, commit).await?, None))
        };
        let written = write.await;
        let read = reader.await.map_err(|_| LakeError::Interrupted)?;
        let (table, changes) = match written {
            Ok(t) => t,
            Err(e) => {
                if let Some(path) = read.as_ref().and_then(|r| r.rejects_file.as_ref()) {
                    let _ = std::fs::remove_file(path);
                }
                let reading = read_error.lock().unwrap_or_else(|p| p.into_inner()).take();
                return Err(reading.unwrap_or_else(|| write_failure(e)));
            }
        };
        let read = read.ok_or(LakeError::Interrupted)?;
        let sha256 = read.sha256.clone();
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
            bytes: read.total_bytes,
            sha256: read.sha256,
            encoding: read.detected.encoding.unwrap_or_default().to_string(),
            delimiter: read.detected.delimiter.map(|d| (d as char).to_string()).unwrap_or_default(),
            seconds: started.elapsed().as_secs_f64(),
            format: read.detected.format.name().to_string(),
            sheet: read.detected.sheet,
            header_row,
            rejected_rows: read.rejected_rows,
            rejects_file: read.rejects_file.map(|p| p.display().to_string()),
        })
    }
}

/// What a commit records of a new version: its source, who made it, how (`replace`,
/// `append`, `upsert`) and with which key, and `extra` facts.
pub(crate) fn commit_properties(
    source: &str,
    made_by: &str,
    mode: LoadMode,
    key: &[String],
    extra: Vec<(String, serde_json::Value)>,
) -> CommitProperties {
    let mut metadata = vec![
        ("kho.source".to_string(), serde_json::json!(source)),
        ("kho.loaded_by".to_string(), serde_json::json!(made_by)),
        ("kho.mode".to_string(), serde_json::json!(mode)),
    ];
    if !key.is_empty() {
        metadata.push(("kho.key".to_string(), serde_json::json!(key)));
    }
    metadata.extend(extra);
    CommitProperties::default().with_metadata(metadata)
}

/// Writes the rows `provider` streams as one commit: the whole new table (`replace`,
/// a new schema allowed) or rows added to it.
pub(crate) async fn write_rows(
    delta: DeltaTable,
    provider: StreamingTable,
    replace: bool,
    commit: CommitProperties,
) -> Result<DeltaTable, deltalake::DeltaTableError> {
    let plan = LogicalPlanBuilder::scan("source", provider_as_source(Arc::new(provider)), None)?.build()?;
    let builder =
        delta.write(Vec::<RecordBatch>::new()).with_input_plan(plan).with_writer_properties(writer_properties());
    let builder = if replace {
        builder.with_save_mode(SaveMode::Overwrite).with_schema_mode(SchemaMode::Overwrite)
    } else {
        builder.with_save_mode(SaveMode::Append)
    };
    builder.with_commit_properties(commit).await
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
        .with_writer_properties(writer_properties())
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
