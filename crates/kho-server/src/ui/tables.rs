//! The data part of a resource's page: its tables with their versions, download links
//! and a preview of the newest rows, and the form that loads a file as a new version.

use super::error_page;
use super::Lang;
use crate::http::caller::Caller;
use crate::http::warehouse::Upload;
use crate::http::AppState;
use crate::services::Load;
use axum::extract::{Multipart, Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use kho_catalog::DataResource;
use kho_core::{Error, ErrorCode};
use kho_lake::{DownloadFormat, LoadMode, LoadedColumn, TableVersion};
use maud::{html, Markup};

const PREVIEW_ROWS: usize = 20;

/// A JSON value as a table cell shows it (nothing for null, text without quotes).
pub(super) fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Tables, versions, previews and (for those who may load) the upload form.
pub async fn data_section(
    state: &AppState,
    caller: &Caller,
    r: &DataResource,
    can_load: bool,
) -> Result<Markup, Error> {
    let l = caller.lang;
    let (subject, ctx) = (&caller.subject, caller.ctx());
    let mut sections = Vec::new();
    for table in state.kho.tables(subject, &ctx, &r.id).await? {
        let versions = state.kho.table_versions(subject, &ctx, &r.id, &table).await?;
        let preview = kho_lake::RowQuery { limit: PREVIEW_ROWS, ..Default::default() };
        let (rows, _) = state.kho.table_rows(subject, &ctx, &r.id, &table, preview).await?;
        let downloads = downloads(state, caller, r, &table, versions.first().map(|v| v.version)).await?;
        sections.push((table, versions, rows, downloads));
    }
    Ok(html! {
        section aria-labelledby="data-h" {
            h2 #data-h { (l.t("Dữ liệu", "Data")) }
            @if sections.is_empty() { p.muted { (l.t("Chưa có dữ liệu.", "No data loaded yet.")) } }
            @for (table, versions, rows, downloads) in &sections {
                h3 { (l.t("Bảng", "Table")) " " code { (table) } }
                @if let Some(columns) = versions.first().and_then(|v| v.columns.as_ref()) {
                    (schema_table(l, columns, &versions[0].key))
                }
                (downloads)
                (versions_table(l, &r.slug, table, versions))
                @if let Some(first) = rows.first() {
                    @let names = preview_columns(versions.first(), first);
                    div style="overflow-x:auto" {
                        table.preview {
                            caption.muted { (l.t("Xem trước", "Preview")) " (" (rows.len()) " " (l.t("dòng đầu", "first rows")) ")" }
                            thead { tr { @for name in &names { th scope="col" { (name) } } } }
                            tbody { @for row in rows { tr { @for name in &names { td { (row.get(*name).map(cell).unwrap_or_default()) } } } } }
                        }
                    }
                }
            }
            @if can_load {
                form.card method="post" action={ "/admin/resources/" (r.slug) "/load" } enctype="multipart/form-data" {
                    h3 { (l.t("Nạp dữ liệu", "Load data")) }
                    input type="hidden" name="csrf_token" value=(caller.csrf_token());
                    label for="table" { (l.t("Bảng", "Table")) }
                    input #table name="table" value="main" pattern="[a-z][a-z0-9_]*" required;
                    label for="mode" { (l.t("Cách nạp", "Mode")) }
                    select #mode name="mode" {
                        option value="replace" { (l.t("Thay thế toàn bộ", "Replace the table")) }
                        option value="append" { (l.t("Thêm dòng", "Append rows")) }
                        option value="upsert" { (l.t("Cập nhật theo khoá", "Update by key (upsert)")) }
                    }
                    label for="key" { (l.t("Cột khoá (để so sánh và cập nhật theo khoá; cách nhau bởi dấu phẩy)", "Key column(s) (for comparing versions and upsert; comma-separated)")) }
                    input #key name="key" placeholder="ma_ho";
                    label for="file" { (l.t("Tệp CSV, Excel (XLSX, XLS), JSON, GeoJSON hoặc Parquet", "CSV, Excel (XLSX, XLS), JSON, GeoJSON or Parquet file")) }
                    input #file name="file" type="file" accept=".csv,.tsv,.txt,.xlsx,.xls,.json,.ndjson,.jsonl,.geojson,.parquet,text/csv" required;
                    label for="sheet" { (l.t("Trang tính (để trống: trang đầu tiên có dữ liệu)", "Sheet (empty: the first sheet with data)")) }
                    input #sheet name="sheet";
                    details {
                        summary { (l.t("Tuỳ chọn nâng cao", "Advanced options")) }
                        label for="schema" { (l.t("Khai báo kiểu cột (ghi đè suy luận), ví dụ: Mã số thuế:text,Ngày cấp:date", "Declared column types (override inference), e.g. Mã số thuế:text,Ngày cấp:date")) }
                        input #schema name="schema" placeholder="ma_so_thue:text";
                        label for="header_row" { (l.t("Dòng tiêu đề (để trống: tự nhận; 0: không có)", "Header row (empty: detected; 0: none)")) }
                        input #header_row name="header_row" type="number" min="0";
                    }
                    button type="submit" { (l.t("Nạp thành phiên bản mới", "Load as a new version")) }
                }
            }
        }
    })
}

