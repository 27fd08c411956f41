//! Chia sẻ dữ liệu (LGSP) in the web UI: the service registry with each service's
//! health and the form to register a service (`/admin/exchange`), each service's page
//! where its provider's stewards change its settings and suspend it with a notice or
//! resume it (`/admin/exchange/services/{id}`), agreements with the
//! consumer's request form and the provider's decisions on them
//! (`/admin/exchange/agreements`), and the gateway's message log with a data subject's
//! access report and the log's verification (`/admin/exchange/log`, auditors and
//! administrators). The subsystems that call the gateway have their own pages
//! ([`super::subsystems`]). The services decide who may do what; the pages only hide the
//! buttons a user could not use.

use super::{alert, csrf_field, status_of, CsrfForm};
use super::{error_page, page, require_login, urlencode, Lang};
use crate::gateway::archiver::ArchiveSchedule;
use crate::http::caller::Caller;
use crate::http::AppState;
use crate::services::exchange::{log_period, Directory, ResourceName};
use crate::services::{AccessReport, ArchiveSearch, Kho, SearchOutcome};
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use kho_core::identity::{Subject, Subsystem, SubsystemId};
use kho_core::{time, Error, Result};
use kho_exchange::msglog::{MessageArchive, MessageRecord, VerifyReport};
use kho_exchange::registry::{parse_rate, NOTICE_LIMIT};
use kho_exchange::ServiceHealth;
use kho_exchange::{
    Agreement, AgreementDecision, AgreementStatus, AgreementTerms, EndpointRule, NewService, Service, ServiceChange,
    ServiceTarget,
};
use kho_store::MessageQuery;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::HashMap;

/// The registry's page.
const SERVICES: &str = "/admin/exchange";
/// Message-log records shown on one page.
const LOG_PAGE: i64 = 100;
/// Records shown in a data subject's access report.
const ACCESS_LIMIT: i64 = 500;
/// The endpoints a new request asks for unless the consumer says otherwise.
const DEFAULT_ENDPOINTS: &str = "GET /*";

// ---- shared pieces --------------------------------------------------------------------

/// A time in UTC, as the audit log shows it.
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn when_or_dash(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "—".to_string(), when)
}

/// Items written one a line or separated by commas.
fn items(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Items written one a line (endpoints hold spaces, never line breaks).
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|s| !s.is_empty())
}

fn number<T: std::str::FromStr>(field: &str, text: &str, what: &str) -> Result<Option<T>> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| Error::invalid(field, format!("{t:?} is not {what}"))),
    }
}

fn date(field: &str, text: &str) -> Result<Option<NaiveDate>> {
    match text.trim() {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Error::invalid(field, format!("{t:?} is not a date; write YYYY-MM-DD"))),
    }
}

fn subsystem_options(subsystems: &[Subsystem], chosen: &str) -> Markup {
    html! {
        @for s in subsystems {
            @let id = s.xroad_id.to_string();
            option value=(id) selected[id == chosen] { (s.name) " — " (id) }
        }
    }
}

/// The links between the sharing platform's pages.
pub(super) fn subnav(l: Lang, subject: &Subject, here: &str) -> Markup {
    let mut links = vec![
        ("/admin/exchange", l.t("Dịch vụ chia sẻ", "Shared services")),
        ("/admin/exchange/agreements", l.t("Thỏa thuận chia sẻ", "Sharing agreements")),
        ("/admin/exchange/subsystems", l.t("Hệ thống thông tin", "Information systems")),
    ];
    if Kho::may_read_message_log(subject) {
        links.push(("/admin/exchange/log", l.t("Nhật ký thông điệp", "Message log")));
    }
    html! {
        nav.subnav aria-label=(l.t("Chia sẻ dữ liệu", "Data sharing")) {
            p { @for (i, (href, text)) in links.iter().enumerate() {
                @if i > 0 { " · " }
                @if *href == here { strong aria-current="page" { (text) } } @else { a href=(href) { (text) } }
            } }
        }
    }
}

// ---- services -------------------------------------------------------------------------

/// The form that registers a service; both kinds' fields come in one form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ServiceForm {
    csrf_token: String,
    provider: String,
    code: String,
    description: String,
    kind: String,
    backend_url: String,
    openapi: String,
    backend_token: String,
    resource: String,
    table: String,
    columns: String,
    filter: String,
    key_column: String,
    timeout_ms: String,
    log_bodies: Option<String>,
}

impl ServiceForm {
    fn is_dataset(&self) -> bool {
        self.kind == "dataset"
    }

    fn to_new(&self) -> Result<NewService> {
        let provider = SubsystemId::parse(self.provider.trim()).map_err(|e| Error::invalid("provider", e.message))?;
        let target = if self.is_dataset() {
            ServiceTarget::Dataset {
                resource_id: self.resource.trim().to_string(),
                table: optional(&self.table).unwrap_or_else(|| "main".into()),
                columns: items(&self.columns),
                filter: optional(&self.filter),
                key_column: optional(&self.key_column),
            }
        } else {
            ServiceTarget::Proxied {
                backend_url: self.backend_url.trim().to_string(),
                openapi: openapi_document(&self.openapi)?,
                backend_token: optional(&self.backend_token),
            }
        };
        Ok(NewService {
            provider,
            code: self.code.trim().to_string(),
            description: self.description.trim().to_string(),
            target,
            timeout_ms: number("timeout_ms", &self.timeout_ms, "a whole number of milliseconds")?,
            log_bodies: self.log_bodies.is_some(),
        })
    }
}

/// The OpenAPI document pasted in a form, `None` when the field is empty.
fn openapi_document(text: &str) -> Result<Option<serde_json::Value>> {
    match text.trim() {
        "" => Ok(None),
        text => serde_json::from_str(text).map(Some).map_err(|e| {
            Error::invalid(
                "openapi",
                format!("line {}, column {}: not JSON ({e}); paste the OpenAPI document as JSON", e.line(), e.column()),
            )
        }),
    }
}

fn kind_name(l: Lang, target: &ServiceTarget) -> &'static str {
    match target {
        ServiceTarget::Dataset { .. } => l.t("Dữ liệu (Kho phục vụ)", "Dataset (served by Kho)"),
        ServiceTarget::Proxied { .. } => l.t("Chuyển tiếp", "Proxied"),
    }
}

/// What a service serves; a dataset service's resource by its title, linked to its page,
/// when the gateway's directory names it.
fn target_detail(target: &ServiceTarget, resource: Option<&ResourceName>) -> Markup {
    html! {
        @match target {
            ServiceTarget::Dataset { resource_id, table, columns, filter, key_column } => {
                @match resource {
                    Some(r) => { a href=(format!("/admin/resources/{}", r.slug)) { (r.title) } " · " code { (table) } }
                    None => code { (resource_id) "." (table) },
                }
                @if !columns.is_empty() { br; span.muted { (columns.join(", ")) } }
                @if let Some(f) = filter { br; span.muted { "WHERE " (f) } }
                @if let Some(k) = key_column { br; span.muted { "/rows/{" (k) "}" } }
            }
            ServiceTarget::Proxied { backend_url, openapi, .. } => {
                code { (backend_url) }
                @if openapi.is_some() { br; span.muted { "OpenAPI" } }
            }
        }
    }
}

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

fn health_cells(l: Lang, h: Option<&ServiceHealth>) -> Markup {
    html! {
        @match h {
            Some(h) => {
                @let since = format!("{} {}", l.t("tính từ", "counted since"), when(h.since));
                td.successes title=(since) { (h.successes) } td.failures title=(since) { (h.failures) }
                td { (when_or_dash(h.last_success)) } td { (when_or_dash(h.last_failure)) }
                td { (ms(h.min_ms)) " / " (ms(h.avg_ms)) " / " (ms(h.max_ms)) }
            }
            None => { td.successes { "—" } td.failures { "—" } td { "—" } td { "—" } td { "—" } }
        }
    }
}

/// A service's state in a few words: active, or suspended with its notice.
fn service_state(l: Lang, s: &Service) -> Markup {
    html! {
        @match &s.disabled {
            Some(d) => { (l.t("Tạm ngừng: ", "Suspended: ")) (d.notice) }
            None => (l.t("Đang hoạt động", "Active")),
        }
    }
}

