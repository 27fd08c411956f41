//! Từ điển dữ liệu in the web UI: `/dictionary` lists and searches the elements for
//! anyone, `/dictionary/{identifier}` shows one with its versions; stewards register
//! (`/admin/dictionary/new`), edit and move elements through their lifecycle.

use super::{error_page, page, require_login, urlencode, Lang};
use crate::http::caller::Caller;
use crate::http::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use kho_catalog::dictionary::{
    DataElement, ElementDraft, ManagementRules, RegistrationStatus, TechnicalDefinition, ValueDomain, ValueType,
};
use kho_catalog::PersonalData;
use kho_core::Error;
use maud::html;
use serde::Deserialize;

fn status_label(l: Lang, s: RegistrationStatus) -> &'static str {
    match s {
        RegistrationStatus::Draft => l.t("Dự thảo", "Draft"),
        RegistrationStatus::Candidate => l.t("Đề xuất", "Candidate"),
        RegistrationStatus::Standard => l.t("Chuẩn", "Standard"),
        RegistrationStatus::Superseded => l.t("Bị thay thế", "Superseded"),
        RegistrationStatus::Retired => l.t("Hủy bỏ", "Retired"),
    }
}

fn personal_label(l: Lang, p: PersonalData) -> &'static str {
    match p {
        PersonalData::None => l.t("Không", "None"),
        PersonalData::Basic => l.t("Cơ bản", "Basic"),
        PersonalData::Sensitive => l.t("Nhạy cảm", "Sensitive"),
    }
}

const TYPES: [(&str, &str, &str); 6] = [
    ("text", "Văn bản", "Text"),
    ("integer", "Số nguyên", "Whole number"),
    ("decimal", "Số thập phân", "Decimal"),
    ("date", "Ngày", "Date"),
    ("boolean", "Đúng/sai", "Yes/no"),
    ("code", "Mã (danh mục)", "Code (code list)"),
];

fn type_text(t: Option<ValueType>) -> &'static str {
    let name = t.and_then(|t| serde_json::to_value(t).ok()).and_then(|v| v.as_str().map(String::from));
    TYPES.iter().find(|(v, _, _)| Some(*v) == name.as_deref()).map(|(v, _, _)| *v).unwrap_or("")
}

#[derive(Deserialize)]
pub struct ListParams {
    q: Option<String>,
    status: Option<String>,
}

/// `/dictionary`: the elements, searched by words and status.
pub async fn list(State(state): State<AppState>, caller: Caller, uri: Uri, Query(p): Query<ListParams>) -> Response {
    let l = caller.lang;
    let q = p.q.clone().unwrap_or_default();
    let status = p.status.as_deref().filter(|s| !s.is_empty()).and_then(|s| RegistrationStatus::parse(s).ok());
    let found = state.kho.data_elements(Some(q.clone()).filter(|q| !q.trim().is_empty()), status, 500, 0).await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    let content = html! {
        p { (l.t(
            "Các phần tử dữ liệu dùng chung của tỉnh: tên, định nghĩa nghiệp vụ, định nghĩa kỹ thuật và quy tắc quản lý (Quyết định 2439/QĐ-TTg).",
            "The province's shared data elements: name, business definition, technical definition and management rules (Decision 2439/QĐ-TTg).")) }
        form.card role="search" method="get" action="/dictionary" {
            label for="q" { (l.t("Từ khoá (không cần dấu)", "Words (accents optional)")) }
            input #q name="q" type="search" value=(q);
            label for="status" { (l.t("Trạng thái", "Status")) }
            select #status name="status" {
                option value="" { (l.t("Tất cả", "All")) }
                @for s in RegistrationStatus::ALL { option value=(s.as_str()) selected[status == Some(s)] { (status_label(l, s)) } }
            }
            button type="submit" { (l.t("Tìm", "Search")) }
        }
        @if caller.subject.is_authenticated() {
            p { a href="/admin/dictionary/new" { (l.t("Đăng ký phần tử dữ liệu mới", "Register a new data element")) } }
        }
        p #element-count role="status" { (found.total) " " (l.t("phần tử", "elements")) }
        table #elements {
            thead { tr {
                th { (l.t("Mã", "Identifier")) } th { (l.t("Tên", "Name")) } th { (l.t("Kiểu", "Type")) }
                th { (l.t("Dữ liệu cá nhân", "Personal data")) } th { (l.t("Trạng thái", "Status")) } th { (l.t("Phiên bản", "Version")) }
            } }
            tbody { @for e in &found.items { tr {
                td { a href={ "/dictionary/" (e.draft.identifier) } { code { (e.draft.identifier) } } }
                td { (e.draft.name) }
                td { (type_text(e.draft.technical.data_type)) }
                td { (personal_label(l, e.draft.personal_data)) }
                td { (status_label(l, e.status)) }
                td { (e.version) }
            } } }
        }
    };
    page(&caller, &uri, l.t("Từ điển dữ liệu", "Data dictionary"), StatusCode::OK, content)
}

