//! Code lists (danh mục dùng chung) in the web UI: the public pages (`/refdata`: the
//! lists, and a list's items as of a date with a date picker and a search), and the
//! management pages (`/admin/code-lists`: create a list, upload a CSV/XLSX file as a
//! draft, see its validation report and what it changes, publish or delete it).

use super::alert;
use super::{error_page, page, require_login, CsrfForm, Lang};
use crate::http::caller::Caller;
use crate::http::AppState;
use crate::services::codelists::{today, ImportOutcome, VersionPick};
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use kho_core::{Error, ErrorCode};
use kho_refdata::codelist::{self, CodeList, CodeListVersion, NewCodeList, VersionStatus};
use maud::{html, Markup};
use serde::Deserialize;

/// Items shown on one page.
const PAGE_ITEMS: usize = 200;

fn dates(v: &CodeListVersion) -> String {
    let show = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "…".to_string(), |d| d.format("%d/%m/%Y").to_string());
    format!("{} – {}", show(v.effective_from), show(v.effective_until))
}

fn status_name(l: Lang, s: VersionStatus) -> &'static str {
    match s {
        VersionStatus::Draft => l.t("Bản nháp", "Draft"),
        VersionStatus::Published => l.t("Đã công bố", "Published"),
    }
}

fn lists_table(l: Lang, lists: &[CodeList], base: &str) -> Markup {
    html! {
        table {
            thead { tr { th { (l.t("Mã danh mục", "Identifier")) } th { (l.t("Tên", "Name")) } th { (l.t("Mô tả", "Description")) } } }
            tbody {
                @for list in lists {
                    tr {
                        td { a href={ (base) "/" (list.slug) } { code { (list.slug) } } }
                        td { (match (l, &list.name_en) { (Lang::En, Some(en)) => en.as_str(), _ => list.name_vi.as_str() }) }
                        td.muted { (list.description) }
                    }
                }
            }
        }
    }
}

// ---- public pages -------------------------------------------------------------------

