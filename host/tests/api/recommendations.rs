//! Recommendations through the API on a real fit: the default one computed
//! once and kept, custom objectives, horizons and bounds met to the cent,
//! every infeasible or malformed request refused with nothing stored, and
//! tenant walls on every route.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::analyses::{start, tenant_with_data, wait_end};
use crate::api::helpers::{TestApp, TestTenant};

/// A tenant with a succeeded analysis of the example: (tenant, analysis id).
async fn fitted(app: &TestApp, admin: &str, slug: &str) -> (TestTenant, String) {
    let (tenant, source) = tenant_with_data(app, admin, slug).await;
    let body = json!({ "source_id": source, "params": { "budget": 2000 }, "seed": 3, "preprocessors": [] });
    let queued = start(app, tenant.token("analyst"), body).await;
    let id = queued["id"].as_str().unwrap().to_owned();
    let done = wait_end(app, tenant.token("analyst"), &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    (tenant, id)
}

fn cents(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

fn channel<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == name)
        .unwrap()
}

/// What every recommendation must satisfy, whatever was asked.
fn check_consistent(r: &Value) {
    let channels = r["channels"].as_array().unwrap();
    let total: i64 = channels
        .iter()
        .map(|c| cents(&c["recommended_spend"]))
        .sum();
    assert_eq!(
        total,
        cents(&r["totals"]["recommended_spend"]),
        "the budget to the cent"
    );
    for c in channels {
        let (spend, min, max) = (
            cents(&c["recommended_spend"]),
            cents(&c["bounds"]["min"]),
            cents(&c["bounds"]["max"]),
        );
        assert!(min <= spend && spend <= max, "{c}");
        let change = &c["expected_kpi_change"];
        let (v, lo, hi) = (
            change["value"].as_f64().unwrap(),
            change["low"].as_f64().unwrap(),
            change["high"].as_f64().unwrap(),
        );
        assert!(lo <= v + 1e-6 && v <= hi + 1e-6, "{c}");
    }
    let totals = &r["totals"]["expected_kpi_change"];
    let sum: f64 = channels
        .iter()
        .map(|c| c["expected_kpi_change"]["value"].as_f64().unwrap())
        .sum();
    assert!(
        (totals["value"].as_f64().unwrap() - sum).abs() < 1e-6 * (1.0 + sum.abs()),
        "{totals} vs {sum}"
    );
    assert!(r["solver"]["predict_calls"].as_u64().unwrap() >= 2);
    assert!(
        r["solver"]["scenarios"].as_u64().unwrap() > r["solver"]["predict_calls"].as_u64().unwrap()
    );
    let curves = r["curves"].as_array().unwrap();
    assert_eq!(curves.len(), channels.len());
    for curve in curves {
        let points = curve["points"].as_array().unwrap();
        assert_eq!(points.len(), 21);
        assert_eq!(points[0]["spend"], 0.0);
        assert!(
            curve["recommended"]["spend"].is_number() && curve["current"]["response"].is_number()
        );
    }
}