/// `/dictionary/{key}`: one element, its versions, and for its stewards the next steps.
pub async fn show(State(state): State<AppState>, caller: Caller, uri: Uri, Path(key): Path<String>) -> Response {
    show_page(&state, &caller, &uri, &key, None, StatusCode::OK).await
}

async fn show_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    key: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let (e, history) = match (state.kho.data_element(key).await, state.kho.data_element_history(key).await) {
        (Ok(e), Ok(h)) => (e, h),
        (Err(err), _) | (_, Err(err)) => return error_page(caller, uri.path(), &err),
    };
    let owner = state.kho.agency(&e.draft.management.owner_agency_id).await.map(|a| a.name).unwrap_or_default();
    let d = &e.draft;
    let t = &d.technical;
    let row = |label: &str, value: String| html! { @if !value.is_empty() { tr { th { (label) } td { (value) } } } };
    let content = html! {
        @if let Some(msg) = error { p.error role="alert" { (msg) } }
        p.muted { code { (d.identifier) } " · " (l.t("phiên bản", "version")) " " (e.version) " · " strong #element-status { (status_label(l, e.status)) } }
        table.card #element {
            tbody {
                (row(l.t("Tên tiếng Anh", "English name"), d.name_en.clone().unwrap_or_default()))
                (row(l.t("Định nghĩa nghiệp vụ", "Business definition"), d.definition.clone()))
                (row(l.t("Kiểu dữ liệu", "Data type"), type_text(t.data_type).to_string()))
                (row(l.t("Độ dài tối đa", "Maximum length"), t.max_length.map(|n| n.to_string()).unwrap_or_default()))
                (row(l.t("Mẫu (biểu thức chính quy)", "Pattern (regular expression)"), t.pattern.clone().unwrap_or_default()))
                (row(l.t("Định dạng", "Format"), t.format.clone().unwrap_or_default()))
                (row(l.t("Đơn vị tính", "Unit"), t.unit.clone().unwrap_or_default()))
                (row(l.t("Danh mục", "Code list"), d.value_domain.code_list.clone().unwrap_or_default()))
                (row(l.t("Quy tắc giá trị", "Value rule"), d.value_domain.rule.clone().unwrap_or_default()))
                (row(l.t("Cơ quan chủ quản", "Owning agency"), owner))
                (row(l.t("Đơn vị quản lý", "Steward"), d.management.steward.clone()))
                (row(l.t("Trách nhiệm cập nhật", "Update responsibility"), d.management.update_responsibility.clone()))
                (row(l.t("Dữ liệu cá nhân", "Personal data"), personal_label(l, d.personal_data).to_string()))
                (row(l.t("Tên gọi khác", "Synonyms"), d.synonyms.join(", ")))
                (row(l.t("Thay thế cho", "Supersedes"), d.supersedes.clone().unwrap_or_default()))
            }
        }
        @if caller.subject.is_authenticated() && !e.status.next().is_empty() {
            form.card.inline method="post" action={ "/admin/dictionary/" (d.identifier) "/status" } {
                input type="hidden" name="csrf_token" value=(caller.csrf_token());
                label for="to" { (l.t("Chuyển trạng thái", "Move to")) }
                select #to name="status" { @for s in e.status.next() { option value=(s.as_str()) { (status_label(l, *s)) } } }
                button type="submit" { (l.t("Chuyển", "Move")) }
            }
            @if e.status != RegistrationStatus::Retired {
                p { a href={ "/admin/dictionary/" (d.identifier) "/edit" } { (l.t("Sửa mô tả (tạo phiên bản mới)", "Edit (makes a new version)")) } }
            }
        }
        h2 { (l.t("Các phiên bản", "Versions")) }
        table #history {
            thead { tr { th { (l.t("Phiên bản", "Version")) } th { (l.t("Trạng thái", "Status")) } th { (l.t("Định nghĩa", "Definition")) } th { (l.t("Người thay đổi", "Changed by")) } th { (l.t("Lúc", "At")) } } }
            tbody { @for v in &history { tr {
                td { (v.version) } td { (status_label(l, v.status)) } td { (v.draft.definition) }
                td { (v.changed_by) } td { (v.changed_at.format("%d/%m/%Y %H:%M")) }
            } } }
        }
        p { a href={ "/api/v1/dictionary/elements/" (urlencode(&d.identifier)) } { "JSON" } " · " a href="/dictionary" { (l.t("Về từ điển", "Back to the dictionary")) } }
    };
    page(caller, uri, &d.name, status, content)
}

