//! The gateway's message log in the store: records appended in batches form one
//! chain across batches and multi-row statements, checkpoints are kept, and altering,
//! deleting or reordering a stored record is found by the verifier. A registered
//! service's settings are changed, and it is suspended and resumed, each audited.

use crate::{ctx, new_agency, on_every_backend, Fixture};
use kho_core::agency::AgencyKind;
use kho_core::identity::{NewSubsystem, Role, SubsystemId};
use kho_exchange::msglog::{Anchor, ChainVerifier, LogEntry, MessageArchive, MessageRecord, NodeKey};
use kho_exchange::{NewService, ServiceTarget};
use kho_store::{AuditQuery, Backend, MessageQuery, StoreError};

fn record(i: usize) -> MessageRecord {
    let now = kho_core::time::now();
    MessageRecord {
        seq: 0,
        message_id: format!("msg-{i}"),
        request_id: format!("req-{i}"),
        client: "VN/GOV/000.00.02.H24/CHI-TRA".into(),
        service: "VN/GOV/000.00.03.H24/BTXH/ho-ngheo".into(),
        method: "GET".into(),
        path: format!("/rows/{i}"),
        purpose: "xac-minh".into(),
        agreement_id: Some("a-1".into()),
        user_id: i.is_multiple_of(2).then(|| "VN012345678901".into()),
        issue: None,
        request_in_ts: now,
        request_out_ts: None,
        response_in_ts: Some(now),
        response_out_ts: now,
        request_size: 0,
        response_size: 100 + i as i64,
        status_code: 200,
        succeeded: true,
        fault_code: None,
        fault_string: (i == 3).then(|| "lỗi \"máy chủ\" \\ hết hạn\n".into()),
        request_hash: "h".into(),
        subjects: if i % 100 == 7 { vec!["subject-x".into()] } else { vec![] },
        body: None,
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Appends `n` records in batches of 150 and 250 and signs a checkpoint over the head.
async fn fill(f: &Fixture, n: usize, key: &NodeKey) {
    let mut records: Vec<LogEntry> = (1..=n).map(|i| record(i).into_entry()).collect();
    for batch in records.chunks_mut(250) {
        let (first, rest) = batch.split_at_mut(batch.len().min(150));
        f.store.append_messages(first).await.unwrap();
        f.store.append_messages(rest).await.unwrap();
    }
    let (seq, hash) = f.store.message_head().await.unwrap();
    f.store.add_checkpoint(&key.sign_checkpoint(seq, &hash, kho_core::time::now())).await.unwrap();
}

async fn verify(f: &Fixture, key: &NodeKey) -> kho_exchange::msglog::VerifyReport {
    let mut v = ChainVerifier::new(Some(key.public_hex()));
    v.expect_checkpoints(f.store.checkpoints().await.unwrap());
    let mut after = 0;
    loop {
        let page = f.store.stored_messages(after, 300).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            let _ = v.push_stored(r);
        }
    }
    v.finish(Some(f.store.message_head().await.unwrap()))
}

async fn records_chain_across_batches_and_read_back_the_same(f: Fixture) {
    let key = NodeKey::generate();
    fill(&f, 520, &key).await;
    let report = verify(&f, &key).await;
    assert!(report.intact, "{}", report.message);
    assert_eq!((report.records, report.checkpoints), (520, 1));
    assert_eq!(f.store.count_messages().await.unwrap(), 520);
    let by_subject = MessageQuery { subject: Some("subject-x".into()), limit: 10, ..Default::default() };
    let seqs: Vec<i64> = f.store.list_messages(&by_subject).await.unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [507, 407, 307, 207, 107, 7], "a data subject's exchanges, newest first");
    let by_id = MessageQuery { message_id: Some("msg-42".into()), limit: 5, ..Default::default() };
    assert_eq!(f.store.list_messages(&by_id).await.unwrap()[0].path, "/rows/42");
}

