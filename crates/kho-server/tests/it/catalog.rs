//! Data resources over the API: stewards register and manage their agency's
//! resources, the lifecycle holds, and what each caller can list matches what the
//! policy lets them read.

use crate::{client, expect_error, spawn_app};
use serde_json::{json, Value};

fn school_list(agency: &str) -> Value {
    json!({
        "title": "Danh sách trường mầm non",
        "description": "Các trường mầm non công lập và tư thục",
        "keywords": ["giáo dục", "mầm non"],
        "publisher_agency_id": agency,
        "sharing_scope": "open",
        "spatial": ["24"],
        "update_frequency": "annual",
    })
}

#[tokio::test]
async fn stewards_register_resources_for_their_own_agency_only() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let other = app.agency_id("000.00.03.H24").await;

    let r = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["slug"], "danh-sach-truong-mam-non");
    assert_eq!(created["status"], "draft");
    assert_eq!(created["licence"], "CC-BY-4.0");

    let again: Value = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await.json().await.unwrap();
    assert_eq!(again["slug"], "danh-sach-truong-mam-non-2", "a generated slug never collides");

    let r = app.post_json("/api/v1/resources", &steward, &school_list(&other)).await;
    expect_error(r, 403, "forbidden").await;
    let viewer = app.token("viewer.taichinh").await;
    let r = app.post_json("/api/v1/resources", &viewer, &school_list(&app.agency_id("000.00.02.H24").await)).await;
    expect_error(r, 403, "forbidden").await;
    let r = client().post(app.url("/api/v1/resources")).json(&school_list(&own)).send().await.unwrap();
    expect_error(r, 401, "unauthenticated").await;
}

#[tokio::test]
async fn descriptions_that_break_the_rules_are_refused_by_field() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let cases = [
        (json!({"personal_data": "basic"}), "sharing_scope:"),
        (json!({"spatial": ["7210"]}), "spatial:"),
        (json!({"title": "x"}), "title:"),
        (json!({"slug": "Có Dấu"}), "slug:"),
        (json!({"publisher_agency_id": "nope"}), "publisher_agency_id:"),
        (json!({"sharing_scope": "public"}), "unknown variant `public`"),
    ];
    for (change, expected) in cases {
        let mut body = school_list(&own);
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let err = expect_error(app.post_json("/api/v1/resources", &steward, &body).await, 422, "invalid_field").await;
        assert!(err["message"].as_str().unwrap().contains(expected), "{err} should mention {expected}");
    }
}

#[tokio::test]
async fn the_lifecycle_runs_draft_published_retired() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let created: Value = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await.json().await.unwrap();
    let slug = created["slug"].as_str().unwrap();
    let status = |to: &'static str| {
        let (url, token) = (app.url(&format!("/api/v1/resources/{slug}/status")), steward.clone());
        async move { client().post(url).bearer_auth(token).json(&json!({"status": to})).send().await.unwrap() }
    };

    let err = expect_error(status("retired").await, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().contains("cannot become retired"), "{err}");
    let published: Value = status("published").await.json().await.unwrap();
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());

    let anonymous: Value = app.get_public(&format!("/api/v1/resources/{slug}")).await;
    assert_eq!(anonymous["title"], "Danh sách trường mầm non", "published open data is public");

    let r = client().delete(app.url(&format!("/api/v1/resources/{slug}"))).bearer_auth(&steward).send().await.unwrap();
    expect_error(r, 409, "conflict").await;
    assert_eq!(status("retired").await.status(), 200);

    let mut changed = school_list(&own);
    changed["title"] = json!("Danh sách trường mầm non năm học 2025-2026");
    let r = client()
        .put(app.url(&format!("/api/v1/resources/{slug}")))
        .bearer_auth(&steward)
        .json(&changed)
        .send()
        .await
        .unwrap();
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["slug"], slug, "the slug stays when the title changes");
    assert_eq!(updated["title"], "Danh sách trường mầm non năm học 2025-2026");

    let other_steward = app.token("steward.xa").await;
    let r = client()
        .put(app.url(&format!("/api/v1/resources/{slug}")))
        .bearer_auth(&other_steward)
        .json(&changed)
        .send()
        .await
        .unwrap();
    expect_error(r, 403, "forbidden").await;

    let draft: Value = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await.json().await.unwrap();
    let r = client()
        .delete(app.url(&format!("/api/v1/resources/{}", draft["id"].as_str().unwrap())))
        .bearer_auth(&steward)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn each_caller_lists_exactly_what_it_may_read() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    // Add a private draft in a commune, next to the demo's open and shared resources.
    let commune = app.kho.store.agency_by_admin_unit("07210").await.unwrap().unwrap().id;
    let mut private = school_list(&commune);
    private["sharing_scope"] = json!("private");
    assert_eq!(app.post_json("/api/v1/resources", &admin, &private).await.status(), 201);

    let all: Value = app.get_json("/api/v1/resources?limit=500", &admin).await;
    let all_slugs: Vec<String> =
        all["items"].as_array().unwrap().iter().map(|r| r["slug"].as_str().unwrap().to_string()).collect();
    assert_eq!(all_slugs.len(), 5);

    for user in [None, Some("steward.khcn"), Some("viewer.taichinh"), Some("auditor"), Some("steward.xa")] {
        let token = match user {
            Some(u) => Some(app.token(u).await),
            None => None,
        };
        let get = |path: String| {
            let mut req = client().get(app.url(&path));
            if let Some(t) = &token {
                req = req.bearer_auth(t);
            }
            req.send()
        };
        let listed: Value = get("/api/v1/resources?limit=500".into()).await.unwrap().json().await.unwrap();
        let mut listed: Vec<String> = listed["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{user:?}: {listed}"))
            .iter()
            .map(|r| r["slug"].as_str().unwrap().to_string())
            .collect();
        listed.sort();
        let mut readable = Vec::new();
        for slug in &all_slugs {
            if get(format!("/api/v1/resources/{slug}")).await.unwrap().status() == 200 {
                readable.push(slug.clone());
            }
        }
        readable.sort();
        assert_eq!(listed, readable, "{user:?}: the listing and single reads disagree");
        match user {
            None | Some("auditor") => assert_eq!(listed.len(), 3, "{user:?} sees the published open data only"),
            Some("steward.xa") => assert_eq!(listed.len(), 5, "the commune steward also sees its private draft"),
            _ => assert_eq!(listed.len(), 4, "{user:?} sees open and shared data"),
        }
    }
}

