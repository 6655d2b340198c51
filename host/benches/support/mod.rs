//! What the host benches share: a real server on its own embedded
//! PostgreSQL with in-server workers, a platform admin, a tenant with
//! ridge-mmm on, a data scientist's client and an uploaded source.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mmm_host::analyses::WorkerSettings;
use mmm_host::auth::SigningKey;
use mmm_host::postgres::EmbeddedCluster;
use mmm_host::postgres::bootstrap::{self, RolePasswords};
use mmm_host::startup::{Application, Settings};
use serde_json::{Value, json};

pub const EXAMPLE: &str = include_str!("../../../examples/synthetic-156w.csv");
const PASSWORD: &str = "a long enough password";

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Client {
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }
}

pub async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    tenant: Option<&str>,
) -> String {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(t) = tenant {
        body["tenant"] = json!(t);
    }
    let tokens: Value = http
        .post(format!("{base}/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn millis(a: &Value, field: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(a[field].as_str().unwrap())
        .unwrap()
        .timestamp_micros() as f64
        / 1000.0
}

/// A running platform; `stop` removes everything it made.
pub struct Bench {
    pub cluster: EmbeddedCluster,
    pub root: PathBuf,
    pub databases: bootstrap::Databases,
    pub ds: Client,
    /// The uploaded source.
    pub source: Value,
}

/// Starts the platform with `workers` in-server workers and uploads `csv`
/// (a table with the columns `roles` names) as the tenant's source.
pub async fn start(name: &str, workers: usize, csv: &str, roles: Value) -> Bench {
    let root = std::env::temp_dir().join(format!("mmm-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let cluster = EmbeddedCluster::start(&root.join("pg"), true)
        .await
        .expect("start PostgreSQL");
    let owner_password = mmm_host::secrets::random_token(24);
    bootstrap::ensure_owner_and_database(
        cluster.superuser_options("postgres"),
        "mmm_owner",
        &owner_password,
        "mmm",
    )
    .await
    .unwrap();
    let passwords = RolePasswords {
        app: mmm_host::secrets::random_token(24),
        platform: mmm_host::secrets::random_token(24),
    };
    let databases = bootstrap::connect(
        cluster.connect_options("mmm_owner", &owner_password, "mmm"),
        &passwords,
        20,
    )
    .await
    .unwrap();
    let settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        base_domain: None,
        signing_key: SigningKey::from_secret(mmm_host::secrets::random_token(32).as_bytes())
            .unwrap(),
        previous_keys: vec![],
        access_token_ttl: Duration::from_secs(3600),
        refresh_token_ttl: Duration::from_secs(3600),
        policy_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies"),
        tenant_cache_ttl: Duration::from_secs(3600),
        plugin_cache_dir: Some(root.join("plugin-cache")),
        plugin_keep_resident: 96 << 20,
        tables: mmm_host::tables::TableReader::default(),
        workers: WorkerSettings {
            count: workers,
            ..WorkerSettings::default()
        },
        limits: mmm_host::limits::Limits::generous(),
        metrics_bind: None,
    };
    let app = Application::build(settings, databases.clone())
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    mmm_host::http::auth::create_platform_admin(&databases.db, "root@bench.test", PASSWORD.into())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let admin = Client {
        token: login(&http, &base, "root@bench.test", None).await,
        http: http.clone(),
        base: base.clone(),
    };
    let tenant = admin
        .send(
            reqwest::Method::POST,
            "/admin/tenants",
            Some(json!({ "slug": "bench", "name": "Bench" })),
        )
        .await;
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    let user = json!({ "email": "ds@bench.test", "password": PASSWORD, "role": "data_scientist" });
    admin
        .send(
            reqwest::Method::POST,
            &format!("/admin/tenants/{tenant_id}/users"),
            Some(user),
        )
        .await;
    for (key, config) in [
        ("plugin:ridge-mmm", json!({})),
        (
            "analyses",
            json!({ "max_running": 2, "model": "ridge-mmm" }),
        ),
    ] {
        let body = json!({ "enabled": true, "config": config });
        admin
            .send(
                reqwest::Method::PUT,
                &format!("/admin/tenants/{tenant_id}/features/{key}"),
                Some(body),
            )
            .await;
    }
    let ds = Client {
        token: login(&http, &base, "ds@bench.test", Some("bench")).await,
        http: http.clone(),
        base: base.clone(),
    };
    let meta = json!({ "name": "example", "roles": roles });
    let source: Value = http
        .post(format!("{base}/tenant/data/upload"))
        .bearer_auth(&ds.token)
        .query(&[("meta", meta.to_string())])
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Bench {
        cluster,
        root,
        databases,
        ds,
        source,
    }
}

impl Bench {
    pub async fn stop(self) {
        let _ = self.cluster.stop().await;
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Polls until the analysis succeeds (panics if it fails).
pub async fn wait(client: &Client, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let a = client
            .send(
                reqwest::Method::GET,
                &format!("/tenant/analysis/{id}"),
                None,
            )
            .await;
        match a["status"].as_str() {
            Some("succeeded") => return a,
            Some("failed" | "cancelled") => panic!("{a}"),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{a}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
