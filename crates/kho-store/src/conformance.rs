//! Persistence of column bindings (a table's column bound to a data element) and of
//! how each bound column conforms per table version. Binding and unbinding are
//! audited; conformance reports are computed results, stored as they are.

use crate::sql::{parse_ts, ts, SqlStore};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use kho_catalog::conformance::ColumnConformance;
use kho_core::audit::AuditContext;
use serde_json::json;
use sqlx::Row;

/// A column bound to a data element.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Binding {
    pub table: String,
    pub column: String,
    pub element_id: String,
    pub bound_by: String,
    pub bound_at: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
pub trait ConformanceStore: Send + Sync {
    /// Binds (or binds anew) a column to an element.
    async fn bind_column(
        &self,
        ctx: &AuditContext,
        resource_id: &str,
        table: &str,
        column: &str,
        element_id: &str,
    ) -> StoreResult<Binding>;
    async fn unbind_column(&self, ctx: &AuditContext, resource_id: &str, table: &str, column: &str) -> StoreResult<()>;
    /// The bindings of a resource's tables, by table and column.
    async fn bindings(&self, resource_id: &str) -> StoreResult<Vec<Binding>>;
    async fn save_conformance(&self, resource_id: &str, table: &str, report: &ColumnConformance) -> StoreResult<()>;
    /// The reports of a table version, by column.
    async fn conformance(&self, resource_id: &str, table: &str, version: i64) -> StoreResult<Vec<ColumnConformance>>;
}

#[async_trait]
impl ConformanceStore for SqlStore {
    async fn bind_column(
        &self,
        ctx: &AuditContext,
        resource_id: &str,
        table: &str,
        column: &str,
        element_id: &str,
    ) -> StoreResult<Binding> {
        let mut tx = self.begin_audited().await?;
        let now = kho_core::time::now();
        sqlx::query(
            "INSERT INTO column_bindings (resource_id, table_name, column_name, element_id, bound_by, bound_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (resource_id, table_name, column_name) \
             DO UPDATE SET element_id = excluded.element_id, bound_by = excluded.bound_by, bound_at = excluded.bound_at",
        )
        .bind(resource_id)
        .bind(table)
        .bind(column)
        .bind(element_id)
        .bind(&ctx.actor)
        .bind(ts(&now))
        .execute(&mut *tx)
        .await?;
        let event = ctx
            .event("binding.set", format!("resource:{resource_id}"))
            .detail(json!({"table": table, "column": column, "element_id": element_id}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Binding {
            table: table.into(),
            column: column.into(),
            element_id: element_id.into(),
            bound_by: ctx.actor.clone(),
            bound_at: parse_ts(&ts(&now))?,
        })
    }

    async fn unbind_column(&self, ctx: &AuditContext, resource_id: &str, table: &str, column: &str) -> StoreResult<()> {
        let mut tx = self.begin_audited().await?;
        let done =
            sqlx::query("DELETE FROM column_bindings WHERE resource_id = $1 AND table_name = $2 AND column_name = $3")
                .bind(resource_id)
                .bind(table)
                .bind(column)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("binding of {table}.{column}")));
        }
        let event = ctx
            .event("binding.remove", format!("resource:{resource_id}"))
            .detail(json!({"table": table, "column": column}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn bindings(&self, resource_id: &str) -> StoreResult<Vec<Binding>> {
        let rows = sqlx::query(
            "SELECT table_name, column_name, element_id, bound_by, bound_at FROM column_bindings \
             WHERE resource_id = $1 ORDER BY table_name, column_name",
        )
        .bind(resource_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Binding {
                    table: r.try_get("table_name")?,
                    column: r.try_get("column_name")?,
                    element_id: r.try_get("element_id")?,
                    bound_by: r.try_get("bound_by")?,
                    bound_at: parse_ts(&r.try_get::<String, _>("bound_at")?)?,
                })
            })
            .collect()
    }

    async fn save_conformance(&self, resource_id: &str, table: &str, report: &ColumnConformance) -> StoreResult<()> {
        let body = serde_json::to_string(report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO column_conformance (resource_id, table_name, version, column_name, report, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (resource_id, table_name, version, column_name) \
             DO UPDATE SET report = excluded.report, checked_at = excluded.checked_at",
        )
        .bind(resource_id)
        .bind(table)
        .bind(report.version)
        .bind(&report.column)
        .bind(body)
        .bind(ts(&kho_core::time::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn conformance(&self, resource_id: &str, table: &str, version: i64) -> StoreResult<Vec<ColumnConformance>> {
        let rows = sqlx::query(
            "SELECT report FROM column_conformance WHERE resource_id = $1 AND table_name = $2 AND version = $3 \
             ORDER BY column_name",
        )
        .bind(resource_id)
        .bind(table)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.try_get::<String, _>("report")?)
                    .map_err(|e| StoreError::Corrupt(format!("conformance report: {e}")))
            })
            .collect()
    }
}
