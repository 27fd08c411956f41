//! The data dictionary (từ điển dữ liệu) in the native API, under
//! `/api/v1/dictionary/elements`: anyone reads; the owning agency's stewards write.

use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::{DictionaryFormat, ElementImport};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use kho_catalog::dictionary::{DataElement, ElementDraft, ElementVersion, RegistrationStatus};
use kho_store::Page;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct ElementParams {
    /// Words in the name, identifier or synonyms; diacritics and case are ignored.
    pub q: Option<String>,
    /// `draft`, `candidate`, `standard`, `superseded` or `retired`.
    pub status: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Elements {
    pub items: Vec<DataElement>,
    pub total: i64,
}

impl From<Page<DataElement>> for Elements {
    fn from(p: Page<DataElement>) -> Self {
        Self { items: p.items, total: p.total }
    }
}

/// The data dictionary's elements, by name.
#[utoipa::path(get, path = "/api/v1/dictionary/elements", tag = "dictionary", params(ElementParams),
    responses((status = 200, body = Elements), (status = 422, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, ApiQuery(p): ApiQuery<ElementParams>) -> ApiResult<Json<Elements>> {
    let status = p.status.filter(|s| !s.trim().is_empty()).map(|s| RegistrationStatus::parse(&s)).transpose()?;
    let q = p.q.filter(|q| !q.trim().is_empty());
    Ok(Json(state.kho.data_elements(q, status, p.limit.unwrap_or(50), p.offset.unwrap_or(0)).await?.into()))
}

/// Register a data element (as a draft).
#[utoipa::path(post, path = "/api/v1/dictionary/elements", tag = "dictionary", request_body = ElementDraft,
    responses((status = 201, body = DataElement), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<ElementDraft>,
) -> ApiResult<(StatusCode, Json<DataElement>)> {
    Ok((StatusCode::CREATED, Json(state.kho.create_data_element(&caller.subject, &caller.ctx(), draft).await?)))
}

/// One element, by id or identifier.
#[utoipa::path(get, path = "/api/v1/dictionary/elements/{key}", tag = "dictionary",
    responses((status = 200, body = DataElement), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Json<DataElement>> {
    Ok(Json(state.kho.data_element(&key).await?))
}

/// Describe an element anew (its next version).
#[utoipa::path(put, path = "/api/v1/dictionary/elements/{key}", tag = "dictionary", request_body = ElementDraft,
    responses((status = 200, body = DataElement), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiJson(draft): ApiJson<ElementDraft>,
) -> ApiResult<Json<DataElement>> {
    Ok(Json(state.kho.update_data_element(&caller.subject, &caller.ctx(), &key, draft).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElementStatusChange {
    pub status: RegistrationStatus,
}

/// Move an element through its lifecycle: draft → candidate → standard → superseded → retired.
#[utoipa::path(post, path = "/api/v1/dictionary/elements/{key}/status", tag = "dictionary",
    request_body = ElementStatusChange,
    responses((status = 200, body = DataElement), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiJson(change): ApiJson<ElementStatusChange>,
) -> ApiResult<Json<DataElement>> {
    Ok(Json(state.kho.set_data_element_status(&caller.subject, &caller.ctx(), &key, change.status).await?))
}

/// Every version of an element, newest first.
#[utoipa::path(get, path = "/api/v1/dictionary/elements/{key}/history", tag = "dictionary",
    responses((status = 200, body = Vec<ElementVersion>), (status = 404, body = ErrorBody)))]
pub async fn history(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<Json<Vec<ElementVersion>>> {
    Ok(Json(state.kho.data_element_history(&key).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FormatParam {
    /// `csv` or `json`.
    pub format: Option<String>,
}

/// The whole dictionary as CSV or JSON (what import reads).
#[utoipa::path(get, path = "/api/v1/dictionary/export", tag = "dictionary", params(FormatParam),
    responses((status = 200, description = "CSV or JSON"), (status = 422, body = ErrorBody)))]
pub async fn export(State(state): State<AppState>, ApiQuery(p): ApiQuery<FormatParam>) -> ApiResult<impl IntoResponse> {
    let format = DictionaryFormat::parse(p.format.as_deref().unwrap_or("csv"))?;
    let body = state.kho.export_data_elements(format).await?;
    let (content_type, name) = match format {
        DictionaryFormat::Csv => ("text/csv; charset=utf-8", "tu-dien-du-lieu.csv"),
        DictionaryFormat::Json => ("application/json", "tu-dien-du-lieu.json"),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body))
}

/// Create or update elements from a CSV or JSON file (the body); every row is checked
/// first, and one error changes nothing.
#[utoipa::path(post, path = "/api/v1/dictionary/import", tag = "dictionary", params(FormatParam),
    request_body(content = String, description = "the file", content_type = "text/csv"),
    responses((status = 200, body = ElementImport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<FormatParam>,
    body: Bytes,
) -> ApiResult<Json<ElementImport>> {
    let format = DictionaryFormat::parse(p.format.as_deref().unwrap_or("csv"))?;
    Ok(Json(state.kho.import_data_elements(&caller.subject, &caller.ctx(), format, &body).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindColumn {
    pub table: String,
    pub column: String,
    /// The element's identifier (or id).
    pub element: String,
}

/// The columns of a resource's tables bound to data elements, with each one's newest
/// conformance report.
#[utoipa::path(get, path = "/api/v1/resources/{key}/bindings", tag = "dictionary",
    responses((status = 200, body = Vec<crate::services::BoundColumn>), (status = 404, body = ErrorBody)))]
pub async fn bindings(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<crate::services::BoundColumn>>> {
    Ok(Json(state.kho.bound_columns(&caller.subject, &caller.ctx(), &key).await?))
}

/// Bind a column to a data element; the table's newest version is checked at once.
#[utoipa::path(post, path = "/api/v1/resources/{key}/bindings", tag = "dictionary", request_body = BindColumn,
    responses((status = 201, body = kho_catalog::conformance::ColumnConformance), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bind(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiJson(b): ApiJson<BindColumn>,
) -> ApiResult<(StatusCode, Json<kho_catalog::conformance::ColumnConformance>)> {
    let report = state.kho.bind_column(&caller.subject, &caller.ctx(), &key, &b.table, &b.column, &b.element).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Remove a column's binding.
#[utoipa::path(delete, path = "/api/v1/resources/{key}/bindings/{table}/{column}", tag = "dictionary",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unbind(
    State(state): State<AppState>,
    caller: Caller,
    Path((key, table, column)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    state.kho.unbind_column(&caller.subject, &caller.ctx(), &key, &table, &column).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Columns whose names match an element, not bound yet: bindings to consider.
#[utoipa::path(get, path = "/api/v1/resources/{key}/bindings/suggestions", tag = "dictionary",
    responses((status = 200, body = Vec<crate::services::SuggestedBinding>), (status = 404, body = ErrorBody)))]
pub async fn suggestions(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<crate::services::SuggestedBinding>>> {
    Ok(Json(state.kho.suggest_bindings(&caller.subject, &caller.ctx(), &key).await?))
}
