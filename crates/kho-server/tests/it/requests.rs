//! Requests and feedback from the public: a citizen asks an agency for a dataset and
//! comments on an open one without logging in; the agency's steward sees only what
//! was sent to their agency and answers it; answered feedback shows on the dataset's
//! page; shared data takes no public feedback; everything is audited.

use crate::{client, spawn_app, TestApp};

async fn post_form(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = client.post(app.url(path)).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_citizen_asks_and_the_agency_answers() {
    let app = spawn_app().await;
    let anonymous = client();
    let khcn = app.agency_id("000.00.01.H24").await;
    let (status, form) = (200, anonymous.get(app.url("/request")).send().await.unwrap().text().await.unwrap());
    assert!(status == 200 && form.contains("Sở Khoa học và Công nghệ"), "the form offers the agencies");

    let ask = [
        ("agency_id", khcn.as_str()),
        ("name", "Nguyễn Văn An"),
        ("email", "an@example.vn"),
        ("message", "Đề nghị công bố danh sách doanh nghiệp khoa học và công nghệ."),
    ];
    let (status, sent) = post_form(&app, &anonymous, "/request", &ask).await;
    assert_eq!(status, 201, "{sent}");
    assert!(sent.contains("id=\"request-sent\""));
    let (status, refused) = post_form(
        &app,
        &anonymous,
        "/request",
        &[("agency_id", &khcn), ("name", "An"), ("email", "x"), ("message", "")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(refused.contains("role=\"alert\"") && refused.contains("email:"), "{refused}");

    let feedback =
        [("name", "Trần Thị Bình"), ("email", "binh@example.vn"), ("message", "Xin bổ sung cột số giáo viên.")];
    let (status, _) = post_form(&app, &anonymous, "/dataset/danh-sach-co-so-giao-duc/feedback", &feedback).await;
    assert_eq!(status, 201);
    let (status, _) = post_form(&app, &anonymous, "/dataset/danh-sach-ho-ngheo-ho-can-ngheo/feedback", &feedback).await;
    assert_eq!(status, 422, "shared data takes no public feedback");

    // The steward of Sở KH&CN sees the request to their department, not the school feedback.
    let (steward, csrf) = app.session("steward.khcn").await;
    let listed = steward.get(app.url("/admin/requests")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("danh sách doanh nghiệp khoa học") && !listed.contains("số giáo viên"), "{listed}");
    let id = app.kho.list_requests(&kho_core::identity::Subject::operator(), true, 10, 0).await.unwrap();
    let to_khcn = id.items.iter().find(|r| r.agency_id == khcn).unwrap().id.clone();
    let to_schools = id.items.iter().find(|r| r.agency_id != khcn).unwrap().id.clone();
    let (status, _) = post_form(
        &app,
        &steward,
        &format!("/admin/requests/{to_schools}/answer"),
        &[("csrf_token", &csrf), ("answer", "Không phải của chúng tôi")],
    )
    .await;
    assert_eq!(status, 403, "another agency's request");
    let (status, _) = post_form(
        &app,
        &steward,
        &format!("/admin/requests/{to_khcn}/answer"),
        &[("csrf_token", &csrf), ("answer", "Sở sẽ công bố trong quý III.")],
    )
    .await;
    assert_eq!(status, 303);

    let (admin, admin_csrf) = app.session("admin").await;
    let (status, _) = post_form(
        &app,
        &admin,
        &format!("/admin/requests/{to_schools}/answer"),
        &[("csrf_token", &admin_csrf), ("answer", "Sẽ bổ sung ở phiên bản sau.")],
    )
    .await;
    assert_eq!(status, 303);
    let page = anonymous.get(app.url("/dataset/danh-sach-co-so-giao-duc")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Xin bổ sung cột số giáo viên.") && page.contains("Sẽ bổ sung ở phiên bản sau."),
        "answered feedback shows"
    );
    let audit: serde_json::Value = app.get_json("/api/v1/audit?action=request", &app.token("admin").await).await;
    let entries: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    let count = |entry: (&str, &str)| entries.iter().filter(|e| **e == entry).count();
    assert_eq!(count(("request.create", "success")), 2, "{entries:?}");
    assert_eq!(count(("request.answer", "success")), 2, "{entries:?}");
    assert_eq!(count(("request.answer", "denied")), 1, "the refused answer is recorded too: {entries:?}");
}

/// One address may send ten requests or feedback an hour; the next is refused with the
/// time to wait, and the agency's list holds only the ten.
#[tokio::test]
async fn an_address_that_sends_too_many_requests_is_asked_to_wait() {
    let app = spawn_app().await;
    let anonymous = client();
    let khcn = app.agency_id("000.00.01.H24").await;
    for n in 1..=10 {
        let message = format!("Đề nghị số {n}");
        let ask = [("agency_id", khcn.as_str()), ("name", "An"), ("email", "an@example.vn"), ("message", &message)];
        let (status, sent) = post_form(&app, &anonymous, "/request", &ask).await;
        assert_eq!(status, 201, "request {n}: {sent}");
    }
    let ask =
        [("agency_id", khcn.as_str()), ("name", "An"), ("email", "an@example.vn"), ("message", "Thêm một đề nghị nữa")];
    let (status, refused) = post_form(&app, &anonymous, "/request", &ask).await;
    assert_eq!(status, 429);
    assert!(refused.contains("role=\"alert\"") && refused.contains("try again in 60 minutes"), "{refused}");
    assert!(refused.contains("Thêm một đề nghị nữa"), "the form keeps the message: {refused}");
    let feedback = [("name", "An"), ("email", "an@example.vn"), ("message", "Góp ý về dữ liệu")];
    let (status, _) = post_form(&app, &anonymous, "/dataset/danh-sach-co-so-giao-duc/feedback", &feedback).await;
    assert_eq!(status, 429, "feedback counts too");

    let (steward, _) = app.session("steward.khcn").await;
    let listed = steward.get(app.url("/admin/requests")).send().await.unwrap().text().await.unwrap();
    assert_eq!(listed.matches("Đề nghị số").count(), 10, "{listed}");
    assert!(!listed.contains("Thêm một đề nghị nữa"));
}