/// The registry's table; the services of the subsystems in `managed` (the user's) link
/// to their pages' forms.
fn services_table(
    l: Lang,
    services: &[Service],
    managed: &[Subsystem],
    directory: Option<&Directory>,
    health: &[ServiceHealth],
) -> Markup {
    let health: HashMap<&str, &ServiceHealth> = health.iter().map(|h| (h.service.as_str(), h)).collect();
    let manages = |s: &Service| managed.iter().any(|m| m.id == s.provider_id);
    html! {
        table #services {
            caption.muted { (services.len()) " " (l.t("dịch vụ; tình trạng tính từ nhật ký thông điệp", "services; health counted from the message log")) }
            thead { tr {
                th scope="col" { (l.t("Dịch vụ (PROVIDER/CODE)", "Service (PROVIDER/CODE)")) }
                th scope="col" { (l.t("Loại", "Kind")) }
                th scope="col" { (l.t("Mô tả", "Description")) }
                th scope="col" { (l.t("Trạng thái", "State")) }
                th scope="col" { (l.t("Thành công", "Successes")) }
                th scope="col" { (l.t("Lỗi", "Failures")) }
                th scope="col" { (l.t("Thành công lần cuối (UTC)", "Last success (UTC)")) }
                th scope="col" { (l.t("Lỗi lần cuối (UTC)", "Last failure (UTC)")) }
                th scope="col" { (l.t("Thời gian ms (nhỏ nhất / TB / lớn nhất)", "Duration ms (min / avg / max)")) }
            } }
            tbody {
                @for s in services {
                    @let id = s.full_id();
                    tr.disabled[s.disabled.is_some()] data-service=(id) {
                        td {
                            a href=(service_path(s)) { code { (id) } }
                            @if manages(s) {
                                br;
                                a.edit href=(service_path(s)) aria-label={ (l.t("Sửa dịch vụ", "Edit the service")) " " (id) } {
                                    (l.t("Sửa", "Edit"))
                                }
                            }
                        }
                        td { (kind_name(l, &s.target)) br; (target_detail(&s.target, directory.and_then(|d| d.services.get(&id)).and_then(|e| e.resource.as_ref()))) }
                        td { (s.description) }
                        td.state { (service_state(l, s)) }
                        (health_cells(l, health.get(id.as_str()).copied()))
                    }
                }
            }
        }
    }
}

/// The checkbox that keeps a service's bodies in the message log (register and edit forms).
fn log_bodies_field(l: Lang, checked: bool) -> Markup {
    html! {
        label {
            input #log_bodies name="log_bodies" type="checkbox" style="width:auto" checked[checked];
            " " (l.t("Lưu nội dung yêu cầu và trả lời (được niêm phong) trong nhật ký", "Keep request and response bodies (sealed) in the log"))
        }
    }
}

fn service_form(l: Lang, caller: &Caller, providers: &[Subsystem], f: &ServiceForm) -> Markup {
    let table = if f.table.is_empty() { "main" } else { f.table.as_str() };
    html! {
        form.card #register method="post" action="/admin/exchange" {
            h2 { (l.t("Đăng ký dịch vụ", "Register a service")) }
            (csrf_field(caller))
            @if providers.is_empty() {
                p.muted { (l.t("Bạn chưa quản lý hệ thống thông tin (subsystem) nào để cung cấp dịch vụ.",
                               "You manage no subsystem that could provide a service.")) }
            }
            label for="provider" { (l.t("Hệ thống cung cấp", "Provider subsystem")) }
            select #provider name="provider" required { (subsystem_options(providers, &f.provider)) }
            label for="code" { (l.t("Mã dịch vụ (chữ, số và ' ( ) + , - . = ?)", "Service code (letters, digits and ' ( ) + , - . = ?)")) }
            input #code name="code" value=(f.code) required placeholder="ho-tich";
            label for="description" { (l.t("Mô tả", "Description")) }
            textarea #description name="description" rows="2" { (f.description) }
            label for="kind" { (l.t("Loại dịch vụ", "Kind")) }
            select #kind name="kind" {
                option value="proxied" selected[!f.is_dataset()] { (l.t("Chuyển tiếp đến hệ thống của đơn vị", "Proxied to the provider's backend")) }
                option value="dataset" selected[f.is_dataset()] { (l.t("Dữ liệu từ một bảng trong Kho", "Dataset: a table in Kho")) }
            }
            fieldset {
                legend { (l.t("Dịch vụ chuyển tiếp", "Proxied service")) }
                label for="backend_url" { (l.t("Địa chỉ hệ thống nguồn (http:// hoặc https://)", "Backend URL (http:// or https://)")) }
                input #backend_url name="backend_url" value=(f.backend_url) placeholder="http://10.0.0.5:8080/api";
                label for="openapi" { (l.t("Tài liệu OpenAPI (JSON, tuỳ chọn)", "OpenAPI document (JSON, optional)")) }
                textarea #openapi name="openapi" rows="4" { (f.openapi) }
                label for="backend_token" { (l.t("Khóa gửi kèm đến hệ thống nguồn (tuỳ chọn, không hiển thị lại)", "Token sent to the backend (optional, never shown again)")) }
                input #backend_token name="backend_token" type="password" autocomplete="off";
            }
            fieldset {
                legend { (l.t("Dịch vụ dữ liệu", "Dataset service")) }
                label for="resource" { (l.t("Tài nguyên dữ liệu (mã định danh)", "Data resource (slug)")) }
                input #resource name="resource" value=(f.resource);
                label for="table" { (l.t("Bảng", "Table")) }
                input #table name="table" value=(table);
                label for="columns" { (l.t("Các cột được cung cấp (cách nhau bởi dấu phẩy; để trống là tất cả)", "Columns served (comma-separated; all when empty)")) }
                input #columns name="columns" value=(f.columns);
                label for="filter" { (l.t("Điều kiện lọc dòng (SQL)", "Row filter (SQL)")) }
                input #filter name="filter" value=(f.filter) placeholder="trang_thai = 'hoat_dong'";
                label for="key_column" { (l.t("Cột khóa (tra cứu /rows/{khóa})", "Key column (looked up by /rows/{key})")) }
                input #key_column name="key_column" value=(f.key_column);
            }
            label for="timeout_ms" { (l.t("Thời gian chờ tối đa (ms, mặc định 30000)", "Timeout (ms, 30000 by default)")) }
            input #timeout_ms name="timeout_ms" value=(f.timeout_ms) inputmode="numeric";
            (log_bodies_field(l, f.log_bodies.is_some()))
            button type="submit" { (l.t("Đăng ký", "Register")) }
        }
    }
}

async fn services_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    form: &ServiceForm,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let loaded = async {
        let services = state.kho.services(&caller.subject).await?;
        let health = state.kho.service_health(&caller.subject).await?;
        Ok::<_, Error>((services, health, state.kho.manageable_subsystems(&caller.subject).await?))
    };
    let (services, health, providers) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    // The resources' names come with the directory, which has read them already.
    let directory = state.kho.directory().await.ok();
    let content = html! {
        (subnav(l, &caller.subject, SERVICES))
        (alert(message))
        (services_table(l, &services, &providers, directory.as_deref(), &health))
        (service_form(l, caller, &providers, form))
    };
    page(caller, uri, l.t("Dịch vụ chia sẻ", "Shared services"), status, content)
}

/// `/admin/exchange` — the registry, each service's health, and the form.
pub async fn services(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    services_page(&state, &caller, &uri, &ServiceForm::default(), None, StatusCode::OK).await
}

/// Registers a service; a problem shows above the form, which keeps what was typed.
pub async fn register(State(state): State<AppState>, caller: Caller, uri: Uri, Form(f): Form<ServiceForm>) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.register_service(&caller.subject, &caller.ctx(), f.to_new()?).await
    };
    match result.await {
        Ok(_) => Redirect::to(SERVICES).into_response(),
        Err(e) => services_page(&state, &caller, &uri, &f, Some(&e.message), status_of(&e)).await,
    }
}

