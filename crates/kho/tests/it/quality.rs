//! `kho quality` and `kho audit quality` as an operator scripts them: rules from a file
//! checked against the table, a check that exits 1 on a failing `error` check, ad-hoc
//! rules, and the report per agency as text and as a printable HTML page.

use crate::{kho, ok, province_and_department};

#[test]
fn rules_checks_and_the_audit_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    province_and_department(d, "Sở Giáo dục và Đào tạo");
    let csv = d.join("truong.csv");
    std::fs::write(&csv, "Mã trường;Số học sinh\n01;1.250\n02;980\n02;-5\n").unwrap();
    ok(kho(d, &["ingest", csv.to_str().unwrap(), "--resource", "truong-hoc", "--agency", "000.00.01.H24"]));

    let rules = d.join("rules.yaml");
    std::fs::write(&rules, "checks:\n  - unique: ma_truong\n  - range: { column: so_hoc_sin, min: 0 }\n").unwrap();
    let refused = kho(d, &["quality", "rules", "set", "truong-hoc", rules.to_str().unwrap()]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("checks[2]") && stderr.contains("so_hoc_sinh"), "{stderr}");

    std::fs::write(
        &rules,
        "checks:\n  - unique: ma_truong\n  - range: { column: so_hoc_sinh, min: 0 }\n    severity: warning\n",
    )
    .unwrap();
    let stored = ok(kho(d, &["quality", "rules", "set", "truong-hoc", rules.to_str().unwrap()]));
    assert!(stored.contains("stored 2 checks for table main"), "{stored}");
    assert!(ok(kho(d, &["quality", "rules", "show", "truong-hoc"])).contains("so_hoc_sinh"));

    // The duplicate code fails an error check: the command says so and exits 1.
    let failed = kho(d, &["quality", "check", "truong-hoc"]);
    assert_eq!(failed.status.code(), Some(1));
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(out.contains("table main version 1: 3 rows, 2 checks, 2 failed"), "{out}");
    assert!(out.contains("FAIL    error   unique(ma_truong)") && out.contains("2 failed of        3"), "{out}");
    assert!(out.contains("accurate") && out.contains("Đúng"), "{out}");

    // Rules tried from a file pass here, and are not kept.
    let tried = d.join("tried.json");
    std::fs::write(&tried, r#"{"checks": [{"not_null": "ma_truong"}]}"#).unwrap();
    let out = ok(kho(
        d,
        &["quality", "check", "truong-hoc", "--table", "main", "--rules", tried.to_str().unwrap(), "--json"],
    ));
    let runs: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["results"][0]["kind"], "not_null");

    let report = ok(kho(d, &["audit", "quality", "--agency", "000.00.01.H24"]));
    assert!(report.contains("agency 000.00.01.H24 — Sở Giáo dục và Đào tạo"), "{report}");
    assert!(report.contains("resource truong-hoc") && report.contains("failing: main: unique(ma_truong)"), "{report}");
    let page = d.join("bao-cao.html");
    ok(kho(d, &["audit", "quality", "--html", page.to_str().unwrap()]));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Báo cáo kiểm tra chất lượng dữ liệu") && html.contains("Thống nhất"), "{html}");
    assert!(html.contains("truong-hoc"), "{html}");
}
