//! Profiling and cleaning as a steward meets them: a messy spreadsheet (names in TCVN3,
//! phones written every way including old 11-digit mobiles, addresses in units merged
//! in 2025, a row entered twice) is loaded, profiled with its patterns and suggested
//! checks, the suggestions are saved as the table's rules, and the cleaning step writes
//! a new version with a report of what changed — the value it cannot fix kept — whose
//! scores are higher. A cleaning that names an unknown column changes nothing.

use crate::{expect_error, spawn_app, TestApp};
use serde_json::{json, Value};

/// The households, each row (ma_ho, name, phone, address) before cleaning.
fn messy_csv() -> String {
    let tcvn3 = |s: &str| kho_standard::to_tcvn3(s).expect("TCVN3 writes Vietnamese");
    let rows = [
        ("001", tcvn3("Nguyễn Văn An"), "0912 345 678", "123 Lê Lợi, P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang"),
        ("002", tcvn3("Trần Thị Bình"), "0168 123 4567", "Phường Trúc Bạch, Quận Ba Đình, Hà Nội"),
        ("003", "LÊ VĂN CƯỜNG".to_string(), "+84987654321", "45 Nguyễn Văn Cừ, Phường Đa Mai, Tỉnh Bắc Ninh"),
        ("004", "Phạm Thị Dung".to_string(), "0987.654.321", "Thôn Không Tên"),
        ("005", tcvn3("Hoàng Văn Em"), "01234567890", "P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang"),
        ("006", "Vũ Thị Giang".to_string(), "12345", "Phường Đa Mai, Tỉnh Bắc Ninh"),
        ("007", tcvn3("Đặng Văn Hùng"), "(0912) 111 222", "Phường Trúc Bạch, Quận Ba Đình, Hà Nội"),
        ("008", "Bùi Thị Lan".to_string(), "0913 222 333", "Phường Đa Mai, Tỉnh Bắc Ninh"),
    ];
    let mut csv = String::from("Mã hộ,Họ tên,Số điện thoại,Địa chỉ\n");
    for (code, name, phone, address) in rows.iter().chain([&rows[1]]) {
        csv.push_str(&format!("{code},{name},{phone},\"{address}\"\n"));
    }
    csv
}

/// A steward of the Department of Science and Technology signed in through the API
/// (cookie and CSRF token), as the web UI is.
struct Steward {
    client: reqwest::Client,
    csrf: String,
}

impl Steward {
    async fn sign_in(app: &TestApp) -> Self {
        let (client, csrf) = app.session("steward.khcn").await;
        Self { client, csrf }
    }

    async fn send(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, app.url(path)).header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    async fn ok(&self, app: &TestApp, method: reqwest::Method, path: &str, body: Option<&Value>, status: u16) -> Value {
        let r = self.send(app, method, path, body).await;
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

fn column<'a>(profile: &'a Value, name: &str) -> &'a Value {
    profile["profile"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name} in {profile}"))
}

fn patterns(column: &Value) -> Vec<String> {
    column["patterns"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap().to_string()).collect()
}

fn score(run: &Value, criterion: &str) -> f64 {
    run[criterion].as_f64().unwrap_or_else(|| panic!("no {criterion} score in {run}"))
}

