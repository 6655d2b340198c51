//! Plugins through the API: built-ins registered, publishing validated,
//! per-tenant enablement, private plugins kept private, and real sandboxed
//! runs on CSV and Arrow bodies.

use std::sync::Arc;

use arrow_array::{Date32Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mmm_host::tables;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::helpers::{TestApp, TestTenant, code};

pub fn test_plugin(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins/wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} (built by host/build.rs): {e}", path.display()))
}

pub async fn publish(app: &TestApp, path: &str, token: &str, wasm: Vec<u8>) -> reqwest::Response {
    app.request(Method::POST, path, Some(token))
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await
        .unwrap()
}

/// Switches ridge-mmm on for `tenant` and makes it the tenant's default
/// model (the `analyses` feature's `model`): the platform's tests fit the
/// fast model; `bayes-mmm`, the default without a configured one, has its own.
pub async fn use_ridge(app: &TestApp, admin: &str, tenant: &TestTenant) {
    enable(app, admin, tenant, "ridge-mmm", true).await;
    let path = format!("/admin/tenants/{}/features/analyses", tenant.id);
    let body = json!({ "enabled": true, "config": { "model": "ridge-mmm" } });
    assert_eq!(app.put(&path, admin, body).await.status(), StatusCode::OK);
}

pub async fn enable(app: &TestApp, admin: &str, tenant: &TestTenant, plugin: &str, enabled: bool) {
    let path = format!("/admin/tenants/{}/features/plugin:{plugin}", tenant.id);
    assert_eq!(
        app.put(&path, admin, json!({ "enabled": enabled }))
            .await
            .status(),
        StatusCode::OK
    );
}

pub async fn run(
    app: &TestApp,
    token: &str,
    plugin: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/tenant/plugins/{plugin}/run{query}"),
        Some(token),
    )
    .header("content-type", content_type)
    .body(body)
    .send()
    .await
    .unwrap()
}

const SPEND: &str = "week,tv,search\n2024-01-01,10,1\n2024-01-08,11,2\n2024-01-15,9,3\n2024-01-22,10,4\n2024-01-29,1000,5\n";

