//! Phiên bản — the versions of a table. Delta's log says when each version was
//! committed, by which operation, with Kho's commit metadata (source file, who,
//! mode, key). What is only known once the load has finished — the file's SHA-256,
//! the row total, the columns, the rows added/changed — is written beside the log
//! as `_kho/versions/<n>.json` right after the commit. [`Lake::diff`] compares a
//! version with the one before: schema changes always, rows by key when one is
//! declared.

use crate::ingest::LoadedColumn;
use crate::{Lake, LakeError};
use deltalake::arrow::datatypes::{DataType, Schema};
use deltalake::DeltaTable;
use object_store::{path::Path as StorePath, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Rows added, removed and changed between two versions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RowChanges {
    pub added: u64,
    pub removed: u64,
    /// Rows whose key was in both versions with different values.
    pub changed: u64,
}

/// What Kho records beside a version once its load has finished.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionFacts {
    pub sha256: String,
    /// Rows in the table as of this version.
    pub rows: u64,
    pub columns: Vec<LoadedColumn>,
    #[serde(default)]
    pub key: Vec<String>,
    #[serde(default)]
    pub changes: Option<RowChanges>,
}

fn facts_path(version: i64) -> StorePath {
    StorePath::from(format!("_kho/versions/{version}.json"))
}

/// Records the facts of `version` beside the table's log.
pub(crate) async fn write_facts(table: &DeltaTable, version: i64, facts: &VersionFacts) -> Result<(), LakeError> {
    let bytes = serde_json::to_vec_pretty(facts).map_err(|e| LakeError::Invalid(e.to_string()))?;
    table
        .object_store()
        .put(&facts_path(version), PutPayload::from(bytes))
        .await
        .map_err(|e| LakeError::Delta(e.into()))?;
    Ok(())
}

/// The facts of one version, when they were recorded.
async fn read_facts(table: &DeltaTable, version: i64) -> Option<VersionFacts> {
    let got = table.object_store().get(&facts_path(version)).await.ok()?;
    let bytes = got.bytes().await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Rows in the table's current snapshot, from the file statistics in the log.
pub(crate) fn row_count(table: &DeltaTable) -> u64 {
    table.snapshot().map(|s| s.log_data().iter().map(|f| f.num_records().unwrap_or(0) as u64).sum()).unwrap_or(0)
}

/// One version of a table, as its Delta log and Kho's record of it say.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TableVersion {
    /// Kho's version number: 1 for the first load.
    pub version: i64,
    /// Milliseconds since 1970, from the commit.
    pub timestamp_ms: Option<i64>,
    /// `replace`, `append` or `upsert`.
    pub mode: String,
    /// Rows in the table as of this version.
    pub rows: Option<u64>,
    /// Rows this load added (for an upsert, new keys only).
    pub added_rows: Option<u64>,
    pub source_file: Option<String>,
    pub source_sha256: Option<String>,
    pub loaded_by: Option<String>,
    /// The columns as loaded (absent for versions written before Kho kept them).
    pub columns: Option<Vec<LoadedColumn>>,
    /// The columns that identify a row, when declared.
    pub key: Vec<String>,
    /// Rows added, removed and changed, when the load alone tells (append, upsert).
    pub changes: Option<RowChanges>,
    /// The retention policy removed this version's data: it can no longer be read.
    pub expired: bool,
}

/// How a version differs from the one before it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionDiff {
    pub version: i64,
    /// The version compared with; absent for the first.
    pub previous: Option<i64>,
    pub rows_before: u64,
    pub rows_after: u64,
    pub columns_added: Vec<String>,
    pub columns_removed: Vec<String>,
    pub columns_retyped: Vec<Retyped>,
    /// The key the rows were compared on; empty when none was declared.
    pub key: Vec<String>,
    /// Rows added, removed and changed; absent when no key is declared (then only
    /// the totals are compared).
    pub rows: Option<RowChanges>,
}

