//! Persistence of the catalogue: data resources, with their visibility expressed in
//! SQL so that listings page correctly (the same rules as the authorisation policy;
//! the server's tests check that both agree).

use crate::sql::{conflict_on_unique, new_id, parse_opt_ts, parse_ts, ts, SqlStore};
use crate::{Page, StoreError, StoreResult};
use async_trait::async_trait;
use kho_catalog::{scope_str, DataResource, ResourceDraft, Status};
use kho_core::audit::AuditContext;
use kho_core::policy::SharingScope;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Who is listing, as far as visibility goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Every resource (administrators, the local operator).
    #[default]
    All,
    /// Open published resources; with `member`, also shared ones and everything
    /// (drafts included) published by agencies in `agency_path`'s subtree.
    For { member: bool, agency_path: Option<String> },
}

/// Which resources to list, newest change first.
#[derive(Debug, Clone, Default)]
pub struct ResourceQuery {
    pub visibility: Visibility,
    /// Only resources published by agencies in this subtree.
    pub publisher_within: Option<String>,
    pub status: Option<Status>,
    pub scope: Option<SharingScope>,
    /// Words to find in the title, slug or keywords (diacritics ignored).
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Storage of catalogue entries.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn create_resource(&self, ctx: &AuditContext, slug: &str, draft: &ResourceDraft)
        -> StoreResult<DataResource>;
    /// By id or by slug.
    async fn resource(&self, key: &str) -> StoreResult<Option<DataResource>>;
    async fn list_resources(&self, query: &ResourceQuery) -> StoreResult<Page<DataResource>>;
    async fn update_resource(
        &self,
        ctx: &AuditContext,
        id: &str,
        slug: &str,
        draft: &ResourceDraft,
    ) -> StoreResult<DataResource>;
    async fn set_resource_status(&self, ctx: &AuditContext, id: &str, status: Status) -> StoreResult<DataResource>;
    async fn delete_resource(&self, ctx: &AuditContext, id: &str) -> StoreResult<()>;
    /// Counts a view of a dataset's public page (not audited: nothing changes).
    async fn count_view(&self, resource_id: &str) -> StoreResult<()>;
    /// The most viewed datasets, most first: (resource id, views).
    async fn most_viewed(&self, limit: i64) -> StoreResult<Vec<(String, i64)>>;
}

const COLS: &str = "id, slug, body, status, created_at, updated_at, published_at";

fn resource_from(r: &AnyRow) -> StoreResult<DataResource> {
    let body: String = r.try_get("body")?;
    let status: String = r.try_get("status")?;
    Ok(DataResource {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        draft: serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("resource body: {e}")))?,
        status: Status::parse("status", &status).map_err(|e| StoreError::Corrupt(e.message))?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
        published_at: parse_opt_ts(r.try_get("published_at")?)?,
    })
}

fn search_text(slug: &str, d: &ResourceDraft) -> String {
    kho_vn::fold(&format!("{} {} {} {}", d.title, d.title_en.as_deref().unwrap_or(""), slug, d.keywords.join(" ")))
}

/// The stored description; the slug lives in its own column.
fn body(d: &ResourceDraft) -> String {
    let stored = ResourceDraft { slug: None, ..d.clone() };
    serde_json::to_string(&stored).expect("a resource draft always serialises")
}

/// Binds `$1`–`$7`: the columns that copy a description, and the change time.
fn bind_description<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    slug: &'q str,
    d: &'q ResourceDraft,
    now: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(slug)
        .bind(&d.publisher_agency_id)
        .bind(&d.title)
        .bind(search_text(slug, d))
        .bind(scope_str(d.sharing_scope))
        .bind(body(d))
        .bind(now)
}

fn taken(slug: &str) -> impl FnOnce() -> String + '_ {
    move || format!("the slug {slug:?} is taken; choose another")
}

impl SqlStore {
    async fn resource_in(&self, tx: &mut crate::sql::Tx, id: &str) -> StoreResult<DataResource> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM data_resources WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("data resource {id}")))?;
        resource_from(&row)
    }
}

