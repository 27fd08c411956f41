//! CKAN's dictionaries made from Kho's catalogue: a data resource is a *package*
//! (dataset), each of its tables a *resource* with `datastore_active`, its publishing
//! agency an *organization*, its theme (lĩnh vực) a *group*. Kho's Vietnamese
//! fields travel as `extras`.

use super::{Call, CkanError, CkanResult};
use crate::services::OpenCatalogue;
use kho_catalog::{DataResource, Frequency};
use kho_core::agency::Agency;
use kho_lake::{Filter, RowQuery, TableName};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The licences Kho knows by id: (id, title, url, open).
const LICENCES: &[(&str, &str, &str)] = &[
    ("CC-BY-4.0", "Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    ("CC-BY-SA-4.0", "Creative Commons Attribution Share-Alike 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    ("CC0-1.0", "Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/"),
    ("ODC-BY-1.0", "Open Data Commons Attribution License", "https://opendatacommons.org/licenses/by/1-0/"),
    ("ODbL-1.0", "Open Data Commons Open Database License", "https://opendatacommons.org/licenses/odbl/1-0/"),
];

fn licence(id: &str) -> (String, String) {
    match LICENCES.iter().find(|(l, _, _)| l.eq_ignore_ascii_case(id)) {
        Some((_, title, url)) => (title.to_string(), url.to_string()),
        None => (id.to_string(), String::new()),
    }
}

pub fn license_list() -> Value {
    Value::Array(
        LICENCES
            .iter()
            .map(|(id, title, url)| json!({"id": id, "title": title, "url": url, "od_conformance": "approved", "status": "active"}))
            .collect(),
    )
}

/// CKAN writes times in UTC without a zone.
pub fn ckan_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The organization name of an agency: its code, lowercase, dots as dashes.
pub fn org_name(a: &Agency) -> String {
    a.code.as_str().to_lowercase().replace('.', "-")
}

pub fn org_dict(a: &Agency, package_count: usize) -> Value {
    json!({
        "id": a.id, "name": org_name(a), "title": a.name, "display_name": a.name,
        "description": "", "image_url": "", "created": ckan_time(a.created_at),
        "is_organization": true, "state": "active", "type": "organization", "approval_status": "approved",
        "package_count": package_count,
    })
}

/// The group name of a theme (lĩnh vực): its slug.
pub fn group_name(theme: &str) -> String {
    kho_vn::slugify(theme, 80)
}

fn group_dict(theme: &str, package_count: usize) -> Value {
    json!({"id": group_name(theme), "name": group_name(theme), "title": theme, "display_name": theme,
           "description": "", "image_url": "", "is_organization": false, "state": "active", "type": "group",
           "package_count": package_count})
}

fn frequency(f: Frequency) -> &'static str {
    match f {
        Frequency::Continuous => "continuous",
        Frequency::Daily => "daily",
        Frequency::Weekly => "weekly",
        Frequency::Monthly => "monthly",
        Frequency::Quarterly => "quarterly",
        Frequency::Annual => "annual",
        Frequency::Irregular => "irregular",
        Frequency::Never => "never",
    }
}

/// A CKAN resource id names the dataset and the table: `<dataset id>-<table>`.
pub fn resource_id(r: &DataResource, table: &str) -> String {
    format!("{}-{table}", r.id)
}

fn split_resource_id(id: &str) -> CkanResult<(&str, &str)> {
    id.split_once('-').ok_or_else(|| CkanError::not_found(format!("Resource was not found: {id}")))
}

/// The CKAN resources of a dataset: one a table. `detailed` adds the load times (reads
/// each table's history).
async fn resources(call: &Call<'_>, r: &DataResource, detailed: bool) -> CkanResult<Vec<Value>> {
    let lake = &call.state.kho.lake;
    let mut out = Vec::new();
    for (position, table) in lake.tables(&r.id).await.map_err(kho_core::Error::from)?.into_iter().enumerate() {
        let url = format!("{}/api/v1/resources/{}/tables/{table}/download?format=csv", call.base, r.slug);
        let mut d = json!({
            "id": resource_id(r, &table), "package_id": r.id, "name": table, "description": "",
            "url": url, "format": "CSV", "mimetype": "text/csv", "mimetype_inner": null, "size": null, "hash": "",
            "position": position, "state": "active", "url_type": "datastore", "resource_type": null,
            "cache_url": null, "cache_last_updated": null, "datastore_active": true,
            "created": ckan_time(r.created_at), "last_modified": null,
            "kho_sql_name": TableName::of(&r.slug, &table).to_string(),
        });
        if detailed {
            let versions = lake.history(&r.id, &table).await.map_err(kho_core::Error::from)?;
            let at = |v: Option<&kho_lake::TableVersion>| {
                v.and_then(|v| v.timestamp_ms)
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(ckan_time)
                    .map(Value::String)
                    .unwrap_or(Value::Null)
            };
            d["created"] = at(versions.last());
            d["last_modified"] = at(versions.first());
            d["hash"] = versions.first().and_then(|v| v.source_sha256.clone()).map(Value::String).unwrap_or_default();
        }
        out.push(d);
    }
    Ok(out)
}

