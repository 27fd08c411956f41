//! The OpenAPI 3 document of the native API, generated from the handlers'
//! annotations and served at `/api/v1/openapi.json`.

use crate::http::{api, catalog, cleaning, dictionary, exchange, quality, query, refdata, warehouse};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kho native API", description = "Kho — the provincial data platform. Errors: { code, message, type }."),
    paths(
        api::login, api::logout, api::me,
        api::list_agencies, api::get_agency, api::create_agency,
        api::list_users, api::create_user, api::get_user, api::update_user,
        api::list_subsystems, api::create_subsystem, api::get_subsystem,
        api::subsystem_tokens, api::issue_subsystem_token,
        api::subsystem_certificates, api::register_certificate, api::revoke_certificate,
        api::list_tokens, api::create_token, api::revoke_token,
        api::list_audit, api::verify_audit,
        catalog::list, catalog::create, catalog::get, catalog::update, catalog::set_status, catalog::delete,
        warehouse::tables, warehouse::versions, warehouse::diff, warehouse::load, warehouse::rows,
        warehouse::download, warehouse::csv, warehouse::rejects,
        query::run, query::tables,
        refdata::convert,
        dictionary::list, dictionary::create, dictionary::get, dictionary::update, dictionary::set_status,
        dictionary::history, dictionary::export, dictionary::import,
        dictionary::bindings, dictionary::bind, dictionary::unbind, dictionary::suggestions,
        refdata::code_lists, refdata::create_code_list, refdata::code_list, refdata::code_items, refdata::code_item,
        refdata::export, refdata::import, refdata::preview, refdata::publish, refdata::delete_draft,
        exchange::services, exchange::register, exchange::service, exchange::update, exchange::disable, exchange::enable,
        exchange::agreements, exchange::request, exchange::decide,
        exchange::messages, exchange::verify, exchange::archives, exchange::access_report, exchange::health,
        quality::resource, quality::rules, quality::set_rules, quality::run, quality::runs, quality::agencies,
        cleaning::make_profile, cleaning::profile, cleaning::clean,
    ),
    tags(
        (name = "identity", description = "Users, sessions, subsystems and API tokens"),
        (name = "organisation", description = "Agencies (cơ quan)"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "warehouse", description = "Tables of data resources: loads, versions, rows, downloads, read-only SQL"),
        (name = "catalogue", description = "Data resources (tài nguyên dữ liệu), DCAT-AP with the Vietnamese fields"),
        (name = "dictionary", description = "The data dictionary (từ điển dữ liệu): shared data elements, their definitions and lifecycle"),
        (name = "exchange", description = "The sharing platform (nền tảng chia sẻ, LGSP): services, agreements, the gateway's message log and health. The gateway itself speaks the X-Road REST protocol at /r1/…"),
        (name = "quality", description = "Data quality (chất lượng dữ liệu): each table's declarative checks, runs on its versions with failing-row samples, the six-criteria scores (đúng, đủ, sạch, sống, thống nhất, dùng chung) and the report per agency"),
        (name = "refdata", description = "Reference data (danh mục dùng chung): the administrative units and their conversion from the legacy units to the 2025 units; code lists with versions, lookups as of a date, import and export"),
    )
)]
pub struct ApiDoc;

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
