//! Operations: metrics on their own address, rate limits with `Retry-After`,
//! back-pressure with 503, and what must hold across instances on one
//! database (the login throttle, revocation of deleted or demoted users'
//! tokens, suspension).

use std::time::{Duration, Instant};

use mmm_host::config::Rate;
use mmm_host::limits::{ClientLimits, Limits, TenantLimits};
use reqwest::header::RETRY_AFTER;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::api::analyses::{start, tenant_with_data};
use crate::api::helpers::{ADMIN_EMAIL, PASSWORD, TestApp, code, worker_settings};

fn rate(per_second: f64, burst: u32) -> Rate {
    Rate::new(per_second, burst).unwrap()
}

fn retry_after(response: &Response) -> u64 {
    response
        .headers()
        .get(RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn metrics(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Retries `check` for up to two seconds: a change made through one
/// instance reaches the others' caches by NOTIFY, delivered at commit and
/// typically within milliseconds; the contract is "by the next request
/// after the notification arrives", so the test allows the delivery time.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(2), "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_by_route_template() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let viewer = acme.token("viewer");
    for _ in 0..3 {
        assert_eq!(
            app.get("/tenant/data/sources", viewer).await.status(),
            StatusCode::OK
        );
    }
    let missing = format!("/tenant/data/sources/{}", uuid::Uuid::new_v4());
    assert_eq!(
        app.get(&missing, viewer).await.status(),
        StatusCode::NOT_FOUND
    );
    // Never on the API's own listener.
    assert_eq!(
        app.get("/metrics", viewer).await.status(),
        StatusCode::NOT_FOUND
    );

    let text = metrics(&app).await;
    for wanted in [
        r#"mmm_http_requests_total{method="GET",route="/tenant/data/sources",status="200"}"#,
        r#"mmm_http_requests_total{method="GET",route="/tenant/data/sources/{id}",status="404"}"#,
        r#"mmm_http_requests_total{method="GET",route="unmatched",status="404"}"#,
        r#"mmm_http_request_duration_seconds_bucket{method="GET",route="/tenant/data/sources",status="200",le="0.1"}"#,
        r#"mmm_tenant_cache_requests_total{result="hit"}"#,
        r#"mmm_account_cache_requests_total{result="miss"}"#,
        r#"mmm_db_pool_acquire_seconds_count{pool="app"}"#,
        "# TYPE mmm_queue_depth gauge",
        "# TYPE mmm_queue_oldest_age_seconds gauge",
        r#"mmm_db_pool_connections{pool="app",state="in_use"}"#,
    ] {
        assert!(text.contains(wanted), "/metrics lacks {wanted}:\n{text}");
    }
    // Raw ids never become labels.
    assert!(!text.contains(&missing), "a raw path became a label");
    assert!(!text.contains(&acme.id), "a tenant id became a label");
}

#[tokio::test]
async fn a_tenant_over_its_rate_gets_429_with_retry_after_until_its_settings_raise_it() {
    let limits = Limits {
        tenants: TenantLimits::new(rate(0.5, 3), &[]),
        ..Limits::generous()
    };
    let app = TestApp::spawn_limited(worker_settings(0), limits).await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let other = app.tenant_with_every_role(&admin, "other").await;
    // Logging in four users drew nothing: logins carry no tenant token.
    let viewer = acme.token("viewer");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.get("/auth/me", viewer).await.status());
    }
    assert_eq!(statuses, [StatusCode::OK; 3]);
    let refused = app.get("/tenant/data/sources", acme.token("analyst")).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&refused);
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(code(refused).await, "rate_limited");
    // Another tenant's bucket is its own.
    assert_eq!(
        app.get("/auth/me", other.token("viewer")).await.status(),
        StatusCode::OK
    );

    // A bad rate in the settings is refused, naming the field.
    let path = format!("/admin/tenants/{}", acme.id);
    let bad = app
        .patch(
            &path,
            &admin,
            json!({ "settings": { "rate_limit": { "per_second": 0, "burst": 5 } } }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "settings.rate_limit");

    let raised = app
        .patch(
            &path,
            &admin,
            json!({ "settings": { "rate_limit": { "per_second": 1000, "burst": 1000 } } }),
        )
        .await;
    assert_eq!(raised.status(), StatusCode::OK);
    eventually("the raised rate applies", || async {
        app.get("/auth/me", viewer).await.status() == StatusCode::OK
    })
    .await;
    for _ in 0..20 {
        assert_eq!(app.get("/auth/me", viewer).await.status(), StatusCode::OK);
    }
    let text = metrics(&app).await;
    assert!(text.contains(r#"mmm_rate_limited_total{scope="tenant"}"#));
}

#[tokio::test]
async fn the_anonymous_auth_routes_are_limited_per_client_address() {
    let header = reqwest::header::HeaderName::from_static("x-real-ip");
    let limits = Limits {
        clients: ClientLimits::new(rate(0.2, 2), Some(header)),
        ..Limits::generous()
    };
    let app = TestApp::spawn_limited(worker_settings(0), limits).await;
    let login = |ip: &'static str| {
        app.request(reqwest::Method::POST, "/auth/login", None)
            .header("x-real-ip", ip)
            .json(&json!({ "email": ADMIN_EMAIL, "password": PASSWORD }))
            .send()
    };
    assert_eq!(login("192.0.2.1").await.unwrap().status(), StatusCode::OK);
    assert_eq!(login("192.0.2.1").await.unwrap().status(), StatusCode::OK);
    let refused = login("192.0.2.1").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&refused) >= 1);
    assert_eq!(code(refused).await, "rate_limited");
    // Another address is not held back, nor is an authenticated route.
    let tokens: Value = login("192.0.2.2").await.unwrap().json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    for _ in 0..5 {
        assert_eq!(
            app.get("/admin/tenants", token).await.status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn parallel_wrong_passwords_on_two_instances_are_held_to_five_checks() {
    let one = TestApp::spawn().await;
    let two = one.sibling(Limits::generous()).await;
    let admin = one.admin_token().await;
    let acme = one.create_tenant(&admin, "acme").await;
    let acme_id = acme["id"].as_str().unwrap();
    one.create_user(&admin, acme_id, "lead@acme.test", "analyst")
        .await;

    let attempts = (0..24).map(|i| {
        let app = if i % 2 == 0 { &one } else { &two };
        app.login("lead@acme.test", "not the password", Some("acme"))
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (checked, refused),
        (5, 19),
        "two instances let {checked} of 24 parallel guesses reach the password check: {statuses:?}"
    );
    // The right password is refused on both until the window ends.
    for app in [&one, &two] {
        let locked = app.login("lead@acme.test", PASSWORD, Some("acme")).await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(retry_after(&locked) > 60);
    }
}

#[tokio::test]
async fn a_deleted_or_demoted_users_token_stops_working_on_every_instance() {
    let one = TestApp::spawn().await;
    let two = one.sibling(Limits::generous()).await;
    let admin = one.admin_token().await;
    let acme = one.tenant_with_every_role(&admin, "acme").await;
    let tenant_admin = acme.token("tenant_admin");
    let scientist = acme.token("data_scientist");
    let viewer = acme.token("viewer");
    // Both instances have each token's check cached.
    for app in [&one, &two] {
        for token in [scientist, viewer] {
            assert_eq!(app.get("/auth/me", token).await.status(), StatusCode::OK);
        }
    }

    let demoted = one
        .patch(
            &format!("/tenant/users/{}", acme.user_id("data_scientist")),
            tenant_admin,
            json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let deleted = one
        .delete(
            &format!("/tenant/users/{}", acme.user_id("viewer")),
            tenant_admin,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    for (token, why) in [(scientist, "demoted"), (viewer, "deleted")] {
        eventually(
            &format!("the {why} user's token is refused on instance two"),
            || async { two.get("/auth/me", token).await.status() == StatusCode::UNAUTHORIZED },
        )
        .await;
        let refused = one.get("/auth/me", token).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(code(refused).await, "token_revoked");
    }
    // The demoted user signs in again and gets the new role's token.
    let fresh: Value = two
        .login("data_scientist@acme.test", PASSWORD, Some("acme"))
        .await
        .json()
        .await
        .unwrap();
    let token = fresh["access_token"].as_str().unwrap();
    let me: Value = one.get("/auth/me", token).await.json().await.unwrap();
    assert_eq!(me["role"], "viewer");

    // A suspended tenant is refused on both instances.
    let suspended = two
        .patch(
            &format!("/admin/tenants/{}", acme.id),
            &admin,
            json!({ "status": "suspended" }),
        )
        .await;
    assert_eq!(suspended.status(), StatusCode::OK);
    for app in [&one, &two] {
        eventually("the suspension is seen", || async {
            app.get("/auth/me", tenant_admin).await.status() == StatusCode::FORBIDDEN
        })
        .await;
    }
}

#[tokio::test]
async fn a_full_queue_sheds_new_runs_with_503_and_retry_after() {
    let limits = Limits {
        max_queued_analyses: 1,
        ..Limits::generous()
    };
    let app = TestApp::spawn_limited(worker_settings(0), limits).await;
    let admin = app.admin_token().await;
    let (acme, source) = tenant_with_data(&app, &admin, "acme").await;
    let analyst = acme.token("analyst");
    let body = json!({ "source_id": source, "model": "ridge-mmm" });
    start(&app, analyst, body.clone()).await;
    let shed = app.post("/tenant/analysis/run", analyst, body).await;
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after(&shed) >= 1);
    assert_eq!(code(shed).await, "queue_full");
    let listed: Value = app
        .get("/tenant/analysis", analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1, "the shed run left a row: {listed}");
}

#[tokio::test]
async fn a_request_past_the_deadline_gets_503_and_writes_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = Limits {
        // Long enough for the logins below on a loaded machine.
        request_timeout: Duration::from_secs(3),
        ..Limits::generous()
    };
    let app = TestApp::spawn_limited(worker_settings(0), limits).await;
    let admin = app.admin_token().await;

    // A body that never arrives whole: the handler waits on it past the deadline.
    let body = json!({ "slug": "slowpoke", "name": "Slow" }).to_string();
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /admin/tenants HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {admin}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut answer))
        .await
        .expect("an answer after the deadline")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains("longer than 3 s"), "{answer}");

    let tenants: Value = app
        .get("/admin/tenants", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tenants["total"], 0);
    assert_eq!(app.get("/healthz", &admin).await.status(), StatusCode::OK);
}
