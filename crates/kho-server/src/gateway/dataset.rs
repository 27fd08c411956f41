//! Dịch vụ dữ liệu — a dataset service: a table (or the service's view of it) as a
//! REST API. `GET /rows` filters, sorts and pages (the tabular API's parameters);
//! `GET /rows/{key}` reads one row by the service's key column; `GET /openapi.json`
//! describes it. The consumer sees only the columns both the service and the
//! agreement allow, masked fields masked; for personal data, the key values of the
//! rows served go into the record as data-subject digests.

use super::exchange::Exchange;
use super::Gateway;
use crate::http::warehouse::RowParams;
use crate::services::exchange::ServiceEntry;
use crate::services::Kho;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use kho_exchange::msglog::subject_digest;
use kho_exchange::{mask, Agreement, Fault, FaultKind, Service, ServiceRequest, ServiceTarget};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Rows one page may hold.
const MAX_PAGE: usize = 1000;
/// Bytes a request to a dataset service may carry (it reads none).
const MAX_BODY: usize = 64 * 1024;

pub async fn serve(
    gw: Arc<Gateway>,
    ex: Exchange,
    entry: &ServiceEntry,
    agreement: &Agreement,
    call: &ServiceRequest,
    request: Request,
) -> Response {
    let id = ex.record.message_id.clone();
    if request.method() != axum::http::Method::GET {
        let fault = Fault::new(FaultKind::BadRequest, "dataset services answer GET requests only", &id);
        return ex.fail(fault, None).await;
    }
    let query = request.uri().query().unwrap_or("").to_string();
    match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
        Ok(bytes) => ex.request_body.lock().unwrap_or_else(|e| e.into_inner()).add(&bytes),
        Err(_) => {
            let fault = Fault::new(FaultKind::BadRequest, "a dataset service takes no request body", &id);
            return ex.fail(fault, None).await;
        }
    }
    let timeout = std::time::Duration::from_millis(entry.service.timeout_ms);
    match within(timeout, &id, answer(&gw, entry, agreement, &call.path, &query, &id)).await {
        Ok((status, body, subjects)) => {
            let mut ex = ex;
            ex.record.subjects = subjects;
            ex.respond(json_response(status, body)).await
        }
        Err(fault) => ex.fail(fault, None).await,
    }
}

/// Runs a dataset read under its service's timeout, as a proxied call's backend runs
/// under it: a read still running then is stopped (its query with it) and answered
/// 504.
async fn within<T>(
    timeout: std::time::Duration,
    id: &str,
    read: impl std::future::Future<Output = Result<T, Fault>>,
) -> Result<T, Fault> {
    tokio::time::timeout(timeout, read).await.unwrap_or_else(|_| {
        let message = format!(
            "the dataset read did not finish within {} ms (the service's timeout) and was stopped; ask for fewer \
             rows (limit) or narrower filters",
            timeout.as_millis()
        );
        Err(Fault::new(FaultKind::Timeout, message, id))
    })
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(&body).expect("JSON serialises")));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}

type Answer = (StatusCode, Value, Vec<String>);

