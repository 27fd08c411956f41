//! Loading files into a resource's tables over the API, versions, rows, and who may
//! do what with data.

use crate::{client, expect_error, spawn_app, TestApp};
use serde_json::{json, Value};

const SCHOOLS_V1: &str = "Mã trường;Tên trường;Số học sinh;Ngày thành lập\n\
    01;Trường Mầm non Hoa Sen;1.250;01/09/1995\n\
    02;Trường Tiểu học Kinh Bắc;980;15/08/2001\n";
const SCHOOLS_V2: &str = "Mã trường;Tên trường;Số học sinh;Ngày thành lập\n\
    01;Trường Mầm non Hoa Sen;1.300;01/09/1995\n\
    02;Trường Tiểu học Kinh Bắc;990;15/08/2001\n\
    03;Trường THCS Đa Mai;640;05/09/2010\n";

async fn upload(app: &TestApp, token: &str, slug: &str, body: &str, query: &str) -> reqwest::Response {
    client()
        .post(app.url(&format!("/api/v1/resources/{slug}/tables/main/versions?{query}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn schools_slug(app: &TestApp) -> String {
    let list: Value = app.get_public("/api/v1/resources?q=giao%20duc").await;
    list["items"][0]["slug"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_steward_loads_versions_and_anyone_reads_open_data() {
    let app = spawn_app().await;
    let slug = schools_slug(&app).await;
    let steward = app.token("steward.khcn").await;
    // The schools list belongs to the Department of Education; another department's steward may not load it.
    expect_error(upload(&app, &steward, &slug, SCHOOLS_V1, "filename=truong.csv").await, 403, "forbidden").await;

    let admin = app.token("admin").await;
    let r = upload(&app, &admin, &slug, SCHOOLS_V1, "filename=truong-2024.csv").await;
    assert_eq!(r.status(), 201);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["rows"], 2);
    assert_eq!(report["columns"][2], json!({"name": "so_hoc_sinh", "header": "Số học sinh", "kind": "integer"}));
    let r = upload(&app, &admin, &slug, SCHOOLS_V2, "filename=truong-2025.csv&mode=replace").await;
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);

    let tables: Value = app.get_public(&format!("/api/v1/resources/{slug}/tables")).await;
    assert_eq!(tables["items"], json!(["main"]));
    let versions: Value = app.get_public(&format!("/api/v1/resources/{slug}/tables/main/versions")).await;
    let summary: Vec<(i64, &str, &str)> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["source_file"].as_str().unwrap(), v["loaded_by"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [(2, "truong-2025.csv", "user:admin"), (1, "truong-2024.csv", "user:admin")]);

    let v1: Value = app.get_public(&format!("/api/v1/resources/{slug}/tables/main/rows?version=1")).await;
    assert_eq!(v1["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        v1["items"][0],
        json!({"ma_truong": "01", "ten_truong": "Trường Mầm non Hoa Sen", "so_hoc_sinh": 1250, "ngay_thanh_lap": "1995-09-01"})
    );
    let latest: Value = app.get_public(&format!("/api/v1/resources/{slug}/tables/main/rows?limit=2")).await;
    assert_eq!(latest["items"].as_array().unwrap().len(), 2, "limit");
    assert_eq!(latest["total"], 3);
    assert_eq!(latest["items"][0]["so_hoc_sinh"], 1300);
    let filtered: Value = app
        .get_public(&format!("/api/v1/resources/{slug}/tables/main/rows?ngay_thanh_lap=05/09/2010&sort=-so_hoc_sinh"))
        .await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["items"][0]["ten_truong"], "Trường THCS Đa Mai");
    let r = client().get(app.url(&format!("/api/v1/resources/{slug}/tables/main/rows?tinh=24"))).send().await.unwrap();
    let err = expect_error(r, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().starts_with("tinh: the table has no such column"), "{err}");

    let csv = client()
        .get(app.url(&format!("/api/v1/resources/{slug}/tables/main/csv?version=1&bom=true")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = csv.headers()["content-disposition"].to_str().unwrap().to_string();
    assert_eq!(disposition, format!("attachment; filename=\"{slug}-main-v1.csv\""));
    assert_eq!(
        csv.text().await.unwrap(),
        "\u{feff}ma_truong,ten_truong,so_hoc_sinh,ngay_thanh_lap\n01,Trường Mầm non Hoa Sen,1250,1995-09-01\n02,Trường Tiểu học Kinh Bắc,980,2001-08-15\n"
    );

    let auditor = app.token("auditor").await;
    let log: Value = app.get_json("/api/v1/audit?action=table.load", &auditor).await;
    assert_eq!(log["items"].as_array().unwrap().iter().filter(|e| e["outcome"] == "success").count(), 2);
}

#[tokio::test]
async fn a_bad_file_is_refused_with_its_row_and_column_and_nothing_changes() {
    let app = spawn_app().await;
    let slug = schools_slug(&app).await;
    let admin = app.token("admin").await;
    upload(&app, &admin, &slug, SCHOOLS_V1, "filename=v1.csv").await;
    // Thirty schools, one founding date mistyped.
    let mut bad = String::from("Mã trường;Tên trường;Số học sinh;Ngày thành lập\n");
    for i in 1..=30 {
        let date = if i == 17 { "31/02/2001".to_string() } else { format!("{:02}/09/2001", i % 28 + 1) };
        bad.push_str(&format!("{i:02};Trường số {i};{};{date}\n", 100 + i));
    }
    let err = expect_error(upload(&app, &admin, &slug, &bad, "filename=sai.csv").await, 422, "invalid_field").await;
    assert_eq!(
        err["message"],
        "sai.csv, row 18, column \"Ngày thành lập\": \"31/02/2001\" is not a date written dd/mm/yyyy; fix the value or declare the column as text"
    );
    let versions: Value = app.get_json(&format!("/api/v1/resources/{slug}/tables/main/versions"), &admin).await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1);
    expect_error(upload(&app, &admin, &slug, SCHOOLS_V1, "mode=merge").await, 422, "invalid_field").await;
    let r = client()
        .post(app.url(&format!("/api/v1/resources/{slug}/tables/Bad%20Name/versions")))
        .bearer_auth(&admin)
        .body("a\n1\n")
        .send()
        .await
        .unwrap();
    expect_error(r, 422, "invalid_field").await;
}

#[tokio::test]
async fn private_data_is_read_only_inside_its_agency() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let body = json!({"title": "Nhân sự nội bộ", "publisher_agency_id": own, "sharing_scope": "private"});
    let created: Value = app.post_json("/api/v1/resources", &steward, &body).await.json().await.unwrap();
    let slug = created["slug"].as_str().unwrap();
    assert_eq!(upload(&app, &steward, slug, "ho_ten,chuc_vu\nAn,Trưởng phòng\n", "").await.status(), 201);

    let rows = format!("/api/v1/resources/{slug}/tables/main/rows");
    assert_eq!(app.get_json(&rows, &steward).await["items"][0]["ho_ten"], "An");
    expect_error(client().get(app.url(&rows)).send().await.unwrap(), 404, "not_found").await;
    let other = app.token("viewer.taichinh").await;
    expect_error(client().get(app.url(&rows)).bearer_auth(&other).send().await.unwrap(), 404, "not_found").await;
    let log: Value = app.get_json("/api/v1/audit?action=table.read", &app.token("auditor").await).await;
    assert!(
        log["items"].as_array().unwrap().iter().any(|e| e["actor"] == "user:steward.khcn"),
        "reads of non-open data are recorded"
    );
}

#[tokio::test]
async fn an_upsert_by_key_is_summarised_and_versions_compare() {
    let app = spawn_app().await;
    let slug = schools_slug(&app).await;
    let admin = app.token("admin").await;
    let r = upload(&app, &admin, &slug, SCHOOLS_V1, "filename=v1.csv&key=M%C3%A3%20tr%C6%B0%E1%BB%9Dng").await;
    assert_eq!(r.status(), 201);
    let err = upload(&app, &admin, &slug, SCHOOLS_V2, "mode=upsert").await;
    let body = expect_error(err, 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("an upsert needs the column(s) that identify a row"), "{body}");

    let r = upload(&app, &admin, &slug, SCHOOLS_V2, "filename=v2.csv&mode=upsert&key=ma_truong").await;
    assert_eq!(r.status(), 201);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["changes"], json!({"added": 1, "removed": 0, "changed": 2}));

    let versions: Value = app.get_public(&format!("/api/v1/resources/{slug}/tables/main/versions")).await;
    let newest = &versions["items"][0];
    assert_eq!((newest["mode"].as_str(), newest["rows"].as_u64()), (Some("upsert"), Some(3)));
    assert_eq!(newest["key"], json!(["ma_truong"]));
    assert_eq!(newest["source_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(newest["columns"][3]["kind"], "date");

    let diff: Value = app.get_public(&format!("/api/v1/resources/{slug}/tables/main/versions/2/diff")).await;
    assert_eq!(diff["previous"], 1);
    assert_eq!((diff["rows_before"].as_u64(), diff["rows_after"].as_u64()), (Some(2), Some(3)));
    assert_eq!(diff["rows"], json!({"added": 1, "removed": 0, "changed": 2}));
    let missing = client().get(app.url(&format!("/api/v1/resources/{slug}/tables/main/versions/7/diff"))).send();
    let body = expect_error(missing.await.unwrap(), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("has no version 7"), "{body}");
}

#[tokio::test]
async fn rows_filter_by_ranges_and_words_and_page_with_a_cursor() {
    let app = spawn_app().await;
    let slug = schools_slug(&app).await;
    let admin = app.token("admin").await;
    assert_eq!(upload(&app, &admin, &slug, SCHOOLS_V2, "filename=v.csv").await.status(), 201);
    let rows = |query: &str| app.get_public_owned(format!("/api/v1/resources/{slug}/tables/main/rows?{query}"));
    let page = rows("so_hoc_sinh.gte=900&so_hoc_sinh.lt=1300&fields=ma_truong").await;
    assert_eq!(page["items"], json!([{"ma_truong": "02"}]));
    assert_eq!((page["total"].as_u64(), page["total_is_estimate"].as_bool()), (Some(1), Some(false)));
    let page = rows("q=truong%20mam%20NON&fields=ten_truong").await;
    assert_eq!(page["items"], json!([{"ten_truong": "Trường Mầm non Hoa Sen"}]));

    let first = rows("limit=2&sort=ma_truong&fields=ma_truong").await;
    assert_eq!(first["items"], json!([{"ma_truong": "01"}, {"ma_truong": "02"}]));
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    // A new version loaded meanwhile does not move the pages of the one being read.
    assert_eq!(upload(&app, &admin, &slug, SCHOOLS_V1, "filename=v1.csv").await.status(), 201);
    let second = rows(&format!("limit=2&sort=ma_truong&fields=ma_truong&cursor={cursor}")).await;
    assert_eq!(second["items"], json!([{"ma_truong": "03"}]));
    assert_eq!(second["version"], 1);
    assert!(second["next_cursor"].is_null());

    let r = client().get(app.url(&format!("/api/v1/resources/{slug}/tables/main/rows?so_hoc_sinh.about=1"))).send();
    let body = expect_error(r.await.unwrap(), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("use eq, ne, gt, gte, lt or lte"), "{body}");
}
