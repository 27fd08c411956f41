//! The pages of the web UI shell. Each handler reads the form or query, calls one
//! service function and renders the result in the shared layout.

use super::{admin_links, error_page, layout, require_login, urlencode, CsrfForm, Lang};
use super::{alert, csrf_field, status_of};
use crate::http::api::AuditParams;
use crate::http::caller::{cookie, set_cookie, Caller, LANG_COOKIE, SESSION_COOKIE};
use crate::http::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use kho_core::agency::{Agency, AgencyCode, AgencyKind, NewAgency};
use kho_core::identity::{NewUser, Role, TokenOwner};
use kho_core::{secret, Error, ErrorCode};
use maud::{html, Markup};
use serde::Deserialize;
use std::net::SocketAddr;

const LOGIN_CSRF_COOKIE: &str = "kho_login_csrf";

fn page(caller: &Caller, uri: &Uri, title: &str, content: Markup) -> Response {
    super::page(caller, uri, title, StatusCode::OK, content)
}

/// Only local paths are followed after login or a language switch.
fn safe_local_path(p: Option<&str>) -> &str {
    match p {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => "/",
    }
}

fn roles_text(roles: &[Role]) -> String {
    Role::join(roles).replace(',', ", ")
}

// ---- public -----------------------------------------------------------------------

pub async fn not_found(caller: Caller, uri: Uri) -> Response {
    let l = caller.lang;
    let err = Error::new(ErrorCode::NotFound, l.t("Không tìm thấy trang này.", "This page does not exist."));
    error_page(&caller, uri.path(), &err)
}

#[derive(Deserialize)]
pub struct LangQuery {
    set: String,
    back: Option<String>,
}

pub async fn switch_lang(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = if q.set == "en" { "en" } else { "vi" };
    let cookie = set_cookie(&state, LANG_COOKIE, lang, 365 * 24 * 3600);
    ([(header::SET_COOKIE, cookie)], Redirect::to(safe_local_path(q.back.as_deref()))).into_response()
}

// ---- login ------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let token = secret::random_string(24);
    let body = layout(
        caller,
        uri.path(),
        l.t("Đăng nhập", "Log in"),
        html! {
            (alert(error))
            form.card method="post" action="/login" {
                input type="hidden" name="csrf_token" value=(token);
                input type="hidden" name="next" value=(next);
                label for="username" { (l.t("Tên đăng nhập", "Username")) }
                input #username name="username" type="text" autocomplete="username" required autofocus;
                label for="password" { (l.t("Mật khẩu", "Password")) }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (l.t("Đăng nhập", "Log in")) }
            }
        },
    );
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], Html(body.into_string())).into_response()
}

pub async fn login_form(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_local_path(q.next.as_deref()).to_string();
    if caller.subject.is_authenticated() {
        return Redirect::to(&next).into_response();
    }
    login_page(&state, &caller, &uri, &next, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    caller: Caller,
    uri: Uri,
    Form(form): Form<LoginForm>,
) -> Response {
    let l = caller.lang;
    let next = safe_local_path(form.next.as_deref()).to_string();
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !secret::constant_time_eq(expected, &form.csrf_token) {
        let msg = l.t("Biểu mẫu đã hết hạn, vui lòng đăng nhập lại.", "The form has expired; please log in again.");
        return login_page(&state, &caller, &uri, &next, Some(msg), StatusCode::FORBIDDEN);
    }
    match state.kho.login(form.username.trim(), &form.password, addr.ip(), caller.request_id.clone()).await {
        Ok((sid, _, _)) => {
            let session = set_cookie(&state, SESSION_COOKIE, &sid, state.kho.settings.session_hours * 3600);
            let clear = set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0);
            let mut response = Redirect::to(if next == "/" { "/admin" } else { &next }).into_response();
            response.headers_mut().append(header::SET_COOKIE, session.parse().expect("cookie is ASCII"));
            response.headers_mut().append(header::SET_COOKIE, clear.parse().expect("cookie is ASCII"));
            response
        }
        Err(e) => {
            let msg = match e.code {
                ErrorCode::RateLimited => l.t(
                    "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
                    "Too many failed logins. Try again in a few minutes.",
                ),
                ErrorCode::Unauthenticated => l.t("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
                _ => return error_page(&caller, uri.path(), &e),
            };
            let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            login_page(&state, &caller, &uri, &next, Some(msg), status)
        }
    }
}

pub async fn logout(State(state): State<AppState>, caller: Caller, uri: Uri, Form(form): Form<CsrfForm>) -> Response {
    if let Err(e) = caller.check_csrf(&form.csrf_token) {
        return error_page(&caller, uri.path(), &e);
    }
    if let Some((sid, _)) = &caller.session {
        if let Err(e) = state.kho.logout(sid, &caller.subject, &caller.ctx()).await {
            return error_page(&caller, uri.path(), &e);
        }
    }
    ([(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0))], Redirect::to("/")).into_response()
}

