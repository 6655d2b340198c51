//! Command line and environment: every option of every subcommand, each
//! readable from a flag or its environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mmm",
    version,
    about = "Multi-tenant Marketing Mix Modeling platform"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API.
    Serve(Box<ServeConfig>),
    /// Administrative tasks run against the database directly.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write, build, check, run and publish plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Run analysis workers only (no HTTP), against the same database as `mmm serve`.
    Worker(Box<WorkerCommand>),
    /// Apply the database migrations and set up the platform's roles, then
    /// exit: a deployment's one-off step before its servers and workers start.
    Migrate(Box<MigrateCommand>),
    /// Generate weekly marketing data with a known answer (true contributions and ROIs).
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Seeds every random draw: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of weeks.
    #[arg(long, default_value_t = 156)]
    pub weeks: usize,
    /// Number of media channels.
    #[arg(long, default_value_t = 5)]
    pub channels: usize,
    /// Noise as a fraction of the mean KPI.
    #[arg(long, default_value_t = 0.05)]
    pub noise: f64,
    /// How many channels (the last ones) never go dark; the others run in flights.
    #[arg(long, default_value_t = 0)]
    pub always_on: usize,
    /// Folder for `<stem>.csv`, `<stem>.truth.json` and `roles.json`.
    #[arg(long, default_value = "synthetic")]
    pub out: PathBuf,
    /// File name stem.
    #[arg(long, default_value = "data")]
    pub stem: String,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a plugin crate that builds out of the box.
    New {
        /// Lower-case kebab-case plugin name.
        name: String,
        #[arg(long, value_enum, default_value = "preprocessor")]
        kind: PluginKindArg,
        /// Where to create the crate folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The `sdk` folder of an mmm checkout; defaults to the one this binary was built from.
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// Build a plugin crate to a wasm component and print its path.
    Build {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Load a component the way the server would and print what it says about itself.
    Check { file: PathBuf },
    /// Run a plugin locally in the server's sandbox, with the server's limits.
    Run {
        file: PathBuf,
        /// The input table, CSV with a header row.
        #[arg(long)]
        data: PathBuf,
        /// For models: JSON naming the date, kpi, media and controls columns.
        #[arg(long)]
        roles: Option<PathBuf>,
        /// The plugin's params as JSON.
        #[arg(long)]
        params: Option<String>,
        /// For models: lift tests to calibrate with, a JSON array of
        /// `{channel, start, end, spend_change, lift, standard_error}` (as
        /// `POST /tenant/experiments` takes them).
        #[arg(long)]
        experiments: Option<PathBuf>,
        /// Output folder (models: default `./out`; preprocessors: stdout when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Predict scenarios with a model plugin from a fitted artifact (`plugin run --out`'s artifact.bin).
    Predict {
        file: PathBuf,
        /// The fitted artifact.
        #[arg(long)]
        artifact: PathBuf,
        /// The scenarios, CSV with a header row (the model's docs say which columns).
        #[arg(long)]
        scenarios: PathBuf,
        /// Where to write the predictions as CSV (stdout when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Publish a component to a server: globally (platform admin) or to your tenant.
    Publish {
        file: PathBuf,
        #[arg(long, env = "MMM_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// An access token (from `POST /auth/login`).
        #[arg(long, env = "MMM_TOKEN", hide_env_values = true)]
        token: String,
        /// Publish privately to the token's tenant instead of globally.
        #[arg(long)]
        tenant: bool,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PluginKindArg {
    Preprocessor,
    Model,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform administrator (the password is read from stdin).
    CreatePlatformAdmin {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (the only way: it never sits in argv).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

/// Where the data lives.
#[derive(Clone, Debug, Args)]
pub struct DatabaseConfig {
    /// PostgreSQL URL of the owner role (it needs CREATEROLE). Without it the
    /// server runs its own PostgreSQL cluster under the data dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the embedded cluster, generated keys and passwords.
    #[arg(long, env = "MMM_DATA_DIR", default_value = "./.mmm")]
    pub data_dir: PathBuf,
    /// Maximum connections of the request pool.
    #[arg(long, env = "MMM_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
    /// Directory of compiled plugins, by default `plugin-cache` in the data
    /// dir. Processes may share one: entries are keyed by the plugin's
    /// sha256 and the engine's settings and written by rename.
    #[arg(long, env = "MMM_PLUGIN_CACHE_DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
}

impl DatabaseConfig {
    /// Where compiled plugins are kept.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.plugin_cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("plugin-cache"))
    }
}

#[derive(Clone, Debug, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "MMM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Base domain for subdomain tenant resolution: `acme.<base>` is tenant `acme`.
    #[arg(long, env = "MMM_BASE_DOMAIN")]
    pub base_domain: Option<String>,
    /// Secret that signs access tokens (at least 32 bytes). Without it, a key
    /// file is used, generated on first start.
    #[arg(long, env = "MMM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Key file used when no secret is given; default `<data dir>/secrets/jwt.key`.
    #[arg(long, env = "MMM_JWT_KEY_FILE")]
    pub jwt_key_file: Option<PathBuf>,
    /// Earlier secrets, comma-separated, still accepted for verification during a key rotation.
    #[arg(
        long,
        env = "MMM_JWT_PREVIOUS_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub jwt_previous_secrets: Vec<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "MMM_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl: u64,
    /// Refresh token lifetime in seconds.
    #[arg(long, env = "MMM_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl: u64,
    /// Email of the platform admin created at start when none exists.
    #[arg(long, env = "MMM_BOOTSTRAP_ADMIN_EMAIL")]
    pub bootstrap_admin_email: Option<String>,
    /// Password of that admin.
    #[arg(long, env = "MMM_BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true)]
    pub bootstrap_admin_password: Option<String>,
    /// Directory holding the casbin `model.conf` and `policy.csv`.
    #[arg(long, env = "MMM_POLICY_DIR", default_value = "./policies")]
    pub policy_dir: PathBuf,
    /// Seconds a tenant's cached config lives without an explicit invalidation.
    #[arg(long, env = "MMM_TENANT_CACHE_TTL", default_value_t = 60)]
    pub tenant_cache_ttl: u64,
    /// MiB of each pooled plugin memory kept resident between calls: faster
    /// large calls, more resident memory per warm slot. Lower it on Linux
    /// before 6.7, where that much is reset on every call.
    #[arg(long, env = "MMM_PLUGIN_KEEP_RESIDENT_MB", default_value_t = 96)]
    pub plugin_keep_resident_mb: usize,
    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(long, env = "MMM_LOG_FORMAT", default_value = "pretty")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub tables: TableConfig,
    #[command(flatten)]
    pub workers: WorkerConfig,
    #[command(flatten)]
    pub limits: LimitConfig,
    /// Where Prometheus scrapes `/metrics`: an address of its own, so the
    /// API's listener (and the load balancer in front) never exposes it; `off` serves none.
    #[arg(long, env = "MMM_METRICS_BIND", default_value = "127.0.0.1:9464")]
    pub metrics_bind: ListenAddr,
    /// Export traces to this OTLP/HTTP collector (e.g. `http://collector:4318`); off when absent.
    #[arg(long, env = "MMM_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Clone, Debug, Args)]
pub struct MigrateCommand {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[arg(long, env = "MMM_LOG_FORMAT", default_value = "pretty")]
    pub log_format: LogFormat,
}

/// Rate limits and back-pressure at the API's edge.
#[derive(Clone, Debug, Args)]
pub struct LimitConfig {
    /// Requests per second and burst (`RATE:BURST`) each tenant gets on each
    /// instance, unless its plan has its own (`--plan-rate-limits`) or its
    /// settings say `{"rate_limit": {"per_second": .., "burst": ..}}`.
    #[arg(long, env = "MMM_TENANT_RATE_LIMIT", default_value = "50:100")]
    pub tenant_rate_limit: Rate,
    /// Per-plan limits, comma-separated `PLAN=RATE:BURST` (e.g. `free=10:20,enterprise=500:1000`).
    #[arg(long, env = "MMM_PLAN_RATE_LIMITS", value_delimiter = ',')]
    pub plan_rate_limits: Vec<PlanRate>,
    /// Requests per second and burst each client address gets on the
    /// anonymous `/auth` routes (login, refresh, logout), per instance.
    #[arg(long, env = "MMM_AUTH_RATE_LIMIT", default_value = "5:20")]
    pub auth_rate_limit: Rate,
    /// The header the load balancer puts the client's address in (e.g.
    /// `x-real-ip`); without it the peer address is the client. Set it only
    /// behind a proxy that overwrites the header, or clients choose their own key.
    #[arg(long, env = "MMM_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Queued analyses (all tenants) past which new runs are refused with 503.
    #[arg(long, env = "MMM_MAX_QUEUED_ANALYSES", default_value_t = 10_000)]
    pub max_queued_analyses: i64,
    /// Seconds a request may take until its response starts (uploads
    /// included; an event stream's body is not counted); past it, 503.
    #[arg(long, env = "MMM_REQUEST_TIMEOUT", default_value_t = 60)]
    pub request_timeout: u64,
}

/// `RATE:BURST`: a sustained rate per second and the requests allowed at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (rate, burst) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}`: expected RATE:BURST, e.g. 50:100"))?;
        let per_second: f64 = rate
            .trim()
            .parse()
            .map_err(|_| format!("`{rate}` is not a number of requests per second"))?;
        let burst: u32 = burst
            .trim()
            .parse()
            .map_err(|_| format!("`{burst}` is not a whole number of requests"))?;
        Rate::new(per_second, burst)
    }
}

impl Rate {
    pub fn new(per_second: f64, burst: u32) -> Result<Self, String> {
        if !(per_second.is_finite() && (0.001..=1e6).contains(&per_second)) {
            return Err("the rate must be 0.001 to 1000000 requests per second".into());
        }
        if !(1..=1_000_000).contains(&burst) {
            return Err("the burst must be 1 to 1000000 requests".into());
        }
        Ok(Self { per_second, burst })
    }
}

/// `PLAN=RATE:BURST`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanRate {
    pub plan: String,
    pub rate: Rate,
}

impl std::str::FromStr for PlanRate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (plan, rate) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected PLAN=RATE:BURST"))?;
        Ok(Self {
            plan: plan.trim().to_owned(),
            rate: rate.parse()?,
        })
    }
}

/// A listen address, or `off` for none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListenAddr(pub Option<SocketAddr>);

impl std::str::FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        s.parse()
            .map(|a| Self(Some(a)))
            .map_err(|_| format!("`{s}` is not an address like 127.0.0.1:9464 (or `off`)"))
    }
}