async fn answer(
    gw: &Gateway,
    entry: &ServiceEntry,
    agreement: &Agreement,
    path: &str,
    query: &str,
    id: &str,
) -> Result<Answer, Fault> {
    let ServiceTarget::Dataset { resource_id, table, columns, filter, key_column } = &entry.service.target else {
        unreachable!("dataset::serve is called for dataset services");
    };
    let kho = &gw.kho;
    let bad = |m: String| Fault::new(FaultKind::BadRequest, m, id);
    let denied = |m: String| Fault::new(FaultKind::AccessDenied, m, id);
    let internal = |m: String| Fault::new(FaultKind::Internal, m, id);
    if path == "/" || path == "/openapi.json" {
        let doc = openapi(kho, &entry.service).await.map_err(|e| internal(e.message))?;
        return Ok((StatusCode::OK, doc, Vec::new()));
    }
    let key = match path.strip_prefix("/rows") {
        Some("") | Some("/") => None,
        Some(rest) => Some(percent_decode(rest.trim_start_matches('/'))),
        None => {
            let body = json!({"message": format!("{path} is not an endpoint of this service; it has /rows and /rows/{{key}}")});
            return Ok((StatusCode::NOT_FOUND, body, Vec::new()));
        }
    };
    let table_columns = entry
        .table_columns
        .as_ref()
        .ok_or_else(|| internal("the service's table cannot be read; see the server log".into()))?;
    let served: Vec<String> = if columns.is_empty() { table_columns.clone() } else { columns.clone() };
    let allowed: Vec<String> =
        served.into_iter().filter(|c| agreement.fields.is_empty() || agreement.fields.contains(c)).collect();
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut rows_query = RowParams::from_query(&params).map_err(|e| bad(e.message))?;
    let outside = |c: &String| !allowed.contains(c);
    if let Some(c) = rows_query.fields.iter().find(|c| outside(c)) {
        return Err(denied(format!(
            "the field {c:?} is not among those agreement {} allows: {}",
            agreement.id,
            allowed.join(", ")
        )));
    }
    if let Some(f) = rows_query.filters.iter().find(|f| outside(&f.column)) {
        return Err(denied(format!("agreement {} does not allow filtering on {:?}", agreement.id, f.column)));
    }
    if let Some((c, _)) = rows_query.sort.as_ref().filter(|(c, _)| outside(c)) {
        return Err(denied(format!("agreement {} does not allow sorting on {c:?}", agreement.id)));
    }
    // A masked value could be recovered by narrowing ranges, by ordering or by search:
    // a masked field is compared for equality only (a lookup by a value already known).
    let masked = |c: &String| agreement.masked.contains(c);
    if let Some(f) = rows_query.filters.iter().find(|f| masked(&f.column) && f.op != kho_lake::Comparison::Eq) {
        let id = &agreement.id;
        return Err(denied(format!("{:?} is masked: agreement {id} allows only column=value on it", f.column)));
    }
    if let Some((c, _)) = rows_query.sort.as_ref().filter(|(c, _)| masked(c)) {
        return Err(denied(format!("{c:?} is masked: agreement {} does not allow sorting on it", agreement.id)));
    }
    if rows_query.q.is_some() && !agreement.masked.is_empty() {
        let fields = agreement.masked.join(", ");
        return Err(denied(format!("q would search the masked {fields}; filter by column instead")));
    }
    if rows_query.q.is_some() && allowed.len() < table_columns.len() {
        return Err(denied(
            "q searches every column, and this agreement sees only some; filter by column instead".into(),
        ));
    }
    let shown: Vec<String> = if rows_query.fields.is_empty() { allowed.clone() } else { rows_query.fields.clone() };
    if let Some(k) = &key {
        let Some(key_column) = key_column else {
            let body = json!({"message": "this service has no key column; use /rows with filters"});
            return Ok((StatusCode::NOT_FOUND, body, Vec::new()));
        };
        rows_query.filters = vec![kho_lake::Filter::from_param(key_column, k).map_err(|e| bad(e.to_string()))?];
        rows_query.limit = 2;
        rows_query.offset = 0;
    }
    // Personal data: the key column of every row served names its data subject.
    let subject_column = key_column.as_ref().filter(|_| entry.personal_data);
    let mut fetched = shown.clone();
    if let Some(s) = subject_column.filter(|s| !fetched.contains(s)) {
        fetched.push(s.clone());
    }
    rows_query.fields = fetched;
    rows_query.limit = rows_query.limit.clamp(1, MAX_PAGE);
    rows_query.predicate = filter.clone();
    let page = kho.lake.rows(resource_id, table, &rows_query).await.map_err(|e| match e {
        kho_lake::LakeError::Delta(e) => {
            tracing::error!(error = %e, service = %entry.service.full_id(), "a dataset service's table cannot be read");
            internal("the table could not be read; see the server log".into())
        }
        other => bad(other.to_string()),
    })?;
    let rows = kho_lake::to_json_rows(&page.batches).map_err(|e| internal(e.to_string()))?;
    let seal = &kho.node_keys().map_err(|e| internal(e.message))?.seal;
    let subjects: Vec<String> = subject_column
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .filter(|v| !v.is_null())
                .map(|v| subject_digest(seal, v.as_str().map(String::from).unwrap_or_else(|| v.to_string()).as_str()))
                .collect()
        })
        .unwrap_or_default();
    let visible: Vec<Map<String, Value>> = rows.iter().map(|r| mask(r, &shown, &agreement.masked)).collect();
    if let Some(k) = key {
        return Ok(match visible.into_iter().next() {
            Some(row) => (StatusCode::OK, Value::Object(row), subjects),
            None => {
                let column = key_column.as_deref().unwrap_or("");
                (StatusCode::NOT_FOUND, json!({"message": format!("no row has {column} = {k:?}")}), subjects)
            }
        });
    }
    let body = json!({
        "items": visible,
        "total": page.total,
        "total_is_estimate": page.total_is_estimate,
        "limit": rows_query.limit,
        "offset": rows_query.offset,
        "version": page.version,
    });
    Ok((StatusCode::OK, body, subjects))
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The OpenAPI document Kho generates for a dataset service, from its table's columns.
pub async fn openapi(kho: &Kho, service: &Service) -> kho_core::Result<Value> {
    let ServiceTarget::Dataset { resource_id, table, columns, key_column, .. } = &service.target else {
        return Err(kho_core::Error::invalid("service", "only dataset services have a generated document"));
    };
    let all = kho.lake.columns(resource_id, table).await?;
    let properties: Map<String, Value> = all
        .iter()
        .filter(|(name, _, _)| columns.is_empty() || columns.contains(name))
        .map(|(name, ty, format)| {
            let mut schema = json!({"type": ty, "nullable": true});
            if let Some(f) = format {
                schema["format"] = json!(f);
            }
            (name.clone(), schema)
        })
        .collect();
    let filters: Vec<Value> = properties
        .keys()
        .map(|c| {
            json!({"name": c, "in": "query", "required": false, "schema": {"type": "string"},
            "description": format!("Rows whose {c} equals the value; {c}.gt, .gte, .lt, .lte, .ne compare")})
        })
        .collect();
    let mut parameters = vec![
        json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}}),
        json!({"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}),
        json!({"name": "sort", "in": "query", "schema": {"type": "string"}, "description": "A column; -column sorts descending"}),
        json!({"name": "fields", "in": "query", "schema": {"type": "string"}, "description": "Columns to return, comma-separated"}),
    ];
    parameters.extend(filters);
    let mut paths = json!({
        "/rows": {"get": {"summary": "Rows of the table", "operationId": "listRows", "parameters": parameters,
            "responses": {"200": {"description": "A page of rows", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
                    "total": {"type": "integer"}, "total_is_estimate": {"type": "boolean"},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"}, "version": {"type": "integer"}}}}}}}}}
    });
    if let Some(k) = key_column {
        paths["/rows/{key}"] = json!({"get": {"summary": format!("The row whose {k} is the key"), "operationId": "getRow",
            "parameters": [{"name": "key", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The row", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Row"}}}},
                          "404": {"description": "No row has this key"}}}});
    }
    Ok(json!({
        "openapi": "3.0.3",
        "info": {"title": service.code, "description": service.description, "version": "1"},
        "servers": [{"url": format!("/r1/{}", service.full_id())}],
        "paths": paths,
        "components": {"schemas": {"Row": {"type": "object", "properties": properties}}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_read_past_the_services_timeout_is_stopped_and_answered_504() {
        let quick = within(Duration::from_millis(100), "id-1", async { Ok::<_, Fault>(7) }).await;
        assert_eq!(quick.unwrap(), 7, "a read within the timeout is answered as it is");

        let (guard, was_stopped) = crate::gateway::tests::drop_signal();
        let endless = async move {
            let _guard = guard;
            std::future::pending::<Result<(), Fault>>().await
        };
        let fault = within(Duration::from_millis(150), "id-2", endless).await.unwrap_err();
        assert_eq!((fault.status, fault.kind.as_str()), (504, "Server.ServerProxy.NetworkError"));
        assert!(fault.message.contains("within 150 ms"), "{}", fault.message);
        assert_eq!(fault.detail, "id-2");
        was_stopped.await.expect("the read is stopped, not left running");
    }
}
