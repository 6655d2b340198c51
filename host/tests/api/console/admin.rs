//! A platform admin in the console: tenants, a tenant's users and feature
//! toggles, published plugins; a toggle shows on the tenant's next page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::browser::{Browser, PATIENCE};
use crate::api::data::{EXAMPLE, example_meta, upload};
use crate::api::helpers::{ADMIN_EMAIL, TestApp};

#[tokio::test]
async fn an_admin_switches_a_plugin_on_and_the_tenants_next_page_offers_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let tenant = app.tenant_with_every_role(&admin, "acme").await;
    // Data and a model, so the tenant's run form (and its preprocessors) shows.
    let uploaded = upload(
        &app,
        tenant.token("data_scientist"),
        EXAMPLE.as_bytes(),
        "text/csv",
        &example_meta("weekly"),
    )
    .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    crate::api::plugins::enable(&app, &admin, &tenant, "ridge-mmm", true).await;
    let Some(analyst) = Browser::open(&app, "feature-tenant").await else {
        return;
    };
    analyst.sign_in(Some("acme"), "analyst@acme.test").await;
    analyst.ready("dashboard").await;
    analyst.visit("analyses").await;
    analyst.find("#run-submit").await;
    assert!(
        analyst
            .all("input[data-preprocessor=\"winsorize\"]")
            .await
            .is_empty(),
        "winsorize is offered before it is switched on"
    );

    let browser = Browser::open(&app, "admin").await.unwrap();
    browser.sign_in(None, ADMIN_EMAIL).await;
    browser.ready("admin-tenants").await;
    let tenants = browser.rows("table#tenants").await;
    assert!(
        tenants.iter().any(|cells| cells[0] == "acme"),
        "{tenants:?}"
    );
    browser.screenshot("tenants").await;

    browser
        .follow("a[data-tenant=\"acme\"]", "admin-tenant")
        .await;
    assert_eq!(browser.rows("table#tenant-users").await.len(), 4);
    let toggle = browser
        .find("input[type=checkbox][data-feature=\"plugin:winsorize\"]")
        .await;
    assert!(!toggle.is_selected().await.unwrap());
    toggle.click().await.unwrap();
    // The page saves at once: the API says so.
    let path = format!("/admin/tenants/{}/features", tenant.id);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let features: Value = app.get(&path, &admin).await.json().await.unwrap();
        let on = features
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "plugin:winsorize" && f["enabled"] == json!(true));
        if on {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saved: {features}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    browser.screenshot("tenant").await;

    browser.visit("admin-plugins").await;
    let plugins = browser.rows("table#plugins").await;
    assert!(
        plugins
            .iter()
            .any(|cells| cells.iter().any(|c| c.contains("ridge-mmm"))),
        "{plugins:?}"
    );
    browser.screenshot("plugins").await;

    analyst.visit("dashboard").await;
    analyst.visit("analyses").await;
    analyst.find("input[data-preprocessor=\"winsorize\"]").await;

    // Suspending the tenant from its page: the tenant's API calls stop.
    browser.visit("admin-tenants").await;
    browser
        .follow("a[data-tenant=\"acme\"]", "admin-tenant")
        .await;
    browser.click("#tenant-suspend").await;
    browser
        .until(
            "/reactivate/i.test(document.querySelector('#tenant-suspend').textContent)",
            PATIENCE,
        )
        .await;
    let refused = app.get("/tenant", tenant.token("analyst")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    for browser in [&browser, &analyst] {
        assert_eq!(browser.csp_violations().await, json!([]));
    }
    browser.close().await;
    analyst.close().await;
}
