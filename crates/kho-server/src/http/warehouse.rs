//! The warehouse part of the native API: a resource's tables, their versions, loads
//! (the file as the request body, streamed to disk first), rows and downloads.

use crate::http::caller::Caller;
use crate::http::error::{ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::{DownloadRequest, Load, OnError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use kho_core::{Error, ErrorCode};
use kho_lake::{DownloadFormat, Filter, IngestReport, LoadMode, RowQuery, TableVersion, VersionDiff};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Tables {
    pub items: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Versions {
    pub items: Vec<TableVersion>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LoadParams {
    /// `replace` (default), `append` or `upsert`.
    pub mode: Option<String>,
    /// The column(s) that identify a row, comma-separated: required for `upsert`;
    /// with `replace`, lets the new version be compared row by row.
    pub key: Option<String>,
    /// The file's name, recorded with the version; its extension helps tell the format.
    pub filename: Option<String>,
    /// `csv`, `xlsx`, `xls`, `json`, `ndjson`, `geojson` or `parquet`; detected when absent.
    pub format: Option<String>,
    /// The sheet of a workbook to load; the first non-empty one when absent.
    pub sheet: Option<String>,
    /// The header row as the file numbers it (0: no header); detected when absent.
    pub header_row: Option<u64>,
    /// Declared column types overriding inference: `column:type,…` with types
    /// integer, decimal, date, boolean or text (`ma_xa:text,ngay:date`).
    pub schema: Option<String>,
    /// `fail` (default): a bad cell fails the whole load; `reject`: the good rows are
    /// loaded and the bad ones written to a rejects file named in the report.
    pub on_error: Option<String>,
}

/// The documented parameters of a rows request; any other parameter filters:
/// `column=value` keeps rows whose column equals the value, `column.gt=`, `.gte=`,
/// `.lt=`, `.lte=`, `.ne=` compare (several may be combined).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct RowParams {
    /// A version number; the newest when absent.
    pub version: Option<i64>,
    /// At most this many rows (1–10,000, default 100).
    pub limit: Option<usize>,
    /// Skip this many rows.
    pub offset: Option<usize>,
    /// A column to sort by; `-column` sorts descending.
    pub sort: Option<String>,
    /// Words that must each appear in some text column (case and diacritics ignored).
    pub q: Option<String>,
    /// Columns to return, comma-separated (all by default).
    pub fields: Option<String>,
    /// The `next_cursor` of the previous page: continues on the same version.
    pub cursor: Option<String>,
    /// `exact` counts every match even on a large table (slower).
    pub total: Option<String>,
}

const ROW_PARAMS: [&str; 8] = ["version", "limit", "offset", "sort", "q", "fields", "cursor", "total"];

/// A cursor names the version and the offset of the next page; versions never
/// change, so paging through one is stable while new versions are loaded.
fn cursor(version: i64, offset: usize) -> String {
    format!("v{version}o{offset}")
}

fn parse_cursor(text: &str) -> Result<(i64, usize), Error> {
    let bad = || Error::invalid("cursor", format!("{text:?} is not a cursor; pass next_cursor from the previous page"));
    let (v, o) = text.strip_prefix('v').and_then(|rest| rest.split_once('o')).ok_or_else(bad)?;
    Ok((v.parse().map_err(|_| bad())?, o.parse().map_err(|_| bad())?))
}

impl RowParams {
    pub(crate) fn from_query(params: &std::collections::HashMap<String, String>) -> Result<RowQuery, Error> {
        let number = |name: &str| -> Result<Option<i64>, Error> {
            params
                .get(name)
                .map(|v| v.parse::<i64>().map_err(|_| Error::invalid(name, format!("{v:?} is not a whole number"))))
                .transpose()
        };
        let size = |name: &str, default: usize| -> Result<usize, Error> {
            Ok(number(name)?.map(|n| n.max(0) as usize).unwrap_or(default))
        };
        let sort = params.get("sort").filter(|s| !s.is_empty()).map(|s| match s.strip_prefix('-') {
            Some(c) => (c.to_string(), true),
            None => (s.clone(), false),
        });
        let mut filters = params
            .iter()
            .filter(|(k, _)| !ROW_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| Filter::from_param(k, v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::from)?;
        filters.sort_by(|a, b| a.column.cmp(&b.column));
        let (mut version, mut offset) = (number("version")?, size("offset", 0)?);
        if let Some(c) = params.get("cursor").filter(|c| !c.is_empty()) {
            let (v, o) = parse_cursor(c)?;
            (version, offset) = (Some(v), o);
        }
        let fields = params
            .get("fields")
            .map(|f| f.split(',').map(str::trim).filter(|f| !f.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        Ok(RowQuery {
            version,
            filters,
            q: params.get("q").filter(|q| !q.trim().is_empty()).cloned(),
            fields,
            sort,
            limit: size("limit", 100)?,
            offset,
            exact_total: params.get("total").is_some_and(|t| t == "exact"),
            predicate: None,
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Rows {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Map<String, serde_json::Value>>,
    /// How many rows match in all.
    pub total: usize,
    /// The total was estimated from a sample of a large table; ask `total=exact` to count.
    pub total_is_estimate: bool,
    pub limit: usize,
    pub offset: usize,
    /// The version the rows come from.
    pub version: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The tables of a data resource.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables", tag = "warehouse",
    responses((status = 200, body = Tables), (status = 404, body = ErrorBody)))]
pub async fn tables(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Json<Tables>> {
    Ok(Json(Tables { items: state.kho.tables(&caller.subject, &caller.ctx(), &key).await? }))
}

/// The versions of a table, newest first.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/versions", tag = "warehouse",
    responses((status = 200, body = Versions), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
) -> ApiResult<Json<Versions>> {
    Ok(Json(Versions { items: state.kho.table_versions(&caller.subject, &caller.ctx(), &key, &table).await? }))
}

/// How a version differs from the one before: columns added, removed or retyped,
/// the row totals, and rows added/removed/changed when a key is declared.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/versions/{version}/diff", tag = "warehouse",
    responses((status = 200, body = VersionDiff), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table, version)): Path<(String, String, i64)>,
) -> ApiResult<Json<VersionDiff>> {
    Ok(Json(state.kho.table_diff(&caller.subject, &caller.ctx(), &key, &table, version).await?))
}

/// Load a file (the request body: CSV/TSV, XLSX, XLS, JSON, NDJSON, GeoJSON or Parquet)
/// as a new version.
#[utoipa::path(post, path = "/api/v1/resources/{key}/tables/{table}/versions", tag = "warehouse", params(LoadParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = IngestReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn load(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<LoadParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<IngestReport>)> {
    let mode = LoadMode::parse(p.mode.as_deref().unwrap_or("replace")).map_err(kho_core::Error::from)?;
    let source_name = p.filename.filter(|f| !f.trim().is_empty()).unwrap_or_else(|| "upload.csv".into());
    let format = p.format.as_deref().map(kho_lake::source::Format::parse).transpose().map_err(kho_core::Error::from)?;
    let schema = crate::services::parse_schema(p.schema.as_deref().unwrap_or(""))?;
    let on_error = OnError::parse(p.on_error.as_deref().unwrap_or("fail"))?;
    let upload = Upload::receive(&state, body.into_data_stream()).await?;
    let load_key = p.key.map(|k| vec![k]).unwrap_or_default();
    let load = Load {
        resource: &key,
        table: &table,
        path: upload.path(),
        source_name,
        mode,
        key: load_key,
        format,
        sheet: p.sheet.filter(|s| !s.trim().is_empty()),
        header_row: p.header_row,
        schema,
        on_error,
    };
    let report = state.kho.load_table(&caller.subject, &caller.ctx(), load, |_| {}).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Rows of a table version: `?column=value` filters by equality, `column.gte=value`
/// (and gt, lt, lte, ne) by comparison, `q=` by words, `fields=` chooses columns,
/// `sort=column` or `sort=-column` orders, `limit` with `offset` or `cursor` pages.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/rows", tag = "warehouse", params(RowParams),
    responses((status = 200, body = Rows), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rows(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<Rows>> {
    let query = RowParams::from_query(&params)?;
    let (limit, offset) = (query.limit.clamp(1, 10_000), query.offset);
    let (items, page) = state.kho.table_rows(&caller.subject, &caller.ctx(), &key, &table, query).await?;
    let next = offset + items.len();
    let next_cursor = (items.len() == limit && next < page.total).then(|| cursor(page.version, next));
    let (total, total_is_estimate, version) = (page.total, page.total_is_estimate, page.version);
    Ok(Json(Rows { items, total, total_is_estimate, limit, offset, version, next_cursor }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadParams {
    /// `csv` (the default), `json`, `ndjson`, `xlsx`, `parquet`, or `geojson` for spatial tables.
    #[param(inline, value_type = Option<DownloadFormat>)]
    pub format: Option<String>,
    /// A version number; the newest when absent.
    pub version: Option<i64>,
    /// CSV only: start with a UTF-8 byte-order mark, so that Excel reads Vietnamese correctly.
    #[serde(default)]
    pub bom: bool,
}

/// Download a table version as a file (streamed): CSV, JSON (one array), NDJSON (one
/// object a line), XLSX (up to 1,048,575 rows), Parquet, or GeoJSON for spatial tables.
/// Dates are `yyyy-mm-dd` (real dates shown dd/mm/yyyy in XLSX). The file is named
/// `<resource slug>-<table>-v<version>.<format>`.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/download", tag = "warehouse", params(DownloadParams),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"), (Vec<Object> = "application/json"), (String = "application/x-ndjson"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.apache.parquet"), (Object = "application/geo+json"))),
        (status = 404, body = ErrorBody),
        (status = 422, description = "An unknown format, GeoJSON of a table without geometry, or too many rows for XLSX", body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<DownloadParams>,
) -> ApiResult<Response> {
    let format = DownloadFormat::parse(p.format.as_deref().unwrap_or("csv")).map_err(Error::from)?;
    send_download(&state, &caller, &key, &table, DownloadRequest { version: p.version, format, bom: p.bom }).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CsvParams {
    /// A version number; the newest when absent.
    pub version: Option<i64>,
    /// Start with a UTF-8 byte-order mark, so that Excel reads Vietnamese correctly.
    #[serde(default)]
    pub bom: bool,
}

/// Download a table version as CSV (streamed); the same as `download?format=csv`.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/csv", tag = "warehouse", params(CsvParams),
    responses((status = 200, content_type = "text/csv"), (status = 404, body = ErrorBody)))]
pub async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<CsvParams>,
) -> ApiResult<Response> {
    let request = DownloadRequest { version: p.version, format: DownloadFormat::Csv, bom: p.bom };
    send_download(&state, &caller, &key, &table, request).await
}

/// The download as an attachment named after the resource, table and version.
async fn send_download(
    state: &AppState,
    caller: &Caller,
    key: &str,
    table: &str,
    request: DownloadRequest,
) -> ApiResult<Response> {
    let (r, download) = state.kho.table_download(&caller.subject, &caller.ctx(), key, table, request).await?;
    let file = format!("{}-{table}-v{}.{}", r.slug, download.version, download.format.extension());
    let body = Body::from_stream(download.chunks.map(|c| c.map_err(|e| std::io::Error::other(e.to_string()))));
    let headers = [
        (header::CONTENT_TYPE, download.format.content_type().to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
    ];
    Ok((headers, body).into_response())
}

/// Download the rows a load left out with `on_error=reject` (for those who may load the table).
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/versions/{version}/rejects", tag = "warehouse",
    responses((status = 200, content_type = "text/csv"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rejects(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table, version)): Path<(String, String, i64)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (r, bytes) = state.kho.table_rejects(&caller.subject, &caller.ctx(), &key, &table, version).await?;
    let file = format!("{}-{table}-v{version}-rejects.csv", r.slug);
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
        (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
    ];
    Ok((headers, bytes).into_response())
}

/// An uploaded body on disk under `<data-dir>/uploads`, removed when dropped.
pub struct Upload(tempfile::TempPath);

impl Upload {
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Streams an upload (a request body or a form's file field) to a temporary
    /// file, refusing it past the upload limit.
    pub async fn receive<E: std::fmt::Display>(
        state: &AppState,
        stream: impl futures::Stream<Item = Result<axum::body::Bytes, E>>,
    ) -> Result<Self, Error> {
        let dir = state.kho.settings.data_dir.join("uploads");
        let fail = |e: std::io::Error| Error::internal(format!("cannot store the upload: {e}"));
        tokio::fs::create_dir_all(&dir).await.map_err(fail)?;
        let temp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
        let (file, path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let limit = state.kho.settings.upload_limit_bytes as u64;
        let mut written = 0u64;
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| Error::new(ErrorCode::MalformedRequest, format!("the upload was interrupted: {e}")))?;
            written += chunk.len() as u64;
            if written > limit {
                return Err(Error::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the file is larger than the upload limit of {limit} bytes"),
                ));
            }
            file.write_all(&chunk).await.map_err(fail)?;
        }
        file.flush().await.map_err(fail)?;
        Ok(Self(path))
    }
}