/// A column whose type changed between two versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Retyped {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Kho's name for an Arrow type, as the UI shows it.
pub fn kind_of(t: &DataType) -> &'static str {
    match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => "integer",
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => "integer",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "decimal",
        DataType::Decimal128(..) | DataType::Decimal256(..) => "decimal",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(..) => "timestamp",
        DataType::Boolean => "boolean",
        _ => "text",
    }
}

fn text(info: &HashMap<String, serde_json::Value>, key: &str) -> Option<String> {
    info.get(key).and_then(|v| v.as_str()).map(String::from)
}

impl Lake {
    /// The versions of a table, newest first.
    pub async fn history(&self, resource_id: &str, table: &str) -> Result<Vec<TableVersion>, LakeError> {
        use futures::StreamExt;
        let t = self.open(resource_id, table).await?;
        let Some(latest) = t.version() else { return Err(LakeError::NoTable(table.into())) };
        let commits: Vec<_> = t.history(None).collect().await;
        let mut out = Vec::new();
        for (i, c) in commits.into_iter().enumerate() {
            let c = c?;
            let version = (latest + 1 - i as u64) as i64;
            let facts = read_facts(&t, version).await;
            let mode = text(&c.info, "kho.mode").unwrap_or_else(|| {
                let op_mode = c.operation_parameters.as_ref().and_then(|p| p.get("mode")).and_then(|m| m.as_str());
                if op_mode == Some("Append") { "append" } else { "replace" }.to_string()
            });
            let metrics = c.info.get("operationMetrics");
            let metric = |name: &str| metrics.and_then(|m| m.get(name)).and_then(|v| v.as_u64());
            let added_rows = metric("num_added_rows").or_else(|| metric("num_target_rows_inserted"));
            let key = facts.as_ref().map(|f| f.key.clone()).unwrap_or_else(|| {
                c.info.get("kho.key").and_then(|k| serde_json::from_value(k.clone()).ok()).unwrap_or_default()
            });
            out.push(TableVersion {
                version,
                timestamp_ms: c.timestamp,
                mode,
                rows: facts.as_ref().map(|f| f.rows),
                added_rows,
                source_file: text(&c.info, "kho.source"),
                source_sha256: facts.as_ref().map(|f| f.sha256.clone()),
                loaded_by: text(&c.info, "kho.loaded_by"),
                columns: facts.as_ref().map(|f| f.columns.clone()),
                key,
                changes: facts.and_then(|f| f.changes),
                expired: false,
            });
        }
        let retention = read_retention(&t).await;
        for i in 1..out.len() {
            out[i].expired = expired(out[i - 1].timestamp_ms, retention.as_ref());
        }
        // Where no record says how many rows a version held, count from the oldest
        // version: a replace starts over, an append adds.
        let mut total: Option<u64> = Some(0);
        for v in out.iter_mut().rev() {
            total = match (v.rows, v.mode.as_str(), v.added_rows) {
                (Some(rows), _, _) => Some(rows),
                (None, "append" | "upsert", Some(added)) => total.map(|t| t + added),
                (None, "replace", added) => added,
                _ => None,
            };
            v.rows = total;
        }
        Ok(out)
    }