#[tokio::test]
async fn the_default_recommendation_keeps_the_budget_beats_the_current_split_and_is_stored_once() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let (acme, analysis) = fitted(&app, &admin, "acme").await;
    let viewer = acme.token("viewer");

    let response = app.get("/tenant/recommendations", viewer).await;
    assert_eq!(response.status(), StatusCode::OK);
    let first: Value = response.json().await.unwrap();
    check_consistent(&first);
    assert_eq!(first["analysis_id"], analysis.as_str());
    assert_eq!(first["is_default"], true);
    assert_eq!(first["objective"], "max_response");
    assert_eq!(first["kpi"], "revenue");
    assert_eq!(first["currency"], "EUR");
    assert_eq!(
        first["horizon"],
        json!({ "periods": 156, "spread": "history", "granularity": "weekly" })
    );
    let totals = &first["totals"];
    assert_eq!(
        cents(&totals["recommended_spend"]),
        cents(&totals["current_spend"]),
        "the same budget"
    );
    let gain = totals["expected_kpi_change"]["value"].as_f64().unwrap();
    assert!(gain > 0.0, "moving budget pays on this data: {totals}");
    // At the analysed history the model's interval is anchored: the change's
    // interval is the recommended point's alone, and it contains the point.
    for c in first["channels"].as_array().unwrap() {
        let current = c["current_spend"].as_f64().unwrap();
        let (min, max) = (
            c["bounds"]["min"].as_f64().unwrap(),
            c["bounds"]["max"].as_f64().unwrap(),
        );
        assert!(
            (min - 0.5 * current).abs() < 0.01 && (max - 2.0 * current).abs() < 0.01,
            "{c}"
        );
        assert_eq!(c["bounds"]["kind"], "range");
    }
    let summary = first["summary"].as_str().unwrap();
    assert!(
        summary.contains("same budget") && summary.contains("revenue"),
        "{summary}"
    );

    // Later requests, by any role, get the stored one.
    let again: Value = app
        .get("/tenant/recommendations", acme.token("analyst"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, first);
    let by_analysis: Value = app
        .get(
            &format!("/tenant/recommendations?analysis_id={analysis}"),
            viewer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_analysis["id"], first["id"]);
    let id = first["id"].as_str().unwrap();
    let read: Value = app
        .get(&format!("/tenant/recommendations/{id}"), viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, first);
    let saved: Value = app
        .get("/tenant/recommendations/saved", viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["total"], 1);
    assert_eq!(saved["items"][0]["id"], first["id"]);
}