// ---- one service ----------------------------------------------------------------------

fn service_path(s: &Service) -> String {
    format!("{SERVICES}/services/{}", s.id)
}

/// The form that changes a service's settings, holding them as its fields do; only the
/// fields of the service's kind are read.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditForm {
    csrf_token: String,
    description: String,
    backend_url: String,
    openapi: String,
    /// A new token for the backend; empty keeps the one there is.
    backend_token: String,
    remove_backend_token: Option<String>,
    columns: String,
    filter: String,
    key_column: String,
    timeout_ms: String,
    log_bodies: Option<String>,
    /// When the settings the form was filled with were last changed (empty: never), so
    /// that a change made meanwhile by someone else is not undone unseen.
    seen: String,
}

/// When a service's settings were last changed, as the edit form carries it.
fn last_change(s: &Service) -> String {
    s.updated_at.map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// Text from a form field, with the browser's line breaks (`\r\n`) as stored ones.
fn typed(text: &str) -> String {
    text.replace("\r\n", "\n").trim().to_string()
}

impl EditForm {
    /// The service's current settings (never its backend token).
    fn of(s: &Service) -> Self {
        let mut f = Self {
            description: s.description.clone(),
            timeout_ms: s.timeout_ms.to_string(),
            log_bodies: s.log_bodies.then(|| "on".into()),
            ..Default::default()
        };
        match &s.target {
            ServiceTarget::Proxied { backend_url, openapi, .. } => {
                f.backend_url = backend_url.clone();
                f.openapi = openapi
                    .as_ref()
                    .map(|d| serde_json::to_string_pretty(d).unwrap_or_else(|_| d.to_string()))
                    .unwrap_or_default();
            }
            ServiceTarget::Dataset { columns, filter, key_column, .. } => {
                f.columns = columns.join(", ");
                f.filter = filter.clone().unwrap_or_default();
                f.key_column = key_column.clone().unwrap_or_default();
            }
        }
        f
    }

    /// The change the form makes to `s`: only the settings that differ from its current
    /// ones, so that an unchanged form is an empty change (which the service refuses).
    fn change(&self, s: &Service) -> Result<ServiceChange> {
        if self.seen != last_change(s) {
            return Err(Error::conflict(format!(
                "{} was changed by someone else after this form was filled; check its settings above and \
                 save again",
                s.full_id()
            )));
        }
        let differs = |new: String, current: &str| (new != current).then_some(new);
        let timeout = number("timeout_ms", &self.timeout_ms, "a whole number of milliseconds")?
            .unwrap_or(kho_exchange::registry::DEFAULT_TIMEOUT_MS);
        let mut change = ServiceChange {
            description: differs(typed(&self.description), &s.description),
            timeout_ms: (timeout != s.timeout_ms).then_some(timeout),
            log_bodies: (self.log_bodies.is_some() != s.log_bodies).then_some(self.log_bodies.is_some()),
            ..Default::default()
        };
        match &s.target {
            ServiceTarget::Proxied { backend_url, openapi, backend_token } => {
                change.backend_url = differs(typed(&self.backend_url), backend_url);
                let document = openapi_document(&self.openapi)?;
                change.openapi = (document != *openapi).then_some(document);
                let token = self.backend_token.trim();
                change.backend_token = match (self.remove_backend_token.is_some(), token) {
                    (true, "") => backend_token.is_some().then(String::new),
                    (true, _) => {
                        return Err(Error::invalid(
                            "backend_token",
                            "type a new token or remove the one there is, not both",
                        ))
                    }
                    (false, "") => None,
                    (false, t) => (backend_token.as_deref() != Some(t)).then(|| t.to_string()),
                };
            }
            ServiceTarget::Dataset { columns, filter, key_column, .. } => {
                let typed_columns = items(&self.columns);
                change.columns = (typed_columns != *columns).then_some(typed_columns);
                change.filter = differs(typed(&self.filter), filter.as_deref().unwrap_or(""));
                change.key_column = differs(typed(&self.key_column), key_column.as_deref().unwrap_or(""));
            }
        }
        Ok(change)
    }
}

/// What the service's page shows besides the service: what was typed in a form that
/// failed, and the service's error above that form.
#[derive(Default)]
struct ServiceOutcome<'a> {
    edit: Option<&'a EditForm>,
    edit_error: Option<&'a str>,
    notice: &'a str,
    state_error: Option<&'a str>,
}

fn settings_table(l: Lang, s: &Service, resource: Option<&ResourceName>) -> Markup {
    let has_token = matches!(&s.target, ServiceTarget::Proxied { backend_token: Some(_), .. });
    html! {
        table #settings {
            tbody {
                tr { th scope="row" { (l.t("Loại", "Kind")) } td.kind { (kind_name(l, &s.target)) } }
                tr { th scope="row" { (l.t("Mô tả", "Description")) } td.description { (s.description) } }
                tr { th scope="row" { (l.t("Phục vụ", "Serves")) } td.target { (target_detail(&s.target, resource)) } }
                @if let ServiceTarget::Proxied { .. } = &s.target {
                    tr { th scope="row" { (l.t("Khóa gửi đến hệ thống nguồn", "Token sent to the backend")) }
                         td.backend-token { @if has_token { (l.t("Đã đặt (không hiển thị)", "Set (never shown)")) } @else { "—" } } }
                }
                tr { th scope="row" { (l.t("Thời gian chờ tối đa (ms)", "Timeout (ms)")) } td.timeout { (s.timeout_ms) } }
                tr { th scope="row" { (l.t("Lưu nội dung trong nhật ký", "Bodies kept in the log")) }
                     td.log-bodies { @if s.log_bodies { (l.t("Có", "Yes")) } @else { (l.t("Không", "No")) } } }
                tr { th scope="row" { (l.t("Đăng ký lúc (UTC)", "Registered (UTC)")) }
                     td.created { time datetime=(s.created_at.to_rfc3339()) { (when(s.created_at)) } } }
                tr { th scope="row" { (l.t("Sửa lần cuối (UTC)", "Last changed (UTC)")) }
                     td.updated { @match s.updated_at {
                         Some(at) => time datetime=(at.to_rfc3339()) { (when(at)) },
                         None => "—",
                     } } }
                tr { th scope="row" { (l.t("Trạng thái", "State")) } td.state { (service_state(l, s)) } }
            }
        }
    }
}

fn edit_form(l: Lang, caller: &Caller, s: &Service, f: &EditForm, error: Option<&str>) -> Markup {
    let has_token = matches!(&s.target, ServiceTarget::Proxied { backend_token: Some(_), .. });
    html! {
        section.card aria-labelledby="edit-h" {
            h2 #edit-h { (l.t("Sửa thiết lập", "Change the settings")) }
            (alert(error))
            form #edit-service method="post" action=(service_path(s)) {
                (csrf_field(caller))
                input type="hidden" name="seen" value=(last_change(s));
                label for="description" { (l.t("Mô tả", "Description")) }
                textarea #description name="description" rows="2" { (f.description) }
                @match &s.target {
                    ServiceTarget::Proxied { .. } => {
                        label for="backend_url" { (l.t("Địa chỉ hệ thống nguồn (http:// hoặc https://)", "Backend URL (http:// or https://)")) }
                        input #backend_url name="backend_url" value=(f.backend_url) required;
                        label for="openapi" { (l.t("Tài liệu OpenAPI (JSON; để trống là bỏ tài liệu)", "OpenAPI document (JSON; empty removes it)")) }
                        textarea #openapi name="openapi" rows="6" { (f.openapi) }
                        label for="backend_token" { (l.t("Khóa mới gửi đến hệ thống nguồn (để trống là giữ khóa hiện có)", "New token for the backend (empty keeps the current one)")) }
                        input #backend_token name="backend_token" type="password" autocomplete="off";
                        @if has_token {
                            label {
                                input #remove_backend_token name="remove_backend_token" type="checkbox" style="width:auto" checked[f.remove_backend_token.is_some()];
                                " " (l.t("Bỏ khóa gửi đến hệ thống nguồn", "Remove the backend's token"))
                            }
                        }
                    }
                    ServiceTarget::Dataset { .. } => {
                        label for="columns" { (l.t("Các cột được cung cấp (cách nhau bởi dấu phẩy; để trống là tất cả)", "Columns served (comma-separated; all when empty)")) }
                        input #columns name="columns" value=(f.columns);
                        label for="filter" { (l.t("Điều kiện lọc dòng (SQL; để trống là không lọc)", "Row filter (SQL; none when empty)")) }
                        input #filter name="filter" value=(f.filter);
                        label for="key_column" { (l.t("Cột khóa (tra cứu /rows/{khóa}; để trống là không có)", "Key column (looked up by /rows/{key}; none when empty)")) }
                        input #key_column name="key_column" value=(f.key_column);
                    }
                }
                label for="timeout_ms" { (l.t("Thời gian chờ tối đa (ms, 100–600000; để trống là 30000)", "Timeout (ms, 100–600000; 30000 when empty)")) }
                input #timeout_ms name="timeout_ms" value=(f.timeout_ms) inputmode="numeric";
                (log_bodies_field(l, f.log_bodies.is_some()))
                button type="submit" { (l.t("Lưu thay đổi", "Save the changes")) }
            }
        }
    }
}

