//! `mmm worker` processes on the embedded cluster of a running `mmm serve`:
//! a worker killed in the middle of a fit loses its lease and another
//! worker finishes the analysis (one result row); SIGTERM lets a running
//! fit finish, and past the grace period hands it back to the queue
//! without counting the attempt.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin@example.test";
const PASSWORD: &str = "a long enough password";
const SCIENTIST: &str = "scientist@acme.test";
/// Candidates of the model search: a fit of five to ten seconds here,
/// far longer than the steps the tests take while it runs (a signal, a
/// one-second grace).
const BUDGET: u64 = 150_000;

/// A temp data dir, removed when the test ends (after its processes).
struct DataDir(PathBuf);

impl DataDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("mmm-workers-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        Self(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child `mmm`, logging to a file that is printed if the test fails.
/// Dropped: a server gets SIGTERM (it stops the cluster it started), a
/// worker SIGKILL.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    graceful: bool,
}

impl Proc {
    fn spawn(mut cmd: Command, dir: &Path, name: &str, graceful: bool) -> Self {
        let log = dir.join("logs").join(format!("{name}.log"));
        let file = File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Self {
            name: name.to_owned(),
            child,
            log,
            graceful,
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([name, &self.pid()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {name} {}", self.name);
    }

    /// Waits for the exit; fails the test after `limit`.
    async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "{} still running {limit:?} after the signal",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.graceful && matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-TERM", &self.pid()]).status();
            let started = Instant::now();
            while matches!(self.child.try_wait(), Ok(None))
                && started.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!(
                "----- {} log -----\n{log}----- end of {} -----",
                self.name, self.name
            );
        }
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn mmm(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mmm"));
    cmd.env("MMM_DATA_DIR", data_dir)
        .env(
            "MMM_PLUGIN_CACHE_DIR",
            crate::api::helpers::plugin_cache_dir(),
        )
        .env_remove("DATABASE_URL")
        // Tests run side by side: the default metrics port would collide.
        .env("MMM_METRICS_BIND", "off")
        .env("RUST_LOG", "info,sqlx=warn");
    cmd
}

/// `mmm serve` without workers: analyses wait for `mmm worker`s.
fn serve(dir: &DataDir) -> (Proc, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = mmm(&dir.0);
    cmd.arg("serve")
        .env("MMM_BIND", format!("127.0.0.1:{port}"))
        .env("MMM_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
        .env("MMM_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .env("MMM_POLICY_DIR", workspace().join("policies"))
        .env("MMM_WORKERS", "0");
    let server = Proc::spawn(cmd, &dir.0, "serve", true);
    (server, format!("http://127.0.0.1:{port}"))
}

/// One `mmm worker` process with one worker and a two-second lease.
fn worker(dir: &DataDir, name: &str, grace_secs: u32) -> Proc {
    let mut cmd = mmm(&dir.0);
    cmd.arg("worker")
        .env("MMM_WORKERS", "1")
        .env("MMM_WORKER_LEASE_SECS", "2")
        .env("MMM_WORKER_GRACE_SECS", grace_secs.to_string());
    Proc::spawn(cmd, &dir.0, name, false)
}

struct Api {
    address: String,
    http: reqwest::Client,
    admin: String,
    scientist: String,
}

impl Api {
    /// Waits for the server, then: a tenant with a data scientist, ridge-mmm
    /// on, and the example uploaded (its source id is returned).
    async fn setup(address: String) -> (Self, String) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{address}/readyz")).send().await;
            if matches!(ready, Ok(r) if r.status() == StatusCode::OK) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "the server is not ready after 180 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut api = Self {
            address,
            http,
            admin: String::new(),
            scientist: String::new(),
        };
        api.admin = api
            .login(json!({ "email": ADMIN, "password": PASSWORD }))
            .await;
        let tenant = api
            .send_ok(
                "POST",
                "/admin/tenants",
                &api.admin,
                json!({ "slug": "acme", "name": "Acme" }),
                StatusCode::CREATED,
            )
            .await;
        let tenant = tenant["id"].as_str().unwrap().to_owned();
        api.send_ok(
            "POST",
            &format!("/admin/tenants/{tenant}/users"),
            &api.admin,
            json!({ "email": SCIENTIST, "password": PASSWORD, "role": "data_scientist" }),
            StatusCode::CREATED,
        )
        .await;
        api.send_ok(
            "PUT",
            &format!("/admin/tenants/{tenant}/features/plugin:ridge-mmm"),
            &api.admin,
            json!({ "enabled": true }),
            StatusCode::OK,
        )
        .await;
        // The fast model is the tenant's default, as in the API tests.
        api.send_ok(
            "PUT",
            &format!("/admin/tenants/{tenant}/features/analyses"),
            &api.admin,
            json!({ "enabled": true, "config": { "model": "ridge-mmm" } }),
            StatusCode::OK,
        )
        .await;
        api.scientist = api
            .login(json!({ "email": SCIENTIST, "password": PASSWORD, "tenant": "acme" }))
            .await;

        let roles: Value = serde_json::from_str(include_str!("../../examples/roles.json")).unwrap();
        let meta = json!({ "name": "example", "roles": roles });
        let response = api
            .http
            .post(format!("{}/tenant/data/upload", api.address))
            .query(&[("meta", meta.to_string())])
            .bearer_auth(&api.scientist)
            .header("content-type", "text/csv")
            .body(include_str!("../../examples/synthetic-156w.csv"))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let source: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "upload: {source}");
        let source = source["id"].as_str().unwrap().to_owned();
        eprintln!("server up and example uploaded in {:?}", started.elapsed());
        (api, source)
    }

    async fn login(&self, body: Value) -> String {
        let response = self
            .http
            .post(format!("{}/auth/login", self.address))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "login {body}: {answer}");
        answer["access_token"].as_str().unwrap().to_owned()
    }

    async fn send_ok(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Value,
        expect: StatusCode,
    ) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expect, "{method} {path} {body}: {answer}");
        answer
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {answer}");
        answer
    }

    /// Queues a long fit; its id.
    async fn queue_fit(&self, source: &str) -> String {
        let body =
            json!({ "source_id": source, "params": { "budget": BUDGET }, "preprocessors": [] });
        let answer = self
            .send_ok(
                "POST",
                "/tenant/analysis/run",
                &self.scientist,
                body,
                StatusCode::ACCEPTED,
            )
            .await;
        assert_eq!(answer["status"], "queued", "{answer}");
        answer["id"].as_str().unwrap().to_owned()
    }

    async fn analysis(&self, id: &str) -> Value {
        self.get(&format!("/tenant/analysis/{id}"), &self.scientist)
            .await
    }

    /// Polls the analysis until `done` holds; fails the test after `limit`.
    async fn wait_for(
        &self,
        id: &str,
        what: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let current = self.analysis(id).await;
            if done(&current) {
                return current;
            }
            assert!(
                started.elapsed() < limit,
                "not {what} after {limit:?}: {current}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the fit is under way on a worker.
    async fn wait_fitting(&self, id: &str) -> Value {
        self.wait_for(id, "fitting", Duration::from_secs(120), fitting)
            .await
    }

    async fn wait_succeeded(&self, id: &str) -> Value {
        let ended = |a: &Value| {
            matches!(
                a["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            )
        };
        let done = self
            .wait_for(id, "ended", Duration::from_secs(120), ended)
            .await;
        assert_eq!(done["status"], "succeeded", "{done}");
        done
    }
}

fn fitting(a: &Value) -> bool {
    a["status"] == "running"
        && a["progress"]["stage"] == "fit"
        && a["progress"]["done"].as_i64() > Some(0)
}

#[tokio::test]
async fn a_worker_killed_mid_fit_loses_its_analysis_to_another_that_stores_one_result() {
    let dir = DataDir::new("kill");
    let (_server, address) = serve(&dir);
    let (api, source) = Api::setup(address).await;

    let mut a = worker(&dir, "worker-a", 60);
    let id = api.queue_fit(&source).await;
    let running = api.wait_fitting(&id).await;
    assert_eq!(running["attempts"], 1, "{running}");
    a.signal("-KILL");
    a.exit(Duration::from_secs(10)).await;
    let killed_at = Instant::now();

    let _b = worker(&dir, "worker-b", 60);
    let done = api.wait_succeeded(&id).await;
    eprintln!(
        "taken over and finished {:?} after the kill",
        killed_at.elapsed()
    );
    assert_eq!(done["attempts"], 2, "{done}");
    assert!(done["results_digest"].is_string(), "{done}");
    let stats = api.get("/admin/statistics", &api.admin).await;
    assert_eq!(
        (
            stats["analyses"].as_i64(),
            stats["analyses_succeeded"].as_i64(),
            stats["analysis_results"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{stats}"
    );
}

#[tokio::test]
async fn sigterm_lets_a_running_fit_finish_and_past_the_grace_hands_it_back() {
    let dir = DataDir::new("term");
    let (_server, address) = serve(&dir);
    let (api, source) = Api::setup(address).await;

    // A long grace: the process exits 0 once the fit is stored.
    let mut patient = worker(&dir, "worker-patient", 120);
    let first = api.queue_fit(&source).await;
    api.wait_fitting(&first).await;
    let termed = Instant::now();
    patient.signal("-TERM");
    let status = patient.exit(Duration::from_secs(120)).await;
    let took = termed.elapsed();
    let after = api.analysis(&first).await;
    eprintln!("drained in {took:?}");
    assert!(status.success(), "exit 0 on SIGTERM, got {status}");
    assert_eq!(
        after["status"], "succeeded",
        "when the worker exited: {after}"
    );
    assert_eq!(after["attempts"], 1, "{after}");

    // A one-second grace: the fit is handed back, not counted, and another
    // worker completes it.
    let mut hasty = worker(&dir, "worker-hasty", 1);
    let second = api.queue_fit(&source).await;
    api.wait_fitting(&second).await;
    let termed = Instant::now();
    hasty.signal("-TERM");
    let status = hasty.exit(Duration::from_secs(30)).await;
    let took = termed.elapsed();
    let after = api.analysis(&second).await;
    eprintln!("handed back in {took:?}");
    assert!(status.success(), "exit 0 on SIGTERM, got {status}");
    assert_eq!(after["status"], "queued", "when the worker exited: {after}");
    assert_eq!(after["attempts"], 0, "the hand-over is no attempt: {after}");

    let _next = worker(&dir, "worker-next", 60);
    let done = api.wait_succeeded(&second).await;
    assert_eq!(done["attempts"], 1, "{done}");
    let stats = api.get("/admin/statistics", &api.admin).await;
    assert_eq!(
        (
            stats["analyses"].as_i64(),
            stats["analyses_succeeded"].as_i64(),
            stats["analysis_results"].as_i64()
        ),
        (Some(2), Some(2), Some(2)),
        "{stats}"
    );
}
