//! Management pages for data resources: the list with filters, the form to register
//! or edit one, and the page of one resource with its lifecycle buttons.

use super::{error_page, layout_with_head, page, require_login, CsrfForm, Lang};
use crate::http::caller::Caller;
use crate::http::catalog::ResourceParams;
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use kho_catalog::{
    parse_scope, scope_str, ContactPoint, DataResource, Frequency, Importance, PersonalData, ResourceDraft, Status,
};
use kho_core::agency::Agency;
use kho_core::policy::{authorize, Action, Resource, ResourceKind, SharingScope};
use kho_core::Error;
use maud::{html, Markup};
use serde::Deserialize;

fn scope_label(l: Lang, s: SharingScope) -> &'static str {
    match s {
        SharingScope::Open => l.t("Dữ liệu mở", "Open"),
        SharingScope::Shared => l.t("Dùng chung", "Shared"),
        SharingScope::Specialised => l.t("Chuyên ngành", "Specialised"),
        SharingScope::Private => l.t("Riêng", "Private"),
    }
}

fn status_label(l: Lang, s: Status) -> &'static str {
    match s {
        Status::Draft => l.t("Bản nháp", "Draft"),
        Status::Published => l.t("Đã công bố", "Published"),
        Status::Retired => l.t("Ngừng cung cấp", "Retired"),
    }
}

const SCOPES: [SharingScope; 4] =
    [SharingScope::Open, SharingScope::Shared, SharingScope::Specialised, SharingScope::Private];
const FREQUENCIES: [(Frequency, &str, &str); 8] = [
    (Frequency::Continuous, "Liên tục", "Continuous"),
    (Frequency::Daily, "Hằng ngày", "Daily"),
    (Frequency::Weekly, "Hằng tuần", "Weekly"),
    (Frequency::Monthly, "Hằng tháng", "Monthly"),
    (Frequency::Quarterly, "Hằng quý", "Quarterly"),
    (Frequency::Annual, "Hằng năm", "Annual"),
    (Frequency::Irregular, "Không định kỳ", "Irregular"),
    (Frequency::Never, "Không cập nhật", "Never"),
];

/// Agencies the caller may register resources for.
fn publishable(caller: &Caller, agencies: &[Agency]) -> Vec<Agency> {
    agencies
        .iter()
        .filter(|a| {
            let r = Resource::new(ResourceKind::DataResource).in_agency(&a.path).with_scope(SharingScope::Private);
            authorize(&caller.subject, Action::Create, &r).is_allowed()
        })
        .cloned()
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(p): Query<ResourceParams>,
) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    let l = caller.lang;
    let result = async {
        Ok::<_, Error>((
            state.kho.list_resources(&caller.subject, p.to_filter()?).await?,
            state.kho.list_agencies().await?,
        ))
    };
    let (resources, agencies) = match result.await {
        Ok(v) => v,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    let name_of = |id: &str| agencies.iter().find(|a| a.id == id).map(|a| a.name.as_str()).unwrap_or("");
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let can_create = !publishable(&caller, &agencies).is_empty();
    let content = html! {
        @if can_create { p { a href="/admin/resources/new" { "+ " (l.t("Đăng ký tài nguyên dữ liệu", "Register a data resource")) } } }
        form.card method="get" action="/admin/resources" role="search" {
            label for="q" { (l.t("Tìm theo tên, từ khóa", "Search title and keywords")) }
            input #q name="q" type="search" value=(value(&p.q));
            label for="status" { (l.t("Trạng thái", "Status")) }
            select #status name="status" {
                option value="" { "—" }
                @for s in [Status::Draft, Status::Published, Status::Retired] {
                    option value=(s.as_str()) selected[p.status.as_deref() == Some(s.as_str())] { (status_label(l, s)) }
                }
            }
            label for="scope" { (l.t("Phạm vi chia sẻ", "Sharing scope")) }
            select #scope name="scope" {
                option value="" { "—" }
                @for s in SCOPES { option value=(scope_str(s)) selected[p.scope.as_deref() == Some(scope_str(s))] { (scope_label(l, s)) } }
            }
            button type="submit" { (l.t("Lọc", "Filter")) }
        }
        table {
            caption.muted { (resources.total) " " (l.t("tài nguyên", "resources")) }
            thead { tr {
                th scope="col" { (l.t("Tên", "Title")) } th scope="col" { (l.t("Cơ quan", "Agency")) }
                th scope="col" { (l.t("Phạm vi", "Scope")) } th scope="col" { (l.t("Trạng thái", "Status")) }
                th scope="col" { (l.t("Cập nhật", "Updated")) }
            } }
            tbody { @for r in &resources.items { tr {
                td { a href={ "/admin/resources/" (r.slug) } { (r.draft.title) } }
                td { (name_of(&r.draft.publisher_agency_id)) }
                td { (scope_label(l, r.draft.sharing_scope)) } td { (status_label(l, r.status)) }
                td { (r.updated_at.format("%Y-%m-%d")) }
            } } }
        }
    };
    page(&caller, &uri, l.t("Tài nguyên dữ liệu", "Data resources"), StatusCode::OK, content)
}