/// The suspension, and the form that suspends or resumes the service (`manages`).
fn state_section(l: Lang, caller: &Caller, s: &Service, manages: bool, outcome: &ServiceOutcome) -> Markup {
    html! {
        @if let Some(d) = &s.disabled {
            section.card #suspended aria-labelledby="suspended-h" {
                h2 #suspended-h { (l.t("Dịch vụ đang tạm ngừng", "The service is suspended")) }
                p { (l.t("Từ ", "Since ")) time datetime=(d.at.to_rfc3339()) { (when(d.at)) } " (UTC). "
                    (l.t("Cổng trả lời mọi lời gọi bằng lỗi Server.ServerProxy.ServiceDisabled với thông báo:",
                         "The gateway answers every call with Server.ServerProxy.ServiceDisabled and the notice:")) }
                blockquote.notice { (d.notice) }
                @if manages {
                    (alert(outcome.state_error))
                    form #enable-service method="post" action={ (service_path(s)) "/enable" } {
                        (csrf_field(caller))
                        button type="submit" { (l.t("Hoạt động trở lại", "Resume the service")) }
                    }
                }
            }
        } @else if manages {
            section.card aria-labelledby="disable-h" {
                h2 #disable-h { (l.t("Tạm ngừng dịch vụ", "Suspend the service")) }
                p.muted { (l.t(
                    "Khi tạm ngừng, cổng không chuyển lời gọi nào đến dịch vụ và trả lời bên gọi bằng thông báo dưới đây (lỗi 503 Server.ServerProxy.ServiceDisabled).",
                    "While it is suspended, the gateway forwards no call to the service and answers its callers with the notice below (a 503 Server.ServerProxy.ServiceDisabled fault).")) }
                (alert(outcome.state_error))
                form #disable-service method="post" action={ (service_path(s)) "/disable" } {
                    (csrf_field(caller))
                    label for="notice" { (l.t("Thông báo cho bên sử dụng (lý do và thời hạn)", "Notice to the consumers (why, and until when)")) }
                    textarea #notice name="notice" rows="2" required maxlength=(NOTICE_LIMIT) placeholder="Bảo trì hệ thống đến 18:00 ngày 05/12" { (outcome.notice) }
                    button type="submit" { (l.t("Tạm ngừng dịch vụ", "Suspend the service")) }
                }
            }
        }
    }
}

/// The service's page; after a form was posted it is shown at the page's own path, so
/// that the language switch and a reload come back to it.
async fn service_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    outcome: ServiceOutcome<'_>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let path = format!("{SERVICES}/services/{}", urlencode(id));
    let uri: Uri = path.parse().unwrap_or_else(|_| Uri::from_static(SERVICES));
    let (kho, subject) = (&state.kho, &caller.subject);
    let loaded = async {
        let s = kho.service(subject, id).await?;
        let manages = kho.manageable_subsystems(subject).await?.iter().any(|m| m.id == s.provider_id);
        Ok::<_, Error>((s, manages))
    };
    let (s, manages) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let directory = kho.directory().await.ok();
    let resource = directory.as_deref().and_then(|d| d.services.get(&s.full_id())).and_then(|e| e.resource.as_ref());
    let current = EditForm::of(&s);
    let content = html! {
        (subnav(l, subject, uri.path()))
        // A refusal of a form the page does not show (it was posted from elsewhere).
        @if !manages { (alert(outcome.edit_error.or(outcome.state_error))) }
        (settings_table(l, &s, resource))
        (state_section(l, caller, &s, manages, &outcome))
        @if manages { (edit_form(l, caller, &s, outcome.edit.unwrap_or(&current), outcome.edit_error)) }
    };
    page(caller, &uri, &s.full_id(), status, content)
}

/// `/admin/exchange/services/{id}` — one service's settings and state, with the forms
/// that change them for the stewards of its provider.
pub async fn service(State(state): State<AppState>, caller: Caller, uri: Uri, Path(id): Path<String>) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    service_page(&state, &caller, &id, ServiceOutcome::default(), StatusCode::OK).await
}

/// Changes the settings the form changed; a problem shows above the form, which keeps
/// what was typed.
pub async fn update_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let current = state.kho.find_service(&id).await?;
        state.kho.update_service(&caller.subject, &caller.ctx(), &current.id, &f.change(&current)?).await
    };
    match result.await {
        Ok(s) => Redirect::to(&service_path(&s)).into_response(),
        Err(e) => {
            let outcome = ServiceOutcome { edit: Some(&f), edit_error: Some(&e.message), ..Default::default() };
            service_page(&state, &caller, &id, outcome, status_of(&e)).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SuspendForm {
    csrf_token: String,
    notice: String,
}

/// Suspends the service with the notice its consumers are answered with.
pub async fn disable_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<SuspendForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.disable_service(&caller.subject, &caller.ctx(), &id, &typed(&f.notice)).await
    };
    match result.await {
        Ok(s) => Redirect::to(&service_path(&s)).into_response(),
        Err(e) => {
            let outcome = ServiceOutcome { notice: &f.notice, state_error: Some(&e.message), ..Default::default() };
            service_page(&state, &caller, &id, outcome, status_of(&e)).await
        }
    }
}

/// Resumes a suspended service.
pub async fn enable_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.enable_service(&caller.subject, &caller.ctx(), &id).await
    };
    match result.await {
        Ok(s) => Redirect::to(&service_path(&s)).into_response(),
        Err(e) => {
            let outcome = ServiceOutcome { state_error: Some(&e.message), ..Default::default() };
            service_page(&state, &caller, &id, outcome, status_of(&e)).await
        }
    }
}

// ---- agreements -----------------------------------------------------------------------

/// An agreement's terms as its form fields hold them.
#[derive(Deserialize, Default, Clone)]
pub struct TermsForm {
    #[serde(default)]
    endpoints: String,
    #[serde(default)]
    purposes: String,
    #[serde(default)]
    fields: String,
    #[serde(default)]
    masked: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    burst: String,
    #[serde(default)]
    daily_quota: String,
}

impl TermsForm {
    /// What a new request starts from.
    fn new_request() -> Self {
        Self { endpoints: DEFAULT_ENDPOINTS.into(), rate: "10/s".into(), ..Default::default() }
    }

    /// An agreement's current terms, to narrow them.
    fn of(a: &Agreement) -> Self {
        Self {
            endpoints: a.endpoints.iter().map(EndpointRule::to_string).collect::<Vec<_>>().join("\n"),
            purposes: a.purposes.join(", "),
            fields: a.fields.join(", "),
            masked: a.masked.join(", "),
            legal_basis: a.legal_basis.clone(),
            valid_from: a.valid_from.to_string(),
            valid_until: a.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            rate: format!("{}/s", a.rate_per_second),
            burst: a.burst.to_string(),
            daily_quota: a.daily_quota.map(|q| q.to_string()).unwrap_or_default(),
        }
    }

