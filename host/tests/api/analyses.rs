//! Analyses through the API against real workers: the whole path from an
//! upload to a summary equal to `mmm plugin run`'s, reproducibility, live
//! events, cancelling queued and running fits, hostile plugins failing only
//! their own analysis, fairness between tenants, tenant walls, idempotency
//! and params checked in the host.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::data::{EXAMPLE, example_meta, upload};
use crate::api::helpers::{TestApp, TestTenant, code};
use crate::api::plugins::{enable, publish, test_plugin, use_ridge};

/// A tenant with every role, ridge-mmm on as its default model, and the example uploaded.
pub(crate) async fn tenant_with_data(
    app: &TestApp,
    admin: &str,
    slug: &str,
) -> (TestTenant, String) {
    let tenant = app.tenant_with_every_role(admin, slug).await;
    use_ridge(app, admin, &tenant).await;
    let response = upload(
        app,
        tenant.token("data_scientist"),
        EXAMPLE.as_bytes(),
        "text/csv",
        &example_meta("example"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let source: Value = response.json().await.unwrap();
    (tenant, source["id"].as_str().unwrap().to_owned())
}

pub(crate) async fn start(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post("/tenant/analysis/run", token, body.clone()).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{body} → {answer}");
    assert_eq!(answer["status"], "queued");
    answer
}

async fn analysis(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.get(&format!("/tenant/analysis/{id}"), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Polls until `done(analysis)` holds; fails the test after `limit`.
async fn wait_for(
    app: &TestApp,
    token: &str,
    id: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let current = analysis(app, token, id).await;
        if done(&current) {
            return current;
        }
        assert!(started.elapsed() < limit, "still {current} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ended(a: &Value) -> bool {
    matches!(
        a["status"].as_str(),
        Some("succeeded" | "failed" | "cancelled")
    )
}

pub(crate) async fn wait_end(app: &TestApp, token: &str, id: &str) -> Value {
    wait_for(app, token, id, Duration::from_secs(120), ended).await
}

/// Reads an event stream to its end: (event name, data) pairs.
async fn events(app: &TestApp, token: &str, id: &str) -> Vec<(String, Value)> {
    let mut response = app
        .get(&format!("/tenant/analysis/{id}/events"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let (mut text, mut out) = (String::new(), Vec::new());
    let read = async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .expect("the stream ends when the analysis does");
    for block in text.split("\n\n") {
        let mut name = String::new();
        let mut data = None;
        for line in block.lines() {
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str(d).unwrap());
            }
        }
        if let Some(data) = data {
            out.push((name, data));
        }
    }
    out
}

fn workspace() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What `mmm plugin run` writes as the summary for the example file.
fn cli_summary(params: &Value) -> Value {
    let out = std::env::temp_dir().join(format!("mmm-cli-fit-{}", uuid::Uuid::new_v4()));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_mmm"))
        .args(["plugin", "run"])
        .arg(workspace().join("target/plugins/wasm32-wasip2/release/ridge_mmm.wasm"))
        .arg("--data")
        .arg(workspace().join("examples/synthetic-156w.csv"))
        .arg("--roles")
        .arg(workspace().join("examples/roles.json"))
        .args(["--params", &params.to_string(), "--out"])
        .arg(&out)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "mmm plugin run");
    let summary =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    summary
}

async fn table(
    app: &TestApp,
    token: &str,
    id: &str,
    part: &str,
    accept: &str,
) -> (StatusCode, Vec<u8>) {
    let response = app
        .request(
            Method::GET,
            &format!("/tenant/analysis/{id}/{part}"),
            Some(token),
        )
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_upload_runs_to_a_summary_equal_to_the_cli_and_reruns_byte_identical() {
    let app = TestApp::spawn_with_workers(2).await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");
    let params = json!({ "budget": 10000 });
    let body = json!({ "source_id": source, "params": params, "seed": 7, "preprocessors": [] });
    let queued = start(&app, analyst, body.clone()).await;
    let id = queued["id"].as_str().unwrap();
    assert_eq!(queued["inputs"]["model"]["name"], "ridge-mmm");
    assert_eq!(
        queued["inputs"]["model"]["params"],
        json!({ "budget": 10000, "seed": 7 })
    );
    assert_eq!(queued["inputs"]["seed"], 7);
    assert_eq!(queued["inputs"]["source"]["id"], source.as_str());
    assert_eq!(queued["inputs"]["digest"].as_str().unwrap().len(), 64);

    // Live progress until it ends; a viewer may watch.
    let stream = events(&app, acme.token("viewer"), id).await;
    let (last_name, last) = stream.last().expect("at least the final event").clone();
    assert_eq!(
        (last_name.as_str(), last["status"].as_str()),
        ("status", Some("succeeded")),
        "{stream:?}"
    );
    assert!(
        stream.iter().any(|(n, d)| n == "progress"
            && d["progress"]["stage"] == "fit"
            && d["progress"]["done"].as_i64() > Some(0)),
        "fit progress is streamed: {stream:?}"
    );

    let done = analysis(&app, analyst, id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["progress"]["stage"], "done");
    assert!(done["finished_at"].is_string() && done["started_at"].is_string());
    let summary = &done["summary"];
    let expected = cli_summary(&json!({ "budget": 10000, "seed": 7 }));
    assert_eq!(
        summary, &expected,
        "the service fits what `mmm plugin run` fits"
    );
    let channels = summary["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 5);
    for c in channels {
        let [low, high] = [
            c["roi_interval"][0].as_f64().unwrap(),
            c["roi_interval"][1].as_f64().unwrap(),
        ];
        assert!(
            low <= c["roi"].as_f64().unwrap() && c["roi"].as_f64().unwrap() <= high,
            "{c}"
        );
    }

    // Result tables in each format.
    let (status, csv) = table(&app, analyst, id, "decomposition", "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("date,actual,fitted,baseline"),
        "{header}"
    );
    assert_eq!(csv.lines().count(), 157);
    let (status, json_rows) = table(
        &app,
        acme.token("viewer"),
        id,
        "response-curves",
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<Value> = serde_json::from_slice(&json_rows).unwrap();
    assert!(rows[0].get("channel").is_some() && rows[0].get("response").is_some());
    let (_, first_arrow) = table(
        &app,
        analyst,
        id,
        "decomposition",
        "application/vnd.apache.arrow.stream",
    )
    .await;

    // The same inputs again: the same digest and byte-identical results.
    let again = start(&app, analyst, body).await;
    assert_ne!(again["id"], queued["id"]);
    assert_eq!(again["inputs"]["digest"], queued["inputs"]["digest"]);
    let again_id = again["id"].as_str().unwrap();
    let rerun = wait_end(&app, analyst, again_id).await;
    assert_eq!(rerun["status"], "succeeded");
    assert_eq!(rerun["results_digest"], done["results_digest"]);
    assert_eq!(rerun["summary"].to_string(), done["summary"].to_string());
    let (_, second_arrow) = table(
        &app,
        analyst,
        again_id,
        "decomposition",
        "application/vnd.apache.arrow.stream",
    )
    .await;
    assert_eq!(first_arrow, second_arrow);
    for accept in ["text/csv", "application/vnd.apache.arrow.stream"] {
        assert_eq!(
            table(&app, analyst, id, "response-curves", accept).await,
            table(&app, analyst, again_id, "response-curves", accept).await
        );
    }

    // Another seed is another search.
    let other = start(
        &app,
        analyst,
        json!({ "source_id": source, "params": params, "seed": 8, "preprocessors": [] }),
    )
    .await;
    assert_ne!(other["inputs"]["digest"], queued["inputs"]["digest"]);

    // Listed, filtered; counted in the statistics; the source is now in use.
    let list: Value = app
        .get("/tenant/analysis?status=succeeded", analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert!(
        list["items"][0].get("summary").is_none(),
        "lists leave summaries out"
    );
    let by_source: Value = app
        .get(
            &format!("/tenant/analysis?source_id={source}&model=ridge-mmm"),
            analyst,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_source["total"], 3);
    let none: Value = app
        .get("/tenant/analysis?model=other", analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);
    assert_eq!(
        code(app.get("/tenant/analysis?status=done", analyst).await).await,
        "invalid_query"
    );
    wait_end(&app, analyst, other["id"].as_str().unwrap()).await;
    let stats: Value = app
        .get(&format!("/admin/tenants/{}/statistics", acme.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["analyses"], 3);
    assert_eq!(stats["analyses_succeeded"], 3);
    assert_eq!(stats["analysis_results"], 3);
    assert!(stats["plugin_runs"].as_i64().unwrap() >= 3, "{stats}");
    let deleted = app
        .delete(
            &format!("/tenant/data/sources/{source}"),
            acme.token("data_scientist"),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::CONFLICT);
    assert_eq!(code(deleted).await, "source_in_use");
}

#[tokio::test]
async fn a_pipeline_runs_its_preprocessors_and_the_tenant_defaults_apply() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    enable(&app, &admin, &acme, "winsorize", true).await;
    let analyst = acme.token("analyst");
    let winsorize = json!({ "name": "winsorize", "params": { "method": "quantile", "lower": 0, "upper": 0.95, "columns": ["tv"] } });
    let queued = start(
        &app,
        analyst,
        json!({ "source_id": source, "params": { "budget": 500 }, "preprocessors": [winsorize] }),
    )
    .await;
    assert_eq!(queued["inputs"]["preprocessors"][0]["name"], "winsorize");
    assert_eq!(
        queued["inputs"]["preprocessors"][0]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let done = wait_end(&app, analyst, queued["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    // Without a list: every enabled preprocessor, with its configured params.
    let config =
        json!({ "enabled": true, "config": { "params": { "method": "z-score", "max_z": 3 } } });
    let set = app
        .put(
            &format!("/admin/tenants/{}/features/plugin:winsorize", acme.id),
            &admin,
            config,
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let defaults = start(
        &app,
        analyst,
        json!({ "source_id": source, "params": { "budget": 500 } }),
    )
    .await;
    assert_eq!(
        defaults["inputs"]["preprocessors"],
        json!([{
            "name": "winsorize", "version": "0.1.0",
            "sha256": queued["inputs"]["preprocessors"][0]["sha256"],
            "params": { "method": "z-score", "max_z": 3 }
        }])
    );
    wait_end(&app, analyst, defaults["id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn params_are_checked_in_the_host_and_plugins_must_be_enabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");
    let refused = |body: Value| {
        let app = &app;
        async move {
            let response = app.post("/tenant/analysis/run", analyst, body).await;
            let status = response.status();
            let problem: Value = response.json().await.unwrap();
            (status, problem["error"].clone())
        }
    };
    let (status, error) =
        refused(json!({ "source_id": source, "params": { "budget": "many" } })).await;
    assert_eq!(
        (status, error["code"].as_str(), error["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_params"),
            Some("params.budget")
        ),
        "{error}"
    );
    let (status, error) = refused(json!({ "source_id": source, "params": { "no_such": 1 } })).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("params")),
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("no_such"),
        "{error}"
    );
    enable(&app, &admin, &acme, "winsorize", true).await;
    let bad_step = json!([{ "name": "winsorize", "params": { "method": "quantile", "lower": 0, "upper": 0.9, "columns": "tv" } }]);
    let (status, error) = refused(json!({ "source_id": source, "preprocessors": bad_step })).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("preprocessors[0].params.columns")
        ),
        "{error}"
    );
    let (status, error) =
        refused(json!({ "source_id": source, "preprocessors": [{ "name": "impute" }] })).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("plugin_disabled")),
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("impute"),
        "names the plugin: {error}"
    );
    let (status, error) =
        refused(json!({ "source_id": source, "model": "winsorize", "preprocessors": [] })).await;
    assert_eq!(
        (status, error["code"].as_str(), error["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("wrong_plugin_kind"),
            Some("model")
        )
    );
    let (status, _) = refused(json!({ "source_id": source, "model": "no-such-model" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = refused(
        json!({ "source_id": source, "seed": 1, "params": { "seed": 2 }, "preprocessors": [] }),
    )
    .await;
    assert_eq!(
        (status, error["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("seed"))
    );
    let (status, error) = refused(json!({ "source_id": uuid::Uuid::new_v4() })).await;
    assert_eq!(
        (status, error["code"].as_str(), error["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_source"),
            Some("source_id")
        )
    );
    let (status, error) = refused(json!({ "source_id": source, "colour": "red" })).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("colour")),
        "{error}"
    );
    enable(&app, &admin, &acme, "ridge-mmm", false).await;
    let (status, error) = refused(json!({ "source_id": source })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        error["message"].as_str().unwrap().contains("ridge-mmm"),
        "{error}"
    );
    // Without a configured model the default is bayes-mmm, the more
    // accurate built-in model on the accuracy suite; it is not switched on here.
    let path = format!("/admin/tenants/{}/features/analyses", acme.id);
    let off = app.put(&path, &admin, json!({ "enabled": false })).await;
    assert_eq!(off.status(), StatusCode::OK);
    let (status, error) = refused(json!({ "source_id": source })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        error["message"].as_str().unwrap().contains("bayes-mmm"),
        "{error}"
    );
    // Nothing was queued by any of these.
    let list: Value = app
        .get("/tenant/analysis", analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn an_idempotency_key_returns_the_same_analysis() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");
    let body = json!({ "source_id": source, "params": { "budget": 500 } });
    let post = |key: &'static str, body: Value| {
        app.request(Method::POST, "/tenant/analysis/run", Some(analyst))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first: Value = post("retry-1", body.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = post("retry-1", body.clone()).await.unwrap();
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    let other = post(
        "retry-1",
        json!({ "source_id": source, "params": { "budget": 600 } }),
    )
    .await
    .unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(code(other).await, "idempotency_key_reused");
    let bad = post("has space", body.clone()).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Value = app
        .get("/tenant/analysis", analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    // Keys are per tenant.
    let (globex, globex_source) = tenant_with_data(&app, &admin, "globex").await;
    let theirs = app
        .request(
            Method::POST,
            "/tenant/analysis/run",
            Some(globex.token("analyst")),
        )
        .header("idempotency-key", "retry-1")
        .json(&json!({ "source_id": globex_source }))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::ACCEPTED);
    let theirs: Value = theirs.json().await.unwrap();
    assert_ne!(theirs["id"], first["id"]);
}

#[tokio::test]
async fn another_tenant_cannot_see_read_stream_or_cancel_an_analysis() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let (globex, _) = tenant_with_data(&app, &admin, "globex").await;
    let queued = start(&app, acme.token("analyst"), json!({ "source_id": source })).await;
    let id = queued["id"].as_str().unwrap();
    let theirs = globex.token("tenant_admin");
    for path in ["", "/decomposition", "/response-curves", "/events"] {
        let response = app
            .get(&format!("/tenant/analysis/{id}{path}"), theirs)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "GET {path}");
    }
    let cancel = app
        .post(&format!("/tenant/analysis/{id}/cancel"), theirs, json!({}))
        .await;
    assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    let list: Value = app
        .get("/tenant/analysis", theirs)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let on_their_source = app
        .post(
            "/tenant/analysis/run",
            theirs,
            json!({ "source_id": source }),
        )
        .await;
    assert_eq!(on_their_source.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(on_their_source).await, "unknown_source");
    // Still queued for its owner (no workers here), and theirs to cancel.
    assert_eq!(
        analysis(&app, acme.token("viewer"), id).await["status"],
        "queued"
    );
    let viewer_cancel = app
        .post(
            &format!("/tenant/analysis/{id}/cancel"),
            acme.token("viewer"),
            json!({}),
        )
        .await;
    assert_eq!(viewer_cancel.status(), StatusCode::FORBIDDEN);
    let (status, _) = table(&app, acme.token("viewer"), id, "decomposition", "text/csv").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "no results before it succeeded"
    );
}

#[tokio::test]
async fn a_queued_analysis_never_starts_and_a_running_fit_stops_when_cancelled() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");
    // About a minute of search: far longer than the test waits.
    let long = json!({ "source_id": source, "params": { "budget": 2000000 }, "preprocessors": [] });
    let running = start(&app, analyst, long.clone()).await;
    let running_id = running["id"].as_str().unwrap();
    wait_for(&app, analyst, running_id, Duration::from_secs(60), |a| {
        a["progress"]["stage"] == "fit" && a["progress"]["done"].as_i64() > Some(0)
    })
    .await;
    // One worker, busy: this one waits in the queue.
    let queued = start(&app, analyst, long).await;
    let queued_id = queued["id"].as_str().unwrap();
    let cancelled = app
        .post(
            &format!("/tenant/analysis/{queued_id}/cancel"),
            analyst,
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");

    let asked = Instant::now();
    let response = app
        .post(
            &format!("/tenant/analysis/{running_id}/cancel"),
            analyst,
            json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let stopped = wait_for(&app, analyst, running_id, Duration::from_secs(30), ended).await;
    let took = asked.elapsed();
    assert_eq!(stopped["status"], "cancelled", "{stopped}");
    assert!(
        stopped["progress"]["done"].as_i64() < Some(2_000_000),
        "stopped mid-search"
    );
    println!(
        "a running fit was cancelled {} ms after the request",
        took.as_millis()
    );

    let again = app
        .post(
            &format!("/tenant/analysis/{running_id}/cancel"),
            analyst,
            json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    // The cancelled queued one never ran, and the worker is free for the next.
    let later = analysis(&app, analyst, queued_id).await;
    assert_eq!(
        (later["status"].as_str(), later["attempts"].as_i64()),
        (Some("cancelled"), Some(0))
    );
    let next = start(
        &app,
        analyst,
        json!({ "source_id": source, "params": { "budget": 300 }, "preprocessors": [] }),
    )
    .await;
    assert_eq!(
        wait_end(&app, analyst, next["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
}

#[tokio::test]
async fn a_hostile_plugin_fails_its_own_analysis_while_another_tenant_succeeds() {
    let app = TestApp::spawn_with_workers(2).await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let (globex, globex_source) = tenant_with_data(&app, &admin, "globex").await;
    assert_eq!(
        publish(&app, "/admin/plugins", &admin, test_plugin("hostile"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let limits = json!({ "enabled": true, "config": { "timeout_secs": 1, "memory_mb": 64 } });
    let set = app
        .put(
            &format!("/admin/tenants/{}/features/plugin:hostile", acme.id),
            &admin,
            limits,
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let analyst = acme.token("analyst");
    let mut hostile = Vec::new();
    for (mode, expected) in [
        ("panic", "plugin_panic"),
        ("infinite-loop", "plugin_timeout"),
        ("memory-bomb", "plugin_memory_limit"),
        ("guest-error", "plugin_numerical"),
    ] {
        let body = json!({ "source_id": source, "preprocessors": [{ "name": "hostile", "params": { "mode": mode } }] });
        hostile.push((start(&app, analyst, body).await, expected));
    }
    let theirs = start(
        &app,
        globex.token("analyst"),
        json!({ "source_id": globex_source, "params": { "budget": 1000 }, "preprocessors": [] }),
    )
    .await;
    for (queued, expected) in hostile {
        let done = wait_end(&app, analyst, queued["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "failed", "{done}");
        assert_eq!(done["error"]["fault"], "plugin", "{done}");
        assert_eq!(done["error"]["code"], expected, "{done}");
        assert!(
            done["error"]["plugin"]
                .as_str()
                .unwrap()
                .starts_with("hostile@")
        );
        assert_eq!(
            done["attempts"], 1,
            "the guest's own failure is not retried"
        );
    }
    let done = wait_end(
        &app,
        globex.token("analyst"),
        theirs["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
}

#[tokio::test]
async fn one_tenants_queue_does_not_starve_another_tenant() {
    let app = TestApp::spawn_with_workers(2).await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let (globex, globex_source) = tenant_with_data(&app, &admin, "globex").await;
    let body = json!({ "source_id": source, "params": { "budget": 20000 }, "preprocessors": [] });
    let mut theirs = Vec::new();
    for _ in 0..8 {
        theirs.push(start(&app, acme.token("analyst"), body.clone()).await);
    }
    let one = start(
        &app,
        globex.token("analyst"),
        json!({ "source_id": globex_source, "params": { "budget": 20000 }, "preprocessors": [] }),
    )
    .await;
    let mine = wait_end(&app, globex.token("analyst"), one["id"].as_str().unwrap()).await;
    assert_eq!(mine["status"], "succeeded");
    let mut before = 0;
    for a in &theirs {
        let a = wait_end(&app, acme.token("analyst"), a["id"].as_str().unwrap()).await;
        assert_eq!(a["status"], "succeeded");
        if a["finished_at"].as_str() < mine["finished_at"].as_str() {
            before += 1;
        }
    }
    // Two workers: at most the two of acme's already running, and one more
    // finishing meanwhile, end before globex's single analysis.
    assert!(
        before <= 3,
        "{before} of acme's 8 finished before globex's one"
    );
}
