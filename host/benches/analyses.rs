//! Analyses end to end against a real server, its own embedded PostgreSQL
//! and its in-server workers, over HTTP:
//! - latency: the 156-week example from `POST /tenant/analysis/run` to
//!   `succeeded` on `GET`, one at a time (p50, p90), and how much of it is
//!   not the fit itself;
//! - throughput: 50 queued fits on 2 workers (fits per minute), and the
//!   queue's overhead per job (everything but the plugin calls).
//!
//! `cargo bench --profile dev -p mmm-host --bench analyses` (the plugins are
//! release-built wasm either way; the host's profile matters little here).

use std::time::{Duration, Instant};

use mmm_host::analyses::WorkerSettings;
use mmm_host::auth::SigningKey;
use mmm_host::postgres::EmbeddedCluster;
use mmm_host::postgres::bootstrap::{self, RolePasswords};
use mmm_host::startup::{Application, Settings};
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../../examples/synthetic-156w.csv");
const PASSWORD: &str = "a long enough password";

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

async fn login(http: &reqwest::Client, base: &str, email: &str, tenant: Option<&str>) -> String {
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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn millis(a: &Value, field: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(a[field].as_str().unwrap())
        .unwrap()
        .timestamp_micros() as f64
        / 1000.0
}

#[tokio::main]
async fn main() {
    let root = std::env::temp_dir().join(format!("mmm-bench-analyses-{}", std::process::id()));
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
            count: 2,
            ..WorkerSettings::default()
        },
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
        ("analyses", json!({ "max_running": 2 })),
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
    let roles: Value = serde_json::from_str(include_str!("../../examples/roles.json")).unwrap();
    let meta = json!({ "name": "example", "roles": roles });
    let source: Value = http
        .post(format!("{base}/tenant/data/upload"))
        .bearer_auth(&ds.token)
        .query(&[("meta", meta.to_string())])
        .header("content-type", "text/csv")
        .body(EXAMPLE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = json!({ "source_id": source["id"], "preprocessors": [] });

    // Warm-up: compiles (or loads) the component once.
    let warm = ds
        .send(
            reqwest::Method::POST,
            "/tenant/analysis/run",
            Some(run.clone()),
        )
        .await;
    wait(&ds, warm["id"].as_str().unwrap()).await;

    let mut latencies = Vec::new();
    let mut fits = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let queued = ds
            .send(
                reqwest::Method::POST,
                "/tenant/analysis/run",
                Some(run.clone()),
            )
            .await;
        let done = wait(&ds, queued["id"].as_str().unwrap()).await;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        fits.push(done["fit_ms"].as_f64().unwrap());
    }
    latencies.sort_by(f64::total_cmp);
    fits.sort_by(f64::total_cmp);
    println!(
        "end to end (156 weeks, 10,000 candidates, POST → succeeded on GET, 15 runs): p50 {:.0} ms, p90 {:.0} ms; plugin calls p50 {:.0} ms; the rest p50 {:.0} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&fits, 0.5),
        percentile(&latencies, 0.5) - percentile(&fits, 0.5)
    );

    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..50 {
        let queued = ds
            .send(
                reqwest::Method::POST,
                "/tenant/analysis/run",
                Some(run.clone()),
            )
            .await;
        ids.push(queued["id"].as_str().unwrap().to_owned());
    }
    let mut done = Vec::new();
    for id in &ids {
        done.push(wait(&ds, id).await);
    }
    let first_start = done
        .iter()
        .map(|a| millis(a, "started_at"))
        .fold(f64::INFINITY, f64::min);
    let last_end = done
        .iter()
        .map(|a| millis(a, "finished_at"))
        .fold(0.0, f64::max);
    let wall = (last_end - first_start) / 1000.0;
    let plugin_ms: f64 = done.iter().map(|a| a["fit_ms"].as_f64().unwrap()).sum();
    let held_ms: f64 = done
        .iter()
        .map(|a| millis(a, "finished_at") - millis(a, "started_at"))
        .sum();
    let overhead = (wall * 1000.0 * 2.0 - plugin_ms) / 50.0;
    println!(
        "throughput (50 queued fits, 2 in-server workers): {:.1} fits/min (queue to last result {:.1} s, from first claim {wall:.1} s)",
        50.0 / wall * 60.0,
        started.elapsed().as_secs_f64()
    );
    println!(
        "per job: plugin calls {:.0} ms; held but not in a plugin (load data, look up plugins, store results) {:.1} ms; worker time not in a plugin, hand-offs included {overhead:.1} ms",
        plugin_ms / 50.0,
        (held_ms - plugin_ms) / 50.0
    );
    // The queue's own statement: one reap + claim transaction (here over the
    // 66 finished analyses, finding nothing to take), as each worker runs it
    // once per job and once per idle poll.
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        let mut tx = databases.db.platform_tx().await.unwrap();
        mmm_host::db::queue::reap(&mut tx).await.unwrap();
        let claim = mmm_host::db::queue::claim(&mut tx, "bench", 30.0, 2)
            .await
            .unwrap();
        assert!(claim.is_none());
        tx.commit().await.unwrap();
    }
    println!(
        "queue: reap + claim transaction {:.2} ms each ({rounds} rounds)",
        started.elapsed().as_secs_f64() * 1000.0 / rounds as f64
    );
    let _ = cluster.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

async fn wait(client: &Client, id: &str) -> Value {
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
