//! The CKAN Action API (`/api/action/{name}`, `/api/3/action/{name}`) over the open
//! data portal, so that CKAN tools, harvesters and the national portal read Kho as
//! they read CKAN: the same envelope `{"help", "success", "result"}`, the same error
//! types and statuses, the same dictionaries. Only open data shows here
//! (`services::portal`), whoever asks; tokens in `Authorization` or
//! `X-CKAN-API-Key` are accepted and checked.

pub(crate) mod dicts;
pub(crate) mod search;

use crate::http::caller::Caller;
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kho_core::ErrorCode;
use serde_json::{json, Map, Value};

/// The actions Kho answers, with the one-line help `help_show` gives.
const ACTIONS: &[(&str, &str)] = &[
    ("status_show", "Site information: title, URL, CKAN version spoken, default locale."),
    ("site_read", "Whether the caller may read the site (always true)."),
    ("help_show", "The documentation of an action: name=<action>."),
    ("package_list", "Names of the open datasets. limit, offset."),
    (
        "package_search",
        "Search open datasets: q, fq, rows (max 1000), start, sort, facet.field, facet.limit, facet.mincount.",
    ),
    ("package_show", "One open dataset by id or name: id=<id or name>."),
    ("organization_list", "Publishing agencies with open datasets: all_fields, sort, limit, offset."),
    ("organization_show", "One publishing agency: id=<id or name>, include_datasets."),
    ("group_list", "Themes (lĩnh vực) of the open datasets: all_fields."),
    ("group_show", "One theme: id=<name>."),
    ("tag_list", "Keywords of the open datasets: query=<prefix>."),
    ("license_list", "The licences datasets use."),
    ("resource_show", "One resource (a table of an open dataset): id=<resource id>."),
    (
        "datastore_search",
        "Rows of a resource: resource_id, filters, q, fields, sort, limit (max 32000), offset, include_total.",
    ),
    ("datastore_search_sql", "One read-only SELECT over resources, named by id in double quotes: sql."),
];

/// A CKAN error: its `__type` and HTTP status.
#[derive(Debug)]
pub struct CkanError {
    kind: &'static str,
    status: StatusCode,
    message: String,
    /// Field errors for `Validation Error` (`{"field": ["message"]}`).
    fields: Map<String, Value>,
}

impl CkanError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { kind: "Not Found Error", status: StatusCode::NOT_FOUND, message: message.into(), fields: Map::new() }
    }
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = Map::new();
        fields.insert(field.into(), json!([message.clone()]));
        Self { kind: "Validation Error", status: StatusCode::CONFLICT, message, fields }
    }
    pub fn search_query(message: impl Into<String>) -> Self {
        Self {
            kind: "Search Query Error",
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            fields: Map::new(),
        }
    }
}

impl From<kho_core::Error> for CkanError {
    fn from(e: kho_core::Error) -> Self {
        let (kind, status) = match e.code {
            ErrorCode::NotFound => ("Not Found Error", StatusCode::NOT_FOUND),
            ErrorCode::Unauthenticated | ErrorCode::Forbidden | ErrorCode::CsrfFailed => {
                ("Authorization Error", StatusCode::FORBIDDEN)
            }
            ErrorCode::Internal | ErrorCode::Unavailable => {
                ("Internal Server Error", StatusCode::INTERNAL_SERVER_ERROR)
            }
            _ => ("Validation Error", StatusCode::CONFLICT),
        };
        let mut fields = Map::new();
        if kind == "Validation Error" {
            let field = e.message.split_once(": ").map(|(f, _)| f).filter(|f| !f.contains(' ')).unwrap_or("sql");
            fields.insert(field.into(), json!([e.without_field()]));
        }
        Self { kind, status, message: e.message, fields }
    }
}

pub type CkanResult<T = Value> = Result<T, CkanError>;

/// The parameters of a call: the query string (a repeated key becomes a list), a
/// JSON body, or a form (a legacy form whose one key is the JSON text, or fields).
pub struct Params(Map<String, Value>);

