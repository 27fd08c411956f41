//! Warehouse services: loading files into a resource's tables, listing their
//! versions, reading rows and downloading versions — each checked against the
//! resource's policy and recorded in the audit log.

use super::catalog::effective_scope;
use super::Kho;
use kho_catalog::DataResource;
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::{Action, Resource, ResourceKind, SharingScope};
use kho_core::{Error, Result};
use kho_lake::source::Format;
use kho_lake::{
    Download, DownloadFormat, IngestOptions, IngestReport, LoadMode, Progress, RowPage, RowQuery, TableVersion,
    VersionDiff,
};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Which version of a table to download, and how.
#[derive(Debug, Clone, Copy)]
pub struct DownloadRequest {
    /// The newest when `None`.
    pub version: Option<i64>,
    pub format: DownloadFormat,
    /// Start a CSV with a UTF-8 byte-order mark (for Excel).
    pub bom: bool,
}

/// A file to load into a table.
pub struct Load<'a> {
    pub resource: &'a str,
    pub table: &'a str,
    pub path: &'a Path,
    /// The name to record (an upload's original file name).
    pub source_name: String,
    pub mode: LoadMode,
    /// The columns that identify a row (needed for upsert).
    pub key: Vec<String>,
    /// The format, when it should not be detected.
    pub format: Option<Format>,
    /// The sheet of a workbook; the first non-empty one when `None`.
    pub sheet: Option<String>,
    /// The header row, when it should not be detected (`Some(0)`: no header).
    pub header_row: Option<u64>,
    /// Declared column types: (column, kind).
    pub schema: Vec<(String, String)>,
    /// What to do with rows that have a bad cell.
    pub on_error: OnError,
}

/// What a load does with rows that have a bad cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnError {
    /// The load fails whole and commits nothing (the default).
    Fail,
    /// The good rows are committed; the bad ones go to this CSV file.
    RejectTo(PathBuf),
    /// The good rows are committed; the bad ones go to
    /// `<data dir>/rejects/<resource id>/<table>/v<version>.csv`.
    Reject,
}

impl OnError {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "fail" => Ok(Self::Fail),
            "reject" => Ok(Self::Reject),
            other => Err(Error::invalid("on_error", format!("{other:?} is not a choice; use fail or reject"))),
        }
    }
}

/// Declared column types written `column:type,column:type`.
pub fn parse_schema(text: &str) -> Result<Vec<(String, String)>> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| match part.rsplit_once(':') {
            Some((column, kind)) if !column.trim().is_empty() => {
                Ok((column.trim().to_string(), kind.trim().to_lowercase()))
            }
            _ => Err(Error::invalid(
                "schema",
                format!("{part:?} is not column:type; write for example ma_xa:text,ngay:date"),
            )),
        })
        .collect()
}

impl Kho {
    /// Checks `action` on the data of `r` and returns it.
    async fn check_data(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: Action,
        r: &DataResource,
        audit_action: &str,
    ) -> Result<()> {
        let path = self.agency_path(&r.draft.publisher_agency_id).await?;
        let scope = if action == Action::Read { effective_scope(r) } else { r.draft.sharing_scope };
        let policy = Resource::new(ResourceKind::DataResource).in_agency(&path).with_scope(scope);
        self.check(subject, ctx, action, policy, audit_action, &format!("resource:{}", r.id)).await
    }

    /// Loads a file as a new version of a table; the whole load is one commit.
    pub async fn load_table(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        load: Load<'_>,
        progress: impl Fn(Progress) + Send + 'static,
    ) -> Result<IngestReport> {
        let r = self
            .store
            .resource(load.resource)
            .await?
            .ok_or_else(|| Error::not_found(format!("data resource {:?}", load.resource)))?;
        self.check_data(subject, ctx, Action::Update, &r, "table.load").await?;
        let rejects_dir = self.settings.data_dir.join("rejects").join(&r.id).join(load.table);
        let rejects = match &load.on_error {
            OnError::Fail => None,
            OnError::RejectTo(path) => Some(path.clone()),
            OnError::Reject => Some(rejects_dir.join(format!("pending-{}.csv", uuid::Uuid::new_v4()))),
        };
        let options = IngestOptions {
            mode: load.mode,
            loaded_by: subject.actor(),
            source_name: load.source_name.clone(),
            key: load.key.clone(),
            format: load.format,
            sheet: load.sheet.clone(),
            header_row: load.header_row,
            schema: load.schema.clone(),
            rejects,
            ..Default::default()
        };
        let outcome = self.lake.ingest(&r.id, load.table, load.path, options, progress).await;
        let target = format!("table:{}/{}", r.id, load.table);
        match outcome {
            Ok(mut report) => {
                if let (OnError::Reject, Some(pending)) = (&load.on_error, &report.rejects_file) {
                    // Named after the version it belongs to, now that the version is known.
                    let name = format!("v{}.csv", report.version);
                    std::fs::rename(pending, rejects_dir.join(&name))
                        .map_err(|e| Error::internal(format!("cannot keep the rejected rows: {e}")))?;
                    let url =
                        format!("/api/v1/resources/{}/tables/{}/versions/{}/rejects", r.id, load.table, report.version);
                    report.rejects_file = Some(url);
                }
                let detail = json!({"version": report.version, "rows": report.rows, "source": load.source_name, "sha256": report.sha256, "mode": load.mode, "format": report.format, "rejected_rows": report.rejected_rows});
                self.store.append_audit(ctx.event("table.load", target.clone()).detail(detail)).await?;
                // A failed quality run is logged and leaves the load as it is.
                let trigger = kho_quality::result::Trigger::Load;
                if let Err(e) = self.after_new_version(subject, ctx, &r, load.table, report.version, trigger).await {
                    tracing::warn!(error = %e, resource = %r.id, table = load.table, "the quality checks did not run");
                }
                Ok(report)
            }
            Err(e) => {
                let detail = json!({"source": load.source_name, "error": e.to_string()});
                let event = ctx.event("table.load", target).outcome(kho_core::audit::Outcome::Failure).detail(detail);
                self.store.append_audit(event).await?;
                Err(e.into())
            }
        }
    }

