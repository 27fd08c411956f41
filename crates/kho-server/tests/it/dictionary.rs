//! The data dictionary over real HTTP: the demo's starter elements read by anyone and
//! found without diacritics; stewards manage the elements of their agency only; the
//! lifecycle refuses skipped steps; every change is a version in the history and an
//! audit entry; the dictionary exports and imports again, and a bad row changes nothing.

use crate::{client, expect_error, spawn_app, TestApp};
use serde_json::{json, Value};

fn element(identifier: &str, owner: &str) -> Value {
    json!({
        "identifier": identifier,
        "name": "Mã ngành kinh tế",
        "definition": "Mã ngành kinh tế cấp 4 theo hệ thống ngành kinh tế Việt Nam.",
        "technical": {"data_type": "text", "pattern": "^[0-9]{4}$"},
        "management": {"owner_agency_id": owner, "steward": "Phòng Đăng ký kinh doanh"},
        "synonyms": ["VSIC"]
    })
}

async fn put_json(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    client().put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

#[tokio::test]
async fn the_demo_dictionary_is_read_by_anyone_and_found_without_diacritics() {
    let app = spawn_app().await;
    let all = app.get_public("/api/v1/dictionary/elements?limit=100").await;
    assert_eq!(all["total"], 11, "{all}");
    assert!(all["items"].as_array().unwrap().iter().all(|e| e["status"] == "candidate"));
    let found = app.get_public("/api/v1/dictionary/elements?q=CAN%20CUOC").await;
    assert_eq!(found["items"][0]["identifier"], "so-dinh-danh-ca-nhan", "{found}");
    assert_eq!(found["items"][0]["technical"]["pattern"], "^[0-9]{12}$");
    assert_eq!(found["items"][0]["personal_data"], "basic");
    let commune = app.get_public("/api/v1/dictionary/elements/ma-xa").await;
    assert_eq!(commune["value_domain"]["code_list"], "admin-units");
    let r = client().get(app.url("/api/v1/dictionary/elements/khong-co")).send().await.unwrap();
    expect_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn stewards_manage_their_agency_elements_through_the_lifecycle() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let khcn = app.agency_id("000.00.01.H24").await;
    let finance = app.agency_id("000.00.02.H24").await;

    let r = app.post_json("/api/v1/dictionary/elements", &steward, &element("ma-nganh-kinh-te", &khcn)).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!((created["version"].as_i64(), created["status"].as_str()), (Some(1), Some("draft")));
    let r = app.post_json("/api/v1/dictionary/elements", &steward, &element("ma-nganh-khac", &finance)).await;
    expect_error(r, 403, "forbidden").await;
    // The starter elements belong to the province: a department's steward reads, not edits.
    let seed = app.get_public("/api/v1/dictionary/elements/ho-va-ten").await;
    let mut changed = seed.clone();
    for stored in ["id", "version", "status", "status_changed_by", "status_changed_at", "created_at", "updated_at"] {
        changed.as_object_mut().unwrap().remove(stored);
    }
    changed["definition"] = json!("Họ, chữ đệm và tên khai sinh.");
    expect_error(put_json(&app, "/api/v1/dictionary/elements/ho-va-ten", &steward, &changed).await, 403, "forbidden")
        .await;
    let admin = app.token("admin").await;
    let r = put_json(&app, "/api/v1/dictionary/elements/ho-va-ten", &admin, &changed).await;
    assert_eq!(r.status(), 200);

    let status = |s: &str| json!({ "status": s });
    let path = "/api/v1/dictionary/elements/ma-nganh-kinh-te/status";
    let r = app.post_json(path, &steward, &status("standard")).await;
    let refused = expect_error(r, 422, "invalid_field").await;
    assert!(refused["message"].as_str().unwrap().contains("can become candidate or retired"), "{refused}");
    assert_eq!(app.post_json(path, &steward, &status("candidate")).await.status(), 200);
    let standard: Value = app.post_json(path, &steward, &status("standard")).await.json().await.unwrap();
    assert_eq!((standard["version"].as_i64(), standard["status"].as_str()), (Some(3), Some("standard")));
    assert_eq!(standard["status_changed_by"], "user:steward.khcn");

    let history = app.get_public("/api/v1/dictionary/elements/ma-nganh-kinh-te/history").await;
    let steps: Vec<(i64, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [(3, "standard"), (2, "candidate"), (1, "draft")]);

    let log = app.get_json("/api/v1/audit?limit=100", &admin).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"].as_str().is_some_and(|t| t.starts_with("element:")) || e["action"] == "element.create")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["element.create", "element.status", "element.update"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        log["items"].as_array().unwrap().iter().any(|e| e["action"] == "element.create" && e["outcome"] == "denied"),
        "the refused creation is recorded"
    );
}

