//! Data resources on every backend: create, find by id or slug, update, lifecycle,
//! delete, and listings filtered by visibility, agency, status, scope and text.

use crate::{ctx, new_agency, Fixture};
use kho_catalog::{ResourceDraft, Status};
use kho_core::agency::AgencyKind;
use kho_core::policy::SharingScope;
use kho_store::{AuditQuery, ResourceQuery, StoreError, Visibility};

crate::on_every_backend!(
    resources_round_trip_by_id_and_slug,
    slugs_are_unique,
    updates_record_what_changed,
    status_changes_stamp_the_publication,
    listings_respect_visibility,
    listings_filter_and_search_without_diacritics,
);

struct Tree {
    dept: (String, String),
    other: (String, String),
}

async fn tree(f: &Fixture) -> Tree {
    let p = f
        .store
        .create_agency(&ctx(), &new_agency("000.00.00.H24", "UBND tỉnh", AgencyKind::Province, None))
        .await
        .unwrap();
    let d = new_agency("000.00.01.H24", "Sở Giáo dục", AgencyKind::Department, Some(&p.id));
    let d = f.store.create_agency(&ctx(), &d).await.unwrap();
    let o = new_agency("000.00.02.H24", "Sở Tài chính", AgencyKind::Department, Some(&p.id));
    let o = f.store.create_agency(&ctx(), &o).await.unwrap();
    Tree { dept: (d.id, d.path), other: (o.id, o.path) }
}

fn draft(title: &str, agency: &str, scope: SharingScope) -> ResourceDraft {
    serde_json::from_value(serde_json::json!({
        "title": title,
        "publisher_agency_id": agency,
        "sharing_scope": scope,
        "keywords": ["giáo dục"],
    }))
    .unwrap()
}

async fn resources_round_trip_by_id_and_slug(f: Fixture) {
    let t = tree(&f).await;
    let d = draft("Danh sách trường học", &t.dept.0, SharingScope::Open);
    let created = f.store.create_resource(&ctx(), "truong-hoc", &d).await.unwrap();
    assert_eq!(created.status, Status::Draft);
    assert_eq!(created.draft, d);
    assert_eq!(f.store.resource(&created.id).await.unwrap().unwrap(), created);
    assert_eq!(f.store.resource("truong-hoc").await.unwrap().unwrap().id, created.id);
    assert!(f.store.resource("khong-co").await.unwrap().is_none());

    f.store.delete_resource(&ctx(), &created.id).await.unwrap();
    assert!(f.store.resource(&created.id).await.unwrap().is_none());
    assert!(matches!(f.store.delete_resource(&ctx(), &created.id).await, Err(StoreError::NotFound(_))));
}

async fn slugs_are_unique(f: Fixture) {
    let t = tree(&f).await;
    let d = draft("Giá đất", &t.dept.0, SharingScope::Open);
    f.store.create_resource(&ctx(), "gia-dat", &d).await.unwrap();
    let err = f.store.create_resource(&ctx(), "gia-dat", &d).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(m) if m.contains("\"gia-dat\" is taken")), "{err}");
    let other = f.store.create_resource(&ctx(), "gia-dat-2", &d).await.unwrap();
    let err = f.store.update_resource(&ctx(), &other.id, "gia-dat", &d).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
}