// ---- management ---------------------------------------------------------------------

pub async fn dashboard(caller: Caller, uri: Uri) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    let l = caller.lang;
    let s = &caller.subject;
    page(
        &caller,
        &uri,
        l.t("Quản trị", "Management"),
        html! {
            div.card {
                p { (l.t("Xin chào", "Hello")) ", " strong { (s.actor().trim_start_matches("user:")) } "." }
                p { (l.t("Vai trò", "Roles")) ": " (roles_text(&s.roles)) }
            }
            ul { @for (href, text) in admin_links(l, s) { li { a href=(href) { (text) } } } }
        },
    )
}

fn kind_label(l: Lang, k: AgencyKind) -> &'static str {
    match k {
        AgencyKind::Province => l.t("Tỉnh", "Province"),
        AgencyKind::Department => l.t("Sở, ngành", "Department"),
        AgencyKind::Unit => l.t("Đơn vị", "Unit"),
        AgencyKind::Commune => l.t("Xã, phường", "Commune"),
    }
}

fn agency_tree(l: Lang, all: &[Agency], parent: Option<&str>) -> Markup {
    let children: Vec<&Agency> = all.iter().filter(|a| a.parent_id.as_deref() == parent).collect();
    html! {
        @if !children.is_empty() {
            ul {
                @for a in children {
                    li {
                        strong { (a.name) } " "
                        span.muted { "(" (kind_label(l, a.kind)) " · " code { (a.code) }
                            @if let Some(au) = &a.admin_unit_code { " · " (l.t("mã ĐVHC", "admin unit")) " " (au) } ")" }
                        (agency_tree(l, all, Some(&a.id)))
                    }
                }
            }
        }
    }
}

async fn agencies_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let all = match state.kho.list_agencies().await {
        Ok(a) => a,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let content = html! {
        (alert(error))
        section.card.tree aria-labelledby="tree-h" {
            h2 #tree-h { (l.t("Cây cơ quan", "Agency tree")) " (" (all.len()) ")" }
            (agency_tree(l, &all, None))
        }
        @if caller.subject.has(Role::Admin) {
            section.card aria-labelledby="new-h" {
                h2 #new-h { (l.t("Thêm cơ quan", "Add an agency")) }
                form method="post" action="/admin/agencies" {
                    (csrf_field(caller))
                    label for="name" { (l.t("Tên cơ quan", "Name")) }
                    input #name name="name" required;
                    label for="code" { (l.t("Mã định danh điện tử", "Electronic identifier code")) }
                    input #code name="code" required placeholder="000.00.07.H24";
                    label for="kind" { (l.t("Loại", "Kind")) }
                    select #kind name="kind" {
                        @for k in [AgencyKind::Department, AgencyKind::Unit, AgencyKind::Commune, AgencyKind::Province] {
                            option value=(k.as_str()) { (kind_label(l, k)) }
                        }
                    }
                    label for="parent_id" { (l.t("Cơ quan cấp trên", "Parent agency")) }
                    select #parent_id name="parent_id" {
                        option value="" { "—" }
                        @for a in &all { option value=(a.id) { (a.name) } }
                    }
                    label for="admin_unit_code" { (l.t("Mã ĐVHC 2025 (xã, phường)", "2025 admin-unit code (communes)")) }
                    input #admin_unit_code name="admin_unit_code" inputmode="numeric";
                    button type="submit" { (l.t("Thêm", "Add")) }
                }
            }
        }
    };
    let mut r = page(caller, uri, l.t("Cơ quan, đơn vị", "Agencies"), content);
    *r.status_mut() = status;
    r
}