pub async fn package_dict(
    call: &Call<'_>,
    r: &DataResource,
    agencies: &BTreeMap<String, Agency>,
    detailed: bool,
) -> CkanResult<Value> {
    let d = &r.draft;
    let (license_title, license_url) = licence(&d.licence);
    let tags: Vec<Value> = d
        .keywords
        .iter()
        .map(|k| json!({"id": k, "name": k, "display_name": k, "state": "active", "vocabulary_id": null}))
        .collect();
    let groups: Vec<Value> = if d.theme.trim().is_empty() { vec![] } else { vec![group_dict(&d.theme, 0)] };
    let organization = agencies.get(&d.publisher_agency_id).map(|a| org_dict(a, 0)).unwrap_or(Value::Null);
    let resources = resources(call, r, detailed).await?;
    let mut extras: Vec<(&str, String)> = vec![
        ("sharing_scope", "open".into()),
        ("importance", d.importance.as_str().into()),
        ("personal_data", d.personal_data.as_str().into()),
        ("update_frequency", frequency(d.update_frequency).into()),
        ("update_commitment", d.update_commitment.clone()),
        ("spatial_admin_units", d.spatial.join(",")),
        ("access_conditions", d.access_conditions.clone()),
        ("legal_basis", d.legal_basis.clone()),
        ("theme", d.theme.clone()),
        ("contact_phone", d.contact_point.phone.clone()),
    ];
    if let Some(t) = &d.title_en {
        extras.push(("title_en", t.clone()));
    }
    if let Some(t) = &d.description_en {
        extras.push(("description_en", t.clone()));
    }
    if let Some(s) = d.temporal_start {
        extras.push(("temporal_start", s.to_string()));
    }
    if let Some(e) = d.temporal_end {
        extras.push(("temporal_end", e.to_string()));
    }
    let extras: Vec<Value> =
        extras.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| json!({"key": k, "value": v})).collect();
    Ok(json!({
        "id": r.id, "name": r.slug, "title": d.title, "type": "dataset", "state": "active", "private": false,
        "owner_org": d.publisher_agency_id, "organization": organization,
        "author": agencies.get(&d.publisher_agency_id).map(|a| a.name.clone()), "author_email": null,
        "maintainer": d.contact_point.name, "maintainer_email": d.contact_point.email,
        "license_id": d.licence, "license_title": license_title, "license_url": license_url, "isopen": true,
        "notes": d.description, "url": format!("{}/api/v1/resources/{}", call.base, r.slug), "version": null,
        "tags": tags, "num_tags": d.keywords.len(), "groups": groups, "extras": extras,
        "num_resources": resources.len(), "resources": resources,
        "metadata_created": ckan_time(r.created_at), "metadata_modified": ckan_time(r.updated_at),
        "creator_user_id": null, "relationships_as_subject": [], "relationships_as_object": [],
    }))
}

pub fn status_show(call: &Call<'_>) -> Value {
    json!({
        "site_title": "Kho — Cổng dữ liệu mở", "site_description": "Dữ liệu mở của tỉnh",
        "site_url": call.base, "ckan_version": "2.10.4", "error_emails_to": null, "locale_default": "vi",
        "extensions": ["datastore", "kho"],
    })
}

pub async fn package_list(call: &Call<'_>) -> CkanResult {
    let (limit, offset) = (call.params.int("limit", i64::MAX, i64::MAX)?, call.params.int("offset", 0, i64::MAX)?);
    let catalogue = call.state.kho.open_catalogue().await?;
    let mut names: Vec<&str> = catalogue.resources().map(|r| r.slug.as_str()).collect();
    names.sort();
    Ok(json!(names.into_iter().skip(offset as usize).take(limit as usize).collect::<Vec<_>>()))
}

