//! Persistence of code lists (danh mục dùng chung): the lists, their numbered
//! versions and the items of each version, keyed by (list, version, code). Each write
//! is audited in the same transaction.

use crate::sql::{conflict_on_unique, parse_opt_ts, parse_ts, ts, values_rows, SqlStore};
use crate::{MetadataStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::NaiveDate;
use kho_core::audit::AuditContext;
use kho_refdata::codelist::{CodeItem, CodeList, CodeListVersion, NewCodeList, ValidationReport, VersionStatus};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Items inserted by one statement (8 parameters each, well under both databases' limits).
const INSERT_BATCH: usize = 500;

#[async_trait]
pub trait CodeListStore: Send + Sync {
    /// Creates a list; `agency_id` of `new` must be set.
    async fn create_code_list(&self, ctx: &AuditContext, new: &NewCodeList) -> StoreResult<CodeList>;
    async fn code_list(&self, slug: &str) -> StoreResult<Option<CodeList>>;
    /// Every list, by slug.
    async fn list_code_lists(&self) -> StoreResult<Vec<CodeList>>;
    /// The versions of a list, oldest first.
    async fn code_list_versions(&self, slug: &str) -> StoreResult<Vec<CodeListVersion>>;
    /// Adds the next version as a draft with its items (in their order) and report.
    async fn create_code_list_draft(
        &self,
        ctx: &AuditContext,
        slug: &str,
        items: &[CodeItem],
        report: &ValidationReport,
    ) -> StoreResult<CodeListVersion>;
    /// The items of one version, in their order.
    async fn code_list_items(&self, slug: &str, version: i64) -> StoreResult<Vec<CodeItem>>;
    /// Publishes a draft, in force from `from` (until `until`, when given). The
    /// published versions still in force on `from` end the day before.
    async fn publish_code_list_version(
        &self,
        ctx: &AuditContext,
        slug: &str,
        version: i64,
        from: NaiveDate,
        until: Option<NaiveDate>,
    ) -> StoreResult<CodeListVersion>;
    /// Deletes a draft and its items; a published version stays.
    async fn delete_code_list_draft(&self, ctx: &AuditContext, slug: &str, version: i64) -> StoreResult<()>;
}

const LIST_COLS: &str = "slug, name_vi, name_en, description, agency_id, created_at, updated_at";
const VERSION_COLS: &str =
    "list_slug, version, status, effective_from, effective_until, item_count, report, created_at, published_at";

fn list_from(r: &AnyRow) -> StoreResult<CodeList> {
    Ok(CodeList {
        slug: r.try_get("slug")?,
        name_vi: r.try_get("name_vi")?,
        name_en: r.try_get("name_en")?,
        description: r.try_get("description")?,
        agency_id: r.try_get("agency_id")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
    })
}

fn date(s: Option<String>) -> StoreResult<Option<NaiveDate>> {
    s.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("bad date {s:?}"))))
        .transpose()
}

fn version_from(r: &AnyRow) -> StoreResult<CodeListVersion> {
    let status: String = r.try_get("status")?;
    let report: String = r.try_get("report")?;
    Ok(CodeListVersion {
        list: r.try_get("list_slug")?,
        version: r.try_get("version")?,
        status: VersionStatus::parse(&status).map_err(|e| StoreError::Corrupt(e.message))?,
        effective_from: date(r.try_get("effective_from")?)?,
        effective_until: date(r.try_get("effective_until")?)?,
        item_count: r.try_get("item_count")?,
        report: serde_json::from_str(&report).map_err(|e| StoreError::Corrupt(format!("bad report: {e}")))?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        published_at: parse_opt_ts(r.try_get("published_at")?)?,
    })
}

fn item_from(r: &AnyRow) -> StoreResult<CodeItem> {
    let attributes: String = r.try_get("attributes")?;
    Ok(CodeItem {
        code: r.try_get("code")?,
        name_vi: r.try_get("name_vi")?,
        name_en: r.try_get("name_en")?,
        parent_code: r.try_get("parent_code")?,
        attributes: serde_json::from_str(&attributes)
            .map_err(|e| StoreError::Corrupt(format!("bad attributes: {e}")))?,
    })
}

