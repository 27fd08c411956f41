//! Reference data (danh mục dùng chung) in the native API:
//! `GET /api/v1/refdata/admin-units/convert?code=…` or `?address=…` converts a
//! legacy administrative unit to the 2025 units, and `/api/v1/refdata/code-lists…`
//! reads, looks up, exports, imports and publishes code lists. Reads are public:
//! reference data is open data; writes need a steward of the owning agency.

use crate::http::caller::Caller;
use crate::http::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::AppState;
use crate::services::codelists::{ImportOutcome, Lookup, VersionPick};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use kho_core::{Error, ErrorCode};
use kho_refdata::codelist::{self, CodeItem, CodeList, CodeListVersion, ExportFormat, NewCodeList};
use kho_refdata::{AdminUnits, Conversion};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// A legacy commune code (mã xã cũ), e.g. `07687`; a shorter number is padded with zeros.
    pub code: Option<String>,
    /// A free-text address, e.g. `123 Lê Lợi, P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang`.
    pub address: Option<String>,
}

/// What to convert: exactly one of the two parameters.
enum Input {
    Code(String),
    Address(String),
}

impl ConvertParams {
    fn input(self) -> Result<Input, Error> {
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        match (given(self.code), given(self.address)) {
            (Some(code), None) => Ok(Input::Code(code)),
            (None, Some(address)) => Ok(Input::Address(address)),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::InvalidField,
                "give either code or address, not both: one conversion a request",
            )),
            (None, None) => Err(Error::new(
                ErrorCode::InvalidField,
                "give code (a legacy commune code, e.g. ?code=07687) or address \
                 (e.g. ?address=Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang)",
            )),
        }
    }
}

/// Convert a legacy commune (by code or by a free-text address) to the 2025
/// administrative units. `kind` is `exact` (already a 2025 unit), `merged` (the whole
/// legacy commune went into `unit`), `split-default` (split; `unit` is the default
/// target, `candidates` every target), `split-candidates` (several units possible,
/// none named: `unit` is null) or `not-found`. `rest` is what stands left of the
/// commune in an address (house number, street). No login needed.
#[utoipa::path(get, path = "/api/v1/refdata/admin-units/convert", tag = "refdata", params(ConvertParams),
    responses(
        (status = 200, body = Conversion),
        (status = 422, description = "Neither or both of code and address, or an unknown parameter", body = ErrorBody)))]
pub async fn convert(ApiQuery(params): ApiQuery<ConvertParams>) -> ApiResult<Json<Conversion>> {
    let input = params.input()?;
    // The first call parses the embedded lists: keep that off the async threads.
    let conversion = tokio::task::spawn_blocking(move || {
        let units = AdminUnits::embedded();
        match input {
            Input::Code(code) => units.convert_code(&code),
            Input::Address(address) => units.convert_address(&address),
        }
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "the admin-unit conversion stopped");
        Error::internal("internal error; see the server log")
    })?;
    Ok(Json(conversion))
}

// ---- code lists ---------------------------------------------------------------------

fn date(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>, Error> {
    s.filter(|s| !s.trim().is_empty()).map(|s| codelist::parse_date(field, s)).transpose()
}

/// The code lists.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeLists {
    pub items: Vec<CodeList>,
}

/// Every code list (danh mục). No login needed.
#[utoipa::path(get, path = "/api/v1/refdata/code-lists", tag = "refdata", responses((status = 200, body = CodeLists)))]
pub async fn code_lists(State(state): State<AppState>) -> ApiResult<Json<CodeLists>> {
    Ok(Json(CodeLists { items: state.kho.code_lists().await? }))
}

/// Create a code list (a steward of the owning agency, or an admin).
#[utoipa::path(post, path = "/api/v1/refdata/code-lists", tag = "refdata", request_body = NewCodeList,
    responses((status = 201, body = CodeList), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_code_list(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewCodeList>,
) -> ApiResult<(StatusCode, Json<CodeList>)> {
    Ok((StatusCode::CREATED, Json(state.kho.create_code_list(&caller.subject, &caller.ctx(), new).await?)))
}

/// A code list with its versions (drafts only for those who manage it).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeListDetail {
    pub list: CodeList,
    pub versions: Vec<CodeListVersion>,
}

/// One code list and its versions. No login needed.
#[utoipa::path(get, path = "/api/v1/refdata/code-lists/{slug}", tag = "refdata",
    responses((status = 200, body = CodeListDetail), (status = 404, body = ErrorBody)))]
