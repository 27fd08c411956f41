//! SQL over the warehouse (truy vấn): the query is checked to only read, each table
//! it names is resolved to a data resource the caller may read (reads of non-open
//! data are audited, with the query), and the lake runs it within the configured
//! limits.

use super::catalog::effective_scope;
use super::{Kho, ResourceFilter};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::SharingScope;
use kho_core::{Error, Result};
use kho_lake::{QueryResult, QueryTable, TableName};
use serde::Serialize;
use serde_json::json;

/// A table a caller may query, as the query page lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryableTable {
    /// How SQL names it: `<resource slug with _ for ->.<table>`.
    pub name: String,
    pub resource_slug: String,
    pub resource_title: String,
    pub table: String,
}

impl Kho {
    /// Runs read-only SQL over the tables the caller may read.
    pub async fn query(&self, subject: &Subject, ctx: &AuditContext, sql: &str) -> Result<QueryResult> {
        let checked = kho_lake::query::check(sql)?;
        let (tables, restricted) = self.readable_tables(subject, ctx, &checked.tables).await?;
        let outcome = self.lake.query(checked, &tables, self.settings.query_limits()).await;
        self.audit_restricted_query(ctx, sql, &restricted, outcome.is_ok()).await?;
        Ok(outcome?)
    }

    /// Each `<resource>.<table>` name resolved to a table the caller may read, and the
    /// names of those that are not open data (their reads are audited).
    pub(crate) async fn readable_tables(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        names: &[TableName],
    ) -> Result<(Vec<QueryTable>, Vec<String>)> {
        let mut tables = Vec::new();
        let mut restricted = Vec::new();
        for name in names {
            let key = name.schema.replace('_', "-");
            let r = self.readable(subject, ctx, &key).await.map_err(|e| match e.code {
                kho_core::ErrorCode::NotFound => Error::not_found(format!(
                    "table {name}: no data resource {key:?} that you may read; list the tables you may query \
                     with GET /api/v1/query/tables"
                )),
                _ => e,
            })?;
            let held = self.lake.tables(&r.id).await?;
            if !held.contains(&name.table) {
                return Err(Error::not_found(format!(
                    "table {name}: resource {} has no table {:?}; its tables are: {}",
                    r.slug,
                    name.table,
                    if held.is_empty() { "none yet".to_string() } else { held.join(", ") }
                )));
            }
            if effective_scope(&r) != SharingScope::Open {
                restricted.push(name.to_string());
            }
            tables.push(QueryTable { name: name.clone(), resource_id: r.id, table: name.table.clone(), version: None });
        }
        Ok((tables, restricted))
    }

    /// Records a query that read tables which are not open data, with its SQL.
    pub(crate) async fn audit_restricted_query(
        &self,
        ctx: &AuditContext,
        sql: &str,
        restricted: &[String],
        ok: bool,
    ) -> Result<()> {
        if !restricted.is_empty() {
            let detail = json!({"sql": sql, "tables": restricted, "ok": ok});
            self.store.append_audit(ctx.event("query.run", "warehouse").detail(detail)).await?;
        }
        Ok(())
    }

    /// The tables the caller may query, by name.
    pub async fn queryable_tables(&self, subject: &Subject) -> Result<Vec<QueryableTable>> {
        let page = self.list_resources(subject, ResourceFilter { limit: 500, ..Default::default() }).await?;
        let mut out = Vec::new();
        for r in page.items {
            for table in self.lake.tables(&r.id).await? {
                out.push(QueryableTable {
                    name: TableName::of(&r.slug, &table).to_string(),
                    resource_slug: r.slug.clone(),
                    resource_title: r.draft.title.clone(),
                    table,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
