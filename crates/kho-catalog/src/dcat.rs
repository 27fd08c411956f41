//! DCAT-AP for the national portal and harvesters: a data resource as a
//! `dcat:Dataset` with its distributions, in a paged `dcat:Catalog` (Hydra paging
//! terms). The Vietnamese fields (sharing scope, importance, personal data, legal
//! basis, update commitment) travel as `kho:` properties that DCAT-AP consumers ignore.

use crate::rdf::{iri, Graph, Term};
use crate::{DataResource, Frequency};

/// One downloadable file of a dataset: a table in one format.
#[derive(Debug, Clone)]
pub struct Distribution {
    pub table: String,
    /// `CSV`, `JSON`, `XLSX`, …
    pub format: String,
    pub media_type: String,
    pub download_url: String,
    /// When its newest version was loaded (RFC 3339).
    pub modified: Option<String>,
}

/// What the mapping needs besides the resource itself.
pub struct DatasetContext<'a> {
    /// Where Kho is reached (`https://dulieu.bacninh.gov.vn`), without a trailing `/`.
    pub base: &'a str,
    pub publisher_name: &'a str,
    /// The publisher's organisation name as the CKAN API gives it.
    pub publisher_key: &'a str,
    pub distributions: Vec<Distribution>,
}

/// The dataset's URI.
pub fn dataset_uri(base: &str, r: &DataResource) -> String {
    format!("{base}/dataset/{}", r.id)
}

/// The EU frequency vocabulary.
fn frequency_uri(f: Frequency) -> String {
    let code = match f {
        Frequency::Continuous => "UPDATE_CONT",
        Frequency::Daily => "DAILY",
        Frequency::Weekly => "WEEKLY",
        Frequency::Monthly => "MONTHLY",
        Frequency::Quarterly => "QUARTERLY",
        Frequency::Annual => "ANNUAL",
        Frequency::Irregular => "IRREG",
        Frequency::Never => "NEVER",
    };
    format!("http://publications.europa.eu/resource/authority/frequency/{code}")
}

fn licence_uri(id: &str) -> String {
    match id.to_ascii_uppercase().as_str() {
        "CC-BY-4.0" => "https://creativecommons.org/licenses/by/4.0/".into(),
        "CC-BY-SA-4.0" => "https://creativecommons.org/licenses/by-sa/4.0/".into(),
        "CC0-1.0" => "https://creativecommons.org/publicdomain/zero/1.0/".into(),
        "ODC-BY-1.0" => "https://opendatacommons.org/licenses/by/1-0/".into(),
        "ODBL-1.0" => "https://opendatacommons.org/licenses/odbl/1-0/".into(),
        _ => format!("urn:kho:licence:{id}"),
    }
}

fn time(t: chrono::DateTime<chrono::Utc>) -> Term {
    Term::typed(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "xsd:dateTime")
}