async fn an_altered_record_is_found(f: Fixture) {
    let key = NodeKey::generate();
    fill(&f, 30, &key).await;
    f.sql("UPDATE message_log SET fields = replace(fields, '\"xac-minh\"', '\"quang-cao\"') WHERE seq = 12").await;
    let report = verify(&f, &key).await;
    assert!(!report.intact);
    let first = report.first_break.unwrap();
    assert_eq!(first.seq, 12);
    assert!(first.reason.contains("altered"), "{}", first.reason);
}

async fn a_record_altered_into_something_else_than_a_record_is_found(f: Fixture) {
    let key = NodeKey::generate();
    fill(&f, 30, &key).await;
    f.sql("UPDATE message_log SET fields = 'gone' WHERE seq = 17").await;
    let report = verify(&f, &key).await;
    let first = report.first_break.unwrap();
    assert_eq!(first.seq, 17);
    assert!(first.reason.contains("altered"), "{}", first.reason);
}

async fn a_deleted_record_is_found(f: Fixture) {
    let key = NodeKey::generate();
    fill(&f, 30, &key).await;
    f.sql("DELETE FROM message_log WHERE seq = 9").await;
    let report = verify(&f, &key).await;
    assert!(!report.intact);
    assert!(report.first_break.unwrap().reason.contains("missing"), "{}", report.message);
}

async fn reordered_records_are_found(f: Fixture) {
    let key = NodeKey::generate();
    fill(&f, 30, &key).await;
    // Swap records 5 and 6 whole, each renumbered into the other's place.
    f.sql("UPDATE message_log SET seq = -5 WHERE seq = 5").await;
    f.sql("UPDATE message_log SET seq = 5 WHERE seq = 6").await;
    f.sql("UPDATE message_log SET seq = 6 WHERE seq = -5").await;
    let report = verify(&f, &key).await;
    assert!(!report.intact);
    assert_eq!(report.first_break.unwrap().seq, 5, "{}", report.message);
}

/// A log stored before records kept their fields as text (migration 12) is carried
/// over whole: every record reads back the same and the chain still verifies.
async fn records_stored_in_the_earlier_columns_are_carried_over(f: Fixture) {
    let key = NodeKey::generate();
    fill(&f, 12, &key).await;
    let records = f.store.message_range(0, 100).await.unwrap();
    // The table as migration 8 made it, holding the same records column by column.
    let exchange = include_str!("../../migrations/0008_exchange.sql");
    let start = exchange.find("CREATE TABLE message_log (").unwrap();
    let table = &exchange[start..start + exchange[start..].find(");").unwrap() + 2];
    f.sql("DROP TABLE message_log").await;
    f.sql(table).await;
    for r in &records {
        let placeholders: Vec<String> = (1..=26).map(|n| format!("${n}")).collect();
        let ts = |t: &chrono::DateTime<chrono::Utc>| kho_core::time::format(t);
        sqlx::query(&format!(
            "INSERT INTO message_log (seq, message_id, request_id, client, service, method, path, purpose, \
             agreement_id, user_id, issue, request_in_ts, request_out_ts, response_in_ts, response_out_ts, \
             request_size, response_size, status_code, succeeded, fault_code, fault_string, request_hash, subjects, \
             body, prev_hash, hash) VALUES ({})",
            placeholders.join(", ")
        ))
        .bind(r.seq)
        .bind(&r.message_id)
        .bind(&r.request_id)
        .bind(&r.client)
        .bind(&r.service)
        .bind(&r.method)
        .bind(&r.path)
        .bind(&r.purpose)
        .bind(&r.agreement_id)
        .bind(&r.user_id)
        .bind(&r.issue)
        .bind(ts(&r.request_in_ts))
        .bind(r.request_out_ts.as_ref().map(ts))
        .bind(r.response_in_ts.as_ref().map(ts))
        .bind(ts(&r.response_out_ts))
        .bind(r.request_size)
        .bind(r.response_size)
        .bind(i64::from(r.status_code))
        .bind(i64::from(r.succeeded))
        .bind(&r.fault_code)
        .bind(&r.fault_string)
        .bind(&r.request_hash)
        .bind(serde_json::to_string(&r.subjects).unwrap())
        .bind(&r.body)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&f.raw)
        .await
        .unwrap();
    }
    let migration = match f.db.backend {
        Backend::Sqlite => include_str!("../../migrations/0012_message_fields.sqlite.sql"),
        Backend::Postgres => include_str!("../../migrations/0012_message_fields.postgres.sql"),
    };
    sqlx::raw_sql(migration).execute(&f.raw).await.unwrap();
    assert_eq!(f.store.message_range(0, 100).await.unwrap(), records, "every field as it was");
    let report = verify(&f, &key).await;
    assert!(report.intact && report.records == 12, "{}", report.message);
}