#[tokio::test]
async fn a_steward_profiles_a_messy_table_cleans_it_and_the_scores_go_up() {
    use reqwest::Method;
    let app = spawn_app().await;
    let steward = Steward::sign_in(&app).await;
    let agency = app.agency_id("000.00.01.H24").await;
    let draft = json!({
        "title": "Danh sách hộ gia đình",
        "description": "Hộ gia đình trên địa bàn, kèm số điện thoại liên hệ",
        "keywords": ["hộ gia đình"],
        "publisher_agency_id": agency,
        "sharing_scope": "shared",
        "spatial": ["24"],
        "update_frequency": "annual",
    });
    let created = steward.ok(&app, Method::POST, "/api/v1/resources", Some(&draft), 201).await;
    let slug = created["slug"].as_str().unwrap().to_string();
    let r = steward
        .client
        .post(app.url(&format!("/api/v1/resources/{slug}/tables/main/versions?filename=ho-gia-dinh.csv")))
        .header("x-csrf-token", &steward.csrf)
        .header("content-type", "text/csv")
        .body(messy_csv())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let base = format!("/api/v1/resources/{slug}/tables/main/quality");

    // The endpoints are documented.
    let doc = app.get_public("/api/v1/openapi.json").await;
    let paths = &doc["paths"];
    assert!(paths["/api/v1/resources/{key}/tables/{table}/quality/profile"]["get"].is_object(), "{paths}");
    assert!(paths["/api/v1/resources/{key}/tables/{table}/quality/profile"]["post"].is_object());
    assert!(paths["/api/v1/resources/{key}/tables/{table}/quality/clean"]["post"].is_object());
    assert!(doc["components"]["schemas"]["CleaningOutcome"].is_object());

    // No profile yet.
    expect_error(steward.send(&app, Method::GET, &format!("{base}/profile"), None).await, 404, "not_found").await;

    // The profile: counts, pattern classes, the legacy encoding, suggested checks.
    let profile = steward.ok(&app, Method::POST, &format!("{base}/profile"), None, 201).await;
    assert_eq!((profile["profile"]["version"].as_i64(), profile["profile"]["rows"].as_u64()), (Some(1), Some(9)));
    let code = column(&profile, "ma_ho");
    assert_eq!(
        (code["kind"].as_str(), code["nulls"].as_u64(), code["distinct"].as_u64()),
        (Some("text"), Some(0), Some(8))
    );
    assert_eq!(code["top_values"][0], json!(["002", 2]), "the row entered twice");
    assert_eq!(patterns(code), ["NNN"]);
    let phone = column(&profile, "so_dien_thoai");
    let phone_patterns = patterns(phone);
    for p in ["NNNN NNN NNN", "NNNN NNN NNNN", "+NNNNNNNNNNN", "NNNN.NNN.NNN", "NNNNNNNNNNN", "NNNNN"] {
        assert!(phone_patterns.contains(&p.to_string()), "{p} in {phone_patterns:?}");
    }
    let name = column(&profile, "ho_ten");
    assert_eq!(name["legacy_encoding"], "TCVN3");
    assert_eq!(name["legacy_values"], 5, "four TCVN3 names, one twice");
    assert_eq!((name["min_length"].is_u64(), name["max_length"].is_u64()), (true, true));
    let rules = profile["suggested_rules"].as_str().unwrap().to_string();
    for expected in [
        "format:\n    column: so_dien_thoai\n    format: phone",
        "standard:\n    column: so_dien_thoai\n    kind: phone",
        "standard:\n    column: ho_ten\n    kind: name",
        "standard:\n    column: dia_chi\n    kind: address",
        "not_null: ma_ho",
    ] {
        assert!(rules.contains(expected), "{expected:?} in\n{rules}");
    }
    // The kept profile reads back.
    let kept = steward.ok(&app, Method::GET, &format!("{base}/profile?version=1"), None, 200).await;
    assert_eq!(kept["profile"], profile["profile"]);
    assert_eq!(kept["suggested_rules"], profile["suggested_rules"]);

    // The suggestions become the table's rules.
    steward.ok(&app, Method::PUT, &format!("{base}/rules"), Some(&json!({ "rules": rules })), 200).await;

    // A cleaning naming a column the table lacks, or a kind that does not exist, is
    // refused and changes nothing.
    let bad = json!({"transforms": {"ho_ten": "name", "email": "text"}});
    let err = expect_error(
        steward.send(&app, Method::POST, &format!("{base}/clean"), Some(&bad)).await,
        422,
        "invalid_field",
    )
    .await;
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("no column \"email\"") && message.contains("ma_ho, ho_ten, so_dien_thoai, dia_chi"),
        "{err}"
    );
    let bad = json!({"transforms": {"ho_ten": "colour"}});
    let err = expect_error(
        steward.send(&app, Method::POST, &format!("{base}/clean"), Some(&bad)).await,
        422,
        "invalid_field",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("citizen-id"), "{err}");
    let versions =
        steward.ok(&app, Method::GET, &format!("/api/v1/resources/{slug}/tables/main/versions"), None, 200).await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1, "still one version");

    // Another agency's steward may not clean it.
    let other = app.token("steward.xa").await;
    let transforms = json!({"transforms": {"ho_ten": "name", "so_dien_thoai": "phone", "dia_chi": "address"}});
    let r = app.post_json(&format!("{base}/clean"), &other, &transforms).await;
    assert!([403, 404].contains(&r.status().as_u16()), "{}", r.status());

    // The cleaning step, of the version the steward looked at.
    let mut transforms = transforms;
    transforms["version"] = json!(1);
    let outcome = steward.ok(&app, Method::POST, &format!("{base}/clean"), Some(&transforms), 201).await;
    assert_eq!((outcome["from_version"].as_i64(), outcome["version"].as_i64()), (Some(1), Some(2)));
    let changes = &outcome["changes"];
    assert_eq!((changes["rows"].as_u64(), changes["to_version"].as_i64()), (Some(9), Some(2)));
    let counts = |column: &str| {
        let c = changes["columns"].as_array().unwrap().iter().find(|c| c["column"] == column).unwrap();
        (
            c["values"].as_u64().unwrap(),
            c["unchanged"].as_u64().unwrap(),
            c["fixed"].as_u64().unwrap(),
            c["invalid"].as_u64().unwrap(),
        )
    };
    // Names: four in TCVN3 (one twice) and one in capitals are fixed.
    assert_eq!(counts("ho_ten"), (9, 3, 6, 0));
    // Phones: all but the E.164 one are rewritten; 12345 cannot be a phone number.
    assert_eq!(counts("so_dien_thoai"), (9, 1, 7, 1));
    // Addresses: legacy units converted (one twice); the unknown hamlet is kept.
    assert_eq!(counts("dia_chi"), (9, 3, 5, 1));
    // Household 006 has a standard name and address and an invalid phone: unchanged.
    assert_eq!(changes["rows_changed"], 8);
    let phone_examples =
        &changes["columns"].as_array().unwrap().iter().find(|c| c["column"] == "so_dien_thoai").unwrap()["examples"];
    assert!(phone_examples.as_array().unwrap().contains(&json!(["0168 123 4567", "+84381234567"])), "{phone_examples}");

    let rows: Value =
        steward.ok(&app, Method::GET, &format!("/api/v1/resources/{slug}/tables/main/rows?limit=20"), None, 200).await;
    let row = |code: &str| rows["items"].as_array().unwrap().iter().find(|r| r["ma_ho"] == code).unwrap().clone();
    assert_eq!(row("001")["ho_ten"], "Nguyễn Văn An");
    assert_eq!(row("002")["so_dien_thoai"], "+84381234567");
    assert_eq!(row("002")["dia_chi"], "Phường Ba Đình, Thành phố Hà Nội");
    assert_eq!(row("001")["dia_chi"], "123 Lê Lợi, Phường Đa Mai, Tỉnh Bắc Ninh");
    assert_eq!(row("003")["ho_ten"], "Lê Văn Cường");
    assert_eq!(row("006")["so_dien_thoai"], "12345", "the invalid value is kept");
    assert_eq!(row("004")["dia_chi"], "Thôn Không Tên", "the invalid value is kept");
    let v1: Value = steward
        .ok(&app, Method::GET, &format!("/api/v1/resources/{slug}/tables/main/rows?version=1&limit=1"), None, 200)
        .await;
    assert_ne!(v1["items"][0]["ho_ten"], "Nguyễn Văn An", "version 1 is as it was loaded");

    // The scores: the version before against the cleaning's run on version 2.
    let (before, after) = (&outcome["before"], &outcome["run"]["scores"]);
    assert_eq!(outcome["run"]["trigger"], "cleaning");
    assert_eq!(outcome["run"]["version"], 2);
    assert!(score(after, "clean") > score(before, "clean"), "clean: {before} → {after}");
    assert!(score(after, "accurate") > score(before, "accurate"), "accurate: {before} → {after}");
    assert!(score(after, "overall") > score(before, "overall"), "overall: {before} → {after}");
    let runs = steward.ok(&app, Method::GET, &format!("{base}/runs"), None, 200).await;
    assert_eq!(runs["items"][0]["trigger"], "cleaning");

    // The cleaning is in the audit log with its counts.
    let audit: Value = app.get_json("/api/v1/audit?action=table.clean", &app.token("auditor").await).await;
    let entries = audit["items"].as_array().unwrap();
    let done = entries.iter().find(|e| e["outcome"] == "success").unwrap_or_else(|| panic!("{audit}"));
    let detail: Value = serde_json::from_str(done["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["version"], 2);
    assert_eq!(
        detail["columns"][0],
        json!({"column": "dia_chi", "kind": "address", "values": 9, "fixed": 5, "invalid": 1})
    );

    // The same request sent again is refused: version 1 is no longer the newest.
    let err = expect_error(
        steward.send(&app, Method::POST, &format!("{base}/clean"), Some(&transforms)).await,
        409,
        "conflict",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("is at version 2, not 1"), "{err}");

    // A cleaning that fails leaves the newest version as it is.
    let bad = json!({"transforms": {"so_dien_thoai": "phone", "khong_co": "name"}});
    expect_error(steward.send(&app, Method::POST, &format!("{base}/clean"), Some(&bad)).await, 422, "invalid_field")
        .await;
    let versions =
        steward.ok(&app, Method::GET, &format!("/api/v1/resources/{slug}/tables/main/versions"), None, 200).await;
    assert_eq!(versions["items"][0]["version"], 2, "the newest version is still 2");
    assert_eq!(versions["items"].as_array().unwrap().len(), 2);
}
