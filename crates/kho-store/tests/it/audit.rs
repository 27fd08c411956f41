//! The audit chain on every backend: changes are recorded, filters work, and
//! tampering directly in the database (alter, delete, reorder, cut the tail) is
//! detected and named.

use crate::{ctx, new_agency, Fixture};
use kho_core::agency::AgencyKind;
use kho_core::audit::{AuditEvent, ChainBreak, Outcome};
use kho_store::{verify_audit_chain, AuditQuery};

crate::on_every_backend!(
    every_change_appends_one_entry,
    the_log_filters_and_pages,
    an_intact_chain_verifies,
    an_altered_entry_is_detected,
    a_deleted_entry_is_detected,
    reordered_entries_are_detected,
    a_cut_tail_is_detected,
    concurrent_appends_keep_the_chain,
);

/// Five entries: two agency creations and three reads.
async fn five_entries(f: &Fixture) {
    let p = f
        .store
        .create_agency(&ctx(), &new_agency("000.00.00.H06", "UBND tỉnh", AgencyKind::Province, None))
        .await
        .unwrap();
    f.store
        .create_agency(&ctx(), &new_agency("000.00.01.H06", "Sở KH&CN", AgencyKind::Department, Some(&p.id)))
        .await
        .unwrap();
    for i in 0..3 {
        let event = AuditEvent::new("user:kiemtoan", "audit.read", format!("audit:{i}")).outcome(Outcome::Success);
        f.store.append_audit(event).await.unwrap();
    }
}

async fn every_change_appends_one_entry(f: Fixture) {
    five_entries(&f).await;
    let all = f.store.list_audit(&AuditQuery { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 4, 3, 2, 1]);
    assert_eq!(all[4].action, "agency.create");
    assert_eq!(all[4].actor, "operator");
    assert!(all[4].detail.contains("000.00.00.H06"));
    assert_eq!(f.store.audit_head().await.unwrap(), (5, all[0].hash.clone()));
}

async fn the_log_filters_and_pages(f: Fixture) {
    five_entries(&f).await;
    let q = |query: AuditQuery| {
        let store = f.store.clone();
        async move { store.list_audit(&AuditQuery { limit: 100, ..query }).await.unwrap() }
    };
    assert_eq!(q(AuditQuery { action: Some("agency".into()), ..Default::default() }).await.len(), 2);
    assert_eq!(q(AuditQuery { action: Some("agency.create".into()), ..Default::default() }).await.len(), 2);
    assert_eq!(q(AuditQuery { action: Some("agen".into()), ..Default::default() }).await.len(), 0);
    assert_eq!(q(AuditQuery { actor: Some("user:kiemtoan".into()), ..Default::default() }).await.len(), 3);
    assert_eq!(q(AuditQuery { target: Some("audit:1".into()), ..Default::default() }).await.len(), 1);
    assert_eq!(q(AuditQuery { outcome: Some(Outcome::Denied), ..Default::default() }).await.len(), 0);
    let future = kho_core::time::now() + chrono::Duration::days(1);
    assert_eq!(q(AuditQuery { from: Some(future), ..Default::default() }).await.len(), 0);
    assert_eq!(q(AuditQuery { until: Some(future), ..Default::default() }).await.len(), 5);

    let first = f.store.list_audit(&AuditQuery { limit: 2, ..Default::default() }).await.unwrap();
    let next = f
        .store
        .list_audit(&AuditQuery { limit: 2, before_seq: Some(first[1].seq), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 2]);
}

async fn an_intact_chain_verifies(f: Fixture) {
    assert_eq!(verify_audit_chain(f.store.as_ref()).await.unwrap(), Ok(0));
    five_entries(&f).await;
    assert_eq!(verify_audit_chain(f.store.as_ref()).await.unwrap(), Ok(5));
}

async fn an_altered_entry_is_detected(f: Fixture) {
    five_entries(&f).await;
    f.sql("UPDATE audit_log SET actor = 'user:someone-else' WHERE seq = 3").await;
    assert_eq!(verify_audit_chain(f.store.as_ref()).await.unwrap(), Err(ChainBreak::Altered { seq: 3 }));
}

async fn a_deleted_entry_is_detected(f: Fixture) {
    five_entries(&f).await;
    f.sql("DELETE FROM audit_log WHERE seq = 2").await;
    assert_eq!(
        verify_audit_chain(f.store.as_ref()).await.unwrap(),
        Err(ChainBreak::Missing { expected_seq: 2, found_seq: 3 })
    );
}

async fn reordered_entries_are_detected(f: Fixture) {
    five_entries(&f).await;
    // Swap the positions of entries 2 and 4.
    f.sql("UPDATE audit_log SET seq = 100 WHERE seq = 2").await;
    f.sql("UPDATE audit_log SET seq = 2 WHERE seq = 4").await;
    f.sql("UPDATE audit_log SET seq = 4 WHERE seq = 100").await;
    assert_eq!(verify_audit_chain(f.store.as_ref()).await.unwrap(), Err(ChainBreak::Altered { seq: 2 }));
}

async fn a_cut_tail_is_detected(f: Fixture) {
    five_entries(&f).await;
    f.sql("DELETE FROM audit_log WHERE seq >= 4").await;
    assert_eq!(
        verify_audit_chain(f.store.as_ref()).await.unwrap(),
        Err(ChainBreak::Truncated { last_seq: 3, head_seq: 5 })
    );
}

async fn concurrent_appends_keep_the_chain(f: Fixture) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move {
                store.append_audit(AuditEvent::new("operator", "test.concurrent", format!("t{i}"))).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(verify_audit_chain(f.store.as_ref()).await.unwrap(), Ok(16));
}
