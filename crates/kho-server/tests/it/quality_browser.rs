//! Nghiệm thu — the data quality acceptance point, in real headless Chromium against
//! the real server: a department's steward registers a resource, uploads a messy list
//! of household businesses (names in TCVN3, phones in every writing including the old
//! 11-digit mobiles, addresses in the legacy units, a duplicated row), profiles it,
//! saves the suggested checks as the table's rules, runs them, cleans names, phones and
//! addresses into a new version and sees the clean and accurate scores rise; the
//! agency's report lists it. Broken rules come back with their line and the text as
//! typed; the open dataset's page shows its scores; a steward of another agency is
//! refused.

use crate::webdriver::{log_in, Browser};
use crate::{client, spawn_app, TestApp};
use serde_json::{json, Value};

const SLUG: &str = "ho-kinh-doanh-ca-the";
const AGENCY: &str = "000.00.01.H24";

/// Names (họ tên) whose capitals exist in TCVN3, so every one can be written in it.
const NAMES: [&str; 10] = [
    "Nguyễn Thị Thu Hà",
    "Trần Văn Bình",
    "Lê Thị Hồng",
    "Phạm Minh Tuấn",
    "Hoàng Văn Nam",
    "Đặng Thị Lan",
    "Vũ Đức Thắng",
    "Bùi Thị Mai",
    "Ngô Quang Huy",
    "Đỗ Thị Ngọc",
];

/// A household business list as a commune office keeps it: `;`-separated with
/// Vietnamese headers, two rows in three with the name in TCVN3, the rest in capitals
/// with doubled spaces, phones written five ways (one in five an old 01xx mobile),
/// addresses in the legacy units, and the fifth row twice.
fn messy_csv() -> String {
    let mut rows = vec!["Mã hộ;Họ tên;Số điện thoại;Địa chỉ".to_string()];
    for i in 0..30u32 {
        let name = NAMES[i as usize % NAMES.len()];
        let name = if i % 3 == 2 {
            name.to_uppercase().replacen(' ', "  ", 1)
        } else {
            kho_standard::to_tcvn3(name).unwrap_or_else(|| panic!("{name} has a TCVN3 form"))
        };
        let n = 100 + i;
        let phone = match i % 5 {
            0 => format!("0912 345 {n}"),
            1 => format!("+84 912 345 {n}"),
            2 => format!("01682345{n}"),
            3 => format!("0912.345.{n}"),
            _ => format!("+84912345{n}"),
        };
        let address = match i % 3 {
            0 => format!("{n} Lê Lợi, P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang"),
            1 => format!("{n} Lê Lợi, Phường Tân Mỹ, Tỉnh Bắc Ninh"),
            _ => format!("{n} Lê Lợi, Phường Đa Mai, Tỉnh Bắc Ninh"),
        };
        rows.push(format!("HKD{n};{name};{phone};{address}"));
    }
    rows.push(rows[5].clone());
    rows.join("\n") + "\n"
}

/// The six scores and the overall one of a scores table, as fractions.
async fn scores(browser: &Browser, css: &str) -> Vec<Option<f64>> {
    let cells = browser.texts(&format!("{css} td")).await;
    cells.iter().map(|c| c.trim_end_matches('%').parse::<f64>().ok().map(|p| p / 100.0)).collect()
}

fn share(text: &str) -> f64 {
    text.trim_end_matches('%').parse::<f64>().unwrap_or_else(|_| panic!("{text:?} is not a percent")) / 100.0
}

