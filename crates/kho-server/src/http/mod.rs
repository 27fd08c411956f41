//! The HTTP service: one router for the public portal (`/`), the management UI
//! (`/admin`), the native API (`/api/v1`) and operations (`/healthz`, `/readyz`,
//! `/metrics`), with request ids, body limits, timeouts, metrics and panic safety.

pub mod api;
pub mod caller;
pub mod catalog;
pub mod ckan;
pub mod cleaning;
pub mod dcat;
pub mod dictionary;
pub mod error;
pub mod exchange;
pub mod openapi;
pub mod ops;
pub mod quality;
pub mod query;
pub mod refdata;
pub mod warehouse;

use crate::metrics::Metrics;
use crate::services::Kho;
use crate::ui;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use kho_core::{Error, ErrorCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub kho: Arc<Kho>,
    pub metrics: Arc<Metrics>,
    /// The sharing gateway (its health and message log writer).
    pub gateway: Arc<crate::gateway::Gateway>,
}

/// The management routes (API, pages, operations): everything but the gateway's
/// exchanges, which the server hands to the gateway before this router
/// (`listen::Routes`). Built inside the main runtime, which these routes run on.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(api::login).delete(api::logout))
        .route("/me", get(api::me))
        .route("/agencies", get(api::list_agencies).post(api::create_agency))
        .route("/agencies/{id}", get(api::get_agency))
        .route("/users", get(api::list_users).post(api::create_user))
        .route("/users/{id}", get(api::get_user).patch(api::update_user))
        .route("/subsystems", get(api::list_subsystems).post(api::create_subsystem))
        .route("/subsystems/{id}", get(api::get_subsystem))
        .route("/subsystems/{id}/tokens", get(api::subsystem_tokens).post(api::issue_subsystem_token))
        .route("/subsystems/{id}/certificates", get(api::subsystem_certificates).post(api::register_certificate))
        .route("/subsystems/{id}/certificates/{fingerprint}", axum::routing::delete(api::revoke_certificate))
        .route("/tokens", get(api::list_tokens).post(api::create_token))
        .route("/tokens/{id}", axum::routing::delete(api::revoke_token))
        .route("/audit", get(api::list_audit))
        .route("/audit/verify", get(api::verify_audit))
        .route("/resources", get(catalog::list).post(catalog::create))
        .route("/resources/{key}", get(catalog::get).put(catalog::update).delete(catalog::delete))
        .route("/resources/{key}/status", post(catalog::set_status))
        .route("/resources/{key}/tables", get(warehouse::tables))
        .route(
            "/resources/{key}/tables/{table}/versions",
            get(warehouse::versions).post(warehouse::load).layer(DefaultBodyLimit::disable()),
        )
        .route("/resources/{key}/tables/{table}/versions/{version}/diff", get(warehouse::diff))
        .route("/resources/{key}/tables/{table}/rows", get(warehouse::rows))
        .route("/resources/{key}/tables/{table}/download", get(warehouse::download))
        .route("/resources/{key}/tables/{table}/csv", get(warehouse::csv))
        .route("/resources/{key}/tables/{table}/versions/{version}/rejects", get(warehouse::rejects))
        .route("/query", post(query::run))
        .route("/query/tables", get(query::tables))
        .route("/refdata/admin-units/convert", get(refdata::convert))
        .route("/dictionary/elements", get(dictionary::list).post(dictionary::create))
        .route("/dictionary/elements/{key}", get(dictionary::get).put(dictionary::update))
        .route("/dictionary/elements/{key}/status", post(dictionary::set_status))
        .route("/dictionary/elements/{key}/history", get(dictionary::history))
        .route("/dictionary/export", get(dictionary::export))
        .route("/dictionary/import", post(dictionary::import))
        .route("/resources/{key}/bindings", get(dictionary::bindings).post(dictionary::bind))
        .route("/resources/{key}/bindings/suggestions", get(dictionary::suggestions))
        .route("/resources/{key}/bindings/{table}/{column}", axum::routing::delete(dictionary::unbind))
        .route("/refdata/code-lists", get(refdata::code_lists).post(refdata::create_code_list))
        .route("/refdata/code-lists/{slug}", get(refdata::code_list))
        .route("/refdata/code-lists/{slug}/items", get(refdata::code_items))
        .route("/refdata/code-lists/{slug}/items/{code}", get(refdata::code_item))
        .route("/refdata/code-lists/{slug}/export", get(refdata::export))
        .route("/refdata/code-lists/{slug}/versions", post(refdata::import))
        .route("/refdata/code-lists/{slug}/versions/{version}", get(refdata::preview).delete(refdata::delete_draft))
        .route("/refdata/code-lists/{slug}/versions/{version}/publish", post(refdata::publish))
        .route("/exchange/services", get(exchange::services).post(exchange::register))
        .route("/exchange/services/{id}", get(exchange::service).patch(exchange::update))
        .route("/exchange/services/{id}/disable", axum::routing::post(exchange::disable))
        .route("/exchange/services/{id}/enable", axum::routing::post(exchange::enable))
        .route("/exchange/agreements", get(exchange::agreements).post(exchange::request))
        .route("/exchange/agreements/{id}/decision", post(exchange::decide))
        .route("/exchange/messages", get(exchange::messages))
        .route("/exchange/messages/verify", get(exchange::verify))
        .route("/exchange/archives", get(exchange::archives))
        .route("/exchange/access-report", get(exchange::access_report))
        .route("/exchange/health", get(exchange::health))
        .route("/resources/{key}/quality", get(quality::resource))
        .route("/resources/{key}/quality/rules", get(quality::rules))
        .route("/resources/{key}/tables/{table}/quality/rules", axum::routing::put(quality::set_rules))
        .route("/resources/{key}/tables/{table}/quality/runs", get(quality::runs).post(quality::run))
        .route("/quality/agencies", get(quality::agencies))
        .merge(cleaning::routes())
        .route("/openapi.json", get(openapi::document))
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed);

    let request_id = HeaderName::from_static("x-request-id");
    let timeout = Duration::from_secs(state.kho.settings.request_timeout_secs);
    let body_limit = state.kho.settings.body_limit_bytes;
    Router::new()
        .nest("/api/v1", api)
        .route("/api/action/{name}", get(ckan::action).post(ckan::action))
        .route("/api/{version}/action/{name}", get(ckan::action).post(ckan::action))
        .route("/catalog.ttl", get(dcat::catalog_ttl))
        .route("/catalog.jsonld", get(dcat::catalog_jsonld))
        .route("/catalog.rdf", get(dcat::catalog_rdf))
        .route("/catalog.xml", get(dcat::catalog_xml))
        .route("/dataset/{file}", get(dcat::dataset))
        .merge(ui::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError(Error::internal("internal error; see the server log")).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::from_fn_with_state(tokio::runtime::Handle::current(), on_main_runtime))
        .with_state(state)
}

