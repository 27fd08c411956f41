//! Kho's warehouse (kho dữ liệu): each table of a data resource is a Delta Lake table
//! under the object store, so Spark, Trino or DuckDB read the same files. Every load
//! is one atomic Delta commit — a numbered version — and a failed load commits
//! nothing, leaving the previous version as it was.
//!
//! - [`source`] reads CSV in any of the encodings offices produce, XLSX and XLS
//!   sheets, JSON, NDJSON, GeoJSON and Parquet, row by row;
//! - [`header`] finds the header below titles and merged cells;
//! - [`infer`] reads Vietnamese numbers and dates;
//! - [`ingest`] streams a file into a table with bounded memory;
//! - [`versions`] lists the versions with who loaded what, and compares them;
//! - [`rows`] reads filtered, sorted pages of rows;
//! - [`export`] streams any version out as CSV, JSON, NDJSON, XLSX, Parquet or GeoJSON;
//! - [`query`] runs read-only SQL over the tables a caller may read, within limits;
//! - [`rewrite`] writes a version, transformed batch by batch, as a new version.

pub mod export;
pub mod header;
pub mod infer;
pub mod ingest;
pub mod query;
mod read;
pub mod rewrite;
pub mod rows;
pub mod source;
mod storage;
pub mod versions;

use deltalake::DeltaTable;
use url::Url;

pub use export::{Download, DownloadFormat};
pub use ingest::{IngestOptions, IngestReport, LoadMode, LoadedColumn, Progress};
pub use query::{CheckedQuery, QueryLimits, QueryResult, QueryTable, TableName};
pub use rewrite::RewriteOptions;
pub use rows::{Comparison, Filter, RowPage, RowQuery};
pub use versions::{Retention, RowChanges, TableVersion, VersionDiff};

/// What can go wrong in the warehouse. Messages name the file, row, column and
/// value, and say what was expected.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("{file}: {message}")]
    Source { file: String, message: String },
    #[error("{file}, row {row}, column {column:?}: {value:?} is not {expected}; fix the value or declare the column as text")]
    Cell { file: String, row: u64, column: String, value: String, expected: &'static str },
    #[error(transparent)]
    Row(Box<RowError>),
    #[error("{0}")]
    Invalid(String),
    #[error("table {0} has no versions yet; load a file first")]
    NoTable(String),
    #[error("the load was stopped before it finished; nothing was committed")]
    Interrupted,
    /// A query that would write, touch files or run several statements.
    #[error("{0}")]
    Refused(String),
    /// A query stopped by its time, memory or row limit.
    #[error("{0}")]
    Limit(String),
    #[error("warehouse storage error: {0}")]
    Delta(#[from] deltalake::DeltaTableError),
}

/// A row that does not fit the table for another reason than a cell's type (a JSON
/// key the first records lack, a value right of the last column).
#[derive(Debug, thiserror::Error)]
#[error("{file}, row {row}, column {column:?}: {value:?} is not {expected}; {fix}")]
pub struct RowError {
    pub file: String,
    pub row: u64,
    pub column: String,
    pub value: String,
    pub expected: String,
    pub fix: String,
}

impl From<LakeError> for kho_core::Error {
    fn from(e: LakeError) -> Self {
        match e {
            LakeError::Delta(inner) => {
                tracing::error!(error = %inner, "delta table failure");
                kho_core::Error::internal("internal error in the warehouse storage; see the server log")
            }
            LakeError::NoTable(_) => kho_core::Error::new(kho_core::ErrorCode::NotFound, e.to_string()),
            LakeError::Refused(m) => kho_core::Error::new(kho_core::ErrorCode::QueryRefused, m),
            LakeError::Limit(m) => kho_core::Error::new(kho_core::ErrorCode::QueryLimit, m),
            other => kho_core::Error::new(kho_core::ErrorCode::InvalidField, other.to_string()),
        }
    }
}

/// Where tables live: `<object store>/lake/<resource id>/<table>/`.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
    /// The store holding `root`, and `root`'s path in it: for listing and removing.
    store: std::sync::Arc<dyn deltalake::ObjectStore>,
    root_path: deltalake::Path,
}

/// A table name: lowercase letters, digits and `_`, starting with a letter.
pub fn validate_table_name(name: &str) -> Result<(), LakeError> {
    let ok = (1..=63).contains(&name.len())
        && name.as_bytes()[0].is_ascii_lowercase()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(LakeError::Invalid(format!(
            "table: {name:?} is not a table name; use lowercase letters, digits and _, starting with a letter"
        )))
    }
}

