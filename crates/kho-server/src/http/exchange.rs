//! The sharing platform (nền tảng chia sẻ) in the native API, under `/api/v1/exchange`:
//! the service registry, agreements and decisions on them, the message log and a
//! data subject's access report (auditors), per-service health, and verification of
//! the signed log. The gateway itself answers at `/r1/…` (see `crate::gateway`).

use crate::gateway::archiver::ArchiveSchedule;
use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::exchange::log_period;
use crate::services::ArchiveSearch;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kho_core::identity::SubsystemId;
use kho_exchange::msglog::{MessageArchive, MessageRecord, VerifyReport};
use kho_exchange::ServiceHealth;
use kho_exchange::{Agreement, AgreementDecision, AgreementTerms, NewService, Service, ServiceChange};
use kho_store::MessageQuery;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Services {
    pub items: Vec<Service>,
}

/// The services registered with the gateway (anyone signed in).
#[utoipa::path(get, path = "/api/v1/exchange/services", tag = "exchange",
    responses((status = 200, body = Services), (status = 401, body = ErrorBody)))]
pub async fn services(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Services>> {
    Ok(Json(Services { items: state.kho.services(&caller.subject).await? }))
}

/// Register a service of a provider subsystem (its agency's stewards).
#[utoipa::path(post, path = "/api/v1/exchange/services", tag = "exchange", request_body = NewService,
    responses((status = 201, body = Service), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewService>,
) -> ApiResult<(StatusCode, Json<Service>)> {
    Ok((StatusCode::CREATED, Json(state.kho.register_service(&caller.subject, &caller.ctx(), new).await?)))
}

/// One service, by its id or `PROVIDER_SUBSYSTEM/CODE` (the slashes encoded as `%2F`).
#[utoipa::path(get, path = "/api/v1/exchange/services/{id}", tag = "exchange",
    responses((status = 200, body = Service), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Service>> {
    Ok(Json(state.kho.service(&caller.subject, &id).await?))
}

/// Change a service's settings (its provider's stewards): what the body names is
/// replaced, the rest stays; the gateway uses them from its next call.
#[utoipa::path(patch, path = "/api/v1/exchange/services/{id}", tag = "exchange", request_body = ServiceChange,
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<ServiceChange>,
) -> ApiResult<Json<Service>> {
    Ok(Json(state.kho.update_service(&caller.subject, &caller.ctx(), &id, &change).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Suspend {
    /// What the consumers are told: why, and until when.
    pub notice: String,
}

/// Suspend a service (tạm ngừng): the gateway answers its calls with 503
/// `Server.ServerProxy.ServiceDisabled` and the notice until it is resumed.
#[utoipa::path(post, path = "/api/v1/exchange/services/{id}/disable", tag = "exchange", request_body = Suspend,
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(s): ApiJson<Suspend>,
) -> ApiResult<Json<Service>> {
    Ok(Json(state.kho.disable_service(&caller.subject, &caller.ctx(), &id, &s.notice).await?))
}

/// Resume a suspended service.
#[utoipa::path(post, path = "/api/v1/exchange/services/{id}/enable", tag = "exchange",
    responses((status = 200, body = Service), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn enable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Service>> {
    Ok(Json(state.kho.enable_service(&caller.subject, &caller.ctx(), &id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Agreements {
    pub items: Vec<Agreement>,
}

/// Agreements of the subsystems the caller manages (all, for auditors).
#[utoipa::path(get, path = "/api/v1/exchange/agreements", tag = "exchange",
    responses((status = 200, body = Agreements), (status = 401, body = ErrorBody)))]
pub async fn agreements(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Agreements>> {
    Ok(Json(Agreements { items: state.kho.agreements(&caller.subject).await? }))
}

/// A consumer's request for access.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AgreementRequest {
    /// The consumer subsystem, `INSTANCE/CLASS/MEMBER/SUBSYSTEM`.
    #[schema(value_type = String)]
    pub consumer: SubsystemId,
    /// The service, `PROVIDER_SUBSYSTEM/CODE`.
    pub service: String,
    #[serde(flatten)]
    pub terms: AgreementTerms,
    /// Approve at once (the caller must manage the provider too).
    #[serde(default)]
    pub approve: bool,
}

/// Request access to a service (the consumer's stewards); it waits for the provider.
#[utoipa::path(post, path = "/api/v1/exchange/agreements", tag = "exchange", request_body = AgreementRequest,
    responses((status = 201, body = Agreement), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<AgreementRequest>,
) -> ApiResult<(StatusCode, Json<Agreement>)> {
    let a = state
        .kho
        .request_agreement(&caller.subject, &caller.ctx(), &r.consumer, &r.service, &r.terms, r.approve)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Approve (possibly narrowing the terms), refuse or revoke an agreement (the
/// provider's stewards).
#[utoipa::path(post, path = "/api/v1/exchange/agreements/{id}/decision", tag = "exchange", request_body = AgreementDecision,
    responses((status = 200, body = Agreement), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(decision): ApiJson<AgreementDecision>,
) -> ApiResult<Json<Agreement>> {
    Ok(Json(state.kho.decide_agreement(&caller.subject, &caller.ctx(), &id, &decision).await?))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct MessageParams {
    /// The consumer subsystem.
    pub client: Option<String>,
    /// The service, `PROVIDER_SUBSYSTEM/CODE`.
    pub service: Option<String>,
    /// An `X-Road-Id`.
    pub message_id: Option<String>,
    /// Requests received from this day (`YYYY-MM-DD`, UTC) or instant (RFC 3339) on.
    pub from: Option<String>,
    /// Requests received up to this day (`YYYY-MM-DD`, UTC, the whole day) or before
    /// this instant (RFC 3339).
    pub until: Option<String>,
    /// Only records older than this seq (the `next_before` of the previous page).
    pub before: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Messages {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<MessageRecord>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
    /// The records up to this seq were moved out of the store into archive files
    /// (`GET /api/v1/exchange/archives`) and are not in these lists; 0 when none were.
    pub archived_through: i64,
}

async fn page(state: &AppState, items: Vec<MessageRecord>, limit: i64) -> ApiResult<Json<Messages>> {
    let next_before = (items.len() as i64 == limit).then(|| items.last().map(|r| r.seq)).flatten();
    let archived_through = state.kho.archived_through().await?.seq;
    Ok(Json(Messages { items, next_before, archived_through }))
}

/// Message-log records, newest first (auditors and administrators; the reading is audited).
#[utoipa::path(get, path = "/api/v1/exchange/messages", tag = "exchange", params(MessageParams),
    responses((status = 200, body = Messages), (status = 403, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<MessageParams>,
) -> ApiResult<Json<Messages>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let (from, until) = log_period(p.from.as_deref().unwrap_or(""), p.until.as_deref().unwrap_or(""))?;
    let query = MessageQuery {
        client: p.client.filter(|c| !c.is_empty()),
        service: p.service.filter(|s| !s.is_empty()),
        message_id: p.message_id.filter(|m| !m.is_empty()),
        from,
        until,
        before_seq: p.before,
        limit,
        ..Default::default()
    };
    page(&state, state.kho.messages(&caller.subject, &caller.ctx(), &query).await?, limit).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccessParams {
    /// The data subject's identifier, e.g. a citizen ID number.
    pub subject: String,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// A data subject's access report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessReport {
    /// The exchanges that served the person's records, newest first, from the store
    /// and the archives searched.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<MessageRecord>,
    /// The records up to this seq were moved out of the store into archive files; 0
    /// when none were.
    pub archived_through: i64,
    /// Each archive of the log, newest first: searched (its file where its row names it,
    /// with the SHA-256 the row records), or why not.
    pub archives: Vec<ArchiveSearch>,
}

/// Who was served records of this data subject, when, for which purpose and under
/// which agreement, over the store and the archive files the node holds (auditors; the
/// lookup is audited).
#[utoipa::path(get, path = "/api/v1/exchange/access-report", tag = "exchange", params(AccessParams),
    responses((status = 200, body = AccessReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn access_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AccessParams>,
) -> ApiResult<Json<AccessReport>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let report = state.kho.access_report(&caller.subject, &caller.ctx(), &p.subject, limit, Vec::new()).await?;
    let archived_through = report.archives.first().map_or(0, |a| a.end);
    Ok(Json(AccessReport { items: report.records, archived_through, archives: report.archives }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub items: Vec<ServiceHealth>,
}

/// Each service's health, counted from the message log (every exchange logged, also
/// before the gateway last started): last success and failure, counts, duration
/// min/avg/max.
#[utoipa::path(get, path = "/api/v1/exchange/health", tag = "exchange",
    responses((status = 200, body = Health), (status = 401, body = ErrorBody)))]
pub async fn health(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Health>> {
    Ok(Json(Health { items: state.kho.service_health(&caller.subject).await? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Archives {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<MessageArchive>,
    /// When and where the node archives by itself (`archive_dir` set); absent when only
    /// `kho audit archive --messages` archives.
    pub schedule: Option<ArchiveSchedule>,
}

/// The archives of the message log, oldest first: for each, the records it holds
/// (after `start`, through `end`, where a signed checkpoint stands), when their
/// requests came in, the file written and its SHA-256; and the node's daily archive,
/// when it makes one.
#[utoipa::path(get, path = "/api/v1/exchange/archives", tag = "exchange",
    responses((status = 200, body = Archives), (status = 403, body = ErrorBody)))]
pub async fn archives(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Archives>> {
    let items = state.kho.message_archives(&caller.subject, &caller.ctx()).await?;
    Ok(Json(Archives { items, schedule: state.gateway.archiver.as_ref().map(|a| a.schedule()) }))
}

/// Verify the message log's chain and signed checkpoints (auditors).
#[utoipa::path(get, path = "/api/v1/exchange/messages/verify", tag = "exchange",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn verify(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<VerifyReport>> {
    Ok(Json(state.kho.verify_messages_as(&caller.subject, &caller.ctx()).await?))
}