#[tokio::test]
async fn the_dictionary_exports_and_imports_again() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let csv = client().get(app.url("/api/v1/dictionary/export?format=csv")).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 12, "a header and the 11 elements");
    let import = |body: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            client()
                .post(app.url("/api/v1/dictionary/import?format=csv"))
                .bearer_auth(admin)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let same: Value = import(csv.clone()).await.json().await.unwrap();
    assert_eq!(same["unchanged"].as_array().unwrap().len(), 11, "{same}");

    let edited = csv.replace("Giới tính của một người", "Giới tính khai sinh của một người");
    let report: Value = import(edited).await.json().await.unwrap();
    assert_eq!(report["updated"], json!(["gioi-tinh"]), "{report}");
    assert_eq!(app.get_public("/api/v1/dictionary/elements/gioi-tinh").await["version"], 2);

    // One bad row: the error names it, and the good rows before it change nothing.
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    lines[1] = lines[1].replacen("so-dinh-danh-ca-nhan", "so-dinh-danh-moi", 1).replacen(
        "Số định danh",
        "Số định danh mới",
        1,
    );
    lines[3] = lines[3].replacen(",text,", ",chu,", 1);
    let r = import(lines.join("\n")).await;
    let err = expect_error(r, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().contains("row 4, column data_type"), "{err}");
    let r = client().get(app.url("/api/v1/dictionary/elements/so-dinh-danh-moi")).send().await.unwrap();
    assert_eq!(r.status(), 404, "nothing was imported");

    let json_export = client().get(app.url("/api/v1/dictionary/export?format=json")).send().await.unwrap();
    let body = json_export.text().await.unwrap();
    let r = client()
        .post(app.url("/api/v1/dictionary/import?format=json"))
        .bearer_auth(&admin)
        .body(body)
        .send()
        .await
        .unwrap();
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 11, "{report}");
}

/// The pages: anyone browses and searches the dictionary; a steward registers an
/// element with the form, sees a refused step explained, and moves it on.
#[tokio::test]
async fn the_dictionary_pages_browse_register_and_move_elements() {
    let app = spawn_app().await;
    let anonymous = client();
    let page = |c: &reqwest::Client, path: &str| {
        let r = c.get(app.url(path)).send();
        async move {
            let r = r.await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, list) = page(&anonymous, "/dictionary").await;
    assert_eq!(status, 200);
    assert!(list.contains("11 phần tử") && list.contains("Số định danh cá nhân"), "{list}");
    let (_, found) = page(&anonymous, "/dictionary?q=dien%20thoai&status=candidate").await;
    assert!(found.contains("1 phần tử") && found.contains("/dictionary/so-dien-thoai"), "{found}");
    let (_, shown) = page(&anonymous, "/dictionary/so-dinh-danh-ca-nhan").await;
    assert!(shown.contains("^[0-9]{12}$") && shown.contains("Đề xuất"), "{shown}");
    assert!(!shown.contains("name=\"status\""), "no lifecycle form for visitors");

    let (steward, csrf) = app.session("steward.khcn").await;
    let khcn = app.agency_id("000.00.01.H24").await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("identifier", "so-giay-phep-kinh-doanh"),
        ("name", "Số giấy phép kinh doanh"),
        ("definition", "Số giấy chứng nhận đăng ký doanh nghiệp do Sở cấp."),
        ("data_type", "text"),
        ("max_length", "13"),
        ("owner_agency_id", khcn.as_str()),
        ("personal_data", "none"),
        ("synonyms", "GPKD, số ĐKKD"),
    ];
    let r = steward.post(app.url("/admin/dictionary/new")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dictionary/so-giay-phep-kinh-doanh");
    let (_, created) = page(&steward, "/dictionary/so-giay-phep-kinh-doanh").await;
    assert!(created.contains("Dự thảo") && created.contains("GPKD, số ĐKKD"), "{created}");

    let mut bad = form.to_vec();
    bad[1] = ("identifier", "Số GPKD");
    let r = steward.post(app.url("/admin/dictionary/new")).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("role=\"alert\"") && text.contains("so-gpkd"), "the fix is suggested: {text}");

    let move_to = |s: &'static str| [("csrf_token", csrf.clone()), ("status", s.to_string())];
    let path = "/admin/dictionary/so-giay-phep-kinh-doanh/status";
    let r = steward.post(app.url(path)).form(&move_to("standard")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("can become candidate or retired"));
    let r = steward.post(app.url(path)).form(&move_to("candidate")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, moved) = page(&steward, "/dictionary/so-giay-phep-kinh-doanh").await;
    assert!(moved.contains("id=\"element-status\">Đề xuất<"), "{moved}");
}