impl SqlStore {
    async fn version_row(&self, slug: &str, version: i64) -> StoreResult<Option<CodeListVersion>> {
        sqlx::query(&format!("SELECT {VERSION_COLS} FROM code_list_versions WHERE list_slug = $1 AND version = $2"))
            .bind(slug)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(version_from)
            .transpose()
    }
}

fn not_found(slug: &str, version: i64) -> StoreError {
    StoreError::NotFound(format!("version {version} of code list {slug:?}"))
}

impl SqlStore {
    /// Refuses unless the version exists and is a draft; `why` says what to do instead.
    async fn expect_draft(tx: &mut crate::sql::Tx, slug: &str, version: i64, why: &str) -> StoreResult<()> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM code_list_versions WHERE list_slug = $1 AND version = $2")
                .bind(slug)
                .bind(version)
                .fetch_optional(&mut **tx)
                .await?;
        match status.as_deref() {
            None => Err(not_found(slug, version)),
            Some("draft") => Ok(()),
            Some(_) => Err(StoreError::Conflict(format!("version {version} of {slug:?} is published; {why}"))),
        }
    }
}

#[async_trait]
impl CodeListStore for SqlStore {
    async fn create_code_list(&self, ctx: &AuditContext, new: &NewCodeList) -> StoreResult<CodeList> {
        let agency = new.agency_id.clone().ok_or_else(|| StoreError::Conflict("a code list needs an agency".into()))?;
        let mut tx = self.begin_audited().await?;
        let now = ts(&kho_core::time::now());
        sqlx::query(&format!("INSERT INTO code_lists ({LIST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $6)"))
            .bind(&new.slug)
            .bind(&new.name_vi)
            .bind(&new.name_en)
            .bind(&new.description)
            .bind(&agency)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                conflict_on_unique(e, || {
                    format!("a code list {:?} exists already; choose another identifier", new.slug)
                })
            })?;
        let detail = json!({"name_vi": new.name_vi, "agency_id": agency});
        Self::append_in(&mut tx, ctx.event("codelist.create", format!("codelist:{}", new.slug)).detail(detail)).await?;
        tx.commit().await?;
        self.code_list(&new.slug).await?.ok_or_else(|| StoreError::NotFound(format!("code list {:?}", new.slug)))
    }

    async fn code_list(&self, slug: &str) -> StoreResult<Option<CodeList>> {
        sqlx::query(&format!("SELECT {LIST_COLS} FROM code_lists WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(list_from)
            .transpose()
    }

    async fn list_code_lists(&self) -> StoreResult<Vec<CodeList>> {
        let rows =
            sqlx::query(&format!("SELECT {LIST_COLS} FROM code_lists ORDER BY slug")).fetch_all(&self.pool).await?;
        rows.iter().map(list_from).collect()
    }

    async fn code_list_versions(&self, slug: &str) -> StoreResult<Vec<CodeListVersion>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM code_list_versions WHERE list_slug = $1 ORDER BY version"
        ))
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from).collect()
    }

    async fn create_code_list_draft(
        &self,
        ctx: &AuditContext,
        slug: &str,
        items: &[CodeItem],
        report: &ValidationReport,
    ) -> StoreResult<CodeListVersion> {
        let mut tx = self.begin_audited().await?;
        let next: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM code_list_versions WHERE list_slug = $1")
                .bind(slug)
                .fetch_one(&mut *tx)
                .await?;
        let now = ts(&kho_core::time::now());
        let report_json = serde_json::to_string(report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(&format!(
            "INSERT INTO code_list_versions ({VERSION_COLS}) VALUES ($1, $2, 'draft', NULL, NULL, $3, $4, $5, NULL)"
        ))
        .bind(slug)
        .bind(next)
        .bind(items.len() as i64)
        .bind(&report_json)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        for (b, chunk) in items.chunks(INSERT_BATCH).enumerate() {
            let sql = format!(
                "INSERT INTO code_list_items (list_slug, version, code, position, name_vi, name_en, parent_code, attributes) VALUES {}",
                values_rows(self.backend(), chunk.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for (i, item) in chunk.iter().enumerate() {
                let attributes =
                    serde_json::to_string(&item.attributes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                q = q
                    .bind(slug)
                    .bind(next)
                    .bind(&item.code)
                    .bind((b * INSERT_BATCH + i) as i64)
                    .bind(&item.name_vi)
                    .bind(&item.name_en)
                    .bind(&item.parent_code)
                    .bind(attributes);
            }
            q.execute(&mut *tx).await.map_err(|e| {
                conflict_on_unique(e, || {
                    format!("a code appears twice in the new version of {slug:?}; make codes unique")
                })
            })?;
        }
        sqlx::query("UPDATE code_lists SET updated_at = $1 WHERE slug = $2")
            .bind(&now)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        let detail = json!({"version": next, "items": items.len(), "errors": report.error_count});
        Self::append_in(&mut tx, ctx.event("codelist.import", format!("codelist:{slug}")).detail(detail)).await?;
        tx.commit().await?;
        self.version_row(slug, next).await?.ok_or_else(|| not_found(slug, next))
    }

    async fn code_list_items(&self, slug: &str, version: i64) -> StoreResult<Vec<CodeItem>> {
        let rows = sqlx::query(
            "SELECT code, name_vi, name_en, parent_code, attributes FROM code_list_items \
             WHERE list_slug = $1 AND version = $2 ORDER BY position",
        )
        .bind(slug)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from).collect()
    }

    async fn publish_code_list_version(
        &self,
        ctx: &AuditContext,
        slug: &str,
        version: i64,
        from: NaiveDate,
        until: Option<NaiveDate>,
    ) -> StoreResult<CodeListVersion> {
        let mut tx = self.begin_audited().await?;
        Self::expect_draft(&mut tx, slug, version, "import a new version to change it").await?;
        // The versions in force on `from` end the day before (one that starts on or
        // after `from` would be wholly replaced: refuse, the caller picks another date).
        let later: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM code_list_versions WHERE list_slug = $1 AND status = 'published' AND effective_from >= $2",
        )
        .bind(slug)
        .bind(from.to_string())
        .fetch_one(&mut *tx)
        .await?;
        if later > 0 {
            return Err(StoreError::Conflict(format!(
                "a published version of {slug:?} starts on or after {from}; choose an effective date after it"
            )));
        }
        let day_before = from.pred_opt().unwrap_or(from).to_string();
        let closed = sqlx::query(
            "UPDATE code_list_versions SET effective_until = $1 WHERE list_slug = $2 AND status = 'published' \
             AND (effective_until IS NULL OR effective_until >= $3)",
        )
        .bind(&day_before)
        .bind(slug)
        .bind(from.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let now = ts(&kho_core::time::now());
        sqlx::query(
            "UPDATE code_list_versions SET status = 'published', effective_from = $1, effective_until = $2, published_at = $3 \
             WHERE list_slug = $4 AND version = $5",
        )
        .bind(from.to_string())
        .bind(until.map(|d| d.to_string()))
        .bind(&now)
        .bind(slug)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE code_lists SET updated_at = $1 WHERE slug = $2")
            .bind(&now)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        let detail =
            json!({"version": version, "effective_from": from, "effective_until": until, "closed_versions": closed});
        Self::append_in(&mut tx, ctx.event("codelist.publish", format!("codelist:{slug}")).detail(detail)).await?;
        tx.commit().await?;
        self.version_row(slug, version).await?.ok_or_else(|| not_found(slug, version))
    }

    async fn delete_code_list_draft(&self, ctx: &AuditContext, slug: &str, version: i64) -> StoreResult<()> {
        let mut tx = self.begin_audited().await?;
        Self::expect_draft(&mut tx, slug, version, "published versions stay for lookups as of past dates").await?;
        sqlx::query("DELETE FROM code_list_items WHERE list_slug = $1 AND version = $2")
            .bind(slug)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM code_list_versions WHERE list_slug = $1 AND version = $2")
            .bind(slug)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        let now = ts(&kho_core::time::now());
        sqlx::query("UPDATE code_lists SET updated_at = $1 WHERE slug = $2")
            .bind(&now)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        Self::append_in(
            &mut tx,
            ctx.event("codelist.delete_draft", format!("codelist:{slug}")).detail(json!({"version": version})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
