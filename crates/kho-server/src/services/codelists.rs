//! Code lists (danh mục dùng chung): reading, importing, publishing and looking up
//! codes as of a date. Published versions are open data: anyone reads them, without
//! logging in. Stewards manage the lists owned by their agency's subtree, admins all;
//! every change is audited by the store in the same transaction.
//!
//! **Lookups run on an in-memory cache.** The other capabilities look codes up row by
//! row (the target is p99 under 1 ms for a code as of a date), so each list's
//! published versions are kept indexed in memory ([`VersionIndex`]) after the first
//! read. A change made through these services drops the list's entry at once; a
//! change made by another process on the same store (the CLI) is noticed within
//! [`REVALIDATE_AFTER`]: a lookup after that reads the list's `updated_at` once and
//! reloads when it moved. Drafts are never cached.

use super::Kho;
use chrono::NaiveDate;
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::{authorize, Action, Resource, ResourceKind};
use kho_core::{Error, Result};
use kho_refdata::codelist::{
    self, CodeItem, CodeList, CodeListVersion, Diff, ExportFormat, NewCodeList, ValidationReport, VersionIndex,
    VersionStatus,
};
use kho_refdata::AdminUnits;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a cached list is trusted before its `updated_at` is read again.
pub const REVALIDATE_AFTER: Duration = Duration::from_secs(2);

/// The administrative units as a code list: legacy communes, then the 2025 units.
pub const ADMIN_UNITS: &str = "admin-units";
/// The provinces as a code list: 63, then 34.
pub const PROVINCES: &str = "provinces";

/// The legacy lists carry no start date. 2020-01-01 is a safe lower bound: the legacy
/// list is the state after the 2019–2020 commune mergers (Resolutions of the Standing
/// Committee in late 2019 and early 2020), so a date before it finds no version rather
/// than a unit that may not have existed yet.
pub fn legacy_effective_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("a valid date")
}

/// The day the 2025 units came into force (1 July 2025).
pub fn reform_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("a valid date")
}

/// A list with its versions, and the published ones indexed for lookups.
pub struct PublishedList {
    pub list: CodeList,
    pub versions: Vec<CodeListVersion>,
    indexes: HashMap<i64, Arc<VersionIndex>>,
}

impl PublishedList {
    /// The version in force on `date`, indexed.
    pub fn on(&self, date: NaiveDate) -> Option<&Arc<VersionIndex>> {
        codelist::version_on(&self.versions, date).and_then(|v| self.indexes.get(&v.version))
    }
    pub fn version(&self, n: i64) -> Option<&Arc<VersionIndex>> {
        self.indexes.get(&n)
    }
}

struct Cached {
    list: Arc<PublishedList>,
    checked: Instant,
}

/// The published versions of the lists read so far.
#[derive(Default)]
pub struct CodeListCache {
    lists: RwLock<HashMap<String, Cached>>,
}

impl CodeListCache {
    fn fresh(&self, slug: &str) -> Option<(Arc<PublishedList>, bool)> {
        let lists = self.lists.read().unwrap_or_else(|e| e.into_inner());
        lists.get(slug).map(|c| (c.list.clone(), c.checked.elapsed() < REVALIDATE_AFTER))
    }
    fn put(&self, slug: &str, list: Arc<PublishedList>) {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        lists.insert(slug.to_string(), Cached { list, checked: Instant::now() });
    }
    fn touch(&self, slug: &str) {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = lists.get_mut(slug) {
            c.checked = Instant::now();
        }
    }
    /// Drops a list after a change.
    pub fn invalidate(&self, slug: &str) {
        self.lists.write().unwrap_or_else(|e| e.into_inner()).remove(slug);
    }
}

/// Which version to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPick {
    /// A version by number (a draft only for those who manage the list).
    Number(i64),
    /// The published version in force on a date.
    AsOf(NaiveDate),
}