impl Lake {
    /// The lake under an object store URL: `file:///…` or `s3://bucket/prefix`.
    pub fn new(object_store_url: &str) -> Result<Self, LakeError> {
        let mut root =
            Url::parse(object_store_url).map_err(|e| LakeError::Invalid(format!("object store url: {e}")))?;
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let root = root.join("lake/").map_err(|e| LakeError::Invalid(e.to_string()))?;
        if root.scheme() == "s3" {
            storage::register_s3();
        }
        let (store, root_path) = storage::store_for(&root)?;
        Ok(Self { root, store, root_path })
    }

    pub fn table_url(&self, resource_id: &str, table: &str) -> Result<Url, LakeError> {
        validate_table_name(table)?;
        if !resource_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(LakeError::Invalid(format!("resource id {resource_id:?} is not valid")));
        }
        self.root.join(&format!("{resource_id}/{table}/")).map_err(|e| LakeError::Invalid(e.to_string()))
    }

    async fn open(&self, resource_id: &str, table: &str) -> Result<DeltaTable, LakeError> {
        let url = self.table_url(resource_id, table)?;
        if url.scheme() == "file" {
            if let Ok(dir) = url.to_file_path() {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| LakeError::Source { file: dir.display().to_string(), message: e.to_string() })?;
            }
        }
        Ok(DeltaTable::try_from_url(url).await?)
    }

    /// The table as of a Kho version (the newest when `None`), with its Delta location.
    pub async fn snapshot(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<DeltaTable, LakeError> {
        let mut t = self.open(resource_id, table).await?;
        if t.version().is_none() {
            return Err(LakeError::NoTable(table.into()));
        }
        if let Some(v) = version {
            let missing = || LakeError::Invalid(format!("version: table {table} has no version {v}"));
            let delta_version = u64::try_from(v - 1).map_err(|_| missing())?;
            self.check_retained(&t, table, v).await?;
            t.load_version(delta_version).await.map_err(|_| missing())?;
        }
        Ok(t)
    }
}