    fn to_terms(&self) -> Result<AgreementTerms> {
        let rate = match self.rate.trim() {
            "" => 10,
            r => parse_rate(r).map_err(|m| Error::invalid("rate_per_second", m))?,
        };
        Ok(AgreementTerms {
            endpoints: lines(&self.endpoints),
            fields: items(&self.fields),
            masked: items(&self.masked),
            purposes: items(&self.purposes),
            legal_basis: self.legal_basis.trim().to_string(),
            valid_from: date("valid_from", &self.valid_from)?,
            valid_until: date("valid_until", &self.valid_until)?,
            rate_per_second: rate,
            burst: number("burst", &self.burst, "a whole number of requests")?,
            daily_quota: number("daily_quota", &self.daily_quota, "a whole number of requests a day")?,
        })
    }
}

/// Whether `form` says what `a` already holds (the steward changed nothing).
fn same_terms(a: &Agreement, form: &AgreementTerms) -> bool {
    let endpoints: Vec<String> =
        form.endpoints.iter().map(|e| EndpointRule::parse(e).map(|r| r.to_string()).unwrap_or_default()).collect();
    let current: Vec<String> = a.endpoints.iter().map(EndpointRule::to_string).collect();
    endpoints == current
        && form.fields == a.fields
        && form.masked == a.masked
        && form.purposes == a.purposes
        && form.legal_basis == a.legal_basis
        && form.valid_from.unwrap_or(a.valid_from) == a.valid_from
        && form.valid_until == a.valid_until
        && form.rate_per_second == a.rate_per_second
        && form.burst.unwrap_or(form.rate_per_second.saturating_mul(2)) == a.burst
        && form.daily_quota == a.daily_quota
}

/// The terms' fields; `p` prefixes the ids so that several forms fit on one page.
fn terms_fields(l: Lang, p: &str, t: &TermsForm) -> Markup {
    html! {
        label for={ (p) "endpoints" } { (l.t("Các điểm truy cập, mỗi dòng một (ví dụ GET /rows/*)", "Endpoints, one a line (e.g. GET /rows/*)")) }
        textarea id={ (p) "endpoints" } name="endpoints" rows="2" required { (t.endpoints) }
        label for={ (p) "purposes" } { (l.t("Mã mục đích sử dụng (cách nhau bởi dấu phẩy)", "Purpose codes (comma-separated)")) }
        input id={ (p) "purposes" } name="purposes" value=(t.purposes) required placeholder="thanh-tra";
        label for={ (p) "fields" } { (l.t("Các trường được xem (để trống là tất cả)", "Fields seen (all when empty)")) }
        input id={ (p) "fields" } name="fields" value=(t.fields);
        label for={ (p) "masked" } { (l.t("Các trường bị che (chỉ hiện 4 ký tự cuối)", "Masked fields (only the last 4 characters shown)")) }
        input id={ (p) "masked" } name="masked" value=(t.masked);
        label for={ (p) "legal_basis" } { (l.t("Căn cứ pháp lý", "Legal basis")) }
        input id={ (p) "legal_basis" } name="legal_basis" value=(t.legal_basis) placeholder="Nghị định 278/2025/NĐ-CP";
        label for={ (p) "valid_from" } { (l.t("Hiệu lực từ ngày (mặc định hôm nay)", "Valid from (today by default)")) }
        input id={ (p) "valid_from" } name="valid_from" type="date" value=(t.valid_from);
        label for={ (p) "valid_until" } { (l.t("Hiệu lực đến hết ngày (tuỳ chọn)", "Valid until (optional)")) }
        input id={ (p) "valid_until" } name="valid_until" type="date" value=(t.valid_until);
        label for={ (p) "rate" } { (l.t("Tốc độ tối đa (ví dụ 10/s hoặc 600/min)", "Rate (e.g. 10/s or 600/min)")) }
        input id={ (p) "rate" } name="rate" value=(t.rate);
        label for={ (p) "burst" } { (l.t("Vượt mức cho phép (mặc định gấp đôi tốc độ)", "Burst (twice the rate by default)")) }
        input id={ (p) "burst" } name="burst" value=(t.burst) inputmode="numeric";
        label for={ (p) "daily_quota" } { (l.t("Hạn mức yêu cầu mỗi ngày (tuỳ chọn)", "Daily quota (optional)")) }
        input id={ (p) "daily_quota" } name="daily_quota" value=(t.daily_quota) inputmode="numeric";
    }
}

/// A consumer's request for access.
#[derive(Deserialize)]
pub struct AgreementForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    consumer: String,
    #[serde(default)]
    service: String,
    #[serde(flatten)]
    terms: TermsForm,
}

impl Default for AgreementForm {
    fn default() -> Self {
        Self {
            csrf_token: String::new(),
            consumer: String::new(),
            service: String::new(),
            terms: TermsForm::new_request(),
        }
    }
}

/// Approve, refuse or revoke; an approval may carry narrowed terms.
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    /// Set by the approval form, whose terms fields are filled in.
    #[serde(default)]
    narrow: Option<String>,
    #[serde(flatten)]
    terms: TermsForm,
}

#[derive(Deserialize, Default)]
pub struct AgreementsQuery {
    #[serde(default)]
    status: String,
}

const STATUSES: [AgreementStatus; 4] =
    [AgreementStatus::Requested, AgreementStatus::Approved, AgreementStatus::Refused, AgreementStatus::Revoked];

fn status_name(l: Lang, s: AgreementStatus) -> &'static str {
    match s {
        AgreementStatus::Requested => l.t("Chờ duyệt", "Requested"),
        AgreementStatus::Approved => l.t("Đã phê duyệt", "Approved"),
        AgreementStatus::Refused => l.t("Bị từ chối", "Refused"),
        AgreementStatus::Revoked => l.t("Đã thu hồi", "Revoked"),
    }
}

fn list_or_all(l: Lang, v: &[String]) -> String {
    if v.is_empty() {
        l.t("tất cả", "all").to_string()
    } else {
        v.join(", ")
    }
}

fn agreement_terms(l: Lang, a: &Agreement, today: NaiveDate) -> Markup {
    html! {
        table.terms {
            tbody {
                tr { th scope="row" { (l.t("Điểm truy cập", "Endpoints")) } td.endpoints { @for (i, e) in a.endpoints.iter().enumerate() { @if i > 0 { ", " } code { (e) } } } }
                tr { th scope="row" { (l.t("Mục đích", "Purposes")) } td.purposes { (a.purposes.join(", ")) } }
                tr { th scope="row" { (l.t("Căn cứ pháp lý", "Legal basis")) } td { (a.legal_basis) } }
                tr { th scope="row" { (l.t("Trường được xem", "Fields")) } td { (list_or_all(l, &a.fields)) } }
                tr { th scope="row" { (l.t("Trường bị che", "Masked")) } td { @if a.masked.is_empty() { "—" } @else { (a.masked.join(", ")) } } }
                tr { th scope="row" { (l.t("Hiệu lực", "Valid")) } td.validity {
                    (a.valid_from) " – " (a.valid_until.map(|d| d.to_string()).unwrap_or_else(|| "…".into()))
                    @if a.expired(today) { " " strong.expired { "(" (l.t("hết hạn", "expired")) ")" } }
                } }
                tr { th scope="row" { (l.t("Tốc độ", "Rate")) } td { (a.rate_per_second) "/s, " (l.t("vượt mức", "burst")) " " (a.burst) } }
                tr { th scope="row" { (l.t("Hạn mức mỗi ngày", "Daily quota")) } td { (a.daily_quota.map(|q| q.to_string()).unwrap_or_else(|| "—".into())) } }
                tr { th scope="row" { (l.t("Người đề nghị", "Requested by")) } td { (a.requested_by) " · " (when(a.created_at)) } }
                @if let Some(by) = &a.decided_by {
                    tr { th scope="row" { (l.t("Người quyết định", "Decided by")) } td.decided { (by) " · " (when_or_dash(a.decided_at)) } }
                }
                @if !a.note.is_empty() { tr { th scope="row" { (l.t("Ghi chú", "Note")) } td.note { (a.note) } } }
            }
        }
    }
}