pub async fn agencies(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    agencies_page(&state, &caller, &uri, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct AgencyForm {
    csrf_token: String,
    name: String,
    code: String,
    kind: String,
    parent_id: String,
    admin_unit_code: String,
}

pub async fn create_agency(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<AgencyForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let non_empty = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let new = NewAgency {
            code: AgencyCode::parse(&f.code)?,
            name: f.name,
            name_en: None,
            kind: AgencyKind::parse(&f.kind)?,
            parent_id: non_empty(f.parent_id),
            admin_unit_code: non_empty(f.admin_unit_code),
        };
        state.kho.create_agency(&caller.subject, &caller.ctx(), new).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/admin/agencies").into_response(),
        Err(e) => agencies_page(&state, &caller, &uri, Some(&e.message), status_of(&e)).await,
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

const USERS_PER_PAGE: i64 = 50;

async fn users_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    page_no: i64,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let page_no = page_no.max(1);
    let ctx = caller.ctx();
    let (users, agencies) = match tokio::try_join!(
        state.kho.list_users(&caller.subject, &ctx, USERS_PER_PAGE, (page_no - 1) * USERS_PER_PAGE),
        state.kho.list_agencies()
    ) {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let agency_name = |id: &str| agencies.iter().find(|a| a.id == id).map(|a| a.name.clone()).unwrap_or_default();
    let pages = (users.total + USERS_PER_PAGE - 1) / USERS_PER_PAGE;
    let content = html! {
        (alert(error))
        table {
            caption.muted { (users.total) " " (l.t("người dùng", "users")) }
            thead { tr {
                th scope="col" { (l.t("Tên đăng nhập", "Username")) }
                th scope="col" { (l.t("Họ tên", "Name")) }
                th scope="col" { (l.t("Cơ quan", "Agency")) }
                th scope="col" { (l.t("Vai trò", "Roles")) }
                th scope="col" { (l.t("Trạng thái", "Status")) }
            } }
            tbody { @for u in &users.items { tr {
                td { (u.username) } td { (u.display_name) } td { (agency_name(&u.agency_id)) }
                td { (roles_text(&u.roles)) }
                td { @if u.disabled { (l.t("Đã khóa", "Disabled")) } @else { (l.t("Hoạt động", "Active")) } }
            } } }
        }
        @if pages > 1 {
            nav aria-label=(l.t("Phân trang", "Pages")) { p {
                @if page_no > 1 { a href={ "?page=" (page_no - 1) } { "« " (l.t("Trước", "Previous")) } " " }
                (l.t("Trang", "Page")) " " (page_no) "/" (pages)
                @if page_no < pages { " " a href={ "?page=" (page_no + 1) } { (l.t("Sau", "Next")) " »" } }
            } }
        }
        @if caller.subject.has(Role::Admin) {
            section.card aria-labelledby="new-user-h" {
                h2 #new-user-h { (l.t("Thêm người dùng", "Add a user")) }
                form method="post" action="/admin/users" {
                    (csrf_field(caller))
                    label for="username" { (l.t("Tên đăng nhập", "Username")) }
                    input #username name="username" required pattern="[a-z0-9._\\-]{3,64}" autocomplete="off";
                    label for="display_name" { (l.t("Họ tên", "Full name")) }
                    input #display_name name="display_name";
                    label for="agency_id" { (l.t("Cơ quan", "Agency")) }
                    select #agency_id name="agency_id" required { @for a in &agencies { option value=(a.id) { (a.name) } } }
                    label for="role" { (l.t("Vai trò", "Role")) }
                    select #role name="role" {
                        option value="viewer" { (l.t("Người xem", "Viewer")) }
                        option value="steward" { (l.t("Cán bộ quản lý dữ liệu", "Data steward")) }
                        option value="auditor" { (l.t("Kiểm toán viên", "Auditor")) }
                        option value="admin" { (l.t("Quản trị hệ thống", "Administrator")) }
                    }
                    label for="password" { (l.t("Mật khẩu (ít nhất 10 ký tự)", "Password (at least 10 characters)")) }
                    input #password name="password" type="password" required minlength="10" autocomplete="new-password";
                    button type="submit" { (l.t("Thêm", "Add")) }
                }
            }
        }
    };
    let mut r = page(caller, uri, l.t("Người dùng", "Users"), content);
    *r.status_mut() = status;
    r
}

pub async fn users(State(state): State<AppState>, caller: Caller, uri: Uri, Query(q): Query<PageQuery>) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    users_page(&state, &caller, &uri, q.page.unwrap_or(1), None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf_token: String,
    username: String,
    display_name: String,
    agency_id: String,
    role: String,
    password: String,
}

pub async fn create_user(State(state): State<AppState>, caller: Caller, uri: Uri, Form(f): Form<UserForm>) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let new = NewUser {
            username: f.username.trim().to_string(),
            display_name: Some(f.display_name.trim().to_string()).filter(|s| !s.is_empty()),
            agency_id: f.agency_id,
            roles: vec![Role::parse(&f.role)?],
            password: f.password,
        };
        state.kho.create_user(&caller.subject, &caller.ctx(), new).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => users_page(&state, &caller, &uri, 1, Some(&e.message), status_of(&e)).await,
    }
}

