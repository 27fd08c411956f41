//! Persistence of the data dictionary (từ điển dữ liệu): the elements at their current
//! version and every earlier version of each; each change is audited in the same
//! transaction and writes the next version.

use crate::sql::{conflict_on_unique, new_id, parse_ts, ts, SqlStore};
use crate::{Page, StoreError, StoreResult};
use async_trait::async_trait;
use kho_catalog::dictionary::{DataElement, ElementDraft, ElementVersion, RegistrationStatus};
use kho_core::audit::AuditContext;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Which elements to list, by name.
#[derive(Debug, Clone, Default)]
pub struct ElementQuery {
    /// Words in the name, identifier or synonyms (diacritics ignored).
    pub q: Option<String>,
    pub status: Option<RegistrationStatus>,
    pub limit: i64,
    pub offset: i64,
}

#[async_trait]
pub trait DictionaryStore: Send + Sync {
    async fn create_element(
        &self,
        ctx: &AuditContext,
        draft: &ElementDraft,
        status: RegistrationStatus,
    ) -> StoreResult<DataElement>;
    /// By id or identifier.
    async fn element(&self, key: &str) -> StoreResult<Option<DataElement>>;
    async fn list_elements(&self, query: &ElementQuery) -> StoreResult<Page<DataElement>>;
    /// A new description: the next version.
    async fn update_element(&self, ctx: &AuditContext, id: &str, draft: &ElementDraft) -> StoreResult<DataElement>;
    /// A new status: the next version.
    async fn set_element_status(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: RegistrationStatus,
    ) -> StoreResult<DataElement>;
    /// Every version, newest first.
    async fn element_history(&self, id: &str) -> StoreResult<Vec<ElementVersion>>;
}

const COLS: &str = "id, version, status, body, status_changed_by, status_changed_at, created_at, updated_at";

fn status_from(text: &str) -> StoreResult<RegistrationStatus> {
    RegistrationStatus::parse(text).map_err(|e| StoreError::Corrupt(e.message))
}

fn draft_from(body: &str) -> StoreResult<ElementDraft> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("data element body: {e}")))
}

fn element_from(r: &AnyRow) -> StoreResult<DataElement> {
    Ok(DataElement {
        id: r.try_get("id")?,
        version: r.try_get("version")?,
        draft: draft_from(&r.try_get::<String, _>("body")?)?,
        status: status_from(&r.try_get::<String, _>("status")?)?,
        status_changed_by: r.try_get("status_changed_by")?,
        status_changed_at: parse_ts(&r.try_get::<String, _>("status_changed_at")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
    })
}

/// What search looks in: the name, English name, identifier and synonyms, folded.
fn search_text(d: &ElementDraft) -> String {
    let mut parts = vec![d.name.clone(), d.identifier.replace('-', " ")];
    parts.extend(d.name_en.clone());
    parts.extend(d.synonyms.iter().cloned());
    kho_vn::fold(&parts.join(" "))
}

fn body(d: &ElementDraft) -> StoreResult<String> {
    serde_json::to_string(d).map_err(|e| StoreError::Corrupt(format!("data element body: {e}")))
}

impl SqlStore {
    /// Records the element's current row as a version.
    async fn keep_version(tx: &mut crate::sql::Tx, id: &str, actor: &str, at: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO data_element_versions (element_id, version, status, body, changed_by, changed_at) \
             SELECT id, version, status, body, $2, $3 FROM data_elements WHERE id = $1",
        )
        .bind(id)
        .bind(actor)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn element_in(tx: &mut crate::sql::Tx, id: &str) -> StoreResult<DataElement> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM data_elements WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("data element {id}")))?;
        element_from(&row)
    }
}

fn taken(identifier: &str) -> impl FnOnce() -> String + '_ {
    move || format!("identifier: {identifier:?} is already an element's identifier; choose another")
}