#[tokio::test]
async fn custom_objectives_horizons_and_bounds_are_met_exactly() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let (acme, analysis) = fitted(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");

    // 13 flat weeks, 400,000.01 to spend: tv held, radio off, search at least 30,000.
    let body = json!({
        "analysis_id": analysis,
        "budget": 400000.01,
        "horizon": { "periods": 13, "spread": "flat" },
        "bounds": {
            "tv": { "fixed": true },
            "radio": { "excluded": true },
            "search": { "min": 30000, "max_relative": 5 },
            "social": { "min_relative": 0, "max": 150000 },
        },
    });
    let response = app.post("/tenant/recommendations", analyst, body).await;
    let status = response.status();
    let r: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{r}");
    check_consistent(&r);
    assert_eq!(r["is_default"], false);
    assert_eq!(cents(&r["totals"]["recommended_spend"]), 40_000_001);
    assert_eq!(r["horizon"]["periods"], 13);
    let tv = channel(&r, "tv");
    assert_eq!(tv["bounds"]["kind"], "fixed");
    assert_eq!(cents(&tv["recommended_spend"]), cents(&tv["current_spend"]));
    let radio = channel(&r, "radio");
    assert_eq!(
        (
            radio["bounds"]["kind"].as_str(),
            cents(&radio["recommended_spend"])
        ),
        (Some("excluded"), 0)
    );
    assert!(cents(&channel(&r, "search")["recommended_spend"]) >= 3_000_000);
    assert!(cents(&channel(&r, "social")["recommended_spend"]) <= 15_000_000);
    assert_eq!(
        r["request"]["horizon"],
        json!({ "periods": 13, "spread": "flat" })
    );

    // The largest budget that keeps the overall ROI at or above a target.
    let default: Value = app
        .get("/tenant/recommendations", analyst)
        .await
        .json()
        .await
        .unwrap();
    let roi_now = default["totals"]["current"]["roi"].as_f64().unwrap();
    let target = (roi_now * 0.9 * 100.0).round() / 100.0;
    let body = json!({ "analysis_id": analysis, "objective": "target_roi", "target": target });
    let response = app.post("/tenant/recommendations", analyst, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let r: Value = response.json().await.unwrap();
    check_consistent(&r);
    let roi = r["totals"]["recommended"]["roi"].as_f64().unwrap();
    assert!(roi >= target - 1e-9, "{roi} < {target}");
    assert!(
        r["totals"]["recommended_spend"].as_f64().unwrap()
            > default["totals"]["current_spend"].as_f64().unwrap(),
        "a lower ROI target affords a larger budget: {}",
        r["totals"]
    );
    assert!(
        r["summary"].as_str().unwrap().contains("largest budget"),
        "{}",
        r["summary"]
    );

    let body = json!({ "analysis_id": analysis, "objective": "target_mroi", "target": 0.5 });
    let response = app.post("/tenant/recommendations", analyst, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    check_consistent(&response.json().await.unwrap());

    let saved: Value = app
        .get(
            &format!("/tenant/recommendations/saved?analysis_id={analysis}"),
            analyst,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["total"], 4);
}

async fn refused(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response = app.post("/tenant/recommendations", token, body).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn bad_requests_name_the_fault_store_nothing_and_tenants_stay_apart() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let (acme, analysis) = fitted(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");
    let cases = [
        (
            json!({ "bounds": { "billboards": { "min": 1 } } }),
            "invalid_value",
            "bounds.billboards",
        ),
        (
            json!({ "bounds": { "tv": { "min": 10, "max": 5 } } }),
            "invalid_value",
            "bounds.tv.min",
        ),
        (
            json!({ "bounds": { "tv": { "min": -1 } } }),
            "invalid_value",
            "bounds.tv.min",
        ),
        (
            json!({ "bounds": { "tv": { "fixed": true, "max": 5 } } }),
            "invalid_value",
            "bounds.tv.fixed",
        ),
        (
            json!({ "bounds": { "tv": { "min": 1, "min_relative": 1 } } }),
            "invalid_value",
            "bounds.tv.min_relative",
        ),
        (
            json!({ "budget": 10, "bounds": { "tv": { "min": 5000 } } }),
            "infeasible_bounds",
            "budget",
        ),
        (json!({ "budget": 1e12 }), "infeasible_bounds", "budget"),
        (json!({ "budget": -5 }), "invalid_value", "budget"),
        (
            json!({ "bounds": { "tv": { "max": 1e300 } } }),
            "invalid_value",
            "bounds.tv.max",
        ),
        (
            json!({ "bounds": { "tv": { "max_relative": 1e300 } } }),
            "invalid_value",
            "bounds.tv.max_relative",
        ),
        (json!({ "target": 2 }), "invalid_value", "target"),
        (
            json!({ "objective": "target_roi" }),
            "invalid_value",
            "target",
        ),
        (
            json!({ "objective": "target_roi", "target": 2, "budget": 5 }),
            "invalid_value",
            "budget",
        ),
        (
            json!({ "objective": "target_roi", "target": 1e9 }),
            "target_unreachable",
            "target",
        ),
        (
            json!({ "horizon": { "periods": 0 } }),
            "invalid_value",
            "horizon.periods",
        ),
        (
            json!({ "horizon": { "periods": 2.5 } }),
            "invalid_value",
            "horizon.periods",
        ),
    ];
    for (extra, code, field) in cases {
        let mut body = json!({ "analysis_id": analysis });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, problem) = refused(&app, analyst, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {problem}"
        );
        assert_eq!(problem["error"]["code"], code, "{body} → {problem}");
        assert_eq!(problem["error"]["field"], field, "{body} → {problem}");
    }
    let (status, problem) = refused(
        &app,
        analyst,
        json!({ "analysis_id": analysis, "objective": "min_spend" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let saved: Value = app
        .get("/tenant/recommendations/saved", analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["total"], 0, "a refused request stores nothing");
    let (status, _) = refused(
        &app,
        acme.token("viewer"),
        json!({ "analysis_id": analysis }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another tenant: no analysis yet, and acme's are invisible on every route.
    let (globex, globex_source) = tenant_with_data(&app, &admin, "globex").await;
    let foreign = globex.token("analyst");
    let response = app.get("/tenant/recommendations", foreign).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .get(
            &format!("/tenant/recommendations?analysis_id={analysis}"),
            foreign,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, _) = refused(&app, foreign, json!({ "analysis_id": analysis })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine: Value = app
        .get("/tenant/recommendations", analyst)
        .await
        .json()
        .await
        .unwrap();
    let id = mine["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/tenant/recommendations/{id}"), foreign)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let theirs: Value = app
        .get("/tenant/recommendations/saved", foreign)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["total"], 0);
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(
        app.get(&format!("/tenant/recommendations/{unknown}"), analyst)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // An analysis that has not succeeded yet.
    let body =
        json!({ "source_id": globex_source, "params": { "budget": 200000 }, "preprocessors": [] });
    let queued = start(&app, foreign, body).await;
    let (status, problem) = refused(&app, foreign, json!({ "analysis_id": queued["id"] })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["error"]["code"], "analysis_not_succeeded");
}