#[tokio::test]
async fn listings_filter_by_text_status_and_agency() {
    let app = spawn_app().await;
    let anyone = |q: &str| {
        let url = app.url(&format!("/api/v1/resources?{q}"));
        async move { client().get(url).send().await.unwrap().json::<Value>().await.unwrap()["total"].as_i64().unwrap() }
    };
    assert_eq!(anyone("q=gia%20dat").await, 1);
    assert_eq!(anyone("q=GI%C3%81%20%C4%90%E1%BA%A4T").await, 1, "GIÁ ĐẤT");
    assert_eq!(anyone("status=published").await, 3);
    let dept = app.agency_id("000.00.04.H24").await;
    assert_eq!(anyone(&format!("agency={dept}")).await, 1);
    let r = client().get(app.url("/api/v1/resources?status=gone")).send().await.unwrap();
    expect_error(r, 422, "invalid_field").await;
}

#[tokio::test]
async fn reading_shared_metadata_is_recorded() {
    let app = spawn_app().await;
    let viewer = app.token("viewer.taichinh").await;
    let shared: Value = app.get_json("/api/v1/resources?scope=shared", &viewer).await;
    let slug = shared["items"][0]["slug"].as_str().unwrap().to_string();
    let r = client()
        .get(app.url(&format!("/api/v1/resources/{slug}")))
        .bearer_auth(&viewer)
        .header("x-request-id", "read-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let auditor = app.token("auditor").await;
    let log: Value = app.get_json("/api/v1/audit?action=resource.read", &auditor).await;
    assert_eq!(log["items"][0]["actor"], "user:viewer.taichinh");
    assert_eq!(log["items"][0]["request_id"], "read-1");
    let r = client().get(app.url(&format!("/api/v1/resources/{slug}"))).send().await.unwrap();
    expect_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn a_table_with_personal_data_cannot_be_published_as_open_data() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let created: Value = app.post_json("/api/v1/resources", &steward, &school_list(&own)).await.json().await.unwrap();
    let slug = created["slug"].as_str().unwrap();
    let load = |csv: &'static str| {
        let (url, token) = (app.url(&format!("/api/v1/resources/{slug}/tables/main/versions")), steward.clone());
        async move {
            let r = client().post(url).bearer_auth(token).header("content-type", "text/csv").body(csv).send().await;
            assert_eq!(r.unwrap().status(), 201);
        }
    };
    let publish = || {
        let (url, token) = (app.url(&format!("/api/v1/resources/{slug}/status")), steward.clone());
        async move { client().post(url).bearer_auth(token).json(&json!({"status": "published"})).send().await.unwrap() }
    };
    load(
        "Tên trường,Hiệu trưởng,Ngày sinh,Số CCCD,Điện thoại\n\
          Mầm non Hoa Sen,Nguyễn Thị An,01/02/1975,027175001234,0912345678\n\
          Mầm non Sao Mai,Trần Văn Bình,03/04/1980,027080004321,0987654321\n\
          Mầm non Kinh Bắc,Lê Thị Cúc,05/06/1978,027178009999,0222.3856.789\n",
    )
    .await;
    let err = expect_error(publish().await, 422, "invalid_field").await;
    let message = err["message"].as_str().unwrap();
    assert!(message.starts_with("sharing_scope: open data must not hold personal data"), "{message}");
    assert!(message.contains("main.so_cccd (citizen ID numbers"), "{message}");
    assert!(message.contains("main.dien_thoai (phone numbers"), "{message}");
    assert!(message.contains("main.hieu_truong (full names next to birth dates"), "{message}");
    let still: Value = app.get_json(&format!("/api/v1/resources/{slug}"), &steward).await;
    assert_eq!(still["status"], "draft");

    // Without those columns it publishes.
    load("Tên trường,Số trẻ\nMầm non Hoa Sen,120\nMầm non Sao Mai,95\nMầm non Kinh Bắc,140\n").await;
    assert_eq!(publish().await.status(), 200);
}
