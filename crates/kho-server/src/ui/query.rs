//! The query page (truy vấn SQL): a box for one read-only SQL statement, the result
//! as a table, and the tables the user may query with the names SQL uses. The query
//! is in the address (`?sql=`), so a result can be bookmarked and shared.

use super::{page, require_login, Lang};
use crate::http::caller::Caller;
use crate::http::AppState;
use crate::services::QueryableTable;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use kho_lake::QueryResult;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct QueryForm {
    sql: Option<String>,
}

/// Rows shown on the page; the API and CLI return up to the configured cap.
const SHOWN_ROWS: usize = 500;

pub async fn page_handler(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(form): Query<QueryForm>,
) -> Response {
    if let Some(login) = require_login(&caller, &uri) {
        return login;
    }
    let l = caller.lang;
    let sql = form.sql.unwrap_or_default();
    let tables = state.kho.queryable_tables(&caller.subject).await.unwrap_or_default();
    let (outcome, status) = if sql.trim().is_empty() {
        (None, StatusCode::OK)
    } else {
        match state.kho.query(&caller.subject, &caller.ctx(), &sql).await {
            Ok(result) => (Some(Ok(result)), StatusCode::OK),
            Err(e) => {
                let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                (Some(Err(e)), status)
            }
        }
    };
    let example = tables.first().map(|t| format!("SELECT *\nFROM {}\nLIMIT 100", t.name));
    let content = html! {
        form.card method="get" action="/admin/query" {
            label for="sql" { (l.t("Câu lệnh SQL (chỉ đọc: SELECT)", "SQL statement (read-only: SELECT)")) }
            textarea #sql name="sql" rows="6" style="max-width:100%;font-family:monospace" spellcheck="false"
                placeholder=[example.as_deref()] { (sql) }
            button type="submit" { (l.t("Chạy truy vấn", "Run the query")) }
        }
        @match &outcome {
            Some(Err(e)) => p.error role="alert" { (e.message) },
            Some(Ok(result)) => (result_table(l, result)),
            None => {},
        }
        (table_list(l, &tables))
    };
    page(&caller, &uri, l.t("Truy vấn SQL", "SQL query"), status, content)
}

fn result_table(l: Lang, result: &QueryResult) -> Markup {
    let rows = kho_lake::to_json_rows(&result.batches).unwrap_or_default();
    let columns = result.columns();
    html! {
        p #query-summary role="status" {
            (result.rows) " " (l.t("dòng", "rows")) " · " (result.elapsed.as_millis()) " ms"
            @if result.truncated {
                " · " strong { (l.t("đã cắt bớt theo giới hạn số dòng", "cut at the row limit")) }
            }
            @if rows.len() > SHOWN_ROWS {
                " · " (l.t("hiển thị", "showing")) " " (SHOWN_ROWS)
            }
        }
        div style="overflow-x:auto" {
            table #query-result {
                thead { tr { @for (name, kind) in &columns { th scope="col" title=(kind) { (name) } } } }
                tbody {
                    @for row in rows.iter().take(SHOWN_ROWS) {
                        tr { @for (name, _) in &columns { td { (row.get(name).map(super::tables::cell).unwrap_or_default()) } } }
                    }
                }
            }
        }
    }
}

fn table_list(l: Lang, tables: &[QueryableTable]) -> Markup {
    html! {
        section aria-labelledby="tables-h" {
            h2 #tables-h { (l.t("Các bảng bạn được truy vấn", "Tables you may query")) }
            @if tables.is_empty() {
                p.muted { (l.t("Chưa có bảng nào.", "No tables yet.")) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (l.t("Tên trong SQL", "Name in SQL")) }
                        th scope="col" { (l.t("Tài nguyên dữ liệu", "Data resource")) }
                    } }
                    tbody { @for t in tables { tr {
                        td { a href={ "/admin/query?sql=" (super::urlencode(&format!("SELECT * FROM {} LIMIT 100", t.name))) } { code { (t.name) } } }
                        td { a href={ "/admin/resources/" (t.resource_slug) } { (t.resource_title) } }
                    } } }
                }
            }
        }
    }
}
