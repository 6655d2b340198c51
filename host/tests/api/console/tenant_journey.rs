//! A tenant's whole day in the console: sign in, upload, fix a broken
//! file, run an analysis and watch it finish, read the results, ask for a
//! recommendation, then the same results on a phone-width screen.

use serde_json::json;

use super::browser::{Browser, PATIENCE};
use crate::api::data::EXAMPLE;
use crate::api::helpers::TestApp;

/// The example with one negative spend: a file the upload refuses.
fn broken_example() -> String {
    let mut lines: Vec<String> = EXAMPLE.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[3].split(',').map(str::to_owned).collect();
    cells[2] = format!("-{}", cells[2]);
    lines[3] = cells.join(",");
    lines.join("\n") + "\n"
}

/// Writes `contents` where the browser can pick it as a file.
fn file(name: &str, contents: &str) -> String {
    let dir = std::env::temp_dir().join(format!("mmm-console-files-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

/// Chooses `path` in the upload form and names each column's role as the
/// example's `roles.json` does.
async fn choose(browser: &Browser, path: &str, name: &str) {
    browser
        .find("#upload-file")
        .await
        .send_keys(path)
        .await
        .unwrap();
    browser.find("select[data-column=\"tv\"]").await;
    let roles = [
        ("date", "date"),
        ("revenue", "kpi"),
        ("tv", "media"),
        ("search", "media"),
        ("social", "media"),
        ("display", "media"),
        ("radio", "media"),
        ("price", "controls"),
        ("promo", "controls"),
    ];
    for (column, role) in roles {
        browser
            .find(&format!("select[data-column=\"{column}\"]"))
            .await
            .select_by_value(role)
            .await
            .unwrap_or_else(|e| panic!("role {role} for {column}: {e}"));
    }
    let field = browser.find("#upload-name").await;
    field.clear().await.unwrap();
    field.send_keys(name).await.unwrap();
}

#[tokio::test]
async fn a_tenant_uploads_runs_an_analysis_reads_its_results_and_gets_a_recommendation() {
    let app = TestApp::spawn_with_workers(1).await;
    let admin = app.admin_token().await;
    let tenant = app.tenant_with_every_role(&admin, "acme").await;
    crate::api::plugins::enable(&app, &admin, &tenant, "ridge-mmm", true).await;
    let Some(browser) = Browser::open(&app, "tenant").await else {
        return;
    };

    browser.screenshot("signin").await;
    browser
        .sign_in(Some("acme"), "data_scientist@acme.test")
        .await;
    browser.ready("dashboard").await;
    browser.screenshot("dashboard-empty").await;

    browser.visit("data").await;
    choose(&browser, &file("broken.csv", &broken_example()), "weekly").await;
    browser.click("#upload-submit").await;
    browser.find("table#upload-errors tbody tr").await;
    let errors = browser.rows("table#upload-errors").await;
    assert!(
        errors
            .iter()
            .any(|cells| cells.get(1).map(String::as_str) == Some("tv")
                && cells.get(2).is_some_and(|v| v.starts_with('-'))),
        "the negative tv spend is not among {errors:?}"
    );
    browser.screenshot("data-validation-error").await;

    choose(&browser, &file("weekly.csv", EXAMPLE), "weekly").await;
    browser.click("#upload-submit").await;
    browser.find("#upload-result").await;
    browser
        .until(
            "[...document.querySelectorAll('table#sources tbody tr')].some(r => r.cells[0].textContent.includes('weekly'))",
            PATIENCE,
        )
        .await;
    browser.screenshot("data").await;

    browser.visit("dashboard").await;
    browser.screenshot("dashboard").await;

    browser.visit("analyses").await;
    browser
        .find("select#run-model")
        .await
        .select_by_value("ridge-mmm")
        .await
        .unwrap();
    browser.click("#run-submit").await;
    browser.find("progress#run-progress").await;
    browser
        .until(
            "document.querySelector('#run-status') && /succeeded/i.test(document.querySelector('#run-status').textContent)",
            PATIENCE,
        )
        .await;
    browser
        .until(
            "(p => p && p.max > 0 && p.value >= p.max)(document.querySelector('progress#run-progress'))",
            PATIENCE,
        )
        .await;
    browser.screenshot("analyses").await;

    browser
        .follow("table#analyses a[data-analysis]", "results")
        .await;
    for chart in [
        "#roi-chart",
        "#share-chart",
        "#decomposition-chart",
        "#curves-chart",
    ] {
        browser
            .find(&format!("{chart}[data-rendered=\"true\"]"))
            .await;
    }
    let roi = browser.rows("table#roi-table").await;
    let channels: Vec<&str> = roi.iter().map(|cells| cells[0].as_str()).collect();
    for channel in ["tv", "search", "social", "display", "radio"] {
        assert!(
            channels.contains(&channel),
            "{channel} missing from {roi:?}"
        );
    }
    browser
        .until(
            "document.querySelector('#fit-metrics').textContent.trim()",
            PATIENCE,
        )
        .await;
    // Tall enough to show every chart of the page in one picture.
    browser.client.set_window_size(1280, 2400).await.unwrap();
    browser.screenshot("results").await;
    browser.client.set_window_size(1280, 800).await.unwrap();

    browser.visit("recommendations").await;
    browser.find("#rec-budget").await;
    browser.click("#rec-submit").await;
    browser.find("table#rec-table tbody tr").await;
    browser.find("#rec-curves[data-rendered=\"true\"]").await;
    let recommended = browser.rows("table#rec-table").await;
    assert_eq!(recommended.len(), 5, "{recommended:?}");
    browser
        .until(
            "document.querySelector('#rec-kpi').textContent.trim()",
            PATIENCE,
        )
        .await;
    browser.screenshot("recommendations").await;

    // The same results at phone width: nothing wider than the screen.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.visit("analyses").await;
    browser
        .follow("table#analyses a[data-analysis]", "results")
        .await;
    browser.find("#roi-chart[data-rendered=\"true\"]").await;
    let overflow = browser
        .until(
            "String(document.documentElement.scrollWidth - window.innerWidth)",
            PATIENCE,
        )
        .await;
    assert!(
        overflow.as_str().unwrap().parse::<i64>().unwrap() <= 1,
        "the page is {overflow} px wider than a phone"
    );
    browser.screenshot("results-phone").await;

    assert_eq!(browser.csp_violations().await, json!([]));
    let stored = browser.stored().await;
    assert_eq!(
        stored,
        json!({ "local": "{}", "session": "{}", "cookies": "" }),
        "the console keeps something in the browser"
    );
    browser.close().await;
}