/// The fields of the element form, as typed.
#[derive(Deserialize, Default)]
pub struct ElementForm {
    #[serde(default)]
    csrf_token: String,
    identifier: String,
    name: String,
    #[serde(default)]
    name_en: String,
    definition: String,
    #[serde(default)]
    data_type: String,
    #[serde(default)]
    max_length: String,
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    code_list: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    owner_agency_id: String,
    #[serde(default)]
    steward: String,
    #[serde(default)]
    update_responsibility: String,
    #[serde(default)]
    personal_data: String,
    #[serde(default)]
    synonyms: String,
}

impl ElementForm {
    fn from_element(d: &ElementDraft) -> Self {
        let t = &d.technical;
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            csrf_token: String::new(),
            identifier: d.identifier.clone(),
            name: d.name.clone(),
            name_en: o(&d.name_en),
            definition: d.definition.clone(),
            data_type: type_text(t.data_type).into(),
            max_length: t.max_length.map(|n| n.to_string()).unwrap_or_default(),
            pattern: o(&t.pattern),
            format: o(&t.format),
            unit: o(&t.unit),
            code_list: o(&d.value_domain.code_list),
            rule: o(&d.value_domain.rule),
            owner_agency_id: d.management.owner_agency_id.clone(),
            steward: d.management.steward.clone(),
            update_responsibility: d.management.update_responsibility.clone(),
            personal_data: d.personal_data.as_str().into(),
            synonyms: d.synonyms.join(", "),
        }
    }

    fn to_draft(&self, supersedes: Option<String>) -> Result<ElementDraft, Error> {
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let data_type = match opt(&self.data_type) {
            None => None,
            Some(t) => Some(
                serde_json::from_value(serde_json::Value::String(t.clone()))
                    .map_err(|_| Error::invalid("data_type", format!("{t:?} is not a data type")))?,
            ),
        };
        let max_length = match opt(&self.max_length) {
            None => None,
            Some(n) => {
                Some(n.parse().map_err(|_| Error::invalid("max_length", format!("{n:?} is not a whole number")))?)
            }
        };
        let personal_data = serde_json::from_value(serde_json::Value::String(
            opt(&self.personal_data).unwrap_or_else(|| "none".into()),
        ))
        .map_err(|_| Error::invalid("personal_data", "choose none, basic or sensitive"))?;
        ElementDraft {
            identifier: self.identifier.clone(),
            name: self.name.clone(),
            name_en: opt(&self.name_en),
            definition: self.definition.clone(),
            technical: TechnicalDefinition {
                data_type,
                max_length,
                pattern: opt(&self.pattern),
                format: opt(&self.format),
                unit: opt(&self.unit),
            },
            value_domain: ValueDomain { code_list: opt(&self.code_list), rule: opt(&self.rule) },
            management: ManagementRules {
                owner_agency_id: self.owner_agency_id.clone(),
                steward: self.steward.trim().to_string(),
                update_responsibility: self.update_responsibility.trim().to_string(),
            },
            personal_data,
            synonyms: self.synonyms.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            supersedes,
        }
        .validate()
    }
}