impl Params {
    fn read(query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> CkanResult<Self> {
        let mut map = Map::new();
        for (k, v) in form_pairs(query.unwrap_or("")) {
            match map.get_mut(&k) {
                Some(Value::Array(list)) => list.push(Value::String(v)),
                Some(existing) => *existing = json!([existing.take(), v]),
                None => {
                    map.insert(k, Value::String(v));
                }
            }
        }
        let text = std::str::from_utf8(body).map_err(|_| CkanError::validation("body", "the body is not UTF-8"))?;
        if !text.trim().is_empty() {
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let form = content_type.starts_with("application/x-www-form-urlencoded");
            let as_json = if form { None } else { serde_json::from_str::<Value>(text).ok() };
            match as_json {
                Some(Value::Object(body)) => map.extend(body),
                Some(_) => return Err(CkanError::validation("body", "send a JSON object")),
                None => {
                    let pairs = form_pairs(text);
                    // A legacy form post: the whole JSON text as the one key.
                    if let [(key, value)] = pairs.as_slice() {
                        if value.is_empty() {
                            if let Ok(Value::Object(body)) = serde_json::from_str(key) {
                                map.extend(body);
                                return Ok(Self(map));
                            }
                        }
                    }
                    for (k, v) in pairs {
                        map.insert(k, Value::String(v));
                    }
                }
            }
        }
        Ok(Self(map))
    }

    pub fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            Value::Array(list) => list.first().and_then(|v| v.as_str().map(String::from)),
            other => Some(other.to_string()),
        }
    }

    pub fn required(&self, name: &str) -> CkanResult<String> {
        self.str(name).filter(|s| !s.trim().is_empty()).ok_or_else(|| CkanError::validation(name, "Missing value"))
    }

    pub fn bool(&self, name: &str, default: bool) -> CkanResult<bool> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => match v.as_str().map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("true" | "1" | "yes" | "on") => Ok(true),
                Some("false" | "0" | "no" | "off") => Ok(false),
                _ => Err(CkanError::validation(name, "Not a boolean: use true or false")),
            },
        }
    }

    /// A whole number within `max`, or `default` when absent.
    pub fn int(&self, name: &str, default: i64, max: i64) -> CkanResult<i64> {
        let n = match self.0.get(name) {
            None | Some(Value::Null) => return Ok(default),
            Some(Value::Number(n)) => n.as_i64(),
            Some(v) => v.as_str().and_then(|s| s.trim().parse().ok()),
        };
        match n {
            Some(n) if n >= 0 => Ok(n.min(max)),
            _ => Err(CkanError::validation(name, "Invalid integer: must be a whole number of 0 or more")),
        }
    }

    /// A list given as a JSON list, a JSON text of a list, or a comma-separated text.
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            Some(Value::String(s)) => match serde_json::from_str::<Vec<String>>(s) {
                Ok(list) => list,
                Err(_) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
            },
            _ => vec![],
        }
    }

    /// Each value given for `name`, whole (`fq` may be repeated).
    pub fn list_raw(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            Some(Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
            _ => vec![],
        }
    }

    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

fn form_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

/// What an action needs: the state, the base URL for links, the parameters.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub base: String,
    pub params: Params,
}

fn envelope(base: &str, action: &str, success: bool, payload: (&str, Value)) -> Value {
    let mut out = json!({"help": format!("{base}/api/3/action/help_show?name={action}"), "success": success});
    out[payload.0] = payload.1;
    out
}

/// The address clients reach Kho at: `public_url`, else the request's Host.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.kho.settings.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// `GET|POST /api/action/{name}` and `/api/{version}/action/{name}`.
pub async fn action(
    State(state): State<AppState>,
    Path(path): Path<Vec<(String, String)>>,
    request: axum::extract::Request,
) -> Response {
    let name = path.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()).unwrap_or_default();
    let (mut parts, body) = request.into_parts();
    let base = base_url(&state, &parts.headers);
    let outcome = run(&state, &mut parts, body, &name, base.clone()).await;
    let (status, value) = match outcome {
        Ok(result) => (StatusCode::OK, envelope(&base, &name, true, ("result", result))),
        Err(e) => {
            let mut error = e.fields;
            error.insert("__type".into(), Value::String(e.kind.into()));
            error.insert("message".into(), Value::String(e.message));
            (e.status, envelope(&base, &name, false, ("error", Value::Object(error))))
        }
    };
    (status, axum::Json(value)).into_response()
}

async fn run(state: &AppState, parts: &mut Parts, body: axum::body::Body, name: &str, base: String) -> CkanResult {
    if !ACTIONS.iter().any(|(n, _)| *n == name) {
        return Err(CkanError {
            kind: "Bad Request",
            status: StatusCode::BAD_REQUEST,
            message: format!("Action name not known: {name}"),
            fields: Map::new(),
        });
    }
    // A token that is presented must be valid; it does not widen what the portal shows.
    if parts.headers.contains_key(header::AUTHORIZATION) || parts.headers.contains_key("x-ckan-api-key") {
        Caller::from_request_parts(parts, state).await.map_err(|e| CkanError {
            kind: "Authorization Error",
            status: StatusCode::FORBIDDEN,
            message: e.0.message,
            fields: Map::new(),
        })?;
    }
    let limit = state.kho.settings.body_limit_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| CkanError::validation("body", format!("the body is larger than {limit} bytes")))?;
    let params = Params::read(parts.uri.query(), &parts.headers, &bytes)?;
    let call = Call { state, base, params };
    match name {
        "status_show" => Ok(dicts::status_show(&call)),
        "site_read" => Ok(Value::Bool(true)),
        "help_show" => {
            let wanted = call.params.required("name")?;
            let help =
                ACTIONS.iter().find(|(n, _)| *n == wanted).ok_or_else(|| CkanError::not_found("Action not found"))?;
            Ok(Value::String(help.1.into()))
        }
        "package_list" => dicts::package_list(&call).await,
        "package_show" => dicts::package_show(&call).await,
        "package_search" => search::package_search(&call).await,
        "organization_list" => dicts::organization_list(&call).await,
        "organization_show" => dicts::organization_show(&call).await,
        "group_list" => dicts::group_list(&call).await,
        "group_show" => dicts::group_show(&call).await,
        "tag_list" => dicts::tag_list(&call).await,
        "license_list" => Ok(dicts::license_list()),
        "resource_show" => dicts::resource_show(&call).await,
        "datastore_search" => dicts::datastore_search(&call).await,
        "datastore_search_sql" => dicts::datastore_search_sql(&call).await,
        _ => unreachable!("every listed action is dispatched"),
    }
}