/// The registration and edit form.
fn form(
    caller: &Caller,
    action: &str,
    agencies: &[Agency],
    d: Option<&ResourceDraft>,
    slug: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let l = caller.lang;
    let text = |f: fn(&ResourceDraft) -> String| d.map(f).unwrap_or_default();
    let scope = d.map(|d| d.sharing_scope).unwrap_or(SharingScope::Open);
    let freq = d.map(|d| d.update_frequency).unwrap_or_default();
    let importance = d.map(|d| d.importance).unwrap_or_default();
    let personal = d.map(|d| d.personal_data).unwrap_or_default();
    let publisher =
        d.map(|d| d.publisher_agency_id.clone()).or_else(|| caller.subject.agency_id.clone()).unwrap_or_default();
    let date = |v: Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.card method="post" action=(action) {
            input type="hidden" name="csrf_token" value=(caller.csrf_token());
            fieldset {
                legend { (l.t("Mô tả", "Description")) }
                label for="title" { (l.t("Tên tài nguyên (tiếng Việt)", "Title (Vietnamese)")) }
                input #title name="title" required minlength="3" maxlength="300" value=(text(|d| d.title.clone()));
                label for="title_en" { (l.t("Tên tiếng Anh", "Title (English)")) }
                input #title_en name="title_en" value=(text(|d| d.title_en.clone().unwrap_or_default()));
                label for="slug" { (l.t("Định danh ngắn (slug, để trống để tự tạo)", "Slug (leave empty to generate)")) }
                input #slug name="slug" pattern="[a-z0-9]+(-[a-z0-9]+)*" value=(slug.unwrap_or(""));
                label for="description" { (l.t("Mô tả", "Description")) }
                textarea #description name="description" rows="4" { (text(|d| d.description.clone())) }
                label for="keywords" { (l.t("Từ khóa (cách nhau bởi dấu phẩy)", "Keywords (comma-separated)")) }
                input #keywords name="keywords" value=(text(|d| d.keywords.join(", ")));
                label for="theme" { (l.t("Lĩnh vực", "Theme / sector")) }
                input #theme name="theme" value=(text(|d| d.theme.clone()));
            }
            fieldset {
                legend { (l.t("Quản lý", "Management")) }
                label for="publisher_agency_id" { (l.t("Cơ quan chủ quản", "Publishing agency")) }
                select #publisher_agency_id name="publisher_agency_id" required {
                    @for a in agencies { option value=(a.id) selected[a.id == publisher] { (a.name) } }
                }
                label for="contact_name" { (l.t("Đầu mối liên hệ", "Contact person")) }
                input #contact_name name="contact_name" value=(text(|d| d.contact_point.name.clone()));
                label for="contact_email" { "Email" }
                input #contact_email name="contact_email" type="email" value=(text(|d| d.contact_point.email.clone()));
                label for="contact_phone" { (l.t("Điện thoại", "Phone")) }
                input #contact_phone name="contact_phone" type="tel" value=(text(|d| d.contact_point.phone.clone()));
                label for="legal_basis" { (l.t("Căn cứ pháp lý", "Legal basis")) }
                input #legal_basis name="legal_basis" value=(text(|d| d.legal_basis.clone()));
            }
            fieldset {
                legend { (l.t("Phân loại và chia sẻ", "Classification and sharing")) }
                label for="sharing_scope" { (l.t("Phạm vi chia sẻ", "Sharing scope")) }
                select #sharing_scope name="sharing_scope" {
                    @for s in SCOPES { option value=(scope_str(s)) selected[s == scope] { (scope_label(l, s)) } }
                }
                label for="importance" { (l.t("Mức độ quan trọng (Luật Dữ liệu)", "Importance (Law on Data)")) }
                select #importance name="importance" {
                    @for (v, vi, en) in [(Importance::Ordinary, "Thông thường", "Ordinary"), (Importance::Important, "Quan trọng", "Important"), (Importance::Core, "Cốt lõi", "Core")] {
                        option value=(v.as_str()) selected[v == importance] { (l.t(vi, en)) }
                    }
                }
                label for="personal_data" { (l.t("Dữ liệu cá nhân (Nghị định 13/2023)", "Personal data (Decree 13/2023)")) }
                select #personal_data name="personal_data" {
                    @for (v, vi, en) in [(PersonalData::None, "Không có", "None"), (PersonalData::Basic, "Cơ bản", "Basic"), (PersonalData::Sensitive, "Nhạy cảm", "Sensitive")] {
                        option value=(v.as_str()) selected[v == personal] { (l.t(vi, en)) }
                    }
                }
                label for="access_conditions" { (l.t("Điều kiện truy cập", "Access conditions")) }
                input #access_conditions name="access_conditions" value=(text(|d| d.access_conditions.clone()));
                label for="licence" { (l.t("Giấy phép", "Licence")) }
                input #licence name="licence" value=(d.map(|d| d.licence.clone()).unwrap_or_else(|| "CC-BY-4.0".into()));
            }
            fieldset {
                legend { (l.t("Phạm vi và cập nhật", "Coverage and updates")) }
                label for="spatial" { (l.t("Phạm vi không gian (mã ĐVHC 2025, cách nhau bởi dấu phẩy)", "Spatial coverage (2025 admin-unit codes, comma-separated)")) }
                input #spatial name="spatial" value=(text(|d| d.spatial.join(", ")));
                label for="temporal_start" { (l.t("Thời gian từ", "Covers from")) }
                input #temporal_start name="temporal_start" type="date" value=(date(d.and_then(|d| d.temporal_start)));
                label for="temporal_end" { (l.t("đến", "until")) }
                input #temporal_end name="temporal_end" type="date" value=(date(d.and_then(|d| d.temporal_end)));
                label for="update_frequency" { (l.t("Tần suất cập nhật", "Update frequency")) }
                select #update_frequency name="update_frequency" {
                    @for (v, vi, en) in FREQUENCIES { option value=(v.as_str()) selected[v == freq] { (l.t(vi, en)) } }
                }
                label for="update_commitment" { (l.t("Cam kết cập nhật", "Update commitment")) }
                input #update_commitment name="update_commitment" value=(text(|d| d.update_commitment.clone()));
            }
            button type="submit" { (l.t("Lưu", "Save")) }
        }
    }
}

