//! Cổng dữ liệu mở — what the open data portal and its APIs (CKAN, DCAT) may show:
//! only resources that are open, published and free of personal data. Every
//! portal surface asks here, whoever the caller is, so a shared or private resource
//! cannot appear through one of them — not even when asked for by id.

use super::{Kho, ResourceFilter};
use kho_catalog::{DataResource, PersonalData, Status};
use kho_core::agency::Agency;
use kho_core::identity::Subject;
use kho_core::policy::SharingScope;
use kho_core::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Whether a resource belongs on the open data portal (Decree 47/2020).
pub fn is_open_data(r: &DataResource) -> bool {
    r.status == Status::Published
        && r.draft.sharing_scope == SharingScope::Open
        && r.draft.personal_data == PersonalData::None
}

/// An open dataset and the names of its tables.
#[derive(Debug, Clone)]
pub struct OpenDataset {
    pub resource: DataResource,
    pub tables: Vec<String>,
}

/// Danh mục dữ liệu mở — every open dataset with its tables, and the agencies, as the
/// portal's pages and APIs read them: one consistent copy, shared between requests.
#[derive(Debug)]
pub struct OpenCatalogue {
    /// Newest change first.
    pub datasets: Vec<OpenDataset>,
    /// Every agency by id (publishers and their parents).
    pub agencies: BTreeMap<String, Agency>,
    /// Id and slug → position in `datasets`.
    keys: HashMap<String, usize>,
    /// The audit log's head when it was read.
    seq: i64,
}

impl OpenCatalogue {
    fn new(seq: i64, datasets: Vec<OpenDataset>, agencies: BTreeMap<String, Agency>) -> Self {
        let mut keys = HashMap::with_capacity(datasets.len() * 2);
        for (i, d) in datasets.iter().enumerate() {
            keys.insert(d.resource.id.clone(), i);
            keys.insert(d.resource.slug.clone(), i);
        }
        Self { datasets, agencies, keys, seq }
    }

    /// An open dataset by id or slug.
    pub fn dataset(&self, key: &str) -> Option<&OpenDataset> {
        self.keys.get(key).map(|&i| &self.datasets[i])
    }

    pub fn resources(&self) -> impl Iterator<Item = &DataResource> {
        self.datasets.iter().map(|d| &d.resource)
    }
}

/// The copy of the open catalogue kept between requests.
#[derive(Default)]
pub(crate) struct PortalCache {
    copy: Mutex<Option<Arc<OpenCatalogue>>>,
    /// Held while the catalogue is read, so that many requests after a change read it once.
    reading: tokio::sync::Mutex<()>,
}

impl PortalCache {
    fn current(&self, seq: i64) -> Option<Arc<OpenCatalogue>> {
        self.copy.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|c| c.seq == seq).cloned()
    }
}

/// Most resources a portal listing reads at once.
const PAGE: i64 = 500;

fn indexed(r: &DataResource) -> kho_search::IndexedDataset {
    let d = &r.draft;
    kho_search::IndexedDataset {
        id: r.id.clone(),
        title: format!("{} {}", d.title, r.slug),
        title_en: d.title_en.clone().unwrap_or_default(),
        keywords: d.keywords.clone(),
        description: format!("{} {} {}", d.description, d.description_en.clone().unwrap_or_default(), d.theme),
    }
}

impl Kho {
    /// Brings the search index in step with a resource that changed (`before` is how it
    /// was): indexed while it is open data, removed at once when it stops being so;
    /// nothing to do for a resource that was and is not open data. A failure is logged
    /// (the change itself stands); `kho search reindex` repairs the index.
    pub(crate) fn sync_search(&self, before: &DataResource, r: &DataResource) {
        let done = if is_open_data(r) {
            self.search.upsert(&indexed(r))
        } else if is_open_data(before) {
            self.search.remove(&r.id)
        } else {
            return;
        };
        if let Err(e) = done {
            tracing::error!(error = %e, resource = %r.id, "the search index could not follow a change; run kho search reindex");
        }
    }

    /// Rebuilds the search index from the catalogue; returns how many datasets it holds.
    pub async fn reindex_search(&self) -> Result<usize> {
        let open = self.open_resources().await?;
        let docs: Vec<_> = open.iter().map(indexed).collect();
        self.search.rebuild(&docs).map_err(|e| Error::internal(e.to_string()))
    }

    /// Open datasets whose text matches `text` (diacritics ignored, the last word as a
    /// prefix), as id → relevance.
    pub fn search_open(&self, text: &str) -> Result<std::collections::HashMap<String, f32>> {
        let hits = self.search.search(text, 10_000).map_err(|e| Error::internal(e.to_string()))?;
        Ok(hits.into_iter().collect())
    }

