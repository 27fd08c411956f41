//! Làm sạch — the cleaning step: the standardisers of `kho-standard` applied to named
//! columns of a table's newest version, written as a new version (never in place) with
//! a report of what changed; then the table's checks run on the new version, so the
//! steward sees the scores before and after. A value that cannot be made valid is kept
//! as it was. A cleaning that fails commits nothing.

use super::Kho;
use kho_core::audit::{AuditContext, Outcome};
use kho_core::identity::Subject;
use kho_core::policy::Action;
use kho_core::{Error, Result};
use kho_lake::RewriteOptions;
use kho_quality::clean::{ChangeReport, ColumnChanges, Transform};
use kho_quality::result::{QualityRun, Trigger};
use kho_quality::{ColumnKind, Scores};
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// What the cleaning step did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CleaningOutcome {
    /// The version cleaned.
    pub from_version: i64,
    /// The version written.
    pub version: i64,
    pub changes: ChangeReport,
    /// The scores of the version cleaned (its newest run, or a run made for the
    /// comparison); none when its checks could not run.
    pub before: Option<Scores>,
    /// The run of the table's checks on the new version.
    pub run: QualityRun,
}

impl Kho {
    /// Cleans a table's newest version with `transforms` into a new version, for those
    /// who may change the resource's data. With `of_version`, the cleaning is refused
    /// when the newest version is another one (a form sent twice, a load in between).
    pub async fn clean_table(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        transforms: &[Transform],
        of_version: Option<i64>,
    ) -> Result<CleaningOutcome> {
        let r = self.resource(subject, ctx, key).await?;
        let target = format!("table:{}/{table}", r.id);
        self.check_resource(subject, ctx, Action::Update, &r.draft, "table.clean", &target).await?;
        let (from_version, columns) = self.lake.arrow_columns(&r.id, table, None).await?;
        check_transforms(table, &columns, transforms)?;
        if let Some(asked) = of_version.filter(|v| *v != from_version) {
            return Err(Error::conflict(format!(
                "table {table} is at version {from_version}, not {asked}: it changed since the cleaning was asked \
                 for; look at version {from_version} and clean it if it still needs it"
            )));
        }

        let before = self.scores_of(subject, ctx, &r, table, from_version).await;
        let names: Vec<String> = transforms.iter().map(|t| t.column.clone()).collect();
        let kinds: Vec<kho_standard::Kind> = transforms.iter().map(|t| t.kind).collect();
        let tally = Arc::new(Mutex::new(transforms.iter().map(ColumnChanges::new).collect::<Vec<_>>()));
        let transform = {
            let tally = tally.clone();
            move |batch| {
                let mut tally = tally.lock().unwrap_or_else(|p| p.into_inner());
                kho_lake::rewrite::map_text(&batch, &names, |i, value| tally[i].apply(kinds[i], value))
            }
        };
        let described: Vec<String> = transforms.iter().map(|t| format!("{}={}", t.column, t.kind)).collect();
        let options = RewriteOptions {
            rewritten_by: subject.actor(),
            source_name: format!("cleaning of version {from_version}: {}", described.join(", ")),
        };
        let report = match self.lake.rewrite(&r.id, table, Some(from_version), transform, options).await {
            Ok(report) => report,
            Err(e) => {
                let detail = json!({"from_version": from_version, "transforms": described, "error": e.to_string()});
                let event = ctx.event("table.clean", target).outcome(Outcome::Failure).detail(detail);
                self.store.append_audit(event).await?;
                return Err(e.into());
            }
        };
        let columns = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
        let changes = ChangeReport {
            from_version,
            to_version: report.version,
            rows: report.rows,
            rows_changed: report.changes.map_or(0, |c| c.changed),
            columns,
        };
        let counts: Vec<_> = changes
            .columns
            .iter()
            .map(|c| json!({"column": c.column, "kind": c.kind, "values": c.values, "fixed": c.fixed, "invalid": c.invalid}))
            .collect();
        let detail = json!({"from_version": from_version, "version": report.version, "rows": report.rows, "rows_changed": changes.rows_changed, "columns": counts});
        self.store.append_audit(ctx.event("table.clean", target).detail(detail)).await?;
        let run = self.after_new_version(subject, ctx, &r, table, report.version, Trigger::Cleaning).await?;
        Ok(CleaningOutcome { from_version, version: report.version, changes, before, run })
    }

    /// The scores of a version: its newest recorded run's when that run checked the
    /// table's current rules, else those of a run made now (and recorded). A run that
    /// cannot finish is logged and gives none.
    async fn scores_of(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        r: &kho_catalog::DataResource,
        table: &str,
        version: i64,
    ) -> Option<Scores> {
        let recorded = async {
            let rules_set_at =
                self.store.quality_rules(&r.id).await?.into_iter().find(|s| s.table == table).map(|s| s.updated_at);
            let newest = self.store.quality_runs(&r.id, table, 1).await?.into_iter().next();
            Ok::<_, kho_store::StoreError>(
                newest.filter(|run| run.version == version && rules_set_at.is_none_or(|at| run.started_at >= at)),
            )
        };
        match recorded.await {
            Ok(Some(run)) => return Some(run.scores),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the quality runs were not read"),
        }
        match self.check_new_version(subject, ctx, r, table, version, Trigger::Manual).await {
            Ok(run) => Some(run.scores),
            Err(e) => {
                tracing::warn!(error = %e, resource = %r.id, table, "the version's checks did not run before cleaning");
                None
            }
        }
    }
}

/// Each transform names a text column of the table, once.
fn check_transforms(table: &str, columns: &[(String, String)], transforms: &[Transform]) -> Result<()> {
    let kinds: Vec<&str> = kho_standard::Kind::ALL.iter().map(|k| k.as_str()).collect();
    if transforms.is_empty() {
        return Err(Error::invalid(
            "transforms",
            format!("name at least one column and its kind, e.g. ho_ten=name; the kinds are {}", kinds.join(", ")),
        ));
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    for (i, t) in transforms.iter().enumerate() {
        let Some((_, arrow)) = columns.iter().find(|(n, _)| *n == t.column) else {
            return Err(Error::invalid(
                "transforms",
                format!("table {table} has no column {:?}; its columns are {}", t.column, names.join(", ")),
            ));
        };
        let kind = ColumnKind::from_arrow_name(arrow);
        if kind != ColumnKind::Text {
            return Err(Error::invalid(
                "transforms",
                format!(
                    "column {} holds {}, not text; the cleaning step standardises text columns only",
                    t.column,
                    kind.as_str()
                ),
            ));
        }
        if transforms[..i].iter().any(|u| u.column == t.column) {
            return Err(Error::invalid("transforms", format!("column {} is named twice; name it once", t.column)));
        }
    }
    Ok(())
}
