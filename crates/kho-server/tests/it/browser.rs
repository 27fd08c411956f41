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
    assert!(browser.url().await.ends_with("/admin"), "after login: {}", browser.url().await);
    assert_eq!(browser.text("h1").await, "Quản trị");

    browser.click("a[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Management");

    browser.goto(&app.url("/admin/agencies")).await;
    let page = browser.source().await;
    assert!(page.contains("UBND tỉnh Bắc Ninh") && page.contains("Sở Khoa học và Công nghệ"));

    browser.click("header form button").await;
    browser.goto(&app.url("/admin")).await;
    assert!(browser.url().await.contains("/login"), "logged out");
}