async fn updates_record_what_changed(f: Fixture) {
    let t = tree(&f).await;
    let d = draft("Giá đất", &t.dept.0, SharingScope::Open);
    let r = f.store.create_resource(&ctx(), "gia-dat", &d).await.unwrap();
    let mut changed = d.clone();
    changed.title = "Bảng giá đất".into();
    changed.legal_basis = "Quyết định 01/2025".into();
    let after = f.store.update_resource(&ctx(), &r.id, "bang-gia-dat", &changed).await.unwrap();
    assert_eq!(after.slug, "bang-gia-dat");
    assert_eq!(after.draft.title, "Bảng giá đất");
    assert!(after.updated_at >= r.updated_at);
    let log = f
        .store
        .list_audit(&AuditQuery { action: Some("resource.update".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&log[0].detail).unwrap();
    assert_eq!(detail["changed"], serde_json::json!(["title", "legal_basis"]));
    assert_eq!(detail["slug"]["from"], "gia-dat");
}

async fn status_changes_stamp_the_publication(f: Fixture) {
    let t = tree(&f).await;
    let r = f.store.create_resource(&ctx(), "x", &draft("Dữ liệu X", &t.dept.0, SharingScope::Open)).await.unwrap();
    assert!(r.published_at.is_none());
    let published = f.store.set_resource_status(&ctx(), &r.id, Status::Published).await.unwrap();
    assert_eq!(published.status, Status::Published);
    let first = published.published_at.expect("stamped");
    let retired = f.store.set_resource_status(&ctx(), &r.id, Status::Retired).await.unwrap();
    assert_eq!(retired.published_at, Some(first), "the first publication date is kept");
    let log = f
        .store
        .list_audit(&AuditQuery { action: Some("resource".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["resource.retired", "resource.published", "resource.create"]);
}

async fn listings_respect_visibility(f: Fixture) {
    let t = tree(&f).await;
    let mut ids = std::collections::HashMap::new();
    for (slug, agency, scope, publish) in [
        ("open-pub", &t.other.0, SharingScope::Open, true),
        ("open-draft", &t.other.0, SharingScope::Open, false),
        ("shared-pub", &t.other.0, SharingScope::Shared, true),
        ("private-other", &t.other.0, SharingScope::Private, true),
        ("private-mine", &t.dept.0, SharingScope::Private, true),
        ("draft-mine", &t.dept.0, SharingScope::Open, false),
    ] {
        let r = f.store.create_resource(&ctx(), slug, &draft(slug, agency, scope)).await.unwrap();
        if publish {
            f.store.set_resource_status(&ctx(), &r.id, Status::Published).await.unwrap();
        }
        ids.insert(slug, r.id);
    }
    let slugs = |visibility: Visibility| {
        let store = f.store.clone();
        async move {
            let page =
                store.list_resources(&ResourceQuery { visibility, limit: 100, ..Default::default() }).await.unwrap();
            let mut s: Vec<String> = page.items.into_iter().map(|r| r.slug).collect();
            s.sort();
            s
        }
    };
    assert_eq!(slugs(Visibility::All).await.len(), 6);
    assert_eq!(slugs(Visibility::For { member: false, agency_path: None }).await, ["open-pub"]);
    assert_eq!(
        slugs(Visibility::For { member: true, agency_path: Some(t.dept.1.clone()) }).await,
        ["draft-mine", "open-pub", "private-mine", "shared-pub"]
    );
    assert_eq!(
        slugs(Visibility::For { member: true, agency_path: Some(t.other.1.clone()) }).await,
        ["open-draft", "open-pub", "private-other", "shared-pub"]
    );
}

async fn listings_filter_and_search_without_diacritics(f: Fixture) {
    let t = tree(&f).await;
    for (title, agency, scope) in [
        ("Danh sách trường học Bắc Ninh", &t.dept.0, SharingScope::Open),
        ("Hộ nghèo năm 2025", &t.other.0, SharingScope::Shared),
        ("Giá đất Hà Nội", &t.other.0, SharingScope::Open),
    ] {
        f.store.create_resource(&ctx(), &kho_vn::slugify(title, 80), &draft(title, agency, scope)).await.unwrap();
    }
    let count = |q: ResourceQuery| {
        let store = f.store.clone();
        async move { store.list_resources(&ResourceQuery { limit: 100, ..q }).await.unwrap().total }
    };
    assert_eq!(count(ResourceQuery { text: Some("ha noi".into()), ..Default::default() }).await, 1);
    assert_eq!(count(ResourceQuery { text: Some("HÀ NỘI".into()), ..Default::default() }).await, 1);
    assert_eq!(count(ResourceQuery { text: Some("truong bac".into()), ..Default::default() }).await, 1);
    assert_eq!(count(ResourceQuery { text: Some("giao duc".into()), ..Default::default() }).await, 3, "keywords count");
    assert_eq!(count(ResourceQuery { scope: Some(SharingScope::Shared), ..Default::default() }).await, 1);
    assert_eq!(count(ResourceQuery { status: Some(Status::Published), ..Default::default() }).await, 0);
    assert_eq!(count(ResourceQuery { publisher_within: Some(t.other.1.clone()), ..Default::default() }).await, 2);
    let page = f.store.list_resources(&ResourceQuery { limit: 2, offset: 2, ..Default::default() }).await.unwrap();
    assert_eq!((page.total, page.items.len()), (3, 1));
}
