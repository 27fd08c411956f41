//! Cổng dữ liệu mở — what the open data portal and its APIs (CKAN, DCAT) may show:
//! only resources that are open, published and free of personal data. Every
//! portal surface asks here, whoever the caller is, so a shared or private resource
//! cannot appear through one of them — not even when asked for by id.

use super::{Kho, ResourceFilter};
use kho_catalog::{DataResource, PersonalData, Status};
use kho_core::identity::Subject;
use kho_core::policy::SharingScope;
use kho_core::{Error, Result};

/// Whether a resource belongs on the open data portal (Decree 47/2020).
pub fn is_open_data(r: &DataResource) -> bool {
    r.status == Status::Published
        && r.draft.sharing_scope == SharingScope::Open
        && r.draft.personal_data == PersonalData::None
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

    /// Every open data resource, newest change first.
    pub async fn open_resources(&self) -> Result<Vec<DataResource>> {
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
        match self.store.resource(key).await? {
            Some(r) if is_open_data(&r) => Ok(r),
            _ => Err(Error::not_found(format!("open dataset {key:?}"))),
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
        for name in &checked.tables {
            let (dataset, table) = if name.schema.is_empty() {
                name.table.split_once('-').map(|(d, t)| (d.to_string(), t.to_string())).unwrap_or_default()
            } else {
                (name.schema.replace('_', "-"), name.table.clone())
            };
            let missing = || Error::not_found(format!("table {name}: no open dataset resource by that id"));
            let r = self.open_resource(&dataset).await.map_err(|_| missing())?;
            if !self.lake.tables(&r.id)?.contains(&table) {
                return Err(missing());
            }
            tables.push(kho_lake::QueryTable { name: name.clone(), resource_id: r.id, table });
        }
        Ok(self.lake.query(checked, &tables, self.settings.query_limits()).await?)
    }
}
