//! Profiling and cleaning over the native API (hồ sơ dữ liệu, làm sạch): make or read a
//! table version's profile with its suggested checks and bindings, and clean a table
//! with the standardisers into a new version.

use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::quality::{CleaningOutcome, TableProfileReport};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use kho_core::Error;
use kho_quality::clean::Transform;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The routes of this part, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/resources/{key}/tables/{table}/quality/profile", post(make_profile).get(profile))
        .route("/resources/{key}/tables/{table}/quality/clean", post(clean))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ProfileParams {
    /// The version to profile (POST) or whose kept profile to read (GET); the newest
    /// (profiled) when absent.
    pub version: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CleanRequest {
    /// Column → kind of value: text, name, phone, citizen-id, tax-code, date, amount or
    /// address, e.g. `{"ho_ten": "name", "so_dien_thoai": "phone"}`.
    pub transforms: BTreeMap<String, String>,
    /// The version to clean; refused (409) when the newest version is another one.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Profile a table version (the newest by default): per column its type, missing and
/// distinct values, extremes, lengths, top values, patterns and legacy encodings, with
/// suggested checks (a rules document) and dictionary bindings. The profile is kept.
#[utoipa::path(post, path = "/api/v1/resources/{key}/tables/{table}/quality/profile", tag = "quality",
    params(ProfileParams),
    responses((status = 201, body = TableProfileReport), (status = 404, body = ErrorBody)))]
pub async fn make_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<ProfileParams>,
) -> ApiResult<(StatusCode, Json<TableProfileReport>)> {
    let report = state.kho.profile_table(&caller.subject, &caller.ctx(), &key, &table, p.version).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// A table version's kept profile (the newest profiled by default).
#[utoipa::path(get, path = "/api/v1/resources/{key}/tables/{table}/quality/profile", tag = "quality",
    params(ProfileParams),
    responses((status = 200, body = TableProfileReport), (status = 404, body = ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<ProfileParams>,
) -> ApiResult<Json<TableProfileReport>> {
    match state.kho.table_profile(&caller.subject, &caller.ctx(), &key, &table, p.version).await? {
        Some(report) => Ok(Json(report)),
        None => {
            let which = p.version.map_or("any version".to_string(), |v| format!("version {v}"));
            Err(Error::not_found(format!(
                "a profile of {which} of table {table}; make one with POST /api/v1/resources/{key}/tables/{table}/quality/profile"
            ))
            .into())
        }
    }
}

/// Clean a table's newest version with the standardisers into a new version: values
/// changed to their standard form, invalid ones kept as they were; returns the change
/// report, the scores before and the run of the checks on the new version.
#[utoipa::path(post, path = "/api/v1/resources/{key}/tables/{table}/quality/clean", tag = "quality",
    request_body = CleanRequest,
    responses((status = 201, body = CleaningOutcome), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn clean(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table)): Path<(String, String)>,
    ApiJson(body): ApiJson<CleanRequest>,
) -> ApiResult<(StatusCode, Json<CleaningOutcome>)> {
    let transforms = body
        .transforms
        .iter()
        .map(|(column, kind)| {
            Transform::parse(&format!("{column}={kind}")).map_err(|m| Error::invalid("transforms", m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome =
        state.kho.clean_table(&caller.subject, &caller.ctx(), &key, &table, &transforms, body.version).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}
