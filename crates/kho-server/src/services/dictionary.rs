//! Từ điển dữ liệu — the data dictionary's services. Anyone reads it (it is what makes
//! the province's data comparable); the stewards of an element's owning agency (and of
//! the agencies above it) and administrators change it. Every change makes a new
//! version and an audit entry.

use super::Kho;
use kho_catalog::dictionary::{DataElement, ElementDraft, ElementVersion, RegistrationStatus, CSV_COLUMNS};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::{Action, Resource, ResourceKind};
use kho_core::{Error, Result};
use kho_store::{ElementQuery, Page};
use serde::Serialize;

/// What an import did, or would have done had nothing been wrong.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ElementImport {
    /// Identifiers of the elements created, updated and left as they were.
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// The formats the dictionary is imported and exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictionaryFormat {
    Csv,
    Json,
}

impl DictionaryFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            other => Err(Error::invalid("format", format!("{other:?} is not csv or json"))),
        }
    }
}

impl Kho {
    /// Elements matching the words and status, by name.
    pub async fn data_elements(
        &self,
        q: Option<String>,
        status: Option<RegistrationStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<DataElement>> {
        let query = ElementQuery { q, status, limit: limit.clamp(1, 500), offset: offset.max(0) };
        Ok(self.store.list_elements(&query).await?)
    }

    /// One element by id or identifier.
    pub async fn data_element(&self, key: &str) -> Result<DataElement> {
        self.store.element(key).await?.ok_or_else(|| Error::not_found(format!("data element {key:?}")))
    }

    /// Every version of an element, newest first.
    pub async fn data_element_history(&self, key: &str) -> Result<Vec<ElementVersion>> {
        let e = self.data_element(key).await?;
        Ok(self.store.element_history(&e.id).await?)
    }

    /// The caller may `action` an element owned by `owner_agency_id`.
    async fn check_element(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: Action,
        owner_agency_id: &str,
        audit_action: &str,
        target: &str,
    ) -> Result<()> {
        let path = self
            .agency(owner_agency_id)
            .await
            .map_err(|_| Error::invalid("management.owner_agency_id", format!("no agency has id {owner_agency_id:?}")))?
            .path;
        let resource = Resource::new(ResourceKind::DataElement).in_agency(&path);
        self.check(subject, ctx, action, resource, audit_action, target).await
    }

    /// Registers a new element, as a draft.
    pub async fn create_data_element(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        draft: ElementDraft,
    ) -> Result<DataElement> {
        let draft = draft.validate()?;
        let owner = draft.management.owner_agency_id.clone();
        self.check_element(subject, ctx, Action::Create, &owner, "element.create", &draft.identifier).await?;
        Ok(self.store.create_element(ctx, &draft, RegistrationStatus::Draft).await?)
    }

    /// Describes an element anew: its next version. Retired elements stay as they are.
    pub async fn update_data_element(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        draft: ElementDraft,
    ) -> Result<DataElement> {
        let current = self.data_element(key).await?;
        let target = format!("element:{}", current.id);
        let owner = current.draft.management.owner_agency_id.clone();
        self.check_element(subject, ctx, Action::Update, &owner, "element.update", &target).await?;
        let draft = draft.validate()?;
        if draft.management.owner_agency_id != owner {
            // Handing an element to another agency needs the right to manage it there too.
            let to = draft.management.owner_agency_id.clone();
            self.check_element(subject, ctx, Action::Update, &to, "element.update", &target).await?;
        }
        if current.status == RegistrationStatus::Retired {
            return Err(Error::invalid("status", "a retired element is kept as it was; register a new one"));
        }
        Ok(self.store.update_element(ctx, &current.id, &draft).await?)
    }

    /// Moves an element through its lifecycle.
    pub async fn set_data_element_status(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        status: RegistrationStatus,
    ) -> Result<DataElement> {
        let current = self.data_element(key).await?;
        let owner = current.draft.management.owner_agency_id.clone();
        let target = format!("element:{}", current.id);
        self.check_element(subject, ctx, Action::Update, &owner, "element.status", &target).await?;
        current.status.check_move(status)?;
        Ok(self.store.set_element_status(ctx, &current.id, status).await?)
    }

    /// Creates or updates the elements of a CSV or JSON file (the format of
    /// [`Kho::export_data_elements`]). Every row is checked first: one error and nothing
    /// changes.
    pub async fn import_data_elements(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        format: DictionaryFormat,
        bytes: &[u8],
    ) -> Result<ElementImport> {
        let drafts = parse_elements(format, bytes)?;
        let mut plan = Vec::new();
        for (row, draft) in drafts {
            let at = |e: Error| Error::invalid("file", format!("row {row}: {}", e.message));
            let current = self.store.element(&draft.identifier).await?;
            let owner = draft.management.owner_agency_id.clone();
            let (action, audit) = match &current {
                Some(_) => (Action::Update, "element.update"),
                None => (Action::Create, "element.create"),
            };
            self.check_element(subject, ctx, action, &owner, audit, &draft.identifier).await.map_err(|e| {
                match e.code {
                    kho_core::ErrorCode::Forbidden => e,
                    _ => at(e),
                }
            })?;
            if let Some(c) = &current {
                self.check_element(subject, ctx, Action::Update, &c.draft.management.owner_agency_id, audit, &c.id)
                    .await?;
                if c.status == RegistrationStatus::Retired && c.draft != draft {
                    return Err(at(Error::invalid("status", format!("{} is retired", c.draft.identifier))));
                }
            }
            plan.push((draft, current));
        }
        let mut report = ElementImport::default();
        for (draft, current) in plan {
            match current {
                None => {
                    self.store.create_element(ctx, &draft, RegistrationStatus::Draft).await?;
                    report.created.push(draft.identifier);
                }
                Some(c) if c.draft == draft => report.unchanged.push(draft.identifier),
                Some(c) => {
                    self.store.update_element(ctx, &c.id, &draft).await?;
                    report.updated.push(draft.identifier);
                }
            }
        }
        Ok(report)
    }

    /// The whole dictionary as CSV (one row an element, the columns of
    /// [`CSV_COLUMNS`] and `status`) or JSON (an array of elements).
    pub async fn export_data_elements(&self, format: DictionaryFormat) -> Result<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let page = self.data_elements(None, None, 500, all.len() as i64).await?;
            let done = page.items.len() < 500;
            all.extend(page.items);
            if done {
                break;
            }
        }
        match format {
            DictionaryFormat::Json => serde_json::to_vec_pretty(&all).map_err(|e| Error::internal(e.to_string())),
            DictionaryFormat::Csv => {
                let mut out = csv::Writer::from_writer(Vec::new());
                let mut header: Vec<&str> = CSV_COLUMNS.to_vec();
                header.push("status");
                out.write_record(&header).map_err(|e| Error::internal(e.to_string()))?;
                for e in &all {
                    let mut record = e.draft.to_csv_record();
                    record.push(e.status.as_str().to_string());
                    out.write_record(&record).map_err(|e| Error::internal(e.to_string()))?;
                }
                out.into_inner().map_err(|e| Error::internal(e.to_string()))
            }
        }
    }
}