/// The preview's columns in the file's order (a row's keys come sorted by name):
/// the newest version's columns, then any the row has beyond them.
fn preview_columns<'a>(
    newest: Option<&'a TableVersion>,
    row: &'a serde_json::Map<String, serde_json::Value>,
) -> Vec<&'a str> {
    let loaded = newest.and_then(|v| v.columns.as_deref()).unwrap_or_default();
    let mut names: Vec<&str> = loaded.iter().map(|c| c.name.as_str()).filter(|n| row.contains_key(*n)).collect();
    names.extend(row.keys().map(String::as_str).filter(|k| !loaded.iter().any(|c| c.name == *k)));
    names
}

/// The columns of the newest version with the types Kho gave them.
fn schema_table(l: Lang, columns: &[LoadedColumn], key: &[String]) -> Markup {
    html! {
        table.schema {
            caption.muted { (l.t("Cấu trúc (kiểu suy luận từ dữ liệu)", "Schema (types inferred from the data)")) }
            thead { tr {
                th scope="col" { (l.t("Cột", "Column")) } th scope="col" { (l.t("Kiểu", "Type")) }
                th scope="col" { (l.t("Tiêu đề trong tệp", "Header in the file")) }
            } }
            tbody { @for c in columns { tr {
                td { code { (c.name) } @if key.contains(&c.name) { " " span.muted { (l.t("(khoá)", "(key)")) } } }
                td { (kind_label(l, &c.kind)) } td { (c.header) }
            } } }
        }
    }
}

fn kind_label(l: Lang, kind: &str) -> &'static str {
    match kind {
        "integer" => l.t("số nguyên", "integer"),
        "decimal" => l.t("số thập phân", "decimal"),
        "date" => l.t("ngày", "date"),
        "boolean" => l.t("có/không", "yes/no"),
        "timestamp" => l.t("thời điểm", "timestamp"),
        _ => l.t("văn bản", "text"),
    }
}

fn mode_label(l: Lang, mode: &str) -> &'static str {
    match mode {
        "append" => l.t("thêm dòng", "append"),
        "upsert" => l.t("cập nhật theo khoá", "upsert"),
        _ => l.t("thay thế", "replace"),
    }
}

