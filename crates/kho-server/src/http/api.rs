//! The native JSON API under `/api/v1`. Handlers are thin: they read the request
//! into domain types, call one service function and shape the answer.

use crate::http::caller::{set_cookie, Caller, SESSION_COOKIE};
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::{ChainReport, UserPatch};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use kho_core::agency::{Agency, NewAgency};
use kho_core::audit::{AuditEntry, Outcome};
use kho_core::identity::{ApiToken, NewSubsystem, NewUser, Role, Subsystem, SubsystemCertificate, TokenOwner, User};
use kho_core::{time, Error};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Serialize, utoipa::ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub items: Vec<User>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// At most this many (1–500, default 50).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub user: User,
    /// Send this in the `X-CSRF-Token` header with every cookie-authenticated write.
    pub csrf_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `anonymous`, `user:<name>`, `subsystem:<id>`.
    pub actor: String,
    pub roles: Vec<Role>,
    pub agency_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What the token is for.
    pub name: String,
    /// Lifetime in days (1–730, default 90).
    #[serde(default = "default_token_days")]
    pub expires_in_days: i64,
    /// Create the token for this subsystem instead of for yourself.
    #[serde(default)]
    pub subsystem_id: Option<String>,
}

fn default_token_days() -> i64 {
    90
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The secret. It is shown only now; Kho keeps only its hash.
    pub secret: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenListParams {
    /// Every token (administrators and auditors only).
    #[serde(default)]
    pub all: bool,
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Exact actor, e.g. `user:admin`.
    pub actor: Option<String>,
    /// Action or dotted prefix, e.g. `user` or `user.create`.
    pub action: Option<String>,
    pub target: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: Option<String>,
    /// RFC 3339 start (inclusive).
    pub from: Option<String>,
    /// RFC 3339 end (exclusive).
    pub until: Option<String>,
    /// Only entries older than this seq (for the next page).
    pub before: Option<i64>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

impl AuditParams {
    /// Reads the filter fields into a store query.
    pub fn to_query(&self) -> Result<kho_store::AuditQuery, Error> {
        let when = |field: &str, v: &Option<String>| -> Result<_, Error> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    time::parse(s).or_else(|| time::parse(&format!("{s}T00:00:00Z"))).ok_or_else(|| {
                        Error::invalid(field, format!("{s:?} is not a date; use 2026-01-31 or 2026-01-31T08:00:00Z"))
                    })
                })
                .transpose()
        };
        let text = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let outcome = match text(&self.outcome) {
            Some(o) => {
                Some(Outcome::parse(&o).ok_or_else(|| Error::invalid("outcome", "use success, denied or failure"))?)
            }
            None => None,
        };
        Ok(kho_store::AuditQuery {
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            outcome,
            from: when("from", &self.from)?,
            until: when("until", &self.until)?,
            before_seq: self.before,
            limit: self.limit.unwrap_or(100),
        })
    }
}

/// Log in with a username and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    caller: Caller,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let (sid, session, user) = state.kho.login(&req.username, &req.password, addr.ip(), caller.request_id).await?;
    let cookie = set_cookie(&state, SESSION_COOKIE, &sid, state.kho.settings.session_hours * 3600);
    Ok(([(header::SET_COOKIE, cookie)], Json(LoginResponse { user, csrf_token: session.csrf_token })))
}

/// Log out: ends the session.
#[utoipa::path(delete, path = "/api/v1/session", tag = "identity", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    if let Some((sid, _)) = &caller.session {
        state.kho.logout(sid, &caller.subject, &caller.ctx()).await?;
    }
    Ok(([(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0))], StatusCode::NO_CONTENT))
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", responses((status = 200, body = Me)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        actor: caller.subject.actor(),
        roles: caller.subject.roles.clone(),
        agency_id: caller.subject.agency_id.clone(),
    })
}

/// The agency tree, parents before children. Public.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "organisation", responses((status = 200, body = List<Agency>)))]
pub async fn list_agencies(State(state): State<AppState>) -> ApiResult<Json<List<Agency>>> {
    Ok(Json(List { items: state.kho.list_agencies().await? }))
}

/// One agency. Public.
#[utoipa::path(get, path = "/api/v1/agencies/{id}", tag = "organisation",
    responses((status = 200, body = Agency), (status = 404, body = ErrorBody)))]