/// A code found as of a date, with the version it came from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lookup {
    pub list: String,
    pub version: i64,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
    pub item: CodeItem,
}

/// What an import made: the draft, its validation report and what it changes against
/// the version in force today (the preview).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub version: CodeListVersion,
    pub report: ValidationReport,
    pub diff: Diff,
}

/// Today in Vietnam (UTC+7), the default date of lookups.
pub fn today() -> NaiveDate {
    (kho_core::time::now() + chrono::Duration::hours(7)).date_naive()
}

impl Kho {
    /// Every code list.
    pub async fn code_lists(&self) -> Result<Vec<CodeList>> {
        Ok(self.store.list_code_lists().await?)
    }

    async fn code_list_row(&self, slug: &str) -> Result<CodeList> {
        self.store
            .code_list(slug)
            .await?
            .ok_or_else(|| Error::not_found(format!("code list {slug:?} (see /api/v1/refdata/code-lists)")))
    }

    /// Whether `subject` may change the list (and see its drafts).
    async fn may_manage(&self, subject: &Subject, list: &CodeList) -> Result<bool> {
        let path = self.agency_path(&list.agency_id).await?;
        let resource = Resource::new(ResourceKind::CodeList).in_agency(&path);
        Ok(authorize(subject, Action::Update, &resource).is_allowed())
    }

    async fn check_manage(&self, subject: &Subject, ctx: &AuditContext, list: &CodeList, action: &str) -> Result<()> {
        let path = self.agency_path(&list.agency_id).await?;
        let resource = Resource::new(ResourceKind::CodeList).in_agency(&path);
        self.check(subject, ctx, Action::Update, resource, action, &format!("codelist:{}", list.slug)).await
    }

    /// A list with its versions; drafts only for those who manage it.
    pub async fn code_list(&self, subject: &Subject, slug: &str) -> Result<(CodeList, Vec<CodeListVersion>)> {
        let list = self.code_list_row(slug).await?;
        let mut versions = self.store.code_list_versions(slug).await?;
        if !self.may_manage(subject, &list).await? {
            versions.retain(|v| v.status == VersionStatus::Published);
        }
        Ok((list, versions))
    }

    /// The list's published versions, indexed, from the cache when it is fresh.
    pub async fn published_code_list(&self, slug: &str) -> Result<Arc<PublishedList>> {
        if let Some((list, fresh)) = self.codelists.fresh(slug) {
            if fresh {
                return Ok(list);
            }
            let row = self.code_list_row(slug).await?;
            if row.updated_at == list.list.updated_at {
                self.codelists.touch(slug);
                return Ok(list);
            }
        }
        let list = self.code_list_row(slug).await?;
        let versions = self.store.code_list_versions(slug).await?;
        let mut indexes = HashMap::new();
        for v in versions.iter().filter(|v| v.status == VersionStatus::Published) {
            let items = self.store.code_list_items(slug, v.version).await?;
            indexes.insert(v.version, Arc::new(VersionIndex::new(v.clone(), items)));
        }
        let published = Arc::new(PublishedList { list, versions, indexes });
        self.codelists.put(slug, published.clone());
        Ok(published)
    }

    /// The items of a version, indexed: a published one from the cache; a draft, for
    /// those who manage the list, from the store.
    pub async fn code_list_version(
        &self,
        subject: &Subject,
        slug: &str,
        pick: VersionPick,
    ) -> Result<Arc<VersionIndex>> {
        let published = self.published_code_list(slug).await?;
        match pick {
            VersionPick::AsOf(date) => published.on(date).cloned().ok_or_else(|| {
                Error::not_found(format!(
                    "a version of {slug:?} in force on {date} (see the list's versions and their dates)"
                ))
            }),
            VersionPick::Number(n) => {
                if let Some(index) = published.version(n) {
                    return Ok(index.clone());
                }
                let versions = self.store.code_list_versions(slug).await?;
                let missing = || Error::not_found(format!("version {n} of code list {slug:?}"));
                let version = versions.into_iter().find(|v| v.version == n).ok_or_else(missing)?;
                if !self.may_manage(subject, &published.list).await? {
                    return Err(missing());
                }
                let items = self.store.code_list_items(slug, n).await?;
                Ok(Arc::new(VersionIndex::new(version, items)))
            }
        }
    }

