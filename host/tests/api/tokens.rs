//! Every way to forge, stretch or replay a token fails.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, access, code};

/// Signs `claims` with the server's own key, so only the claims are wrong.
fn sign(app: &TestApp, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(app.signing_key.kid.clone());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(&app.signing_key.secret),
    )
    .unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/auth/me", token).await.status()
}

#[tokio::test]
async fn forged_and_stretched_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let globex = app.create_tenant(&admin, "globex").await;
    let good = acme.token("analyst").to_owned();
    assert_eq!(me_status(&app, &good).await, StatusCode::OK);
    let claims = claims_of(&good);

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        good.split('.').nth(1).unwrap()
    );
    assert_eq!(
        me_status(&app, &unsigned).await,
        StatusCode::UNAUTHORIZED,
        "alg none"
    );

    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(app.signing_key.kid.clone());
    let wrong_key =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[7; 32])).unwrap();
    assert_eq!(
        me_status(&app, &wrong_key).await,
        StatusCode::UNAUTHORIZED,
        "wrong key"
    );

    let now = jsonwebtoken::get_current_timestamp();
    let cases = [
        ("expired", json!({ "exp": now - 3600, "iat": now - 7200 })),
        ("wrong issuer", json!({ "iss": "someone-else" })),
        ("wrong audience", json!({ "aud": "another-api" })),
        ("not an access token", json!({ "typ": "refresh" })),
        ("a role it does not have", json!({ "role": "superuser" })),
    ];
    for (case, changes) in cases {
        let mut forged = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            forged[k] = v.clone();
        }
        assert_eq!(
            me_status(&app, &sign(&app, &forged)).await,
            StatusCode::UNAUTHORIZED,
            "{case}"
        );
    }

    // The tenant claim changed without re-signing: the signature no longer matches.
    let mut tampered = claims.clone();
    tampered["tid"] = globex["id"].clone();
    let parts: Vec<&str> = good.split('.').collect();
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
    let tampered = format!("{}.{body}.{}", parts[0], parts[2]);
    assert_eq!(
        me_status(&app, &tampered).await,
        StatusCode::UNAUTHORIZED,
        "tampered tenant"
    );

    let refresh = app.tokens("viewer@acme.test", Some("acme")).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        me_status(&app, &refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh token as access token"
    );

    let no_scheme = app
        .request(Method::GET, "/auth/me", None)
        .header("authorization", good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(no_scheme.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_suspended_tenants_tokens_stop_working_and_it_cannot_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let token = acme.token("tenant_admin").to_owned();
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);

    let suspended = app
        .patch(
            &format!("/admin/tenants/{}", acme.id),
            &admin,
            json!({ "status": "suspended" }),
        )
        .await;
    assert_eq!(suspended.status(), StatusCode::OK);

    let response = app.get("/auth/me", &token).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(code(response).await, "tenant_suspended");
    let login = app
        .login("viewer@acme.test", crate::helpers::PASSWORD, Some("acme"))
        .await;
    assert_eq!(login.status(), StatusCode::FORBIDDEN);

    app.patch(
        &format!("/admin/tenants/{}", acme.id),
        &admin,
        json!({ "status": "active" }),
    )
    .await;
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::POST, "/auth/refresh", None)
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refresh_token_works_once_and_reusing_it_revokes_the_family() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.tenant_with_every_role(&admin, "acme").await;
    let first = app.tokens("analyst@acme.test", Some("acme")).await;
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let second: Value = refresh(&app, first_refresh).await.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_eq!(me_status(&app, &access(&second)).await, StatusCode::OK);

    let replay = refresh(&app, first_refresh).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(replay).await, "invalid_refresh_token");
    assert_eq!(
        refresh(&app, second_refresh).await.status(),
        StatusCode::UNAUTHORIZED,
        "the family survived a replay"
    );

    // Platform admins' tokens rotate the same way.
    let root = app.tokens(crate::helpers::ADMIN_EMAIL, None).await;
    let root_refresh = root["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, root_refresh).await.status(), StatusCode::OK);
    assert_eq!(
        refresh(&app, root_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn of_concurrent_refreshes_of_one_token_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.tenant_with_every_role(&admin, "acme").await;
    let tokens = app.tokens("viewer@acme.test", Some("acme")).await;
    let token = tokens["refresh_token"].as_str().unwrap();

    let attempts = (0..8).map(|_| refresh(&app, token));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens(crate::helpers::ADMIN_EMAIL, None).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let logout = app
        .request(Method::POST, "/auth/logout", None)
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(&app, token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