    /// The open catalogue as it is now: the copy in memory while nothing has changed,
    /// else read again. Every change to the catalogue, its agencies or its tables is
    /// written with an entry in the audit log, so the log's head says whether the copy
    /// is current — also after a change made by another process (the CLI) on the same
    /// store. The head is read before the catalogue, so a change that lands while it
    /// is read only makes the next request read it again.
    pub async fn open_catalogue(&self) -> Result<Arc<OpenCatalogue>> {
        let (seq, _) = self.store.audit_head().await?;
        if let Some(current) = self.portal.current(seq) {
            return Ok(current);
        }
        let _one_reader = self.portal.reading.lock().await;
        if let Some(current) = self.portal.current(seq) {
            return Ok(current);
        }
        let mut datasets = Vec::new();
        for resource in self.open_resources().await? {
            let tables = self.lake.tables(&resource.id).await?;
            datasets.push(OpenDataset { resource, tables });
        }
        let agencies = self.store.list_agencies().await?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let catalogue = Arc::new(OpenCatalogue::new(seq, datasets, agencies));
        *self.portal.copy.lock().unwrap_or_else(|p| p.into_inner()) = Some(catalogue.clone());
        Ok(catalogue)
    }

    /// Counts a view of an open dataset's public page. A failure is logged: the page
    /// shows all the same.
    pub async fn count_view(&self, resource_id: &str) {
        if let Err(e) = self.store.count_view(resource_id).await {
            tracing::warn!(error = %e, resource = resource_id, "a page view was not counted");
        }
    }

    /// The `n` most viewed open datasets of `catalogue`, most first, with their views.
    pub async fn most_viewed<'a>(
        &self,
        catalogue: &'a OpenCatalogue,
        n: usize,
    ) -> Result<Vec<(&'a DataResource, i64)>> {
        // Datasets viewed while they were open may have been retired since: read more.
        let counted = self.store.most_viewed((n as i64).saturating_mul(4).max(20)).await?;
        Ok(counted
            .into_iter()
            .filter_map(|(id, views)| catalogue.dataset(&id).map(|d| (&d.resource, views)))
            .take(n)
            .collect())
    }

    /// Every open data resource, newest change first, read from the store.
    async fn open_resources(&self) -> Result<Vec<DataResource>> {
        let anonymous = Subject::anonymous();
        let mut out = Vec::new();
        loop {
            let filter = ResourceFilter {
                status: Some(Status::Published),
                scope: Some(SharingScope::Open),
                limit: PAGE,
                offset: out.len() as i64,
                ..Default::default()
            };
            let page = self.list_resources(&anonymous, filter).await?;
            let done = (page.items.len() as i64) < PAGE;
            out.extend(page.items);
            if done {
                break;
            }
        }
        out.retain(is_open_data);
        Ok(out)
    }

    /// One open data resource by id or slug; anything else is "not found".
    pub async fn open_resource(&self, key: &str) -> Result<DataResource> {
        match self.open_catalogue().await?.dataset(key) {
            Some(d) => Ok(d.resource.clone()),
            None => Err(Error::not_found(format!("open dataset {key:?}"))),
        }
    }
}

impl Kho {
    /// Read-only SQL over open data only, for CKAN's `datastore_search_sql`: a table
    /// is a CKAN resource id in double quotes (`"<dataset id>-<table>"`) or
    /// `<dataset>.<table>` as in `POST /api/v1/query`.
    pub async fn open_data_query(&self, sql: &str) -> Result<kho_lake::QueryResult> {
        let checked = kho_lake::query::check_allowing_bare_names(sql)?;
        let mut tables = Vec::new();
        let catalogue = self.open_catalogue().await?;
        for name in &checked.tables {
            let (dataset, table) = if name.schema.is_empty() {
                name.table.split_once('-').map(|(d, t)| (d.to_string(), t.to_string())).unwrap_or_default()
            } else {
                (name.schema.replace('_', "-"), name.table.clone())
            };
            let missing = || Error::not_found(format!("table {name}: no open dataset resource by that id"));
            let d = catalogue.dataset(&dataset).ok_or_else(missing)?;
            if !d.tables.contains(&table) {
                return Err(missing());
            }
            tables.push(kho_lake::QueryTable {
                name: name.clone(),
                resource_id: d.resource.id.clone(),
                table,
                version: None,
            });
        }
        Ok(self.lake.query(checked, &tables, self.settings.query_limits()).await?)
    }
}