fn versions_table(l: Lang, slug: &str, table: &str, versions: &[TableVersion]) -> Markup {
    let base = format!("/admin/resources/{slug}/tables/{table}/versions");
    html! {
        table.versions {
            caption.muted { (l.t("Các phiên bản", "Versions")) }
            thead { tr {
                th scope="col" { (l.t("Phiên bản", "Version")) } th scope="col" { (l.t("Cách nạp", "Mode")) }
                th scope="col" { (l.t("Số dòng", "Rows")) } th scope="col" { (l.t("Thay đổi", "Changes")) }
                th scope="col" { (l.t("Tệp nguồn", "Source file")) } th scope="col" { "SHA-256" }
                th scope="col" { (l.t("Người nạp", "Loaded by")) } th scope="col" { (l.t("Thời điểm (UTC)", "When (UTC)")) }
                th scope="col" { (l.t("Tải về", "Download")) }
            } }
            tbody { @for v in versions { tr {
                td { (v.version) } td { (mode_label(l, &v.mode)) } td { (v.rows.map(|r| r.to_string()).unwrap_or_default()) }
                td {
                    @if let Some(c) = v.changes { "+" (c.added) " −" (c.removed) " ~" (c.changed) " " }
                    a href={ (base) "/" (v.version) "/diff" } { (l.t("So sánh", "Compare")) }
                }
                td { (v.source_file.clone().unwrap_or_default()) }
                td { @if let Some(h) = &v.source_sha256 { code title=(h) { (h.chars().take(12).collect::<String>()) } } }
                td { (v.loaded_by.clone().unwrap_or_default()) }
                td { (v.timestamp_ms.and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                td {
                    @if v.expired { span.muted { (l.t("đã xoá theo chính sách lưu giữ", "removed by the retention policy")) } }
                    @else { a href={ "/api/v1/resources/" (slug) "/tables/" (table) "/csv?bom=true&version=" (v.version) } { "CSV" } }
                }
            } } }
        }
    }
}

/// How a version differs from the one before it.
pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path((key, table, version)): Path<(String, String, i64)>,
) -> Response {
    let l = caller.lang;
    let d = match state.kho.table_diff(&caller.subject, &caller.ctx(), &key, &table, version).await {
        Ok(d) => d,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    let previous = match d.previous {
        Some(p) => format!("{} {p}", l.t("phiên bản", "version")),
        None => l.t("bảng trống", "an empty table").to_string(),
    };
    let title = format!("{} {} — {}", l.t("So sánh phiên bản", "Compare version"), d.version, table);
    let content = html! {
        p { a href={ "/admin/resources/" (key) "#data-h" } { "← " (l.t("Về tài nguyên", "Back to the resource")) } }
        p { (l.t("So với", "Against")) " " (previous) "." }
        table #diff {
            tbody {
                tr { th scope="row" { (l.t("Số dòng", "Rows")) } td { (d.rows_before) " → " (d.rows_after) } }
                @match d.rows {
                    Some(c) => {
                        tr { th scope="row" { (l.t("Dòng thêm mới", "Rows added")) } td.added { (c.added) } }
                        tr { th scope="row" { (l.t("Dòng bị xoá", "Rows removed")) } td.removed { (c.removed) } }
                        tr { th scope="row" { (l.t("Dòng thay đổi", "Rows changed")) } td.changed { (c.changed) } }
                    }
                    None => tr { th scope="row" { (l.t("Từng dòng", "Row by row")) } td { (l.t(
                        "chưa so sánh được: bảng chưa khai báo cột khoá (nạp lại với cột khoá)",
                        "not compared: the table declares no key column (load with a key)")) } }
                }
                @if !d.key.is_empty() { tr { th scope="row" { (l.t("Cột khoá", "Key")) } td { code { (d.key.join(", ")) } } } }
                tr { th scope="row" { (l.t("Cột thêm", "Columns added")) } td { (d.columns_added.join(", ")) } }
                tr { th scope="row" { (l.t("Cột bỏ", "Columns removed")) } td { (d.columns_removed.join(", ")) } }
                tr { th scope="row" { (l.t("Cột đổi kiểu", "Columns retyped")) } td {
                    @for r in &d.columns_retyped { code { (r.name) } " " (kind_label(l, &r.from)) " → " (kind_label(l, &r.to)) "; " }
                } }
            }
        }
    };
    super::page(&caller, &uri, &title, axum::http::StatusCode::OK, content)
}

/// Links that download the shown (newest) version of a table in each format it has;
/// GeoJSON only for spatial tables.
pub(super) async fn downloads(
    state: &AppState,
    caller: &Caller,
    r: &DataResource,
    table: &str,
    version: Option<i64>,
) -> Result<Markup, Error> {
    let Some(version) = version else { return Ok(html! {}) };
    let l = caller.lang;
    let formats = state.kho.table_download_formats(&caller.subject, &caller.ctx(), &r.id, table, Some(version)).await?;
    let base = format!("/api/v1/resources/{}/tables/{table}/download?version={version}&format=", r.slug);
    let mut links = Vec::new();
    for f in formats {
        let label = match f {
            DownloadFormat::Csv => "CSV",
            DownloadFormat::Json => "JSON",
            DownloadFormat::Ndjson => "NDJSON",
            DownloadFormat::Xlsx => "Excel (XLSX)",
            DownloadFormat::Parquet => "Parquet",
            DownloadFormat::Geojson => "GeoJSON",
        };
        links.push((label.to_string(), format!("{base}{f}")));
        if f == DownloadFormat::Csv {
            links.push((l.t("CSV cho Excel", "CSV for Excel").to_string(), format!("{base}csv&bom=true")));
        }
    }
    Ok(html! {
        p.downloads {
            strong { (l.t("Tải về", "Download")) " " (l.t("phiên bản", "version")) " " (version) ": " }
            @for (i, (label, href)) in links.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(href) download { (label) }
            }
        }
    })
}

