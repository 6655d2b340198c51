//! Every way to forge, stretch or replay a token fails.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::helpers::{TestApp, access, code};

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
        .login(
            "viewer@acme.test",
            crate::api::helpers::PASSWORD,
            Some("acme"),
        )
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
    let root = app.tokens(crate::api::helpers::ADMIN_EMAIL, None).await;
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
    let tokens = app.tokens(crate::api::helpers::ADMIN_EMAIL, None).await;
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

/// `header.payload.signature` with any header, HMAC-SHA256-signed with `secret`.
fn with_header(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn algorithm_confusion_and_other_hmac_algorithms_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let claims = claims_of(&admin);
    let kid = app.signing_key.kid.clone();
    let secret = app.signing_key.secret.clone();
    // The control: the same construction with the right header verifies.
    let control = with_header(
        &json!({ "alg": "HS256", "typ": "JWT", "kid": kid }),
        &claims,
        &secret,
    );
    assert_eq!(me_status(&app, &control).await, StatusCode::OK);

    let cases = [
        // RS256 named, HMAC computed: a verifier that trusts the header's
        // algorithm and uses its key material as an HMAC secret accepts these.
        (
            "RS256 over the secret",
            json!({ "alg": "RS256", "typ": "JWT", "kid": kid }),
            secret.clone(),
        ),
        (
            "RS256 over the public kid",
            json!({ "alg": "RS256", "typ": "JWT", "kid": kid }),
            kid.clone().into_bytes(),
        ),
        (
            "HS256 with the public kid as secret",
            json!({ "alg": "HS256", "typ": "JWT", "kid": kid }),
            kid.clone().into_bytes(),
        ),
        (
            "ES256 named",
            json!({ "alg": "ES256", "typ": "JWT", "kid": kid }),
            secret.clone(),
        ),
    ];
    for (case, header, key) in cases {
        let token = with_header(&header, &claims, &key);
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{case}"
        );
    }
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let mut header = Header::new(alg);
        header.kid = Some(kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{alg:?}"
        );
    }
}

#[tokio::test]
async fn expiry_and_not_before_are_held_to_the_leeway() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let claims = claims_of(&admin);
    assert!(claims["nbf"].is_u64(), "access tokens carry nbf: {claims}");
    let leeway = mmm_host::auth::tokens::LEEWAY_SECS;
    let now = jsonwebtoken::get_current_timestamp();
    let with = |changes: Value| {
        let mut forged = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            forged[k] = v.clone();
        }
        sign(&app, &forged)
    };

    let just_expired = app
        .get("/auth/me", &with(json!({ "exp": now - leeway - 1 })))
        .await;
    assert_eq!(just_expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(just_expired).await, "token_expired");

    let not_yet = app.get("/auth/me", &with(json!({ "nbf": now + 60 }))).await;
    assert_eq!(
        not_yet.status(),
        StatusCode::UNAUTHORIZED,
        "nbf in the future"
    );
    assert_eq!(code(not_yet).await, "invalid_token");
    let issued_later = with(json!({ "nbf": now + 60, "iat": now + 60 }));
    assert_eq!(
        me_status(&app, &issued_later).await,
        StatusCode::UNAUTHORIZED
    );

    // Inside the leeway, and an nbf in the past, are fine.
    assert_eq!(
        me_status(&app, &with(json!({ "nbf": now - 30 }))).await,
        StatusCode::OK
    );
    assert_eq!(
        me_status(&app, &with(json!({ "exp": now + 60 }))).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_missing_or_wrong_issuer_and_audience_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let claims = claims_of(&admin);
    assert_eq!(me_status(&app, &sign(&app, &claims)).await, StatusCode::OK);
    for claim in ["aud", "iss", "exp", "sub", "typ"] {
        let mut forged = claims.clone();
        forged.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            me_status(&app, &sign(&app, &forged)).await,
            StatusCode::UNAUTHORIZED,
            "without {claim}"
        );
    }
    for (claim, wrong) in [
        ("aud", json!("another-api")),
        ("aud", json!(["another-api"])),
        ("aud", json!("")),
        ("iss", json!("someone-else")),
        ("iss", json!("")),
    ] {
        let mut forged = claims.clone();
        forged[claim] = wrong.clone();
        assert_eq!(
            me_status(&app, &sign(&app, &forged)).await,
            StatusCode::UNAUTHORIZED,
            "{claim} = {wrong}"
        );
    }
}

#[tokio::test]
async fn an_unknown_kid_is_refused_without_fetching_anything() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let claims = claims_of(&admin);
    // A kid a JWKS-fetching verifier would call.
    let jwks = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        jwks.local_addr().unwrap()
    );
    for kid in [
        Some(url.as_str()),
        Some("0000000000000000"),
        Some("' or 1=1 --"),
        Some("../../etc/passwd"),
        Some(""),
        None,
    ] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = kid.map(str::to_owned);
        // Signed with the server's own secret: only the kid is wrong.
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(&app.signing_key.secret),
        )
        .unwrap();
        let response = app.get("/auth/me", &token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{kid:?}");
        assert_eq!(code(response).await, "invalid_token", "{kid:?}");
    }
    // A connection made before those answers would be waiting in the backlog.
    let connected =
        tokio::time::timeout(std::time::Duration::from_millis(200), jwks.accept()).await;
    assert!(connected.is_err(), "the server fetched the kid's URL");
}

#[tokio::test]
async fn the_database_keeps_only_sha256_of_refresh_tokens() {
    use sha2::{Digest, Sha256};

    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let globex = app.create_tenant(&admin, "globex").await;
    app.create_user(
        &admin,
        globex["id"].as_str().unwrap(),
        "ada@globex.test",
        "viewer",
    )
    .await;
    let mut issued = Vec::new();
    for (email, tenant) in [
        ("ada@globex.test", Some("globex")),
        (crate::api::helpers::ADMIN_EMAIL, None),
    ] {
        let first = app.tokens(email, tenant).await;
        let first = first["refresh_token"].as_str().unwrap().to_owned();
        let second: Value = refresh(&app, &first).await.json().await.unwrap();
        issued.push(first);
        issued.push(second["refresh_token"].as_str().unwrap().to_owned());
    }

    let superuser = crate::api::helpers::connect_as(&app.database, "postgres").await;
    let mut stored: Vec<Vec<u8>> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    for table in ["refresh_tokens", "platform_refresh_tokens"] {
        let hashes: Vec<(Vec<u8>, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select token_hash, t::text from {table} t"
        )))
        .fetch_all(&superuser)
        .await
        .unwrap();
        for (hash, row) in hashes {
            stored.push(hash);
            rows.push(row);
        }
    }
    superuser.close().await;

    // The admin token of the setup above adds one row of its own.
    for token in &issued {
        let digest = Sha256::digest(token.as_bytes()).to_vec();
        assert!(
            stored.contains(&digest),
            "no hash stored for an issued token"
        );
        let secret = token.split_once('.').unwrap().1;
        for row in &rows {
            assert!(
                !row.contains(secret),
                "a raw refresh token is stored: {row}"
            );
            let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
            assert!(
                !row.contains(&hex),
                "a raw refresh token is stored hex-encoded"
            );
        }
    }
    assert!(
        stored.iter().all(|h| h.len() == 32),
        "every stored value is a SHA-256"
    );
}
