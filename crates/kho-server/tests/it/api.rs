//! The native API: agencies, users, subsystems and their tokens and certificates, and
//! the error shape for every kind of client mistake.

use crate::gateway::{agree, call, expect_fault, provider_backend, proxied, subsystem, terms, Parties};
use crate::gateway::{CITIZEN, CONSUMER, PROVIDER};
use crate::{client, expect_error, spawn_app, spawn_app_with, PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn the_demo_province_is_seeded() {
    let app = spawn_app().await;
    let body: Value = app.get_public("/api/v1/agencies").await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[0]["name"], "UBND tỉnh Bắc Ninh");
    assert!(items.iter().any(|a| a["kind"] == "department" && a["name"] == "Sở Khoa học và Công nghệ"));
    let communes: Vec<_> = items.iter().filter(|a| a["kind"] == "commune").collect();
    assert!(communes.len() >= 10);
    assert!(communes.iter().any(|a| a["admin_unit_code"] == "07210" && a["name"] == "UBND Phường Bắc Giang"));
}

#[tokio::test]
async fn admins_create_agencies_and_users() {
    let app = spawn_app().await;
    let token = app.token("admin").await;
    let province = app.agency_id("000.00.00.H24").await;
    let r = client()
        .post(app.url("/api/v1/agencies"))
        .bearer_auth(&token)
        .json(&json!({"code": "000.00.07.H24", "name": "Sở Văn hóa, Thể thao và Du lịch", "kind": "department", "parent_id": province}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let dept: Value = r.json().await.unwrap();
    assert!(dept["path"].as_str().unwrap().starts_with(&format!("/{province}/")));

    let r = client()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "vhttdl.steward", "agency_id": dept["id"], "roles": ["steward"], "password": "mot-mat-khau-dai"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["roles"], json!(["steward"]));
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());

    let again = client()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "vhttdl.steward", "agency_id": dept["id"], "roles": ["viewer"], "password": "mot-mat-khau-dai"}))
        .send()
        .await
        .unwrap();
    expect_error(again, 409, "conflict").await;
}

#[tokio::test]
async fn invalid_fields_are_named() {
    let app = spawn_app().await;
    let token = app.token("admin").await;
    let province = app.agency_id("000.00.00.H24").await;
    let cases = [
        (json!({"code": "H24", "name": "x", "kind": "department", "parent_id": province}), "V1V2V3.Z1Z2.Y1Y2.Hnn"),
        (
            json!({"code": "000.00.08.H24", "name": "x", "kind": "ministry", "parent_id": province}),
            "unknown variant `ministry`",
        ),
        (json!({"code": "000.00.08.H24", "name": "x", "kind": "department"}), "parent_id"),
        (json!({"code": "000.00.08.H24", "name": "x", "kind": "department", "parent_id": "nope"}), "no agency has id"),
    ];
    for (body, expected) in cases {
        let r = app.post_json("/api/v1/agencies", &token, &body).await;
        let err = expect_error(r, 422, "invalid_field").await;
        assert!(err["message"].as_str().unwrap().contains(expected), "{err} should mention {expected}");
    }
    let r = client()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "Bad Name", "agency_id": province, "roles": ["viewer"], "password": "mot-mat-khau-dai"}))
        .send()
        .await
        .unwrap();
    let err = expect_error(r, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().starts_with("username:"), "{err}");
}

