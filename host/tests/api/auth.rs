//! Logging in, saying who I am, and how failures answer.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::helpers::{ADMIN_EMAIL, PASSWORD, TestApp, access, code};

#[tokio::test]
async fn a_new_user_logs_in_and_sees_themselves() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let tenant = app.create_tenant(&admin, "acme").await;
    app.create_user(
        &admin,
        tenant["id"].as_str().unwrap(),
        "Ada@Acme.test",
        "analyst",
    )
    .await;

    let tokens = app.tokens("ada@acme.test", Some("acme")).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me: Value = app
        .get("/auth/me", &access(&tokens))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ada@acme.test");
    assert_eq!(me["role"], "analyst");
    assert_eq!(me["tenant"]["slug"], "acme");
    assert!(
        me.to_string().find("argon2").is_none(),
        "the hash leaked: {me}"
    );

    let admin_me: Value = app.get("/auth/me", &admin).await.json().await.unwrap();
    assert_eq!(
        (admin_me["role"].as_str(), admin_me["tenant"].is_null()),
        (Some("platform_admin"), true)
    );
}

#[tokio::test]
async fn the_subdomain_names_the_tenant_at_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let tenant = app.create_tenant(&admin, "acme").await;
    app.create_user(
        &admin,
        tenant["id"].as_str().unwrap(),
        "ada@acme.test",
        "viewer",
    )
    .await;

    let login = |host: String, body: Value| {
        app.request(Method::POST, "/auth/login", None)
            .header("host", host)
            .json(&body)
            .send()
    };
    let by_host = login(
        format!("acme.{}", app.base_domain),
        json!({ "email": "ada@acme.test", "password": PASSWORD }),
    )
    .await
    .unwrap();
    assert_eq!(by_host.status(), StatusCode::OK);
    let disagreeing = login(
        format!("acme.{}", app.base_domain),
        json!({ "email": "ada@acme.test", "password": PASSWORD, "tenant": "globex" }),
    )
    .await
    .unwrap();
    assert_eq!(disagreeing.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_answer_alike() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let tenant = app.create_tenant(&admin, "acme").await;
    app.create_user(
        &admin,
        tenant["id"].as_str().unwrap(),
        "ada@acme.test",
        "viewer",
    )
    .await;

    let wrong_password = app
        .login("ada@acme.test", "not the password", Some("acme"))
        .await;
    let unknown_user = app.login("bob@acme.test", PASSWORD, Some("acme")).await;
    let unknown_tenant = app.login("ada@acme.test", PASSWORD, Some("nowhere")).await;
    let wrong_tenant_for_admin = app.login(ADMIN_EMAIL, PASSWORD, Some("acme")).await;
    let unknown_admin = app.login("nobody@platform.test", PASSWORD, None).await;
    let mut answers = Vec::new();
    for response in [
        wrong_password,
        unknown_user,
        unknown_tenant,
        wrong_tenant_for_admin,
        unknown_admin,
    ] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // Every header but the two that differ per response anyway.
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        let names: Vec<String> = response
            .headers()
            .keys()
            .map(|name| name.to_string())
            .collect();
        answers.push((names, headers, response.text().await.unwrap()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    // Each of them spent its hashing slot on a password check (none took a
    // shortcut that would answer faster): no slot of any login went unspent.
    assert_eq!(mmm_host::auth::password::Hasher::global().unchecked(), 0);
}

#[tokio::test]
async fn me_shows_only_the_callers_own_account_and_tenant() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let globex = app.tenant_with_every_role(&admin, "globex").await;
    for (role, user, token) in &acme.users {
        let me: Value = app.get("/auth/me", token).await.json().await.unwrap();
        let mut keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["email", "features", "id", "role", "tenant"],
            "{role}"
        );
        assert_eq!(me["id"], user["id"]);
        assert_eq!(me["tenant"]["id"].as_str(), Some(acme.id.as_str()));
        let text = me.to_string();
        for leak in [
            "argon2",
            "password",
            "hash",
            "refresh",
            globex.id.as_str(),
            "globex",
        ] {
            assert!(!text.contains(leak), "{role}'s /me shows {leak}: {me}");
        }
    }
    let root: Value = app.get("/auth/me", &admin).await.json().await.unwrap();
    let text = root.to_string();
    for leak in [
        "argon2",
        "password",
        "hash",
        "refresh",
        acme.id.as_str(),
        globex.id.as_str(),
    ] {
        assert!(!text.contains(leak), "the admin's /me shows {leak}: {root}");
    }
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(
            app.login(ADMIN_EMAIL, "wrong password!", None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = app.login(ADMIN_EMAIL, PASSWORD, None).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(throttled).await, "too_many_requests");
    let other = app
        .login("someone@else.test", "wrong password!", None)
        .await;
    assert_eq!(
        other.status(),
        StatusCode::UNAUTHORIZED,
        "throttling spilled to another account"
    );
}

#[tokio::test]
async fn missing_and_malformed_credentials_are_client_errors() {
    let app = TestApp::spawn().await;
    let no_token = app
        .request(Method::GET, "/auth/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(no_token).await, "authentication_required");

    let malformed = app
        .request(Method::POST, "/auth/login", None)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(malformed).await, "malformed_json");

    let missing = app
        .request(Method::POST, "/auth/login", None)
        .json(&json!({ "email": "a@b.c" }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = missing.json().await.unwrap();
    assert_eq!(
        (
            problem["error"]["code"].as_str(),
            problem["error"]["field"].as_str()
        ),
        (Some("missing_field"), Some("password"))
    );

    let garbage = app
        .request(Method::POST, "/auth/refresh", None)
        .json(&json!({ "refresh_token": "garbage" }))
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_readiness_and_the_openapi_document_are_public() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let response = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
    }
    let doc: Value = app
        .request(Method::GET, "/openapi.json", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/admin/tenants/{id}/features/{key}"]["put"].is_object());
    let unknown = app
        .request(Method::GET, "/nowhere", None)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(code(unknown).await, "not_found");
}
