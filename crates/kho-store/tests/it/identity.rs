//! Agencies, users, subsystems, tokens and sessions on every backend.

use crate::{ctx, new_agency, Fixture};
use chrono::Duration;
use kho_core::agency::AgencyKind;
use kho_core::identity::{NewSubsystem, NewUser, Role, SubsystemId, TokenOwner};
use kho_store::{NewToken, Session, StoreError, UserChange, UserQuery};

crate::on_every_backend!(
    agencies_form_a_tree,
    duplicate_agency_codes_conflict,
    users_are_listed_within_a_subtree,
    duplicate_usernames_conflict,
    users_can_be_changed_and_disabled,
    tokens_are_found_by_hash_and_revoked,
    sessions_round_trip,
    migrations_apply_once,
);

async fn tree(f: &Fixture) -> (String, String, String) {
    let s = &f.store;
    let p = s
        .create_agency(&ctx(), &new_agency("000.00.00.H06", "UBND tỉnh Bắc Ninh", AgencyKind::Province, None))
        .await
        .unwrap();
    let d = s
        .create_agency(
            &ctx(),
            &new_agency("000.00.01.H06", "Sở Khoa học và Công nghệ", AgencyKind::Department, Some(&p.id)),
        )
        .await
        .unwrap();
    let d2 = s
        .create_agency(&ctx(), &new_agency("000.00.02.H06", "Sở Tài chính", AgencyKind::Department, Some(&p.id)))
        .await
        .unwrap();
    (p.id, d.id, d2.id)
}

fn new_user(username: &str, agency_id: &str, roles: Vec<Role>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: None,
        agency_id: agency_id.into(),
        roles,
        password: "not used by the store".into(),
    }
}

async fn agencies_form_a_tree(f: Fixture) {
    let (p, d, _) = tree(&f).await;
    let mut commune = new_agency("001.00.50.H06", "Phường Bắc Giang", AgencyKind::Commune, Some(&p));
    commune.admin_unit_code = Some("07210".into());
    let c = f.store.create_agency(&ctx(), &commune).await.unwrap();

    let province = f.store.agency(&p).await.unwrap().unwrap();
    let dept = f.store.agency(&d).await.unwrap().unwrap();
    assert_eq!(province.path, format!("/{p}/"));
    assert_eq!(dept.path, format!("/{p}/{d}/"));
    assert!(dept.is_within(&province.path) && !province.is_within(&dept.path));
    assert_eq!(f.store.agency_by_admin_unit("07210").await.unwrap().unwrap().id, c.id);
    assert_eq!(f.store.agency_by_code("000.00.01.H06").await.unwrap().unwrap().name, "Sở Khoa học và Công nghệ");

    let all = f.store.list_agencies().await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].id, p, "parents come before children");

    let orphan = new_agency("000.00.09.H06", "Sở mồ côi", AgencyKind::Department, Some("missing"));
    assert!(matches!(f.store.create_agency(&ctx(), &orphan).await, Err(StoreError::NotFound(_))));
}

async fn duplicate_agency_codes_conflict(f: Fixture) {
    let (p, _, _) = tree(&f).await;
    let again = new_agency("000.00.01.H06", "Sở trùng mã", AgencyKind::Department, Some(&p));
    match f.store.create_agency(&ctx(), &again).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("000.00.01.H06"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(f.store.list_agencies().await.unwrap().len(), 3, "the failed insert left nothing behind");
}

async fn users_are_listed_within_a_subtree(f: Fixture) {
    let (p, d, d2) = tree(&f).await;
    for (name, agency) in [("admin", &p), ("kh.steward", &d), ("kh.viewer", &d), ("tc.steward", &d2)] {
        f.store.create_user(&ctx(), &new_user(name, agency, vec![Role::Viewer]), "hash").await.unwrap();
    }
    let dept_path = f.store.agency(&d).await.unwrap().unwrap().path;
    let page = f.store.list_users(&UserQuery { within_path: Some(dept_path), limit: 10, offset: 0 }).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["kh.steward", "kh.viewer"]);

    let all = f.store.list_users(&UserQuery { within_path: None, limit: 2, offset: 2 }).await.unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(all.items.len(), 2);
    assert_eq!(f.store.count_users().await.unwrap(), 4);

    let (user, hash) = f.store.user_credentials("kh.viewer").await.unwrap().unwrap();
    assert_eq!((user.agency_id.as_str(), hash.as_str()), (d.as_str(), "hash"));
    assert!(f.store.user_credentials("nobody").await.unwrap().is_none());
}

async fn duplicate_usernames_conflict(f: Fixture) {
    let (p, _, _) = tree(&f).await;
    f.store.create_user(&ctx(), &new_user("lan", &p, vec![Role::Viewer]), "h").await.unwrap();
    let err = f.store.create_user(&ctx(), &new_user("lan", &p, vec![Role::Admin]), "h").await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(m) if m.contains("\"lan\" is taken")), "{err}");
}

