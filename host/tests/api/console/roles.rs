//! What each role sees: the console shows only the controls a role may
//! use, and the API refuses the rest anyway (the console holds no
//! privilege of its own).

use reqwest::StatusCode;
use serde_json::json;

use super::browser::{Browser, PATIENCE};
use crate::api::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn a_viewer_sees_no_upload_or_run_controls_and_the_api_refuses_them_anyway() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let tenant = app.tenant_with_every_role(&admin, "acme").await;
    let Some(browser) = Browser::open(&app, "viewer").await else {
        return;
    };
    browser.sign_in(Some("acme"), "viewer@acme.test").await;
    browser.ready("dashboard").await;
    assert!(browser.all("a[data-nav=\"users\"]").await.is_empty());

    browser.visit("data").await;
    assert!(browser.all("#upload-file").await.is_empty());
    assert!(browser.all("#upload-submit").await.is_empty());
    browser.screenshot("data").await;
    browser.visit("analyses").await;
    assert!(browser.all("#run-submit").await.is_empty());
    browser.visit("recommendations").await;
    assert!(browser.all("#rec-submit").await.is_empty());

    let viewer = tenant.token("viewer");
    let run = app
        .post(
            "/tenant/analysis/run",
            viewer,
            json!({ "model": "ridge-mmm" }),
        )
        .await;
    assert_eq!(run.status(), StatusCode::FORBIDDEN);
    let upload = app
        .request(reqwest::Method::POST, "/tenant/data/upload", Some(viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.csp_violations().await, json!([]));
    browser.close().await;
}

#[tokio::test]
async fn a_tenant_admin_adds_a_user_with_a_role_and_refusals_are_explained_next_to_the_form() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.tenant_with_every_role(&admin, "acme").await;
    let Some(browser) = Browser::open(&app, "users").await else {
        return;
    };
    browser
        .sign_in(Some("acme"), "tenant_admin@acme.test")
        .await;
    browser.ready("dashboard").await;
    browser.visit("users").await;
    assert_eq!(browser.rows("table#users").await.len(), 4);

    let add = |email: &'static str, password: &'static str| {
        let browser = &browser;
        async move {
            let field = browser.find("#user-email").await;
            field.clear().await.unwrap();
            field.send_keys(email).await.unwrap();
            let field = browser.find("#user-password").await;
            field.clear().await.unwrap();
            field.send_keys(password).await.unwrap();
            browser
                .find("select#user-role")
                .await
                .select_by_value("analyst")
                .await
                .unwrap();
            browser.click("#user-submit").await;
        }
    };
    // Too short: said before anything is sent. Taken: said from the API's answer.
    let error = "document.querySelector('#user-error') && document.querySelector('#user-error').textContent.trim()";
    add("grace@acme.test", "short").await;
    let said = browser.until(error, PATIENCE).await;
    assert!(said.as_str().unwrap().contains("12"), "{said}");
    add("analyst@acme.test", PASSWORD).await;
    let said = browser
        .until(&format!("/already/.test({error})"), PATIENCE)
        .await;
    assert_eq!(said, json!(true));
    assert_eq!(browser.rows("table#users").await.len(), 4);

    add("grace@acme.test", PASSWORD).await;
    browser
        .until(
            "[...document.querySelectorAll('table#users tbody tr')].some(r => r.textContent.includes('grace@acme.test'))",
            PATIENCE,
        )
        .await;
    browser.screenshot("users").await;
    let login = app.login("grace@acme.test", PASSWORD, Some("acme")).await;
    assert_eq!(login.status(), StatusCode::OK);
    browser.close().await;
}