/// The records of the health test: every third fails, every fourth is of a second
/// service, record `i` took `i` ms.
fn timed_entries(from: usize, to: usize) -> Vec<LogEntry> {
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap().to_utc();
    (from..=to)
        .map(|i| {
            let mut r = record(i);
            r.request_in_ts = start + chrono::Duration::seconds(i as i64);
            r.response_out_ts = r.request_in_ts + chrono::Duration::milliseconds(i as i64);
            r.succeeded = i % 3 != 0;
            if i % 4 == 0 {
                r.service = "VN/GOV/000.00.03.H24/BTXH/tro-cap".into();
            }
            r.into_entry()
        })
        .collect()
}

/// Each service's health is counted from its records as they are appended, across
/// batches; a log stored before health was kept is counted once, a page at a time, to
/// the same figures, and appends count again only after it.
async fn service_health_is_counted_from_the_stored_records(f: Fixture) {
    let mut entries = timed_entries(1, 400);
    for batch in entries.chunks_mut(150) {
        f.store.append_messages(batch).await.unwrap();
    }
    let health = f.store.service_health().await.unwrap();
    let names: Vec<&str> = health.iter().map(|h| h.service.as_str()).collect();
    assert_eq!(names, ["VN/GOV/000.00.03.H24/BTXH/ho-ngheo", "VN/GOV/000.00.03.H24/BTXH/tro-cap"]);
    let (ho_ngheo, tro_cap) = (&health[0], &health[1]);
    // 300 records not divisible by 4, of which 1 in 3 (100 of the 1..=400 multiples of 3, less those of 4: 33) fail.
    assert_eq!((ho_ngheo.successes, ho_ngheo.failures), (200, 100));
    assert_eq!((tro_cap.successes, tro_cap.failures), (67, 33));
    assert_eq!((tro_cap.min_ms, tro_cap.max_ms), (4.0, 400.0));
    assert_eq!(tro_cap.avg_ms, (4..=400).step_by(4).sum::<usize>() as f64 / 100.0);
    assert_eq!(ho_ngheo.since, entries[0].request_in_ts);
    assert_eq!(ho_ngheo.last_success, Some(entries[397].outcome.response_out_ts), "record 398");
    assert_eq!(tro_cap.last_failure, Some(entries[395].outcome.response_out_ts), "record 396");
    assert_eq!(
        ho_ngheo.response_bytes,
        entries.iter().filter(|e| e.seq % 4 != 0).map(|e| e.outcome.response_size).sum::<i64>()
    );

    // A log stored before health was kept: nothing counted, and appends wait for the count.
    f.sql("DELETE FROM service_health").await;
    f.sql("UPDATE message_head SET health_seq = 0").await;
    f.store.append_messages(&mut timed_entries(401, 420)).await.unwrap();
    assert_eq!(f.store.service_health().await.unwrap(), [], "appends do not count before the records before them");
    let mut pages = 1;
    while !f.store.count_health(100).await.unwrap() {
        pages += 1;
    }
    assert_eq!(pages, 5, "420 records, 100 a page");
    let recounted = f.store.service_health().await.unwrap();
    let exchanges: Vec<u64> = recounted.iter().map(|h| h.exchanges()).collect();
    assert_eq!(exchanges, [315, 105]);
    assert_eq!(recounted[1].max_ms, 420.0);
    f.store.append_messages(&mut timed_entries(421, 424)).await.unwrap();
    let exchanges: Vec<u64> = f.store.service_health().await.unwrap().iter().map(|h| h.exchanges()).collect();
    assert_eq!(exchanges, [318, 106], "appends count again once the log is counted");
    assert!(f.store.count_health(100).await.unwrap());

    // Records archived before they were counted are counted as they leave the store.
    f.sql("DELETE FROM service_health").await;
    f.sql("UPDATE message_head SET health_seq = 0").await;
    let end = f.store.stored_messages(299, 1).await.unwrap().remove(0);
    let now = kho_core::time::now();
    let archive = MessageArchive {
        start: Anchor { seq: 0, hash: "0".repeat(64) },
        end: Anchor { seq: end.seq, hash: end.hash },
        records: 300,
        first_at: None,
        last_at: None,
        checkpoint_at: now,
        file: "/archives/1.jsonl".into(),
        sha256: "0".repeat(64),
        archived_at: now,
        signature: String::new(),
    };
    f.store.archive_messages(&ctx(), &archive).await.unwrap();
    assert_eq!(f.store.count_messages().await.unwrap(), 124);
    assert!(f.store.count_health(100).await.unwrap());
    let exchanges: Vec<u64> = f.store.service_health().await.unwrap().iter().map(|h| h.exchanges()).collect();
    assert_eq!(exchanges, [318, 106], "the archived records were counted before they left");
}