impl Lake {
    /// A table version's columns (the newest version's when `None`) with their Arrow
    /// types as Arrow prints them (`Utf8`, `Int64`, `Date32`, …), and Kho's number of
    /// that version.
    pub async fn arrow_columns(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<(i64, Vec<(String, String)>), LakeError> {
        let t = self.snapshot(resource_id, table, version).await?;
        let number = t.version().map(|v| v as i64 + 1).unwrap_or(1);
        let schema = versions::arrow_schema(&t).await?;
        Ok((number, schema.fields().iter().map(|f| (f.name().clone(), f.data_type().to_string())).collect()))
    }

    /// The tables of a resource that hold at least one version, by name.
    pub async fn tables(&self, resource_id: &str) -> Result<Vec<String>, LakeError> {
        use futures::StreamExt;
        let dir = self.root_path.clone().join(resource_id);
        let listed = match self.store.list_with_delimiter(Some(&dir)).await {
            Ok(listed) => listed,
            Err(deltalake::ObjectStoreError::NotFound { .. }) => return Ok(vec![]),
            Err(e) => return Err(self.storage_error(&dir, e)),
        };
        let mut names = Vec::new();
        for table in listed.common_prefixes {
            let log = table.clone().join("_delta_log");
            if self.store.list(Some(&log)).next().await.is_some() {
                names.extend(table.filename().map(String::from));
            }
        }
        names.sort();
        Ok(names)
    }

    /// Removes every table of a resource (used when a draft is deleted).
    pub async fn remove_resource(&self, resource_id: &str) -> Result<(), LakeError> {
        use deltalake::logstore::object_store::ObjectStoreExt;
        use futures::TryStreamExt;
        let dir = self.root_path.clone().join(resource_id);
        let files: Vec<deltalake::ObjectMeta> = match self.store.list(Some(&dir)).try_collect().await {
            Ok(files) => files,
            Err(deltalake::ObjectStoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(self.storage_error(&dir, e)),
        };
        for file in files {
            match self.store.delete(&file.location).await {
                Ok(()) | Err(deltalake::ObjectStoreError::NotFound { .. }) => {}
                Err(e) => return Err(self.storage_error(&file.location, e)),
            }
        }
        if let Ok(dir) = self.root.join(&format!("{resource_id}/")).map_err(|_| ()).and_then(|u| u.to_file_path()) {
            // Directories are not objects: a local store leaves them behind.
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }

    fn storage_error(&self, path: &deltalake::Path, e: deltalake::ObjectStoreError) -> LakeError {
        LakeError::Source {
            file: format!("{}{path}", self.root.origin().ascii_serialization()),
            message: e.to_string(),
        }
    }

    /// The first `limit` rows of a table version (the newest when `None`), in file order.
    pub async fn preview(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        limit: usize,
    ) -> Result<Vec<deltalake::arrow::record_batch::RecordBatch>, LakeError> {
        let t = self.snapshot(resource_id, table, version).await?;
        let ctx = read_session();
        t.update_datafusion_session(&ctx.state())?;
        let df = async {
            let provider = t.table_provider().await?;
            first_rows_in_file_order(ctx.read_table(provider)?, 0, limit).await
        };
        Ok(df.await.map_err(deltalake::DeltaTableError::from)?)
    }
}

impl Lake {
    /// Every value of one column of a table version (the newest when `None`) as text,
    /// in the table's order, handed to `each` (`None` for an empty cell); returns Kho's
    /// version number. Reads the column alone, a batch at a time.
    pub async fn scan_column(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        column: &str,
        mut each: impl FnMut(Option<&str>) + Send,
    ) -> Result<i64, LakeError> {
        use deltalake::arrow::array::{Array, AsArray};
        use deltalake::arrow::datatypes::DataType;
        use futures::StreamExt;
        let t = self.snapshot(resource_id, table, version).await?;
        let number = t.version().map(|v| v as i64 + 1).unwrap_or(1);
        let ctx = read_session();
        t.update_datafusion_session(&ctx.state())?;
        let provider = t.table_provider().await.map_err(|e| LakeError::Delta(e.into()))?;
        let df = ctx.read_table(provider).map_err(|e| LakeError::Delta(e.into()))?;
        if df.schema().field_with_unqualified_name(column).is_err() {
            return Err(LakeError::Invalid(format!("column: table {table} has no column {column:?}")));
        }
        let df = df.select_columns(&[column]).map_err(|e| LakeError::Delta(e.into()))?;
        let mut batches = stream_in_file_order(df).await.map_err(|e| LakeError::Delta(e.into()))?;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| LakeError::Delta(e.into()))?;
            let text = deltalake::arrow::compute::cast(batch.column(0), &DataType::Utf8)
                .map_err(|e| LakeError::Invalid(format!("column {column}: {e}")))?;
            let text = text.as_string::<i32>();
            for i in 0..text.len() {
                each(if text.is_null(i) { None } else { Some(text.value(i)) });
            }
        }
        Ok(number)
    }

    /// Each column of a version (the newest when `None`) with the non-empty values of
    /// its first `rows` rows as text — what the personal-data rules and the profiles
    /// look at.
    pub async fn column_samples(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        rows: usize,
    ) -> Result<Vec<(String, Vec<String>)>, LakeError> {
        let batches = self.preview(resource_id, table, version, rows).await?;
        let Some(first) = batches.first() else { return Ok(vec![]) };
        let mut samples: Vec<(String, Vec<String>)> =
            first.schema().fields().iter().map(|f| (f.name().clone(), Vec::new())).collect();
        for row in to_json_rows(&batches).map_err(|e| LakeError::Invalid(e.to_string()))? {
            for (name, values) in samples.iter_mut() {
                match row.get(name) {
                    None | Some(serde_json::Value::Null) => {}
                    Some(serde_json::Value::String(s)) if s.trim().is_empty() => {}
                    Some(serde_json::Value::String(s)) => values.push(s.clone()),
                    Some(other) => values.push(other.to_string()),
                }
            }
        }
        Ok(samples)
    }
}

/// Parts a read splits a table into, for each core: a page needs the rows of the first
/// parts only, and small parts let the cores share them.
const PARTITIONS_PER_CORE: usize = 4;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// A DataFusion session whose plans read a table's rows in one fixed order when their
/// partitions are taken one after another ([`first_rows_in_file_order`],
/// [`stream_in_file_order`]): each partition reads only the files and byte ranges the
/// plan gave it — no partition takes over another's work as it goes idle — and no
/// round-robin shuffle mixes batches between partitions.
pub(crate) fn read_session() -> deltalake::datafusion::prelude::SessionContext {
    use deltalake::datafusion::prelude::{SessionConfig, SessionContext};
    let mut config =
        SessionConfig::new().with_round_robin_repartition(false).with_target_partitions(cores() * PARTITIONS_PER_CORE);
    config.options_mut().execution.enable_file_stream_work_stealing = false;
    SessionContext::new_with_config(config)
}

/// All the rows of a query on a [`read_session`] as one stream, in file order: the
/// partitions are read one after another.
pub(crate) async fn stream_in_file_order(
    df: deltalake::datafusion::prelude::DataFrame,
) -> Result<
    deltalake::datafusion::physical_plan::SendableRecordBatchStream,
    deltalake::datafusion::error::DataFusionError,
> {
    use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use deltalake::datafusion::physical_plan::ExecutionPlanProperties;
    use futures::StreamExt;
    let task = std::sync::Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let schema = plan.schema();
    let partitions = plan.output_partitioning().partition_count();
    let rows = futures::stream::iter(0..partitions)
        .map(move |partition| match plan.execute(partition, task.clone()) {
            Ok(stream) => stream.boxed(),
            Err(e) => futures::stream::once(async { Err(e) }).boxed(),
        })
        .flatten();
    Ok(Box::pin(RecordBatchStreamAdapter::new(schema, rows)))
}

/// Rows `skip..skip + fetch` of an unsorted query on a [`read_session`], in file order,
/// so that pages by offset neither repeat nor skip rows, and still read in parallel:
/// the partitions (parts of the files, in order) run as tasks, as many at a time as
/// there are cores, each until it holds `skip + fetch` rows; they are joined in order,
/// the next one starting as the oldest is joined, and those still running when the page
/// is full are stopped.
pub(crate) async fn first_rows_in_file_order(
    df: deltalake::datafusion::prelude::DataFrame,
    skip: usize,
    fetch: usize,
) -> Result<Vec<deltalake::arrow::record_batch::RecordBatch>, deltalake::datafusion::error::DataFusionError> {
    use deltalake::datafusion::error::DataFusionError;
    use deltalake::datafusion::physical_plan::ExecutionPlanProperties;
    use futures::StreamExt;
    let need = skip.saturating_add(fetch);
    let task = std::sync::Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let partitions = plan.output_partitioning().partition_count();
    let start = |partition: usize| -> Result<tokio::task::JoinHandle<_>, DataFusionError> {
        let mut stream = plan.execute(partition, task.clone())?;
        Ok(tokio::spawn(async move {
            let (mut batches, mut rows) = (Vec::new(), 0);
            while rows < need {
                let Some(batch) = stream.next().await else { break };
                let batch = batch?;
                rows += batch.num_rows();
                batches.push(batch);
            }
            Ok::<_, DataFusionError>(batches)
        }))
    };
    let mut running = std::collections::VecDeque::new();
    let mut next = 0;
    while next < partitions.min(cores()) {
        running.push_back(start(next)?);
        next += 1;
    }
    let mut page = Vec::new();
    let (mut to_skip, mut wanted) = (skip, fetch);
    while wanted > 0 {
        let Some(oldest) = running.pop_front() else { break };
        let batches = oldest.await.map_err(|e| DataFusionError::External(Box::new(e)))??;
        for batch in batches {
            let n = batch.num_rows();
            if to_skip >= n {
                to_skip -= n;
                continue;
            }
            let take = (n - to_skip).min(wanted);
            page.push(batch.slice(to_skip, take));
            to_skip = 0;
            wanted -= take;
            if wanted == 0 {
                break;
            }
        }
        if wanted > 0 && next < partitions {
            running.push_back(start(next)?);
            next += 1;
        }
    }
    for rest in running {
        rest.abort();
    }
    Ok(page)
}

/// Rows as JSON objects, nulls written out, dates as `yyyy-mm-dd`.
pub fn to_json_rows(
    batches: &[deltalake::arrow::record_batch::RecordBatch],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, deltalake::arrow::error::ArrowError> {
    use deltalake::arrow::json::{writer::JsonArray, WriterBuilder};
    let mut writer = WriterBuilder::new().with_explicit_nulls(true).build::<_, JsonArray>(Vec::new());
    let refs: Vec<&deltalake::arrow::record_batch::RecordBatch> = batches.iter().collect();
    writer.write_batches(&refs)?;
    writer.finish()?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(vec![]);
    }
    serde_json::from_slice(&bytes).map_err(|e| deltalake::arrow::error::ArrowError::JsonError(e.to_string()))
}

/// A column name Delta accepts and SQL can write without quotes: the header folded
/// to ASCII, words joined by `_` (`Họ và tên` → `ho_va_ten`); made unique.
pub fn column_names(headers: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let has_word = kho_vn::fold(h).chars().any(|c| c.is_ascii_alphanumeric());
        let mut base = if has_word { kho_vn::slugify(h, 60).replace('-', "_") } else { format!("column_{}", i + 1) };
        if base.as_bytes()[0].is_ascii_digit() {
            base = format!("c_{base}");
        }
        let mut name = base.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_become_plain_column_names() {
        let h: Vec<String> = ["Họ và tên", "Ngày sinh", "Số tiền (VNĐ)", "", "Ngày sinh", "2025", "—"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            column_names(&h),
            ["ho_va_ten", "ngay_sinh", "so_tien_vnd", "column_4", "ngay_sinh_2", "c_2025", "column_7"]
        );
    }

    #[test]
    fn tables_live_under_the_lake_root() {
        let lake = Lake::new("file:///srv/kho/objects").unwrap();
        assert_eq!(lake.table_url("abc123", "main").unwrap().as_str(), "file:///srv/kho/objects/lake/abc123/main/");
        assert!(lake.table_url("abc123", "Bảng 1").is_err());
        assert!(lake.table_url("../x", "main").is_err());
    }
}