async fn tokens_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    created: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let tokens = match state.kho.list_tokens(&caller.subject, false).await {
        Ok(t) => t,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let now = kho_core::time::now();
    let content = html! {
        (alert(error))
        @if let Some(secret) = created {
            div.ok role="status" {
                p { (l.t("Khóa mới đã được tạo. Hãy sao chép ngay: khóa chỉ hiển thị một lần.",
                         "The new token is below. Copy it now: it is shown only once.")) }
                code.secret { (secret) }
            }
        }
        table {
            thead { tr {
                th scope="col" { (l.t("Tên", "Name")) } th scope="col" { (l.t("Tiền tố", "Prefix")) }
                th scope="col" { (l.t("Hết hạn", "Expires")) } th scope="col" { (l.t("Dùng lần cuối", "Last used")) }
                th scope="col" { (l.t("Trạng thái", "Status")) } th scope="col" { span.skip { (l.t("Thao tác", "Actions")) } }
            } }
            tbody { @for t in &tokens { tr {
                td { (t.name) } td { code { (t.prefix) "…" } }
                td { (t.expires_at.format("%Y-%m-%d")) }
                td { @if let Some(u) = t.last_used_at { (u.format("%Y-%m-%d %H:%M")) } @else { "—" } }
                td { @if t.revoked_at.is_some() { (l.t("Đã thu hồi", "Revoked")) }
                     @else if t.is_active(now) { (l.t("Hiệu lực", "Active")) } @else { (l.t("Hết hạn", "Expired")) } }
                td { @if t.is_active(now) {
                    form.inline method="post" action={ "/admin/tokens/" (t.id) "/revoke" } {
                        (csrf_field(caller))
                        button type="submit" aria-label={ (l.t("Thu hồi khóa", "Revoke token")) " " (t.name) } { (l.t("Thu hồi", "Revoke")) }
                    }
                } }
            } } }
        }
        section.card aria-labelledby="new-token-h" {
            h2 #new-token-h { (l.t("Tạo khóa API", "Create an API token")) }
            form method="post" action="/admin/tokens" {
                (csrf_field(caller))
                label for="name" { (l.t("Tên (dùng để làm gì)", "Name (what it is for)")) }
                input #name name="name" required maxlength="100";
                label for="days" { (l.t("Hiệu lực (ngày)", "Valid for (days)")) }
                input #days name="days" type="number" min="1" max="730" value="90" required;
                button type="submit" { (l.t("Tạo khóa", "Create token")) }
            }
        }
    };
    let mut r = page(caller, uri, l.t("Khóa API", "API tokens"), content);
    *r.status_mut() = status;
    r
}