#[tokio::test]
async fn malformed_and_unknown_input_gets_the_error_shape() {
    let app = spawn_app().await;
    let token = app.token("admin").await;
    let post = |body: &'static str, content_type: &'static str| {
        client()
            .post(app.url("/api/v1/agencies"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let err = expect_error(post("{not json", "application/json").await.unwrap(), 400, "malformed_request").await;
    assert!(err["message"].as_str().unwrap().contains("line 1 column 2"), "{err}");
    let err = expect_error(
        post(r#"{"code":"000.00.09.H24","name":"x","kind":"unit","parent_id":"p","colour":"red"}"#, "application/json")
            .await
            .unwrap(),
        422,
        "invalid_field",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("unknown field `colour`"), "{err}");
    expect_error(post("{}", "text/plain").await.unwrap(), 400, "malformed_request").await;
    let err = expect_error(
        client().get(app.url("/api/v1/users?limit=many")).bearer_auth(&token).send().await.unwrap(),
        422,
        "invalid_field",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("limit"), "{err}");
    expect_error(client().get(app.url("/api/v1/nothing-here")).send().await.unwrap(), 404, "not_found").await;
    expect_error(client().put(app.url("/api/v1/agencies")).send().await.unwrap(), 405, "method_not_allowed").await;
    expect_error(client().get(app.url("/api/v1/agencies/unknown")).send().await.unwrap(), 404, "not_found").await;
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let app = spawn_app_with(|s| s.body_limit_bytes = 1024).await;
    let token = app.token("admin").await;
    let big = json!({"code": "000.00.09.H24", "name": "x".repeat(4096), "kind": "unit", "parent_id": "p"});
    let r = app.post_json("/api/v1/agencies", &token, &big).await;
    expect_error(r, 413, "payload_too_large").await;
}

#[tokio::test]
async fn tokens_are_shown_once_listed_and_revoked() {
    let app = spawn_app().await;
    let (c, csrf) = app.session("steward.khcn").await;
    let created: Value = c
        .post(app.url("/api/v1/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "nightly sync", "expires_in_days": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("kho_"));
    let id = created["token"]["id"].as_str().unwrap();

    let me: Value = app.get_json("/api/v1/me", secret).await;
    assert_eq!(me["actor"], "user:steward.khcn");

    let list: Value = c.get(app.url("/api/v1/tokens")).send().await.unwrap().json().await.unwrap();
    let listed = &list["items"][0];
    assert_eq!(listed["name"], "nightly sync");
    assert!(!list.to_string().contains(secret), "the secret never appears in a listing");
    assert!(listed["last_used_at"].is_string(), "use is recorded");

    let r = c.delete(app.url(&format!("/api/v1/tokens/{id}"))).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client().get(app.url("/api/v1/me")).bearer_auth(secret).send().await.unwrap();
    expect_error(r, 401, "unauthenticated").await;

    let r = c
        .post(app.url("/api/v1/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "x", "expires_in_days": 5000}))
        .send()
        .await
        .unwrap();
    expect_error(r, 422, "invalid_field").await;
}

#[tokio::test]
async fn stewards_register_subsystems_of_their_agency_and_tokens_for_them() {
    let app = spawn_app().await;
    let token = app.token("steward.khcn").await;
    let own = app.agency_id("000.00.01.H24").await;
    let other = app.agency_id("000.00.02.H24").await;
    let register = |agency: String, code: &str| {
        client()
            .post(app.url("/api/v1/subsystems"))
            .bearer_auth(&token)
            .json(&json!({"xroad_id": format!("VN/GOV/000.00.01.H24/{code}"), "name": "Hệ thống", "agency_id": agency}))
            .send()
    };
    let r = register(own, "SYNC").await.unwrap();
    assert_eq!(r.status(), 201);
    let sub: Value = r.json().await.unwrap();
    expect_error(register(other, "OTHER").await.unwrap(), 403, "forbidden").await;

    let r = client()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({"name": "machine", "subsystem_id": sub["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let machine = r.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_string();
    let me: Value = app.get_json("/api/v1/me", &machine).await;
    assert_eq!(me["actor"], "subsystem:VN/GOV/000.00.01.H24/SYNC");
    assert_eq!(me["roles"], json!(["viewer"]));
    // CKAN clients may send the bare token.
    let me: Value = client()
        .get(app.url("/api/v1/me"))
        .header("X-CKAN-API-Key", &machine)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["actor"], "subsystem:VN/GOV/000.00.01.H24/SYNC");
}

#[tokio::test]
async fn users_see_only_what_their_role_allows() {
    let app = spawn_app().await;
    let total = |v: Value| v["total"].as_i64().unwrap();
    let list = |token: String| {
        let url = app.url("/api/v1/users");
        async move { client().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(total(list(app.token("admin").await).await), 5);
    assert_eq!(total(list(app.token("auditor").await).await), 5);
    let steward = list(app.token("steward.khcn").await).await;
    assert_eq!(total(steward.clone()), 1, "a steward sees its own agency subtree: {steward}");
    let viewer = list(app.token("viewer.taichinh").await).await;
    assert_eq!(viewer["items"][0]["username"], "viewer.taichinh");
    expect_error(client().get(app.url("/api/v1/users")).send().await.unwrap(), 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_steward_issues_and_revokes_a_subsystems_tokens_and_certificates_through_the_api() {
    let app = spawn_app().await;
    // The consumer, HR-APP, belongs to the department 000.00.02.H24, whose steward manages it.
    let admin = app.token("admin").await;
    let agency = app.agency_id("000.00.02.H24").await;
    let steward =
        json!({"username": "steward.taichinh", "agency_id": agency, "roles": ["steward"], "password": PASSWORD});
    assert_eq!(app.post_json("/api/v1/users", &admin, &steward).await.status(), 201);
    let steward = app.token("steward.taichinh").await;
    subsystem(&app.kho, PROVIDER, "000.00.01.H24", "Hệ thống hộ tịch").await;
    let hr_app = subsystem(&app.kho, CONSUMER, "000.00.02.H24", "Hệ thống nhân sự").await;
    let persons = proxied(&app.kho, "persons", &provider_backend().await, None, None).await;
    agree(&app.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;

    // The subsystem is named by its X-Road identifier, slashes encoded, or by its id.
    let base = format!("/api/v1/subsystems/{}", CONSUMER.replace('/', "%2F"));
    let shown = app.get_json(&base, &steward).await;
    assert_eq!((&shown["id"], &shown["xroad_id"]), (&json!(hr_app.id), &json!(CONSUMER)), "{shown}");
    assert_eq!(app.get_json(&format!("/api/v1/subsystems/{}", hr_app.id), &steward).await, shown);
    let unknown = client().get(app.url("/api/v1/subsystems/VN%2FGOV%2F000.00.02.H24%2FNOPE")).bearer_auth(&steward);
    expect_error(unknown.send().await.unwrap(), 404, "not_found").await;

    // A token for the subsystem works at the gateway at once; its secret is never listed.
    let r = app.post_json(&format!("{base}/tokens"), &steward, &json!({"name": "agent node"})).await;
    assert_eq!(r.status(), 201);
    let issued: Value = r.json().await.unwrap();
    assert_eq!(issued["token"]["owner"], json!({"kind": "subsystem", "id": hr_app.id}));
    let holder = Parties {
        consumer: hr_app.xroad_id.clone(),
        token: issued["secret"].as_str().unwrap().into(),
        provider_token: String::new(),
    };
    let person = format!("{}/r1/{PROVIDER}/persons/v1/persons/{CITIZEN}", app.base);
    let answer = call(&person, &holder, &[], &[]).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let listed = app.get_json(&format!("{base}/tokens"), &steward).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        (&listed["items"][0]["id"], &listed["items"][0]["name"]),
        (&issued["token"]["id"], &json!("agent node"))
    );
    assert!(!listed.to_string().contains(&holder.token), "the secret never appears in a listing");
    // A year unless asked otherwise (the record's own time is taken a moment after the expiry's).
    let at = |f: &str| chrono::DateTime::parse_from_rfc3339(issued["token"][f].as_str().unwrap()).unwrap();
    let lifetime = at("expires_at") - at("created_at");
    assert!((lifetime - chrono::Duration::days(365)).num_seconds().abs() < 60, "{lifetime}");

    // Revoked, the token is refused from the gateway's next call.
    let id = issued["token"]["id"].as_str().unwrap();
    let r = client().delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&steward).send().await.unwrap();
    assert_eq!(r.status(), 200);
    expect_fault(call(&person, &holder, &[], &[]).await, 401, "Client.Unauthorized", "revoked");
    assert!(app.get_json(&format!("{base}/tokens"), &steward).await["items"][0]["revoked_at"].is_string());

    // A certificate: registered, listed, revoked by the fingerprint openssl prints; once only.
    let dir = tempfile::tempdir().unwrap();
    crate::tls::certificates(dir.path());
    let (client_pem, server_pem) = (dir.path().join("client.pem"), dir.path().join("server.pem"));
    let pem = std::fs::read_to_string(&client_pem).unwrap();
    let certificates = format!("{base}/certificates");
    let r = app.post_json(&certificates, &steward, &json!({"pem": pem, "label": " agent node, room 201 "})).await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    let printed = crate::tls::openssl_fingerprint(&client_pem);
    assert_eq!(added["fingerprint"], printed.replace(':', "").to_lowercase());
    assert_eq!((&added["subsystem_id"], &added["label"]), (&json!(hr_app.id), &json!("agent node, room 201")));
    assert!(added["revoked_at"].is_null(), "{added}");
    assert_eq!(app.get_json(&certificates, &steward).await["items"], json!([added]));

    let revoke = |fingerprint: &str, token: &str| {
        client().delete(app.url(&format!("{certificates}/{fingerprint}"))).bearer_auth(token).send()
    };
    let r = revoke(&printed, &steward).await.unwrap();
    assert_eq!(r.status(), 200);
    let revoked: Value = r.json().await.unwrap();
    assert_eq!(revoked["fingerprint"], added["fingerprint"]);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_eq!(app.get_json(&certificates, &steward).await["items"], json!([revoked]));
    let again = expect_error(revoke(&printed, &steward).await.unwrap(), 409, "conflict").await;
    assert!(again["message"].as_str().unwrap().contains("already revoked"), "{again}");
    expect_error(revoke(&"0".repeat(64), &steward).await.unwrap(), 404, "not_found").await;
    let r = app.post_json(&certificates, &steward, &json!({"pem": pem, "label": "agent node"})).await;
    expect_error(r, 409, "conflict").await;

    // Another department's steward, and a viewer of this one, neither read nor change them.
    let target = format!("subsystem:{CONSUMER}");
    let other_pem = std::fs::read_to_string(&server_pem).unwrap();
    for user in ["steward.khcn", "viewer.taichinh"] {
        let token = app.token(user).await;
        let r = client().get(app.url(&certificates)).bearer_auth(&token).send().await.unwrap();
        expect_error(r, 403, "forbidden").await;
        let r = app.post_json(&certificates, &token, &json!({"pem": other_pem, "label": "theirs"})).await;
        expect_error(r, 403, "forbidden").await;
        let r = app.post_json(&format!("{base}/tokens"), &token, &json!({"name": "theirs"})).await;
        expect_error(r, 403, "forbidden").await;
    }
    // The auditor reads them but changes nothing; every refusal is in the audit log.
    let auditor = app.token("auditor").await;
    assert_eq!(app.get_json(&certificates, &auditor).await["items"], json!([revoked]));
    assert_eq!(app.get_json(&format!("{base}/tokens"), &auditor).await["items"].as_array().unwrap().len(), 1);
    let r = app.post_json(&certificates, &auditor, &json!({"pem": other_pem, "label": "theirs"})).await;
    expect_error(r, 403, "forbidden").await;
    expect_error(revoke(&"0".repeat(64), &auditor).await.unwrap(), 403, "forbidden").await;
    let denied = app.get_json(&format!("/api/v1/audit?outcome=denied&target={target}&limit=500"), &auditor).await;
    let denials: Vec<(&str, &str)> = denied["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    for user in ["steward.khcn", "viewer.taichinh"] {
        let mut theirs: Vec<&str> =
            denials.iter().filter(|(actor, _)| *actor == format!("user:{user}")).map(|(_, action)| *action).collect();
        theirs.sort();
        let refused = ["subsystem.certificate.add", "subsystem.certificate.read", "token.create"];
        assert_eq!(theirs, refused, "each of {user}'s three refusals, under what was refused: {denials:?}");
    }
    assert!(denials.contains(&("user:auditor", "subsystem.certificate.add")), "{denials:?}");
    assert!(denials.contains(&("user:auditor", "subsystem.certificate.revoke")), "{denials:?}");
    assert!(!denials.iter().any(|(actor, _)| *actor == "user:steward.taichinh"), "{denials:?}");
}
