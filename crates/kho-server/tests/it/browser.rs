//! The login page in real headless Chromium: a wrong password is refused in
//! Vietnamese, the right one lands on the management page, the English switch
//! works, and the agency tree shows the demo province.

use crate::webdriver::Browser;
use crate::{spawn_app, PASSWORD};

#[tokio::test]
async fn an_administrator_logs_in_through_the_browser() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };

    browser.goto(&app.url("/admin")).await;
    assert!(browser.url().await.contains("/login?next=/admin"), "anonymous visitors are sent to the login page");
    assert!(browser.source().await.contains("lang=\"vi\""));

    browser.type_into("#username", "admin").await;
    browser.type_into("#password", "sai mật khẩu").await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.text("[role=alert]").await, "Sai tên đăng nhập hoặc mật khẩu.");

    browser.type_into("#username", "admin").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with("/admin")).await;
    assert_eq!(browser.text("h1").await, "Quản trị");

    browser.click("a[lang=en]").await;
    browser.wait_for("html[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Management");

    browser.goto(&app.url("/admin/agencies")).await;
    browser.wait_for_url(|u| u.ends_with("/admin/agencies")).await;
    browser.wait_for(".tree").await;
    let page = browser.source().await;
    assert!(page.contains("UBND tỉnh Bắc Ninh") && page.contains("Sở Khoa học và Công nghệ"));

    browser.click("header form button").await;
    browser.wait_for_url(|u| !u.contains("/admin")).await;
    browser.goto(&app.url("/admin")).await;
    assert!(browser.url().await.contains("/login"), "logged out");
}

#[tokio::test]
async fn a_steward_registers_and_publishes_a_resource_through_the_browser() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    browser.goto(&app.url("/login?next=/admin/resources/new")).await;
    browser.type_into("#username", "steward.khcn").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with("/admin/resources/new")).await;

    // Open data holding personal data is refused, and the form keeps what was typed.
    browser.type_into("#title", "Danh sách doanh nghiệp khoa học và công nghệ").await;
    browser.type_into("#keywords", "doanh nghiệp, khoa học").await;
    browser.click("#personal_data option[value=basic]").await;
    browser.click("form.card > button[type=submit]").await;
    assert!(browser.text("[role=alert]").await.contains("open data must not hold personal data"));
    browser.click("#personal_data option[value=none]").await;
    browser.click("form.card > button[type=submit]").await;

    browser.wait_for_url(|u| u.ends_with("/admin/resources/danh-sach-doanh-nghiep-khoa-hoc-va-cong-nghe")).await;
    assert_eq!(browser.text("h1").await, "Danh sách doanh nghiệp khoa học và công nghệ");
    assert!(browser.source().await.contains("Bản nháp"));
    browser.click("form[action$='/status'] button").await;
    // Once published, the page offers to retire the resource.
    browser.wait_for("input[name=status][value=retired]").await;
    assert!(browser.source().await.contains("Đã công bố"));

    let listed = app.kho.store.resource("danh-sach-doanh-nghiep-khoa-hoc-va-cong-nghe").await.unwrap().unwrap();
    assert_eq!(listed.status, kho_catalog::Status::Published);
    assert_eq!(listed.draft.keywords, ["doanh nghiệp", "khoa học"]);
}
