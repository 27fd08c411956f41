//! DCAT export of the open data (for the national portal and harvesters):
//! `/catalog.{ttl,jsonld,rdf,xml}` — 100 datasets a page, `?page=`, `?modified_since=`
//! — and `/dataset/{id}.{ttl,jsonld,rdf,xml}`. Only open data appears
//! (`services::portal`), also when a dataset is asked for by id.

use crate::http::ckan::base_url;
use crate::http::ckan::dicts::org_name;
use crate::http::error::ApiResult;
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use kho_catalog::dcat::{add_catalog, add_dataset, CatalogPage, DatasetContext, Distribution};
use kho_catalog::rdf::Graph;
use kho_catalog::DataResource;
use kho_core::agency::Agency;
use kho_core::Error;
use serde::Deserialize;
use std::collections::BTreeMap;

const PER_PAGE: usize = 100;

/// An RDF syntax, from the file extension.
#[derive(Clone, Copy)]
enum Syntax {
    Turtle,
    JsonLd,
    RdfXml,
}

impl Syntax {
    fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "ttl" => Some(Self::Turtle),
            "jsonld" => Some(Self::JsonLd),
            "rdf" | "xml" => Some(Self::RdfXml),
            _ => None,
        }
    }

    fn respond(self, g: &Graph) -> Response {
        let (content_type, body) = match self {
            Self::Turtle => ("text/turtle; charset=utf-8", g.to_turtle()),
            Self::JsonLd => ("application/ld+json", g.to_json_ld().to_string()),
            Self::RdfXml => ("application/rdf+xml; charset=utf-8", g.to_rdf_xml()),
        };
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    }
}

/// The dataset's distributions: each table in each format it downloads as.
async fn distributions(state: &AppState, base: &str, r: &DataResource) -> Result<Vec<Distribution>, Error> {
    let lake = &state.kho.lake;
    let mut out = Vec::new();
    for table in lake.tables(&r.id).await? {
        let modified = lake
            .history(&r.id, &table)
            .await?
            .first()
            .and_then(|v| v.timestamp_ms)
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        for format in lake.download_formats(&r.id, &table, None).await? {
            out.push(Distribution {
                table: table.clone(),
                format: format.name().to_uppercase(),
                media_type: format.content_type().split(';').next().unwrap_or("").to_string(),
                download_url: format!(
                    "{base}/api/v1/resources/{}/tables/{table}/download?format={}",
                    r.slug,
                    format.name()
                ),
                modified: modified.clone(),
            });
        }
    }
    Ok(out)
}

async fn add(
    state: &AppState,
    g: &mut Graph,
    base: &str,
    r: &DataResource,
    agencies: &BTreeMap<String, Agency>,
) -> Result<kho_catalog::rdf::Term, Error> {
    let agency = agencies.get(&r.draft.publisher_agency_id);
    let (name, key) = agency.map(|a| (a.name.clone(), org_name(a))).unwrap_or_default();
    let context = DatasetContext {
        base,
        publisher_name: &name,
        publisher_key: &key,
        distributions: distributions(state, base, r).await?,
    };
    Ok(add_dataset(g, r, &context))
}

#[derive(Deserialize)]
pub struct CatalogParams {
    page: Option<usize>,
    /// Only datasets changed at or after this time (RFC 3339 or `yyyy-mm-dd`).
    modified_since: Option<String>,
}

fn parse_since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        .map_err(|_| Error::invalid("modified_since", format!("{text:?} is not a time such as 2025-07-01T00:00:00Z")))
}

async fn catalog(
    state: AppState,
    headers: HeaderMap,
    params: CatalogParams,
    syntax: Syntax,
    ext: &str,
) -> ApiResult<Response> {
    let base = base_url(&state, &headers);
    let catalogue = state.kho.open_catalogue().await?;
    let mut open: Vec<&DataResource> = catalogue.resources().collect();
    let mut page_url = format!("{base}/catalog.{ext}");
    if let Some(since) = params.modified_since.as_deref().filter(|s| !s.is_empty()) {
        let since_time = parse_since(since)?;
        open.retain(|r| r.updated_at >= since_time);
        page_url.push_str(&format!("?modified_since={}", crate::ui::urlencode(since)));
    }
    open.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    let page = params.page.unwrap_or(1).max(1);
    let agencies = &catalogue.agencies;
    let mut g = Graph::default();
    let mut datasets = Vec::new();
    for r in open.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
        datasets.push(add(&state, &mut g, &base, r, agencies).await?);
    }
    let paging = CatalogPage { page, per_page: PER_PAGE, total: open.len(), page_url };
    add_catalog(&mut g, &base, "Dữ liệu mở — Kho", &datasets, &paging);
    Ok(syntax.respond(&g))
}

macro_rules! catalog_handler {
    ($name:ident, $syntax:expr, $ext:literal) => {
        pub async fn $name(
            State(state): State<AppState>,
            headers: HeaderMap,
            Query(params): Query<CatalogParams>,
        ) -> ApiResult<Response> {
            catalog(state, headers, params, $syntax, $ext).await
        }
    };
}

catalog_handler!(catalog_ttl, Syntax::Turtle, "ttl");
catalog_handler!(catalog_jsonld, Syntax::JsonLd, "jsonld");
catalog_handler!(catalog_rdf, Syntax::RdfXml, "rdf");
catalog_handler!(catalog_xml, Syntax::RdfXml, "xml");

/// `/dataset/{id or slug}.{ttl,jsonld,rdf,xml}`; without one of those extensions, the
/// dataset's public page.
pub async fn dataset(
    State(state): State<AppState>,
    caller: crate::http::caller::Caller,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(preview): Query<crate::ui::portal::PreviewParams>,
) -> ApiResult<Response> {
    let Some((key, syntax)) =
        file.rsplit_once('.').and_then(|(key, ext)| Syntax::from_extension(ext).map(|s| (key, s)))
    else {
        return Ok(crate::ui::portal::dataset(state, caller, uri, &file, preview).await);
    };
    let not_found = || Error::not_found(format!("open dataset {key:?}"));
    let catalogue = state.kho.open_catalogue().await?;
    let r = &catalogue.dataset(key).ok_or_else(not_found)?.resource;
    let base = base_url(&state, &headers);
    let mut g = Graph::default();
    add(&state, &mut g, &base, r, &catalogue.agencies).await?;
    Ok(syntax.respond(&g))
}