    /// Danh mục tra cứu — the item `code` of the list as of `date` (today when `None`):
    /// from the version in force on that day. Public.
    pub async fn lookup_code(&self, slug: &str, code: &str, date: Option<NaiveDate>) -> Result<Lookup> {
        let date = date.unwrap_or_else(today);
        let published = self.published_code_list(slug).await?;
        let index = published.on(date).ok_or_else(|| {
            Error::not_found(format!(
                "a version of {slug:?} in force on {date}; see the list's versions and their dates"
            ))
        })?;
        let item = index.item(code.trim()).ok_or_else(|| {
            Error::not_found(format!(
                "code {code:?} in version {} of {slug:?} (in force on {date})",
                index.version.version
            ))
        })?;
        Ok(Lookup {
            list: slug.to_string(),
            version: index.version.version,
            effective_from: index.version.effective_from,
            effective_until: index.version.effective_until,
            item: item.clone(),
        })
    }

    /// The children of `code` (items whose parent it is) as of `date` (today when `None`).
    pub async fn code_children(&self, slug: &str, code: &str, date: Option<NaiveDate>) -> Result<Vec<CodeItem>> {
        let index =
            self.code_list_version(&Subject::anonymous(), slug, VersionPick::AsOf(date.unwrap_or_else(today))).await?;
        Ok(index.children(code.trim()).into_iter().cloned().collect())
    }

    /// Items whose name holds every word of `query`, diacritics ignored, as of `date`.
    pub async fn search_codes(&self, slug: &str, query: &str, date: Option<NaiveDate>) -> Result<Vec<CodeItem>> {
        let index =
            self.code_list_version(&Subject::anonymous(), slug, VersionPick::AsOf(date.unwrap_or_else(today))).await?;
        Ok(index.search(query).into_iter().cloned().collect())
    }

    /// Creates a list owned by `new.agency_id` (the caller's agency when not given).
    pub async fn create_code_list(&self, subject: &Subject, ctx: &AuditContext, new: NewCodeList) -> Result<CodeList> {
        if !subject.is_authenticated() {
            return Err(Error::unauthenticated("log in or send an API token to create a code list"));
        }
        let mut new = new.validate()?;
        if new.agency_id.is_none() {
            new.agency_id = subject.agency_id.clone();
        }
        let agency_id = new.agency_id.clone().ok_or_else(|| Error::invalid("agency_id", "name the owning agency"))?;
        let path = self.agency_path_for_field(&agency_id).await?;
        let resource = Resource::new(ResourceKind::CodeList).in_agency(&path);
        self.check(subject, ctx, Action::Create, resource, "codelist.create", &format!("codelist:{}", new.slug))
            .await?;
        Ok(self.store.create_code_list(ctx, &new).await?)
    }

    /// Imports a CSV or XLSX file as the list's next version, a draft: the items that
    /// read well are kept, the problems go into the report (they block publishing), and
    /// the diff says what the draft changes against the version in force today.
    pub async fn import_code_list(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        slug: &str,
        file_name: &str,
        bytes: Vec<u8>,
        sheet: Option<String>,
    ) -> Result<ImportOutcome> {
        let list = self.code_list_row(slug).await?;
        self.check_manage(subject, ctx, &list, "codelist.import").await?;
        let name = file_name.to_string();
        let (items, report) = tokio::task::spawn_blocking(move || {
            codelist::parse_items(&name, &bytes, sheet.as_deref()).map(codelist::validate)
        })
        .await
        .map_err(|e| Error::internal(format!("the import stopped: {e}")))??;
        if items.is_empty() && report.is_ok() {
            return Err(Error::invalid("file", format!("{file_name} has a header but no items")));
        }
        let version = self.store.create_code_list_draft(ctx, slug, &items, &report).await?;
        self.codelists.invalidate(slug);
        let diff = self.diff_against_current(slug, &items).await?;
        Ok(ImportOutcome { version, report, diff })
    }

