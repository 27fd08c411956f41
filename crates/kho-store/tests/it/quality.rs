//! Data quality on every backend: a table's rules are kept and replaced with an audit
//! entry, runs get increasing ids and read back whole (results and scores), newest
//! first, the newest run of each table is found, and profiles are kept per version.

use crate::{ctx, Fixture};
use kho_quality::result::{QualityRun, Trigger};
use kho_quality::{CheckResult, RuleSet, Scores};
use kho_store::{verify_audit_chain, AuditQuery};

crate::on_every_backend!(rules_and_runs_are_kept_per_table, profiles_are_kept_per_version);

fn run(resource: &str, table: &str, version: i64, failed: u64) -> QualityRun {
    let rules = RuleSet::parse("checks: [{unique: so_cccd}, {not_null: ho_ten, threshold: 90}]").unwrap();
    let results: Vec<CheckResult> = rules.checks.iter().map(|c| CheckResult::of(c).counted(10, failed)).collect();
    QualityRun {
        id: 0,
        resource_id: resource.into(),
        table: table.into(),
        version,
        trigger: Trigger::Load,
        run_by: "operator".into(),
        started_at: kho_core::time::now(),
        elapsed_ms: 12,
        rows: 10,
        scores: Scores { accurate: Some(0.5), overall: Some(0.75), ..Default::default() },
        results,
    }
}

async fn rules_and_runs_are_kept_per_table(f: Fixture) {
    f.store.set_quality_rules(&ctx(), "r1", "main", "checks: []").await.unwrap();
    f.store.set_quality_rules(&ctx(), "r1", "main", "checks: [{not_null: a}]").await.unwrap();
    f.store.set_quality_rules(&ctx(), "r1", "ho", "checks: []").await.unwrap();
    let rules = f.store.quality_rules("r1").await.unwrap();
    assert_eq!(
        rules.iter().map(|r| (r.table.as_str(), r.rules.as_str())).collect::<Vec<_>>(),
        [("ho", "checks: []"), ("main", "checks: [{not_null: a}]")]
    );
    assert_eq!(rules[0].updated_by, "operator");

    let first = f.store.save_quality_run(&ctx(), &run("r1", "main", 1, 3)).await.unwrap();
    let second = f.store.save_quality_run(&ctx(), &run("r1", "main", 2, 0)).await.unwrap();
    f.store.save_quality_run(&ctx(), &run("r2", "main", 1, 1)).await.unwrap();
    assert!(second > first);
    let runs = f.store.quality_runs("r1", "main", 10).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.version).collect::<Vec<_>>(), [2, 1], "newest first");
    let mut expected = run("r1", "main", 1, 3);
    expected.id = first;
    expected.started_at = runs[1].started_at;
    assert_eq!(runs[1], expected, "a run reads back whole");
    assert!(!runs[1].results[0].passed && !runs[1].results[1].passed, "3 of 10 fail both: 70 % misses 100 % and 90 %");
    let latest = f.store.latest_quality_runs().await.unwrap();
    assert_eq!(latest.iter().map(|r| (r.resource_id.as_str(), r.version)).collect::<Vec<_>>(), [("r1", 2), ("r2", 1)]);

    let audited = f.store.list_audit(&AuditQuery { limit: 50, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = audited.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "quality.rules.set").count(), 3);
    assert_eq!(actions.iter().filter(|a| **a == "quality.run").count(), 3);
    assert_eq!(verify_audit_chain(f.store.as_ref()).await.unwrap(), Ok(6));
}

async fn profiles_are_kept_per_version(f: Fixture) {
    assert_eq!(f.store.quality_profile("r1", "main", None).await.unwrap(), None);
    f.store.save_quality_profile("r1", "main", 1, r#"{"v": 1}"#).await.unwrap();
    f.store.save_quality_profile("r1", "main", 2, r#"{"v": 2}"#).await.unwrap();
    f.store.save_quality_profile("r1", "main", 2, r#"{"v": 22}"#).await.unwrap();
    assert_eq!(f.store.quality_profile("r1", "main", None).await.unwrap(), Some((2, r#"{"v": 22}"#.to_string())));
    assert_eq!(f.store.quality_profile("r1", "main", Some(1)).await.unwrap(), Some((1, r#"{"v": 1}"#.to_string())));
    assert_eq!(f.store.quality_profile("r1", "main", Some(3)).await.unwrap(), None);
}