#[derive(Clone, Debug, Args)]
pub struct WorkerCommand {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub workers: WorkerConfig,
    /// MiB of each pooled plugin memory kept resident between calls.
    #[arg(long, env = "MMM_PLUGIN_KEEP_RESIDENT_MB", default_value_t = 96)]
    pub plugin_keep_resident_mb: usize,
    /// Seconds a tenant's cached config lives without an explicit invalidation.
    #[arg(long, env = "MMM_TENANT_CACHE_TTL", default_value_t = 60)]
    pub tenant_cache_ttl: u64,
    #[arg(long, env = "MMM_LOG_FORMAT", default_value = "pretty")]
    pub log_format: LogFormat,
    /// Where Prometheus scrapes this worker's `/metrics` (plugin calls,
    /// analyses finished, queue depth); `off` serves none.
    #[arg(long, env = "MMM_METRICS_BIND", default_value = "127.0.0.1:9465")]
    pub metrics_bind: ListenAddr,
    /// Export traces to this OTLP/HTTP collector (e.g. `http://collector:4318`); off when absent.
    #[arg(long, env = "MMM_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

/// How analysis jobs are run: by workers inside `mmm serve` and in any
/// number of `mmm worker` processes on the same database.
#[derive(Clone, Debug, Args)]
pub struct WorkerConfig {
    /// Workers in this process, each running one analysis at a time
    /// (default: one per core; 0 in `mmm serve` leaves analyses to `mmm worker`s).
    #[arg(long, env = "MMM_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds a claimed analysis stays leased without a heartbeat; a dead
    /// worker's analysis is taken over this long after its last one.
    #[arg(long, env = "MMM_WORKER_LEASE_SECS", default_value_t = 30.0)]
    pub worker_lease_secs: f64,
    /// Seconds a stopping process lets running analyses finish before handing them back.
    #[arg(long, env = "MMM_WORKER_GRACE_SECS", default_value_t = 60.0)]
    pub worker_grace_secs: f64,
    /// Analyses one tenant may have running at once, unless its `analyses`
    /// feature config sets `max_running`.
    #[arg(long, env = "MMM_TENANT_MAX_RUNNING", default_value_t = 2)]
    pub tenant_max_running: i32,
    /// Attempts an analysis gets when host faults (database, lost worker) interrupt it.
    #[arg(long, env = "MMM_ANALYSIS_MAX_ATTEMPTS", default_value_t = 3)]
    pub analysis_max_attempts: i32,
    /// Seconds before the first retry; doubled per attempt, at most 60.
    #[arg(long, env = "MMM_ANALYSIS_RETRY_SECS", default_value_t = 2.0)]
    pub analysis_retry_secs: f64,
}

impl WorkerConfig {
    pub fn settings(&self) -> anyhow::Result<crate::analyses::WorkerSettings> {
        let defaults = crate::analyses::WorkerSettings::default();
        let secs = |name: &str, v: f64| {
            if v.is_finite() && (0.1..=86_400.0).contains(&v) {
                Ok(std::time::Duration::from_secs_f64(v))
            } else {
                Err(anyhow::anyhow!("{name} must be 0.1 to 86400 seconds"))
            }
        };
        anyhow::ensure!(
            self.tenant_max_running >= 1,
            "--tenant-max-running must be at least 1"
        );
        anyhow::ensure!(
            self.analysis_max_attempts >= 1,
            "--analysis-max-attempts must be at least 1"
        );
        Ok(crate::analyses::WorkerSettings {
            count: self.workers.unwrap_or(defaults.count),
            lease: secs("--worker-lease-secs", self.worker_lease_secs)?,
            grace: secs("--worker-grace-secs", self.worker_grace_secs)?,
            tenant_max_running: self.tenant_max_running,
            retry_base: secs("--analysis-retry-secs", self.analysis_retry_secs)?,
            max_attempts: self.analysis_max_attempts,
            ..defaults
        })
    }
}

/// Caps on the tables tenants send (uploads, plugin runs), checked before
/// parsing, and the memory all parses together may hold.
#[derive(Clone, Debug, Args)]
pub struct TableConfig {
    /// MiB of one table body; larger bodies are refused (413) before they are read.
    #[arg(long, env = "MMM_TABLE_MAX_MB", default_value_t = 256)]
    pub table_max_mb: usize,
    #[arg(long, env = "MMM_TABLE_MAX_COLUMNS", default_value_t = 1_000)]
    pub table_max_columns: usize,
    #[arg(long, env = "MMM_TABLE_MAX_ROWS", default_value_t = 2_000_000)]
    pub table_max_rows: usize,
    /// Rows × columns of one table.
    #[arg(long, env = "MMM_TABLE_MAX_CELLS", default_value_t = 25_000_000)]
    pub table_max_cells: usize,
    /// MiB all table parses together may hold; a parse waits for its share (30 s, then 503).
    #[arg(long, env = "MMM_TABLE_PARSE_BUDGET_MB", default_value_t = 2048)]
    pub table_parse_budget_mb: usize,
}

impl TableConfig {
    pub fn reader(&self) -> crate::tables::TableReader {
        let limits = crate::tables::TableLimits {
            max_bytes: self.table_max_mb << 20,
            max_columns: self.table_max_columns,
            max_rows: self.table_max_rows,
            max_cells: self.table_max_cells,
        };
        crate::tables::TableReader::new(limits, self.table_parse_budget_mb << 20)
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}
