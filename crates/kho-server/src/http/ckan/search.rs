//! `package_search`: `q` words (diacritics ignored; title > keywords > description),
//! the Solr subset of `fq` that harvesters send (`field:value`, `field:"quoted"`,
//! `-field:value`, `OR`, ranges `metadata_modified:[2024-01-01T00:00:00Z TO *]`),
//! sort, paging and facets.

use super::dicts::{ckan_time, group_name, org_name, package_dict};
use super::{Call, CkanError, CkanResult};
use crate::services::{OpenCatalogue, OpenDataset};
use kho_catalog::DataResource;
use kho_core::agency::Agency;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Most results a page may hold.
const MAX_ROWS: i64 = 1000;
const FACET_FIELDS: &[&str] = &["organization", "groups", "tags", "res_format", "license_id", "update_frequency"];

/// What one term of `fq` asks.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// Field equals the value (case ignored); `*` means "has a value".
    Is(String, String),
    /// Field is within the range (either end may be `*`).
    Within(String, Option<String>, Option<String>),
    All,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    test: Test,
}

/// A query: every clause must hold; a clause holds when one of its terms does.
type Clauses = Vec<Vec<Term>>;

fn tokens(text: &str) -> CkanResult<Vec<String>> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut bracket) = (false, false);
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '[' | '{' if !quoted => {
                bracket = true;
                current.push(c);
            }
            ']' | '}' if !quoted => {
                bracket = false;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted && !bracket => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            '(' | ')' if !quoted && !bracket => {}
            c => current.push(c),
        }
    }
    if quoted || bracket {
        return Err(CkanError::search_query(format!("unbalanced quotes or brackets in {text:?}")));
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

fn term(token: &str) -> CkanResult<Term> {
    let (negated, token) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token.strip_prefix('+').unwrap_or(token)),
    };
    if token == "*:*" {
        return Ok(Term { negated, test: Test::All });
    }
    let (field, value) =
        token.split_once(':').ok_or_else(|| CkanError::search_query(format!("{token:?} is not field:value")))?;
    let field = field.to_string();
    let test = if let Some(range) = value.strip_prefix(['[', '{']).and_then(|v| v.strip_suffix([']', '}'])) {
        let (from, to) = range
            .split_once(" TO ")
            .ok_or_else(|| CkanError::search_query(format!("{value:?} is not a range [A TO B]")))?;
        let end = |v: &str| (v.trim() != "*").then(|| v.trim().to_string());
        Test::Within(field, end(from), end(to))
    } else {
        Test::Is(field, value.trim_matches('"').to_string())
    };
    Ok(Term { negated, test })
}

fn parse(text: &str) -> CkanResult<Clauses> {
    let mut clauses: Clauses = Vec::new();
    let mut join_next = false;
    for token in tokens(text)? {
        match token.as_str() {
            "OR" | "||" => join_next = true,
            "AND" | "&&" => join_next = false,
            _ => {
                let t = term(&token)?;
                match clauses.last_mut() {
                    Some(last) if join_next => last.push(t),
                    _ => clauses.push(vec![t]),
                }
                join_next = false;
            }
        }
    }
    Ok(clauses)
}

/// A dataset as the search sees it: the values of a field are made when a term or a
/// facet asks for them.
struct Doc<'a> {
    r: &'a DataResource,
    agency: Option<&'a Agency>,
    has_tables: bool,
}

fn doc<'a>(d: &'a OpenDataset, agencies: &'a BTreeMap<String, Agency>) -> Doc<'a> {
    let r = &d.resource;
    Doc { r, agency: agencies.get(&r.draft.publisher_agency_id), has_tables: !d.tables.is_empty() }
}

/// A time as CKAN writes it, from Solr's `2024-01-01T00:00:00Z` (or a plain date).
fn as_ckan_time(v: &str) -> CkanResult<String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(ckan_time(t.with_timezone(&chrono::Utc)));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(format!("{d}T00:00:00.000000"));
    }
    Err(CkanError::search_query(format!("{v:?} is not a time such as 2024-01-01T00:00:00Z")))
}