fn decision_forms(l: Lang, caller: &Caller, a: &Agreement) -> Markup {
    let action = format!("/admin/exchange/agreements/{}/decision", a.id);
    let p = format!("a{}-", a.id);
    html! {
        @match a.status {
            AgreementStatus::Requested => {
                form.approve method="post" action=(action) {
                    (csrf_field(caller))
                    input type="hidden" name="narrow" value="1";
                    details {
                        summary { (l.t("Thu hẹp điều khoản trước khi phê duyệt (tuỳ chọn)", "Narrow the terms before approving (optional)")) }
                        (terms_fields(l, &p, &TermsForm::of(a)))
                    }
                    label for={ (p) "approve-note" } { (l.t("Ghi chú", "Note")) }
                    input id={ (p) "approve-note" } name="note";
                    button type="submit" name="decision" value="approved" { (l.t("Phê duyệt", "Approve")) }
                }
                form.refuse method="post" action=(action) {
                    (csrf_field(caller))
                    label for={ (p) "refuse-note" } { (l.t("Lý do từ chối", "Why it is refused")) }
                    input id={ (p) "refuse-note" } name="note";
                    button type="submit" name="decision" value="refused" { (l.t("Từ chối", "Refuse")) }
                }
            }
            AgreementStatus::Approved => {
                form.revoke method="post" action=(action) {
                    (csrf_field(caller))
                    label for={ (p) "revoke-note" } { (l.t("Lý do thu hồi", "Why it is revoked")) }
                    input id={ (p) "revoke-note" } name="note";
                    button type="submit" name="decision" value="revoked" { (l.t("Thu hồi", "Revoke")) }
                }
            }
            _ => {}
        }
    }
}

fn agreement_card(l: Lang, caller: &Caller, a: &Agreement, today: NaiveDate, decides: bool) -> Markup {
    html! {
        article.card.agreement id={ "agreement-" (a.id) } data-status=(a.status.as_str()) {
            h3 {
                code.consumer { (a.consumer) } " → " code.service { (a.provider) "/" (a.service) }
            }
            p { (l.t("Trạng thái", "Status")) ": " strong.status { (status_name(l, a.status)) }
                " · " span.muted { (l.t("mã", "id")) " " code { (a.id) } } }
            (agreement_terms(l, a, today))
            @if decides { (decision_forms(l, caller, a)) }
        }
    }
}

fn request_form(l: Lang, caller: &Caller, consumers: &[Subsystem], services: &[Service], f: &AgreementForm) -> Markup {
    html! {
        form.card #request method="post" action="/admin/exchange/agreements" {
            h2 { (l.t("Đề nghị truy cập một dịch vụ", "Request access to a service")) }
            (csrf_field(caller))
            @if consumers.is_empty() {
                p.muted { (l.t("Bạn chưa quản lý hệ thống thông tin (subsystem) nào để sử dụng dịch vụ.",
                               "You manage no subsystem that could use a service.")) }
            }
            label for="consumer" { (l.t("Hệ thống sử dụng", "Consumer subsystem")) }
            select #consumer name="consumer" required { (subsystem_options(consumers, &f.consumer)) }
            @if services.is_empty() {
                p.muted { (l.t("Chưa có dịch vụ nào được đăng ký.", "No service is registered yet.")) }
            }
            label for="service" { (l.t("Dịch vụ", "Service")) }
            select #service name="service" required {
                @for s in services {
                    @let id = s.full_id();
                    option value=(id) selected[id == f.service] { (id) @if !s.description.is_empty() { " — " (s.description) } }
                }
            }
            (terms_fields(l, "", &f.terms))
            button type="submit" { (l.t("Gửi đề nghị", "Send the request")) }
        }
    }
}

async fn agreements_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    filter: Option<AgreementStatus>,
    form: &AgreementForm,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let loaded = async {
        let agreements = state.kho.agreements(&caller.subject).await?;
        let services = state.kho.services(&caller.subject).await?;
        Ok::<_, Error>((agreements, services, state.kho.manageable_subsystems(&caller.subject).await?))
    };
    let (agreements, services, managed) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let manages = |id: &SubsystemId| managed.iter().any(|s| &s.xroad_id == id);
    let today = time::now().date_naive();
    let shown: Vec<AgreementStatus> = STATUSES.into_iter().filter(|s| filter.is_none_or(|f| f == *s)).collect();
    let count = |s: AgreementStatus| agreements.iter().filter(|a| a.status == s).count();
    let content = html! {
        (subnav(l, &caller.subject, "/admin/exchange/agreements"))
        (alert(message))
        nav aria-label=(l.t("Lọc theo trạng thái", "Filter by status")) { p #status-filter {
            @if filter.is_none() { strong { (l.t("Tất cả", "All")) } } @else { a href="/admin/exchange/agreements" { (l.t("Tất cả", "All")) } }
            @for s in STATUSES {
                " · "
                @if filter == Some(s) { strong { (status_name(l, s)) " (" (count(s)) ")" } }
                @else { a href={ "/admin/exchange/agreements?status=" (s.as_str()) } { (status_name(l, s)) " (" (count(s)) ")" } }
            }
        } }
        @if agreements.is_empty() { p.muted #no-agreements { (l.t("Chưa có thỏa thuận nào.", "No agreements yet.")) } }
        @for s in shown {
            @let group: Vec<&Agreement> = agreements.iter().filter(|a| a.status == s).collect();
            @if !group.is_empty() {
                section id={ "agreements-" (s.as_str()) } {
                    h2 { (status_name(l, s)) " (" (group.len()) ")" }
                    @for a in group { (agreement_card(l, caller, a, today, manages(&a.provider))) }
                }
            }
        }
        (request_form(l, caller, &managed, &services, form))
    };
    page(caller, uri, l.t("Thỏa thuận chia sẻ", "Sharing agreements"), status, content)
}

/// `/admin/exchange/agreements` — the agreements the user may see, requested first,
/// and the request form.
pub async fn agreements(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(q): Query<AgreementsQuery>,
) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    let filter = AgreementStatus::parse(q.status.trim());
    agreements_page(&state, &caller, &uri, filter, &AgreementForm::default(), None, StatusCode::OK).await
}

/// A consumer's steward asks for access; the provider's steward decides.
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<AgreementForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let consumer = SubsystemId::parse(f.consumer.trim()).map_err(|e| Error::invalid("consumer", e.message))?;
        let terms = f.terms.to_terms()?;
        state.kho.request_agreement(&caller.subject, &caller.ctx(), &consumer, f.service.trim(), &terms, false).await
    };
    match result.await {
        Ok(a) => Redirect::to(&format!("/admin/exchange/agreements#agreement-{}", a.id)).into_response(),
        Err(e) => agreements_page(&state, &caller, &uri, None, &f, Some(&e.message), status_of(&e)).await,
    }
}

impl DecisionForm {
    /// The decision; an approval carries terms only when the steward changed them.
    async fn decision(&self, state: &AppState, subject: &Subject, id: &str) -> Result<AgreementDecision> {
        let status = match self.decision.as_str() {
            "approved" => AgreementStatus::Approved,
            "refused" => AgreementStatus::Refused,
            "revoked" => AgreementStatus::Revoked,
            other => return Err(Error::invalid("decision", format!("{other:?} is not approved, refused or revoked"))),
        };
        let terms = match (status, &self.narrow) {
            (AgreementStatus::Approved, Some(_)) => {
                let terms = self.terms.to_terms()?;
                let current = state.kho.agreements(subject).await?.into_iter().find(|a| a.id == id);
                match current {
                    Some(a) if same_terms(&a, &terms) => None,
                    _ => Some(terms),
                }
            }
            _ => None,
        };
        Ok(AgreementDecision { status, terms, note: self.note.trim().to_string() })
    }
}