pub async fn code_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<CodeListDetail>> {
    let (list, versions) = state.kho.code_list(&caller.subject, &slug).await?;
    Ok(Json(CodeListDetail { list, versions }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemParams {
    /// A version number; else the version in force on `as_of`.
    pub version: Option<i64>,
    /// A date, `YYYY-MM-DD`; today when neither this nor `version` is given.
    pub as_of: Option<String>,
    /// Words of the name, diacritics ignored (`ba dinh`), or a code.
    pub q: Option<String>,
    /// Only the children of this code.
    pub parent: Option<String>,
    /// At most this many items (1–1000, default 100).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

fn pick(version: Option<i64>, as_of: Option<&str>) -> Result<VersionPick, Error> {
    match (version, date("as_of", as_of)?) {
        (Some(_), Some(_)) => Err(Error::invalid("as_of", "give either version or as_of, not both")),
        (Some(n), None) => Ok(VersionPick::Number(n)),
        (None, Some(d)) => Ok(VersionPick::AsOf(d)),
        (None, None) => Ok(VersionPick::AsOf(crate::services::codelists::today())),
    }
}

/// One page of items of a version.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeItems {
    pub version: CodeListVersion,
    pub total: usize,
    pub items: Vec<CodeItem>,
}

/// Items of a version (by number, or the one in force `as_of` a date; today by
/// default), paged; `q=` searches names ignoring diacritics, `parent=` gives children.
#[utoipa::path(get, path = "/api/v1/refdata/code-lists/{slug}/items", tag = "refdata", params(ItemParams),
    responses((status = 200, body = CodeItems), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn code_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiQuery(p): ApiQuery<ItemParams>,
) -> ApiResult<Json<CodeItems>> {
    let index = state.kho.code_list_version(&caller.subject, &slug, pick(p.version, p.as_of.as_deref())?).await?;
    let mut found: Vec<&CodeItem> = match p.q.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(q) => index.search(q),
        None => index.items().iter().collect(),
    };
    if let Some(parent) = p.parent.as_deref().filter(|s| !s.is_empty()) {
        let children: std::collections::HashSet<&str> =
            index.children(parent).into_iter().map(|i| i.code.as_str()).collect();
        found.retain(|i| children.contains(i.code.as_str()));
    }
    let (limit, offset) = (p.limit.unwrap_or(100).clamp(1, 1000), p.offset.unwrap_or(0));
    let items = found.iter().skip(offset).take(limit).map(|i| (*i).clone()).collect();
    Ok(Json(CodeItems { version: index.version.clone(), total: found.len(), items }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// A date, `YYYY-MM-DD`; today when absent.
    pub as_of: Option<String>,
}

/// One item by code, from the version in force on `as_of` (today by default). Codes
/// are reused across versions: `admin-units/items/00004?as_of=2025-06-01` is Phường
/// Trúc Bạch, with `as_of=2025-08-01` Phường Ba Đình. No login needed.
#[utoipa::path(get, path = "/api/v1/refdata/code-lists/{slug}/items/{code}", tag = "refdata", params(LookupParams),
    responses((status = 200, body = Lookup), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn code_item(
    State(state): State<AppState>,
    Path((slug, code)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<LookupParams>,
) -> ApiResult<Json<Lookup>> {
    Ok(Json(state.kho.lookup_code(&slug, &code, date("as_of", p.as_of.as_deref())?).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default), `json` or `xlsx`.
    pub format: Option<String>,
    pub version: Option<i64>,
    pub as_of: Option<String>,
}

/// A version as a file: CSV (UTF-8 with BOM), JSON or XLSX.
#[utoipa::path(get, path = "/api/v1/refdata/code-lists/{slug}/export", tag = "refdata", params(ExportParams),
    responses((status = 200, content_type = "text/csv"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> ApiResult<Response> {
    let format = ExportFormat::parse(p.format.as_deref().unwrap_or("csv"))?;
    let pick = pick(p.version, p.as_of.as_deref())?;
    let (file, content_type, bytes) = state.kho.export_code_list(&caller.subject, &slug, pick, format).await?;
    let headers = [
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
    ];
    Ok((headers, bytes).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The file's name, for messages.
    pub filename: Option<String>,
    /// An XLSX sheet by name; the first sheet by default.
    pub sheet: Option<String>,
}

/// Upload a CSV or XLSX file (the request body) as the list's next version, a draft.
/// Answers the validation report (errors name row and column and block publishing)
/// and what the draft changes against the version in force (added, removed, renamed).
#[utoipa::path(post, path = "/api/v1/refdata/code-lists/{slug}/versions", tag = "refdata", params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = ImportOutcome), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiQuery(p): ApiQuery<ImportParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportOutcome>)> {
    let limit = state.kho.settings.body_limit_bytes;
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        Error::new(
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than {limit} bytes (or was cut off); a code list fits well within that"),
        )
    })?;
    let file = p.filename.filter(|f| !f.trim().is_empty()).unwrap_or_else(|| "upload".into());
    let sheet = p.sheet.filter(|s| !s.trim().is_empty());
    let outcome =
        state.kho.import_code_list(&caller.subject, &caller.ctx(), &slug, &file, body.to_vec(), sheet).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

/// When a draft comes into force.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// First day in force, `YYYY-MM-DD`; the version in force then ends the day before.
    #[schema(example = "2025-07-01")]
    pub effective_from: String,
    /// Last day in force, when known.
    #[serde(default)]
    pub effective_until: Option<String>,
}

/// Publish a draft.
#[utoipa::path(post, path = "/api/v1/refdata/code-lists/{slug}/versions/{version}/publish", tag = "refdata", request_body = Publish,
    responses((status = 200, body = CodeListVersion), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, version)): Path<(String, i64)>,
    ApiJson(p): ApiJson<Publish>,
) -> ApiResult<Json<CodeListVersion>> {
    let from = codelist::parse_date("effective_from", &p.effective_from)?;
    let until = date("effective_until", p.effective_until.as_deref())?;
    Ok(Json(state.kho.publish_code_list(&caller.subject, &caller.ctx(), &slug, version, from, until).await?))
}

/// The preview of a version: its validation report and its diff against the version in force.
#[utoipa::path(get, path = "/api/v1/refdata/code-lists/{slug}/versions/{version}", tag = "refdata",
    responses((status = 200, body = ImportOutcome), (status = 404, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, version)): Path<(String, i64)>,
) -> ApiResult<Json<ImportOutcome>> {
    Ok(Json(state.kho.code_list_preview(&caller.subject, &slug, version).await?))
}

/// Delete a draft (published versions stay).
#[utoipa::path(delete, path = "/api/v1/refdata/code-lists/{slug}/versions/{version}", tag = "refdata",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, version)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    state.kho.delete_code_list_draft(&caller.subject, &caller.ctx(), &slug, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
