//! The data quality part of the native API (chất lượng dữ liệu): a table's rules, runs
//! of its checks with results and scores, a resource's quality, and the report per
//! agency.

use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::quality::{AgencyQuality, ResourceQuality};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kho_quality::result::QualityRun;
use kho_store::StoredRules;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// The rules document, YAML or JSON (see the README's "Quality rules").
    pub rules: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RulesList {
    pub items: Vec<StoredRules>,
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The version to check; the newest when absent.
    pub version: Option<i64>,
    /// Rules to try instead of the stored ones; such a run is not recorded.
    pub rules: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Runs {
    pub items: Vec<QualityRun>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgencyReport {
    pub items: Vec<AgencyQuality>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RunParams {
    /// At most this many runs, newest first (1–500, default 50).
    pub limit: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AgencyParams {
    /// One agency, by code; all when absent.
    pub agency: Option<String>,
}

/// The rules of each table of a resource.
#[utoipa::path(get, path = "/api/v1/resources/{key}/quality/rules", tag = "quality",
    responses((status = 200, body = RulesList), (status = 404, body = ErrorBody)))]
pub async fn rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<RulesList>> {
    Ok(Json(RulesList { items: state.kho.quality_rules(&caller.subject, &caller.ctx(), &key).await? }))
}

/// Set a table's rules; they are checked against its newest version first.
#[utoipa::path(put, path = "/api/v1/resources/{key}/tables/{table}/quality/rules", tag = "quality",
    request_body = RulesBody,
    responses((status = 200, body = RulesBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiJson(body): ApiJson<RulesBody>,
) -> ApiResult<Json<RulesBody>> {
    state.kho.set_quality_rules(&caller.subject, &caller.ctx(), &key, &table, &body.rules).await?;
    Ok(Json(body))
}

/// Run a table's checks on a version (the newest by default). With `rules`, those are
/// tried and the run is not recorded; otherwise the stored rules run and the run is
/// kept in the table's history.
#[utoipa::path(post, path = "/api/v1/resources/{key}/tables/{table}/quality/runs", tag = "quality",
    request_body = RunRequest,
    responses((status = 201, body = QualityRun), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiJson(body): ApiJson<RunRequest>,
) -> ApiResult<(StatusCode, Json<QualityRun>)> {
    let run = state
        .kho
        .run_quality(&caller.subject, &caller.ctx(), &key, &table, body.version, body.rules.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// A table's recorded runs, newest first.
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/quality/runs", tag = "quality", params(RunParams),
    responses((status = 200, body = Runs), (status = 404, body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<RunParams>,
) -> ApiResult<Json<Runs>> {
    let items = state.kho.quality_runs(&caller.subject, &caller.ctx(), &key, &table, p.limit.unwrap_or(50)).await?;
    Ok(Json(Runs { items }))
}

/// A resource's quality: each table's rules and newest run, and the six scores
/// averaged over its tables. Open data's quality is public.
#[utoipa::path(get, path = "/api/v1/resources/{key}/quality", tag = "quality",
    responses((status = 200, body = ResourceQuality), (status = 404, body = ErrorBody)))]
pub async fn resource(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<ResourceQuality>> {
    Ok(Json(state.kho.resource_quality(&caller.subject, &caller.ctx(), &key).await?))
}

/// The quality report per agency: each resource's scores, trend and failing checks.
#[utoipa::path(get, path = "/api/v1/quality/agencies", tag = "quality", params(AgencyParams),
    responses((status = 200, body = AgencyReport)))]
pub async fn agencies(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<AgencyParams>,
) -> ApiResult<Json<AgencyReport>> {
    let agency = p.agency.as_deref().filter(|a| !a.trim().is_empty());
    Ok(Json(AgencyReport { items: state.kho.agency_quality(&caller.subject, agency).await? }))
}
