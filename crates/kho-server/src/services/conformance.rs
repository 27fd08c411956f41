//! Gắn cột với từ điển — a table's columns bound to data elements, and how each bound
//! column conforms (type, length, pattern, and the code list as of the data's date: the
//! resource's temporal coverage, else today) in each table version. Binding needs the right to manage the resource; the reports are read with
//! the resource. A load re-checks the bound columns of the table it made a version of.

use super::Kho;
use kho_catalog::conformance::{names_match, ColumnCheck, ColumnConformance, Tally};
use kho_catalog::dictionary::{DataElement, RegistrationStatus};
use kho_catalog::{DataResource, PersonalData};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::Action;
use kho_core::{Error, Result};
use serde::Serialize;

/// A bound column with its element and its newest conformance report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BoundColumn {
    pub table: String,
    pub column: String,
    /// The element's identifier and name.
    pub element: String,
    pub element_name: String,
    pub personal_data: PersonalData,
    pub bound_by: String,
    /// The newest version's report, when it has been checked.
    pub conformance: Option<ColumnConformance>,
}

/// A suggested binding: a column whose name matches an element.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestedBinding {
    pub table: String,
    pub column: String,
    pub element: String,
    pub element_name: String,
}

impl Kho {
    /// The resource, if the caller may read it, checked for managing when `manage`.
    async fn resource_for_bindings(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        manage: bool,
    ) -> Result<DataResource> {
        let r = self.resource(subject, ctx, key).await?;
        if manage {
            let target = format!("resource:{}", r.id);
            self.check_resource(subject, ctx, Action::Update, &r.draft, "binding.set", &target).await?;
        }
        Ok(r)
    }