pub async fn tokens(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    tokens_page(&state, &caller, &uri, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf_token: String,
    name: String,
    days: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<TokenForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let days: i64 = f.days.trim().parse().map_err(|_| Error::invalid("days", "must be a whole number of days"))?;
        let owner = TokenOwner::User(caller.subject.user_id().unwrap_or_default().to_string());
        state.kho.create_token(&caller.subject, &caller.ctx(), owner, &f.name, days).await
    }
    .await;
    match result {
        Ok((_, secret)) => tokens_page(&state, &caller, &uri, Some(&secret), None, StatusCode::CREATED).await,
        Err(e) => tokens_page(&state, &caller, &uri, None, Some(&e.message), status_of(&e)).await,
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.revoke_token(&caller.subject, &caller.ctx(), &id).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct AuditPageQuery {
    #[serde(flatten)]
    filter: AuditFilterFields,
    verify: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AuditFilterFields {
    actor: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(q): Query<AuditPageQuery>,
) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    let l = caller.lang;
    let f = &q.filter;
    let params = AuditParams {
        actor: f.actor.clone(),
        action: f.action.clone(),
        target: None,
        outcome: f.outcome.clone(),
        from: f.from.clone(),
        until: f.until.clone(),
        before: f.before,
        limit: Some(100),
    };
    let result = async {
        let query = params.to_query()?;
        let report = match q.verify.as_deref() {
            Some(_) => Some(state.kho.verify_audit(&caller.subject, &caller.ctx()).await?),
            None => None,
        };
        let entries = state.kho.list_audit(&caller.subject, &caller.ctx(), query).await?;
        Ok::<_, Error>((report, entries))
    }
    .await;
    let (report, entries) = match result {
        Ok(v) => v,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let next = (entries.len() == 100).then(|| entries.last().map(|e| e.seq)).flatten();
    let content = html! {
        @if let Some(r) = &report {
            @if r.intact { p.ok role="status" { (l.t("Chuỗi nhật ký nguyên vẹn", "The log chain is intact")) ": " (r.entries) " " (l.t("bản ghi", "entries")) "." } }
            @else { p.error role="alert" { (l.t("Chuỗi nhật ký bị phá vỡ", "The log chain is broken")) ": " (r.message) } }
        }
        form.card method="get" action="/admin/audit" {
            label for="actor" { (l.t("Người thực hiện", "Actor")) } input #actor name="actor" value=(value(&f.actor)) placeholder="user:admin";
            label for="action" { (l.t("Hành động", "Action")) } input #action name="action" value=(value(&f.action)) placeholder="user.create";
            label for="outcome" { (l.t("Kết quả", "Outcome")) }
            select #outcome name="outcome" {
                option value="" { "—" }
                @for o in ["success", "denied", "failure"] { option value=(o) selected[f.outcome.as_deref() == Some(o)] { (o) } }
            }
            label for="from" { (l.t("Từ ngày", "From")) } input #from name="from" type="date" value=(value(&f.from));
            label for="until" { (l.t("Đến trước ngày", "Until")) } input #until name="until" type="date" value=(value(&f.until));
            button type="submit" { (l.t("Lọc", "Filter")) }
            " " button type="submit" name="verify" value="1" { (l.t("Kiểm tra chuỗi", "Verify the chain")) }
        }
        table {
            thead { tr {
                th scope="col" { "#" } th scope="col" { (l.t("Thời điểm (UTC)", "Time (UTC)")) }
                th scope="col" { (l.t("Người thực hiện", "Actor")) } th scope="col" { (l.t("Hành động", "Action")) }
                th scope="col" { (l.t("Đối tượng", "Target")) } th scope="col" { (l.t("Kết quả", "Outcome")) }
                th scope="col" { (l.t("Mã yêu cầu", "Request id")) }
            } }
            tbody { @for e in &entries { tr {
                td { (e.seq) } td { (e.at.format("%Y-%m-%d %H:%M:%S")) } td { (e.actor) } td { (e.action) }
                td { (e.target) } td { (e.outcome.as_str()) } td.muted { (e.request_id.as_deref().unwrap_or("")) }
            } } }
        }
        @if let Some(before) = next {
            p { a href={ "/admin/audit?before=" (before) "&actor=" (urlencode(&value(&f.actor))) "&action=" (urlencode(&value(&f.action)))
                         "&outcome=" (value(&f.outcome)) "&from=" (value(&f.from)) "&until=" (value(&f.until)) } { (l.t("Cũ hơn", "Older")) " »" } }
        }
    };
    page(&caller, &uri, l.t("Nhật ký kiểm toán", "Audit log"), content)
}