/// The form as posted: every field as text.
#[derive(Deserialize)]
pub struct ResourceForm {
    csrf_token: String,
    title: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    theme: String,
    publisher_agency_id: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    legal_basis: String,
    sharing_scope: String,
    importance: String,
    personal_data: String,
    #[serde(default)]
    access_conditions: String,
    #[serde(default)]
    licence: String,
    #[serde(default)]
    spatial: String,
    #[serde(default)]
    temporal_start: String,
    #[serde(default)]
    temporal_end: String,
    update_frequency: String,
    #[serde(default)]
    update_commitment: String,
}

impl ResourceForm {
    fn into_draft(self) -> Result<ResourceDraft, Error> {
        let list = |s: &str| s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect::<Vec<_>>();
        let optional = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let date = |field: &str, s: &str| -> Result<Option<NaiveDate>, Error> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
                .map(Some)
                .map_err(|_| Error::invalid(field, format!("{s:?} is not a date; use dd/mm/yyyy")))
        };
        Ok(ResourceDraft {
            title: self.title,
            title_en: optional(self.title_en),
            description: self.description,
            description_en: None,
            slug: optional(self.slug),
            keywords: list(&self.keywords),
            theme: self.theme.trim().to_string(),
            publisher_agency_id: self.publisher_agency_id,
            contact_point: ContactPoint {
                name: self.contact_name.trim().into(),
                email: self.contact_email.trim().into(),
                phone: self.contact_phone.trim().into(),
            },
            licence: if self.licence.trim().is_empty() { "CC-BY-4.0".into() } else { self.licence.trim().into() },
            spatial: list(&self.spatial),
            temporal_start: date("temporal_start", &self.temporal_start)?,
            temporal_end: date("temporal_end", &self.temporal_end)?,
            update_frequency: Frequency::parse("update_frequency", &self.update_frequency)?,
            update_commitment: self.update_commitment.trim().into(),
            sharing_scope: parse_scope("sharing_scope", &self.sharing_scope)?,
            importance: Importance::parse("importance", &self.importance)?,
            personal_data: PersonalData::parse("personal_data", &self.personal_data)?,
            access_conditions: self.access_conditions.trim().into(),
            legal_basis: self.legal_basis.trim().into(),
        })
    }
}

