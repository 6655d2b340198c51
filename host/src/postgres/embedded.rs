//! A PostgreSQL cluster kept under the data dir: found on the machine,
//! created on first start, reachable only through a Unix socket in that dir.
//! A process stops only a cluster it started itself (on shutdown, or by its
//! watchdog when it dies): a CLI command run beside a server uses the
//! server's cluster and leaves it running.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

/// The bootstrap superuser of an embedded cluster.
const SUPERUSER: &str = "postgres";
/// PostgreSQL refuses to run as root; this is who runs it instead.
const UNPRIVILEGED_USER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked in PATH, `pg_config --bindir` and \
         /usr/lib/postgresql/*/bin). Install them, e.g. `apt-get install postgresql`, \
         or set DATABASE_URL to use an existing server"
    )]
    BinariesNotFound,
    #[error(
        "running as root, and PostgreSQL refuses to: create the unprivileged system user \
         `{UNPRIVILEGED_USER}` (installing the postgresql package does) or run as a normal user"
    )]
    NoUnprivilegedUser,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A running cluster. Dropping it does not stop it: call [`EmbeddedCluster::stop`].
#[derive(Debug)]
pub struct EmbeddedCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    superuser_password: String,
    run_as: Option<(u32, u32)>,
    /// Whether this process started the server (and so may stop it).
    started_here: AtomicBool,
    watch_parent: bool,
}

impl EmbeddedCluster {
    /// Starts the cluster kept in `root` (creating it on first use). With
    /// `watch_parent`, the server shuts itself down once this process is
    /// gone, so a test binary that exits without cleanup leaves nothing behind.
    pub async fn start(root: &Path, watch_parent: bool) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir()
            .await
            .ok_or(EmbeddedError::BinariesNotFound)?;
        let run_as = if is_root() {
            Some(lookup_user(UNPRIVILEGED_USER).ok_or(EmbeddedError::NoUnprivilegedUser)?)
        } else {
            None
        };
        create_dir(root, run_as, 0o700)?;
        let root = std::fs::canonicalize(root).map_err(|source| io(root, source))?;
        let cluster = Self {
            data_dir: root.join("data"),
            socket_dir: root.join("run"),
            superuser_password: read_or_create_secret(&root.join("superuser.password"))?,
            bin_dir,
            run_as,
            started_here: AtomicBool::new(false),
            watch_parent,
        };
        create_dir(&cluster.socket_dir, run_as, 0o700)?;
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.initdb(&root).await?;
        }
        cluster.ensure_running().await?;
        Ok(cluster)
    }

    /// Starts the server unless it is running (this process then owns it);
    /// answers whether it had to. Safe to race with another process doing
    /// the same: the loser finds the winner's server running.
    pub async fn ensure_running(&self) -> Result<bool, EmbeddedError> {
        if self.is_running().await {
            return Ok(false);
        }
        match self.launch().await {
            Ok(()) => {
                self.started_here.store(true, Ordering::SeqCst);
                if self.watch_parent {
                    self.spawn_watchdog()?;
                }
                Ok(true)
            }
            Err(_) if self.is_running().await => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether this process started the running server.
    pub fn started_here(&self) -> bool {
        self.started_here.load(Ordering::SeqCst)
    }

    /// Connection options for the bootstrap superuser on database `db`.
    pub fn superuser_options(&self, db: &str) -> PgConnectOptions {
        self.connect_options(SUPERUSER, &self.superuser_password, db)
    }

    /// Connection options for any role over the cluster's socket.
    pub fn connect_options(&self, user: &str, password: &str, db: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(user)
            .password(password)
            .database(db)
    }

    /// Stops the server, waiting for clients to be disconnected, when this
    /// process started it; a server another process started is left running.
    pub async fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.started_here.swap(false, Ordering::SeqCst) {
            tracing::debug!("leaving the embedded cluster running: another process started it");
            return Ok(());
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w"]);
        run(cmd, "pg_ctl stop").await
    }

    async fn initdb(&self, root: &Path) -> Result<(), EmbeddedError> {
        let pwfile = root.join("initdb.pw");
        std::fs::write(&pwfile, &self.superuser_password).map_err(|e| io(&pwfile, e))?;
        chown(&pwfile, self.run_as)?;
        let mut cmd = self.command("initdb");
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-U", SUPERUSER, "--auth=scram-sha-256", "--encoding=UTF8"])
            .args(["--locale=C", "--no-instructions"])
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = run(cmd, "initdb").await;
        let _ = std::fs::remove_file(&pwfile);
        result
    }

    async fn launch(&self) -> Result<(), EmbeddedError> {
        let log = self.data_dir.join("server.log");
        let options = format!(
            "-c listen_addresses='' -k {} -c max_connections=300 -c fsync=off -c shared_buffers=64MB",
            self.socket_dir.display()
        );
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(options)
            .args(["-w", "-t", "60"]);
        run(cmd, "pg_ctl start").await.map_err(|e| match e {
            EmbeddedError::Command { what, detail } => EmbeddedError::Command {
                what,
                detail: format!(
                    "{detail}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
            },
            other => other,
        })
    }

    async fn is_running(&self) -> bool {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("status").arg("-D").arg(&self.data_dir);
        run(cmd, "pg_ctl status").await.is_ok()
    }

    /// A detached shell that stops the server once our pid is gone. Polling
    /// /proc works across users (kill -0 on a root pid would not).
    fn spawn_watchdog(&self) -> Result<(), EmbeddedError> {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; '{pg_ctl}' stop -D '{data}' -m immediate >/dev/null 2>&1",
            pid = std::process::id(),
            pg_ctl = self.bin_dir.join("pg_ctl").display(),
            data = self.data_dir.display(),
        );
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        set_user_std(&mut cmd, self.run_as);
        cmd.spawn()
            .map(drop)
            .map_err(|source| EmbeddedError::Command {
                what: "starting the cluster watchdog".into(),
                detail: source.to_string(),
            })
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = std::process::Command::new(self.bin_dir.join(program));
        cmd.stdin(Stdio::null()).env("LC_ALL", "C");
        // The server inherits our cwd; it may be unreadable for the server's user.
        cmd.current_dir("/");
        set_user_std(&mut cmd, self.run_as);
        Command::from(cmd)
    }
}

fn set_user_std(cmd: &mut std::process::Command, run_as: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
}

async fn run(mut cmd: Command, what: &str) -> Result<(), EmbeddedError> {
    let output = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .map_err(|_| EmbeddedError::Command {
            what: what.into(),
            detail: "timed out after 120 s".into(),
        })?
        .map_err(|source| EmbeddedError::Command {
            what: what.into(),
            detail: source.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(EmbeddedError::Command {
        what: what.into(),
        detail: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// PATH first, then what `pg_config` says, then Debian's versioned layout
/// (newest version wins).
async fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_server(d))
    {
        return Some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output().await {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// (uid, gid) of a system user, from /etc/passwd.
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&name) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

fn create_dir(dir: &Path, owner: Option<(u32, u32)>, mode: u32) -> Result<(), EmbeddedError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(|e| io(dir, e))?;
    chown(dir, owner)
}

fn chown(path: &Path, owner: Option<(u32, u32)>) -> Result<(), EmbeddedError> {
    match owner {
        Some((uid, gid)) => {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| io(path, e))
        }
        None => Ok(()),
    }
}

/// A random secret kept in a 0600 file, so restarts reuse it.
pub(crate) fn read_or_create_secret(path: &Path) -> Result<String, EmbeddedError> {
    crate::secrets::read_or_create(path).map_err(|source| io(path, source))
}

fn io(path: &Path, source: std::io::Error) -> EmbeddedError {
    EmbeddedError::Io {
        path: path.to_path_buf(),
        source,
    }
}
