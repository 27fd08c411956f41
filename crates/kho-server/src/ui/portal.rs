//! Cổng dữ liệu mở — the public pages: the home page with counts and the newest
//! datasets, the search page (words without diacritics, facets), a dataset's page
//! (metadata, a filterable and sortable preview of each table, downloads, a
//! ready-to-copy API example, `<link rel="alternate">` to its DCAT) and an agency's
//! page. Only open data shows (`services::portal`).

use super::{error_page, layout_with_head, urlencode, Lang};
use crate::http::caller::Caller;
use crate::http::ckan::dicts::org_name;
use crate::http::ckan::search::{find, Corpus};
use crate::http::AppState;
use crate::services::OpenDataset;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use kho_catalog::rdf::xml_escape;
use kho_catalog::DataResource;
use kho_core::agency::Agency;
use kho_core::Error;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Results on one search page.
const PAGE_SIZE: usize = 20;
/// Rows in a dataset page's preview.
const PREVIEW_ROWS: usize = 20;

fn dataset_card(l: Lang, r: &DataResource, agencies: &BTreeMap<String, Agency>) -> Markup {
    let d = &r.draft;
    let title = match (l, &d.title_en) {
        (Lang::En, Some(en)) => en.as_str(),
        _ => d.title.as_str(),
    };
    html! {
        li.card {
            a href={ "/dataset/" (r.slug) } { strong { (title) } }
            p.muted {
                (agencies.get(&d.publisher_agency_id).map(|a| a.name.as_str()).unwrap_or(""))
                @if !d.theme.is_empty() { " · " (d.theme) }
                " · " (r.updated_at.format("%d/%m/%Y"))
            }
            @if !d.description.is_empty() { p { (d.description.chars().take(200).collect::<String>()) } }
        }
    }
}

fn public_page(caller: &Caller, uri: &Uri, title: &str, head: Markup, content: Markup) -> Response {
    Html(layout_with_head(caller, &super::here(uri), title, head, content).into_string()).into_response()
}

pub async fn home(State(state): State<AppState>, caller: Caller, uri: Uri) -> Response {
    let l = caller.lang;
    let result = async {
        let catalogue = state.kho.open_catalogue().await?;
        let (open, agencies) = (&catalogue.datasets, &catalogue.agencies);
        let publishers = catalogue
            .resources()
            .map(|r| &r.draft.publisher_agency_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let tables: usize = open.iter().map(|d| d.tables.len()).sum();
        let viewed = state.kho.most_viewed(&catalogue, 6).await?;
        Ok::<_, Error>(html! {
            form.card role="search" method="get" action="/datasets" {
                label for="q" { (l.t("Tìm dữ liệu mở", "Search open data")) }
                input #q name="q" type="search" placeholder=(l.t("ví dụ: truong hoc, giá đất", "e.g. schools, land price"));
                button type="submit" { (l.t("Tìm", "Search")) }
            }
            p #counts {
                strong { (open.len()) } " " (l.t("bộ dữ liệu mở", "open datasets")) " · "
                strong { (publishers) } " " (l.t("cơ quan công bố", "publishing agencies")) " · "
                strong { (tables) } " " (l.t("bảng dữ liệu", "data tables"))
            }
            h2 { (l.t("Mới cập nhật", "Recently updated")) }
            ul #newest style="list-style:none;padding:0" { @for d in open.iter().take(6) { (dataset_card(l, &d.resource, agencies)) } }
            @if !viewed.is_empty() {
                h2 { (l.t("Xem nhiều nhất", "Most viewed")) }
                ol #most-viewed style="padding-left:1.2rem" {
                    @for (r, views) in &viewed {
                        li {
                            a href={ "/dataset/" (r.slug) } { (match (l, &r.draft.title_en) { (Lang::En, Some(en)) => en.as_str(), _ => r.draft.title.as_str() }) }
                            " · " span.muted { (kho_vn::number(*views as f64)) " " (l.t("lượt xem", "views")) }
                        }
                    }
                }
            }
            p { a href="/datasets" { (l.t("Xem tất cả bộ dữ liệu", "See every dataset")) " →" } " · " a href="/feed.atom" { (l.t("Nguồn tin Atom", "Atom feed")) } }
        })
    };
    match result.await {
        Ok(content) => public_page(&caller, &uri, l.t("Dữ liệu mở", "Open data"), html! {}, content),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    q: Option<String>,
    organization: Option<String>,
    groups: Option<String>,
    tags: Option<String>,
    license_id: Option<String>,
    update_frequency: Option<String>,
    res_format: Option<String>,
    spatial: Option<String>,
    /// `relevance` (the default: best match first, then newest), `newest` or `title`.
    sort: Option<String>,
    page: Option<usize>,
}