#[tokio::test]
async fn a_steward_profiles_checks_and_cleans_a_messy_upload_and_the_scores_rise() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("ho_kinh_doanh.csv");
    std::fs::write(&csv, messy_csv()).unwrap();

    // 1. The steward registers the resource and uploads the file through the forms.
    log_in(&browser, &app, "steward.khcn").await;
    browser.goto(&app.url("/admin/resources/new")).await;
    browser.type_into("#title", "Hộ kinh doanh cá thể").await;
    browser.type_into("#slug", SLUG).await;
    browser.click("form[action='/admin/resources/new'] > button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/resources/{SLUG}"))).await;
    browser.type_into("#file", csv.to_str().unwrap()).await;
    browser.click("form[action$='/load'] > button[type=submit]").await;
    browser.wait_for_url(|u| u.contains("#data-h")).await;
    // The load ran the checks: the resource page summarises the scores.
    browser.wait_for("#quality-summary").await;

    // 2. The quality page: the six criteria by their Vietnamese names, the load's run.
    browser.click("#quality-link").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/resources/{SLUG}/quality"))).await;
    let headings = browser.texts("#scores-main th").await;
    assert_eq!(headings, ["Đúng", "Đủ", "Sạch", "Sống", "Thống nhất", "Dùng chung", "Chung"]);
    assert!(browser.text("#table-main .run-info").await.contains("sau khi nạp"));
    assert!(browser.text("main").await.contains("Cách tính điểm"));

    // 3. The profile: the names are seen as TCVN3; the suggested checks name the
    // standard forms of names, phones and addresses, and the phone format.
    browser.click("#table-main form.profile button").await;
    browser.wait_for_url(|u| u.contains("profiled=main")).await;
    browser.wait_for("#profile-main").await;
    assert_eq!(browser.text("#profile-main tr[data-column=ho_ten] td.nulls").await, "0");
    assert!(browser.text("#profile-main tr[data-column=ho_ten] td.legacy").await.starts_with("TCVN3"));
    let suggested = browser.text("#suggested-main").await;
    for check in ["column: ho_ten", "kind: name", "kind: phone", "kind: address", "format: phone"] {
        assert!(suggested.contains(check), "{check} in {suggested}");
    }

    // 4. Save the suggestions as the rules; the editor holds them.
    browser.click("#table-main form.use-suggested button").await;
    browser.wait_for_url(|u| u.contains("saved=main")).await;
    assert!(browser.property("#rules-main", "value").await.contains("kind: name"));
    let stored = app.kho.store.quality_rules(&resource_id(&app).await).await.unwrap();
    assert!(stored[0].rules.contains("standard"), "{stored:?}");

    // 5. Run the checks: the standard forms fail, with failing values as samples.
    browser.click("#table-main form.run button").await;
    browser.wait_for_url(|u| u.contains("ran=main")).await;
    let failing = browser.texts("#results-main tr.fail th").await;
    for check in ["standard(ho_ten, name)", "standard(so_dien_thoai, phone)", "format(so_dien_thoai, phone)"] {
        assert!(failing.iter().any(|f| f == check), "{check} fails: {failing:?}");
    }
    assert_eq!(browser.count("#results-main tr[data-check='standard(ho_ten, name)'] details.samples").await, 1);
    let before = scores(&browser, "#scores-main").await;
    let version = browser.text("#table-main .run-info .version").await;
    assert_eq!(version, "1");
    assert!(browser.count("#history-main circle").await >= 2, "two runs drawn");

    // 6. Clean names, phones and addresses into version 2.
    browser.click("#clean-main-ho_ten option[value=name]").await;
    browser.click("#clean-main-so_dien_thoai option[value=phone]").await;
    browser.click("#clean-main-dia_chi option[value=address]").await;
    browser.click("#clean-main-ma_ho option[value='']").await;
    browser.click("#clean-main > button[type=submit]").await;
    browser.wait_for("#cleaned").await;
    assert_eq!(browser.text("#from-version").await, "1");
    assert_eq!(browser.text("#to-version").await, "2");
    let fixed = |column: &'static str| {
        let browser = &browser;
        async move { browser.text(&format!("#changes tr[data-column={column}] td.fixed")).await.parse::<u64>().unwrap() }
    };
    assert_eq!(fixed("ho_ten").await, 31, "every name was in TCVN3 or in capitals");
    assert_eq!(fixed("so_dien_thoai").await, 24, "all but the seven in E.164 already");
    assert!(fixed("dia_chi").await >= 20, "the legacy units");
    let examples = browser.text("#changes tr[data-column=ho_ten] ul.examples").await;
    assert!(examples.contains("→ Nguyễn Thị Thu Hà"), "{examples}");
    let phones = browser.text("#changes tr[data-column=so_dien_thoai] ul.examples").await;
    assert!(phones.contains("0168234510") && phones.contains("→ +8438234510"), "{phones}");
    for criterion in ["clean", "accurate"] {
        let row = format!("#before-after tr[data-criterion={criterion}]");
        let (b, a) = (
            share(&browser.text(&format!("{row} td.before")).await),
            share(&browser.text(&format!("{row} td.after")).await),
        );
        assert!(a > b, "{criterion}: {b} → {a}");
    }
    assert_eq!(share(&browser.text("#before-after tr[data-criterion=accurate] td.after").await), 1.0);
    assert_eq!(before[2], Some(share(&browser.text("#before-after tr[data-criterion=clean] td.before").await)));

    // 7. Back on the quality page, the newest run is version 2's, made by the cleaning.
    browser.click("#back").await;
    browser.wait_for_url(|u| u.contains("/quality#table-main")).await;
    assert_eq!(browser.text("#table-main .run-info .version").await, "2");
    assert!(browser.text("#table-main .run-info").await.contains("sau khi làm sạch"));
    let after = scores(&browser, "#scores-main").await;
    assert!(after[2] > before[2] && after[0] > before[0], "{before:?} → {after:?}");

    // 8. The agency's report lists the resource; the printable page is the standalone one.
    browser.click("#report-link").await;
    browser.wait_for_url(|u| u.contains("/admin/quality/report?agency=")).await;
    let report = browser.text("#report").await;
    assert!(report.contains("Sở Khoa học và Công nghệ") && report.contains(AGENCY), "{report}");
    assert!(report.contains("Hộ kinh doanh cá thể") && report.contains(SLUG), "{report}");
    browser.click("#print-link").await;
    browser.wait_for_url(|u| u.contains("print=1")).await;
    assert_eq!(browser.text("h1").await, "Báo cáo kiểm tra chất lượng dữ liệu");
}

