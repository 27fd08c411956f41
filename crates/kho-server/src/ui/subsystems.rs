//! Hệ thống thông tin (subsystems) in the web UI: the agencies' information systems that
//! call the gateway, with the form to register one (`/admin/exchange/subsystems`), and
//! each one's credentials (`/admin/exchange/subsystems/{id}`): its API tokens — issued
//! with the secret shown once, revoked — and its client TLS certificates — registered by
//! pasting the PEM, revoked. The services decide who may do what; the pages only hide
//! the forms a user could not use.

use super::exchange::subnav;
use super::{alert, csrf_field, error_page, page, require_login, status_of, CsrfForm, Lang};
use crate::http::caller::Caller;
use crate::http::AppState;
use crate::services::exchange::SubsystemCredentials;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use kho_core::agency::Agency;
use kho_core::identity::{ApiToken, NewSubsystem, Role, Subsystem, SubsystemCertificate, SubsystemId};
use kho_core::policy::{authorize, Action, Resource, ResourceKind};
use kho_core::{time, Error, Result};
use maud::{html, Markup};
use serde::Deserialize;

const LIST: &str = "/admin/exchange/subsystems";
/// A new subsystem token's lifetime unless the steward says otherwise.
const TOKEN_DAYS: i64 = 365;

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn detail_path(s: &Subsystem) -> String {
    format!("{LIST}/{}", s.id)
}

// ---- the list -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SubsystemForm {
    csrf_token: String,
    xroad_id: String,
    name: String,
    agency: String,
}

impl SubsystemForm {
    fn to_new(&self) -> Result<NewSubsystem> {
        let xroad_id = SubsystemId::parse(self.xroad_id.trim()).map_err(|e| Error::invalid("xroad_id", e.message))?;
        let name = match self.name.trim() {
            "" => xroad_id.subsystem_code.clone(),
            n => n.to_string(),
        };
        Ok(NewSubsystem { xroad_id, name, agency_id: self.agency.trim().to_string(), roles: vec![Role::Viewer] })
    }
}

/// What a subsystem can call the gateway with, and a warning when that is nothing or
/// a token is about to expire.
fn credentials_cell(l: Lang, c: &SubsystemCredentials) -> Markup {
    html! {
        td.credentials {
            (c.active_tokens) " " (l.t("khóa", "token(s)")) " · " (c.active_certificates) " " (l.t("chứng thư số", "certificate(s)"))
            @if c.active_tokens + c.active_certificates == 0 {
                br; span.warn.none { (l.t("Chưa có khóa hay chứng thư nào: hệ thống chưa gọi được cổng.",
                                           "No token or certificate: the system cannot call the gateway yet.")) }
            }
            @for (name, days) in &c.expiring {
                br; span.warn.expiring { (l.t("Khóa", "Token")) " “" (name) "” " (expires_in(l, *days)) }
            }
        }
    }
}

/// "expires in N days" (or today).
fn expires_in(l: Lang, days: i64) -> String {
    match days {
        0 => l.t("hết hạn trong hôm nay", "expires today").to_string(),
        d => format!("{} {d} {}", l.t("hết hạn sau", "expires in"), l.t("ngày", "day(s)")),
    }
}

fn subsystems_table(l: Lang, subsystems: &[SubsystemCredentials], agencies: &[Agency]) -> Markup {
    let agency_name = |id: &str| agencies.iter().find(|a| a.id == id).map_or(id.to_string(), |a| a.name.clone());
    html! {
        table #subsystems {
            caption.muted { (subsystems.len()) " " (l.t("hệ thống thông tin", "information systems")) }
            thead { tr {
                th scope="col" { (l.t("Mã định danh (INSTANCE/CLASS/MEMBER/SUBSYSTEM)", "Identifier (INSTANCE/CLASS/MEMBER/SUBSYSTEM)")) }
                th scope="col" { (l.t("Tên", "Name")) }
                th scope="col" { (l.t("Cơ quan", "Agency")) }
                th scope="col" { (l.t("Khóa và chứng thư đang hiệu lực", "Active tokens and certificates")) }
                th scope="col" { (l.t("Đăng ký ngày", "Registered")) }
            } }
            tbody { @for c in subsystems {
                @let s = &c.subsystem;
                tr data-subsystem=(s.xroad_id) {
                    td { a href=(detail_path(s)) { code { (s.xroad_id) } } }
                    td { (s.name) }
                    td { (agency_name(&s.agency_id)) }
                    (credentials_cell(l, c))
                    td { (day(s.created_at)) }
                }
            } }
        }
    }
}