/// The orders a search page offers: (value, Vietnamese label, English label).
const SORTS: &[(&str, &str, &str)] = &[
    ("relevance", "Phù hợp nhất", "Best match"),
    ("newest", "Mới cập nhật", "Recently updated"),
    ("title", "Tên (A–Z)", "Title (A–Z)"),
];

/// The facets a search page offers: (field, Vietnamese label, English label).
const FACETS: &[(&str, &str, &str)] = &[
    ("organization", "Cơ quan công bố", "Publisher"),
    ("groups", "Lĩnh vực", "Theme"),
    ("res_format", "Định dạng", "Format"),
    ("tags", "Từ khoá", "Keyword"),
    ("spatial", "Đơn vị hành chính", "Administrative unit"),
    ("license_id", "Giấy phép", "Licence"),
    ("update_frequency", "Tần suất cập nhật", "Update frequency"),
];

/// The name of a 2025 province (2-digit code) or commune (5-digit code), for the
/// spatial facet; the code itself when it names no unit.
fn admin_unit_name(code: &str) -> String {
    static NAMES: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut names = HashMap::new();
        for u in kho_refdata::AdminUnits::embedded().units_2025() {
            names.entry(u.province_code.clone()).or_insert_with(|| u.province_name.clone());
            names.insert(u.code.clone(), format!("{}, {}", u.name, u.province_name));
        }
        names
    });
    names.get(code).cloned().unwrap_or_else(|| code.to_string())
}

