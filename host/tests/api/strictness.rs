//! Strict where a lenient server would let one thing pass for another
//! (reserved slugs, invisible characters, oversize settings), lenient where
//! the RFCs say so (the `Bearer` scheme and media types are
//! case-insensitive, `HEAD` is `GET` without a body), and every refusal a
//! problem body naming the field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::data::{EXAMPLE, example_meta};
use crate::api::helpers::TestApp;

async fn refusal(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn the_platforms_own_subdomains_are_reserved_slugs() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for slug in ["www", "admin", "api"] {
        let response = app
            .post(
                "/admin/tenants",
                &admin,
                json!({ "slug": slug, "name": "Squatter" }),
            )
            .await;
        assert_eq!(
            refusal(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value".into(),
                "slug".into()
            ),
            "{slug}"
        );
    }
    let tenants: Value = app
        .get("/admin/tenants", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tenants["total"], 0);
}

#[tokio::test]
async fn names_and_emails_with_invisible_characters_are_refused_whole() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in [
        "Ac\u{200b}me",
        "\u{202e}emcA",
        "Acme\u{2067}",
        "Ac\u{feff}me",
    ] {
        let response = app
            .post(
                "/admin/tenants",
                &admin,
                json!({ "slug": "acme", "name": name }),
            )
            .await;
        assert_eq!(
            refusal(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value".into(),
                "name".into()
            ),
            "{name:?}"
        );
    }
    let tenant = app.create_tenant(&admin, "acme").await;
    let id = tenant["id"].as_str().unwrap();
    for email in ["ad\u{200d}min@acme.test", "admin@acme.test\u{202e}"] {
        let response = app
            .post(
                &format!("/admin/tenants/{id}/users"),
                &admin,
                json!({ "email": email, "password": "a long enough password", "role": "viewer" }),
            )
            .await;
        assert_eq!(
            refusal(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value".into(),
                "email".into()
            ),
            "{email:?}"
        );
    }
    // Letters of any script, accents and emoji are names like any other.
    let response = app
        .patch(
            &format!("/admin/tenants/{id}"),
            &admin,
            json!({ "name": "Zoë & Søn — 東京 🚀" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stats: Value = app
        .get(&format!("/admin/tenants/{id}/statistics"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["users"], 0);
}

#[tokio::test]
async fn oversize_settings_are_refused_and_the_tenant_keeps_its_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let tenant = app.create_tenant(&admin, "acme").await;
    let id = tenant["id"].as_str().unwrap();
    let blob = json!({ "notes": "x".repeat(900 * 1024) });
    let response = app
        .patch(
            &format!("/admin/tenants/{id}"),
            &admin,
            json!({ "settings": blob }),
        )
        .await;
    assert_eq!(
        refusal(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value".into(),
            "settings".into()
        )
    );
    let created = app
        .post(
            "/admin/tenants",
            &admin,
            json!({ "slug": "globex", "name": "Globex", "settings": blob }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stored: Value = app
        .get(&format!("/admin/tenants/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["settings"], json!({}));
}

#[tokio::test]
async fn a_bad_query_parameter_is_named_in_the_problem() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    for (query, field) in [("limit=many", "limit"), ("offset=1.5", "offset")] {
        let response = app
            .get(
                &format!("/tenant/users?{query}"),
                acme.token("tenant_admin"),
            )
            .await;
        assert_eq!(
            refusal(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query".into(),
                field.into()
            ),
            "{query}"
        );
    }
}

#[tokio::test]
async fn scheme_and_media_type_are_case_insensitive() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .request(Method::GET, "/auth/me", None)
            .header(
                "authorization",
                format!("{scheme} {}", acme.token("viewer")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
    let response = app
        .request(Method::GET, "/auth/me", None)
        .header("authorization", format!("Basic {}", acme.token("viewer")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let response = app
        .request(
            Method::POST,
            "/tenant/data/upload",
            Some(acme.token("data_scientist")),
        )
        .query(&[("meta", example_meta("upper").to_string())])
        .header("content-type", "TEXT/CSV; Charset=UTF-8")
        .body(EXAMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let response = app
        .request(Method::POST, "/admin/tenants", Some(&admin))
        .header("content-type", "Application/JSON")
        .body(json!({ "slug": "globex", "name": "Globex" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn head_is_answered_as_get_without_a_body_and_authorised_the_same() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let head = |path: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            let response = app
                .request(Method::HEAD, path, token.as_deref())
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.bytes().await.unwrap().len())
        }
    };
    assert_eq!(head("/healthz", None).await, (StatusCode::OK, 0));
    assert_eq!(
        head("/tenant", Some(acme.token("viewer").to_owned())).await,
        (StatusCode::OK, 0)
    );
    assert_eq!(head("/tenant", None).await.0, StatusCode::UNAUTHORIZED);
    // The viewer may not GET the users list, so neither may it HEAD it.
    assert_eq!(
        head("/tenant/users", Some(acme.token("viewer").to_owned()))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        head(
            "/admin/tenants",
            Some(acme.token("tenant_admin").to_owned())
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}