async fn form_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    editing: Option<&DataElement>,
    f: &ElementForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let agencies = state.kho.list_agencies().await.unwrap_or_default();
    let owner = if f.owner_agency_id.is_empty() {
        caller.subject.agency_id.clone().unwrap_or_default()
    } else {
        f.owner_agency_id.clone()
    };
    let action = match editing {
        Some(e) => format!("/admin/dictionary/{}/edit", e.draft.identifier),
        None => "/admin/dictionary/new".into(),
    };
    let text = |id: &'static str, label: &'static str, value: &str| {
        html! { label for=(id) { (label) } input id=(id) name=(id) value=(value); }
    };
    let content = html! {
        @if let Some(msg) = error { p.error role="alert" { (msg) } }
        form.card method="post" action=(action) {
            input type="hidden" name="csrf_token" value=(caller.csrf_token());
            fieldset {
                legend { (l.t("Tên và định nghĩa", "Name and definition")) }
                (text("identifier", l.t("Mã phần tử (chữ thường, số, dấu -)", "Identifier (lowercase letters, digits, -)"), &f.identifier))
                (text("name", l.t("Tên", "Name"), &f.name))
                (text("name_en", l.t("Tên tiếng Anh", "English name"), &f.name_en))
                label for="definition" { (l.t("Định nghĩa nghiệp vụ", "Business definition")) }
                textarea #definition name="definition" rows="3" { (f.definition) }
                (text("synonyms", l.t("Tên gọi khác (cách nhau bởi dấu phẩy)", "Synonyms (comma-separated)"), &f.synonyms))
            }
            fieldset {
                legend { (l.t("Định nghĩa kỹ thuật và miền giá trị", "Technical definition and value domain")) }
                label for="data_type" { (l.t("Kiểu dữ liệu", "Data type")) }
                select #data_type name="data_type" {
                    option value="" { "—" }
                    @for (v, vi, en) in TYPES { option value=(v) selected[f.data_type == v] { (l.t(vi, en)) } }
                }
                (text("max_length", l.t("Độ dài tối đa", "Maximum length"), &f.max_length))
                (text("pattern", l.t("Mẫu (biểu thức chính quy)", "Pattern (regular expression)"), &f.pattern))
                (text("format", l.t("Định dạng", "Format"), &f.format))
                (text("unit", l.t("Đơn vị tính", "Unit"), &f.unit))
                (text("code_list", l.t("Danh mục (mã danh mục)", "Code list (identifier)"), &f.code_list))
                (text("rule", l.t("Quy tắc giá trị", "Value rule"), &f.rule))
            }
            fieldset {
                legend { (l.t("Quy tắc quản lý", "Management rules")) }
                label for="owner_agency_id" { (l.t("Cơ quan chủ quản", "Owning agency")) }
                select #owner_agency_id name="owner_agency_id" {
                    @for a in &agencies { option value=(a.id) selected[a.id == owner] { (a.name) } }
                }
                (text("steward", l.t("Đơn vị quản lý", "Steward"), &f.steward))
                (text("update_responsibility", l.t("Trách nhiệm cập nhật", "Update responsibility"), &f.update_responsibility))
                label for="personal_data" { (l.t("Dữ liệu cá nhân", "Personal data")) }
                select #personal_data name="personal_data" {
                    @for p in [PersonalData::None, PersonalData::Basic, PersonalData::Sensitive] {
                        option value=(p.as_str()) selected[f.personal_data == p.as_str()] { (personal_label(l, p)) }
                    }
                }
            }
            button type="submit" { (l.t("Lưu", "Save")) }
        }
    };
    let title = match editing {
        Some(e) => e.draft.name.clone(),
        None => l.t("Đăng ký phần tử dữ liệu", "Register a data element").to_string(),
    };
    page(caller, uri, &title, status, content)
}

pub async fn new_form(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    form_page(&state, &caller, &uri, None, &ElementForm::default(), None, StatusCode::OK).await
}

pub async fn create(State(state): State<AppState>, caller: Caller, uri: Uri, Form(f): Form<ElementForm>) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let draft = f.to_draft(None)?;
        state.kho.create_data_element(&caller.subject, &caller.ctx(), draft).await
    };
    match result.await {
        Ok(e) => Redirect::to(&format!("/dictionary/{}", e.draft.identifier)).into_response(),
        Err(e) => {
            let status = super::status_of(&e);
            form_page(&state, &caller, &uri, None, &f, Some(&e.message), status).await
        }
    }
}

pub async fn edit_form(State(state): State<AppState>, caller: Caller, uri: Uri, Path(key): Path<String>) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    match state.kho.data_element(&key).await {
        Ok(e) => {
            form_page(&state, &caller, &uri, Some(&e), &ElementForm::from_element(&e.draft), None, StatusCode::OK).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Form(f): Form<ElementForm>,
) -> Response {
    let current = match state.kho.data_element(&key).await {
        Ok(e) => e,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let draft = f.to_draft(current.draft.supersedes.clone())?;
        state.kho.update_data_element(&caller.subject, &caller.ctx(), &current.id, draft).await
    };
    match result.await {
        Ok(e) => Redirect::to(&format!("/dictionary/{}", e.draft.identifier)).into_response(),
        Err(e) => {
            let status = super::status_of(&e);
            form_page(&state, &caller, &uri, Some(&current), &f, Some(&e.message), status).await
        }
    }
}

pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Form(f): Form<super::resources::StatusForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let status = RegistrationStatus::parse(&f.status)?;
        state.kho.set_data_element_status(&caller.subject, &caller.ctx(), &key, status).await
    };
    match result.await {
        Ok(e) => Redirect::to(&format!("/dictionary/{}", e.draft.identifier)).into_response(),
        Err(e) => {
            let status = super::status_of(&e);
            show_page(&state, &caller, &uri, &key, Some(&e.message), status).await
        }
    }
}

