//! `POST /api/v1/query` on the real server: SQL over open data for anyone, over
//! shared data only for members (and audited), writes refused with their own error
//! code, a runaway query cut off by the configured time limit, CSV on request.

use crate::{client, expect_error, spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

const SCHOOLS: &str = "Mã trường,Tên trường,Số học sinh,Xã\n\
    01,Trường Mầm non Hoa Sen,1.250,25108\n\
    02,Trường Tiểu học Kinh Bắc,980,25108\n\
    03,Trường THCS Đa Mai,640,25111\n";
const HOUSEHOLDS: &str = "Mã hộ,Chủ hộ,Xã\nH1,Nguyễn Văn An,25108\n";

async fn query(app: &TestApp, token: Option<&str>, sql: &str) -> reqwest::Response {
    let mut request = client().post(app.url("/api/v1/query")).json(&json!({ "sql": sql }));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn anyone_queries_open_data_and_members_query_shared_data() {
    let app = spawn_app().await;
    app.load_csv(&app.token("admin").await, "danh-sach-co-so-giao-duc", "main", SCHOOLS).await;
    app.load_csv(&app.token("admin").await, "danh-sach-ho-ngheo-ho-can-ngheo", "main", HOUSEHOLDS).await;

    let sql = "SELECT xa, count(*) AS truong, sum(so_hoc_sinh) AS hoc_sinh \
               FROM danh_sach_co_so_giao_duc.main GROUP BY xa ORDER BY xa";
    let r = query(&app, None, sql).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        answer["rows"],
        json!([{"xa": 25108, "truong": 2, "hoc_sinh": 2230}, {"xa": 25111, "truong": 1, "hoc_sinh": 640}])
    );
    assert_eq!(answer["columns"][2], json!({"name": "hoc_sinh", "type": "integer"}));
    assert_eq!((answer["row_count"].as_u64(), answer["truncated"].as_bool()), (Some(2), Some(false)));

    // Shared data (dữ liệu dùng chung) is not for anonymous callers.
    let joined = "SELECT h.chu_ho, t.ten_truong FROM danh_sach_ho_ngheo_ho_can_ngheo.main h \
                  JOIN danh_sach_co_so_giao_duc.main t ON h.xa = t.xa ORDER BY t.ten_truong";
    let err = expect_error(query(&app, None, joined).await, 404, "not_found").await;
    assert!(err["message"].as_str().unwrap().contains("danh_sach_ho_ngheo_ho_can_ngheo.main"), "{err}");
    let viewer = app.token("viewer.taichinh").await;
    let answer: Value = query(&app, Some(&viewer), joined).await.json().await.unwrap();
    assert_eq!(answer["row_count"], 2);
    assert_eq!(answer["rows"][0], json!({"chu_ho": "Nguyễn Văn An", "ten_truong": "Trường Mầm non Hoa Sen"}));
    let audit: Value = app.get_json("/api/v1/audit?action=query.run", &app.token("admin").await).await;
    let entry = &audit["items"][0];
    assert_eq!(entry["actor"], "user:viewer.taichinh");
    let detail: Value = serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["tables"], json!(["danh_sach_ho_ngheo_ho_can_ngheo.main"]));
    assert!(detail["sql"].as_str().unwrap().contains("JOIN danh_sach_co_so_giao_duc.main"));

    // What the caller may query, with the names SQL uses.
    let listed: Value = app.get_public("/api/v1/query/tables").await;
    let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["danh_sach_co_so_giao_duc.main"]);

    let csv = client()
        .post(app.url("/api/v1/query"))
        .header("accept", "text/csv")
        .json(&json!({ "sql": "SELECT ma_truong, so_hoc_sinh FROM danh_sach_co_so_giao_duc.main ORDER BY 1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.text().await.unwrap(), "ma_truong,so_hoc_sinh\n01,1250\n02,980\n03,640\n");
}

#[tokio::test]
async fn writes_files_and_runaway_queries_are_refused_or_stopped() {
    let app = spawn_app_with(|s| s.query_timeout_secs = 1).await;
    app.load_csv(&app.token("admin").await, "danh-sach-co-so-giao-duc", "main", SCHOOLS).await;
    let admin = app.token("admin").await;
    for sql in [
        "DELETE FROM danh_sach_co_so_giao_duc.main",
        "COPY (SELECT * FROM danh_sach_co_so_giao_duc.main) TO '/tmp/kho-copy.csv'",
        "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
    ] {
        let err = expect_error(query(&app, Some(&admin), sql).await, 422, "query_refused").await;
        assert!(err["message"].as_str().unwrap().contains("SQL here only reads"), "{err}");
    }
    let err = expect_error(query(&app, Some(&admin), "SELECT * FROM '/etc/passwd'").await, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().contains("is not a warehouse table"), "{err}");
    let err = expect_error(query(&app, Some(&admin), "SELEC 1").await, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().contains("Line: 1, Column"), "{err}");

    let forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
    let err = expect_error(query(&app, Some(&admin), forever).await, 422, "query_limit").await;
    assert!(err["message"].as_str().unwrap().contains("longer than 1 s"), "{err}");
    // The server still answers.
    let r = query(&app, None, "SELECT count(*) AS n FROM danh_sach_co_so_giao_duc.main").await;
    assert_eq!(r.json::<Value>().await.unwrap()["rows"], json!([{"n": 3}]));
}

#[tokio::test]
async fn the_query_page_runs_sql_and_shows_errors() {
    let app = spawn_app().await;
    app.load_csv(&app.token("admin").await, "danh-sach-co-so-giao-duc", "main", SCHOOLS).await;
    let (session, _) = app.session("viewer.taichinh").await;
    let page = |sql: &str| {
        let url = app.url(&format!("/admin/query?sql={}", urlencode(sql)));
        let session = session.clone();
        async move {
            let r = session.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page("").await;
    assert_eq!(status, 200);
    assert!(html.contains("danh_sach_co_so_giao_duc.main"), "the page lists the tables");
    let (status, html) = page("SELECT ten_truong FROM danh_sach_co_so_giao_duc.main WHERE so_hoc_sinh > 900").await;
    assert_eq!(status, 200);
    assert!(html.contains("Trường Mầm non Hoa Sen") && html.contains("Trường Tiểu học Kinh Bắc"));
    assert!(!html.contains("Trường THCS Đa Mai"));
    let (status, html) = page("DROP TABLE danh_sach_co_so_giao_duc.main").await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\"") && html.contains("DROP is refused"), "{html}");
    let anonymous = client().get(app.url("/admin/query")).send().await.unwrap();
    assert!(anonymous.status().is_redirection());
    assert!(anonymous.headers()["location"].to_str().unwrap().starts_with("/login"), "the page needs a login");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