#[tokio::test]
async fn built_in_plugins_are_registered_and_run_once_enabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;

    let listed: Value = app
        .get("/admin/plugins", &admin)
        .await
        .json()
        .await
        .unwrap();
    let builtins: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["scope"] == "builtin")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(builtins, ["bayes-mmm", "impute", "ridge-mmm", "winsorize"]);

    let params =
        "?params=%7B%22method%22%3A%22quantile%22%2C%22lower%22%3A0.0%2C%22upper%22%3A0.8%7D";
    let disabled = run(
        &app,
        acme.token("analyst"),
        "winsorize",
        params,
        "text/csv",
        SPEND.into(),
    )
    .await;
    assert_eq!(disabled.status(), StatusCode::FORBIDDEN);
    assert_eq!(code(disabled).await, "plugin_disabled");
    let runnable: Value = app
        .get("/tenant/plugins", acme.token("viewer"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runnable, json!([]));

    enable(&app, &admin, &acme, "winsorize", true).await;
    let runnable: Value = app
        .get("/tenant/plugins", acme.token("viewer"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runnable[0]["name"], "winsorize");
    assert!(runnable[0]["params_schema"].is_object());

    let response = run(
        &app,
        acme.token("analyst"),
        "winsorize",
        params,
        "text/csv",
        SPEND.into(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv");
    let csv = response.text().await.unwrap();
    let tv: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(tv[4] < 1000.0, "the outlier was not clipped: {csv}");
    assert_eq!(&tv[..4], &[10.0, 11.0, 9.0, 10.0]);

    let json_out = app
        .request(
            Method::POST,
            &format!("/tenant/plugins/winsorize/run{params}"),
            Some(acme.token("analyst")),
        )
        .header("content-type", "text/csv")
        .header("accept", "application/json")
        .body(SPEND)
        .send()
        .await
        .unwrap();
    let rows: Value = json_out.json().await.unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5);

    let viewer = run(
        &app,
        acme.token("viewer"),
        "winsorize",
        "",
        "text/csv",
        SPEND.into(),
    )
    .await;
    assert_eq!(viewer.status(), StatusCode::FORBIDDEN, "viewers only read");
    let unknown = run(
        &app,
        acme.token("analyst"),
        "nonexistent",
        "",
        "text/csv",
        SPEND.into(),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let stats: Value = app
        .get(&format!("/admin/tenants/{}/statistics", acme.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["plugin_runs"], 2);
}

fn mixed_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("week", DataType::Date32, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("spend", DataType::Float64, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Date32Array::from(vec![Some(19_723), None, Some(19_737)])),
            Arc::new(StringArray::from(vec![Some("tv"), Some("search"), None])),
            Arc::new(Float64Array::from(vec![Some(1.5), None, Some(f64::MAX)])),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn a_private_plugin_stays_in_its_tenant_and_round_trips_arrow_unchanged() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let globex = app.tenant_with_every_role(&admin, "globex").await;

    let published = publish(
        &app,
        "/tenant/plugins?name=identity&version=0.1.0",
        acme.token("data_scientist"),
        test_plugin("identity"),
    )
    .await;
    assert_eq!(published.status(), StatusCode::CREATED);
    let record: Value = published.json().await.unwrap();
    assert_eq!(record["scope"], "tenant");
    enable(&app, &admin, &acme, "identity", true).await;
    enable(&app, &admin, &globex, "identity", true).await;

    let batch = mixed_batch();
    let body = tables::write::ipc(std::slice::from_ref(&batch)).unwrap();
    let arrow = "application/vnd.apache.arrow.stream";
    let response = run(
        &app,
        acme.token("analyst"),
        "identity",
        "",
        arrow,
        body.clone(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let back = tables::ipc::decode_output(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(back, vec![batch]);

    let theirs: Value = app
        .get("/tenant/plugins", globex.token("tenant_admin"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs,
        json!([]),
        "tenant B can see tenant A's private plugin"
    );
    let foreign = run(&app, globex.token("analyst"), "identity", "", arrow, body).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let admin_view: Value = app
        .get("/admin/plugins", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        admin_view
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "identity"),
        "private plugins are not global"
    );

    let again = publish(
        &app,
        "/tenant/plugins",
        acme.token("tenant_admin"),
        test_plugin("identity"),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let by_analyst = publish(
        &app,
        "/tenant/plugins",
        acme.token("analyst"),
        test_plugin("identity"),
    )
    .await;
    assert_eq!(by_analyst.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn uploads_that_are_not_plugins_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    let garbage = publish(
        &app,
        "/admin/plugins",
        &admin,
        b"\0asm definitely not a component".to_vec(),
    )
    .await;
    assert_eq!(garbage.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(garbage).await, "invalid_component");
    let mismatch = publish(
        &app,
        "/admin/plugins?name=other&version=1.0.0",
        &admin,
        test_plugin("identity"),
    )
    .await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(mismatch).await, "plugin_mismatch");
    let wrong_type = app
        .request(Method::POST, "/admin/plugins", Some(&admin))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let builtin_again = publish(&app, "/admin/plugins", &admin, test_plugin("winsorize")).await;
    assert_eq!(builtin_again.status(), StatusCode::CONFLICT);

    let listed: Value = app
        .get("/admin/plugins", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        4,
        "a rejected upload was stored: {listed}"
    );
}

#[tokio::test]
async fn a_hostile_plugin_fails_with_its_cause_and_the_server_carries_on() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    assert_eq!(
        publish(&app, "/admin/plugins", &admin, test_plugin("hostile"))
            .await
            .status(),
        StatusCode::CREATED
    );
    enable(&app, &admin, &acme, "hostile", true).await;
    enable(&app, &admin, &acme, "winsorize", true).await;
    let token = acme.token("analyst");

    let cases = [
        ("panic", "plugin_panic"),
        ("not-arrow", "plugin_malformed_output"),
        ("guest-error", "plugin_numerical"),
    ];
    for (mode, expected) in cases {
        let query = format!("?params=%7B%22mode%22%3A%22{mode}%22%7D");
        let response = run(&app, token, "hostile", &query, "text/csv", SPEND.into()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{mode}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["error"]["code"], expected, "{mode}: {problem}");
        assert!(
            problem["error"]["message"]
                .as_str()
                .unwrap()
                .contains("hostile@"),
            "{problem}"
        );
    }
    let z = "?params=%7B%22method%22%3A%22z-score%22%2C%22max_z%22%3A1.5%7D";
    let healthy = run(&app, token, "winsorize", z, "text/csv", SPEND.into()).await;
    assert_eq!(healthy.status(), StatusCode::OK);
    let stats: Value = app
        .get(&format!("/admin/tenants/{}/statistics", acme.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            stats["plugin_runs"].as_i64(),
            stats["failed_plugin_runs"].as_i64()
        ),
        (Some(4), Some(3))
    );
}