impl Doc<'_> {
    fn values(&self, field: &str) -> CkanResult<Vec<String>> {
        let (r, d) = (self.r, &self.r.draft);
        let one = |v: &str| vec![v.to_string()];
        Ok(match field {
            "id" => one(&r.id),
            "name" => one(&r.slug),
            "title" => one(&d.title),
            "tags" => d.keywords.clone(),
            "license_id" => one(&d.licence),
            "owner_org" => one(&d.publisher_agency_id),
            "organization" => self.agency.map(org_name).into_iter().collect(),
            "groups" if d.theme.trim().is_empty() => vec![],
            "groups" => vec![group_name(&d.theme)],
            "res_format" if self.has_tables => one("CSV"),
            "res_format" => vec![],
            "update_frequency" => one(d.update_frequency.as_str()),
            "metadata_modified" => vec![ckan_time(r.updated_at)],
            "metadata_created" => vec![ckan_time(r.created_at)],
            "type" => one("dataset"),
            "state" => one("active"),
            "spatial" => d.spatial.clone(),
            _ => {
                return Err(CkanError::search_query(format!("unknown field {field:?}; use one of {}", known_fields())))
            }
        })
    }

    fn holds(&self, t: &Term) -> CkanResult<bool> {
        let yes = match &t.test {
            Test::All => true,
            Test::Is(field, value) => {
                let values = self.values(field)?;
                value == "*" && !values.is_empty()
                    || values.iter().any(|v| v.eq_ignore_ascii_case(value) || kho_vn::fold(v) == kho_vn::fold(value))
            }
            Test::Within(field, from, to) => {
                let values = self.values(field)?;
                let from = from.as_deref().map(as_ckan_time).transpose()?;
                let to = to.as_deref().map(as_ckan_time).transpose()?;
                values.iter().any(|v| from.as_ref().is_none_or(|f| v >= f) && to.as_ref().is_none_or(|t| v <= t))
            }
        };
        Ok(yes != t.negated)
    }

    fn matches(&self, clauses: &Clauses) -> CkanResult<bool> {
        for clause in clauses {
            let mut any = false;
            for t in clause {
                any |= self.holds(t)?;
            }
            if !any {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn known_fields() -> String {
    "id, name, title, tags, organization, owner_org, groups, res_format, license_id, update_frequency, \
     metadata_modified, metadata_created, spatial"
        .into()
}

/// What a search looks through: the open catalogue and the full-text index.
pub(crate) struct Corpus<'a> {
    pub catalogue: &'a OpenCatalogue,
    pub index: &'a kho_search::SearchIndex,
}

/// The datasets that match `q` (words, and field terms) and every `fq`, with their
/// relevance.
fn hits<'a>(c: &Corpus<'a>, q: &str, fq: &[String]) -> CkanResult<Vec<(f32, Doc<'a>)>> {
    let (all, agencies, index) = (&c.catalogue.datasets, &c.catalogue.agencies, c.index);
    let mut clauses = Vec::new();
    for f in fq {
        clauses.extend(parse(f)?);
    }
    // `q` may hold field terms too (`q=tags:giáo dục`); the rest are words.
    let mut words = Vec::new();
    if !q.trim().is_empty() && q.trim() != "*:*" {
        for token in tokens(q)? {
            if token.contains(':') {
                clauses.push(vec![term(&token)?]);
            } else if token != "OR" && token != "AND" {
                words.push(token);
            }
        }
    }
    // Words go to the full-text index; without words every dataset scores alike.
    let scores: Option<HashMap<String, f32>> = if words.is_empty() {
        None
    } else {
        let found =
            index.search(&words.join(" "), all.len().max(1)).map_err(|e| CkanError::search_query(e.to_string()))?;
        Some(found.into_iter().collect())
    };
    let mut out = Vec::new();
    for dataset in all {
        let score = match &scores {
            None => 0.0,
            Some(s) => match s.get(&dataset.resource.id) {
                Some(score) => *score,
                None => continue,
            },
        };
        let d = doc(dataset, agencies);
        if d.matches(&clauses)? {
            out.push((score, d));
        }
    }
    Ok(out)
}

/// The open datasets matching `q` and `fq`, best first, then newest — for the portal's
/// search page.
pub(crate) fn find<'a>(c: &Corpus<'a>, q: &str, fq: &[String]) -> Result<Vec<&'a DataResource>, kho_core::Error> {
    let mut found = hits(c, q, fq).map_err(|e| kho_core::Error::invalid("q", e.message))?;
    found.sort_by(|(sa, a), (sb, b)| sb.total_cmp(sa).then(b.r.updated_at.cmp(&a.r.updated_at)));
    Ok(found.into_iter().map(|(_, d)| d.r).collect())
}

