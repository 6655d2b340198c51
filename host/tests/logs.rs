//! The real `mmm serve` in production log format: every request's line is
//! one JSON object carrying its request id, route template, tenant, user,
//! status and latency, and no secret; every refused request is a security
//! line naming route, tenant, user and decision; SIGTERM lets the request in
//! flight finish, takes no new connection and ends the process cleanly. The
//! process's `/metrics` answers on its own port, not on the API's, and with
//! `MMM_OTLP_ENDPOINT` its spans reach an OTLP/HTTP collector (one run by
//! the test that keeps what it is sent).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN: &str = "admin@example.test";
const PASSWORD: &str = "a long enough password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn send(http: &reqwest::Client, req: reqwest::RequestBuilder) -> Value {
    let response = http.execute(req.build().unwrap()).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

fn lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[tokio::test]
async fn request_and_refusal_lines_are_json_and_sigterm_drains_the_request_in_flight() {
    let dir = TempDir(std::env::temp_dir().join(format!("mmm-logs-test-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let log = dir.0.join("serve.log");
    let (port, metrics_port) = (free_port(), free_port());
    let (collector, exports) = collector().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmm"))
        .arg("serve")
        .env("MMM_DATA_DIR", dir.0.join("data"))
        .env(
            "MMM_PLUGIN_CACHE_DIR",
            crate::api::helpers::plugin_cache_dir(),
        )
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info,sqlx=warn")
        .env("MMM_LOG_FORMAT", "json")
        .env("MMM_BIND", format!("127.0.0.1:{port}"))
        .env("MMM_METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
        .env("MMM_WORKERS", "0")
        .env("MMM_BASE_DOMAIN", "mmm.test")
        .env("MMM_OTLP_ENDPOINT", &collector)
        .env("MMM_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
        .env("MMM_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .env("MMM_POLICY_DIR", workspace().join("policies"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mmm serve");
    let api = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let ready = http.get(format!("{api}/readyz")).send().await;
        if matches!(ready, Ok(r) if r.status() == StatusCode::OK) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "not ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let admin = send(
        &http,
        http.post(format!("{api}/auth/login"))
            .json(&json!({ "email": ADMIN, "password": PASSWORD })),
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = send(
        &http,
        http.post(format!("{api}/admin/tenants"))
            .bearer_auth(&admin)
            .json(&json!({ "slug": "acme", "name": "Acme" })),
    )
    .await;
    let user = send(
        &http,
        http.post(format!(
            "{api}/admin/tenants/{}/users",
            tenant["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .json(&json!({ "email": "lead@acme.test", "password": PASSWORD, "role": "analyst" })),
    )
    .await;
    let token = send(
        &http,
        http.post(format!("{api}/auth/login"))
            .json(&json!({ "email": "lead@acme.test", "password": PASSWORD, "tenant": "acme" })),
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let request_id = "test-request-0001";
    let me = http
        .get(format!("{api}/auth/me"))
        .bearer_auth(&token)
        .header("x-request-id", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers()["x-request-id"], request_id);

    let metrics = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"mmm_http_requests_total{method="GET",route="/auth/me",status="200"} 1"#),
        "{text}"
    );

    // Refusals: a forged token, a role the route is not for, a token sent
    // to another tenant's subdomain.
    let forged = format!("{}x", &token[..token.len() - 1]);
    let refused = [
        (http.get(format!("{api}/auth/me")).bearer_auth(&forged), 401),
        (
            http.get(format!("{api}/admin/tenants")).bearer_auth(&token),
            403,
        ),
        (
            http.get(format!("{api}/tenant"))
                .bearer_auth(&token)
                .header("host", "globex.mmm.test"),
            403,
        ),
    ];
    for (request, status) in refused {
        assert_eq!(request.send().await.unwrap().status().as_u16(), status);
    }

    // A request in flight when SIGTERM arrives: its body still trickling in.
    let body = json!({ "slug": "late", "name": "Late" }).to_string();
    let mut in_flight = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /admin/tenants HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {admin}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    // New connections are no longer taken...
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fresh = reqwest::Client::new();
        if fresh.get(format!("{api}/healthz")).send().await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    // ...while the one in flight completes.
    in_flight.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit 60 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "SIGTERM exit: {status}");

    let lines = lines(&log);
    let line = lines
        .iter()
        .find(|l| {
            l["span"]["request_id"] == request_id
                && l["fields"]["message"] == "finished processing request"
        })
        .unwrap_or_else(|| panic!("no response line for {request_id}: {lines:#?}"));
    assert_eq!(line["span"]["route"], "/auth/me");
    assert_eq!(line["span"]["tenant"], "acme");
    assert_eq!(line["span"]["user"], user["id"]);
    assert_eq!(line["fields"]["status"], 200);
    assert!(line["fields"]["latency"].is_string(), "{line}");
    let refusals: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "mmm::security")
        .collect();
    let refusal = |code: &str| {
        refusals
            .iter()
            .find(|l| l["fields"]["code"] == code)
            .unwrap_or_else(|| panic!("no security line for {code}: {refusals:#?}"))
    };
    let forged_line = refusal("invalid_token");
    assert_eq!(forged_line["fields"]["decision"], "unauthenticated");
    assert_eq!(forged_line["fields"]["route"], "/auth/me");
    let role_line = refusal("forbidden");
    assert_eq!(role_line["fields"]["route"], "/admin/tenants");
    assert_eq!(role_line["fields"]["decision"], "forbidden");
    assert_eq!(role_line["fields"]["role"], "analyst");
    assert_eq!(role_line["fields"]["user"], user["id"]);
    assert_eq!(role_line["fields"]["tenant"], tenant["id"]);
    let mismatch = refusal("tenant_mismatch");
    assert_eq!(mismatch["fields"]["subdomain"], "globex");
    assert_eq!(mismatch["fields"]["tenant"], tenant["id"]);
    let all = serde_json::to_string(&lines).unwrap();
    assert!(!all.contains(PASSWORD), "a password reached the log");
    assert!(!all.contains(&token), "a token reached the log");
    assert!(!all.contains(&forged), "a forged token reached the log");

    // The exporter flushed at exit: protobuf trace batches naming the
    // service and the request's route.
    let exports = exports.lock().unwrap();
    assert!(!exports.is_empty(), "no OTLP export reached the collector");
    let sent: Vec<u8> = exports.iter().flatten().copied().collect();
    let has = |needle: &[u8]| sent.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"mmm-serve"), "the service name was not exported");
    assert!(has(b"/auth/me"), "the request span was not exported");
    assert!(
        has(request_id.as_bytes()),
        "the request id was not exported"
    );
}

type Exports = Arc<Mutex<Vec<Vec<u8>>>>;

/// An OTLP/HTTP collector that keeps every protobuf body POSTed to
/// `/v1/traces`; returns its base URL.
async fn collector() -> (String, Exports) {
    use axum::http::{HeaderMap, StatusCode as Status};
    let exports: Exports = Arc::default();
    let kept = exports.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                if headers.get("content-type").and_then(|v| v.to_str().ok())
                    != Some("application/x-protobuf")
                {
                    return Status::UNSUPPORTED_MEDIA_TYPE;
                }
                kept.lock().unwrap().push(body.to_vec());
                Status::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, exports)
}
