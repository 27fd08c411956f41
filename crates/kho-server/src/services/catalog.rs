//! Catalogue services: stewards describe their agency's data resources; everyone
//! reads what the sharing scope lets them; every change and every read of non-open
//! metadata is recorded.

use super::Kho;
use kho_catalog::personal::{self, ColumnSample};
use kho_catalog::{check_transition, DataResource, ResourceDraft, Status};
use kho_core::audit::AuditContext;
use kho_core::identity::{Role, Subject};
use kho_core::policy::{authorize, Action, Resource, ResourceKind, SharingScope};
use kho_core::{Error, Result};
use kho_store::{Page, ResourceQuery, Visibility};

/// What a caller asks a listing for.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    /// Agency (id) whose subtree published the resources.
    pub agency_id: Option<String>,
    pub status: Option<Status>,
    pub scope: Option<SharingScope>,
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The scope the policy applies: a draft is private to its agency until published.
pub(crate) fn effective_scope(r: &DataResource) -> SharingScope {
    if r.status == Status::Draft {
        SharingScope::Private
    } else {
        r.draft.sharing_scope
    }
}

/// Which resources a subject may list; mirrors the policy's rules for reading data.
pub fn visibility(subject: &Subject) -> Visibility {
    if subject.has(Role::Admin) {
        Visibility::All
    } else {
        Visibility::For {
            member: subject.has(Role::Steward) || subject.has(Role::Viewer),
            agency_path: subject.agency_path.clone(),
        }
    }
}

impl Kho {
    async fn resource_or_404(&self, key: &str) -> Result<DataResource> {
        self.store.resource(key).await?.ok_or_else(|| Error::not_found(format!("data resource {key:?}")))
    }

    /// Checks `action` on a resource described by `draft` (its publishing agency and
    /// sharing scope).
    pub(super) async fn check_resource(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: Action,
        draft: &ResourceDraft,
        audit_action: &str,
        target: &str,
    ) -> Result<()> {
        let path = self
            .agency_path_for_field(&draft.publisher_agency_id)
            .await
            .map_err(|e| rename_field(e, "publisher_agency_id"))?;
        let resource = Resource::new(ResourceKind::DataResource).in_agency(&path).with_scope(draft.sharing_scope);
        self.check(subject, ctx, action, resource, audit_action, target).await
    }

    /// Whether `subject` may change the resource (its description, its data, its
    /// quality rules) — for pages deciding what to offer; nothing is audited.
    pub async fn may_update(&self, subject: &Subject, r: &DataResource) -> Result<bool> {
        let path = self.agency_path(&r.draft.publisher_agency_id).await?;
        let policy = Resource::new(ResourceKind::DataResource).in_agency(&path).with_scope(r.draft.sharing_scope);
        Ok(authorize(subject, Action::Update, &policy).is_allowed())
    }

    /// A slug that is free: the requested one, or one made from the title with a
    /// number added when it is taken.
    async fn free_slug(&self, draft: &ResourceDraft) -> Result<String> {
        if let Some(slug) = &draft.slug {
            return Ok(slug.clone());
        }
        let base = draft.slug_or_generated();
        let mut candidate = base.clone();
        for n in 2.. {
            if self.store.resource(&candidate).await?.is_none() {
                break;
            }
            candidate = format!("{base}-{n}");
        }
        Ok(candidate)
    }

    pub async fn create_resource(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        draft: ResourceDraft,
    ) -> Result<DataResource> {
        let draft = draft.validate()?;
        let target = draft.slug_or_generated();
        self.check_resource(subject, ctx, Action::Create, &draft, "resource.create", &target).await?;
        let slug = self.free_slug(&draft).await?;
        // A new resource is a draft: not open data, so not in the search index yet.
        Ok(self.store.create_resource(ctx, &slug, &draft).await?)
    }