#[async_trait]
impl CatalogStore for SqlStore {
    async fn create_resource(&self, ctx: &AuditContext, slug: &str, d: &ResourceDraft) -> StoreResult<DataResource> {
        let mut tx = self.begin_audited().await?;
        let id = new_id();
        let now = ts(&kho_core::time::now());
        let insert = "INSERT INTO data_resources (slug, publisher_agency_id, title, search_text, sharing_scope, body, \
                      updated_at, created_at, id, status, published_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, 'draft', NULL)";
        bind_description(sqlx::query(insert), slug, d, &now)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, taken(slug)))?;
        let event = ctx
            .event("resource.create", format!("resource:{id}"))
            .detail(json!({"slug": slug, "title": d.title, "sharing_scope": d.sharing_scope}));
        Self::append_in(&mut tx, event).await?;
        let created = self.resource_in(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn resource(&self, key: &str) -> StoreResult<Option<DataResource>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM data_resources WHERE id = $1 OR slug = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resource_from).transpose()
    }

    async fn list_resources(&self, q: &ResourceQuery) -> StoreResult<Page<DataResource>> {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        let mut arg = |v: String| {
            args.push(v);
            format!("${}", args.len())
        };
        if let Visibility::For { member, agency_path } = &q.visibility {
            let mut visible = vec!["(r.status <> 'draft' AND r.sharing_scope = 'open')".to_string()];
            if *member {
                visible.push("(r.status <> 'draft' AND r.sharing_scope = 'shared')".into());
                if let Some(path) = agency_path {
                    visible.push(format!("a.path LIKE {}", arg(format!("{path}%"))));
                }
            }
            clauses.push(format!("({})", visible.join(" OR ")));
        }
        if let Some(path) = &q.publisher_within {
            clauses.push(format!("a.path LIKE {}", arg(format!("{path}%"))));
        }
        if let Some(status) = q.status {
            clauses.push(format!("r.status = {}", arg(status.as_str().into())));
        }
        if let Some(scope) = q.scope {
            clauses.push(format!("r.sharing_scope = {}", arg(scope_str(scope).into())));
        }
        if let Some(text) = q.text.as_deref().map(kho_vn::fold) {
            for word in text.split_whitespace().take(10) {
                clauses.push(format!("r.search_text LIKE {}", arg(format!("%{word}%"))));
            }
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let from = format!("FROM data_resources r JOIN agencies a ON a.id = r.publisher_agency_id {where_sql}");
        let count_sql = format!("SELECT COUNT(*) {from}");
        let mut count = sqlx::query(&count_sql);
        for a in &args {
            count = count.bind(a.as_str());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get(0)?;
        let cols = COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let (limit, offset) = (args.len() + 1, args.len() + 2);
        let sql = format!("SELECT {cols} {from} ORDER BY r.updated_at DESC, r.id LIMIT ${limit} OFFSET ${offset}");
        let mut rows = sqlx::query(&sql);
        for a in &args {
            rows = rows.bind(a.as_str());
        }
        let rows = rows.bind(q.limit).bind(q.offset).fetch_all(&self.pool).await?;
        Ok(Page { items: rows.iter().map(resource_from).collect::<StoreResult<_>>()?, total })
    }

    async fn update_resource(
        &self,
        ctx: &AuditContext,
        id: &str,
        slug: &str,
        d: &ResourceDraft,
    ) -> StoreResult<DataResource> {
        let mut tx = self.begin_audited().await?;
        let before = self.resource_in(&mut tx, id).await?;
        let update = "UPDATE data_resources SET slug = $1, publisher_agency_id = $2, title = $3, search_text = $4, \
                      sharing_scope = $5, body = $6, updated_at = $7 WHERE id = $8";
        bind_description(sqlx::query(update), slug, d, &ts(&kho_core::time::now()))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, taken(slug)))?;
        let changed: Vec<&str> = changed_fields(&before.draft, d);
        let mut detail = json!({"changed": changed});
        if before.slug != slug {
            detail["slug"] = json!({"from": before.slug, "to": slug});
        }
        Self::append_in(&mut tx, ctx.event("resource.update", format!("resource:{id}")).detail(detail)).await?;
        let after = self.resource_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn set_resource_status(&self, ctx: &AuditContext, id: &str, status: Status) -> StoreResult<DataResource> {
        let mut tx = self.begin_audited().await?;
        let before = self.resource_in(&mut tx, id).await?;
        let now = ts(&kho_core::time::now());
        let published_at = match status {
            Status::Published => Some(before.published_at.map(|t| ts(&t)).unwrap_or_else(|| now.clone())),
            _ => before.published_at.map(|t| ts(&t)),
        };
        sqlx::query("UPDATE data_resources SET status = $1, published_at = $2, updated_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(published_at)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let event = ctx
            .event(format!("resource.{}", status.as_str()), format!("resource:{id}"))
            .detail(json!({"from": before.status, "to": status}));
        Self::append_in(&mut tx, event).await?;
        let after = self.resource_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_resource(&self, ctx: &AuditContext, id: &str) -> StoreResult<()> {
        let mut tx = self.begin_audited().await?;
        let before = self.resource_in(&mut tx, id).await?;
        sqlx::query("DELETE FROM data_resources WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let event = ctx.event("resource.delete", format!("resource:{id}")).detail(json!({"slug": before.slug}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn count_view(&self, resource_id: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO dataset_views (resource_id, views, last_viewed_at) VALUES ($1, 1, $2) \
             ON CONFLICT (resource_id) DO UPDATE SET views = dataset_views.views + 1, \
             last_viewed_at = excluded.last_viewed_at",
        )
        .bind(resource_id)
        .bind(ts(&kho_core::time::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn most_viewed(&self, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT resource_id, views FROM dataset_views ORDER BY views DESC, last_viewed_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("resource_id")?, r.try_get("views")?))).collect()
    }
}

/// Names of the description fields that differ, for the audit record.
fn changed_fields<'a>(before: &ResourceDraft, after: &ResourceDraft) -> Vec<&'a str> {
    let (b, a) = (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(after).unwrap_or_default());
    let (Some(b), Some(a)) = (b.as_object(), a.as_object()) else { return vec![] };
    const FIELDS: &[&str] = &[
        "title",
        "title_en",
        "description",
        "description_en",
        "slug",
        "keywords",
        "theme",
        "publisher_agency_id",
        "contact_point",
        "licence",
        "spatial",
        "temporal_start",
        "temporal_end",
        "update_frequency",
        "update_commitment",
        "sharing_scope",
        "importance",
        "personal_data",
        "access_conditions",
        "legal_basis",
    ];
    FIELDS.iter().copied().filter(|f| b.get(*f) != a.get(*f)).collect()
}