/// A proxied service of a department's subsystem, registered with a backend token.
async fn registered_service(f: &Fixture) -> kho_exchange::Service {
    let province = new_agency("000.00.00.H24", "UBND tỉnh Bắc Ninh", AgencyKind::Province, None);
    let province = f.store.create_agency(&ctx(), &province).await.unwrap();
    let department = new_agency("000.00.01.H24", "Sở Tư pháp", AgencyKind::Department, Some(&province.id));
    let department = f.store.create_agency(&ctx(), &department).await.unwrap();
    let provider = NewSubsystem {
        xroad_id: SubsystemId::parse("VN/GOV/000.00.01.H24/REGISTRY").unwrap(),
        name: "Hệ thống hộ tịch".into(),
        agency_id: department.id,
        roles: vec![Role::Viewer],
    };
    let provider = f.store.create_subsystem(&ctx(), &provider).await.unwrap();
    let new = NewService {
        provider: provider.xroad_id.clone(),
        code: "persons".into(),
        description: "Tra cứu hộ tịch".into(),
        target: ServiceTarget::Proxied {
            backend_url: "http://10.0.0.5:8080/api".into(),
            openapi: None,
            backend_token: Some("token-cu".into()),
        },
        timeout_ms: Some(30_000),
        log_bodies: false,
    };
    f.store.create_service(&ctx(), &provider.id, &new).await.unwrap()
}

/// The store's `service.*` audit entries, oldest first: (action, detail as JSON).
async fn service_audit(f: &Fixture) -> Vec<(String, serde_json::Value)> {
    let query = AuditQuery { action: Some("service".into()), limit: 100, ..Default::default() };
    let mut entries: Vec<_> = f
        .store
        .list_audit(&query)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.target, "service:VN/GOV/000.00.01.H24/REGISTRY/persons");
            (e.action, serde_json::from_str(&e.detail).unwrap())
        })
        .collect();
    entries.reverse();
    entries
}