async fn form_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    existing: Option<&DataResource>,
    draft: Option<&ResourceDraft>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let agencies = match state.kho.list_agencies().await {
        Ok(a) => publishable(caller, &a),
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let (title, action) = match existing {
        Some(r) => (l.t("Sửa tài nguyên dữ liệu", "Edit data resource"), format!("/admin/resources/{}/edit", r.slug)),
        None => (l.t("Đăng ký tài nguyên dữ liệu", "Register a data resource"), "/admin/resources/new".to_string()),
    };
    let draft = draft.or(existing.map(|r| &r.draft));
    let slug = draft.and_then(|d| d.slug.clone()).or(existing.map(|r| r.slug.clone()));
    page(caller, uri, title, status, form(caller, &action, &agencies, draft, slug.as_deref(), error))
}

pub async fn new_form(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    form_page(&state, &caller, &uri, None, None, None, StatusCode::OK).await
}

pub async fn create(State(state): State<AppState>, caller: Caller, uri: Uri, Form(f): Form<ResourceForm>) -> Response {
    if let Err(e) = caller.check_csrf(&f.csrf_token) {
        return error_page(&caller, uri.path(), &e);
    }
    let draft = f.into_draft();
    let result = match &draft {
        Ok(d) => state.kho.create_resource(&caller.subject, &caller.ctx(), d.clone()).await,
        Err(e) => Err(e.clone()),
    };
    match result {
        Ok(r) => Redirect::to(&format!("/admin/resources/{}", r.slug)).into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            form_page(&state, &caller, &uri, None, draft.as_ref().ok(), Some(&e.message), status).await
        }
    }
}

pub async fn edit_form(State(state): State<AppState>, caller: Caller, uri: Uri, Path(key): Path<String>) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    match state.kho.resource(&caller.subject, &caller.ctx(), &key).await {
        Ok(r) => form_page(&state, &caller, &uri, Some(&r), None, None, StatusCode::OK).await,
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Form(f): Form<ResourceForm>,
) -> Response {
    if let Err(e) = caller.check_csrf(&f.csrf_token) {
        return error_page(&caller, uri.path(), &e);
    }
    let draft = f.into_draft();
    let result = match &draft {
        Ok(d) => state.kho.update_resource(&caller.subject, &caller.ctx(), &key, d.clone()).await,
        Err(e) => Err(e.clone()),
    };
    match result {
        Ok(r) => Redirect::to(&format!("/admin/resources/{}", r.slug)).into_response(),
        Err(e) => {
            let existing = state.kho.resource(&caller.subject, &caller.ctx(), &key).await.ok();
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
            form_page(&state, &caller, &uri, existing.as_ref(), draft.as_ref().ok(), Some(&e.message), status).await
        }
    }
}

pub async fn show(State(state): State<AppState>, caller: Caller, uri: Uri, Path(key): Path<String>) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    show_page(&state, &caller, &uri, &key, None).await
}

/// The resource page with an error shown at the top (a refused change or load).
pub async fn show_with_error(state: &AppState, caller: &Caller, uri: &Uri, key: &str, error: &str) -> Response {
    show_page(state, caller, uri, key, Some(error)).await
}

