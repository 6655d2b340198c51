//! Platform administration: tenants, their users and features, statistics,
//! and clear errors for every bad input.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::helpers::{PASSWORD, TestApp, code};

#[tokio::test]
async fn an_admin_creates_lists_reads_and_changes_tenants() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for slug in ["acme", "globex", "initech"] {
        app.create_tenant(&admin, slug).await;
    }
    let page: Value = app
        .get("/admin/tenants?limit=2&offset=1", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            page["total"].as_i64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(3), 2)
    );
    assert_eq!(page["items"][0]["slug"], "globex");

    let id = page["items"][0]["id"].as_str().unwrap();
    let changed: Value = app
        .patch(&format!("/admin/tenants/{id}"), &admin, json!({ "name": "Globex Corp", "plan": "enterprise", "settings": { "currency": "EUR" } }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (changed["name"].as_str(), changed["plan"].as_str()),
        (Some("Globex Corp"), Some("enterprise"))
    );
    let fetched: Value = app
        .get(&format!("/admin/tenants/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["settings"]["currency"], "EUR");

    app.create_user(&admin, id, "ada@globex.test", "viewer")
        .await;
    let stats: Value = app
        .get(&format!("/admin/tenants/{id}/statistics"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["users"], 1);
    assert!(stats["audit_events"].as_i64().unwrap() >= 3, "{stats}");
    let platform: Value = app
        .get("/admin/statistics", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (platform["tenants"].as_i64(), platform["users"].as_i64()),
        (Some(3), Some(1))
    );
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_names_the_problem() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.create_tenant(&admin, "acme").await;
    let acme_id = acme["id"].as_str().unwrap();

    let duplicate = app
        .post(
            "/admin/tenants",
            &admin,
            json!({ "slug": "acme", "name": "Again" }),
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    assert_eq!(code(duplicate).await, "slug_taken");

    let cases = [
        (json!({ "slug": "Not A Slug", "name": "x" }), "slug"),
        (json!({ "slug": "ok", "name": "" }), "name"),
        (
            json!({ "slug": "ok", "name": "x", "settings": [1] }),
            "settings",
        ),
        (
            json!({ "slug": "ok", "name": "x", "colour": "red" }),
            "colour",
        ),
        (json!({ "slug": 5, "name": "x" }), "slug"),
    ];
    for (body, field) in cases {
        let response = app.post("/admin/tenants", &admin, body.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["error"]["field"], field, "{problem}");
    }

    let users = format!("/admin/tenants/{acme_id}/users");
    app.create_user(&admin, acme_id, "ada@acme.test", "viewer")
        .await;
    let again = app
        .post(
            &users,
            &admin,
            json!({ "email": "ADA@acme.test", "password": PASSWORD, "role": "viewer" }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let short = app
        .post(
            &users,
            &admin,
            json!({ "email": "bob@acme.test", "password": "short", "role": "viewer" }),
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let role = app
        .post(
            &users,
            &admin,
            json!({ "email": "bob@acme.test", "password": PASSWORD, "role": "platform_admin" }),
        )
        .await;
    assert_eq!(role.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/admin/tenants/{unknown}"),
        format!("/admin/tenants/{unknown}/statistics"),
        "/admin/tenants/not-a-uuid".into(),
    ] {
        assert_eq!(
            app.get(&path, &admin).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let on_unknown = app
        .put(
            &format!("/admin/tenants/{unknown}/features/x"),
            &admin,
            json!({ "enabled": true }),
        )
        .await;
    assert_eq!(on_unknown.status(), StatusCode::NOT_FOUND);
    let bad_key = app
        .put(
            &format!("/admin/tenants/{acme_id}/features/BAD KEY"),
            &admin,
            json!({ "enabled": true }),
        )
        .await;
    assert_eq!(bad_key.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let huge =
        json!({ "slug": "big", "name": "x", "settings": { "blob": "x".repeat(2 * 1024 * 1024) } });
    let too_large = app.post("/admin/tenants", &admin, huge).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let not_json = app
        .request(Method::POST, "/admin/tenants", Some(&admin))
        .body("slug=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let bad_page = app.get("/admin/tenants?limit=0", &admin).await;
    assert_eq!(bad_page.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let listed: Value = app
        .get("/admin/tenants", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1, "a rejected request wrote a tenant");
}

#[tokio::test]
async fn tenant_admins_manage_their_own_users_but_keep_one_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let token = acme.token("tenant_admin");

    let created = app
        .post(
            "/tenant/users",
            token,
            json!({ "email": "new@acme.test", "password": PASSWORD, "role": "analyst" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let new: Value = created.json().await.unwrap();
    let path = format!("/tenant/users/{}", new["id"].as_str().unwrap());
    let promoted: Value = app
        .patch(&path, token, json!({ "role": "data_scientist" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(promoted["role"], "data_scientist");
    assert_eq!(
        app.delete(&path, token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, token).await.status(), StatusCode::NOT_FOUND);

    let own = format!("/tenant/users/{}", acme.user_id("tenant_admin"));
    let demote = app.patch(&own, token, json!({ "role": "viewer" })).await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert_eq!(code(demote).await, "last_admin");
    assert_eq!(app.delete(&own, token).await.status(), StatusCode::CONFLICT);
}