async fn resource_id(app: &TestApp) -> String {
    app.kho.store.resource(SLUG).await.unwrap().expect("the resource").id
}

/// A resource of the steward's agency with a loaded table, made through the API.
async fn resource_with_table(app: &TestApp, token: &str, scope: &str, csv: &str) {
    let agency = app.agency_id(AGENCY).await;
    let body = json!({
        "title": "Danh sách trường học",
        "slug": SLUG,
        "description": "Các trường trên địa bàn",
        "publisher_agency_id": agency,
        "sharing_scope": scope,
        "update_frequency": "annual",
    });
    let r = app.post_json("/api/v1/resources", token, &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    app.load_csv(token, SLUG, "main", csv).await;
}

const SCHOOLS: &str =
    "Mã trường;Tên trường;Số học sinh\n01;Trường Mầm non Hoa Sen;250\n02;Trường Tiểu học Kinh Bắc;980\n";

#[tokio::test]
async fn broken_rules_come_back_with_their_line_and_the_text_as_typed() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    let token = app.token("steward.khcn").await;
    resource_with_table(&app, &token, "shared", SCHOOLS).await;
    log_in(&browser, &app, "steward.khcn").await;
    browser.goto(&app.url(&format!("/admin/resources/{SLUG}/quality"))).await;

    // A misspelt check on line 3: the error names the line and column, the text stays.
    let broken = "checks:\n  - not_null: ten_truong\n  - uniqe: ma_truong\n";
    browser.type_into("#rules-main", broken).await;
    browser.click("#rules-form-main > button[type=submit]").await;
    browser.wait_for("#rules-error-main").await;
    let error = browser.text("#rules-error-main").await;
    assert!(error.starts_with("Chưa lưu được quy tắc:") && error.contains("line 3, column 5"), "{error}");
    assert_eq!(browser.property("#rules-main", "value").await, broken, "what was typed is kept");

    // A column the table lacks: the check's place and the table's columns are named.
    browser.goto(&app.url(&format!("/admin/resources/{SLUG}/quality"))).await;
    let wrong = "checks:\n  - not_null: ten\n";
    browser.type_into("#rules-main", wrong).await;
    browser.click("#rules-form-main > button[type=submit]").await;
    browser.wait_for("#rules-error-main").await;
    let error = browser.text("#rules-error-main").await;
    assert!(error.contains("checks[1]") && error.contains("ten_truong"), "{error}");
    assert_eq!(browser.property("#rules-main", "value").await, wrong);
    assert!(app.kho.store.quality_rules(&resource_id(&app).await).await.unwrap().is_empty(), "nothing was saved");

    // In English, the same page.
    browser.goto(&app.url(&format!("/admin/resources/{SLUG}/quality?lang=en"))).await;
    assert_eq!(browser.texts("#scores-main th").await[0], "Accurate");
    assert_eq!(browser.text("#table-main form.run button").await, "Run the checks");
}

#[tokio::test]
async fn an_open_datasets_page_shows_its_quality_and_other_agencies_are_refused() {
    let app = spawn_app().await;
    let token = app.token("steward.khcn").await;
    resource_with_table(&app, &token, "open", SCHOOLS).await;
    let r = app.post_json(&format!("/api/v1/resources/{SLUG}/status"), &token, &json!({"status": "published"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The public page: the overall score, the six and the newest run's date.
    let page = client().get(app.url(&format!("/dataset/{SLUG}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"quality-overall\"") && page.contains("id=\"quality-date\""), "{page}");
    for name in ["Đúng", "Đủ", "Sạch", "Sống", "Thống nhất", "Dùng chung"] {
        assert!(page.contains(&format!(">{name}</th>")), "{name}");
    }
    // Its JSON, without logging in.
    let public: Value = app.get_public(&format!("/api/v1/resources/{SLUG}/quality")).await;
    assert_eq!(public["tables"][0]["latest"]["version"], 1, "{public}");

    // Another agency's steward reads the page but may not change the rules: a 403 page.
    let (other, csrf) = app.session("steward.xa").await;
    let quality = app.url(&format!("/admin/resources/{SLUG}/quality"));
    let html = other.get(&quality).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("id=\"rules-main\""), "no editor for those who may not change the rules");
    let form = [("csrf_token", csrf.as_str()), ("table", "main"), ("rules", "checks: []")];
    let r = other.post(format!("{quality}/rules")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Không thực hiện được"));
    let form = [("csrf_token", csrf.as_str()), ("table", "main"), ("kind:ten_truong", "name")];
    assert_eq!(other.post(format!("{quality}/clean")).form(&form).send().await.unwrap().status(), 403);
    // The menu offers the report to auditors.
    let (auditor, _) = app.session("auditor").await;
    let admin = auditor.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(admin.contains("href=\"/admin/quality/report\""));
}
