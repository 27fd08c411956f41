//! `POST /api/v1/query`: read-only SQL over the tables the caller may read, answered
//! as JSON (default) or CSV; `GET /api/v1/query/tables` lists those tables.

use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::QueryableTable;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kho_core::Error;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// One SELECT (or WITH … SELECT, or VALUES) statement. Tables are named
    /// `<resource>.<table>`: the resource's slug with `_` for `-`, then the table
    /// (`dan_so_2025.main`).
    pub sql: String,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    pub format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueryColumn {
    pub name: String,
    /// text, integer, decimal, date, timestamp or boolean.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueryAnswer {
    pub columns: Vec<QueryColumn>,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    pub row_count: usize,
    /// More rows matched than the row cap (`query_max_rows`) lets through.
    pub truncated: bool,
    pub elapsed_ms: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueryTables {
    pub items: Vec<QueryableTable>,
}

/// Run read-only SQL. Statements that write, change settings or read files are
/// refused (`query_refused`); a query past its time or memory limit is stopped
/// (`query_limit`); at most `query_max_rows` rows come back, with `truncated` set
/// when more matched. With CSV, `X-Kho-Truncated: true` says the same.
#[utoipa::path(post, path = "/api/v1/query", tag = "warehouse", request_body = QueryRequest,
    responses(
        (status = 200, body = QueryAnswer, content(("application/json"), (String = "text/csv"))),
        (status = 404, description = "A table that does not exist or that the caller may not read", body = ErrorBody),
        (status = 422, description = "A syntax error, a refused statement or a limit reached", body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(request): ApiJson<QueryRequest>,
) -> ApiResult<Response> {
    let accepts_csv = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv"));
    let csv = match request.format.as_deref() {
        None => accepts_csv,
        Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(Error::invalid("format", format!("{other:?} is not a choice; use json or csv")).into())
        }
    };
    let result = state.kho.query(&caller.subject, &caller.ctx(), &request.sql).await?;
    if csv {
        let body = result.to_csv().map_err(Error::from)?;
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::HeaderName::from_static("x-kho-truncated"), result.truncated.to_string()),
        ];
        return Ok((headers, body).into_response());
    }
    let rows = kho_lake::to_json_rows(&result.batches)
        .map_err(|e| Error::internal(format!("the rows could not be shown: {e}")))?;
    let columns = result.columns().into_iter().map(|(name, kind)| QueryColumn { name, kind }).collect();
    let answer = QueryAnswer {
        columns,
        rows,
        row_count: result.rows,
        truncated: result.truncated,
        elapsed_ms: result.elapsed.as_millis() as u64,
    };
    Ok(Json(answer).into_response())
}

/// The tables the caller may query, with the names SQL uses for them.
#[utoipa::path(get, path = "/api/v1/query/tables", tag = "warehouse", responses((status = 200, body = QueryTables)))]
pub async fn tables(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<QueryTables>> {
    Ok(Json(QueryTables { items: state.kho.queryable_tables(&caller.subject).await? }))
}