    /// How `version` differs from the version before it.
    pub async fn diff(&self, resource_id: &str, table: &str, version: i64) -> Result<VersionDiff, LakeError> {
        let current = self.snapshot(resource_id, table, Some(version)).await?;
        let after = arrow_schema(&current).await?;
        let facts = read_facts(&current, version).await;
        let key: Vec<String> = match &facts {
            Some(f) => f.key.clone(),
            None => self
                .history(resource_id, table)
                .await?
                .into_iter()
                .find(|v| v.version == version)
                .map(|v| v.key)
                .unwrap_or_default(),
        };
        let mut diff = VersionDiff {
            version,
            previous: None,
            rows_before: 0,
            rows_after: row_count(&current),
            columns_added: after.fields().iter().map(|f| f.name().clone()).collect(),
            columns_removed: vec![],
            columns_retyped: vec![],
            key: key.clone(),
            rows: None,
        };
        if version <= 1 {
            diff.rows = Some(RowChanges { added: diff.rows_after, removed: 0, changed: 0 });
            return Ok(diff);
        }
        let previous = self.snapshot(resource_id, table, Some(version - 1)).await?;
        let before = arrow_schema(&previous).await?;
        diff.previous = Some(version - 1);
        diff.rows_before = row_count(&previous);
        diff.columns_added = after
            .fields()
            .iter()
            .filter(|f| before.field_with_name(f.name()).is_err())
            .map(|f| f.name().clone())
            .collect();
        diff.columns_removed = before
            .fields()
            .iter()
            .filter(|f| after.field_with_name(f.name()).is_err())
            .map(|f| f.name().clone())
            .collect();
        diff.columns_retyped = after
            .fields()
            .iter()
            .filter_map(|f| {
                let old = before.field_with_name(f.name()).ok()?;
                let (from, to) = (kind_of(old.data_type()), kind_of(f.data_type()));
                (from != to).then(|| Retyped { name: f.name().clone(), from: from.into(), to: to.into() })
            })
            .collect();
        diff.rows = match facts.and_then(|f| f.changes) {
            Some(changes) => Some(changes),
            None if !key.is_empty() => compare_by_key(previous, current, &before, &after, &key).await?,
            None => None,
        };
        Ok(diff)
    }
}

pub(crate) async fn arrow_schema(t: &DeltaTable) -> Result<Schema, LakeError> {
    let provider = t.table_provider().await.map_err(|e| LakeError::Delta(e.into()))?;
    Ok(provider.schema().as_ref().clone())
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Rows added, removed and changed between two snapshots, joined on `key`; `None`
/// when a key column is missing from either.
async fn compare_by_key(
    previous: DeltaTable,
    current: DeltaTable,
    before: &Schema,
    after: &Schema,
    key: &[String],
) -> Result<Option<RowChanges>, LakeError> {
    use deltalake::arrow::array::AsArray;
    use deltalake::arrow::datatypes::Int64Type;
    use deltalake::datafusion::prelude::SessionContext;
    if key.iter().any(|k| before.field_with_name(k).is_err() || after.field_with_name(k).is_err()) {
        return Ok(None);
    }
    let compared: Vec<String> = after
        .fields()
        .iter()
        .filter(|f| !key.contains(f.name()))
        .filter(|f| before.field_with_name(f.name()).is_ok_and(|old| old.data_type() == f.data_type()))
        .map(|f| quoted(f.name()))
        .collect();
    let on: Vec<String> = key.iter().map(|k| format!("p.{0} = c.{0}", quoted(k))).collect();
    let differs = if compared.is_empty() {
        "FALSE".to_string()
    } else {
        compared.iter().map(|c| format!("(p.{c} IS DISTINCT FROM c.{c})")).collect::<Vec<_>>().join(" OR ")
    };
    let sql = format!(
        "SELECT \
           CAST(SUM(CASE WHEN p.kho_in IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN c.kho_in IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN p.kho_in IS NOT NULL AND c.kho_in IS NOT NULL AND ({differs}) THEN 1 ELSE 0 END) AS BIGINT) \
         FROM (SELECT *, 1 AS kho_in FROM older) p FULL OUTER JOIN (SELECT *, 1 AS kho_in FROM newer) c ON {}",
        on.join(" AND ")
    );
    let ctx = SessionContext::new();
    let df_error = |e: deltalake::datafusion::error::DataFusionError| LakeError::Delta(e.into());
    ctx.register_table("older", previous.table_provider().await.map_err(df_error)?).map_err(df_error)?;
    ctx.register_table("newer", current.table_provider().await.map_err(df_error)?).map_err(df_error)?;
    let batches = ctx.sql(&sql).await.map_err(df_error)?.collect().await.map_err(df_error)?;
    let value = |i: usize| -> u64 {
        batches
            .first()
            .filter(|b| b.num_rows() > 0)
            .and_then(|b| b.column(i).as_primitive_opt::<Int64Type>().map(|a| a.value(0)))
            .unwrap_or(0)
            .max(0) as u64
    };
    Ok(Some(RowChanges { added: value(0), removed: value(1), changed: value(2) }))
}

/// What a retention run did (lưu giữ phiên bản).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Retention {
    /// When the policy was applied (milliseconds since 1970).
    pub applied_ms: i64,
    /// Versions replaced before this moment (milliseconds since 1970) lost their files.
    pub cutoff_ms: i64,
    pub files_deleted: u64,
}

