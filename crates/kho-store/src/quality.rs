//! Persistence of data quality (chất lượng dữ liệu): each table's rules document, the
//! runs of its checks per version with their results and scores, and column profiles.
//! Setting rules and recording a run are audited; results are kept as computed.

use crate::sql::{parse_ts, ts, SqlStore};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use kho_core::audit::AuditContext;
use kho_quality::result::{QualityRun, Trigger};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A table's rules document as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredRules {
    pub table: String,
    pub rules: String,
    pub updated_by: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[async_trait]
pub trait QualityStore: Send + Sync {
    /// Keeps a table's rules document (already checked by the caller).
    async fn set_quality_rules(
        &self,
        ctx: &AuditContext,
        resource_id: &str,
        table: &str,
        rules: &str,
    ) -> StoreResult<()>;
    async fn quality_rules(&self, resource_id: &str) -> StoreResult<Vec<StoredRules>>;
    /// Records a run and gives it its id.
    async fn save_quality_run(&self, ctx: &AuditContext, run: &QualityRun) -> StoreResult<i64>;
    /// A table's runs, newest first.
    async fn quality_runs(&self, resource_id: &str, table: &str, limit: i64) -> StoreResult<Vec<QualityRun>>;
    /// The newest run of every table that has one.
    async fn latest_quality_runs(&self) -> StoreResult<Vec<QualityRun>>;
    async fn save_quality_profile(
        &self,
        resource_id: &str,
        table: &str,
        version: i64,
        profile: &str,
    ) -> StoreResult<()>;
    /// A table version's profile (JSON), the newest version's when `None`.
    async fn quality_profile(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
    ) -> StoreResult<Option<(i64, String)>>;
}

const RUN_COLS: &str =
    "id, resource_id, table_name, version, run_trigger, run_by, started_at, elapsed_ms, row_count, results, scores";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn run_from(r: &AnyRow) -> StoreResult<QualityRun> {
    let trigger: String = r.try_get("run_trigger")?;
    Ok(QualityRun {
        id: r.try_get("id")?,
        resource_id: r.try_get("resource_id")?,
        table: r.try_get("table_name")?,
        version: r.try_get("version")?,
        trigger: Trigger::parse(&trigger).ok_or_else(|| corrupt("quality run trigger", &trigger))?,
        run_by: r.try_get("run_by")?,
        started_at: parse_ts(&r.try_get::<String, _>("started_at")?)?,
        elapsed_ms: r.try_get::<i64, _>("elapsed_ms")? as u64,
        rows: r.try_get::<i64, _>("row_count")? as u64,
        results: serde_json::from_str(&r.try_get::<String, _>("results")?)
            .map_err(|e| corrupt("quality results", e))?,
        scores: serde_json::from_str(&r.try_get::<String, _>("scores")?).map_err(|e| corrupt("quality scores", e))?,
    })
}

#[async_trait]
impl QualityStore for SqlStore {
    async fn set_quality_rules(
        &self,
        ctx: &AuditContext,
        resource_id: &str,
        table: &str,
        rules: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_audited().await?;
        sqlx::query(
            "INSERT INTO quality_rules (resource_id, table_name, rules, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resource_id, table_name) \
             DO UPDATE SET rules = excluded.rules, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(resource_id)
        .bind(table)
        .bind(rules)
        .bind(&ctx.actor)
        .bind(ts(&kho_core::time::now()))
        .execute(&mut *tx)
        .await?;
        let event =
            ctx.event("quality.rules.set", format!("table:{resource_id}/{table}")).detail(json!({"rules": rules}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn quality_rules(&self, resource_id: &str) -> StoreResult<Vec<StoredRules>> {
        let rows = sqlx::query(
            "SELECT table_name, rules, updated_by, updated_at FROM quality_rules WHERE resource_id = $1 \
             ORDER BY table_name",
        )
        .bind(resource_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredRules {
                    table: r.try_get("table_name")?,
                    rules: r.try_get("rules")?,
                    updated_by: r.try_get("updated_by")?,
                    updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
                })
            })
            .collect()
    }

    async fn save_quality_run(&self, ctx: &AuditContext, run: &QualityRun) -> StoreResult<i64> {
        let results = serde_json::to_string(&run.results).map_err(|e| corrupt("quality results", e))?;
        let scores = serde_json::to_string(&run.scores).map_err(|e| corrupt("quality scores", e))?;
        // The audit head lock serialises writers, so the next id is safe to take.
        let mut tx = self.begin_audited().await?;
        let id: i64 = sqlx::query("SELECT CAST(coalesce(max(id), 0) + 1 AS BIGINT) AS id FROM quality_runs")
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        sqlx::query(&format!(
            "INSERT INTO quality_runs ({RUN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(id)
        .bind(&run.resource_id)
        .bind(&run.table)
        .bind(run.version)
        .bind(run.trigger.as_str())
        .bind(&run.run_by)
        .bind(ts(&run.started_at))
        .bind(run.elapsed_ms as i64)
        .bind(run.rows as i64)
        .bind(results)
        .bind(scores)
        .execute(&mut *tx)
        .await?;
        let failed: Vec<&str> = run.failures().iter().map(|r| r.check.as_str()).collect();
        let event = ctx
            .event("quality.run", format!("table:{}/{}", run.resource_id, run.table))
            .detail(json!({"version": run.version, "trigger": run.trigger.as_str(), "checks": run.results.len(), "failed": failed, "overall": run.scores.overall}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn quality_runs(&self, resource_id: &str, table: &str, limit: i64) -> StoreResult<Vec<QualityRun>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM quality_runs WHERE resource_id = $1 AND table_name = $2 ORDER BY id DESC LIMIT $3"
        );
        sqlx::query(&sql)
            .bind(resource_id)
            .bind(table)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(run_from)
            .collect()
    }

    async fn latest_quality_runs(&self) -> StoreResult<Vec<QualityRun>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM quality_runs WHERE id IN \
             (SELECT max(id) FROM quality_runs GROUP BY resource_id, table_name) ORDER BY resource_id, table_name"
        );
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(run_from).collect()
    }

    async fn save_quality_profile(
        &self,
        resource_id: &str,
        table: &str,
        version: i64,
        profile: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO quality_profiles (resource_id, table_name, version, profile, made_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resource_id, table_name, version) \
             DO UPDATE SET profile = excluded.profile, made_at = excluded.made_at",
        )
        .bind(resource_id)
        .bind(table)
        .bind(version)
        .bind(profile)
        .bind(ts(&kho_core::time::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn quality_profile(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
    ) -> StoreResult<Option<(i64, String)>> {
        let row = match version {
            Some(v) => {
                sqlx::query(
                    "SELECT version, profile FROM quality_profiles \
                     WHERE resource_id = $1 AND table_name = $2 AND version = $3",
                )
                .bind(resource_id)
                .bind(table)
                .bind(v)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT version, profile FROM quality_profiles WHERE resource_id = $1 AND table_name = $2 \
                     ORDER BY version DESC LIMIT 1",
                )
                .bind(resource_id)
                .bind(table)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        row.map(|r| Ok((r.try_get("version")?, r.try_get("profile")?))).transpose()
    }
}