/// The elements of a file, each with the row (CSV: line) or position (JSON) it came
/// from, for errors.
fn parse_elements(format: DictionaryFormat, bytes: &[u8]) -> Result<Vec<(u64, ElementDraft)>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(|e| {
        Error::invalid("file", format!("the file is not UTF-8 (byte {}); save it as UTF-8", e.valid_up_to()))
    })?;
    match format {
        DictionaryFormat::Json => {
            let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                Error::invalid(
                    "file",
                    format!("line {}, column {}: {e}; the file is a JSON array of elements", e.line(), e.column()),
                )
            })?;
            values
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let n = i as u64 + 1;
                    let draft: ElementDraft = serde_json::from_value(strip_stored(v))
                        .map_err(|e| Error::invalid("file", format!("element {n}: {e}")))?;
                    draft
                        .validate()
                        .map(|d| (n, d))
                        .map_err(|e| Error::invalid("file", format!("element {n}: {}", e.message)))
                })
                .collect()
        }
        DictionaryFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| Error::invalid("file", format!("the header row cannot be read: {e}")))?
                .iter()
                .map(String::from)
                .collect();
            for required in ["identifier", "name", "definition", "owner_agency_id"] {
                if !header.iter().any(|h| h.trim() == required) {
                    return Err(Error::invalid(
                        "file",
                        format!("the header has no column {required:?}; the columns are {}", CSV_COLUMNS.join(", ")),
                    ));
                }
            }
            let mut out = Vec::new();
            for (i, record) in reader.records().enumerate() {
                let row = i as u64 + 2;
                let record = record.map_err(|e| Error::invalid("file", format!("row {row}: {e}")))?;
                let cells: Vec<String> = record.iter().map(String::from).collect();
                out.push((row, ElementDraft::from_csv_record(&header, &cells, row)?));
            }
            Ok(out)
        }
    }
}

/// An exported element without the fields the store keeps (id, version, status, times),
/// so that an export imports again.
fn strip_stored(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        for stored in ["id", "version", "status", "status_changed_by", "status_changed_at", "created_at", "updated_at"]
        {
            o.remove(stored);
        }
    }
    v
}
