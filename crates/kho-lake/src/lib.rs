//! Kho's warehouse (kho dữ liệu): each table of a data resource is a Delta Lake table
//! under the object store, so Spark, Trino or DuckDB read the same files. Every load
//! is one atomic Delta commit — a numbered version — and a failed load commits
//! nothing, leaving the previous version as it was.
//!
//! - [`source`] reads delimited files in any of the encodings offices produce;
//! - [`infer`] reads Vietnamese numbers and dates;
//! - [`ingest`] streams a file into a table with bounded memory;
//! - [`Lake::history`] lists the versions with who loaded what;
//! - [`export`] streams any version out as CSV, JSON, NDJSON, XLSX, Parquet or GeoJSON.

pub mod export;
pub mod infer;
pub mod ingest;
pub mod source;

use deltalake::DeltaTable;
use serde::Serialize;
use url::Url;

pub use export::{Download, DownloadFormat};
pub use ingest::{IngestOptions, IngestReport, LoadMode, Progress};

/// What can go wrong in the warehouse. Messages name the file, row, column and
/// value, and say what was expected.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("{file}: {message}")]
    Source { file: String, message: String },
    #[error("{file}, row {row}, column {column:?}: {value:?} is not {expected}; fix the value or declare the column as text")]
    Cell { file: String, row: u64, column: String, value: String, expected: &'static str },
    #[error("{0}")]
    Invalid(String),
    #[error("table {0} has no versions yet; load a file first")]
    NoTable(String),
    #[error("the load was stopped before it finished; nothing was committed")]
    Interrupted,
    #[error("warehouse storage error: {0}")]
    Delta(#[from] deltalake::DeltaTableError),
}

impl From<LakeError> for kho_core::Error {
    fn from(e: LakeError) -> Self {
        match e {
            LakeError::Delta(inner) => {
                tracing::error!(error = %inner, "delta table failure");
                kho_core::Error::internal("internal error in the warehouse storage; see the server log")
            }
            LakeError::NoTable(_) => kho_core::Error::new(kho_core::ErrorCode::NotFound, e.to_string()),
            other => kho_core::Error::new(kho_core::ErrorCode::InvalidField, other.to_string()),
        }
    }
}

/// Where tables live: `<object store>/lake/<resource id>/<table>/`.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
}

/// One version of a table, as its Delta log records it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TableVersion {
    /// Kho's version number: 1 for the first load.
    pub version: i64,
    /// Milliseconds since 1970, from the commit.
    pub timestamp_ms: Option<i64>,
    /// `replace` or `append`.
    pub mode: String,
    /// Rows in the table as of this version.
    pub rows: Option<u64>,
    /// Rows this load added.
    pub added_rows: Option<u64>,
    pub source_file: Option<String>,
    pub source_sha256: Option<String>,
    pub loaded_by: Option<String>,
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
    /// The lake under an object store URL (`file:///…` today).
    pub fn new(object_store_url: &str) -> Result<Self, LakeError> {
        let mut root =
            Url::parse(object_store_url).map_err(|e| LakeError::Invalid(format!("object store url: {e}")))?;
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let root = root.join("lake/").map_err(|e| LakeError::Invalid(e.to_string()))?;
        Ok(Self { root })
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

    /// The versions of a table, newest first.
    pub async fn history(&self, resource_id: &str, table: &str) -> Result<Vec<TableVersion>, LakeError> {
        use futures::StreamExt;
        let t = self.open(resource_id, table).await?;
        let Some(latest) = t.version() else { return Err(LakeError::NoTable(table.into())) };
        let commits: Vec<_> = t.history(None).collect().await;
        let mut out = Vec::new();
        for (i, c) in commits.into_iter().enumerate() {
            let c = c?;
            let text = |k: &str| c.info.get(k).and_then(|v| v.as_str()).map(String::from);
            let mode = c
                .operation_parameters
                .as_ref()
                .and_then(|p| p.get("mode"))
                .and_then(|m| m.as_str())
                .map(|m| if m == "Append" { "append" } else { "replace" })
                .unwrap_or("replace");
            let added_rows =
                c.info.get("operationMetrics").and_then(|m| m.get("num_added_rows")).and_then(|v| v.as_u64());
            out.push(TableVersion {
                version: (latest + 1 - i as u64) as i64,
                timestamp_ms: c.timestamp,
                mode: mode.to_string(),
                rows: None,
                added_rows,
                source_file: text("kho.source"),
                source_sha256: text("kho.sha256"),
                loaded_by: text("kho.loaded_by"),
            });
        }
        // Totals run from the oldest version: a replace starts over, an append adds.
        let mut total: Option<u64> = Some(0);
        for v in out.iter_mut().rev() {
            total = match (v.mode.as_str(), v.added_rows) {
                ("append", Some(added)) => total.map(|t| t + added),
                (_, added) => added,
            };
            v.rows = total;
        }
        Ok(out)
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
            t.load_version(delta_version).await.map_err(|_| missing())?;
        }
        Ok(t)
    }
}