pub async fn package_show(call: &Call<'_>) -> CkanResult {
    let id = call.params.required("id")?;
    let catalogue = call.state.kho.open_catalogue().await?;
    let d = catalogue.dataset(&id).ok_or_else(|| CkanError::not_found("Not found"))?;
    package_dict(call, &d.resource, &catalogue.agencies, true).await
}

/// Agencies that publish open data, with their counts.
fn publishing_agencies(catalogue: &OpenCatalogue) -> Vec<(&Agency, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in catalogue.resources() {
        *counts.entry(&r.draft.publisher_agency_id).or_default() += 1;
    }
    let mut out: Vec<(&Agency, usize)> =
        counts.into_iter().filter_map(|(id, n)| catalogue.agencies.get(id).map(|a| (a, n))).collect();
    out.sort_by_key(|(a, _)| org_name(a));
    out
}

pub async fn organization_list(call: &Call<'_>) -> CkanResult {
    let all_fields = call.params.bool("all_fields", false)?;
    let (limit, offset) = (call.params.int("limit", 1000, 1000)?, call.params.int("offset", 0, i64::MAX)?);
    let catalogue = call.state.kho.open_catalogue().await?;
    let orgs = publishing_agencies(&catalogue).into_iter().skip(offset as usize).take(limit as usize);
    Ok(Value::Array(orgs.map(|(a, n)| if all_fields { org_dict(a, n) } else { json!(org_name(a)) }).collect()))
}

pub async fn organization_show(call: &Call<'_>) -> CkanResult {
    let id = call.params.required("id")?;
    let catalogue = call.state.kho.open_catalogue().await?;
    let (agency, n) = publishing_agencies(&catalogue)
        .into_iter()
        .find(|(a, _)| a.id == id || org_name(a) == id)
        .ok_or_else(|| CkanError::not_found("Organization not found"))?;
    let mut dict = org_dict(agency, n);
    if call.params.bool("include_datasets", false)? {
        let mut packages = Vec::new();
        for r in catalogue.resources().filter(|r| r.draft.publisher_agency_id == agency.id) {
            packages.push(package_dict(call, r, &catalogue.agencies, false).await?);
        }
        dict["packages"] = Value::Array(packages);
    }
    Ok(dict)
}

async fn themes(call: &Call<'_>) -> CkanResult<BTreeMap<String, (String, usize)>> {
    let mut out: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for r in call.state.kho.open_catalogue().await?.resources() {
        if !r.draft.theme.trim().is_empty() {
            out.entry(group_name(&r.draft.theme)).or_insert_with(|| (r.draft.theme.clone(), 0)).1 += 1;
        }
    }
    Ok(out)
}

pub async fn group_list(call: &Call<'_>) -> CkanResult {
    let all_fields = call.params.bool("all_fields", false)?;
    let groups = themes(call).await?;
    Ok(Value::Array(
        groups
            .into_iter()
            .map(|(name, (theme, n))| if all_fields { group_dict(&theme, n) } else { json!(name) })
            .collect(),
    ))
}

pub async fn group_show(call: &Call<'_>) -> CkanResult {
    let id = call.params.required("id")?;
    let (theme, n) = themes(call).await?.remove(&id).ok_or_else(|| CkanError::not_found("Group not found"))?;
    Ok(group_dict(&theme, n))
}

pub async fn tag_list(call: &Call<'_>) -> CkanResult {
    let prefix = call.params.str("query").map(|q| kho_vn::fold(&q));
    let catalogue = call.state.kho.open_catalogue().await?;
    let mut tags: Vec<&String> = catalogue.resources().flat_map(|r| &r.draft.keywords).collect();
    tags.sort();
    tags.dedup();
    tags.retain(|t| prefix.as_ref().is_none_or(|p| kho_vn::fold(t).starts_with(p.as_str())));
    Ok(json!(tags))
}

/// The open dataset and table a CKAN resource id names.
async fn open_table(call: &Call<'_>, id: &str) -> CkanResult<(DataResource, String)> {
    let (dataset, table) = split_resource_id(id)?;
    let missing = || CkanError::not_found(format!("Resource \"{id}\" was not found."));
    let catalogue = call.state.kho.open_catalogue().await?;
    let d = catalogue.dataset(dataset).ok_or_else(missing)?;
    if !d.tables.iter().any(|t| t == table) {
        return Err(missing());
    }
    Ok((d.resource.clone(), table.to_string()))
}

