//! Code lists (danh mục dùng chung) on every backend: lists, drafts with their items,
//! publishing (which ends the previous version the day before), deleting drafts, and
//! an audit entry for every change.

use crate::{ctx, new_agency, Fixture};
use chrono::NaiveDate;
use kho_core::agency::AgencyKind;
use kho_refdata::codelist::{CodeItem, NewCodeList, ValidationReport, VersionStatus};
use kho_store::{AuditQuery, StoreError};
use std::collections::BTreeMap;

crate::on_every_backend!(
    code_lists_keep_versions_and_reused_codes_apart,
    publishing_ends_the_previous_version_and_is_audited,
    drafts_can_be_deleted_published_versions_cannot,
    many_items_are_stored_in_order,
);

fn item(code: &str, name: &str, parent: Option<&str>) -> CodeItem {
    CodeItem {
        code: code.into(),
        name_vi: name.into(),
        name_en: None,
        parent_code: parent.map(String::from),
        attributes: BTreeMap::from([("nguồn".to_string(), "GSO".to_string())]),
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn list(f: &Fixture, slug: &str) -> String {
    let p = f
        .store
        .create_agency(&ctx(), &new_agency("000.00.00.H24", "UBND tỉnh", AgencyKind::Province, None))
        .await
        .unwrap();
    let new = NewCodeList {
        slug: slug.into(),
        name_vi: "Đơn vị hành chính".into(),
        name_en: None,
        description: String::new(),
        agency_id: Some(p.id.clone()),
    };
    f.store.create_code_list(&ctx(), &new).await.unwrap();
    let again = f.store.create_code_list(&ctx(), &new).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    p.id
}

async fn code_lists_keep_versions_and_reused_codes_apart(f: Fixture) {
    let agency = list(&f, "dvhc").await;
    let ok = ValidationReport { items: 2, ..Default::default() };
    let v1 = f
        .store
        .create_code_list_draft(
            &ctx(),
            "dvhc",
            &[item("01", "Hà Nội", None), item("00004", "Phường Trúc Bạch", Some("01"))],
            &ok,
        )
        .await
        .unwrap();
    let v2 =
        f.store.create_code_list_draft(&ctx(), "dvhc", &[item("00004", "Phường Ba Đình", None)], &ok).await.unwrap();
    assert_eq!((v1.version, v2.version, v1.status), (1, 2, VersionStatus::Draft));
    assert_eq!(f.store.code_list_items("dvhc", 1).await.unwrap()[1].name_vi, "Phường Trúc Bạch");
    let v2_items = f.store.code_list_items("dvhc", 2).await.unwrap();
    assert_eq!(v2_items, vec![item("00004", "Phường Ba Đình", None)]);
    let lists = f.store.list_code_lists().await.unwrap();
    assert_eq!((lists.len(), lists[0].agency_id.as_str()), (1, agency.as_str()));
    assert_eq!(f.store.code_list_versions("dvhc").await.unwrap().len(), 2);
}

async fn publishing_ends_the_previous_version_and_is_audited(f: Fixture) {
    list(&f, "dvhc").await;
    let ok = ValidationReport::default();
    f.store.create_code_list_draft(&ctx(), "dvhc", &[item("1", "A", None)], &ok).await.unwrap();
    f.store.create_code_list_draft(&ctx(), "dvhc", &[item("1", "B", None)], &ok).await.unwrap();
    f.store.publish_code_list_version(&ctx(), "dvhc", 1, day(2020, 1, 1), None).await.unwrap();
    let v2 = f.store.publish_code_list_version(&ctx(), "dvhc", 2, day(2025, 7, 1), None).await.unwrap();
    assert_eq!((v2.effective_from, v2.effective_until), (Some(day(2025, 7, 1)), None));
    let versions = f.store.code_list_versions("dvhc").await.unwrap();
    assert_eq!(versions[0].effective_until, Some(day(2025, 6, 30)));
    let again = f.store.publish_code_list_version(&ctx(), "dvhc", 2, day(2026, 1, 1), None).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    f.store.create_code_list_draft(&ctx(), "dvhc", &[item("1", "C", None)], &ok).await.unwrap();
    let earlier = f.store.publish_code_list_version(&ctx(), "dvhc", 3, day(2024, 1, 1), None).await.unwrap_err();
    assert!(matches!(earlier, StoreError::Conflict(_)), "{earlier:?}");
    let audit = f
        .store
        .list_audit(&AuditQuery { action: Some("codelist".into()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "codelist.create",
            "codelist.import",
            "codelist.import",
            "codelist.publish",
            "codelist.publish",
            "codelist.import"
        ]
    );
    assert!(audit.iter().all(|e| e.target == "codelist:dvhc"));
}

async fn drafts_can_be_deleted_published_versions_cannot(f: Fixture) {
    list(&f, "dvhc").await;
    let ok = ValidationReport::default();
    f.store.create_code_list_draft(&ctx(), "dvhc", &[item("1", "A", None)], &ok).await.unwrap();
    f.store.create_code_list_draft(&ctx(), "dvhc", &[item("1", "B", None)], &ok).await.unwrap();
    f.store.publish_code_list_version(&ctx(), "dvhc", 1, day(2020, 1, 1), None).await.unwrap();
    f.store.delete_code_list_draft(&ctx(), "dvhc", 2).await.unwrap();
    assert!(f.store.code_list_items("dvhc", 2).await.unwrap().is_empty());
    let e = f.store.delete_code_list_draft(&ctx(), "dvhc", 1).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let e = f.store.delete_code_list_draft(&ctx(), "dvhc", 9).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e:?}");
    assert_eq!(f.store.code_list_versions("dvhc").await.unwrap().len(), 1);
}

async fn many_items_are_stored_in_order(f: Fixture) {
    list(&f, "dvhc").await;
    let items: Vec<CodeItem> = (0..1234).rev().map(|i| item(&format!("{i:05}"), &format!("Xã {i}"), None)).collect();
    let v = f.store.create_code_list_draft(&ctx(), "dvhc", &items, &ValidationReport::default()).await.unwrap();
    assert_eq!(v.item_count, 1234);
    assert_eq!(f.store.code_list_items("dvhc", 1).await.unwrap(), items);
}