fn register_form(l: Lang, caller: &Caller, agencies: &[Agency], f: &SubsystemForm) -> Markup {
    html! {
        form.card #register-subsystem method="post" action=(LIST) {
            h2 { (l.t("Đăng ký hệ thống thông tin", "Register an information system")) }
            (csrf_field(caller))
            label for="xroad_id" { (l.t("Mã định danh (INSTANCE/CLASS/MEMBER/SUBSYSTEM, MEMBER là mã cơ quan)",
                                        "Identifier (INSTANCE/CLASS/MEMBER/SUBSYSTEM, MEMBER being the agency's code)")) }
            input #xroad_id name="xroad_id" value=(f.xroad_id) required placeholder="VN/GOV/000.00.01.H24/MOT-CUA";
            label for="name" { (l.t("Tên (mặc định là mã SUBSYSTEM)", "Name (the SUBSYSTEM code by default)")) }
            input #name name="name" value=(f.name) maxlength="200";
            label for="agency" { (l.t("Cơ quan quản lý", "Agency")) }
            select #agency name="agency" required {
                @for a in agencies {
                    option value=(a.id) selected[a.id == f.agency] { (a.name) " — " (a.code) }
                }
            }
            button type="submit" { (l.t("Đăng ký", "Register")) }
        }
    }
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    uri: &Uri,
    form: &SubsystemForm,
    message: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let kho = &state.kho;
    let loaded = async {
        let agencies = kho.list_agencies().await?;
        let registrable = kho.agencies_for_subsystems(&caller.subject).await?;
        Ok::<_, Error>((kho.subsystems_with_credentials(&caller.subject).await?, agencies, registrable))
    };
    let (subsystems, agencies, registrable) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let content = html! {
        (subnav(l, &caller.subject, LIST))
        p.muted { (l.t(
            "Mỗi hệ thống thông tin của cơ quan gọi cổng chia sẻ bằng khóa truy cập hoặc chứng thư số của mình.",
            "Each information system of an agency calls the sharing gateway with its own API token or client certificate.")) }
        (alert(message))
        (subsystems_table(l, &subsystems, &agencies))
        @if !registrable.is_empty() { (register_form(l, caller, &registrable, form)) }
    };
    page(caller, uri, l.t("Hệ thống thông tin", "Information systems"), status, content)
}

/// `/admin/exchange/subsystems` — the subsystems the user may see, and the form.
pub async fn list(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    list_page(&state, &caller, &uri, &SubsystemForm::default(), None, StatusCode::OK).await
}

/// Registers a subsystem and opens its page, where its first token is issued.
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Form(f): Form<SubsystemForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.create_subsystem(&caller.subject, &caller.ctx(), f.to_new()?).await
    };
    match result.await {
        Ok(s) => Redirect::to(&detail_path(&s)).into_response(),
        Err(e) => list_page(&state, &caller, &uri, &f, Some(&e.message), status_of(&e)).await,
    }
}

// ---- one subsystem --------------------------------------------------------------------

/// What the page shows above its tables after an action.
#[derive(Default)]
struct Outcome<'a> {
    /// A token's secret, issued just now: shown this once.
    secret: Option<&'a str>,
    error: Option<&'a str>,
}

fn token_state(l: Lang, t: &ApiToken, now: DateTime<Utc>) -> String {
    if t.revoked_at.is_some() {
        l.t("Đã thu hồi", "Revoked").into()
    } else if let Some(days) = t.expiring_in(now) {
        format!("{} — {}", l.t("Hiệu lực", "Active"), expires_in(l, days))
    } else if t.is_active(now) {
        l.t("Hiệu lực", "Active").into()
    } else {
        l.t("Hết hạn", "Expired").into()
    }
}