pub async fn resource_show(call: &Call<'_>) -> CkanResult {
    let id = call.params.required("id")?;
    let (r, table) = open_table(call, &id).await?;
    let all = resources(call, &r, true).await?;
    Ok(all.into_iter().find(|d| d["name"] == table.as_str()).unwrap_or(Value::Null))
}

/// Kho's kinds as the datastore's type names.
fn datastore_type(kind: &str) -> &'static str {
    match kind {
        "integer" => "int8",
        "decimal" => "numeric",
        "date" => "date",
        "timestamp" => "timestamp",
        "boolean" => "bool",
        _ => "text",
    }
}

pub async fn datastore_search(call: &Call<'_>) -> CkanResult {
    let p = &call.params;
    let id = p.required("resource_id").or_else(|_| p.required("id"))?;
    let (r, table) = open_table(call, &id).await?;
    let (limit, offset) = (p.int("limit", 100, 32_000)?, p.int("offset", 0, i64::MAX)?);
    let mut filters = Vec::new();
    let given_filters = match p.value("filters") {
        Some(Value::String(s)) => serde_json::from_str::<Map<String, Value>>(s)
            .map_err(|_| CkanError::validation("filters", "Not a JSON object"))?,
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(CkanError::validation("filters", "Not a JSON object")),
    };
    for (column, value) in &given_filters {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Array(items) if items.len() == 1 => {
                items[0].as_str().map(String::from).unwrap_or(items[0].to_string())
            }
            Value::Array(_) => {
                return Err(CkanError::validation("filters", format!("{column}: one value per field is supported")))
            }
            other => other.to_string(),
        };
        filters.push(Filter { column: column.clone(), op: kho_lake::Comparison::Eq, value });
    }
    let q = match p.value("q") {
        Some(Value::Object(by_field)) => {
            Some(by_field.values().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(" "))
        }
        _ => p.str("q"),
    };
    let sort = p.str("sort").and_then(|s| {
        let first = s.split(',').next()?.trim().to_string();
        let mut words = first.split_whitespace();
        let column = words.next()?.trim_matches('"').to_string();
        Some((column, words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"))))
    });
    let query = RowQuery {
        version: None,
        filters,
        q: q.filter(|q| !q.trim().is_empty()),
        fields: p.list("fields"),
        sort,
        limit: limit.max(1) as usize,
        offset: offset as usize,
        ..Default::default()
    };
    let kho = &call.state.kho;
    let anonymous = kho_core::identity::Subject::anonymous();
    let ctx = kho_core::audit::AuditContext::new(&anonymous, None);
    let versions = kho.table_versions(&anonymous, &ctx, &r.id, &table).await?;
    let columns = versions.first().and_then(|v| v.columns.clone()).unwrap_or_default();
    let wanted = p.list("fields");
    let fields: Vec<Value> = columns
        .iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.name))
        .map(|c| json!({"id": c.name, "type": datastore_type(&c.kind)}))
        .collect();
    let (records, page) = kho.table_rows(&anonymous, &ctx, &r.id, &table, query).await?;
    let path = format!("/api/3/action/datastore_search?resource_id={id}");
    let mut links = json!({"start": path, "next": format!("{path}&offset={}", offset + limit)});
    if offset - limit > 0 {
        links["prev"] = json!(format!("{path}&offset={}", offset - limit));
    }
    let mut result = json!({
        "resource_id": id, "fields": fields, "records": records, "limit": limit, "offset": offset,
        "filters": given_filters, "_links": links, "include_total": p.bool("include_total", true)?,
    });
    if p.bool("include_total", true)? {
        result["total"] = json!(page.total);
        result["total_was_estimated"] = json!(page.total_is_estimate);
    }
    Ok(result)
}

pub async fn datastore_search_sql(call: &Call<'_>) -> CkanResult {
    let sql = call.params.required("sql")?;
    let result = call.state.kho.open_data_query(&sql).await?;
    let records = kho_lake::to_json_rows(&result.batches)
        .map_err(|e| CkanError::from(kho_core::Error::internal(format!("the rows could not be shown: {e}"))))?;
    let fields: Vec<Value> =
        result.columns().into_iter().map(|(name, kind)| json!({"id": name, "type": datastore_type(kind)})).collect();
    let mut out = json!({"sql": sql, "fields": fields, "records": records});
    if result.truncated {
        out["records_truncated"] = Value::Bool(true);
    }
    Ok(out)
}