#[async_trait]
impl DictionaryStore for SqlStore {
    async fn create_element(
        &self,
        ctx: &AuditContext,
        d: &ElementDraft,
        status: RegistrationStatus,
    ) -> StoreResult<DataElement> {
        let mut tx = self.begin_audited().await?;
        let id = new_id();
        let now = ts(&kho_core::time::now());
        sqlx::query(
            "INSERT INTO data_elements (id, identifier, version, status, owner_agency_id, search_text, body, \
             status_changed_by, status_changed_at, created_at, updated_at) \
             VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $8, $8)",
        )
        .bind(&id)
        .bind(&d.identifier)
        .bind(status.as_str())
        .bind(&d.management.owner_agency_id)
        .bind(search_text(d))
        .bind(body(d)?)
        .bind(&ctx.actor)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, taken(&d.identifier)))?;
        Self::keep_version(&mut tx, &id, &ctx.actor, &now).await?;
        let event = ctx
            .event("element.create", format!("element:{id}"))
            .detail(json!({"identifier": d.identifier, "status": status.as_str()}));
        Self::append_in(&mut tx, event).await?;
        let created = Self::element_in(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn element(&self, key: &str) -> StoreResult<Option<DataElement>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM data_elements WHERE id = $1 OR identifier = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(element_from).transpose()
    }

    async fn list_elements(&self, query: &ElementQuery) -> StoreResult<Page<DataElement>> {
        let mut clauses = Vec::new();
        let mut args: Vec<String> = Vec::new();
        for word in query.q.as_deref().map(kho_vn::fold).unwrap_or_default().split_whitespace() {
            args.push(format!("%{}%", word.replace(['%', '_'], "")));
            clauses.push(format!("search_text LIKE ${}", args.len()));
        }
        if let Some(status) = query.status {
            args.push(status.as_str().to_string());
            clauses.push(format!("status = ${}", args.len()));
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) FROM data_elements {where_sql}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            count = count.bind(a.as_str());
        }
        let total = count.fetch_one(&self.pool).await?;
        let (limit, offset) = (args.len() + 1, args.len() + 2);
        let sql = format!(
            "SELECT {COLS} FROM data_elements {where_sql} ORDER BY search_text, id LIMIT ${limit} OFFSET ${offset}"
        );
        let mut rows = sqlx::query(&sql);
        for a in &args {
            rows = rows.bind(a.as_str());
        }
        let rows = rows.bind(query.limit).bind(query.offset).fetch_all(&self.pool).await?;
        Ok(Page { items: rows.iter().map(element_from).collect::<StoreResult<_>>()?, total })
    }

    async fn update_element(&self, ctx: &AuditContext, id: &str, d: &ElementDraft) -> StoreResult<DataElement> {
        let mut tx = self.begin_audited().await?;
        let before = Self::element_in(&mut tx, id).await?;
        let now = ts(&kho_core::time::now());
        sqlx::query(
            "UPDATE data_elements SET identifier = $1, version = version + 1, owner_agency_id = $2, \
             search_text = $3, body = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&d.identifier)
        .bind(&d.management.owner_agency_id)
        .bind(search_text(d))
        .bind(body(d)?)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, taken(&d.identifier)))?;
        Self::keep_version(&mut tx, id, &ctx.actor, &now).await?;
        let (b, a) =
            (serde_json::to_value(&before.draft).unwrap_or_default(), serde_json::to_value(d).unwrap_or_default());
        let changed: Vec<&String> = match (b.as_object(), a.as_object()) {
            (Some(b), Some(a)) => a.keys().filter(|k| b.get(*k) != a.get(*k)).collect(),
            _ => vec![],
        };
        let event = ctx
            .event("element.update", format!("element:{id}"))
            .detail(json!({"version": before.version + 1, "changed": changed}));
        Self::append_in(&mut tx, event).await?;
        let after = Self::element_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn set_element_status(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: RegistrationStatus,
    ) -> StoreResult<DataElement> {
        let mut tx = self.begin_audited().await?;
        let before = Self::element_in(&mut tx, id).await?;
        let now = ts(&kho_core::time::now());
        sqlx::query(
            "UPDATE data_elements SET status = $1, version = version + 1, status_changed_by = $2, \
             status_changed_at = $3, updated_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(&ctx.actor)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        Self::keep_version(&mut tx, id, &ctx.actor, &now).await?;
        let event = ctx
            .event("element.status", format!("element:{id}"))
            .detail(json!({"from": before.status.as_str(), "to": status.as_str()}));
        Self::append_in(&mut tx, event).await?;
        let after = Self::element_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn element_history(&self, id: &str) -> StoreResult<Vec<ElementVersion>> {
        let rows = sqlx::query(
            "SELECT version, status, body, changed_by, changed_at FROM data_element_versions \
             WHERE element_id = $1 ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ElementVersion {
                    version: r.try_get("version")?,
                    status: status_from(&r.try_get::<String, _>("status")?)?,
                    draft: draft_from(&r.try_get::<String, _>("body")?)?,
                    changed_by: r.try_get("changed_by")?,
                    changed_at: parse_ts(&r.try_get::<String, _>("changed_at")?)?,
                })
            })
            .collect()
    }
}