fn tokens_section(l: Lang, caller: &Caller, s: &Subsystem, tokens: &[ApiToken], manages: bool) -> Markup {
    let now = time::now();
    html! {
        section.card aria-labelledby="tokens-h" {
            h2 #tokens-h { (l.t("Khóa truy cập (API token)", "API tokens")) }
            table #tokens {
                thead { tr {
                    th scope="col" { (l.t("Tên", "Name")) } th scope="col" { (l.t("Tiền tố", "Prefix")) }
                    th scope="col" { (l.t("Cấp ngày", "Issued")) } th scope="col" { (l.t("Hết hạn", "Expires")) }
                    th scope="col" { (l.t("Dùng lần cuối", "Last used")) } th scope="col" { (l.t("Trạng thái", "Status")) }
                    @if manages { th scope="col" { span.skip { (l.t("Thao tác", "Actions")) } } }
                } }
                tbody { @for t in tokens { tr.revoked[t.revoked_at.is_some()].expiring[t.expiring_in(now).is_some()] data-token=(t.id) {
                    td { (t.name) } td { code { (t.prefix) "…" } }
                    td { (day(t.created_at)) } td { (day(t.expires_at)) }
                    td { @if let Some(u) = t.last_used_at { (u.format("%Y-%m-%d %H:%M")) } @else { "—" } }
                    td.state { (token_state(l, t, now)) }
                    @if manages { td { @if t.is_active(now) {
                        form.inline method="post" action={ (detail_path(s)) "/tokens/" (t.id) "/revoke" } {
                            (csrf_field(caller))
                            button type="submit" aria-label={ (l.t("Thu hồi khóa", "Revoke token")) " " (t.name) } { (l.t("Thu hồi", "Revoke")) }
                        }
                    } } }
                } } }
            }
            @if tokens.is_empty() { p.muted { (l.t("Chưa có khóa nào.", "No token yet.")) } }
            @if manages {
                form #issue-token method="post" action={ (detail_path(s)) "/tokens" } {
                    (csrf_field(caller))
                    label for="token_name" { (l.t("Tên khóa (hệ thống hoặc nút đại lý dùng khóa)", "Token name (the system or Agent Node that uses it)")) }
                    input #token_name name="name" required maxlength="100";
                    label for="token_days" { (l.t("Hiệu lực (ngày, 1–730)", "Valid for (days, 1–730)")) }
                    input #token_days name="days" type="number" min="1" max="730" value=(TOKEN_DAYS) required;
                    button type="submit" { (l.t("Cấp khóa", "Issue a token")) }
                }
            }
        }
    }
}

fn certificates_section(
    l: Lang,
    caller: &Caller,
    s: &Subsystem,
    certificates: &[SubsystemCertificate],
    manages: bool,
) -> Markup {
    html! {
        section.card aria-labelledby="certificates-h" {
            h2 #certificates-h { (l.t("Chứng thư số (TLS)", "Client certificates (TLS)")) }
            p.muted { (l.t(
                "Cổng chấp nhận hệ thống khi nó kết nối bằng chứng thư số đã đăng ký ở đây (do CA của tỉnh cấp), không cần khóa truy cập.",
                "The gateway accepts the system when it connects with a certificate registered here (issued by the province's CA), without a token.")) }
            table #certificates {
                thead { tr {
                    th scope="col" { (l.t("Dấu vân tay SHA-256", "SHA-256 fingerprint")) } th scope="col" { (l.t("Nhãn", "Label")) }
                    th scope="col" { (l.t("Đăng ký ngày", "Registered")) } th scope="col" { (l.t("Trạng thái", "Status")) }
                    @if manages { th scope="col" { span.skip { (l.t("Thao tác", "Actions")) } } }
                } }
                tbody { @for c in certificates { tr.revoked[c.revoked_at.is_some()] data-fingerprint=(c.fingerprint) {
                    td { code { (c.fingerprint) } } td { (c.label) } td { (day(c.added_at)) }
                    td.state { @match c.revoked_at {
                        Some(at) => { (l.t("Đã thu hồi", "Revoked")) " " (day(at)) },
                        None => (l.t("Hiệu lực", "Active")),
                    } }
                    @if manages { td { @if c.revoked_at.is_none() {
                        form.inline method="post" action={ (detail_path(s)) "/certificates/" (c.fingerprint) "/revoke" } {
                            (csrf_field(caller))
                            button type="submit" aria-label={ (l.t("Thu hồi chứng thư", "Revoke certificate")) " " (c.label) } { (l.t("Thu hồi", "Revoke")) }
                        }
                    } } }
                } } }
            }
            @if certificates.is_empty() { p.muted { (l.t("Chưa có chứng thư số nào.", "No certificate yet.")) } }
            @if manages {
                form #register-certificate method="post" action={ (detail_path(s)) "/certificates" } {
                    (csrf_field(caller))
                    label for="pem" { (l.t("Chứng thư số (PEM, bắt đầu bằng -----BEGIN CERTIFICATE-----)", "Certificate (PEM, starting with -----BEGIN CERTIFICATE-----)")) }
                    textarea #pem name="pem" rows="6" required {}
                    label for="label" { (l.t("Nhãn (máy chủ hoặc nút đại lý cài chứng thư)", "Label (the server or Agent Node it is installed on)")) }
                    input #label name="label" maxlength="200";
                    button type="submit" { (l.t("Đăng ký chứng thư", "Register the certificate")) }
                }
            }
        }
    }
}