async fn a_service_is_changed_suspended_and_resumed_and_each_step_is_audited(f: Fixture) {
    let service = registered_service(&f).await;
    assert_eq!((service.updated_at, &service.disabled), (None, &None), "{service:?}");

    let mut changed = NewService {
        provider: service.provider.clone(),
        code: service.code.clone(),
        description: "Tra cứu hộ tịch (máy chủ mới)".into(),
        target: ServiceTarget::Proxied {
            backend_url: "https://ho-tich.bacninh.gov.vn/api".into(),
            openapi: None,
            backend_token: Some("token-moi".into()),
        },
        timeout_ms: Some(2_500),
        log_bodies: false,
    };
    let updated = f.store.update_service(&ctx(), &service.id, &changed).await.unwrap();
    assert_eq!((updated.id.as_str(), updated.created_at), (service.id.as_str(), service.created_at));
    assert_eq!((updated.description.as_str(), updated.timeout_ms), ("Tra cứu hộ tịch (máy chủ mới)", 2_500));
    assert_eq!(updated.target, changed.target, "the new backend URL and token are stored");
    assert!(updated.updated_at.is_some_and(|at| at >= service.created_at), "{updated:?}");
    assert_eq!(f.store.service(&service.id).await.unwrap().as_ref(), Some(&updated), "read back the same");
    assert_eq!(f.store.list_services().await.unwrap(), std::slice::from_ref(&updated));

    // A change that only drops the token names it, and never its value.
    changed.target = ServiceTarget::Proxied {
        backend_url: "https://ho-tich.bacninh.gov.vn/api".into(),
        openapi: None,
        backend_token: None,
    };
    let dropped = f.store.update_service(&ctx(), &service.id, &changed).await.unwrap();
    assert_eq!(dropped.target, changed.target);

    let notice = "Bảo trì hệ thống đến 18:00 ngày 05/12";
    let suspended = f.store.set_service_disabled(&ctx(), &service.id, Some(notice)).await.unwrap();
    let suspension = suspended.disabled.clone().expect("suspended");
    assert_eq!(suspension.notice, notice);
    assert!(suspension.at >= updated.updated_at.unwrap(), "{suspension:?}");
    assert_eq!(suspended.target, changed.target, "suspending changes no setting");
    assert_eq!(f.store.service(&service.id).await.unwrap().unwrap().disabled, Some(suspension.clone()));
    assert_eq!(f.store.list_services().await.unwrap()[0].disabled, Some(suspension.clone()));

    let resumed = f.store.set_service_disabled(&ctx(), &service.id, None).await.unwrap();
    assert_eq!(resumed.disabled, None);
    assert_eq!(f.store.service(&service.id).await.unwrap().unwrap().disabled, None);
    assert_eq!(resumed.updated_at, dropped.updated_at, "resuming is not a change of settings");

    let audit = service_audit(&f).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["service.create", "service.update", "service.update", "service.disable", "service.enable"]);
    assert_eq!(audit[1].1["changed"], serde_json::json!(["description", "backend_url", "backend_token", "timeout_ms"]));
    assert_eq!(audit[1].1["timeout_ms"], 2_500);
    assert_eq!(audit[2].1["changed"], serde_json::json!(["backend_token"]));
    assert_eq!(audit[3].1, serde_json::json!({"notice": notice}));
    assert_eq!(audit[4].1["was_disabled_since"], kho_core::time::format(&suspension.at));
    let all = serde_json::to_string(&audit).unwrap();
    assert!(!all.contains("token-cu") && !all.contains("token-moi"), "no token's value in the audit: {all}");

    let missing = f.store.update_service(&ctx(), "no-such-service", &changed).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    let missing = f.store.set_service_disabled(&ctx(), "no-such-service", Some(notice)).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
}

on_every_backend!(
    service_health_is_counted_from_the_stored_records,
    a_service_is_changed_suspended_and_resumed_and_each_step_is_audited,
    records_stored_in_the_earlier_columns_are_carried_over,
    records_chain_across_batches_and_read_back_the_same,
    an_altered_record_is_found,
    a_record_altered_into_something_else_than_a_record_is_found,
    a_deleted_record_is_found,
    reordered_records_are_found,
);
