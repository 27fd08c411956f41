//! Nạp dữ liệu — streaming a file into a Delta table. A blocking reader parses the
//! file into Arrow batches and hands them, through a small bounded channel, to a
//! DataFusion plan that Delta's writer consumes: memory stays bounded by a few
//! batches whatever the file's size. The write is one Delta commit; if reading fails
//! (a bad cell, a dropped task), nothing is committed.

use crate::read::{self, BatchResult};
use crate::source::Format;
use crate::{Lake, LakeError};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::datasource::provider_as_source;
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::logical_expr::LogicalPlanBuilder;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// How a load changes the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// The file becomes the whole table (a new schema is allowed).
    Replace,
    /// The file's rows are added; the columns must match.
    Append,
}

impl LoadMode {
    pub fn parse(s: &str) -> Result<Self, LakeError> {
        match s {
            "replace" => Ok(Self::Replace),
            "append" => Ok(Self::Append),
            other => Err(LakeError::Invalid(format!("mode: {other:?} is not a load mode; use replace or append"))),
        }
    }
}

/// What to load and how.
#[derive(Debug, Clone)]
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
}

/// Progress of a running load.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub rows: u64,
}

/// One column of a loaded table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
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
}

impl PartitionStream for ChannelPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let receiver = self.receiver.lock().unwrap_or_else(|e| e.into_inner()).take();
        let stream = futures::stream::unfold(receiver, |rx| async move {
            let mut rx = rx?;
            rx.recv().await.map(|item| (item, Some(rx)))
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
        let prepared = tokio::task::spawn_blocking(move || read::prepare(&path_buf, &read_options))
            .await
            .map_err(|_| LakeError::Interrupted)??;
        let (schema, columns, header_row) = (prepared.schema.clone(), prepared.columns.clone(), prepared.header_row);

        // The reader: sample rows first, then the rest of the file.
        let (tx, rx) = mpsc::channel::<BatchResult>(2);
        let rows = Arc::new(AtomicU64::new(0));
        // The reader's own error, kept here: DataFusion only learns that reading stopped.
        let read_error: Arc<Mutex<Option<LakeError>>> = Arc::default();
        let reader = {
            let (rows, read_error) = (rows.clone(), read_error.clone());
            tokio::task::spawn_blocking(move || prepared.run(tx, rows, read_error, progress))
        };

        let partition = Arc::new(ChannelPartition { schema: schema.clone(), receiver: Mutex::new(Some(rx)) });
        let provider =
            StreamingTable::try_new(schema.clone(), vec![partition]).map_err(deltalake::DeltaTableError::from)?;
        let plan = LogicalPlanBuilder::scan("source", provider_as_source(Arc::new(provider)), None)
            .and_then(|b| b.build())
            .map_err(deltalake::DeltaTableError::from)?;

        // The commit records what was loaded, by whom; rows are filled in below only
        // if the reader finished, which it must have for the write to succeed.
        let rows_for_commit = rows.clone();
        let (save_mode, schema_mode) = match options.mode {
            LoadMode::Replace => (SaveMode::Overwrite, Some(SchemaMode::Overwrite)),
            LoadMode::Append => (SaveMode::Append, None),
        };
        let write = async move {
            let mut builder = delta.write(Vec::<RecordBatch>::new()).with_input_plan(plan).with_save_mode(save_mode);
            if let Some(m) = schema_mode {
                builder = builder.with_schema_mode(m);
            }
            builder
                .with_commit_properties(CommitProperties::default().with_metadata([
                    ("kho.source".to_string(), serde_json::json!(options.source_name)),
                    ("kho.loaded_by".to_string(), serde_json::json!(options.loaded_by)),
                    ("kho.mode".to_string(), serde_json::json!(options.mode)),
                ]))
                .await
        };
        let written = write.await;
        let read = reader.await.map_err(|_| LakeError::Interrupted)?;
        let table = match written {
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
        let version = table.version().unwrap_or(0) as i64 + 1;
        let rows = rows_for_commit.load(Ordering::Relaxed);
        Ok(IngestReport {
            version,
            rows,
            columns,
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
