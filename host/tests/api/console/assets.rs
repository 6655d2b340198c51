//! The console's files over HTTP: where they are, their headers, and that
//! the page loads nothing from anywhere else.

use reqwest::{Method, StatusCode, header};

use crate::api::helpers::{TestApp, code};

#[tokio::test]
async fn the_console_is_served_with_a_strict_policy_and_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;
    let root = app.request(Method::GET, "/", None).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()[header::LOCATION], "/console/");

    let page = app
        .request(Method::GET, "/console/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        mmm_host::console::CONTENT_SECURITY_POLICY
    );
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(mmm_host::console::CONTENT_SECURITY_POLICY.contains(directive));
    }
    assert!(!mmm_host::console::CONTENT_SECURITY_POLICY.contains("unsafe"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "{html}"
    );

    // Each script the page names is served from here, as JavaScript.
    for script in html.split("src=\"").skip(1) {
        let src = script.split('"').next().unwrap();
        let response = app
            .request(Method::GET, &format!("/console/{src}"), None)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{src}");
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/javascript"),
            "{src}"
        );
    }

    // Revalidation by content hash.
    let etag = headers[header::ETAG].clone();
    let again = app
        .request(Method::GET, "/console/", None)
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // Unknown files and the package's other files are JSON 404s.
    for path in [
        "/console/nope.js",
        "/console/node_modules/echarts/package.json",
    ] {
        let missing = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(code(missing).await, "not_found");
    }
}