/// Approves (possibly narrowing), refuses or revokes an agreement.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let decision = f.decision(&state, &caller.subject, &id).await?;
        state.kho.decide_agreement(&caller.subject, &caller.ctx(), &id, &decision).await
    };
    match result.await {
        Ok(a) => Redirect::to(&format!("/admin/exchange/agreements#agreement-{}", a.id)).into_response(),
        Err(e) => {
            // Shown on the list's address, where the language switch can return.
            let list = Uri::from_static("/admin/exchange/agreements");
            let status = status_of(&e);
            agreements_page(&state, &caller, &list, None, &AgreementForm::default(), Some(&e.message), status).await
        }
    }
}

// ---- message log ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    client: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    message_id: String,
    /// The period's first and last day (UTC), as the date fields send them.
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    before: Option<i64>,
    verify: Option<String>,
}

impl LogQuery {
    fn to_query(&self) -> Result<MessageQuery> {
        let (from, until) = log_period(&self.from, &self.until)?;
        Ok(MessageQuery {
            client: optional(&self.client),
            service: optional(&self.service),
            message_id: optional(&self.message_id),
            from,
            until,
            before_seq: self.before,
            limit: LOG_PAGE,
            ..Default::default()
        })
    }

    /// The address of the next (older) page with the same filters.
    fn older(&self, before: i64) -> String {
        format!(
            "/admin/exchange/log?client={}&service={}&message_id={}&from={}&until={}&before={before}",
            urlencode(self.client.trim()),
            urlencode(self.service.trim()),
            urlencode(self.message_id.trim()),
            urlencode(self.from.trim()),
            urlencode(self.until.trim())
        )
    }
}

#[derive(Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    identifier: String,
}

/// What the log page shows besides the records.
#[derive(Default)]
struct LogExtras {
    /// Who was served the looked-up person's records.
    access: Option<AccessReport>,
    report: Option<VerifyReport>,
    message: Option<String>,
}

fn duration_ms(r: &MessageRecord) -> i64 {
    (r.response_out_ts - r.request_in_ts).num_milliseconds()
}

fn messages_table(l: Lang, records: &[MessageRecord]) -> Markup {
    html! {
        table #messages {
            thead { tr {
                th scope="col" { (l.t("Thời điểm nhận (UTC)", "Time in (UTC)")) }
                th scope="col" { (l.t("Bên gọi", "Client")) }
                th scope="col" { (l.t("Dịch vụ", "Service")) }
                th scope="col" { (l.t("Yêu cầu", "Request")) }
                th scope="col" { (l.t("Mục đích", "Purpose")) }
                th scope="col" { (l.t("Thỏa thuận", "Agreement")) }
                th scope="col" { (l.t("Mã trạng thái", "Status")) }
                th scope="col" { (l.t("Thành công", "Succeeded")) }
                th scope="col" { (l.t("Lỗi", "Fault")) }
                th scope="col" { (l.t("Thời gian (ms)", "Duration (ms)")) }
                th scope="col" { (l.t("Kích thước (byte, gửi / nhận)", "Size (bytes, in / out)")) }
            } }
            tbody {
                @for r in records {
                    tr.message data-message-id=(r.message_id) {
                        td { (when(r.request_in_ts)) }
                        td.client { code { (r.client) } }
                        td.service { code { (r.service) } }
                        td { code { (r.method) " " (r.path) } }
                        td { (r.purpose) }
                        td { @if let Some(a) = &r.agreement_id { code { (a) } } @else { "—" } }
                        td.status { (r.status_code) }
                        td.succeeded { @if r.succeeded { (l.t("Có", "Yes")) } @else { (l.t("Không", "No")) } }
                        td { @if let Some(c) = &r.fault_code { code { (c) } br; span.muted { (r.fault_string.as_deref().unwrap_or("")) } } }
                        td { (duration_ms(r)) }
                        td { (r.request_size) " / " (r.response_size) }
                    }
                }
            }
        }
    }
}

/// The archives made of the log (lưu trữ): what left the store, into which file.
fn archives_section(l: Lang, archives: &[MessageArchive], schedule: Option<ArchiveSchedule>) -> Markup {
    html! {
        @if !archives.is_empty() || schedule.is_some() {
            section.card #archives aria-labelledby="archives-h" {
                h2 #archives-h { (l.t("Lưu trữ nhật ký", "Log archives")) }
                p.muted { (l.t(
                    "Các bản ghi cũ được chuyển khỏi kho vào tệp lưu trữ (lệnh kho audit archive --messages, hoặc tự động); mỗi tệp kết thúc ở một điểm ký và được kiểm tra ngoại tuyến bằng kho audit verify --bundle.",
                    "Older records are moved out of the store into archive files (kho audit archive --messages, or by the node itself); each ends at a signed checkpoint and is checked offline with kho audit verify --bundle.")) }
                @if let Some(s) = &schedule {
                    p #archive-schedule {
                        (l.t("Lưu trữ tự động hằng ngày lúc ", "The node archives daily at ")) (format!("{:02}:00", s.hour))
                        (l.t(" (giờ Việt Nam) vào thư mục ", " (Vietnam time) into ")) code { (s.dir) }
                        (l.t("; bản ghi của ", "; the records of the last ")) (s.keep_days)
                        (l.t(" ngày gần nhất được giữ trong kho. Lần tới: ", " days stay in the store. Next: ")) (when(s.next_at)) "."
                    }
                }
                @if !archives.is_empty() {
                    table {
                        thead { tr {
                            th scope="col" { (l.t("Bản ghi", "Records")) }
                            th scope="col" { (l.t("Yêu cầu từ – đến (UTC)", "Requests from – to (UTC)")) }
                            th scope="col" { (l.t("Tệp", "File")) }
                            th scope="col" { "SHA-256" }
                            th scope="col" { (l.t("Lưu trữ lúc (UTC)", "Archived at (UTC)")) }
                        } }
                        tbody { @for a in archives { tr {
                            td { "#" (a.start.seq + 1) " – #" (a.end.seq) " (" (a.records) ")" }
                            td { (when_or_dash(a.first_at)) " – " (when_or_dash(a.last_at)) }
                            td { code { (a.file) } }
                            td { code.secret title=(a.sha256) { (a.sha256.get(..16).unwrap_or(&a.sha256)) "…" } }
                            td { (when(a.archived_at)) }
                        } } }
                    }
                }
            }
        }
    }
}

