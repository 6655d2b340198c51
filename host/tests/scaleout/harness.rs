//! The scale-out topology, shared by `tests/scaleout.rs` and
//! `benches/scaleout.rs`: one PostgreSQL cluster started here, `mmm migrate`
//! once, then several `mmm serve` instances and `mmm worker` processes on
//! loopback ports, all on that database (`DATABASE_URL`, the owner role)
//! and one shared data dir (the role-password secrets every process must
//! agree on, and the plugin compile cache). A platform admin, a tenant with
//! a data scientist and ridge-mmm on, and the 156-week example uploaded.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mmm_host::postgres::EmbeddedCluster;
use mmm_host::postgres::bootstrap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN: &str = "admin@scaleout.test";
pub const PASSWORD: &str = "a long enough password";
pub const SCIENTIST: &str = "scientist@acme.test";
pub const SLUG: &str = "acme";
/// Signs access tokens on every instance: a token one issues is valid on all.
pub const JWT_SECRET: &str = "scaleout-shared-signing-secret-of-every-instance-0123456789";
const OWNER: &str = "mmm_owner";
const DATABASE: &str = "mmm";

/// What to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// Names the temp dir.
    pub name: &'static str,
    pub serves: usize,
    pub workers: usize,
    /// `MMM_WORKERS` of each `mmm worker`.
    pub workers_per_process: usize,
    /// `MMM_WORKER_LEASE_SECS`: a killed worker's job is taken over this
    /// long after its last heartbeat.
    pub lease_secs: f64,
    /// `MMM_TENANT_MAX_RUNNING`: high enough that one tenant keeps every
    /// worker busy.
    pub tenant_max_running: i32,
    pub rust_log: &'static str,
}

/// A child `mmm`, logging to a file whose end is printed if the caller
/// panics. Dropped: a server gets SIGTERM first, a worker SIGKILL.
pub struct Proc {
    pub name: String,
    child: Child,
    log: PathBuf,
    graceful: bool,
}

impl Proc {
    fn spawn(mut cmd: Command, logs: &Path, name: &str, graceful: bool) -> Self {
        let log = logs.join(format!("{name}.log"));
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -<name> <pid>`, e.g. `signal("KILL")`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} {}", self.name);
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits for the exit; fails after `limit`.
    pub async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "{} still running after {limit:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log holds `needle`; fails if the process exits first
    /// or after `limit`.
    pub async fn wait_for_log(&mut self, needle: &str, limit: Duration) {
        let started = Instant::now();
        loop {
            if self.log().contains(needle) {
                return;
            }
            if let Some(status) = self.exited() {
                panic!("{} exited ({status}) before logging {needle:?}", self.name);
            }
            assert!(
                started.elapsed() < limit,
                "{} did not log {needle:?} within {limit:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn print_tail(&self, lines: usize) {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        let skip = all.len().saturating_sub(lines);
        eprintln!(
            "----- {} ({}), last {} of {} lines -----\n{}\n----- end of {} -----",
            self.name,
            self.log.display(),
            all.len() - skip,
            all.len(),
            all[skip..].join("\n"),
            self.name
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.graceful && matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid().to_string()])
                .status();
            let started = Instant::now();
            while matches!(self.child.try_wait(), Ok(None))
                && started.elapsed() < Duration::from_secs(20)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            self.print_tail(150);
        }
    }
}

/// The running topology. `shutdown` stops everything and removes the temp
/// dir; dropped without it (a failing test), the processes are stopped and
/// the dir (logs, cluster) is kept for inspection, its PostgreSQL stopped
/// by the cluster's watchdog when this process exits.
pub struct Platform {
    pub serves: Vec<Proc>,
    /// `http://127.0.0.1:<port>` of each serve, in order.
    pub addresses: Vec<String>,
    pub workers: Vec<Proc>,
    pub cluster: EmbeddedCluster,
    pub database_url: String,
    pub root: PathBuf,
    data_dir: PathBuf,
    options: Options,
    started: Instant,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `mmm` with nothing of the caller's `MMM_*` environment, on our database
/// and data dir.
fn mmm(platform_url: &str, data_dir: &Path, rust_log: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mmm"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MMM_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("DATABASE_URL", platform_url)
        .env("MMM_DATA_DIR", data_dir)
        .env("RUST_LOG", rust_log);
    cmd
}

/// Whether this build has `mmm migrate` (applies migrations, ensures the
/// roles, exits).
fn has_migrate() -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_mmm"))
        .arg("--help")
        .output()
        .expect("run mmm --help");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim_start().starts_with("migrate "))
}