/// `/refdata` — every code list.
pub async fn public_list(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    let l = caller.lang;
    match state.kho.code_lists().await {
        Ok(lists) => page(
            &caller,
            &uri,
            l.t("Danh mục dùng chung", "Shared code lists"),
            StatusCode::OK,
            html! {
                p { (l.t("Dữ liệu danh mục là dữ liệu mở: ai cũng tra cứu và tải về được.", "Reference data is open data: anyone may look it up and download it.")) }
                (lists_table(l, &lists, "/refdata"))
            },
        ),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct ItemsQuery {
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    q: String,
}

/// `/refdata/{slug}` — a list's items as of a date (today by default), or of a version.
pub async fn public_show(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(slug): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> Response {
    let l = caller.lang;
    let result = async {
        let (list, versions) = state.kho.code_list(&caller.subject, &slug).await?;
        let as_of = match q.as_of.trim() {
            "" => today(),
            s => codelist::parse_date("as_of", s)?,
        };
        let pick = match q.version.trim() {
            "" => VersionPick::AsOf(as_of),
            n => {
                VersionPick::Number(n.parse().map_err(|_| Error::invalid("version", format!("{n:?} is not a number")))?)
            }
        };
        let index = match state.kho.code_list_version(&caller.subject, &slug, pick).await {
            Ok(index) => Some(index),
            Err(e) if e.code == ErrorCode::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok::<_, Error>((list, versions, as_of, index))
    };
    let (list, versions, as_of, index) = match result.await {
        Ok(found) => found,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    let items: Vec<&codelist::CodeItem> = match &index {
        Some(index) if !q.q.trim().is_empty() => index.search(&q.q),
        Some(index) => index.items().iter().collect(),
        None => vec![],
    };
    let content = html! {
        @if !list.description.is_empty() { p { (list.description) } }
        h2 { (l.t("Phiên bản", "Versions")) }
        table #versions {
            thead { tr { th { (l.t("Phiên bản", "Version")) } th { (l.t("Trạng thái", "Status")) } th { (l.t("Hiệu lực", "In force")) } th { (l.t("Số mục", "Items")) } } }
            tbody {
                @for v in &versions {
                    tr {
                        td { a href={ "/refdata/" (slug) "?version=" (v.version) } { (v.version) } }
                        td { (status_name(l, v.status)) }
                        td { (dates(v)) }
                        td { (v.item_count) }
                    }
                }
            }
        }
        form.card method="get" action={ "/refdata/" (slug) } {
            label for="as_of" { (l.t("Tra cứu tại ngày", "As of date")) }
            input #as_of type="date" name="as_of" value=(as_of.to_string());
            label for="q" { (l.t("Tìm theo tên hoặc mã (không cần dấu)", "Search by name or code (diacritics optional)")) }
            input #q type="search" name="q" value=(q.q);
            button type="submit" { (l.t("Xem", "Show")) }
        }
        @match &index {
            None => p #no-version.muted { (l.t("Không có phiên bản nào có hiệu lực vào ngày này.", "No version is in force on this date.")) }
            Some(index) => {
                p #shown-version {
                    (l.t("Phiên bản", "Version")) " " strong { (index.version.version) } " (" (dates(&index.version)) ") — "
                    (items.len()) " " (l.t("mục", "items"))
                    @if items.len() > PAGE_ITEMS { " (" (l.t("hiện", "showing")) " " (PAGE_ITEMS) ")" }
                    " · " (l.t("Tải về", "Download")) ":"
                    @for f in ["csv", "json", "xlsx"] {
                        " " a href={ "/api/v1/refdata/code-lists/" (slug) "/export?format=" (f) "&version=" (index.version.version) } { (f.to_uppercase()) }
                    }
                }
                table #items {
                    thead { tr { th { (l.t("Mã", "Code")) } th { (l.t("Tên", "Name")) } th { (l.t("Mã cha", "Parent")) } th { (l.t("Thuộc tính khác", "Other attributes")) } } }
                    tbody {
                        @for item in items.iter().take(PAGE_ITEMS) {
                            tr {
                                td { code { (item.code) } }
                                td.name { (item.name_vi) @if let Some(en) = &item.name_en { br; span.muted lang="en" { (en) } } }
                                td { (item.parent_code.as_deref().unwrap_or("")) }
                                td.muted { @for (k, v) in &item.attributes { (k) ": " (v) br; } }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = match (l, &list.name_en) {
        (Lang::En, Some(en)) => en.as_str(),
        _ => list.name_vi.as_str(),
    };
    page(&caller, &uri, title, StatusCode::OK, content)
}

// ---- management pages ---------------------------------------------------------------

async fn admin_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let lists = match state.kho.code_lists().await {
        Ok(lists) => lists,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let content = html! {
        (alert(message))
        (lists_table(l, &lists, "/admin/code-lists"))
        form.card method="post" action="/admin/code-lists" {
            h2 { (l.t("Tạo danh mục", "New code list")) }
            input type="hidden" name="csrf_token" value=(caller.csrf_token());
            label for="slug" { (l.t("Mã danh mục (chữ thường, số, dấu gạch ngang)", "Identifier (lowercase letters, digits, dashes)")) }
            input #slug name="slug" required pattern="[a-z0-9-]+";
            label for="name_vi" { (l.t("Tên tiếng Việt", "Vietnamese name")) }
            input #name_vi name="name_vi" required;
            label for="name_en" { (l.t("Tên tiếng Anh", "English name")) }
            input #name_en name="name_en";
            label for="description" { (l.t("Mô tả", "Description")) }
            textarea #description name="description" {}
            button type="submit" { (l.t("Tạo", "Create")) }
        }
    };
    page(caller, uri, l.t("Quản lý danh mục", "Code lists"), status, content)
}

/// `/admin/code-lists` — the lists and the form for a new one.
pub async fn admin_list(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    admin_page(&state, &caller, &uri, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    slug: String,
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    description: String,
}

/// Creates a list owned by the caller's agency.
pub async fn admin_create(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<CreateForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let new = NewCodeList {
            slug: f.slug,
            name_vi: f.name_vi,
            name_en: Some(f.name_en),
            description: f.description,
            agency_id: None,
        };
        state.kho.create_code_list(&caller.subject, &caller.ctx(), new).await
    };
    match result.await {
        Ok(list) => Redirect::to(&format!("/admin/code-lists/{}", list.slug)).into_response(),
        Err(e) if matches!(e.code, ErrorCode::InvalidField | ErrorCode::Conflict) => {
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            admin_page(&state, &caller, &uri, Some(&e.message), status).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

async fn admin_show_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    slug: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let (list, versions) = match state.kho.code_list(&caller.subject, slug).await {
        Ok(found) => found,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let content = html! {
        (alert(message))
        p { a href={ "/refdata/" (slug) } { (l.t("Trang công khai của danh mục", "The list's public page")) } }
        table #versions {
            thead { tr { th { (l.t("Phiên bản", "Version")) } th { (l.t("Trạng thái", "Status")) } th { (l.t("Hiệu lực", "In force")) } th { (l.t("Số mục", "Items")) } th { (l.t("Lỗi", "Errors")) } } }
            tbody {
                @for v in &versions {
                    tr {
                        td { a href={ "/admin/code-lists/" (slug) "/versions/" (v.version) } { (v.version) } }
                        td { (status_name(l, v.status)) }
                        td { (dates(v)) }
                        td { (v.item_count) }
                        td { (v.report.error_count) }
                    }
                }
            }
        }
        form.card method="post" action={ "/admin/code-lists/" (slug) "/import" } enctype="multipart/form-data" {
            h2 { (l.t("Nhập phiên bản mới từ tệp", "Import a new version from a file")) }
            p.muted { (l.t("CSV hoặc XLSX; dòng tiêu đề có cột code (Mã), name (Tên), tuỳ chọn name_en (Tên tiếng Anh), parent_code (Mã cha); các cột khác là thuộc tính.",
                          "CSV or XLSX; a header row with code (Mã), name (Tên), optionally name_en, parent_code (Mã cha); other columns become attributes.")) }
            input type="hidden" name="csrf_token" value=(caller.csrf_token());
            label for="file" { (l.t("Tệp", "File")) }
            input #file name="file" type="file" accept=".csv,.tsv,.txt,.xlsx,text/csv" required;
            label for="sheet" { (l.t("Trang tính (XLSX, mặc định trang đầu)", "Sheet (XLSX; the first by default)")) }
            input #sheet name="sheet";
            button type="submit" { (l.t("Nhập và xem trước", "Import and preview")) }
        }
    };
    page(caller, uri, &list.name_vi, status, content)
}

/// `/admin/code-lists/{slug}` — the versions and the import form.
pub async fn admin_show(State(state): State<AppState>, caller: Caller, uri: Uri, Path(slug): Path<String>) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    admin_show_page(&state, &caller, &uri, &slug, None, StatusCode::OK).await
}

/// Imports the uploaded file as a draft and shows its preview.
pub async fn admin_import(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(slug): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let result = async {
        let bad = |e: axum::extract::multipart::MultipartError| {
            Error::new(ErrorCode::MalformedRequest, format!("the form could not be read: {e}"))
        };
        let (mut csrf, mut sheet, mut file) = (String::new(), String::new(), None);
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            match field.name().unwrap_or("") {
                "file" => {
                    let name = field.file_name().unwrap_or("upload").to_string();
                    file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
                }
                "csrf_token" => csrf = field.text().await.map_err(bad)?,
                "sheet" => sheet = field.text().await.map_err(bad)?,
                _ => {}
            }
        }
        caller.check_csrf(&csrf)?;
        let (name, bytes) =
            file.filter(|(_, b)| !b.is_empty()).ok_or_else(|| Error::invalid("file", "choose a file to import"))?;
        let sheet = Some(sheet.trim().to_string()).filter(|s| !s.is_empty());
        state.kho.import_code_list(&caller.subject, &caller.ctx(), &slug, &name, bytes, sheet).await
    };
    match result.await {
        Ok(outcome) => {
            Redirect::to(&format!("/admin/code-lists/{slug}/versions/{}", outcome.version.version)).into_response()
        }
        Err(e) if e.code == ErrorCode::InvalidField => {
            admin_show_page(&state, &caller, &uri, &slug, Some(&e.message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

fn preview(l: Lang, caller: &Caller, slug: &str, o: &ImportOutcome, message: Option<&str>) -> Markup {
    let v = &o.version;
    let d = &o.diff;
    html! {
        (alert(message))
        p { a href={ "/admin/code-lists/" (slug) } { (l.t("← Các phiên bản", "← Versions")) } }
        p { (l.t("Trạng thái", "Status")) ": " strong #status { (status_name(l, v.status)) } " · " (l.t("Hiệu lực", "In force")) ": " (dates(v)) " · " (v.item_count) " " (l.t("mục", "items")) }
        h2 { (l.t("Báo cáo kiểm tra", "Validation report")) }
        @if o.report.is_ok() {
            p.ok #report-ok { (l.t("Không có lỗi.", "No errors.")) }
        } @else {
            p.error #report-errors role="alert" { (o.report.error_count) " " (l.t("lỗi — sửa tệp rồi nhập lại; bản nháp này không công bố được.", "errors — fix the file and import it again; this draft cannot be published.")) }
            table #errors {
                thead { tr { th { (l.t("Dòng", "Row")) } th { (l.t("Cột", "Column")) } th { (l.t("Lỗi", "Problem")) } } }
                tbody { @for e in &o.report.errors { tr { td { (e.row.map(|r| r.to_string()).unwrap_or_default()) } td { (e.column.as_deref().unwrap_or("")) } td { (e.message) } } } }
            }
        }
        h2 { (l.t("Thay đổi so với phiên bản đang hiệu lực", "Changes against the version in force")) }
        @match d.against_version {
            Some(n) => p.muted { (l.t("So với phiên bản", "Against version")) " " (n) }
            None => p.muted { (l.t("Chưa có phiên bản nào được công bố.", "Nothing is published yet.")) }
        }
        table #diff {
            tbody {
                tr { th { (l.t("Thêm mới", "Added")) } td #added { (d.added.len()) } td.muted { (d.added.iter().take(20).cloned().collect::<Vec<_>>().join(", ")) } }
                tr { th { (l.t("Bỏ đi", "Removed")) } td #removed { (d.removed.len()) } td.muted { (d.removed.iter().take(20).cloned().collect::<Vec<_>>().join(", ")) } }
                tr { th { (l.t("Đổi tên", "Renamed")) } td #renamed { (d.renamed.len()) } td.muted { @for r in d.renamed.iter().take(20) { (r.code) ": " (r.old_name) " → " (r.new_name) br; } } }
                tr { th { (l.t("Không đổi", "Unchanged")) } td #unchanged { (d.unchanged) } td {} }
            }
        }
        @if v.status == VersionStatus::Draft {
            @if o.report.is_ok() {
                form.card #publish method="post" action={ "/admin/code-lists/" (slug) "/versions/" (v.version) "/publish" } {
                    h2 { (l.t("Công bố", "Publish")) }
                    input type="hidden" name="csrf_token" value=(caller.csrf_token());
                    label for="effective_from" { (l.t("Hiệu lực từ ngày, dd/mm/yyyy (phiên bản đang hiệu lực kết thúc vào ngày trước đó)", "In force from, dd/mm/yyyy (the version in force then ends the day before)")) }
                    input #effective_from name="effective_from" required placeholder="01/07/2025" inputmode="numeric";
                    button type="submit" { (l.t("Công bố", "Publish")) }
                }
            }
            form.inline method="post" action={ "/admin/code-lists/" (slug) "/versions/" (v.version) "/delete" } {
                input type="hidden" name="csrf_token" value=(caller.csrf_token());
                button type="submit" { (l.t("Xoá bản nháp", "Delete the draft")) }
            }
        }
    }
}

async fn preview_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    slug: &str,
    version: i64,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    match state.kho.code_list_preview(&caller.subject, slug, version).await {
        Ok(o) => {
            let title = format!("{slug} — {} {version}", l.t("phiên bản", "version"));
            page(caller, uri, &title, status, preview(l, caller, slug, &o, message))
        }
        Err(e) => error_page(caller, uri.path(), &e),
    }
}

/// `/admin/code-lists/{slug}/versions/{version}` — the preview: report, diff, publish.
pub async fn admin_version(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path((slug, version)): Path<(String, i64)>,
) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    preview_page(&state, &caller, &uri, &slug, version, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    effective_from: String,
}

/// Publishes a draft from the chosen date.
pub async fn admin_publish(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path((slug, version)): Path<(String, i64)>,
    Form(f): Form<PublishForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let from = codelist::parse_date("effective_from", &f.effective_from)?;
        state.kho.publish_code_list(&caller.subject, &caller.ctx(), &slug, version, from, None).await
    };
    match result.await {
        Ok(_) => Redirect::to(&format!("/admin/code-lists/{slug}")).into_response(),
        Err(e) if matches!(e.code, ErrorCode::InvalidField | ErrorCode::Conflict) => {
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            preview_page(&state, &caller, &uri, &slug, version, Some(&e.message), status).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

/// Deletes a draft.
pub async fn admin_delete(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path((slug, version)): Path<(String, i64)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.delete_code_list_draft(&caller.subject, &caller.ctx(), &slug, version).await
    };
    match result.await {
        Ok(()) => Redirect::to(&format!("/admin/code-lists/{slug}")).into_response(),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}