    /// The bound columns of a resource's tables, with their newest reports.
    pub async fn bound_columns(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<Vec<BoundColumn>> {
        let r = self.resource_for_bindings(subject, ctx, key, false).await?;
        let mut out = Vec::new();
        // Each table's newest reports, read once for all its bound columns.
        let mut reports: std::collections::HashMap<String, Vec<ColumnConformance>> = Default::default();
        for b in self.store.bindings(&r.id).await? {
            let e = self.data_element(&b.element_id).await?;
            if !reports.contains_key(&b.table) {
                let newest = self.lake.history(&r.id, &b.table).await.ok().and_then(|h| h.first().map(|v| v.version));
                let table_reports = match newest {
                    Some(v) => self.store.conformance(&r.id, &b.table, v).await?,
                    None => Vec::new(),
                };
                reports.insert(b.table.clone(), table_reports);
            }
            let conformance = reports[&b.table].iter().find(|c| c.column == b.column).cloned();
            out.push(BoundColumn {
                table: b.table,
                column: b.column,
                element: e.draft.identifier.clone(),
                element_name: e.draft.name.clone(),
                personal_data: e.draft.personal_data,
                bound_by: b.bound_by,
                conformance,
            });
        }
        Ok(out)
    }

    /// Binds a column of a table to an element and checks the table's newest version.
    pub async fn bind_column(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        column: &str,
        element: &str,
    ) -> Result<ColumnConformance> {
        let r = self.resource_for_bindings(subject, ctx, key, true).await?;
        let e = self.data_element(element).await.map_err(|_| {
            Error::invalid("element", format!("no data element {element:?}; see /dictionary for the elements"))
        })?;
        if e.status == RegistrationStatus::Retired {
            return Err(Error::invalid("element", format!("{} is retired; bind its replacement", e.draft.identifier)));
        }
        let report = self.check_column(&r.id, table, None, column, &e, data_date(&r)).await?;
        self.store.bind_column(ctx, &r.id, table, column, &e.id).await?;
        self.store.save_conformance(&r.id, table, &report).await?;
        Ok(report)
    }

    pub async fn unbind_column(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        column: &str,
    ) -> Result<()> {
        let r = self.resource_for_bindings(subject, ctx, key, true).await?;
        Ok(self.store.unbind_column(ctx, &r.id, table, column).await?)
    }

    /// Columns whose names match an element's identifier, name or synonyms, not bound yet.
    pub async fn suggest_bindings(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
    ) -> Result<Vec<SuggestedBinding>> {
        let r = self.resource_for_bindings(subject, ctx, key, false).await?;
        let bound = self.store.bindings(&r.id).await?;
        let elements = self.data_elements(None, None, 500, 0).await?.items;
        let mut out = Vec::new();
        for table in self.lake.tables(&r.id).await? {
            let history = self.lake.history(&r.id, &table).await?;
            let columns = history.first().and_then(|v| v.columns.clone()).unwrap_or_default();
            for c in columns {
                if bound.iter().any(|b| b.table == table && b.column == c.name) {
                    continue;
                }
                let found = elements.iter().filter(|e| e.status != RegistrationStatus::Retired).find(|e| {
                    names_match(&c.name, &e.draft) || (!c.header.is_empty() && names_match(&c.header, &e.draft))
                });
                if let Some(e) = found {
                    out.push(SuggestedBinding {
                        table: table.clone(),
                        column: c.name.clone(),
                        element: e.draft.identifier.clone(),
                        element_name: e.draft.name.clone(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Checks every bound column of a table version (the newest when `None`) and keeps
    /// the reports. Called after each load.
    pub async fn check_table_conformance(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<Vec<ColumnConformance>> {
        let bindings: Vec<_> =
            self.store.bindings(resource_id).await?.into_iter().filter(|b| b.table == table).collect();
        if bindings.is_empty() {
            return Ok(Vec::new());
        }
        let on = data_date(
            &self
                .store
                .resource(resource_id)
                .await?
                .ok_or_else(|| Error::not_found(format!("data resource {resource_id:?}")))?,
        );
        let mut out = Vec::new();
        for b in bindings {
            let e = self.data_element(&b.element_id).await?;
            let report = self.check_column(resource_id, table, version, &b.column, &e, on).await?;
            self.store.save_conformance(resource_id, table, &report).await?;
            out.push(report);
        }
        Ok(out)
    }

    async fn check_column(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        column: &str,
        e: &DataElement,
        on: chrono::NaiveDate,
    ) -> Result<ColumnConformance> {
        let check = ColumnCheck::new(&e.draft)?;
        let codes = match check.code_list() {
            None => None,
            Some(list) => {
                let published = self.published_code_list(list).await.map_err(|_| {
                    Error::invalid(
                        "element",
                        format!("the code list {list:?} of element {} does not exist", e.draft.identifier),
                    )
                })?;
                let version = published.on(on).cloned().ok_or_else(|| {
                    Error::invalid("element", format!("the code list {list:?} has no version in force on {on}"))
                })?;
                Some(version)
            }
        };
        let member = move |code: &str| codes.as_ref().is_none_or(|index| index.item(code).is_some());
        let mut tally = Tally::new(&check, column, &e.draft.identifier, 0);
        let version = self.lake.scan_column(resource_id, table, version, column, |v| tally.add(v, &member)).await?;
        let mut report = tally.finish();
        report.version = version;
        Ok(report)
    }

    /// Columns bound to elements that hold personal data: `table.column (element)`.
    pub(crate) async fn personal_bound_columns(&self, resource_id: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for b in self.store.bindings(resource_id).await? {
            let e = self.data_element(&b.element_id).await?;
            if e.draft.personal_data != PersonalData::None {
                out.push(format!(
                    "{}.{} (bound to {}, {} personal data)",
                    b.table,
                    b.column,
                    e.draft.identifier,
                    e.draft.personal_data.as_str()
                ));
            }
        }
        Ok(out)
    }
}

/// The date a resource's data is about, for code lists: the end of its temporal
/// coverage (or its start), else today.
pub(super) fn data_date(r: &DataResource) -> chrono::NaiveDate {
    r.draft.temporal_end.or(r.draft.temporal_start).unwrap_or_else(super::codelists::today)
}