async fn show_page(state: &AppState, caller: &Caller, uri: &Uri, key: &str, error: Option<&str>) -> Response {
    let l = caller.lang;
    let result = async {
        let r = state.kho.resource(&caller.subject, &caller.ctx(), key).await?;
        let agency = state.kho.agency(&r.draft.publisher_agency_id).await?;
        Ok::<_, Error>((r, agency))
    };
    let (r, agency) = match result.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let d = &r.draft;
    let can_edit = match state.kho.may_update(&caller.subject, &r).await {
        Ok(can) => can,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let data = match super::tables::data_section(state, caller, &r, can_edit).await {
        Ok(m) => m,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let bindings = match super::dictionary::bindings_section(state, caller, &r, can_edit).await {
        Ok(m) => m,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let quality = match super::quality::summary_section(state, caller, &r).await {
        Ok(m) => m,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let row = |label: &'static str, value: String| html! { tr { th scope="row" { (label) } td { (value) } } };
    let moves: Vec<(Status, &str, &str)> = match r.status {
        Status::Draft => vec![(Status::Published, "Công bố", "Publish")],
        Status::Published => {
            vec![(Status::Retired, "Ngừng cung cấp", "Retire"), (Status::Draft, "Chuyển về nháp", "Back to draft")]
        }
        Status::Retired => vec![(Status::Published, "Công bố lại", "Publish again")],
    };
    let content = html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        p { span.muted { (status_label(l, r.status)) " · " (scope_label(l, d.sharing_scope)) " · " code { (r.slug) } } }
        @if !d.description.is_empty() { p { (d.description) } }
        table {
            (row(l.t("Cơ quan chủ quản", "Publishing agency"), agency.name.clone()))
            (row(l.t("Lĩnh vực", "Theme"), d.theme.clone()))
            (row(l.t("Từ khóa", "Keywords"), d.keywords.join(", ")))
            (row(l.t("Mức độ quan trọng", "Importance"), d.importance.as_str().into()))
            (row(l.t("Dữ liệu cá nhân", "Personal data"), d.personal_data.as_str().into()))
            (row(l.t("Giấy phép", "Licence"), d.licence.clone()))
            (row(l.t("Tần suất cập nhật", "Update frequency"), d.update_frequency.as_str().into()))
            (row(l.t("Cam kết cập nhật", "Update commitment"), d.update_commitment.clone()))
            (row(l.t("Phạm vi không gian", "Spatial coverage"), d.spatial.join(", ")))
            (row(l.t("Điều kiện truy cập", "Access conditions"), d.access_conditions.clone()))
            (row(l.t("Căn cứ pháp lý", "Legal basis"), d.legal_basis.clone()))
            (row(l.t("Đầu mối liên hệ", "Contact"), [d.contact_point.name.as_str(), &d.contact_point.email, &d.contact_point.phone].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" · ")))
            (row(l.t("Ngày công bố", "Published"), r.published_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()))
            (row(l.t("Cập nhật", "Updated"), r.updated_at.format("%Y-%m-%d %H:%M").to_string()))
        }
        @if can_edit {
            p { a href={ "/admin/resources/" (r.slug) "/edit" } { (l.t("Sửa mô tả", "Edit the description")) } }
            @for (to, vi, en) in moves {
                form.inline method="post" action={ "/admin/resources/" (r.slug) "/status" } {
                    input type="hidden" name="csrf_token" value=(caller.csrf_token());
                    input type="hidden" name="status" value=(to.as_str());
                    button type="submit" { (l.t(vi, en)) }
                } " "
            }
            @if r.status == Status::Draft {
                form.inline method="post" action={ "/admin/resources/" (r.slug) "/delete" } {
                    input type="hidden" name="csrf_token" value=(caller.csrf_token());
                    button type="submit" style="background:#c81e1e" { (l.t("Xóa bản nháp", "Delete draft")) }
                }
            }
        }
        (data)
        (quality)
        (bindings)
    };
    let title =
        if caller.lang == Lang::En { d.title_en.clone().unwrap_or_else(|| d.title.clone()) } else { d.title.clone() };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = layout_with_head(caller, uri.path(), &title, super::quality::head(), content);
    (status, Html(page.into_string())).into_response()
}

/// A lifecycle step asked from a page: the status to move to.
#[derive(Deserialize)]
pub struct StatusForm {
    pub(super) csrf_token: String,
    pub(super) status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let status = Status::parse("status", &f.status)?;
        state.kho.set_resource_status(&caller.subject, &caller.ctx(), &key, status).await
    };
    match result.await {
        Ok(r) => Redirect::to(&format!("/admin/resources/{}", r.slug)).into_response(),
        Err(e) if e.code == kho_core::ErrorCode::InvalidField => {
            show_page(&state, &caller, &uri, &key, Some(&e.message)).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.delete_resource(&caller.subject, &caller.ctx(), &key).await
    };
    match result.await {
        Ok(()) => Redirect::to("/admin/resources").into_response(),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}