/// The acceptance point: a column of a loaded table bound to "commune code" reports the
/// codes that are not 2025 commune codes with their rows, and the rate shows in the API
/// and on the resource page; the next load is checked by itself; a column bound to an
/// element that holds personal data keeps the resource from being published as open.
#[tokio::test]
async fn a_column_bound_to_commune_code_reports_what_is_not_a_2025_commune() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let slug = "danh-sach-co-so-giao-duc";
    let load = |csv: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let path = format!("/api/v1/resources/{slug}/tables/main/versions?schema=M%C3%A3%20x%C3%A3:text");
            let r = client()
                .post(app.url(&path))
                .bearer_auth(admin)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    };
    // 00001 was a commune code until 30 June 2025 (Phường Phúc Xá), not since.
    load("Tên trường,Mã xã,Số học sinh\nMầm non Ba Đình,00004,320\nTiểu học Phúc Xá,00001,410\nTHCS Ngọc Hà,00008,390\nTHPT Mới,99999,500\n").await;

    let suggested: Value = app.get_json(&format!("/api/v1/resources/{slug}/bindings/suggestions"), &admin).await;
    assert_eq!(suggested[0]["column"], "ma_xa", "{suggested}");
    assert_eq!(suggested[0]["element"], "ma-xa");

    let bind = json!({"table": "main", "column": "ma_xa", "element": "ma-xa"});
    let r = app.post_json(&format!("/api/v1/resources/{slug}/bindings"), &admin, &bind).await;
    assert_eq!(r.status(), 201);
    let report: Value = r.json().await.unwrap();
    assert_eq!((report["checked"].as_u64(), report["conforming"].as_u64()), (Some(4), Some(2)), "{report}");
    let violations: Vec<(u64, &str)> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["row"].as_u64().unwrap(), v["value"].as_str().unwrap()))
        .collect();
    assert_eq!(violations, [(2, "00001"), (4, "99999")]);
    assert_eq!(report["violations"][0]["reason"], "not a code of the list admin-units");

    let bound: Value = app.get_json(&format!("/api/v1/resources/{slug}/bindings"), &admin).await;
    assert_eq!(bound[0]["conformance"]["rate"], 0.5, "{bound}");
    let (session, _) = app.session("admin").await;
    let page = session.get(app.url(&format!("/admin/resources/{slug}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"conformance\"") && page.contains("50,0 %") && page.contains("99999"), "{page}");

    // The next version is checked when it is loaded.
    load("Tên trường,Mã xã,Số học sinh\nMầm non Ba Đình,00004,320\nTHCS Ngọc Hà,00008,390\n").await;
    let bound: Value = app.get_json(&format!("/api/v1/resources/{slug}/bindings"), &admin).await;
    assert_eq!(
        (bound[0]["conformance"]["version"].as_i64(), bound[0]["conformance"]["rate"].as_f64()),
        (Some(2), Some(1.0))
    );

    // The dictionary says a full name is personal data: open publishing is refused.
    let bind = json!({"table": "main", "column": "ten_truong", "element": "ho-va-ten"});
    assert_eq!(app.post_json(&format!("/api/v1/resources/{slug}/bindings"), &admin, &bind).await.status(), 201);
    let status = |s: &str| json!({ "status": s });
    let path = format!("/api/v1/resources/{slug}/status");
    assert_eq!(app.post_json(&path, &admin, &status("retired")).await.status(), 200);
    let refused = expect_error(app.post_json(&path, &admin, &status("published")).await, 422, "invalid_field").await;
    assert!(refused["message"].as_str().unwrap().contains("main.ten_truong (bound to ho-va-ten"), "{refused}");
}

/// Codes are checked against the list in force on the data's date: the same legacy
/// commune code conforms in a resource about 2024 and not in one about 2026.
#[tokio::test]
async fn commune_codes_are_checked_as_of_the_data_date() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let agency = app.agency_id("000.00.01.H24").await;
    for (slug, year) in [("ho-so-2024", 2024), ("ho-so-2026", 2026)] {
        let draft = json!({"title": format!("Hồ sơ năm {year}"), "slug": slug, "publisher_agency_id": agency,
                           "sharing_scope": "shared", "temporal_start": format!("{year}-01-01"), "temporal_end": format!("{year}-12-31")});
        assert_eq!(app.post_json("/api/v1/resources", &admin, &draft).await.status(), 201);
        let path = format!("/api/v1/resources/{slug}/tables/main/versions?schema=ma_xa:text");
        let csv = "ma_xa\n00001\n00004\n";
        let r = client()
            .post(app.url(&path))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let bind = json!({"table": "main", "column": "ma_xa", "element": "ma-xa"});
        let report: Value =
            app.post_json(&format!("/api/v1/resources/{slug}/bindings"), &admin, &bind).await.json().await.unwrap();
        // 00001 (Phường Phúc Xá) and 00004 (Phường Trúc Bạch) were communes in 2024;
        // in 2026 only 00004 is one (Phường Ba Đình).
        let expected = if year == 2024 { 2 } else { 1 };
        assert_eq!(report["conforming"].as_u64(), Some(expected), "{slug}: {report}");
    }
}