/// Each facet value of an open dataset: (field, value, label).
fn facet_values(dataset: &OpenDataset, agencies: &BTreeMap<String, Agency>) -> Vec<(&'static str, String, String)> {
    let d = &dataset.resource.draft;
    let mut out = Vec::new();
    if let Some(a) = agencies.get(&d.publisher_agency_id) {
        out.push(("organization", org_name(a), a.name.clone()));
    }
    if !d.theme.trim().is_empty() {
        out.push(("groups", kho_vn::slugify(&d.theme, 80), d.theme.clone()));
    }
    for k in &d.keywords {
        out.push(("tags", k.clone(), k.clone()));
    }
    out.push(("license_id", d.licence.clone(), d.licence.clone()));
    out.push(("update_frequency", d.update_frequency.as_str().to_string(), d.update_frequency.as_str().to_string()));
    // As the CKAN API lists them: a table is a CSV resource (it downloads in more formats).
    if !dataset.tables.is_empty() {
        out.push(("res_format", "CSV".into(), "CSV".into()));
    }
    for code in &d.spatial {
        out.push(("spatial", code.clone(), admin_unit_name(code)));
    }
    out
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(p): Query<SearchParams>,
) -> Response {
    let l = caller.lang;
    let chosen: Vec<(&str, &String)> = [
        ("organization", &p.organization),
        ("groups", &p.groups),
        ("tags", &p.tags),
        ("license_id", &p.license_id),
        ("update_frequency", &p.update_frequency),
        ("res_format", &p.res_format),
        ("spatial", &p.spatial),
    ]
    .into_iter()
    .filter_map(|(f, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (f, v)))
    .collect();
    let q = p.q.clone().unwrap_or_default();
    let sort = SORTS.iter().map(|(s, _, _)| *s).find(|s| p.sort.as_deref() == Some(*s)).unwrap_or("relevance");
    let result = async {
        let catalogue = state.kho.open_catalogue().await?;
        let agencies = &catalogue.agencies;
        let fq: Vec<String> = chosen.iter().map(|(f, v)| format!("{f}:\"{}\"", v.replace('"', ""))).collect();
        let mut found = find(&Corpus { catalogue: &catalogue, index: &state.kho.search }, &q, &fq)?;
        match sort {
            "newest" => found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id))),
            "title" => found.sort_by_cached_key(|r| (kho_vn::fold(&r.draft.title), kho_vn::marks(&r.draft.title))),
            _ => {}
        }
        let mut counts: BTreeMap<&str, HashMap<String, (String, usize)>> = BTreeMap::new();
        for r in &found {
            let Some(dataset) = catalogue.dataset(&r.id) else { continue };
            for (field, value, label) in facet_values(dataset, agencies) {
                counts.entry(field).or_default().entry(value).or_insert((label, 0)).1 += 1;
            }
        }
        let page = p.page.unwrap_or(1).max(1);
        let shown: Vec<&&DataResource> = found.iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
        let link = |field: &str, value: Option<&str>| {
            let mut parts = vec![format!("q={}", urlencode(&q))];
            if sort != "relevance" {
                parts.push(format!("sort={sort}"));
            }
            for (f, v) in &chosen {
                if *f != field {
                    parts.push(format!("{f}={}", urlencode(v)));
                }
            }
            if let Some(v) = value {
                parts.push(format!("{field}={}", urlencode(v)));
            }
            format!("/datasets?{}", parts.join("&"))
        };
        Ok::<_, Error>(html! {
            form.card role="search" method="get" action="/datasets" {
                label for="q" { (l.t("Từ khoá (không cần dấu)", "Words (accents optional)")) }
                input #q name="q" type="search" value=(q);
                @for (f, v) in &chosen { input type="hidden" name=(f) value=(v); }
                label for="sort" { (l.t("Sắp xếp", "Order")) }
                select #sort name="sort" {
                    @for (value, vi, en) in SORTS { option value=(value) selected[*value == sort] { (l.t(vi, en)) } }
                }
                button type="submit" { (l.t("Tìm", "Search")) }
            }
            p #result-count role="status" { (found.len()) " " (l.t("bộ dữ liệu", "datasets")) }
            div style="display:flex;flex-wrap:wrap;gap:1rem" {
                aside style="flex:1 1 14rem" aria-label=(l.t("Lọc kết quả", "Filter the results")) {
                    @for (field, vi, en) in FACETS {
                        @if let Some(values) = counts.get(field) {
                            h2 style="font-size:1rem" { (l.t(vi, en)) }
                            ul.facet {
                                @let sorted = {
                                    let mut sorted: Vec<_> = values.iter().collect();
                                    sorted.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
                                    sorted
                                };
                                @for (value, (label, n)) in sorted.into_iter().take(10) {
                                    @let on = chosen.iter().any(|(f, v)| f == field && *v == value);
                                    li { @if on {
                                        strong { (label) } " (" (n) ") " a href=(link(field, None)) { "✕" }
                                    } @else {
                                        a href=(link(field, Some(value))) { (label) } " (" (n) ")"
                                    } }
                                }
                            }
                        }
                    }
                }
                ul #results style="flex:3 1 24rem;list-style:none;padding:0" {
                    @for r in &shown { (dataset_card(l, r, agencies)) }
                }
            }
            @if found.len() > page * PAGE_SIZE {
                p { a rel="next" href={ (link("", None)) "&page=" (page + 1) } { (l.t("Trang sau", "Next page")) " →" } }
            }
        })
    };
    match result.await {
        Ok(content) => public_page(&caller, &uri, l.t("Tìm dữ liệu mở", "Search open data"), html! {}, content),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct PreviewParams {
    /// Which table's preview the filter, sort and chart apply to.
    table: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    /// The chart: the column along the bottom, the numeric column summed up (empty:
    /// count rows), and `bar` or `line`.
    x: Option<String>,
    y: Option<String>,
    chart: Option<String>,
}

/// Points of a chart: `y` summed (or rows counted) for each value of `x`, in order.
async fn chart_points(
    state: &AppState,
    r: &DataResource,
    table: &str,
    columns: &[kho_lake::LoadedColumn],
    x: &str,
    y: &str,
) -> Result<Vec<(String, f64)>, Error> {
    let known = |c: &str| columns.iter().any(|k| k.name == c);
    if !known(x) || !(y.is_empty() || known(y)) {
        return Err(Error::invalid("chart", "choose columns of the table"));
    }
    let value = if y.is_empty() { "count(*)".to_string() } else { format!("sum(\"{y}\")") };
    let sql = format!(
        "SELECT CAST(\"{x}\" AS VARCHAR) AS label, CAST({value} AS DOUBLE) AS value FROM \"{}-{table}\" \
         GROUP BY 1 ORDER BY 1 LIMIT {CHART_POINTS}",
        r.id
    );
    let result = state.kho.open_data_query(&sql).await?;
    let rows = kho_lake::to_json_rows(&result.batches).map_err(|e| Error::internal(e.to_string()))?;
    Ok(rows
        .iter()
        .map(|row| {
            let label = row.get("label").and_then(|v| v.as_str()).unwrap_or("").to_string();
            (label, row.get("value").and_then(|v| v.as_f64()).unwrap_or(0.0))
        })
        .collect())
}

/// Most bars or points in a chart.
const CHART_POINTS: usize = 60;

/// A dataset's public page.
pub async fn dataset(state: AppState, caller: Caller, uri: Uri, key: &str, p: PreviewParams) -> Response {
    let l = caller.lang;
    let result = async {
        let catalogue = state.kho.open_catalogue().await?;
        let opened = catalogue.dataset(key).ok_or_else(|| Error::not_found(format!("open dataset {key:?}")))?;
        let (r, agencies) = (&opened.resource, &catalogue.agencies);
        state.kho.count_view(&r.id).await;
        let publisher = agencies.get(&r.draft.publisher_agency_id);
        let mut sections = Vec::new();
        for table in opened.tables.iter().cloned() {
            let here = p.table.as_deref() == Some(table.as_str());
            let sort = p.sort.as_deref().filter(|s| here && !s.is_empty()).map(|s| match s.strip_prefix('-') {
                Some(c) => (c.to_string(), true),
                None => (s.to_string(), false),
            });
            let query = kho_lake::RowQuery {
                limit: PREVIEW_ROWS,
                q: p.q.clone().filter(|q| here && !q.trim().is_empty()),
                sort,
                ..Default::default()
            };
            let (ctx, subject) = (caller.ctx(), &caller.subject);
            let versions = state.kho.table_versions(subject, &ctx, &r.id, &table).await?;
            let (rows, page) = state.kho.table_rows(subject, &ctx, &r.id, &table, query).await?;
            let downloads =
                super::tables::downloads(&state, &caller, r, &table, versions.first().map(|v| v.version)).await?;
            let columns = versions.first().and_then(|v| v.columns.clone()).unwrap_or_default();
            let chart = match (&p.x, here) {
                (Some(x), true) if !x.is_empty() => {
                    let y = p.y.clone().unwrap_or_default();
                    let points = chart_points(&state, r, &table, &columns, x, &y).await?;
                    let label =
                        |c: &str| columns.iter().find(|k| k.name == c).map(|k| k.header.clone()).unwrap_or_default();
                    let y_label = if y.is_empty() { l.t("Số dòng", "Rows").to_string() } else { label(&y) };
                    let title = format!("{y_label} — {}", label(x));
                    let kind = super::chart::Kind::parse(p.chart.as_deref().unwrap_or("bar"));
                    Some(super::chart::svg(l, kind, &points, &label(x), &y_label, &title))
                }
                _ => None,
            };
            sections.push((table, versions, rows, page.total, downloads, chart));
        }
        let d = &r.draft;
        let base = state.kho.settings.public_url.clone().unwrap_or_default();
        let meta: Vec<(&str, String)> = vec![
            (l.t("Cơ quan công bố", "Publisher"), publisher.map(|a| a.name.clone()).unwrap_or_default()),
            (l.t("Lĩnh vực", "Theme"), d.theme.clone()),
            (l.t("Từ khoá", "Keywords"), d.keywords.join(", ")),
            (l.t("Giấy phép", "Licence"), d.licence.clone()),
            (l.t("Tần suất cập nhật", "Update frequency"), d.update_frequency.as_str().to_string()),
            (l.t("Cam kết cập nhật", "Update commitment"), d.update_commitment.clone()),
            (
                l.t("Phạm vi không gian (mã đơn vị hành chính)", "Spatial coverage (admin-unit codes)"),
                d.spatial.join(", "),
            ),
            (l.t("Cập nhật lần cuối", "Last updated"), r.updated_at.format("%d/%m/%Y").to_string()),
            (
                l.t("Liên hệ", "Contact"),
                [d.contact_point.name.as_str(), d.contact_point.email.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · "),
            ),
        ];
        let title = match (l, &d.title_en) {
            (Lang::En, Some(en)) => en.clone(),
            _ => d.title.clone(),
        };
        let head = html! {
            (super::quality::head())
            link rel="alternate" type="application/atom+xml" href="/feed.atom";
            link rel="alternate" type="text/turtle" href={ "/dataset/" (r.id) ".ttl" };
            link rel="alternate" type="application/ld+json" href={ "/dataset/" (r.id) ".jsonld" };
            link rel="alternate" type="application/rdf+xml" href={ "/dataset/" (r.id) ".rdf" };
        };
        let content = html! {
            @if !d.description.is_empty() { p #description { (d.description) } }
            table #metadata { tbody { @for (k, v) in &meta { @if !v.is_empty() { tr { th scope="row" { (k) } td { (v) } } } } } }
            @for (table, versions, rows, total, downloads, chart) in &sections {
                section.card {
                    h2 { (l.t("Bảng", "Table")) " " code { (table) } }
                    p.muted { (total) " " (l.t("dòng", "rows")) " · " (l.t("phiên bản", "version")) " " (versions.first().map(|v| v.version).unwrap_or(0)) }
                    (downloads)
                    form.inline method="get" action={ "/dataset/" (r.slug) } {
                        input type="hidden" name="table" value=(table);
                        label for={ "q-" (table) } { (l.t("Lọc xem trước", "Filter the preview")) }
                        input id={ "q-" (table) } name="q" type="search" value=(p.q.clone().filter(|_| p.table.as_deref() == Some(table.as_str())).unwrap_or_default());
                        button type="submit" { (l.t("Lọc", "Filter")) }
                    }
                    @if let Some(columns) = versions.first().and_then(|v| v.columns.as_ref()) {
                        div style="overflow-x:auto" {
                            table.preview {
                                caption.muted { (l.t("Xem trước", "Preview")) }
                                thead { tr { @for c in columns {
                                    @let desc = p.table.as_deref() == Some(table.as_str()) && p.sort.as_deref() == Some(c.name.as_str());
                                    th scope="col" { a href={ "/dataset/" (r.slug) "?table=" (table) "&q=" (urlencode(p.q.as_deref().unwrap_or(""))) "&sort=" @if desc { "-" } (c.name) } { (c.header) } }
                                } } }
                                tbody { @for row in rows { tr { @for c in columns { td { (row.get(&c.name).map(super::tables::cell).unwrap_or_default()) } } } } }
                            }
                        }
                    }
                    @if let Some(columns) = versions.first().and_then(|v| v.columns.as_ref()) {
                        form.card.chart-form method="get" action={ "/dataset/" (r.slug) } {
                            h3 { (l.t("Vẽ biểu đồ", "Draw a chart")) }
                            input type="hidden" name="table" value=(table);
                            label for={ "x-" (table) } { (l.t("Trục ngang", "Along the bottom")) }
                            select id={ "x-" (table) } name="x" { @for c in columns {
                                option value=(c.name) selected[p.x.as_deref() == Some(c.name.as_str())] { (c.header) }
                            } }
                            label for={ "y-" (table) } { (l.t("Giá trị (cộng dồn)", "Value (summed)")) }
                            select id={ "y-" (table) } name="y" {
                                option value="" { (l.t("Số dòng", "Number of rows")) }
                                @for c in columns.iter().filter(|c| c.kind == "integer" || c.kind == "decimal") {
                                    option value=(c.name) selected[p.y.as_deref() == Some(c.name.as_str())] { (c.header) }
                                }
                            }
                            label for={ "chart-" (table) } { (l.t("Kiểu", "Kind")) }
                            select id={ "chart-" (table) } name="chart" {
                                option value="bar" { (l.t("Cột", "Bars")) }
                                option value="line" selected[p.chart.as_deref() == Some("line")] { (l.t("Đường", "Line")) }
                            }
                            button type="submit" { (l.t("Vẽ", "Draw")) }
                        }
                    }
                    @if let Some(chart) = chart { (chart) }
                    details {
                        summary { (l.t("Dùng qua API", "Use it through the API")) }
                        pre { code { "curl '" (base) "/api/v1/resources/" (r.slug) "/tables/" (table) "/rows?limit=10'\n"
                            "curl '" (base) "/api/3/action/datastore_search?resource_id=" (r.id) "-" (table) "&limit=10'" } }
                    }
                }
            }
            p.muted { "DCAT: " a href={ "/dataset/" (r.id) ".ttl" } { "Turtle" } " · " a href={ "/dataset/" (r.id) ".jsonld" } { "JSON-LD" } " · " a href={ "/dataset/" (r.id) ".rdf" } { "RDF/XML" } }
        };
        let quality = super::quality::portal_section(&state, l, r).await?;
        let answered = state.kho.answered_feedback(&r.id).await?;
        let content = html! { (content) (quality) (super::requests::feedback_section(l, &caller, &r.slug, &answered)) };
        Ok::<_, Error>((title, head, content))
    };
    match result.await {
        Ok((title, head, content)) => public_page(&caller, &uri, &title, head, content),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

/// `/organization/{name}`: an agency's open datasets.
pub async fn organization(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(name): Path<String>,
) -> Response {
    let l = caller.lang;
    let result = async {
        let catalogue = state.kho.open_catalogue().await?;
        let agencies = &catalogue.agencies;
        let agency = agencies
            .values()
            .find(|a| org_name(a) == name || a.id == name)
            .ok_or_else(|| Error::not_found(format!("agency {name:?}")))?;
        let theirs: Vec<&DataResource> =
            catalogue.resources().filter(|r| r.draft.publisher_agency_id == agency.id).collect();
        Ok::<_, Error>((
            agency.name.clone(),
            html! {
                p { (theirs.len()) " " (l.t("bộ dữ liệu mở", "open datasets")) }
                ul style="list-style:none;padding:0" { @for r in theirs { (dataset_card(l, r, agencies)) } }
            },
        ))
    };
    match result.await {
        Ok((title, content)) => public_page(&caller, &uri, &title, html! {}, content),
        Err(e) => error_page(&caller, uri.path(), &e),
    }
}

/// Most entries in the feed.
const FEED_ENTRIES: usize = 50;

/// `/feed.atom`: the open datasets newest change first, one entry each.
pub async fn feed(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let base = crate::http::ckan::base_url(&state, &headers);
    let result = async {
        let catalogue = state.kho.open_catalogue().await?;
        let agencies = &catalogue.agencies;
        let updated = catalogue.resources().map(|r| r.updated_at).max().unwrap_or_else(chrono::Utc::now);
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\">\n  \
             <title>Dữ liệu mở — bộ dữ liệu mới và cập nhật</title>\n  <id>{base}/feed.atom</id>\n  \
             <link rel=\"self\" href=\"{base}/feed.atom\"/>\n  <link href=\"{base}/datasets\"/>\n  <updated>{}</updated>\n",
            updated.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for r in catalogue.resources().take(FEED_ENTRIES) {
            let d = &r.draft;
            let author = agencies.get(&d.publisher_agency_id).map(|a| a.name.as_str()).unwrap_or("");
            let published = r.published_at.unwrap_or(r.created_at);
            xml.push_str(&format!(
                "  <entry>\n    <title>{}</title>\n    <id>{base}/dataset/{}</id>\n    \
                 <link href=\"{base}/dataset/{}\"/>\n    <published>{}</published>\n    <updated>{}</updated>\n    \
                 <author><name>{}</name></author>\n    <summary>{}</summary>\n  </entry>\n",
                xml_escape(&d.title),
                r.id,
                r.slug,
                published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                r.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                xml_escape(author),
                xml_escape(&d.description),
            ));
        }
        xml.push_str("</feed>\n");
        Ok::<_, Error>(xml)
    };
    match result.await {
        Ok(xml) => ([(axum::http::header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response(),
        Err(e) => crate::http::error::ApiError(e).into_response(),
    }
}
