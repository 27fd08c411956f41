//! Code lists (danh mục dùng chung) over HTTP: the administrative units ship as code
//! lists and are looked up as of a date without logging in; stewards manage the lists
//! of their own agency only (another agency's list answers 403); import errors name row
//! and column and block publishing; exports read back to the same items; every change
//! is in the audit log.

use crate::{client, expect_error, spawn_app, TestApp};
use serde_json::{json, Value};

async fn upload(app: &TestApp, token: &str, slug: &str, file: &str, body: Vec<u8>) -> reqwest::Response {
    client()
        .post(app.url(&format!("/api/v1/refdata/code-lists/{slug}/versions?filename={file}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_units_are_looked_up_as_of_a_date_without_login() {
    let app = spawn_app().await;
    let before = app.get_public("/api/v1/refdata/code-lists/admin-units/items/00004?as_of=2025-06-01").await;
    assert_eq!(before["item"]["name_vi"], "Phường Trúc Bạch", "{before}");
    assert_eq!((before["version"].as_i64(), before["effective_until"].as_str()), (Some(1), Some("2025-06-30")));
    let after = app.get_public("/api/v1/refdata/code-lists/admin-units/items/00004?as_of=2025-08-01").await;
    assert_eq!(after["item"]["name_vi"], "Phường Ba Đình", "{after}");
    assert_eq!(after["item"]["attributes"]["province_name"], "Thành phố Hà Nội");
    // The service answers the same, as the other capabilities call it.
    let d = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    assert_eq!(
        app.kho.lookup_code("admin-units", "00004", d("2025-06-30")).await.unwrap().item.name_vi,
        "Phường Trúc Bạch"
    );
    assert_eq!(
        app.kho.lookup_code("admin-units", "00004", d("2025-07-01")).await.unwrap().item.name_vi,
        "Phường Ba Đình"
    );
    let none = client()
        .get(app.url("/api/v1/refdata/code-lists/admin-units/items/00004?as_of=2019-01-01"))
        .send()
        .await
        .unwrap();
    expect_error(none, 404, "not_found").await;

    let lists = app.get_public("/api/v1/refdata/code-lists").await;
    let slugs: Vec<&str> = lists["items"].as_array().unwrap().iter().map(|l| l["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["admin-units", "provinces"]);
    let provinces = app.get_public("/api/v1/refdata/code-lists/provinces").await;
    let counts: Vec<i64> =
        provinces["versions"].as_array().unwrap().iter().map(|v| v["item_count"].as_i64().unwrap()).collect();
    assert_eq!(counts, [63, 34]);
    let communes = app.get_public("/api/v1/refdata/code-lists/admin-units/items?as_of=2025-08-01&limit=1").await;
    assert_eq!(communes["total"], 3321);
    let found =
        app.get_public("/api/v1/refdata/code-lists/admin-units/items?as_of=2025-08-01&q=phuong%20ba%20dinh").await;
    assert!(found["items"].as_array().unwrap().iter().any(|i| i["code"] == "00004"), "{found}");
    // The public pages: Vietnamese by default, English on request.
    let page = |path: &str| {
        let url = app.url(path);
        async move { client().get(url).send().await.unwrap().text().await.unwrap() }
    };
    let lists = page("/refdata").await;
    assert!(lists.contains("Danh mục dùng chung") && lists.contains("href=\"/refdata/admin-units\""), "{lists}");
    let before = page("/refdata/admin-units?as_of=2025-06-01&q=truc%20bach").await;
    assert!(before.contains("Phường Trúc Bạch") && !before.contains("Phường Ba Đình"), "{before}");
    let after = page("/refdata/admin-units?as_of=2025-08-01&q=00004&lang=en").await;
    assert!(after.contains("Phường Ba Đình") && after.contains("As of date"), "{after}");
    assert!(after.contains("<h1>Communes, wards and special zones</h1>"), "{after}");
    let legacy = app.get_public("/api/v1/refdata/code-lists/admin-units/items?version=1&limit=1").await;
    // The legacy list's 10,040 rows are 10,035 communes and 5 island districts without communes.
    assert_eq!(legacy["total"], 10035);
}

#[tokio::test]
async fn stewards_manage_their_own_lists_only_and_every_change_is_audited() {
    let app = spawn_app().await;
    let khcn = app.token("steward.khcn").await;
    let xa = app.token("steward.xa").await;
    let new = json!({"slug": "dan-toc", "name_vi": "Danh mục dân tộc", "description": "54 dân tộc"});
    let r = app.post_json("/api/v1/refdata/code-lists", &khcn, &new).await;
    assert_eq!(r.status(), 201);
    expect_error(app.post_json("/api/v1/refdata/code-lists", &khcn, &new).await, 409, "conflict").await;
    let anonymous = client().post(app.url("/api/v1/refdata/code-lists")).json(&new).send().await.unwrap();
    expect_error(anonymous, 401, "unauthenticated").await;

    let csv = "code,name\n01,Kinh\n02,Tày\n03,Thái\n".as_bytes().to_vec();
    let r = upload(&app, &khcn, "dan-toc", "dt.csv", csv.clone()).await;
    assert_eq!(r.status(), 201);
    let outcome: Value = r.json().await.unwrap();
    assert_eq!(
        (outcome["version"]["version"].as_i64(), outcome["diff"]["added"].as_array().unwrap().len()),
        (Some(1), 3)
    );
    let publish = json!({"effective_from": "2024-01-01"});
    let r = app.post_json("/api/v1/refdata/code-lists/dan-toc/versions/1/publish", &khcn, &publish).await;
    assert_eq!(r.status(), 200);

    // Another agency's steward: 403 on every write, and the denial is audited.
    expect_error(upload(&app, &xa, "dan-toc", "dt.csv", csv.clone()).await, 403, "forbidden").await;
    let r = app.post_json("/api/v1/refdata/code-lists/dan-toc/versions/1/publish", &xa, &publish).await;
    expect_error(r, 403, "forbidden").await;
    // The administrative units belong to the province: not the department's steward's to change.
    expect_error(upload(&app, &khcn, "admin-units", "x.csv", csv.clone()).await, 403, "forbidden").await;
    let r = client()
        .delete(app.url("/api/v1/refdata/code-lists/dan-toc/versions/1"))
        .bearer_auth(&khcn)
        .send()
        .await
        .unwrap();
    expect_error(r, 409, "conflict").await;

    let auditor = app.token("auditor").await;
    let log = app.get_json("/api/v1/audit?action=codelist&limit=100", &auditor).await;
    let entries: Vec<(String, String)> = log["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .filter(|e| e["target"] == "codelist:dan-toc")
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["outcome"].as_str().unwrap().to_string()))
        .rev()
        .collect();
    let expected = [
        ("codelist.create", "success"),
        ("codelist.import", "success"),
        ("codelist.publish", "success"),
        ("codelist.import", "denied"),
        ("codelist.publish", "denied"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, o)| (a.to_string(), o.to_string())).collect();
    assert_eq!(entries, expected);
}

#[tokio::test]
async fn import_errors_name_row_and_column_and_block_publishing() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let r = app.post_json("/api/v1/refdata/code-lists", &admin, &json!({"slug": "nganh", "name_vi": "Ngành"})).await;
    assert_eq!(r.status(), 201);
    let csv = "Mã;Tên;Mã cha\nA;Nông nghiệp;\nA01;Trồng trọt;A\nA01;Chăn nuôi;A\nB01;Khai khoáng;B\n";
    let r = upload(&app, &admin, "nganh", "nganh.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status(), 201);
    let outcome: Value = r.json().await.unwrap();
    let errors = outcome["report"]["errors"].as_array().unwrap();
    assert_eq!(outcome["report"]["error_count"], 2, "{outcome}");
    assert_eq!((errors[0]["row"].as_i64(), errors[0]["column"].as_str()), (Some(4), Some("Mã (A)")));
    assert!(errors[0]["message"].as_str().unwrap().contains("in row 3 and row 4"), "{outcome}");
    assert_eq!((errors[1]["row"].as_i64(), errors[1]["column"].as_str()), (Some(5), Some("Mã cha (C)")));
    let r = app
        .post_json(
            "/api/v1/refdata/code-lists/nganh/versions/1/publish",
            &admin,
            &json!({"effective_from": "2025-01-01"}),
        )
        .await;
    let body = expect_error(r, 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("2 errors"), "{body}");
    let r = client()
        .delete(app.url("/api/v1/refdata/code-lists/nganh/versions/1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // A hierarchy: children by parent, over the API and from the service.
    let good = "Mã;Tên;Mã cha\nA;Nông nghiệp;\nA01;Trồng trọt;A\nA02;Chăn nuôi;A\nB;Khai khoáng;\n";
    assert_eq!(upload(&app, &admin, "nganh", "nganh.csv", good.as_bytes().to_vec()).await.status(), 201);
    let r = app
        .post_json(
            "/api/v1/refdata/code-lists/nganh/versions/1/publish",
            &admin,
            &json!({"effective_from": "2025-01-01"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let children = app.get_public("/api/v1/refdata/code-lists/nganh/items?parent=A").await;
    let codes: Vec<&str> = children["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["A01", "A02"]);
    let d = chrono::NaiveDate::from_ymd_opt(2025, 6, 1);
    assert_eq!(app.kho.code_children("nganh", "A", d).await.unwrap().len(), 2);
    assert_eq!(app.kho.search_codes("nganh", "chan nuoi", d).await.unwrap()[0].code, "A02");
    let bad = upload(&app, &admin, "nganh", "x.csv", b"ten\nabc\n".to_vec()).await;
    let body = expect_error(bad, 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("x.csv, row 1: no column code"), "{body}");
}

#[tokio::test]
async fn exports_read_back_to_the_same_items() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    for format in ["csv", "xlsx", "json"] {
        let r = client()
            .get(app.url(&format!("/api/v1/refdata/code-lists/provinces/export?format={format}&as_of=2025-08-01")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{format}");
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("provinces-v2.{format}")));
        let bytes = r.bytes().await.unwrap().to_vec();
        if format == "json" {
            let doc: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(doc["items"].as_array().unwrap().len(), 34);
            continue;
        }
        let r = upload(&app, &admin, "provinces", &format!("p.{format}"), bytes).await;
        assert_eq!(r.status(), 201, "{format}");
        let outcome: Value = r.json().await.unwrap();
        assert_eq!(outcome["report"]["error_count"], 0, "{outcome}");
        let diff = &outcome["diff"];
        let sizes = [&diff["added"], &diff["removed"], &diff["renamed"]].map(|v| v.as_array().unwrap().len());
        assert_eq!((sizes, diff["unchanged"].as_i64()), ([0, 0, 0], Some(34)), "{format}: {diff}");
        let version = outcome["version"]["version"].as_i64().unwrap();
        let draft = app
            .get_json(&format!("/api/v1/refdata/code-lists/provinces/items?version={version}&limit=1000"), &admin)
            .await;
        let current = app.get_public("/api/v1/refdata/code-lists/provinces/items?version=2&limit=1000").await;
        assert_eq!(draft["items"], current["items"], "{format}");
    }
    // Drafts are not public.
    let r = client().get(app.url("/api/v1/refdata/code-lists/provinces/items?version=3")).send().await.unwrap();
    expect_error(r, 404, "not_found").await;
}