/// The resource page's section on its columns bound to the dictionary: each bound
/// column's conformance in the newest version, with examples of what does not conform,
/// the suggested bindings, and for its stewards a form to bind a column.
pub async fn bindings_section(
    state: &AppState,
    caller: &Caller,
    r: &kho_catalog::DataResource,
    can_edit: bool,
) -> Result<maud::Markup, Error> {
    let l = caller.lang;
    let bound = state.kho.bound_columns(&caller.subject, &caller.ctx(), &r.id).await?;
    let suggested =
        if can_edit { state.kho.suggest_bindings(&caller.subject, &caller.ctx(), &r.id).await? } else { Vec::new() };
    let elements = if can_edit { state.kho.data_elements(None, None, 500, 0).await?.items } else { Vec::new() };
    let percent = |rate: f64| format!("{:.1} %", rate * 100.0).replace('.', ",");
    Ok(html! {
        section.card #conformance aria-labelledby="conformance-h" {
            h2 #conformance-h { (l.t("Tuân thủ từ điển dữ liệu", "Conformance to the data dictionary")) }
            @if bound.is_empty() {
                p.muted { (l.t("Chưa có cột nào được gắn với phần tử dữ liệu.", "No column is bound to a data element yet.")) }
            } @else {
                table {
                    thead { tr {
                        th { (l.t("Bảng.cột", "Table.column")) } th { (l.t("Phần tử", "Element")) }
                        th { (l.t("Phiên bản", "Version")) } th { (l.t("Giá trị hợp lệ", "Conforming")) } th { (l.t("Tỷ lệ", "Rate")) }
                        th { (l.t("Ví dụ vi phạm (dòng: giá trị — lý do)", "Violations (row: value — why)")) }
                    } }
                    tbody { @for b in &bound { tr {
                        td { code { (b.table) "." (b.column) } }
                        td { a href={ "/dictionary/" (b.element) } { (b.element_name) } }
                        @match &b.conformance {
                            Some(c) => {
                                td { (c.version) }
                                td { (c.conforming) " / " (c.checked) }
                                td.rate { (percent(c.rate)) }
                                td { ul.violations { @for v in &c.violations { li { (v.row) ": " code { (v.value) } " — " (v.reason) } } } }
                            }
                            None => { td colspan="4" { (l.t("chưa kiểm tra", "not checked yet")) } }
                        }
                    } } }
                }
            }
            @if can_edit {
                @if !suggested.is_empty() {
                    p { (l.t("Gợi ý: ", "Suggested: "))
                        @for s in &suggested { code { (s.table) "." (s.column) } " → " (s.element_name) "; " }
                    }
                }
                form.card.inline method="post" action={ "/admin/resources/" (r.slug) "/bindings" } {
                    input type="hidden" name="csrf_token" value=(caller.csrf_token());
                    label for="bind-table" { (l.t("Bảng", "Table")) }
                    input #bind-table name="table" value=(suggested.first().map(|s| s.table.as_str()).unwrap_or("main"));
                    label for="bind-column" { (l.t("Cột", "Column")) }
                    input #bind-column name="column" value=(suggested.first().map(|s| s.column.as_str()).unwrap_or(""));
                    label for="bind-element" { (l.t("Phần tử dữ liệu", "Data element")) }
                    select #bind-element name="element" {
                        @for e in &elements {
                            option value=(e.draft.identifier) selected[suggested.first().is_some_and(|s| s.element == e.draft.identifier)] { (e.draft.name) " (" (e.draft.identifier) ")" }
                        }
                    }
                    button type="submit" { (l.t("Gắn và kiểm tra", "Bind and check")) }
                }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct BindForm {
    csrf_token: String,
    table: String,
    column: String,
    element: String,
}

/// Binds a column from the resource page, then shows the page with the report.
pub async fn bind(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Form(f): Form<BindForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.bind_column(&caller.subject, &caller.ctx(), &key, f.table.trim(), f.column.trim(), &f.element).await
    };
    match result.await {
        Ok(_) => Redirect::to(&format!("/admin/resources/{key}#conformance")).into_response(),
        Err(e) if e.code == kho_core::ErrorCode::InvalidField => {
            super::resources::show_with_error(&state, &caller, &uri, &key, &e.message).await
        }
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}
