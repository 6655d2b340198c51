//! The real `mmm` binary and its embedded cluster: a CLI command run beside
//! a running server uses the server's cluster and leaves it running, and a
//! server whose cluster is stopped under it starts it again and recovers.
//! (Each used to take the platform down for good.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

const ADMIN: &str = "admin@example.test";
const PASSWORD: &str = "a long enough password";

struct Server {
    child: Child,
    address: String,
    data_dir: PathBuf,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = mmm(data_dir)
            .arg("serve")
            .env("MMM_BIND", format!("127.0.0.1:{port}"))
            .env("MMM_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
            .env("MMM_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
            .env("MMM_POLICY_DIR", workspace().join("policies"))
            .stdout(Stdio::null())
            .spawn()
            .expect("start mmm serve");
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_owned(),
        }
    }

    async fn ready(&self) -> bool {
        let url = format!("{}/readyz", self.address);
        matches!(reqwest::get(&url).await, Ok(r) if r.status() == StatusCode::OK)
    }

    /// Polls readiness until `deadline`; a server that is not ready by then fails the test.
    async fn wait_ready(&self, deadline: Duration) {
        let started = Instant::now();
        while !self.ready().await {
            assert!(started.elapsed() < deadline, "not ready after {deadline:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn login(&self, email: &str) -> StatusCode {
        reqwest::Client::new()
            .post(format!("{}/auth/login", self.address))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .status()
    }

    fn postmaster_pid(&self) -> Option<String> {
        let pid_file = self.data_dir.join("postgres/data/postmaster.pid");
        let text = std::fs::read_to_string(pid_file).ok()?;
        text.lines().next().map(str::to_owned)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
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
        .env("RUST_LOG", "warn");
    cmd
}

fn signal(pid: &str, name: &str) {
    let status = Command::new("kill").args([name, pid]).status().unwrap();
    assert!(status.success(), "kill {name} {pid}");
}

#[tokio::test]
async fn the_admin_cli_beside_a_running_server_leaves_its_cluster_running_and_a_stopped_cluster_comes_back()
 {
    let data_dir = std::env::temp_dir().join(format!("mmm-cluster-test-{}", std::process::id()));
    let server = Server::start(&data_dir);
    server.wait_ready(Duration::from_secs(180)).await;

    // The README's "from another terminal" command, against the same data dir.
    let mut cli = mmm(&data_dir)
        .args([
            "admin",
            "create-platform-admin",
            "--email",
            "second@example.test",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    cli.stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    assert!(cli.wait().unwrap().success(), "the CLI creates the admin");
    assert!(
        server.ready().await,
        "the server's database outlives the CLI"
    );
    assert_eq!(server.login("second@example.test").await, StatusCode::OK);

    // Stopped under the server (as `pg_ctl stop -m fast` does): it comes back.
    let before = server.postmaster_pid().expect("a running cluster");
    signal(&before, "-INT");
    server.wait_ready(Duration::from_secs(60)).await;
    assert_ne!(server.postmaster_pid().as_deref(), Some(before.as_str()));
    assert_eq!(server.login(ADMIN).await, StatusCode::OK);

    // A clean shutdown stops the cluster the server started.
    let mut server = server;
    signal(&server.child.id().to_string(), "-TERM");
    assert!(server.child.wait().unwrap().success(), "exit 0 on SIGTERM");
    assert_eq!(server.postmaster_pid(), None, "the cluster is stopped");
    let _ = std::fs::remove_dir_all(&data_dir);
}