pub async fn get_agency(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Agency>> {
    Ok(Json(state.kho.agency(&id).await?))
}

/// Create an agency (administrators).
#[utoipa::path(post, path = "/api/v1/agencies", tag = "organisation", request_body = NewAgency,
    responses((status = 201, body = Agency), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_agency(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewAgency>,
) -> ApiResult<(StatusCode, Json<Agency>)> {
    Ok((StatusCode::CREATED, Json(state.kho.create_agency(&caller.subject, &caller.ctx(), new).await?)))
}

/// Users the caller may see.
#[utoipa::path(get, path = "/api/v1/users", tag = "identity", params(PageParams),
    responses((status = 200, body = UserPage), (status = 401, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<UserPage>> {
    let (limit, offset) = (p.limit.unwrap_or(50).clamp(1, 500), p.offset.unwrap_or(0).max(0));
    let page = state.kho.list_users(&caller.subject, &caller.ctx(), limit, offset).await?;
    Ok(Json(UserPage { items: page.items, total: page.total, limit, offset }))
}

/// Create a user (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((StatusCode::CREATED, Json(state.kho.create_user(&caller.subject, &caller.ctx(), new).await?)))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "identity",
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(state.kho.user(&caller.subject, &caller.ctx(), &id).await?))
}

/// Change a user: own display name and password, or (administrators) roles and disabling.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "identity", request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.kho.update_user(&caller.subject, &caller.ctx(), &id, patch).await?))
}

/// Subsystems (machine clients) the caller may see.
#[utoipa::path(get, path = "/api/v1/subsystems", tag = "identity", responses((status = 200, body = List<Subsystem>)))]
pub async fn list_subsystems(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<List<Subsystem>>> {
    Ok(Json(List { items: state.kho.list_subsystems(&caller.subject).await? }))
}

/// Register a subsystem (stewards of its agency, administrators).
#[utoipa::path(post, path = "/api/v1/subsystems", tag = "identity", request_body = NewSubsystem,
    responses((status = 201, body = Subsystem), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_subsystem(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewSubsystem>,
) -> ApiResult<(StatusCode, Json<Subsystem>)> {
    Ok((StatusCode::CREATED, Json(state.kho.create_subsystem(&caller.subject, &caller.ctx(), new).await?)))
}

/// One subsystem, by its id or its X-Road identifier (`VN%2FGOV%2F…`, the slashes encoded).
#[utoipa::path(get, path = "/api/v1/subsystems/{id}", tag = "identity",
    responses((status = 200, body = Subsystem), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_subsystem(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Subsystem>> {
    Ok(Json(state.kho.subsystem(&caller.subject, &caller.ctx(), &id).await?))
}

/// A subsystem's API tokens, revoked and expired ones included (never their secrets).
#[utoipa::path(get, path = "/api/v1/subsystems/{id}/tokens", tag = "identity",
    responses((status = 200, body = List<ApiToken>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn subsystem_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<List<ApiToken>>> {
    Ok(Json(List { items: state.kho.subsystem_tokens(&caller.subject, &caller.ctx(), &id).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubsystemToken {
    /// What the token is for, e.g. the system or Agent Node that will use it.
    pub name: String,
    /// Lifetime in days (1–730, default 365).
    #[serde(default = "default_subsystem_token_days")]
    pub expires_in_days: i64,
}

fn default_subsystem_token_days() -> i64 {
    365
}

/// Issue an API token to a subsystem (stewards of its agency); the secret is in this
/// answer only.
#[utoipa::path(post, path = "/api/v1/subsystems/{id}/tokens", tag = "identity", request_body = NewSubsystemToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue_subsystem_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewSubsystemToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (token, secret) =
        state.kho.issue_subsystem_token(&caller.subject, &caller.ctx(), &id, &req.name, req.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// The client certificates registered for a subsystem, revoked ones included.
#[utoipa::path(get, path = "/api/v1/subsystems/{id}/certificates", tag = "identity",
    responses((status = 200, body = List<SubsystemCertificate>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn subsystem_certificates(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<List<SubsystemCertificate>>> {
    Ok(Json(List { items: state.kho.subsystem_certificates(&caller.subject, &caller.ctx(), &id).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCertificate {
    /// The certificate, PEM (`-----BEGIN CERTIFICATE-----` …).
    pub pem: String,
    /// What it is for, e.g. the server or Agent Node it is installed on.
    #[serde(default)]
    pub label: String,
}

/// Register a client TLS certificate for a subsystem (stewards of its agency): the
/// gateway then accepts the subsystem when it presents it, without a token.
#[utoipa::path(post, path = "/api/v1/subsystems/{id}/certificates", tag = "identity", request_body = NewCertificate,
    responses((status = 201, body = SubsystemCertificate), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn register_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewCertificate>,
) -> ApiResult<(StatusCode, Json<SubsystemCertificate>)> {
    let added =
        state.kho.register_certificate(&caller.subject, &caller.ctx(), &id, new.pem.as_bytes(), &new.label).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Revoke a subsystem's certificate: the gateway refuses it from its next call.
#[utoipa::path(delete, path = "/api/v1/subsystems/{id}/certificates/{fingerprint}", tag = "identity",
    responses((status = 200, body = SubsystemCertificate), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn revoke_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, fingerprint)): Path<(String, String)>,
) -> ApiResult<Json<SubsystemCertificate>> {
    Ok(Json(state.kho.revoke_certificate(&caller.subject, &caller.ctx(), &id, &fingerprint).await?))
}

/// The caller's API tokens (or, with `all`, every token).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity", params(TokenListParams),
    responses((status = 200, body = List<ApiToken>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<TokenListParams>,
) -> ApiResult<Json<List<ApiToken>>> {
    Ok(Json(List { items: state.kho.list_tokens(&caller.subject, p.all).await? }))
}

/// Create an API token; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", request_body = NewTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let owner = match (req.subsystem_id, caller.subject.user_id()) {
        (Some(s), _) => TokenOwner::Subsystem(s),
        (None, Some(u)) => TokenOwner::User(u.to_string()),
        (None, None) => return Err(Error::unauthenticated("log in to create an API token").into()),
    };
    let (token, secret) =
        state.kho.create_token(&caller.subject, &caller.ctx(), owner, &req.name, req.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revoke an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "identity",
    responses((status = 200, body = ApiToken), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(state.kho.revoke_token(&caller.subject, &caller.ctx(), &id).await?))
}

/// The audit log, newest first (auditors, administrators). Reading it is recorded.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let query = p.to_query()?;
    let limit = query.limit.clamp(1, 500);
    let items = state.kho.list_audit(&caller.subject, &caller.ctx(), query).await?;
    let next_before = (items.len() as i64 == limit).then(|| items.last().map(|e| e.seq)).flatten();
    Ok(Json(AuditPage { items, next_before }))
}

/// Walk the audit chain and report the first broken link.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = ChainReport), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ChainReport>> {
    Ok(Json(state.kho.verify_audit(&caller.subject, &caller.ctx()).await?))
}