/// Adds the dataset, its publisher, contact point and distributions to `g`.
pub fn add_dataset(g: &mut Graph, r: &DataResource, c: &DatasetContext<'_>) -> Term {
    let d = &r.draft;
    let ds = Term::iri(dataset_uri(c.base, r));
    g.add(&ds, "rdf:type", Term::iri(iri("dcat:Dataset")));
    g.add(&ds, "dct:title", Term::vi(&d.title));
    if let Some(en) = &d.title_en {
        g.add(&ds, "dct:title", Term::en(en));
    }
    if !d.description.is_empty() {
        g.add(&ds, "dct:description", Term::vi(&d.description));
    }
    if let Some(en) = &d.description_en {
        g.add(&ds, "dct:description", Term::en(en));
    }
    for k in &d.keywords {
        g.add(&ds, "dcat:keyword", Term::vi(k));
    }
    if !d.theme.trim().is_empty() {
        let theme = Term::iri(format!("{}/theme/{}", c.base, kho_vn::slugify(&d.theme, 80)));
        g.add(&ds, "dcat:theme", theme.clone());
        g.add(&theme, "rdf:type", Term::iri(iri("skos:Concept")));
        g.add(&theme, "skos:prefLabel", Term::vi(&d.theme));
    }
    g.add(&ds, "dct:identifier", Term::plain(&r.id));
    if let Some(p) = r.published_at {
        g.add(&ds, "dct:issued", time(p));
    }
    g.add(&ds, "dct:modified", time(r.updated_at));
    g.add(&ds, "dcat:landingPage", Term::iri(format!("{}/api/v1/resources/{}", c.base, r.slug)));
    g.add(&ds, "dct:accrualPeriodicity", Term::iri(frequency_uri(d.update_frequency)));
    g.add(&ds, "dct:language", Term::iri("http://publications.europa.eu/resource/authority/language/VIE"));
    for code in &d.spatial {
        let place = g.blank();
        g.add(&ds, "dct:spatial", place.clone());
        g.add(&place, "rdf:type", Term::iri(iri("dct:Location")));
        g.add(&place, "skos:notation", Term::plain(code));
    }
    if d.temporal_start.is_some() || d.temporal_end.is_some() {
        let period = g.blank();
        g.add(&ds, "dct:temporal", period.clone());
        g.add(&period, "rdf:type", Term::iri(iri("dct:PeriodOfTime")));
        if let Some(s) = d.temporal_start {
            g.add(&period, "dcat:startDate", Term::typed(s.to_string(), "xsd:date"));
        }
        if let Some(e) = d.temporal_end {
            g.add(&period, "dcat:endDate", Term::typed(e.to_string(), "xsd:date"));
        }
    }
    let publisher = Term::iri(format!("{}/organization/{}", c.base, c.publisher_key));
    g.add(&ds, "dct:publisher", publisher.clone());
    g.add(&publisher, "rdf:type", Term::iri(iri("foaf:Agent")));
    g.add(&publisher, "foaf:name", Term::vi(c.publisher_name));
    let contact = &d.contact_point;
    if !contact.name.is_empty() || !contact.email.is_empty() {
        let kind = g.blank();
        g.add(&ds, "dcat:contactPoint", kind.clone());
        g.add(&kind, "rdf:type", Term::iri(iri("vcard:Kind")));
        if !contact.name.is_empty() {
            g.add(&kind, "vcard:fn", Term::plain(&contact.name));
        }
        if !contact.email.is_empty() {
            g.add(&kind, "vcard:hasEmail", Term::iri(format!("mailto:{}", contact.email)));
        }
    }
    let licence = Term::iri(licence_uri(&d.licence));
    g.add(&ds, "dct:license", licence.clone());
    if !d.access_conditions.is_empty() {
        g.add(&ds, "dct:rights", Term::vi(&d.access_conditions));
    }
    g.add(&ds, "kho:sharingScope", Term::plain("open"));
    g.add(&ds, "kho:importance", Term::plain(d.importance.as_str()));
    g.add(&ds, "kho:personalData", Term::plain(d.personal_data.as_str()));
    if !d.legal_basis.is_empty() {
        g.add(&ds, "kho:legalBasis", Term::vi(&d.legal_basis));
    }
    if !d.update_commitment.is_empty() {
        g.add(&ds, "kho:updateCommitment", Term::vi(&d.update_commitment));
    }
    for dist in &c.distributions {
        let node = Term::iri(format!(
            "{}/distribution/{}-{}",
            dataset_uri(c.base, r),
            dist.table,
            dist.format.to_ascii_lowercase()
        ));
        g.add(&ds, "dcat:distribution", node.clone());
        g.add(&node, "rdf:type", Term::iri(iri("dcat:Distribution")));
        g.add(&node, "dct:title", Term::vi(format!("{} ({})", dist.table, dist.format)));
        g.add(&node, "dcat:accessURL", Term::iri(&dist.download_url));
        g.add(&node, "dcat:downloadURL", Term::iri(&dist.download_url));
        g.add(
            &node,
            "dcat:mediaType",
            Term::iri(format!("http://www.iana.org/assignments/media-types/{}", dist.media_type)),
        );
        g.add(&node, "dct:format", Term::plain(&dist.format));
        g.add(&node, "dct:license", licence.clone());
        if let Some(m) = &dist.modified {
            g.add(&node, "dct:modified", Term::typed(m, "xsd:dateTime"));
        }
    }
    ds
}

/// One page of the catalogue.
pub struct CatalogPage {
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    pub total: usize,
    /// The address of this listing without `page=` (e.g. `https://…/catalog.ttl?modified_since=…`).
    pub page_url: String,
}

/// The catalogue node with Hydra paging, linking the datasets on this page.
pub fn add_catalog(g: &mut Graph, base: &str, title: &str, datasets: &[Term], paging: &CatalogPage) {
    let catalog = Term::iri(format!("{base}/catalog"));
    g.add(&catalog, "rdf:type", Term::iri(iri("dcat:Catalog")));
    g.add(&catalog, "dct:title", Term::vi(title));
    g.add(&catalog, "dct:language", Term::iri("http://publications.europa.eu/resource/authority/language/VIE"));
    g.add(&catalog, "foaf:homepage", Term::iri(format!("{base}/")));
    for d in datasets {
        g.add(&catalog, "dcat:dataset", d.clone());
    }
    let join = if paging.page_url.contains('?') { '&' } else { '?' };
    let url = |n: usize| Term::iri(format!("{}{join}page={n}", paging.page_url));
    let last = paging.total.div_ceil(paging.per_page).max(1);
    let page = url(paging.page);
    g.add(&page, "rdf:type", Term::iri(iri("hydra:PagedCollection")));
    g.add(&page, "hydra:totalItems", Term::typed(paging.total.to_string(), "xsd:integer"));
    g.add(&page, "hydra:itemsPerPage", Term::typed(paging.per_page.to_string(), "xsd:integer"));
    g.add(&page, "hydra:firstPage", url(1));
    g.add(&page, "hydra:lastPage", url(last));
    if paging.page < last {
        g.add(&page, "hydra:nextPage", url(paging.page + 1));
    }
    if paging.page > 1 {
        g.add(&page, "hydra:previousPage", url(paging.page - 1));
    }
}
