//! Data quality over the API: a table's rules are checked against it before they are
//! kept, every load runs the checks, a run reports counts, failing rows and the six
//! scores, rules tried ad hoc are not recorded, failing `error` checks can block
//! publishing, and the report per agency lists what was checked.

use crate::{client, expect_error, spawn_app, TestApp};
use serde_json::{json, Value};

/// A list of schools with defects: a duplicated code, a negative count, a missing
/// name, a code that is not two digits.
const MESSY: &str = "Mã trường;Tên trường;Số học sinh;Ngày thành lập\n\
    01;Trường Mầm non Hoa Sen;1.250;01/09/1995\n\
    02;Trường Tiểu học Kinh Bắc;980;15/08/2001\n\
    02;Trường THCS Đa Mai;-5;05/09/2010\n\
    4;;310;05/09/2012\n";

/// The same schools, put right.
const CLEAN: &str = "Mã trường;Tên trường;Số học sinh;Ngày thành lập\n\
    01;Trường Mầm non Hoa Sen;1.250;01/09/1995\n\
    02;Trường Tiểu học Kinh Bắc;980;15/08/2001\n\
    03;Trường THCS Đa Mai;640;05/09/2010\n\
    04;Trường Tiểu học Võ Cường;310;05/09/2012\n";

const RULES: &str = "block_publish: true
checks:
  - row_count: { min: 4 }
  - not_null: ten_truong
  - unique: ma_truong
  - regex: { column: ma_truong, pattern: '^[0-9]{2}$' }
  - range: { column: so_hoc_sinh, min: 0, max: 5000 }
  - schema: { columns: { ma_truong: text, so_hoc_sinh: integer } }
  - freshness: { within: 30d }
    severity: warning
";

fn school_list(agency: &str) -> Value {
    json!({
        "title": "Danh sách trường học",
        "description": "Các trường trên địa bàn tỉnh",
        "keywords": ["giáo dục"],
        "publisher_agency_id": agency,
        "sharing_scope": "open",
        "spatial": ["24"],
        "update_frequency": "annual",
    })
}

async fn put_rules(app: &TestApp, token: &str, slug: &str, rules: &str) -> reqwest::Response {
    client()
        .put(app.url(&format!("/api/v1/resources/{slug}/tables/main/quality/rules")))
        .bearer_auth(token)
        .json(&json!({ "rules": rules }))
        .send()
        .await
        .unwrap()
}

fn result<'a>(run: &'a Value, kind: &str) -> &'a Value {
    run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {run}"))
}

#[tokio::test]
async fn rules_run_on_every_load_and_failing_error_checks_block_publishing() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let created: Value = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await.json().await.unwrap();
    let slug = created["slug"].as_str().unwrap().to_string();
    app.load_csv(&steward, &slug, "main", MESSY).await;

    // The load ran the (empty) checks already: the version has scores.
    let runs: Value = app.get_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs"), &steward).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    assert_eq!(runs["items"][0]["trigger"], "load");
    assert_eq!(runs["items"][0]["scores"]["complete"], json!(15.0 / 16.0), "one empty cell of 16");

    // Rules that do not fit the table, or do not parse, say where and how to fix them.
    let err =
        expect_error(put_rules(&app, &steward, &slug, "checks: [{not_null: ten}]").await, 422, "invalid_field").await;
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("checks[1]") && message.contains("has no column \"ten\"") && message.contains("ten_truong"),
        "{err}"
    );
    let err =
        expect_error(put_rules(&app, &steward, &slug, "checks:\n  - not_nul: ma_truong\n").await, 422, "invalid_field")
            .await;
    assert!(err["message"].as_str().unwrap().contains("line 2"), "{err}");
    // Another agency's steward may not set them (a draft is not even visible to them).
    let other = app.token("steward.xa").await;
    expect_error(put_rules(&app, &other, &slug, RULES).await, 404, "not_found").await;
    assert_eq!(put_rules(&app, &steward, &slug, RULES).await.status(), 200);

    let r = app.post_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs"), &steward, &json!({})).await;
    assert_eq!(r.status(), 201);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["version"], 1);
    assert_eq!(run["rows"], 4);
    let unique = result(&run, "unique");
    assert_eq!((unique["failed"].as_u64(), unique["passed"].as_bool()), (Some(2), Some(false)), "{unique}");
    assert_eq!(unique["samples"][0], json!({"ma_truong": "02", "so_dong": 2}));
    let range = result(&run, "range");
    assert_eq!(range["failed"], 1);
    assert_eq!(range["samples"][0]["so_hoc_sinh"], -5);
    assert_eq!(result(&run, "regex")["failed"], 1);
    assert_eq!(result(&run, "not_null")["failed"], 1);
    assert!(result(&run, "row_count")["passed"].as_bool().unwrap());
    assert!(result(&run, "schema")["passed"].as_bool().unwrap(), "{run}");
    assert!(result(&run, "freshness")["passed"].as_bool().unwrap(), "loaded just now");
    assert_eq!(run["scores"]["accurate"], json!((0.75 + 0.75) / 2.0), "regex and range: 3 of 4 rows each");
    assert_eq!(run["scores"]["clean"], json!(0.5));

    // Rules tried ad hoc answer without being recorded.
    let body = json!({"rules": "checks: [{not_null: so_hoc_sinh}]"});
    let tried: Value = app
        .post_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs"), &steward, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tried["results"].as_array().unwrap().len(), 1);
    let runs: Value = app.get_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs"), &steward).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 2, "the load's run and the recorded one");

    // Failing error checks block publishing, and say which.
    let status = json!({"status": "published"});
    let r = app.post_json(&format!("/api/v1/resources/{slug}/status"), &steward, &status).await;
    let err = expect_error(r, 409, "conflict").await;
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("unique(ma_truong)") && message.contains("version 1"), "{err}");
    assert!(!message.contains("freshness"), "a warning does not block: {err}");

    // The corrected file's load runs the checks; now the resource publishes.
    app.load_csv(&steward, &slug, "main", CLEAN).await;
    let runs: Value =
        app.get_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs?limit=1"), &steward).await;
    let newest = &runs["items"][0];
    assert_eq!((newest["version"].as_i64(), newest["trigger"].as_str()), (Some(2), Some("load")));
    assert!(newest["results"].as_array().unwrap().iter().all(|r| r["passed"] == true), "{newest}");
    assert_eq!(newest["scores"]["accurate"], json!(1.0));
    let r = app.post_json(&format!("/api/v1/resources/{slug}/status"), &steward, &status).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Scores are as of their run: published since, the table now scores as shared.
    assert_eq!(newest["scores"]["shared"], json!(0.0), "a draft is not offered");
    let r = app.post_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs"), &steward, &json!({})).await;
    assert_eq!(r.status(), 201);

    // Open data's quality is public; the report per agency lists it.
    let public: Value = app.get_public(&format!("/api/v1/resources/{slug}/quality")).await;
    assert_eq!(public["tables"][0]["latest"]["version"], 2);
    assert_eq!(public["scores"]["shared"], json!(0.5), "open data, not used yet");
    let report: Value = app.get_json("/api/v1/quality/agencies?agency=000.00.01.H24", &steward).await;
    let agency = &report["items"][0];
    assert_eq!(agency["agency_code"], "000.00.01.H24");
    let line = agency["resources"].as_array().unwrap().iter().find(|r| r["slug"] == slug.as_str()).unwrap();
    let trend: Vec<f64> = line["trend"].as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect();
    assert_eq!(trend.len(), 4, "two loads and two runs asked for: {line}");
    assert!(trend[3] > trend[1], "the corrected version scores higher: {line}");
}

