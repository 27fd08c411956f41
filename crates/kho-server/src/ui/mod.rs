//! The web UI shell: server-rendered HTML that works without JavaScript, Vietnamese
//! by default with an English switch, one layout for the public part (`/`) and the
//! management part (`/admin`).

mod chart;
mod codelists;
mod dictionary;
mod exchange;
mod pages;
pub(crate) mod portal;
mod quality;
mod quality_report;
mod query;
mod requests;
mod resources;
mod subsystems;
mod tables;

pub use quality_report::quality_report_document;

use crate::http::caller::{cookie, Caller, LANG_COOKIE};
use crate::http::AppState;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use kho_core::identity::Role;
use maud::{html, Markup, DOCTYPE};

/// Ngôn ngữ — the language a page is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    /// `?lang=` wins, then the `kho_lang` cookie, then Vietnamese.
    pub fn from_request(parts: &Parts) -> Self {
        let query = parts.uri.query().unwrap_or("");
        let from_query = query.split('&').find_map(|kv| kv.strip_prefix("lang="));
        match from_query.or_else(|| cookie(&parts.headers, LANG_COOKIE)) {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
    /// Picks the text in this language; both stand side by side where they are used.
    pub fn t(self, vi: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(portal::home))
        .route("/datasets", get(portal::search))
        .route("/feed.atom", get(portal::feed))
        .route("/request", get(requests::request_form).post(requests::submit_request))
        .route("/dataset/{key}/feedback", post(requests::submit_feedback))
        .route("/admin/requests", get(requests::admin_list))
        .route("/admin/requests/{id}/answer", post(requests::admin_answer))
        .route("/organization/{name}", get(portal::organization))
        .route("/dictionary", get(dictionary::list))
        .route("/dictionary/{key}", get(dictionary::show))
        .route("/admin/dictionary/new", get(dictionary::new_form).post(dictionary::create))
        .route("/admin/dictionary/{key}/edit", get(dictionary::edit_form).post(dictionary::update))
        .route("/admin/dictionary/{key}/status", post(dictionary::set_status))
        .route("/admin/resources/{key}/bindings", post(dictionary::bind))
        .route("/refdata", get(codelists::public_list))
        .route("/refdata/{slug}", get(codelists::public_show))
        .route("/admin/code-lists", get(codelists::admin_list).post(codelists::admin_create))
        .route("/admin/code-lists/{slug}", get(codelists::admin_show))
        .route("/admin/code-lists/{slug}/import", post(codelists::admin_import))
        .route("/admin/code-lists/{slug}/versions/{version}", get(codelists::admin_version))
        .route("/admin/code-lists/{slug}/versions/{version}/publish", post(codelists::admin_publish))
        .route("/admin/code-lists/{slug}/versions/{version}/delete", post(codelists::admin_delete))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang", get(pages::switch_lang))
        .route("/admin", get(pages::dashboard))
        .route("/admin/agencies", get(pages::agencies).post(pages::create_agency))
        .route("/admin/users", get(pages::users).post(pages::create_user))
        .route("/admin/tokens", get(pages::tokens).post(pages::create_token))
        .route("/admin/tokens/{id}/revoke", post(pages::revoke_token))
        .route("/admin/audit", get(pages::audit))
        .route("/admin/exchange", get(exchange::services).post(exchange::register))
        .route("/admin/exchange/services/{id}", get(exchange::service).post(exchange::update_service))
        .route("/admin/exchange/services/{id}/disable", post(exchange::disable_service))
        .route("/admin/exchange/services/{id}/enable", post(exchange::enable_service))
        .route("/admin/exchange/agreements", get(exchange::agreements).post(exchange::request))
        .route("/admin/exchange/agreements/{id}/decision", post(exchange::decide))
        .route("/admin/exchange/subsystems", get(subsystems::list).post(subsystems::register))
        .route("/admin/exchange/subsystems/{id}", get(subsystems::show))
        .route("/admin/exchange/subsystems/{id}/tokens", post(subsystems::issue_token))
        .route("/admin/exchange/subsystems/{id}/tokens/{token}/revoke", post(subsystems::revoke_token))
        .route("/admin/exchange/subsystems/{id}/certificates", post(subsystems::register_certificate))
        .route(
            "/admin/exchange/subsystems/{id}/certificates/{fingerprint}/revoke",
            post(subsystems::revoke_certificate),
        )
        .route("/admin/exchange/log", get(exchange::log))
        .route("/admin/exchange/log/access", post(exchange::access))
        .route("/admin/query", get(query::page_handler))
        .route("/admin/resources", get(resources::list))
        .route("/admin/resources/new", get(resources::new_form).post(resources::create))
        .route("/admin/resources/{key}", get(resources::show))
        .route("/admin/resources/{key}/edit", get(resources::edit_form).post(resources::update))
        .route("/admin/resources/{key}/status", post(resources::set_status))
        .route("/admin/resources/{key}/delete", post(resources::delete))
        .route("/admin/resources/{key}/tables/{table}/versions/{version}/diff", get(tables::diff))
        .route("/admin/resources/{key}/load", post(tables::load).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/admin/resources/{key}/quality", get(quality::resource_page))
        .route("/admin/resources/{key}/quality/run", post(quality::run))
        .route("/admin/resources/{key}/quality/rules", post(quality::save_rules))
        .route("/admin/resources/{key}/quality/profile", post(quality::profile))
        .route("/admin/resources/{key}/quality/clean", post(quality::clean))
        .route("/admin/quality/report", get(quality::report))
        .fallback(pages::not_found)
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;background:#f6f7f9}
a{color:#0b5cad}header{background:#8b1a1a;color:#fff}header a{color:#fff}
.bar{max-width:72rem;margin:auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
.brand{font-weight:700;font-size:1.2rem;text-decoration:none;margin-right:auto}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
main{max-width:72rem;margin:auto;padding:1rem}h1{font-size:1.6rem;margin:.5rem 0 1rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.95rem}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #dde1e6;vertical-align:top}
.card{background:#fff;border:1px solid #dde1e6;border-radius:.4rem;padding:1rem;margin:0 0 1rem}
fieldset{border:1px solid #dde1e6;border-radius:.3rem;margin:0 0 1rem;padding:.2rem 1rem 1rem}legend{font-weight:700;padding:0 .3rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input,select,textarea{font:inherit;padding:.4rem;width:100%;max-width:28rem;border:1px solid #9aa5b1;border-radius:.3rem}
button{font:inherit;padding:.45rem 1rem;border:0;border-radius:.3rem;background:#0b5cad;color:#fff;cursor:pointer;margin-top:.6rem}
form:not(.inline)>button{display:block;margin-top:.9rem}
button.link{background:none;color:inherit;padding:0;margin:0;text-decoration:underline}
.error{background:#fde8e8;border:1px solid #c81e1e;padding:.6rem 1rem;border-radius:.3rem}
.ok{background:#e6f4ea;border:1px solid #1e7e34;padding:.6rem 1rem;border-radius:.3rem}
.warn{color:#8a4b00;font-weight:600}tr.expiring td.state{color:#8a4b00;font-weight:600}
.secret{font-family:monospace;word-break:break-all;background:#fff8dc;padding:.5rem;display:block}
.tree ul{margin:0;padding-left:1.4rem}.muted{color:#5b6773}.inline{display:inline}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#000;padding:.4rem}
@media (max-width:40rem){th,td{padding:.3rem}.bar{padding:.5rem}}
"#;

/// The shared layout: header with navigation, language switch and session controls.
pub fn layout(caller: &Caller, path: &str, title: &str, content: Markup) -> Markup {
    layout_with_head(caller, path, title, html! {}, content)
}

/// The shared layout with extra elements in `<head>` (e.g. `<link rel="alternate">`).
pub fn layout_with_head(caller: &Caller, path: &str, title: &str, head: Markup, content: Markup) -> Markup {
    let l = caller.lang;
    let other = match l {
        Lang::Vi => ("en", "English"),
        Lang::En => ("vi", "Tiếng Việt"),
    };
    let subject = &caller.subject;
    let back = urlencode(path);
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Kho" }
                style { (maud::PreEscaped(STYLE)) }
                (head)
            }
            body {
                a.skip href="#main" { (l.t("Bỏ qua điều hướng", "Skip to content")) }
                header {
                    div.bar {
                        a.brand href="/" { "Kho" }
                        nav aria-label=(l.t("Điều hướng chính", "Main navigation")) {
                            ul {
                                li { a href="/" { (l.t("Trang chủ", "Home")) } }
                                li { a href="/datasets" { (l.t("Dữ liệu mở", "Open data")) } }
                                li { a href="/request" { (l.t("Đề nghị dữ liệu", "Request data")) } }
                                li { a href="/dictionary" { (l.t("Từ điển dữ liệu", "Data dictionary")) } }
                                li { a href="/refdata" { (l.t("Danh mục", "Code lists")) } }
                                @if subject.is_authenticated() {
                                    li { a href="/admin" { (l.t("Quản trị", "Management")) } }
                                    @for (href, text) in admin_links(l, subject) { li { a href=(href) { (text) } } }
                                }
                            }
                        }
                        a href={ "/lang?set=" (other.0) "&back=" (back) } lang=(other.0) { (other.1) }
                        @if subject.is_authenticated() {
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf_token" value=(caller.csrf_token());
                                button.link type="submit" { (l.t("Đăng xuất", "Log out")) " (" (subject.actor().trim_start_matches("user:")) ")" }
                            }
                        } @else {
                            a href="/login" { (l.t("Đăng nhập", "Log in")) }
                        }
                    }
                }
                main id="main" { h1 { (title) } (content) }
            }
        }
    }
}

/// The management pages a subject may open, for the menu and the dashboard.
pub fn admin_links(l: Lang, subject: &kho_core::identity::Subject) -> Vec<(&'static str, &'static str)> {
    let mut links = vec![
        ("/admin/resources", l.t("Tài nguyên dữ liệu", "Data resources")),
        ("/admin/query", l.t("Truy vấn SQL", "SQL query")),
        ("/admin/requests", l.t("Yêu cầu của người dân", "Requests from the public")),
        ("/admin/code-lists", l.t("Danh mục dùng chung", "Code lists")),
        ("/admin/exchange", l.t("Chia sẻ dữ liệu", "Data sharing")),
        ("/admin/agencies", l.t("Cơ quan", "Agencies")),
        ("/admin/users", l.t("Người dùng", "Users")),
        ("/admin/tokens", l.t("Khóa API", "API tokens")),
    ];
    if subject.has(Role::Auditor) || subject.has(Role::Admin) {
        links.push(("/admin/audit", l.t("Nhật ký kiểm toán", "Audit log")));
        links.push(("/admin/quality/report", l.t("Báo cáo chất lượng", "Quality report")));
    }
    links
}

/// A page in the shared layout, with its status.
pub fn page(caller: &Caller, uri: &axum::http::Uri, title: &str, status: StatusCode, content: Markup) -> Response {
    (status, Html(layout(caller, &here(uri), title, content).into_string())).into_response()
}

/// The page's path with its query (without `lang=`), where the language switch returns.
pub fn here(uri: &axum::http::Uri) -> String {
    let query: Vec<&str> =
        uri.query().unwrap_or("").split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("lang=")).collect();
    if query.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{}", uri.path(), query.join("&"))
    }
}

/// Sends anonymous visitors of `/admin` pages to the login page.
pub fn require_login(caller: &Caller, uri: &axum::http::Uri) -> Option<Response> {
    (!caller.subject.is_authenticated())
        .then(|| axum::response::Redirect::to(&format!("/login?next={}", urlencode(uri.path()))).into_response())
}

/// Percent-encodes a path for use in a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error shown as a page, with the status from the error-code table.
pub fn error_page(caller: &Caller, path: &str, err: &kho_core::Error) -> Response {
    let l = caller.lang;
    let status = StatusCode::from_u16(err.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = layout(
        caller,
        path,
        l.t("Không thực hiện được", "Something went wrong"),
        html! { p.error role="alert" { (err.message) } p { a href="/" { (l.t("Về trang chủ", "Back to the home page")) } } },
    );
    (status, Html(body.into_string())).into_response()
}

/// An error message above a form, when there is one.
pub(crate) fn alert(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { p.error role="alert" { (m) } } }
}

/// A form that posts nothing but its CSRF token (a button: revoke, delete, log out…).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// The CSRF token every management form posts.
pub(crate) fn csrf_field(caller: &Caller) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(caller.csrf_token()); }
}

/// The HTTP status a page shows for a service's error.
pub(crate) fn status_of(e: &kho_core::Error) -> axum::http::StatusCode {
    axum::http::StatusCode::from_u16(e.code.status()).unwrap_or(axum::http::StatusCode::BAD_REQUEST)
}