/// `%XX` for everything but ASCII letters and digits (a socket directory
/// as the URL's host, the way sqlx writes it).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Platform {
    pub async fn start(options: Options) -> Self {
        let started = Instant::now();
        let root = std::env::temp_dir().join(format!(
            "mmm-scaleout-{}-{}",
            options.name,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        let data_dir = root.join("data");
        std::fs::create_dir_all(root.join("logs")).unwrap();
        std::fs::create_dir_all(&data_dir).unwrap();
        // Compiled plugins are keyed by the component's sha256 and the
        // engine's compatibility hash (and checksummed), so one cache may
        // outlive a run: later runs skip compiling the built-ins.
        let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scaleout-plugin-cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::os::unix::fs::symlink(&cache, data_dir.join("plugin-cache")).unwrap();

        let cluster = EmbeddedCluster::start(&root.join("pg"), true)
            .await
            .expect("start PostgreSQL");
        let owner_password = mmm_host::secrets::random_token(24);
        bootstrap::ensure_owner_and_database(
            cluster.superuser_options("postgres"),
            OWNER,
            &owner_password,
            DATABASE,
        )
        .await
        .expect("create the owner role and database");
        let owner = cluster.connect_options(OWNER, &owner_password, DATABASE);
        let socket = owner.get_socket().expect("a Unix socket").clone();
        let database_url = format!(
            "postgres://{OWNER}:{owner_password}@{}:{}/{DATABASE}",
            percent_encode(&socket.to_string_lossy()),
            owner.get_port()
        );
        let mut platform = Self {
            serves: Vec::new(),
            addresses: Vec::new(),
            workers: Vec::new(),
            cluster,
            database_url,
            root,
            data_dir,
            options,
            started,
        };
        let migrated = platform.migrate().await;

        // Instance 1 alone first: it creates the platform admin, and (without
        // `mmm migrate`) applies the migrations, writes the role-password
        // secrets and compiles the built-in plugins into the shared cache,
        // none of which the others should race it for.
        platform.spawn_serve(0);
        platform.wait_ready(0).await;
        for n in 1..platform.options.serves {
            platform.spawn_serve(n);
        }
        for n in 0..platform.options.workers {
            platform.spawn_worker(n);
        }
        for n in 1..platform.options.serves {
            platform.wait_ready(n).await;
        }
        for worker in &mut platform.workers {
            worker
                .wait_for_log("analysis workers started", Duration::from_secs(180))
                .await;
        }
        eprintln!(
            "{} serve + {} worker processes up in {:?} ({})",
            platform.options.serves,
            platform.options.workers,
            platform.started.elapsed(),
            if migrated {
                "after `mmm migrate`"
            } else {
                "no `mmm migrate` in this build: instance 1 migrated"
            }
        );
        platform
    }

    /// `mmm migrate`, when this build has it; whether it ran.
    async fn migrate(&self) -> bool {
        if !has_migrate() {
            return false;
        }
        let log = self.root.join("logs/migrate.log");
        let file = File::create(&log).unwrap();
        let mut cmd = mmm(&self.database_url, &self.data_dir, self.options.rust_log);
        cmd.arg("migrate")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let status = tokio::process::Command::from(cmd)
            .status()
            .await
            .expect("run mmm migrate");
        assert!(
            status.success(),
            "mmm migrate: {status}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        true
    }

    fn spawn_serve(&mut self, n: usize) {
        let port = free_port();
        let mut cmd = mmm(&self.database_url, &self.data_dir, self.options.rust_log);
        cmd.arg("serve")
            .env("MMM_BIND", format!("127.0.0.1:{port}"))
            // Each instance on this host needs its own metrics port.
            .env("MMM_METRICS_BIND", format!("127.0.0.1:{}", free_port()))
            .env("MMM_JWT_SECRET", JWT_SECRET)
            .env("MMM_POLICY_DIR", workspace().join("policies"))
            .env("MMM_WORKERS", "0")
            // The load must not meet the per-tenant rate limit.
            .env("MMM_TENANT_RATE_LIMIT", "100000:100000")
            // Far longer than any test: only the cross-instance
            // notifications can make an instance see an admin's change.
            .env("MMM_TENANT_CACHE_TTL", "3600");
        if n == 0 {
            cmd.env("MMM_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
                .env("MMM_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD);
        }
        let name = format!("serve-{}", n + 1);
        let logs = self.root.join("logs");
        self.serves.push(Proc::spawn(cmd, &logs, &name, true));
        self.addresses.push(format!("http://127.0.0.1:{port}"));
    }

    fn spawn_worker(&mut self, n: usize) {
        let o = &self.options;
        // Readiness is the pool's "analysis workers started" line, whatever
        // the level asked for.
        let log = format!("{},mmm_host::analyses::worker=info", o.rust_log);
        let mut cmd = mmm(&self.database_url, &self.data_dir, &log);
        cmd.arg("worker")
            .env("MMM_WORKERS", o.workers_per_process.to_string())
            .env("MMM_WORKER_LEASE_SECS", o.lease_secs.to_string())
            .env("MMM_WORKER_GRACE_SECS", "2")
            .env("MMM_ANALYSIS_RETRY_SECS", "0.2")
            .env("MMM_TENANT_MAX_RUNNING", o.tenant_max_running.to_string())
            .env("MMM_METRICS_BIND", format!("127.0.0.1:{}", free_port()));
        let name = format!("worker-{}", n + 1);
        let logs = self.root.join("logs");
        self.workers.push(Proc::spawn(cmd, &logs, &name, false));
    }

    async fn wait_ready(&mut self, n: usize) {
        let http = reqwest::Client::new();
        let url = format!("{}/readyz", self.addresses[n]);
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(&url).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            if let Some(status) = self.serves[n].exited() {
                panic!(
                    "{} exited before it was ready: {status}",
                    self.serves[n].name
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "{} not ready after 240 s",
                self.serves[n].name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Warning and error lines of every process's log so far, each
    /// prefixed with the process's name.
    pub fn problems(&self) -> Vec<String> {
        self.serves
            .iter()
            .chain(&self.workers)
            .flat_map(|p| {
                p.log()
                    .lines()
                    .map(strip_ansi)
                    .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                    .map(|l| format!("{}: {l}", p.name))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// A pool as the cluster's superuser: sees every tenant's rows (RLS
    /// binds the owner role too).
    pub async fn superuser(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.cluster.superuser_options(DATABASE))
            .await
            .expect("connect as the superuser")
    }

    /// Stops every process, then PostgreSQL, and removes the temp dir
    /// (with `SCALEOUT_KEEP_LOGS=<dir>`, the logs are moved there first).
    pub async fn shutdown(mut self) {
        for proc in self.serves.iter_mut().chain(self.workers.iter_mut()) {
            if proc.exited().is_none() {
                proc.signal("TERM");
            }
        }
        let serves = std::mem::take(&mut self.serves);
        let workers = std::mem::take(&mut self.workers);
        tokio::task::spawn_blocking(move || drop((serves, workers)))
            .await
            .unwrap();
        if let Err(e) = self.cluster.stop().await {
            eprintln!("stopping PostgreSQL: {e}");
        }
        if let Some(keep) = std::env::var_os("SCALEOUT_KEEP_LOGS") {
            let keep = PathBuf::from(keep).join(self.options.name);
            let _ = std::fs::remove_dir_all(&keep);
            std::fs::create_dir_all(keep.parent().unwrap()).unwrap();
            std::fs::rename(self.root.join("logs"), &keep)
                .or_else(|_| copy_dir(&self.root.join("logs"), &keep))
                .unwrap_or_else(|e| panic!("keeping the logs in {}: {e}", keep.display()));
            eprintln!("logs kept in {}", keep.display());
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.serves.is_empty() {
            eprintln!(
                "kept {} (logs under logs/, PostgreSQL under pg/; database {})",
                self.root.display(),
                self.database_url
            );
        }
    }
}

/// A log line without its colour escapes (`ESC [ … m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

/// An HTTP answer, or the connection error.
pub async fn call(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// `call` that must answer `expect`.
pub async fn expect(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
    expect: StatusCode,
) -> Value {
    let (status, answer) = call(http, method.clone(), url, token, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    assert_eq!(status, expect, "{method} {url} {body:?}: {answer}");
    answer
}

/// What `setup` made, through instance 1.
pub struct Tenant {
    pub http: reqwest::Client,
    pub admin: String,
    pub scientist: String,
    pub id: String,
    pub source: String,
}

async fn login(http: &reqwest::Client, base: &str, body: Value) -> String {
    let answer = expect(
        http,
        Method::POST,
        &format!("{base}/auth/login"),
        None,
        Some(&body),
        StatusCode::OK,
    )
    .await;
    answer["access_token"].as_str().unwrap().to_owned()
}

/// Through `base`: the admin logs in, creates tenant `acme` with a data
/// scientist, switches ridge-mmm on; the scientist uploads the example.
pub async fn setup(base: &str) -> Tenant {
    let http = reqwest::Client::new();
    let admin = login(&http, base, json!({ "email": ADMIN, "password": PASSWORD })).await;
    let tenant = expect(
        &http,
        Method::POST,
        &format!("{base}/admin/tenants"),
        Some(&admin),
        Some(&json!({ "slug": SLUG, "name": "Acme" })),
        StatusCode::CREATED,
    )
    .await;
    let id = tenant["id"].as_str().unwrap().to_owned();
    expect(
        &http,
        Method::POST,
        &format!("{base}/admin/tenants/{id}/users"),
        Some(&admin),
        Some(&json!({ "email": SCIENTIST, "password": PASSWORD, "role": "data_scientist" })),
        StatusCode::CREATED,
    )
    .await;
    expect(
        &http,
        Method::PUT,
        &format!("{base}/admin/tenants/{id}/features/plugin:ridge-mmm"),
        Some(&admin),
        Some(&json!({ "enabled": true })),
        StatusCode::OK,
    )
    .await;
    expect(
        &http,
        Method::PUT,
        &format!("{base}/admin/tenants/{id}/features/analyses"),
        Some(&admin),
        Some(&json!({ "enabled": true, "config": { "model": "ridge-mmm" } })),
        StatusCode::OK,
    )
    .await;
    let scientist = login(
        &http,
        base,
        json!({ "email": SCIENTIST, "password": PASSWORD, "tenant": SLUG }),
    )
    .await;
    let roles: Value = serde_json::from_str(include_str!("../../../examples/roles.json")).unwrap();
    let meta = json!({ "name": "example", "roles": roles });
    let response = http
        .post(format!("{base}/tenant/data/upload"))
        .query(&[("meta", meta.to_string())])
        .bearer_auth(&scientist)
        .header("content-type", "text/csv")
        .body(include_str!("../../../examples/synthetic-156w.csv"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let source: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "upload: {source}");
    Tenant {
        http,
        admin,
        scientist,
        id,
        source: source["id"].as_str().unwrap().to_owned(),
    }
}

/// Sorted latencies' percentile.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