    async fn diff_against_current(&self, slug: &str, items: &[CodeItem]) -> Result<Diff> {
        let published = self.published_code_list(slug).await?;
        let current = published.on(today()).or_else(|| {
            published
                .versions
                .iter()
                .rev()
                .find(|v| v.status == VersionStatus::Published)
                .and_then(|v| published.version(v.version))
        });
        Ok(match current {
            Some(c) => Diff::between(Some(c.version.version), c.items(), items),
            None => Diff::between(None, &[], items),
        })
    }

    /// The preview of a draft: its report and its diff against the version in force.
    pub async fn code_list_preview(&self, subject: &Subject, slug: &str, version: i64) -> Result<ImportOutcome> {
        let index = self.code_list_version(subject, slug, VersionPick::Number(version)).await?;
        let diff = self.diff_against_current(slug, index.items()).await?;
        Ok(ImportOutcome { version: index.version.clone(), report: index.version.report.clone(), diff })
    }

    /// Publishes a draft from `from` (until `until`); the version in force then ends
    /// the day before. A draft whose report has errors cannot be published.
    pub async fn publish_code_list(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        slug: &str,
        version: i64,
        from: NaiveDate,
        until: Option<NaiveDate>,
    ) -> Result<CodeListVersion> {
        let list = self.code_list_row(slug).await?;
        self.check_manage(subject, ctx, &list, "codelist.publish").await?;
        let versions = self.store.code_list_versions(slug).await?;
        let draft = versions
            .iter()
            .find(|v| v.version == version)
            .ok_or_else(|| Error::not_found(format!("version {version} of code list {slug:?}")))?;
        if !draft.report.is_ok() {
            return Err(Error::invalid(
                "version",
                format!(
                    "version {version} of {slug:?} has {} errors in its validation report; fix the file and import it again",
                    draft.report.error_count
                ),
            ));
        }
        if until.is_some_and(|u| u < from) {
            return Err(Error::invalid("effective_until", "the end date comes before the start date"));
        }
        let published = self.store.publish_code_list_version(ctx, slug, version, from, until).await;
        self.codelists.invalidate(slug);
        Ok(published?)
    }

    /// Deletes a draft.
    pub async fn delete_code_list_draft(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        slug: &str,
        version: i64,
    ) -> Result<()> {
        let list = self.code_list_row(slug).await?;
        self.check_manage(subject, ctx, &list, "codelist.delete_draft").await?;
        self.store.delete_code_list_draft(ctx, slug, version).await?;
        self.codelists.invalidate(slug);
        Ok(())
    }

    /// A version as a file: (file name, content type, bytes).
    pub async fn export_code_list(
        &self,
        subject: &Subject,
        slug: &str,
        pick: VersionPick,
        format: ExportFormat,
    ) -> Result<(String, &'static str, Vec<u8>)> {
        let index = self.code_list_version(subject, slug, pick).await?;
        let name = format!("{slug}-v{}.{}", index.version.version, format.extension());
        let bytes = tokio::task::spawn_blocking(move || codelist::export(format, &index.version, index.items()))
            .await
            .map_err(|e| Error::internal(format!("the export stopped: {e}")))??;
        Ok((name, format.content_type(), bytes))
    }