const RETENTION_PATH: &str = "_kho/retention.json";

async fn read_retention(table: &DeltaTable) -> Option<Retention> {
    let got = table.object_store().get(&StorePath::from(RETENTION_PATH)).await.ok()?;
    serde_json::from_slice(&got.bytes().await.ok()?).ok()
}

/// Whether a version's files may have been removed: it was superseded (the next
/// version committed) before the retention cutoff. The newest version always stays.
fn expired(next_commit_ms: Option<i64>, retention: Option<&Retention>) -> bool {
    matches!((next_commit_ms, retention), (Some(next), Some(r)) if next <= r.cutoff_ms)
}

impl Lake {
    /// Applies a retention policy: the data files of versions superseded more than
    /// `keep` ago are deleted, so those versions can no longer be read (time travel
    /// ends there). Versions newer than that, and the newest version, stay whole.
    /// Delta's log keeps every commit, so the version list still shows who loaded what.
    pub async fn apply_retention(
        &self,
        resource_id: &str,
        table: &str,
        keep: std::time::Duration,
    ) -> Result<Retention, LakeError> {
        use futures::StreamExt;
        let t = self.snapshot(resource_id, table, None).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let state = t.snapshot()?;
        let log_store = t.log_store();
        let mut doomed = Vec::new();
        let mut tombstones = state.all_tombstones(log_store.as_ref());
        while let Some(tombstone) = tombstones.next().await {
            let tombstone = tombstone?;
            if tombstone.deletion_timestamp().is_some_and(|at| at <= cutoff) {
                let path = tombstone.path();
                doomed.push(StorePath::from_url_path(path.as_ref()).unwrap_or_else(|_| StorePath::from(path.as_ref())));
            }
        }
        drop(tombstones);
        let store = t.object_store();
        let mut files_deleted = 0;
        for path in doomed {
            match store.delete(&path).await {
                Ok(()) => files_deleted += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(LakeError::Delta(e.into())),
            }
        }
        // The cutoff only moves forward: files deleted earlier stay deleted.
        let previous = read_retention(&t).await.map(|r| r.cutoff_ms).unwrap_or(i64::MIN);
        let record = Retention { applied_ms: now, cutoff_ms: cutoff.max(previous), files_deleted };
        let bytes = serde_json::to_vec_pretty(&record).map_err(|e| LakeError::Invalid(e.to_string()))?;
        store
            .put(&StorePath::from(RETENTION_PATH), PutPayload::from(bytes))
            .await
            .map_err(|e| LakeError::Delta(e.into()))?;
        Ok(record)
    }

    /// Refuses to read a version whose files the retention policy removed; `t` is
    /// the table at its newest version.
    pub(crate) async fn check_retained(&self, t: &DeltaTable, table: &str, version: i64) -> Result<(), LakeError> {
        let Some(retention) = read_retention(t).await else { return Ok(()) };
        let Some(latest) = t.version() else { return Ok(()) };
        let delta_next = version as u64; // Kho version n is Delta version n-1; the next is n.
        if delta_next > latest {
            return Ok(());
        }
        let next = self.history_commit_time(t, delta_next).await;
        if expired(next, Some(&retention)) {
            let when = chrono::DateTime::from_timestamp_millis(retention.cutoff_ms)
                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            return Err(LakeError::Invalid(format!(
                "version: version {version} of table {table} was replaced before {when} and the retention policy \
                 removed its data; read a later version"
            )));
        }
        Ok(())
    }

    async fn history_commit_time(&self, t: &DeltaTable, delta_version: u64) -> Option<i64> {
        use futures::StreamExt;
        let latest = t.version()?;
        let commits: Vec<_> = t.history(None).collect().await;
        let index = usize::try_from(latest.checked_sub(delta_version)?).ok()?;
        commits.get(index)?.as_ref().ok()?.timestamp
    }
}
