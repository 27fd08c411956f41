//! Nghiệm thu — the code-list acceptance point, in real headless Chromium against the
//! real server: tried as a new user would, an operator imports a code list from XLSX,
//! publishes version 2 with one item renamed and one removed, and a lookup as of a
//! date before version 2 still returns the old name.

use crate::webdriver::Browser;
use crate::{client, spawn_app, PASSWORD};
use serde_json::Value;

const SLUG: &str = "linh-vuc-tthc";

/// Lĩnh vực thủ tục hành chính — the fields of administrative procedures, as an office
/// keeps them: two blank rows, then the header with Vietnamese names.
fn workbook(path: &std::path::Path, rows: &[(&str, &str, &str)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Danh mục").unwrap();
    for (c, h) in ["Mã", "Tên", "Tên tiếng Anh"].iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (r, (code, name, en)) in rows.iter().enumerate() {
        ws.write_string(3 + r as u32, 0, *code).unwrap();
        ws.write_string(3 + r as u32, 1, *name).unwrap();
        ws.write_string(3 + r as u32, 2, *en).unwrap();
    }
    wb.save(path).unwrap();
}

async fn names(browser: &Browser, url: &str) -> Vec<String> {
    browser.goto(url).await;
    browser.wait_for("#versions").await;
    browser.texts("#items td.name").await
}

#[tokio::test]
async fn an_operator_imports_from_xlsx_publishes_version_2_and_old_dates_keep_the_old_name() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    let files = tempfile::tempdir().unwrap();

    // 1. Log in, find the code lists in the menu, create one.
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", "steward.khcn").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with("/admin")).await;
    browser.click("nav a[href='/admin/code-lists']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/code-lists")).await;
    assert_eq!(browser.text("h1").await, "Quản lý danh mục");
    browser.type_into("#slug", SLUG).await;
    browser.type_into("#name_vi", "Lĩnh vực thủ tục hành chính").await;
    browser.click("form.card > button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/code-lists/{SLUG}"))).await;

    // 2. Import version 1 from XLSX: a preview with no errors and four new codes; publish it.
    let v1 = files.path().join("linh_vuc_2024.xlsx");
    workbook(
        &v1,
        &[
            ("G01", "Giáo dục và Đào tạo", "Education and training"),
            ("Y01", "Y tế", "Health"),
            ("T01", "Tư pháp", "Justice"),
            ("K01", "Khoa học và Công nghệ", "Science and technology"),
        ],
    );
    browser.type_into("#file", v1.to_str().unwrap()).await;
    browser.click("form[action$='/import'] button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/code-lists/{SLUG}/versions/1"))).await;
    browser.wait_for("#report-ok").await;
    assert_eq!(browser.text("#added").await, "4");
    assert_eq!(browser.text("#status").await, "Bản nháp");
    browser.type_into("#effective_from", "01/01/2024").await;
    browser.click("#publish button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/code-lists/{SLUG}"))).await;
    assert!(browser.text("#versions").await.contains("Đã công bố"));

    // 3. Version 2: Tư pháp renamed, Y tế removed. The preview says so; publish it from 1 July 2025.
    let v2 = files.path().join("linh_vuc_2025.xlsx");
    workbook(
        &v2,
        &[
            ("G01", "Giáo dục và Đào tạo", "Education and training"),
            ("T01", "Tư pháp và Hộ tịch", "Justice and civil status"),
            ("K01", "Khoa học và Công nghệ", "Science and technology"),
        ],
    );
    browser.type_into("#file", v2.to_str().unwrap()).await;
    browser.click("form[action$='/import'] button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/code-lists/{SLUG}/versions/2"))).await;
    browser.wait_for("#report-ok").await;
    assert_eq!(
        [browser.text("#added").await, browser.text("#removed").await, browser.text("#renamed").await],
        ["0", "1", "1"]
    );
    assert!(browser.text("#diff").await.contains("T01: Tư pháp → Tư pháp và Hộ tịch"));
    browser.type_into("#effective_from", "01/07/2025").await;
    browser.click("#publish button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/code-lists/{SLUG}"))).await;

    // 4. The public page, as of a date before version 2: the old name, and Y tế still there.
    let before = names(&browser, &app.url(&format!("/refdata/{SLUG}?as_of=2025-03-01"))).await;
    assert!(before.iter().any(|n| n.starts_with("Tư pháp") && !n.contains("Hộ tịch")), "{before:?}");
    assert!(before.iter().any(|n| n.starts_with("Y tế")), "{before:?}");
    let after = names(&browser, &app.url(&format!("/refdata/{SLUG}?as_of=2025-08-01"))).await;
    assert!(after.iter().any(|n| n.starts_with("Tư pháp và Hộ tịch")), "{after:?}");
    assert!(!after.iter().any(|n| n.starts_with("Y tế")), "{after:?}");
    assert_eq!(browser.text("#versions").await.matches("Đã công bố").count(), 2);

    // 5. The lookup the other capabilities make, without logging in.
    let lookup = |date: &'static str| {
        let url = app.url(&format!("/api/v1/refdata/code-lists/{SLUG}/items/T01?as_of={date}"));
        async move { client().get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let old = lookup("2025-06-30").await;
    assert_eq!((old["item"]["name_vi"].as_str(), old["version"].as_i64()), (Some("Tư pháp"), Some(1)), "{old}");
    assert_eq!(old["effective_until"], "2025-06-30");
    assert_eq!(lookup("2025-07-01").await["item"]["name_vi"], "Tư pháp và Hộ tịch");
    let gone = client()
        .get(app.url(&format!("/api/v1/refdata/code-lists/{SLUG}/items/Y01?as_of=2025-07-01")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}
