//! Hồ sơ dữ liệu — profiling a table version: one aggregate query for every column's
//! counts, lengths and extremes, one query per column for its most frequent values, a
//! sample of the first rows for patterns and legacy encodings; then the checks and the
//! dictionary bindings the profile suggests. The profile is kept per version, so the
//! steward sees it again without reading the table.

use super::{checked_table, shape_of, Kho};
use crate::services::SuggestedBinding;
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::{Error, Result};
use kho_quality::profile::{self, TableProfile};
use kho_quality::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rows read for the sample the patterns, the encodings and the suggestions look at.
const SAMPLE_ROWS: usize = 2_000;

/// A table version's profile with its suggested checks and bindings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TableProfileReport {
    pub profile: TableProfile,
    /// Suggested quality rules, as a YAML rules document to edit and save.
    pub suggested_rules: String,
    /// Columns of the table whose names match a data element, not bound yet.
    pub suggested_bindings: Vec<SuggestedBinding>,
}

/// What is kept of a profile (the bindings are suggested afresh on each read).
#[derive(Serialize, Deserialize)]
struct StoredProfile {
    profile: TableProfile,
    suggested_rules: String,
}

impl Kho {
    /// Profiles a table version (the newest when `None`) for those who may read its
    /// data, keeps the profile and returns it with the suggested checks and bindings.
    pub async fn profile_table(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<TableProfileReport> {
        let r = self.readable(subject, ctx, key).await?;
        let (version, columns) = self.lake.arrow_columns(&r.id, table, version).await?;
        let shape = shape_of(table, &columns);
        let tables = [checked_table(&r.id, table, version)];
        let aggregate_sql = profile::aggregate_sql(&shape, Dialect::DataFusion);
        let aggregate = self.rows_of(&aggregate_sql, &tables).await?.into_iter().next().unwrap_or_default();
        let mut top = BTreeMap::new();
        for j in 0..shape.columns.len() {
            let Some(sql) = profile::top_values_sql(&shape, j, profile::TOP_VALUES) else { continue };
            match self.rows_of(&sql, &tables).await {
                Ok(rows) => {
                    top.insert(j, rows);
                }
                Err(e) => {
                    tracing::warn!(error = %e, column = %shape.columns[j].name, "the most frequent values were not read")
                }
            }
        }
        let samples: BTreeMap<String, Vec<String>> =
            self.lake.column_samples(&r.id, table, Some(version), SAMPLE_ROWS).await?.into_iter().collect();
        let profile = TableProfile::build(&shape, version, &aggregate, &top, &samples);
        let suggested_rules = profile::suggest(&profile, &samples).to_yaml();
        let stored = StoredProfile { profile, suggested_rules };
        let json = serde_json::to_string(&stored).map_err(|e| Error::internal(e.to_string()))?;
        self.store.save_quality_profile(&r.id, table, version, &json).await?;
        let suggested_bindings = self.bindings_for(subject, ctx, key, table).await?;
        Ok(TableProfileReport { profile: stored.profile, suggested_rules: stored.suggested_rules, suggested_bindings })
    }

    /// The kept profile of a table version (the newest profiled when `None`), for
    /// those who may read the data; none when the version was not profiled.
    pub async fn table_profile(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<Option<TableProfileReport>> {
        let r = self.readable(subject, ctx, key).await?;
        let Some((_, json)) = self.store.quality_profile(&r.id, table, version).await? else {
            return Ok(None);
        };
        let stored: StoredProfile = serde_json::from_str(&json)
            .map_err(|e| Error::internal(format!("the kept profile of table {table} cannot be read: {e}")))?;
        let suggested_bindings = self.bindings_for(subject, ctx, key, table).await?;
        Ok(Some(TableProfileReport {
            profile: stored.profile,
            suggested_rules: stored.suggested_rules,
            suggested_bindings,
        }))
    }

    /// The suggested bindings of one table.
    async fn bindings_for(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
    ) -> Result<Vec<SuggestedBinding>> {
        let all = self.suggest_bindings(subject, ctx, key).await?;
        Ok(all.into_iter().filter(|b| b.table == table).collect())
    }
}