    /// What follows a new version of a table (a load's, or the cleaning step's): dataset
    /// services see its columns at once, old versions expire by the retention policy,
    /// the bound columns are checked against the dictionary (a failure is logged), and
    /// the table's quality checks run on it and are recorded.
    pub(super) async fn after_new_version(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        r: &DataResource,
        table: &str,
        version: i64,
        trigger: kho_quality::result::Trigger,
    ) -> Result<kho_quality::result::QualityRun> {
        self.exchange.invalidate();
        if let Some(days) = self.settings.retention_days {
            self.apply_retention(ctx, &r.id, table, days).await;
        }
        if let Err(e) = self.check_table_conformance(&r.id, table, Some(version)).await {
            tracing::warn!(error = %e, resource = %r.id, table, "the bound columns were not checked");
        }
        self.check_new_version(subject, ctx, r, table, version, trigger).await
    }

    /// The rows a load left out (`on_error=reject`), as CSV, for those who may load
    /// the table: they may hold data the table does not publish.
    pub async fn table_rejects(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        version: i64,
    ) -> Result<(DataResource, Vec<u8>)> {
        let r = self.resource(subject, ctx, key).await?;
        self.check_data(subject, ctx, Action::Update, &r, "table.rejects").await?;
        kho_lake::validate_table_name(table)?;
        let path = self.settings.data_dir.join("rejects").join(&r.id).join(table).join(format!("v{version}.csv"));
        let bytes = tokio::fs::read(&path).await.map_err(|_| {
            Error::not_found(format!("rejected rows of version {version} of table {table}; that load rejected none"))
        })?;
        Ok((r, bytes))
    }

    /// Deletes the data of versions replaced more than `days` ago (the retention
    /// policy); the run is audited. A failure is logged: the load itself succeeded.
    pub async fn apply_retention(&self, ctx: &AuditContext, resource_id: &str, table: &str, days: u32) {
        let keep = std::time::Duration::from_secs(u64::from(days) * 86_400);
        let target = format!("table:{resource_id}/{table}");
        match self.lake.apply_retention(resource_id, table, keep).await {
            Ok(done) if done.files_deleted > 0 => {
                let detail = json!({"days": days, "files_deleted": done.files_deleted});
                let event = ctx.event("table.retention", target).detail(detail);
                if let Err(e) = self.store.append_audit(event).await {
                    tracing::error!(error = %e, "the retention run could not be audited");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, %target, "the retention policy could not be applied"),
        }
    }

    /// A resource the caller may read the data of, by id or slug.
    pub(super) async fn readable(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<DataResource> {
        let r = self.resource(subject, ctx, key).await?;
        if effective_scope(&r) != SharingScope::Open {
            self.store.append_audit(ctx.event("table.read", format!("resource:{}", r.id))).await?;
        }
        Ok(r)
    }

    /// The versions of a table, newest first.
    pub async fn table_versions(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
    ) -> Result<Vec<TableVersion>> {
        let r = self.readable(subject, ctx, key).await?;
        Ok(self.lake.history(&r.id, table).await?)
    }

    /// How a version of a table differs from the one before it.
    pub async fn table_diff(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        version: i64,
    ) -> Result<VersionDiff> {
        let r = self.readable(subject, ctx, key).await?;
        Ok(self.lake.diff(&r.id, table, version).await?)
    }

    /// The tables a resource holds.
    pub async fn tables(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<Vec<String>> {
        let r = self.resource(subject, ctx, key).await?;
        Ok(self.lake.tables(&r.id).await?)
    }

    /// A table version as a file of `format`, streamed, with the resource it belongs to
    /// (whose slug names the file).
    pub async fn table_download(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        request: DownloadRequest,
    ) -> Result<(DataResource, Download)> {
        let r = self.readable(subject, ctx, key).await?;
        let download = self.lake.download(&r.id, table, request.version, request.format, request.bom).await?;
        Ok((r, download))
    }

    /// The formats a table version downloads as (GeoJSON only for spatial tables).
    pub async fn table_download_formats(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<Vec<DownloadFormat>> {
        let r = self.resource(subject, ctx, key).await?;
        Ok(self.lake.download_formats(&r.id, table, version).await?)
    }

    /// Rows of a table version matching `query` as JSON objects, and the page's
    /// facts (total, whether estimated, version).
    pub async fn table_rows(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        query: RowQuery,
    ) -> Result<(Vec<serde_json::Map<String, serde_json::Value>>, RowPage)> {
        let r = self.readable(subject, ctx, key).await?;
        let query = RowQuery { limit: query.limit.clamp(1, 10_000), ..query };
        let mut page = self.lake.rows(&r.id, table, &query).await?;
        let rows = kho_lake::to_json_rows(&page.batches)
            .map_err(|e| Error::internal(format!("rows could not be shown: {e}")))?;
        page.batches.clear();
        Ok((rows, page))
    }
}