pub async fn package_search(call: &Call<'_>) -> CkanResult {
    let p = &call.params;
    let rows = p.int("rows", 10, MAX_ROWS)?;
    let start = p.int("start", 0, i64::MAX)?;
    let q = p.str("q").unwrap_or_default();
    let fq: Vec<String> = p.list_raw("fq").into_iter().chain(p.list_raw("fq_list")).collect();
    let kho = &call.state.kho;
    let catalogue = kho.open_catalogue().await?;
    let agencies = &catalogue.agencies;
    let mut hits = hits(&Corpus { catalogue: &catalogue, index: &kho.search }, &q, &fq)?;
    let sort =
        p.str("sort").filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "score desc, metadata_modified desc".into());
    let mut keys = Vec::new();
    for part in sort.split(',') {
        let mut w = part.split_whitespace();
        let field = w.next().unwrap_or("score").to_string();
        let descending = w.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
        if !["score", "metadata_modified", "metadata_created", "name", "title_string", "title", "id"]
            .contains(&field.as_str())
        {
            return Err(CkanError::search_query(format!("cannot sort by {field:?}")));
        }
        keys.push((field, descending));
    }
    hits.sort_by(|(sa, a), (sb, b)| {
        for (field, descending) in &keys {
            let order = match field.as_str() {
                "score" => sa.total_cmp(sb),
                "metadata_modified" => a.r.updated_at.cmp(&b.r.updated_at),
                "metadata_created" => a.r.created_at.cmp(&b.r.created_at),
                "name" => a.r.slug.cmp(&b.r.slug),
                "id" => a.r.id.cmp(&b.r.id),
                _ => kho_vn::fold(&a.r.draft.title).cmp(&kho_vn::fold(&b.r.draft.title)),
            };
            let order = if *descending { order.reverse() } else { order };
            if order != std::cmp::Ordering::Equal {
                return order;
            }
        }
        a.r.id.cmp(&b.r.id)
    });

    let facet_fields = p.list("facet.field");
    let facet_limit = p.str("facet.limit").and_then(|l| l.parse::<i64>().ok()).unwrap_or(50);
    let mincount = p.int("facet.mincount", 1, i64::MAX)? as usize;
    let (mut facets, mut search_facets) = (Map::new(), Map::new());
    for field in &facet_fields {
        if !FACET_FIELDS.contains(&field.as_str()) {
            return Err(CkanError::search_query(format!("cannot facet on {field:?}; use {}", FACET_FIELDS.join(", "))));
        }
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (_, d) in &hits {
            for v in d.values(field)? {
                *counts.entry(v.clone()).or_default() += 1;
            }
        }
        let mut items: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n >= mincount).collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if facet_limit >= 0 {
            items.truncate(facet_limit as usize);
        }
        let display = |name: &str| -> String {
            match field.as_str() {
                "organization" => agencies.values().find(|a| org_name(a) == name).map(|a| a.name.clone()),
                "groups" => {
                    catalogue.resources().find(|r| group_name(&r.draft.theme) == name).map(|r| r.draft.theme.clone())
                }
                _ => None,
            }
            .unwrap_or_else(|| name.to_string())
        };
        facets.insert(field.clone(), Value::Object(items.iter().map(|(n, c)| (n.clone(), json!(c))).collect()));
        let listed: Vec<Value> =
            items.iter().map(|(n, c)| json!({"name": n, "display_name": display(n), "count": c})).collect();
        search_facets.insert(field.clone(), json!({"title": field, "items": listed}));
    }
    let count = hits.len();
    let mut results = Vec::new();
    for (_, d) in hits.iter().skip(start as usize).take(rows as usize) {
        results.push(package_dict(call, d.r, agencies, false).await?);
    }
    Ok(json!({"count": count, "results": results, "facets": facets, "search_facets": search_facets, "sort": sort}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is(field: &str, value: &str, negated: bool) -> Term {
        Term { negated, test: Test::Is(field.into(), value.into()) }
    }

    #[test]
    fn harvester_filters_parse() {
        assert_eq!(
            parse("organization:so-giao-duc OR organization:so-y-te -groups:dat-dai").unwrap(),
            vec![
                vec![is("organization", "so-giao-duc", false), is("organization", "so-y-te", false)],
                vec![is("groups", "dat-dai", true)]
            ]
        );
        assert_eq!(parse("tags:\"giáo dục\"").unwrap(), vec![vec![is("tags", "giáo dục", false)]]);
        assert_eq!(
            parse("metadata_modified:[2024-01-01T00:00:00Z TO *]").unwrap(),
            vec![vec![Term {
                negated: false,
                test: Test::Within("metadata_modified".into(), Some("2024-01-01T00:00:00Z".into()), None)
            }]]
        );
        assert!(parse("tags:\"open").is_err());
        assert!(parse("nonsense").is_err());
        assert_eq!(as_ckan_time("2024-01-01T00:00:00Z").unwrap(), "2024-01-01T00:00:00.000000");
    }
}