/// The subsystem's page; after a form was posted it is shown at the page's own path, so
/// that the language switch and a reload come back to it.
async fn detail_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    outcome: Outcome<'_>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let uri: Uri = format!("{LIST}/{}", super::urlencode(id)).parse().unwrap_or_else(|_| Uri::from_static(LIST));
    let uri = &uri;
    let (kho, subject, ctx) = (&state.kho, &caller.subject, caller.ctx());
    let loaded = async {
        let s = kho.subsystem(subject, &ctx, id).await?;
        let tokens = kho.subsystem_tokens(subject, &ctx, &s.id).await?;
        let certificates = kho.subsystem_certificates(subject, &ctx, &s.id).await?;
        let agency = kho.agency(&s.agency_id).await?;
        Ok::<_, Error>((s, tokens, certificates, agency))
    };
    let (s, tokens, certificates, agency) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, uri.path(), &e),
    };
    let manages = authorize(subject, Action::Update, &Resource::new(ResourceKind::Subsystem).in_agency(&agency.path))
        .is_allowed();
    let content = html! {
        (subnav(l, subject, LIST))
        p { code #xroad-id { (s.xroad_id) } " · " (agency.name) " · " (l.t("đăng ký ngày", "registered")) " " (day(s.created_at)) }
        (alert(outcome.error))
        @if let Some(secret) = outcome.secret {
            div.ok role="status" {
                p { (l.t("Khóa mới đã được cấp. Hãy sao chép ngay và trao cho hệ thống: khóa chỉ hiển thị một lần.",
                         "The new token is below. Copy it now and hand it to the system: it is shown only once.")) }
                code.secret #new-secret { (secret) }
            }
        }
        (tokens_section(l, caller, &s, &tokens, manages))
        (certificates_section(l, caller, &s, &certificates, manages))
    };
    page(caller, uri, &s.name, status, content)
}

/// `/admin/exchange/subsystems/{id}` — one subsystem's tokens and certificates.
pub async fn show(State(state): State<AppState>, caller: Caller, uri: Uri, Path(id): Path<String>) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    detail_page(&state, &caller, &id, Outcome::default(), StatusCode::OK).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    csrf_token: String,
    name: String,
    days: String,
}

/// Issues a token; the page shows its secret this once.
pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let days = match f.days.trim() {
            "" => TOKEN_DAYS,
            d => d.parse().map_err(|_| Error::invalid("days", "must be a whole number of days, 1 to 730"))?,
        };
        state.kho.issue_subsystem_token(&caller.subject, &caller.ctx(), &id, &f.name, days).await
    };
    match result.await {
        Ok((_, secret)) => {
            let outcome = Outcome { secret: Some(&secret), error: None };
            detail_page(&state, &caller, &id, outcome, StatusCode::CREATED).await
        }
        Err(e) => failed(&state, &caller, &id, &e).await,
    }
}

/// Revokes one of the subsystem's tokens.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, token)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        let s = state.kho.subsystem(&caller.subject, &caller.ctx(), &id).await?;
        let owned = state.kho.subsystem_tokens(&caller.subject, &caller.ctx(), &s.id).await?;
        if !owned.iter().any(|t| t.id == token) {
            return Err(Error::not_found(format!("API token {token} of {}", s.xroad_id)));
        }
        state.kho.revoke_token(&caller.subject, &caller.ctx(), &token).await
    };
    match result.await {
        Ok(_) => Redirect::to(&format!("{LIST}/{id}")).into_response(),
        Err(e) => failed(&state, &caller, &id, &e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CertificateForm {
    csrf_token: String,
    pem: String,
    label: String,
}

/// Registers a certificate pasted as PEM.
pub async fn register_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<CertificateForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.register_certificate(&caller.subject, &caller.ctx(), &id, f.pem.as_bytes(), &f.label).await
    };
    match result.await {
        Ok(_) => Redirect::to(&format!("{LIST}/{id}")).into_response(),
        Err(e) => failed(&state, &caller, &id, &e).await,
    }
}

/// Revokes a certificate.
pub async fn revoke_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, fingerprint)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.revoke_certificate(&caller.subject, &caller.ctx(), &id, &fingerprint).await
    };
    match result.await {
        Ok(_) => Redirect::to(&format!("{LIST}/{id}")).into_response(),
        Err(e) => failed(&state, &caller, &id, &e).await,
    }
}

/// The subsystem's page with the problem above its tables (the page itself when it
/// cannot be shown).
async fn failed(state: &AppState, caller: &Caller, id: &str, e: &Error) -> Response {
    let outcome = Outcome { secret: None, error: Some(&e.message) };
    detail_page(state, caller, id, outcome, status_of(e)).await
}
