//! The catalogue part of the native API: data resources under `/api/v1/resources`.

use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::ResourceFilter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kho_catalog::{parse_scope, DataResource, ResourceDraft, Status};
use kho_core::Result;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct ResourceParams {
    /// Words in the title, slug or keywords; diacritics and case are ignored.
    pub q: Option<String>,
    /// Only resources of this agency (id) and the agencies under it.
    pub agency: Option<String>,
    /// `draft`, `published` or `retired`.
    pub status: Option<String>,
    /// `open`, `shared`, `specialised` or `private`.
    pub scope: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl ResourceParams {
    pub fn to_filter(&self) -> Result<ResourceFilter> {
        let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Ok(ResourceFilter {
            agency_id: non_empty(&self.agency),
            status: non_empty(&self.status).map(|s| Status::parse("status", &s)).transpose()?,
            scope: non_empty(&self.scope).map(|s| parse_scope("scope", &s)).transpose()?,
            text: non_empty(&self.q),
            limit: self.limit.unwrap_or(50),
            offset: self.offset.unwrap_or(0),
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResourcePage {
    pub items: Vec<DataResource>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: Status,
}

/// Data resources the caller may see, newest change first.
#[utoipa::path(get, path = "/api/v1/resources", tag = "catalogue", params(ResourceParams),
    responses((status = 200, body = ResourcePage), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<ResourceParams>,
) -> ApiResult<Json<ResourcePage>> {
    let filter = p.to_filter()?;
    let (limit, offset) = (filter.limit.clamp(1, 500), filter.offset.max(0));
    let page = state.kho.list_resources(&caller.subject, filter).await?;
    Ok(Json(ResourcePage { items: page.items, total: page.total, limit, offset }))
}

/// Register a data resource (a draft) for an agency the caller stewards.
#[utoipa::path(post, path = "/api/v1/resources", tag = "catalogue", request_body = ResourceDraft,
    responses((status = 201, body = DataResource), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<ResourceDraft>,
) -> ApiResult<(StatusCode, Json<DataResource>)> {
    Ok((StatusCode::CREATED, Json(state.kho.create_resource(&caller.subject, &caller.ctx(), draft).await?)))
}

/// One data resource, by id or slug.
#[utoipa::path(get, path = "/api/v1/resources/{key}", tag = "catalogue",
    responses((status = 200, body = DataResource), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<DataResource>> {
    Ok(Json(state.kho.resource(&caller.subject, &caller.ctx(), &key).await?))
}

/// Replace a data resource's description (the slug stays unless a new one is given).
#[utoipa::path(put, path = "/api/v1/resources/{key}", tag = "catalogue", request_body = ResourceDraft,
    responses((status = 200, body = DataResource), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiJson(draft): ApiJson<ResourceDraft>,
) -> ApiResult<Json<DataResource>> {
    Ok(Json(state.kho.update_resource(&caller.subject, &caller.ctx(), &key, draft).await?))
}

/// Publish, retire or return a resource to draft.
#[utoipa::path(post, path = "/api/v1/resources/{key}/status", tag = "catalogue", request_body = StatusChange,
    responses((status = 200, body = DataResource), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiJson(change): ApiJson<StatusChange>,
) -> ApiResult<Json<DataResource>> {
    Ok(Json(state.kho.set_resource_status(&caller.subject, &caller.ctx(), &key, change.status).await?))
}

/// Delete a draft resource.
#[utoipa::path(delete, path = "/api/v1/resources/{key}", tag = "catalogue",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<StatusCode> {
    state.kho.delete_resource(&caller.subject, &caller.ctx(), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