/// Runs a management request (API, pages, SQL, ingest) on the main multi-threaded
/// runtime, whichever serving thread accepted it, so that its work uses all of that
/// runtime's workers and never holds up the gateway exchanges of the thread that
/// accepted it (`serve_per_core`); the gateway's exchanges never reach this router.
async fn on_main_runtime(State(main): State<tokio::runtime::Handle>, request: Request<Body>, next: Next) -> Response {
    match main.spawn(next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn api_not_found() -> ApiError {
    ApiError(Error::new(ErrorCode::NotFound, "no such API endpoint; see /api/v1/openapi.json for the list"))
}

async fn api_method_not_allowed() -> ApiError {
    ApiError(Error::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not accept that HTTP method; see /api/v1/openapi.json",
    ))
}

/// Records each request in the metrics.
async fn track(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    state.metrics.observe(&method, &route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

/// Ends requests that run past the configured time. Loads into tables are exempt:
/// a large file takes as long as it takes, bounded by the upload limit.
async fn time_limit(State(limit): State<Duration>, req: Request<Body>, next: Next) -> Response {
    if req.method() == axum::http::Method::POST && req.uri().path().contains("/tables/") {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError(Error::new(
            ErrorCode::Timeout,
            format!("the request took longer than {} seconds", limit.as_secs()),
        ))
        .into_response(),
    }
}