#[tokio::test]
async fn checks_name_code_lists_references_and_custom_sql() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let own = app.agency_id("000.00.01.H24").await;
    let created: Value = app.post_json("/api/v1/resources", &admin, &school_list(&own)).await.json().await.unwrap();
    let slug = created["slug"].as_str().unwrap().to_string();
    app.load_csv(&admin, &slug, "main", CLEAN).await;
    // A second table the first refers to.
    app.load_csv(&admin, &slug, "lop", "Mã lớp;Mã trường\nL1;01\nL2;03\nL3;09\n").await;
    let schema = slug.replace('-', "_");
    let rules = format!(
        "checks:
  - reference: {{ column: ma_truong, table: {schema}.main }}
  - sql: SELECT * FROM lop WHERE ma_lop = 'L2'
  - code_list: {{ column: ma_truong, list: khong-co }}
"
    );
    let err = expect_error(
        app.post_json(&format!("/api/v1/resources/{slug}/tables/lop/quality/runs"), &admin, &json!({"rules": rules}))
            .await,
        422,
        "invalid_field",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("no published code list \"khong-co\""), "{err}");
    let rules = rules.lines().take(3).collect::<Vec<_>>().join("\n");
    let run: Value = app
        .post_json(&format!("/api/v1/resources/{slug}/tables/lop/quality/runs"), &admin, &json!({"rules": rules}))
        .await
        .json()
        .await
        .unwrap();
    let reference = result(&run, "reference");
    assert_eq!(reference["failed"], 1, "{run}");
    assert_eq!(reference["samples"][0]["ma_lop"], "L3");
    assert_eq!(result(&run, "sql")["failed"], 1);
}

#[tokio::test]
async fn rules_that_no_longer_fit_a_new_version_are_recorded_as_not_run() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let created: Value = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await.json().await.unwrap();
    let slug = created["slug"].as_str().unwrap().to_string();
    app.load_csv(&steward, &slug, "main", CLEAN).await;
    assert_eq!(put_rules(&app, &steward, &slug, RULES).await.status(), 200);
    // The next file renames a column: the load still makes its version…
    app.load_csv(&steward, &slug, "main", "Mã trường;Tên;Số học sinh\n01;Hoa Sen;10\n").await;
    // …and its run says why no check could run.
    let runs: Value =
        app.get_json(&format!("/api/v1/resources/{slug}/tables/main/quality/runs?limit=1"), &steward).await;
    let run = &runs["items"][0];
    assert_eq!(run["version"], 2);
    let not_null = result(run, "not_null");
    assert_eq!(not_null["passed"], false);
    assert!(not_null["error"].as_str().unwrap().contains("has no column \"ten_truong\""), "{run}");
    let status = json!({"status": "published"});
    let err = expect_error(
        app.post_json(&format!("/api/v1/resources/{slug}/status"), &steward, &status).await,
        409,
        "conflict",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("version 2 fails"), "{err}");
}
