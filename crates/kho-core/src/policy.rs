//! The one authorisation policy. Every request is decided by [`authorize`] from the
//! subject (principal, roles, agency), the action and the resource (its kind, its
//! agency and its sharing scope). Anything not explicitly allowed is denied.
//!
//! | role    | may                                                                      |
//! |---------|--------------------------------------------------------------------------|
//! | admin   | everything, except rewriting the audit log (append-only for everyone)    |
//! | steward | manage data resources, code lists, data elements and subsystems (and     |
//! |         | their tokens) in its subtree; read users in its subtree                  |
//! | viewer  | read data its agency subtree may read                                    |
//! | auditor | read the audit log, users, subsystems and tokens of every agency (not    |
//! |         | the data itself beyond open data)                                        |
//! | anyone  | read the agency tree, open data, published code lists and the data       |
//! |         | dictionary; manage its own API tokens                                    |

use crate::agency::path_within;
use crate::identity::{Role, Subject};
use serde::{Deserialize, Serialize};

/// What the subject wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Update, Action::Delete];
}

/// The kinds of thing a policy decision can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Agency,
    User,
    Subsystem,
    ApiToken,
    AuditLog,
    /// Tài nguyên dữ liệu — a catalogued dataset.
    DataResource,
    /// Danh mục dùng chung — a code list (reference data). Published versions are
    /// open data: anyone reads them.
    CodeList,
    /// Phần tử dữ liệu — an element of the data dictionary; anyone reads it.
    DataElement,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 8] = [
        ResourceKind::Agency,
        ResourceKind::User,
        ResourceKind::Subsystem,
        ResourceKind::ApiToken,
        ResourceKind::AuditLog,
        ResourceKind::DataResource,
        ResourceKind::CodeList,
        ResourceKind::DataElement,
    ];
}

/// Phạm vi chia sẻ — a data resource's sharing scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SharingScope {
    /// Dữ liệu mở — free for anyone.
    Open,
    /// Dữ liệu dùng chung — shared among state agencies.
    Shared,
    /// Dữ liệu chuyên ngành — within the owning agency's subtree (and its sector).
    Specialised,
    /// Dữ liệu riêng — internal to the owning agency's subtree.
    Private,
}

/// The thing acted upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource<'a> {
    pub kind: ResourceKind,
    /// Materialised path of the agency that owns it, when it belongs to one.
    pub agency_path: Option<&'a str>,
    /// Sharing scope, for data.
    pub scope: Option<SharingScope>,
    /// The user it belongs to (a user's own record, a user's own token).
    pub owner_user_id: Option<&'a str>,
}

impl<'a> Resource<'a> {
    pub fn new(kind: ResourceKind) -> Self {
        Self { kind, agency_path: None, scope: None, owner_user_id: None }
    }
    pub fn in_agency(mut self, path: &'a str) -> Self {
        self.agency_path = Some(path);
        self
    }
    pub fn with_scope(mut self, scope: SharingScope) -> Self {
        self.scope = Some(scope);
        self
    }
    pub fn owned_by(mut self, user_id: &'a str) -> Self {
        self.owner_user_id = Some(user_id);
        self
    }
}

/// The outcome of a decision; a denial says why, for logs and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

use Action::*;
use Decision::*;
use ResourceKind as K;

/// Decides one request. Deny by default.
pub fn authorize(subject: &Subject, action: Action, resource: &Resource<'_>) -> Decision {
    if resource.kind == K::AuditLog && action != Read {
        return Deny("the audit log is append-only");
    }
    if subject.has(Role::Admin) {
        return Allow;
    }
    // Whether the resource lies in the subject's agency subtree.
    let in_subtree = match (&subject.agency_path, resource.agency_path) {
        (Some(mine), Some(theirs)) => path_within(theirs, mine),
        _ => false,
    };
    let own = matches!((subject.user_id(), resource.owner_user_id), (Some(a), Some(b)) if a == b);
    let steward_here = subject.has(Role::Steward) && in_subtree;
    let auditor = subject.has(Role::Auditor);

    match (resource.kind, action) {
        (K::Agency, Read) => Allow,
        (K::Agency, _) => Deny("only administrators manage agencies"),

        (K::AuditLog, Read) if auditor => Allow,
        (K::AuditLog, _) => Deny("only auditors and administrators read the audit log"),

        (K::User, Read | Update) if own => Allow,
        (K::User, Read) if steward_here || auditor => Allow,
        (K::User, _) => Deny("only administrators manage users"),

        (K::ApiToken, _) if own && subject.is_authenticated() => Allow,
        (K::ApiToken, _) if steward_here && resource.owner_user_id.is_none() => Allow,
        (K::ApiToken, Read) if auditor => Allow,
        (K::ApiToken, _) => Deny("API tokens are managed by their owner or the agency's steward"),

        (K::Subsystem, _) if steward_here => Allow,
        (K::Subsystem, Read) if auditor => Allow,
        (K::Subsystem, _) => Deny("subsystems are managed by the stewards of their agency"),

        (K::DataResource, Read) => read_data(subject, resource.scope, in_subtree),
        (K::DataResource, _) if steward_here => Allow,
        (K::DataResource, _) => Deny("data resources are managed by the stewards of their agency"),

        (K::CodeList, Read) => Allow,
        (K::CodeList, _) if steward_here => Allow,
        (K::CodeList, _) => Deny("code lists are managed by the stewards of their owning agency"),

        (K::DataElement, Read) => Allow,
        (K::DataElement, _) if steward_here => Allow,
        (K::DataElement, _) => Deny("data elements are managed by the stewards of their owning agency"),
    }
}

fn read_data(subject: &Subject, scope: Option<SharingScope>, in_subtree: bool) -> Decision {
    let member = subject.has(Role::Steward) || subject.has(Role::Viewer);
    match scope {
        Some(SharingScope::Open) => Allow,
        Some(SharingScope::Shared) if member => Allow,
        Some(SharingScope::Specialised) if member && in_subtree => Allow,
        Some(SharingScope::Private) if member && in_subtree => Allow,
        None => Deny("the resource has no sharing scope"),
        _ => Deny("the sharing scope does not include the caller's agency"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Principal;

    fn user(role: Role, agency_path: &str) -> Subject {
        Subject {
            principal: Principal::User { id: "u1".into(), username: "u".into() },
            roles: vec![role],
            agency_id: Some("x".into()),
            agency_path: Some(agency_path.into()),
        }
    }

    #[test]
    fn admins_cannot_rewrite_the_audit_log() {
        let admin = user(Role::Admin, "/p/");
        for action in [Create, Update, Delete] {
            assert!(!authorize(&admin, action, &Resource::new(K::AuditLog)).is_allowed());
        }
        assert!(authorize(&admin, Read, &Resource::new(K::AuditLog)).is_allowed());
    }

    #[test]
    fn a_sibling_agency_is_not_in_the_subtree() {
        let steward = user(Role::Steward, "/p/d1/");
        let sibling = Resource::new(K::DataResource).in_agency("/p/d10/").with_scope(SharingScope::Private);
        assert_eq!(
            authorize(&steward, Update, &sibling),
            Deny("data resources are managed by the stewards of their agency")
        );
    }
}
