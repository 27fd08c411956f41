//! The data dictionary on every backend: elements by id or identifier, unique
//! identifiers, every change a new version kept in the history and audited, search
//! without diacritics and by status.

use crate::{ctx, new_agency, Fixture};
use kho_catalog::dictionary::{ElementDraft, RegistrationStatus};
use kho_core::agency::AgencyKind;
use kho_store::{AuditQuery, ElementQuery, StoreError};

crate::on_every_backend!(elements_keep_every_version_and_are_audited, elements_are_found_by_words_and_status);

async fn owner(f: &Fixture) -> String {
    let p = new_agency("000.00.00.H24", "UBND tỉnh", AgencyKind::Province, None);
    f.store.create_agency(&ctx(), &p).await.unwrap().id
}

fn draft(identifier: &str, name: &str, owner: &str) -> ElementDraft {
    serde_json::from_value(serde_json::json!({
        "identifier": identifier,
        "name": name,
        "definition": format!("{name} theo quy định hiện hành."),
        "management": {"owner_agency_id": owner},
        "synonyms": ["CCCD"],
    }))
    .unwrap()
}

async fn elements_keep_every_version_and_are_audited(f: Fixture) {
    let owner = owner(&f).await;
    let d = draft("so-dinh-danh-ca-nhan", "Số định danh cá nhân", &owner);
    let created = f.store.create_element(&ctx(), &d, RegistrationStatus::Draft).await.unwrap();
    assert_eq!((created.version, created.status), (1, RegistrationStatus::Draft));
    assert_eq!(f.store.element("so-dinh-danh-ca-nhan").await.unwrap().unwrap(), created);
    assert_eq!(f.store.element(&created.id).await.unwrap().unwrap().draft, d);
    let again = f.store.create_element(&ctx(), &d, RegistrationStatus::Draft).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(ref m) if m.contains("already")), "{again}");

    let mut changed = d.clone();
    changed.definition = "Số định danh cá nhân 12 chữ số do Bộ Công an cấp.".into();
    let v2 = f.store.update_element(&ctx(), &created.id, &changed).await.unwrap();
    assert_eq!(v2.version, 2);
    let v3 = f.store.set_element_status(&ctx(), &created.id, RegistrationStatus::Candidate).await.unwrap();
    assert_eq!((v3.version, v3.status, v3.status_changed_by.as_str()), (3, RegistrationStatus::Candidate, "operator"));
    let history = f.store.element_history(&created.id).await.unwrap();
    let versions: Vec<(i64, RegistrationStatus)> = history.iter().map(|v| (v.version, v.status)).collect();
    use RegistrationStatus::*;
    assert_eq!(versions, [(3, Candidate), (2, Draft), (1, Draft)]);
    assert_eq!(history[2].draft.definition, d.definition, "version 1 as it was");
    assert_eq!(history[1].draft.definition, changed.definition);

    let log = f.store.list_audit(&AuditQuery { limit: 50, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("element.")).collect();
    assert_eq!(actions, ["element.status", "element.update", "element.create"]);
}

async fn elements_are_found_by_words_and_status(f: Fixture) {
    let owner = owner(&f).await;
    for (id, name) in [("ho-va-ten", "Họ và tên"), ("ngay-sinh", "Ngày sinh"), ("so-dien-thoai", "Số điện thoại")]
    {
        f.store.create_element(&ctx(), &draft(id, name, &owner), RegistrationStatus::Candidate).await.unwrap();
    }
    let e = f.store.element("ngay-sinh").await.unwrap().unwrap();
    f.store.set_element_status(&ctx(), &e.id, RegistrationStatus::Standard).await.unwrap();
    let find = |q: Option<&str>, status: Option<RegistrationStatus>| ElementQuery {
        q: q.map(String::from),
        status,
        limit: 10,
        offset: 0,
    };
    let names = |page: kho_store::Page<kho_catalog::dictionary::DataElement>| -> Vec<String> {
        page.items.into_iter().map(|e| e.draft.identifier).collect()
    };
    assert_eq!(names(f.store.list_elements(&find(Some("HO TEN"), None)).await.unwrap()), ["ho-va-ten"]);
    assert_eq!(names(f.store.list_elements(&find(Some("điện"), None)).await.unwrap()), ["so-dien-thoai"]);
    assert_eq!(
        names(f.store.list_elements(&find(None, Some(RegistrationStatus::Standard))).await.unwrap()),
        ["ngay-sinh"]
    );
    let all = f.store.list_elements(&find(Some("cccd"), None)).await.unwrap();
    assert_eq!(all.total, 3, "synonyms are searched too");
}
