//! What a tenant sends is bounded in the host before any sandbox sees it:
//! tables too wide or too long are refused before they are parsed, nothing
//! is read before the caller, the plugin and its flag are checked, and no
//! string carrying NUL reaches PostgreSQL (each used to be a 500 or an outage).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::helpers::{TestApp, code};
use crate::api::plugins::{enable, run};

fn wide_csv(columns: usize) -> Vec<u8> {
    let header: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    format!("{}\n{}\n", header.join(","), vec!["1"; columns].join(",")).into_bytes()
}

#[tokio::test]
async fn a_200000_column_csv_is_refused_and_the_server_keeps_serving_everyone() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let other = app.tenant_with_every_role(&admin, "other").await;
    enable(&app, &admin, &acme, "winsorize", true).await;
    let analyst = acme.token("analyst");

    // The plugin is resolved before the body is read: no plugin, no parse.
    let missing = run(
        &app,
        analyst,
        "no-such-plugin",
        "",
        "text/csv",
        wide_csv(200_000),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let disabled = run(
        &app,
        other.token("analyst"),
        "winsorize",
        "",
        "text/csv",
        wide_csv(200_000),
    )
    .await;
    assert_eq!(disabled.status(), StatusCode::FORBIDDEN);

    let wide = run(
        &app,
        analyst,
        "winsorize",
        "",
        "text/csv",
        wide_csv(200_000),
    )
    .await;
    assert_eq!(wide.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = wide.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_columns");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("200000 columns") && message.contains("1000"),
        "{message}"
    );

    let five_thousand = run(&app, analyst, "winsorize", "", "text/csv", wide_csv(5_000)).await;
    assert_eq!(five_thousand.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let narrow = run(
        &app,
        other.token("viewer"),
        "winsorize",
        "",
        "text/csv",
        wide_csv(3),
    )
    .await;
    assert_eq!(
        narrow.status(),
        StatusCode::FORBIDDEN,
        "viewers may not run plugins"
    );
    let tenant = app.get("/tenant", other.token("viewer")).await;
    assert_eq!(
        tenant.status(),
        StatusCode::OK,
        "the server still serves others"
    );
    let z = "?params=%7B%22method%22%3A%22z-score%22%2C%22max_z%22%3A3%7D";
    let ok = run(&app, analyst, "winsorize", z, "text/csv", wide_csv(1_000)).await;
    let status = ok.status();
    assert_eq!(
        status,
        StatusCode::OK,
        "1,000 columns is within the cap: {}",
        ok.text().await.unwrap()
    );
}

#[tokio::test]
async fn an_oversize_table_is_refused_from_its_content_length() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    enable(&app, &admin, &acme, "winsorize", true).await;
    let body = vec![b'1'; mmm_host::tables::TableLimits::default().max_bytes + 1];
    let response = run(
        &app,
        acme.token("analyst"),
        "winsorize",
        "",
        "text/csv",
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(response).await, "payload_too_large");
}

async fn nul_field(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "nul_character", "{body}");
    body["error"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn nul_in_any_accepted_string_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let login = |body: Value| {
        app.request(Method::POST, "/auth/login", None)
            .json(&body)
            .send()
    };
    let anonymous = login(json!({"email": "a\u{0}@x", "password": "whatever-it-is"}));
    assert_eq!(nul_field(anonymous.await.unwrap()).await, "email");
    let in_tenant = login(json!({"email": "a@x.test", "password": "p", "tenant": "ac\u{0}me"}));
    assert_eq!(nul_field(in_tenant.await.unwrap()).await, "tenant");

    let tenants = "/admin/tenants";
    let name = app
        .post(tenants, &admin, json!({"slug": "n", "name": "N\u{0}"}))
        .await;
    assert_eq!(nul_field(name).await, "name");
    let settings = json!({"slug": "n", "name": "N", "settings": {"labels": ["ok", "\u{0}"]}});
    assert_eq!(
        nul_field(app.post(tenants, &admin, settings).await).await,
        "settings.labels[1]"
    );
    let patch = app
        .patch(
            &format!("{tenants}/{}", acme.id),
            &admin,
            json!({"plan": "p\u{0}"}),
        )
        .await;
    assert_eq!(nul_field(patch).await, "plan");
    let user = json!({"email": "x\u{0}@acme.test", "password": "a long enough password", "role": "viewer"});
    let created = app
        .post(&format!("{tenants}/{}/users", acme.id), &admin, user)
        .await;
    assert_eq!(nul_field(created).await, "email");
    let feature = format!("{tenants}/{}/features/plugin:winsorize", acme.id);
    let config = json!({"enabled": true, "config": {"note": "a\u{0}b"}});
    assert_eq!(
        nul_field(app.put(&feature, &admin, config).await).await,
        "config.note"
    );
    let key = format!("{tenants}/{}/features/bad%00key", acme.id);
    assert_eq!(
        nul_field(app.put(&key, &admin, json!({"enabled": true})).await).await,
        "key"
    );
    assert_eq!(app.get(tenants, &admin).await.status(), StatusCode::OK);

    enable(&app, &admin, &acme, "winsorize", true).await;
    let analyst = acme.token("analyst");
    let csv = b"week,tv\n2024-01-01,1\n".to_vec();
    let params = run(
        &app,
        analyst,
        "winsorize",
        "?params=%7B%22x%22%3A%22%00%22%7D",
        "text/csv",
        csv.clone(),
    )
    .await;
    assert_eq!(nul_field(params).await, "params");
    let version = run(&app, analyst, "winsorize", "?version=1%00", "text/csv", csv).await;
    assert_eq!(nul_field(version).await, "version");
    let cell = b"week,note\n2024-01-01,a\x00b\n".to_vec();
    assert_eq!(
        nul_field(run(&app, analyst, "winsorize", "", "text/csv", cell).await).await,
        "note"
    );
}