fn access_section(l: Lang, caller: &Caller, report: Option<&AccessReport>) -> Markup {
    html! {
        section.card #access aria-labelledby="access-h" {
            h2 #access-h { (l.t("Tra cứu truy cập theo số định danh", "Data subject access report")) }
            p.muted { (l.t(
                "Ai đã được cung cấp dữ liệu của một người, khi nào, vì mục đích gì và theo thỏa thuận nào, trong kho và trong các tệp lưu trữ. Việc tra cứu được ghi vào nhật ký kiểm toán.",
                "Who was served a person's records, when, for which purpose and under which agreement, in the store and in the archive files. The lookup is recorded in the audit log.")) }
            form method="post" action="/admin/exchange/log/access" {
                (csrf_field(caller))
                label for="identifier" { (l.t("Số định danh (ví dụ số CCCD)", "Identifier (e.g. citizen ID number)")) }
                input #identifier name="identifier" required autocomplete="off" inputmode="numeric";
                button type="submit" { (l.t("Tra cứu", "Look up")) }
            }
            @if let Some(report) = report {
                @if report.records.is_empty() {
                    p #access-none { (l.t("Không có lần cung cấp dữ liệu nào của người này.", "Nobody was served this person's records.")) }
                } @else {
                    table #access-report {
                        thead { tr {
                            th scope="col" { (l.t("Thời điểm (UTC)", "Time (UTC)")) }
                            th scope="col" { (l.t("Bên nhận", "Served to")) }
                            th scope="col" { (l.t("Dịch vụ", "Service")) }
                            th scope="col" { (l.t("Mục đích", "Purpose")) }
                            th scope="col" { (l.t("Thỏa thuận", "Agreement")) }
                            th scope="col" { (l.t("Yêu cầu", "Request")) }
                        } }
                        tbody { @for r in &report.records { tr {
                            td { (when(r.request_in_ts)) }
                            td { code { (r.client) } }
                            td { code { (r.service) } }
                            td { (r.purpose) }
                            td { (r.agreement_id.as_deref().unwrap_or("—")) }
                            td { code { (r.method) " " (r.path) } }
                        } } }
                    }
                    @if report.records.len() as i64 == ACCESS_LIMIT {
                        p.muted { (l.t("Chỉ hiển thị ", "Only the newest ")) (ACCESS_LIMIT)
                            (l.t(" lần gần nhất; xem tất cả bằng lệnh ", " are shown; see them all with "))
                            code { "kho audit access --subject … --limit N" } "." }
                    }
                }
                @if !report.archives.is_empty() {
                    ul #access-archives {
                        @for a in &report.archives {
                            li data-outcome=(format!("{:?}", a.outcome)) {
                                (l.t("Tệp lưu trữ bản ghi #", "Archive of records #")) (a.start + 1) " – #" (a.end) " ("
                                code { (a.file) } "): " (search_outcome(l, a))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What an access report did with an archive, in the reader's language.
fn search_outcome(l: Lang, a: &ArchiveSearch) -> String {
    let copy = l.t(
        "; tra cứu bản sao đã kiểm tra bằng lệnh kho audit access --subject … --bundle TỆP",
        "; search a verified copy with kho audit access --subject … --bundle FILE",
    );
    match a.outcome {
        SearchOutcome::Searched => format!("{} {}", l.t("đã tra cứu, số lần tìm thấy:", "searched, exchanges found:"), a.found),
        SearchOutcome::NotNeeded => l.t("không cần tra cứu: báo cáo đã đủ giới hạn với các bản ghi mới hơn", "not searched: newer exchanges fill the report to its limit").into(),
        SearchOutcome::Missing => format!("{}{copy}", l.t("không tra cứu được: tệp không có trên máy chủ này", "not searched: the file is not on this node")),
        SearchOutcome::Unreadable => format!("{}{copy}", l.t("không tra cứu được: không đọc được tệp", "not searched: the file cannot be read")),
        SearchOutcome::Altered => format!("{}{copy}", l.t("không tin cậy: tệp đã bị thay đổi (SHA-256 khác với bản ghi lưu trữ đã ký)", "not trusted: the file was changed (its SHA-256 is not the one its signed row records)")),
        SearchOutcome::RowBroken => l.t("không tra cứu: dòng lưu trữ trong kho không có chữ ký hợp lệ của nút; chạy kho audit verify --messages", "not searched: its row in the store is not signed by this node; run kho audit verify --messages").into(),
    }
}

fn verify_report(l: Lang, r: &VerifyReport) -> Markup {
    html! {
        div #verify-report role="status" class=(if r.intact { "ok" } else { "error" }) {
            p {
                strong { @if r.intact { (l.t("Nhật ký thông điệp nguyên vẹn", "The message log is intact")) }
                         @else { (l.t("Nhật ký thông điệp bị phá vỡ", "The message log is broken")) } }
                ": " (r.message)
            }
            @if let Some(b) = &r.first_break { p { (l.t("Bản ghi", "Record")) " #" (b.seq) ": " (b.reason) } }
            p.muted {
                (r.records) " " (l.t("bản ghi", "records")) ", " (r.checkpoints) " " (l.t("điểm ký", "signed checkpoints"))
                ", " (r.unsigned_tail) " " (l.t("bản ghi sau điểm ký cuối", "records after the last checkpoint"))
            }
            @if let Some(key) = &r.public_key { p { (l.t("Khóa công khai của nút", "Node public key")) ": " code.secret { (key) } } }
        }
    }
}

async fn log_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    q: &LogQuery,
    mut extras: LogExtras,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    // The records first: reading them is what checks that the user may see the log.
    let (records, status) = match q.to_query() {
        Ok(query) => match state.kho.messages(&caller.subject, &caller.ctx(), &query).await {
            Ok(r) => (r, status),
            Err(e) => return error_page(caller, uri.path(), &e),
        },
        // A period that is not one: the form again with the error, for those who may
        // read the log (the others get the refusal, audited, as for any reading).
        Err(e) => {
            if !Kho::may_read_message_log(&caller.subject) {
                let nothing = MessageQuery { limit: 1, ..Default::default() };
                if let Err(denied) = state.kho.messages(&caller.subject, &caller.ctx(), &nothing).await {
                    return error_page(caller, uri.path(), &denied);
                }
            }
            extras.message = Some(e.to_string());
            (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    if q.verify.is_some() {
        match state.kho.verify_messages_as(&caller.subject, &caller.ctx()).await {
            Ok(report) => extras.report = Some(report),
            Err(e) => extras.message = Some(e.message),
        }
    }
    // Whoever may read the log may read the list; a failure to read it hides the list only.
    let archives = match state.kho.message_archives(&caller.subject, &caller.ctx()).await {
        Ok(archives) => archives,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the message log's archives");
            Vec::new()
        }
    };
    let older = (records.len() as i64 == LOG_PAGE).then(|| records.last().map(|r| r.seq)).flatten();
    let content = html! {
        (subnav(l, &caller.subject, "/admin/exchange/log"))
        (alert(extras.message.as_deref()))
        @if let Some(report) = &extras.report { (verify_report(l, report)) }
        form.card #log-filter method="get" action="/admin/exchange/log" {
            label for="client" { (l.t("Bên gọi (INSTANCE/CLASS/MEMBER/SUBSYSTEM)", "Client (INSTANCE/CLASS/MEMBER/SUBSYSTEM)")) }
            input #client name="client" value=(q.client);
            label for="service" { (l.t("Dịch vụ (PROVIDER/CODE)", "Service (PROVIDER/CODE)")) }
            input #service name="service" value=(q.service);
            label for="message_id" { (l.t("Mã thông điệp (X-Road-Id)", "Message id (X-Road-Id)")) }
            input #message_id name="message_id" value=(q.message_id);
            label for="from" { (l.t("Từ ngày (UTC)", "From (UTC day)")) }
            input #from type="date" name="from" value=(q.from);
            label for="until" { (l.t("Đến hết ngày (UTC)", "Until the end of (UTC day)")) }
            input #until type="date" name="until" value=(q.until);
            button type="submit" { (l.t("Lọc", "Filter")) }
            " " button #verify type="submit" name="verify" value="1" { (l.t("Kiểm tra toàn vẹn", "Verify integrity")) }
        }
        @if records.is_empty() { p.muted #no-messages { (l.t("Không có thông điệp nào.", "No messages.")) } }
        @else { (messages_table(l, &records)) }
        @if let Some(before) = older { p { a #older href=(q.older(before)) { (l.t("Cũ hơn", "Older")) " »" } } }
        (access_section(l, caller, extras.access.as_ref()))
        (archives_section(l, &archives, state.gateway.archiver.as_ref().map(|a| a.schedule())))
    };
    page(caller, uri, l.t("Nhật ký thông điệp", "Message log"), status, content)
}

/// `/admin/exchange/log` — recent exchanges (auditors and administrators), filters,
/// older pages, and `?verify=1` to check the chain and its signed checkpoints.
pub async fn log(State(state): State<AppState>, caller: Caller, uri: Uri, Query(q): Query<LogQuery>) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    log_page(&state, &caller, &uri, &q, LogExtras::default(), StatusCode::OK).await
}

/// The access report of one data subject. Posted, so that the identifier stays out
/// of addresses, browser history and access logs.
pub async fn access(State(state): State<AppState>, caller: Caller, Form(f): Form<AccessForm>) -> Response {
    // Shown on the log's address, where the language switch can return.
    let uri = Uri::from_static("/admin/exchange/log");
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.access_report(&caller.subject, &caller.ctx(), &f.identifier, ACCESS_LIMIT, Vec::new()).await
    };
    let (extras, status) = match result.await {
        Ok(found) => (LogExtras { access: Some(found), ..Default::default() }, StatusCode::OK),
        Err(e) if e.code == kho_core::ErrorCode::InvalidField => {
            let status = status_of(&e);
            (LogExtras { message: Some(e.message), ..Default::default() }, status)
        }
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    log_page(&state, &caller, &uri, &LogQuery::default(), extras, status).await
}