    /// On a store without code lists, creates `admin-units` (legacy communes, then the
    /// 2025 units) and `provinces` (63, then 34) from the lists built into Kho, owned by
    /// the root agency. Does nothing when there are lists already or no agency yet.
    pub async fn seed_code_lists(&self) -> Result<bool> {
        if !self.store.list_code_lists().await?.is_empty() {
            return Ok(false);
        }
        let Some(root) = self.store.list_agencies().await?.into_iter().find(|a| a.parent_id.is_none()) else {
            return Ok(false);
        };
        let ctx = AuditContext::operator();
        let (communes, provinces) =
            tokio::task::spawn_blocking(admin_unit_items).await.map_err(|e| Error::internal(e.to_string()))?;
        let lists = [
            (ADMIN_UNITS, "Đơn vị hành chính cấp xã", "Communes, wards and special zones", communes,
             "Mã và tên đơn vị hành chính cấp xã của Tổng cục Thống kê: phiên bản 1 là danh sách trước ngày 1/7/2025 (10.040 xã), phiên bản 2 là danh sách từ ngày 1/7/2025 (3.321 xã). Mã được dùng lại giữa hai phiên bản."),
            (PROVINCES, "Đơn vị hành chính cấp tỉnh", "Provinces", provinces,
             "Mã và tên tỉnh, thành phố trực thuộc trung ương: 63 trước ngày 1/7/2025, 34 từ ngày 1/7/2025."),
        ];
        for (slug, name_vi, name_en, (legacy, current), description) in lists {
            let new = NewCodeList {
                slug: slug.into(),
                name_vi: name_vi.into(),
                name_en: Some(name_en.into()),
                description: description.into(),
                agency_id: Some(root.id.clone()),
            };
            self.store.create_code_list(&ctx, &new).await?;
            for (n, items) in [(1, legacy), (2, current)] {
                let report = ValidationReport { items: items.len(), ..Default::default() };
                self.store.create_code_list_draft(&ctx, slug, &items, &report).await?;
                let (from, until) =
                    if n == 1 { (legacy_effective_from(), reform_day().pred_opt()) } else { (reform_day(), None) };
                self.store.publish_code_list_version(&ctx, slug, n, from, until).await?;
            }
            self.codelists.invalidate(slug);
        }
        Ok(true)
    }
}

type Versions = (Vec<CodeItem>, Vec<CodeItem>);

/// The admin-unit lists of `kho-refdata` as items: (communes: legacy, 2025),
/// (provinces: legacy, 2025). Provinces are the communes' parents in neither list (the
/// lists are separate); the province code and name are attributes of each commune.
fn admin_unit_items() -> (Versions, Versions) {
    let units = AdminUnits::embedded();
    let attrs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let item = |code: &str, name: &str, attributes| CodeItem {
        code: code.to_string(),
        name_vi: name.to_string(),
        name_en: None,
        parent_code: None,
        attributes,
    };
    let mut legacy_provinces = BTreeMap::new();
    let legacy: Vec<CodeItem> = units
        .legacy_communes()
        .iter()
        .map(|c| {
            legacy_provinces.entry(c.province_code.clone()).or_insert_with(|| c.province_name.clone());
            item(
                &c.code,
                &c.name,
                attrs(&[
                    ("ward_type", &c.ward_type),
                    ("district_code", &c.district_code),
                    ("district_name", &c.district_name),
                    ("province_code", &c.province_code),
                    ("province_name", &c.province_name),
                ]),
            )
        })
        .collect();
    let mut provinces = BTreeMap::new();
    let current: Vec<CodeItem> = units
        .units_2025()
        .map(|u| {
            provinces.entry(u.province_code.clone()).or_insert_with(|| u.province_name.clone());
            item(&u.code, &u.name, attrs(&[("province_code", &u.province_code), ("province_name", &u.province_name)]))
        })
        .collect();
    let province_items =
        |m: BTreeMap<String, String>| m.into_iter().map(|(c, n)| item(&c, &n, BTreeMap::new())).collect::<Vec<_>>();
    ((legacy, current), (province_items(legacy_provinces), province_items(provinces)))
}
