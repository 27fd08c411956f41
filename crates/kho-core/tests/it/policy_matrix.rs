//! The authorisation matrix: every role × every action × the resource in the
//! caller's own agency, in a sub-agency, in another agency — allowed or denied.
//!
//! Each cell lists the allowed actions as `RCUD` (read, create, update, delete);
//! `-` marks a denial. The caller's agency is `/p/d1/`; its sub-agency is
//! `/p/d1/u1/`; another department is `/p/d2/`.

use kho_core::identity::{Principal, Role, Subject};
use kho_core::policy::{authorize, Action, Resource, ResourceKind as K, SharingScope as S};

const OWN: &str = "/p/d1/";
const CHILD: &str = "/p/d1/u1/";
const OTHER: &str = "/p/d2/";
const ME: &str = "u-me";
const SOMEONE: &str = "u-someone";

fn subject(role: Option<Role>) -> Subject {
    match role {
        None => Subject::anonymous(),
        Some(role) => Subject {
            principal: Principal::User { id: ME.into(), username: "me".into() },
            roles: vec![role],
            agency_id: Some("d1".into()),
            agency_path: Some(OWN.into()),
        },
    }
}

fn allowed(subject: &Subject, resource: &Resource<'_>) -> String {
    [(Action::Read, 'R'), (Action::Create, 'C'), (Action::Update, 'U'), (Action::Delete, 'D')]
        .iter()
        .map(|(a, c)| if authorize(subject, *a, resource).is_allowed() { *c } else { '-' })
        .collect()
}

/// One row: a resource and what (admin, steward, viewer, auditor, anonymous) may do.
struct Row<'a>(&'a str, Resource<'a>, [&'a str; 5]);

fn data(scope: S, at: &str) -> Resource<'_> {
    Resource::new(K::DataResource).in_agency(at).with_scope(scope)
}