    /// One resource by id or slug. Reading metadata that is not open is recorded;
    /// a resource the caller may not read is reported as not found.
    pub async fn resource(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<DataResource> {
        let r = self.resource_or_404(key).await?;
        let scope = effective_scope(&r);
        let path = self.agency_path(&r.draft.publisher_agency_id).await?;
        let policy = Resource::new(ResourceKind::DataResource).in_agency(&path).with_scope(scope);
        if !authorize(subject, Action::Read, &policy).is_allowed() {
            if subject.is_authenticated() {
                let event = ctx.event("resource.read", format!("resource:{}", r.id));
                self.store.append_audit(event.outcome(kho_core::audit::Outcome::Denied)).await?;
            }
            return Err(Error::not_found(format!("data resource {key:?}")));
        }
        if scope != SharingScope::Open {
            self.store.append_audit(ctx.event("resource.read", format!("resource:{}", r.id))).await?;
        }
        Ok(r)
    }

    /// Resources the subject may see, newest change first.
    pub async fn list_resources(&self, subject: &Subject, filter: ResourceFilter) -> Result<Page<DataResource>> {
        let publisher_within = match &filter.agency_id {
            Some(id) => Some(self.agency_path_for_field(id).await.map_err(|e| rename_field(e, "agency"))?),
            None => None,
        };
        let query = ResourceQuery {
            visibility: visibility(subject),
            publisher_within,
            status: filter.status,
            scope: filter.scope,
            text: filter.text.filter(|t| !t.trim().is_empty()),
            limit: filter.limit.clamp(1, 500),
            offset: filter.offset.max(0),
        };
        Ok(self.store.list_resources(&query).await?)
    }

    /// Replaces a resource's description. The caller must manage both the current and
    /// (when it changes) the new publishing agency. The slug stays unless a new one is given.
    pub async fn update_resource(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        draft: ResourceDraft,
    ) -> Result<DataResource> {
        let current = self.resource_or_404(key).await?;
        let target = format!("resource:{}", current.id);
        self.check_resource(subject, ctx, Action::Update, &current.draft, "resource.update", &target).await?;
        let draft = draft.validate()?;
        if draft.publisher_agency_id != current.draft.publisher_agency_id {
            self.check_resource(subject, ctx, Action::Update, &draft, "resource.update", &target).await?;
        }
        if current.status == Status::Published && draft.sharing_scope == SharingScope::Open {
            self.check_no_personal_columns(&current.id).await?;
        }
        let slug = draft.slug.clone().unwrap_or_else(|| current.slug.clone());
        let updated = self.store.update_resource(ctx, &current.id, &slug, &draft).await?;
        self.sync_search(&current, &updated);
        Ok(updated)
    }

    /// Moves a resource along draft → published → retired.
    pub async fn set_resource_status(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        status: Status,
    ) -> Result<DataResource> {
        let current = self.resource_or_404(key).await?;
        let target = format!("resource:{}", current.id);
        self.check_resource(subject, ctx, Action::Update, &current.draft, "resource.status", &target).await?;
        check_transition(current.status, status)?;
        // The rules are checked again: a description saved before a rule existed
        // must meet it before it is published.
        if status == Status::Published {
            current.draft.clone().validate()?;
            if current.draft.sharing_scope == SharingScope::Open {
                self.check_no_personal_columns(&current.id).await?;
            }
            let blockers = self.publish_blockers(&current).await?;
            if !blockers.is_empty() {
                return Err(Error::conflict(format!(
                    "the quality rules block publishing: {}; fix the data (or the rules) and run the checks again",
                    blockers.join("; ")
                )));
            }
        }
        let changed = self.store.set_resource_status(ctx, &current.id, status).await?;
        self.sync_search(&current, &changed);
        Ok(changed)
    }

    /// Deletes a draft. Published resources are retired instead, so the record stays.
    pub async fn delete_resource(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<()> {
        let current = self.resource_or_404(key).await?;
        let target = format!("resource:{}", current.id);
        self.check_resource(subject, ctx, Action::Delete, &current.draft, "resource.delete", &target).await?;
        if current.status != Status::Draft {
            return Err(Error::conflict(format!(
                "{} is {}; only drafts can be deleted — retire it instead",
                current.slug,
                current.status.as_str()
            )));
        }
        self.store.delete_resource(ctx, &current.id).await?;
        // A draft's tables go with it; its description is already gone from the catalogue.
        Ok(self.lake.remove_resource(&current.id).await?)
    }
}

/// Rows of each table the personal-data rules look at.
const PERSONAL_SAMPLE_ROWS: usize = 200;

impl Kho {
    /// Open data holds no personal data (Decree 47/2020): refuses when a column of one
    /// of the resource's tables looks like personal data, naming each and why.
    async fn check_no_personal_columns(&self, resource_id: &str) -> Result<()> {
        let mut problems = Vec::new();
        for table in self.lake.tables(resource_id).await? {
            let samples = self.lake.column_samples(resource_id, &table, None, PERSONAL_SAMPLE_ROWS).await?;
            let columns: Vec<ColumnSample> =
                samples.into_iter().map(|(name, values)| ColumnSample { name, values }).collect();
            for f in personal::detect(&columns) {
                problems.push(format!("{table}.{} ({}: {})", f.column, f.kind.describe(), f.reason));
            }
        }
        // Columns bound to data elements that the dictionary marks as personal data.
        problems.extend(self.personal_bound_columns(resource_id).await?);
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            "sharing_scope",
            format!(
                "open data must not hold personal data (Decree 47/2020), and these columns look like it: {}; \
                 choose shared or specialised, or load a version without these columns",
                problems.join("; ")
            ),
        ))
    }
}

/// Re-labels an `agency_id` field error with the caller's field name.
fn rename_field(e: Error, field: &str) -> Error {
    match e.message.strip_prefix("agency_id: ") {
        Some(rest) => Error::invalid(field, rest),
        None => e,
    }
}
