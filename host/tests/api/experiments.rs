//! Experiments through the API: recorded, listed, read and deleted under
//! the tenant's wall; every bad one refused with its field named and
//! nothing stored; and an analysis hands the tenant's tests on its channels
//! to the model and keeps what it handed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::analyses::{start, tenant_with_data, wait_end};
use crate::api::helpers::TestApp;
use crate::api::plugins::enable;

/// A go-dark test on TV in the example's first spring.
fn holdout() -> Value {
    json!({
        "name": "TV spring holdout",
        "channel": "tv",
        "start": "2022-03-07",
        "end": "2022-03-27",
        "spend_change": -18000.0,
        "lift": -30000.0,
        "standard_error": 8000.0,
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut body = holdout();
    body[field] = value;
    body
}

async fn refused(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let response = app.post("/tenant/experiments", token, body.clone()).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{body}"
    );
    let problem: Value = response.json().await.unwrap();
    let error = &problem["error"];
    (
        error["code"].as_str().unwrap_or_default().to_owned(),
        error["field"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn experiments_are_checked_against_the_data_and_walled_per_tenant() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (tenant, _source) = tenant_with_data(&app, &admin, "lift-a").await;
    let (other, _) = tenant_with_data(&app, &admin, "lift-b").await;
    let analyst = tenant.token("analyst");

    let response = app.post("/tenant/experiments", analyst, holdout()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let stored: Value = response.json().await.unwrap();
    let id = stored["id"].as_str().unwrap().to_owned();
    assert_eq!(stored["channel"], "tv");
    assert_eq!(stored["start"], "2022-03-07");
    assert_eq!(stored["standard_error"], 8000.0);

    for (body, code, field) in [
        (
            with("channel", json!("podcasts")),
            "unknown_channel",
            "channel",
        ),
        // `revenue` is a column, but not a media one.
        (
            with("channel", json!("revenue")),
            "unknown_channel",
            "channel",
        ),
        (
            json!({ "channel": "tv", "start": "2031-01-06", "end": "2031-01-26",
                "spend_change": -1000.0, "lift": -10.0, "standard_error": 5.0 }),
            "outside_data",
            "start",
        ),
        (
            with("standard_error", json!(-1.0)),
            "invalid_value",
            "standard_error",
        ),
        (
            with("standard_error", json!(0.0)),
            "invalid_value",
            "standard_error",
        ),
        (with("end", json!("2022-03-01")), "invalid_value", "end"),
        (
            with("spend_change", json!(0.0)),
            "invalid_value",
            "spend_change",
        ),
    ] {
        assert_eq!(
            refused(&app, analyst, body.clone()).await,
            (code.to_owned(), field.to_owned()),
            "{body}"
        );
    }
    // Malformed bodies are refused by the extractor, naming the field too.
    let (_, field) = refused(&app, analyst, with("start", json!("March"))).await;
    assert!(field.contains("start"), "{field}");

    // A viewer reads but does not record.
    let viewer = tenant.token("viewer");
    let response = app.post("/tenant/experiments", viewer, holdout()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let list: Value = app
        .get("/tenant/experiments", viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "refusals stored nothing: {list}");
    let filtered: Value = app
        .get("/tenant/experiments?channel=search", viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["total"], 0);
    let one = app.get(&format!("/tenant/experiments/{id}"), viewer).await;
    assert_eq!(one.status(), StatusCode::OK);

    // Another tenant neither sees nor deletes it.
    let outsider = other.token("tenant_admin");
    let response = app
        .get(&format!("/tenant/experiments/{id}"), outsider)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .delete(&format!("/tenant/experiments/{id}"), outsider)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let theirs: Value = app
        .get("/tenant/experiments", outsider)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["total"], 0);

    let response = app
        .delete(&format!("/tenant/experiments/{id}"), analyst)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.get(&format!("/tenant/experiments/{id}"), analyst).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_analysis_hands_its_model_the_tests_on_its_channels_and_keeps_them() {
    let app = TestApp::spawn_with_workers(2).await;
    let admin = app.admin_token().await;
    let (tenant, source) = tenant_with_data(&app, &admin, "lift-run").await;
    let analyst = tenant.token("analyst");
    let response = app.post("/tenant/experiments", analyst, holdout()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let experiment: Value = response.json().await.unwrap();
    let id = experiment["id"].as_str().unwrap().to_owned();

    let run = |experiments: Option<Value>| {
        let mut body = json!({ "source_id": source, "params": { "budget": 1500 }, "seed": 5,
            "preprocessors": [] });
        if let Some(list) = experiments {
            body["experiments"] = list;
        }
        body
    };
    // An unknown id is refused, naming its place in the list.
    let response = app
        .post(
            "/tenant/analysis/run",
            analyst,
            run(Some(json!([uuid::Uuid::new_v4()]))),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["error"]["code"], "unusable_experiment");
    assert_eq!(problem["error"]["field"], "experiments[0]");

    let calibrated = start(&app, analyst, run(None)).await;
    let plain = start(&app, analyst, run(Some(json!([])))).await;
    let calibrated = wait_end(&app, analyst, calibrated["id"].as_str().unwrap()).await;
    let plain = wait_end(&app, analyst, plain["id"].as_str().unwrap()).await;
    assert_eq!(calibrated["status"], "succeeded", "{calibrated}");
    assert_eq!(plain["status"], "succeeded", "{plain}");
    let used = calibrated["inputs"]["experiments"].as_array().unwrap();
    assert_eq!(used.len(), 1, "{calibrated}");
    assert_eq!(used[0]["id"], id.as_str());
    assert_eq!(used[0]["lift"], -30000.0);
    assert_eq!(plain["inputs"]["experiments"], json!([]));
    assert_ne!(calibrated["inputs"]["digest"], plain["inputs"]["digest"]);
    let calibration = &calibrated["summary"]["calibration"];
    assert_eq!(calibration[0]["channel"], "tv", "{}", calibrated["summary"]);
    assert_eq!(calibration[0]["measured_lift"], -30000.0);
    assert!(calibration[0]["implied_lift"].is_number());

    // Deleting the test leaves the analysis's snapshot as it was.
    let response = app
        .delete(&format!("/tenant/experiments/{id}"), analyst)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let again: Value = app
        .get(
            &format!("/tenant/analysis/{}", calibrated["id"].as_str().unwrap()),
            analyst,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["inputs"]["experiments"],
        calibrated["inputs"]["experiments"]
    );
}

/// The Bayesian model through the service: an analysis with a lift test in
/// its likelihood, and a recommendation over its posterior draws.
#[tokio::test]
async fn bayes_mmm_calibrates_in_an_analysis_and_backs_a_recommendation() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let (tenant, source) = tenant_with_data(&app, &admin, "lift-bayes").await;
    enable(&app, &admin, &tenant, "bayes-mmm", true).await;
    let analyst = tenant.token("analyst");
    let response = app.post("/tenant/experiments", analyst, holdout()).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Fewer draws than the default keep the test short; the default fit is benchmarked.
    let body = json!({ "source_id": source, "model": "bayes-mmm", "seed": 11, "preprocessors": [],
        "params": { "chains": 2, "warmup": 200, "draws": 200 } });
    let queued = start(&app, analyst, body).await;
    let done = wait_end(&app, analyst, queued["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let summary = &done["summary"];
    assert_eq!(summary["sampler"]["chains"], 2, "{summary}");
    let lifts = summary["calibration"].as_array().unwrap();
    assert_eq!(lifts.len(), 1, "{summary}");
    assert_eq!(lifts[0]["measured_lift"], -30000.0);
    for c in summary["channels"].as_array().unwrap() {
        let (low, roi, high) = (
            c["roi_interval"][0].as_f64().unwrap(),
            c["roi"].as_f64().unwrap(),
            c["roi_interval"][1].as_f64().unwrap(),
        );
        assert!(low < roi && roi < high, "{c}");
    }

    let path = format!(
        "/tenant/recommendations?analysis_id={}",
        done["id"].as_str().unwrap()
    );
    let response = app.get(&path, analyst).await;
    let status = response.status();
    let recommendation: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{recommendation}");
    let change = &recommendation["totals"]["expected_kpi_change"];
    assert!(
        change["low"].as_f64().unwrap() < change["high"].as_f64().unwrap(),
        "posterior draws give an interval: {change}"
    );
}