impl Lake {
    /// The tables of a resource that hold at least one version, by name.
    pub fn tables(&self, resource_id: &str) -> Result<Vec<String>, LakeError> {
        let dir = self.root.join(&format!("{resource_id}/")).map_err(|e| LakeError::Invalid(e.to_string()))?;
        let Ok(dir) = dir.to_file_path() else { return Ok(vec![]) };
        let mut names: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("_delta_log").is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect(),
            Err(_) => vec![],
        };
        names.sort();
        Ok(names)
    }

    /// Removes every table of a resource (used when a draft is deleted).
    pub fn remove_resource(&self, resource_id: &str) -> Result<(), LakeError> {
        let dir = self.root.join(&format!("{resource_id}/")).map_err(|e| LakeError::Invalid(e.to_string()))?;
        if let Ok(dir) = dir.to_file_path() {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(LakeError::Source { file: dir.display().to_string(), message: e.to_string() }),
            }
        }
        Ok(())
    }

    /// The first `limit` rows of a table version (the newest when `None`), in file order.
    pub async fn preview(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        limit: usize,
    ) -> Result<Vec<deltalake::arrow::record_batch::RecordBatch>, LakeError> {
        use deltalake::datafusion::prelude::SessionContext;
        let t = self.snapshot(resource_id, table, version).await?;
        let ctx = SessionContext::new();
        t.update_datafusion_session(&ctx.state())?;
        let df = async {
            let provider = t.table_provider().await?;
            ctx.read_table(provider)?.limit(0, Some(limit))?.collect().await
        };
        Ok(df.await.map_err(deltalake::DeltaTableError::from)?)
    }
}

/// Which rows to read: equality filters on columns, an order, a page.
#[derive(Debug, Clone, Default)]
pub struct RowQuery {
    pub version: Option<i64>,
    /// (column, value): the value is read as the column's type (dates as
    /// `yyyy-mm-dd` or `dd/mm/yyyy`).
    pub filters: Vec<(String, String)>,
    /// Column to sort by, and whether descending.
    pub sort: Option<(String, bool)>,
    pub limit: usize,
    pub offset: usize,
}

/// A page of rows and how many rows match in all.
pub struct RowPage {
    pub batches: Vec<deltalake::arrow::record_batch::RecordBatch>,
    pub total: usize,
}

fn literal(
    column: &str,
    ty: &deltalake::arrow::datatypes::DataType,
    value: &str,
) -> Result<deltalake::datafusion::prelude::Expr, LakeError> {
    use deltalake::arrow::datatypes::DataType;
    use deltalake::datafusion::prelude::lit;
    use deltalake::datafusion::scalar::ScalarValue;
    let bad = |expected: &str| LakeError::Invalid(format!("{column}: {value:?} is not {expected}"));
    Ok(match ty {
        DataType::Int64 => lit(value.trim().parse::<i64>().map_err(|_| bad("a whole number"))?),
        DataType::Float64 => lit(value.trim().parse::<f64>().map_err(|_| bad("a number such as 1234.5"))?),
        DataType::Boolean => lit(value.trim().parse::<bool>().map_err(|_| bad("true or false"))?),
        DataType::Date32 => {
            let d = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                .or_else(|_| chrono::NaiveDate::parse_from_str(value.trim(), "%d/%m/%Y"))
                .map_err(|_| bad("a date such as 2025-07-01 or 01/07/2025"))?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
            lit(ScalarValue::Date32(Some((d - epoch).num_days() as i32)))
        }
        _ => lit(value.to_string()),
    })
}

impl Lake {
    /// Rows of a table version matching `query`, with the number that match in all.
    pub async fn rows(&self, resource_id: &str, table: &str, query: &RowQuery) -> Result<RowPage, LakeError> {
        use deltalake::datafusion::prelude::{ident, SessionContext};
        let t = self.snapshot(resource_id, table, query.version).await?;
        let ctx = SessionContext::new();
        t.update_datafusion_session(&ctx.state())?;
        let df_error = |e: deltalake::datafusion::error::DataFusionError| LakeError::Delta(e.into());
        let provider = t.table_provider().await.map_err(df_error)?;
        let mut df = ctx.read_table(provider).map_err(df_error)?;
        let schema = df.schema().as_arrow().clone();
        let field = |name: &str| {
            schema.field_with_name(name).map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                LakeError::Invalid(format!(
                    "{name}: the table has no such column; its columns are {}",
                    names.join(", ")
                ))
            })
        };
        for (column, value) in &query.filters {
            let f = field(column)?;
            df = df.filter(ident(column).eq(literal(column, f.data_type(), value)?)).map_err(df_error)?;
        }
        if let Some((column, descending)) = &query.sort {
            field(column)?;
            df = df.sort(vec![ident(column).sort(!descending, false)]).map_err(df_error)?;
        }
        let total = df.clone().count().await.map_err(df_error)?;
        let batches = df.limit(query.offset, Some(query.limit)).map_err(df_error)?.collect().await.map_err(df_error)?;
        Ok(RowPage { batches, total })
    }
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