#[test]
fn roles_by_actions_by_agency() {
    #[rustfmt::skip]
    let rows = [
        //                                                              admin   steward viewer  auditor anonymous
        Row("agency (any)", Resource::new(K::Agency).in_agency(OTHER), ["RCUD", "R---", "R---", "R---", "R---"]),
        Row("user in own agency", Resource::new(K::User).in_agency(OWN).owned_by(SOMEONE), ["RCUD", "R---", "----", "R---", "----"]),
        Row("user in sub-agency", Resource::new(K::User).in_agency(CHILD).owned_by(SOMEONE), ["RCUD", "R---", "----", "R---", "----"]),
        Row("user in other agency", Resource::new(K::User).in_agency(OTHER).owned_by(SOMEONE), ["RCUD", "----", "----", "R---", "----"]),
        Row("own user record", Resource::new(K::User).in_agency(OWN).owned_by(ME), ["RCUD", "R-U-", "R-U-", "R-U-", "----"]),
        Row("subsystem in own agency", Resource::new(K::Subsystem).in_agency(OWN), ["RCUD", "RCUD", "----", "R---", "----"]),
        Row("subsystem in sub-agency", Resource::new(K::Subsystem).in_agency(CHILD), ["RCUD", "RCUD", "----", "R---", "----"]),
        Row("subsystem in other agency", Resource::new(K::Subsystem).in_agency(OTHER), ["RCUD", "----", "----", "R---", "----"]),
        Row("own API token", Resource::new(K::ApiToken).in_agency(OWN).owned_by(ME), ["RCUD", "RCUD", "RCUD", "RCUD", "----"]),
        Row("colleague's API token", Resource::new(K::ApiToken).in_agency(OWN).owned_by(SOMEONE), ["RCUD", "----", "----", "R---", "----"]),
        Row("own subsystem's token", Resource::new(K::ApiToken).in_agency(OWN), ["RCUD", "RCUD", "----", "R---", "----"]),
        Row("other subsystem's token", Resource::new(K::ApiToken).in_agency(OTHER), ["RCUD", "----", "----", "R---", "----"]),
        Row("audit log", Resource::new(K::AuditLog), ["R---", "----", "----", "R---", "----"]),
        Row("open data, own agency", data(S::Open, OWN), ["RCUD", "RCUD", "R---", "R---", "R---"]),
        Row("open data, other agency", data(S::Open, OTHER), ["RCUD", "R---", "R---", "R---", "R---"]),
        Row("shared data, own agency", data(S::Shared, OWN), ["RCUD", "RCUD", "R---", "----", "----"]),
        Row("shared data, other agency", data(S::Shared, OTHER), ["RCUD", "R---", "R---", "----", "----"]),
        Row("specialised data, sub-agency", data(S::Specialised, CHILD), ["RCUD", "RCUD", "R---", "----", "----"]),
        Row("specialised data, other agency", data(S::Specialised, OTHER), ["RCUD", "----", "----", "----", "----"]),
        Row("private data, own agency", data(S::Private, OWN), ["RCUD", "RCUD", "R---", "----", "----"]),
        Row("private data, other agency", data(S::Private, OTHER), ["RCUD", "----", "----", "----", "----"]),
        Row("data without a scope", Resource::new(K::DataResource).in_agency(OWN), ["RCUD", "-CUD", "----", "----", "----"]),
        Row("code list, own agency", Resource::new(K::CodeList).in_agency(OWN), ["RCUD", "RCUD", "R---", "R---", "R---"]),
        Row("code list, sub-agency", Resource::new(K::CodeList).in_agency(CHILD), ["RCUD", "RCUD", "R---", "R---", "R---"]),
        Row("code list, other agency", Resource::new(K::CodeList).in_agency(OTHER), ["RCUD", "R---", "R---", "R---", "R---"]),
        Row("data element, own agency", Resource::new(K::DataElement).in_agency(OWN), ["RCUD", "RCUD", "R---", "R---", "R---"]),
        Row("data element, other agency", Resource::new(K::DataElement).in_agency(OTHER), ["RCUD", "R---", "R---", "R---", "R---"]),
    ];
    let roles = [Some(Role::Admin), Some(Role::Steward), Some(Role::Viewer), Some(Role::Auditor), None];
    let mut mismatches = Vec::new();
    for Row(name, resource, expected) in &rows {
        for (role, want) in roles.iter().zip(expected) {
            let got = allowed(&subject(*role), resource);
            if got != *want {
                mismatches.push(format!("{name} as {role:?}: expected {want}, got {got}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "policy differs from the matrix:\n{}", mismatches.join("\n"));
}

#[test]
fn a_subject_without_roles_or_agency_is_denied_everything_but_public_reads() {
    let nobody = Subject { roles: vec![], agency_id: None, agency_path: None, ..subject(Some(Role::Viewer)) };
    for kind in K::ALL {
        for action in Action::ALL {
            let r = Resource::new(kind).in_agency(OWN).with_scope(S::Private);
            let public_read = action == Action::Read && matches!(kind, K::Agency | K::CodeList | K::DataElement);
            assert_eq!(authorize(&nobody, action, &r).is_allowed(), public_read, "{kind:?} {action:?}");
        }
    }
}

#[test]
fn machine_clients_follow_the_same_rules() {
    let machine = Subject {
        principal: Principal::Subsystem { id: "s1".into(), xroad_id: "VN/GOV/000.00.01.H24/ETL".into() },
        roles: vec![Role::Viewer],
        agency_id: Some("d1".into()),
        agency_path: Some(OWN.into()),
    };
    assert_eq!(allowed(&machine, &data(S::Shared, OTHER)), "R---");
    assert_eq!(allowed(&machine, &data(S::Private, OWN)), "R---");
    assert_eq!(allowed(&machine, &data(S::Private, OTHER)), "----");
    assert_eq!(allowed(&machine, &Resource::new(K::AuditLog)), "----");
    assert_eq!(
        allowed(&machine, &Resource::new(K::ApiToken).in_agency(OWN).owned_by(ME)),
        "----",
        "tokens of users are not a machine's own"
    );
}