async fn users_can_be_changed_and_disabled(f: Fixture) {
    let (p, _, _) = tree(&f).await;
    let u = f.store.create_user(&ctx(), &new_user("minh", &p, vec![Role::Viewer]), "old").await.unwrap();
    let now = kho_core::time::now();
    let session = Session {
        user_id: u.id.clone(),
        csrf_token: "c".into(),
        created_at: now,
        expires_at: now + Duration::hours(1),
    };
    f.store.create_session("minh-session", &session).await.unwrap();
    let changed = f
        .store
        .update_user(
            &ctx(),
            &u.id,
            &UserChange {
                roles: Some(vec![Role::Auditor, Role::Steward]),
                password_hash: Some("new".into()),
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.roles, vec![Role::Steward, Role::Auditor]);
    assert_eq!(f.store.session("minh-session").await.unwrap(), None, "the change ended the open session");
    assert!(changed.disabled);
    assert_eq!(f.store.user_credentials("minh").await.unwrap().unwrap().1, "new");
    let missing = f.store.update_user(&ctx(), "nope", &UserChange::default()).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
}

async fn tokens_are_found_by_hash_and_revoked(f: Fixture) {
    let (p, _, _) = tree(&f).await;
    let u = f.store.create_user(&ctx(), &new_user("hoa", &p, vec![Role::Viewer]), "h").await.unwrap();
    let sub = f
        .store
        .create_subsystem(
            &ctx(),
            &NewSubsystem {
                xroad_id: SubsystemId::parse("VN/GOV/000.00.00.H06/PORTAL").unwrap(),
                name: "Cổng dữ liệu".into(),
                agency_id: p.clone(),
                roles: vec![Role::Viewer],
            },
        )
        .await
        .unwrap();
    let expires_at = kho_core::time::now() + Duration::days(30);
    let mine = f
        .store
        .create_token(
            &ctx(),
            &NewToken {
                name: "script".into(),
                owner: TokenOwner::User(u.id.clone()),
                token_hash: "h1".into(),
                prefix: "kho_abc".into(),
                expires_at,
            },
        )
        .await
        .unwrap();
    let machine = NewToken {
        owner: TokenOwner::Subsystem(sub.id.clone()),
        token_hash: "h2".into(),
        ..NewToken {
            name: "gateway".into(),
            owner: TokenOwner::User(String::new()),
            token_hash: String::new(),
            prefix: "kho_def".into(),
            expires_at,
        }
    };
    f.store.create_token(&ctx(), &machine).await.unwrap();

    let found = f.store.token_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(found.id, mine.id);
    assert_eq!(found.expires_at, expires_at);
    assert!(found.is_active(kho_core::time::now()));
    assert_eq!(f.store.list_tokens(Some(&TokenOwner::User(u.id.clone()))).await.unwrap().len(), 1);
    assert_eq!(f.store.list_tokens(Some(&TokenOwner::Subsystem(sub.id))).await.unwrap().len(), 1);
    assert_eq!(f.store.list_tokens(None).await.unwrap().len(), 2);

    let revoked = f.store.revoke_token(&ctx(), &mine.id).await.unwrap();
    assert!(revoked.revoked_at.is_some() && !revoked.is_active(kho_core::time::now()));
    f.store.touch_token(&mine.id, kho_core::time::now()).await.unwrap();
    assert!(f.store.token(&mine.id).await.unwrap().unwrap().last_used_at.is_some());
    assert!(matches!(f.store.revoke_token(&ctx(), "nope").await, Err(StoreError::NotFound(_))));
}

async fn sessions_round_trip(f: Fixture) {
    let (p, _, _) = tree(&f).await;
    let u = f.store.create_user(&ctx(), &new_user("tuan", &p, vec![Role::Viewer]), "h").await.unwrap();
    let now = kho_core::time::now();
    let s = Session {
        user_id: u.id.clone(),
        csrf_token: "c".into(),
        created_at: now,
        expires_at: now + Duration::hours(8),
    };
    f.store.create_session("sid-hash", &s).await.unwrap();
    assert_eq!(f.store.session("sid-hash").await.unwrap(), Some(s));
    f.store.delete_session("sid-hash").await.unwrap();
    assert_eq!(f.store.session("sid-hash").await.unwrap(), None);
}

async fn migrations_apply_once(f: Fixture) {
    tree(&f).await;
    // Opening the same database again finds the migrations applied and keeps the data.
    let again = kho_store::connect(&f.db.url).await.unwrap();
    assert_eq!(again.list_agencies().await.unwrap().len(), 3);
    again.ping().await.unwrap();
}