/// Receives the upload form: the file is streamed to disk, then loaded.
pub async fn load(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    multipart: Multipart,
) -> Response {
    let result = async {
        let (fields, upload) = read_form(&state, multipart).await?;
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
        caller.check_csrf(field("csrf_token"))?;
        let (upload, file_name) = upload.ok_or_else(|| Error::invalid("file", "choose a file to load"))?;
        let mode = LoadMode::parse(field("mode")).map_err(Error::from)?;
        let table = if field("table").is_empty() { "main" } else { field("table") };
        let load_key = if field("key").trim().is_empty() { vec![] } else { vec![field("key").to_string()] };
        let sheet = Some(field("sheet").trim().to_string()).filter(|s| !s.is_empty());
        let load = Load {
            resource: &key,
            table,
            path: upload.path(),
            source_name: file_name,
            mode,
            key: load_key,
            format: None,
            sheet,
            header_row: match field("header_row").trim() {
                "" => None,
                n => Some(n.parse().map_err(|_| Error::invalid("header_row", format!("{n:?} is not a row number")))?),
            },
            schema: crate::services::parse_schema(field("schema"))?,
            on_error: crate::services::OnError::Fail,
        };
        state.kho.load_table(&caller.subject, &caller.ctx(), load, |_| {}).await
    };
    match result.await {
        Ok(_) => Redirect::to(&format!("/admin/resources/{key}#data-h")).into_response(),
        Err(e) if e.code == ErrorCode::InvalidField => {
            super::resources::show_with_error(&state, &caller, &uri, &key, &e.message).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

type FormParts = (Vec<(String, String)>, Option<(Upload, String)>);

async fn read_form(state: &AppState, mut multipart: Multipart) -> Result<FormParts, Error> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::new(ErrorCode::MalformedRequest, format!("the form could not be read: {e}"))
    };
    let mut fields = Vec::new();
    let mut upload = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload.csv").to_string();
            upload = Some((Upload::receive(state, field).await?, file_name));
        } else {
            fields.push((name, field.text().await.map_err(bad)?));
        }
    }
    Ok((fields, upload))
}
