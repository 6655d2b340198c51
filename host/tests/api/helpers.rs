//! `TestApp`: a server on a fresh database, with one method per endpoint.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mmm_host::auth::SigningKey;
use mmm_host::postgres::EmbeddedCluster;
use mmm_host::postgres::bootstrap::{self, Databases, RolePasswords};
use mmm_host::startup::{Application, Settings};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub const PASSWORD: &str = "a long enough password";
pub const ADMIN_EMAIL: &str = "root@platform.test";
pub const ROLES: [&str; 4] = ["tenant_admin", "data_scientist", "analyst", "viewer"];

/// One cluster per test binary; it stops itself when the binary exits.
struct Cluster {
    cluster: EmbeddedCluster,
    owner_password: String,
    passwords: RolePasswords,
}

static CLUSTER: OnceCell<Arc<Cluster>> = OnceCell::const_new();

async fn cluster() -> Arc<Cluster> {
    CLUSTER
        .get_or_init(|| async {
            let root = std::env::temp_dir().join(format!("mmm-test-{}", std::process::id()));
            std::fs::create_dir_all(&root).unwrap();
            let cluster = EmbeddedCluster::start(&root.join("pg"), true)
                .await
                .expect("start the test cluster");
            let owner_password = mmm_host::secrets::random_token(24);
            bootstrap::ensure_owner_and_database(
                cluster.superuser_options("postgres"),
                "mmm_owner",
                &owner_password,
                "mmm",
            )
            .await
            .expect("create the owner role");
            let passwords = RolePasswords {
                app: mmm_host::secrets::random_token(24),
                platform: mmm_host::secrets::random_token(24),
            };
            Arc::new(Cluster {
                cluster,
                owner_password,
                passwords,
            })
        })
        .await
        .clone()
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The test's own database, for tests that connect directly.
    pub database: String,
    pub signing_key: SigningKey,
    pub base_domain: String,
    /// Where this server's `/metrics` listens (its own port, as in production).
    pub metrics_address: String,
    databases: Databases,
}

/// A fresh database with migrations applied, as the server sees it.
///
/// Each is a copy of one template database that was migrated once per test
/// binary: copying takes milliseconds where running every migration took
/// most of a test's set-up. The server's own start-up then finds the
/// migrations applied, as it would on any restart.
pub async fn fresh_databases() -> (Databases, String) {
    let cluster = cluster().await;
    let template = migrated_template().await;
    let name = format!("t_{}", Uuid::new_v4().simple());
    create_database(&cluster, &format!("{name} template {template}")).await;
    let owner = cluster
        .cluster
        .connect_options("mmm_owner", &cluster.owner_password, &name);
    let databases = bootstrap::connect(owner, &cluster.passwords, 10)
        .await
        .expect("bootstrap the test database");
    (databases, name)
}

/// The template every test database is copied from: migrated, then left
/// with no connection open (PostgreSQL copies only an unused template).
async fn migrated_template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let cluster = cluster().await;
            let name = format!("template_{}", Uuid::new_v4().simple());
            create_database(&cluster, &name).await;
            let owner =
                cluster
                    .cluster
                    .connect_options("mmm_owner", &cluster.owner_password, &name);
            let databases = bootstrap::connect(owner, &cluster.passwords, 1)
                .await
                .expect("migrate the template database");
            databases.owner.close().await;
            databases.db.close().await;
            name
        })
        .await
}

/// `create database <spec> owner mmm_owner`, as the superuser.
async fn create_database(cluster: &Cluster, spec: &str) {
    let superuser = sqlx::PgPool::connect_with(cluster.cluster.superuser_options("postgres"))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create database {spec} owner mmm_owner"
    )))
    .execute(&superuser)
    .await
    .unwrap();
    superuser.close().await;
}

/// Connects to the test's database as the given role.
pub async fn connect_as(database: &str, role: &str) -> sqlx::PgPool {
    let cluster = cluster().await;
    let options = match role {
        "mmm_app" => cluster
            .cluster
            .connect_options(role, &cluster.passwords.app, database),
        "mmm_platform" => {
            cluster
                .cluster
                .connect_options(role, &cluster.passwords.platform, database)
        }
        "mmm_owner" => cluster
            .cluster
            .connect_options(role, &cluster.owner_password, database),
        "postgres" => cluster.cluster.superuser_options(database),
        other => panic!("no password for {other}"),
    };
    sqlx::PgPool::connect_with(options).await.unwrap()
}

/// Short leases and retries, so that takeovers happen within a test.
pub fn worker_settings(count: usize) -> mmm_host::analyses::WorkerSettings {
    mmm_host::analyses::WorkerSettings {
        count,
        lease: Duration::from_secs(3),
        grace: Duration::from_secs(5),
        retry_base: Duration::from_millis(200),
        ..Default::default()
    }
}

/// Compiled plugins shared by every test and every `mmm` process the tests
/// start, in this and later runs, so each built-in compiles once per
/// checkout rather than once per server. Entries are keyed by the component's
/// sha256 and the engine's settings, and written by rename, so concurrent
/// writers and stale files are harmless.
pub fn plugin_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

pub fn policy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

impl TestApp {
    /// A server without analysis workers (most tests queue nothing).
    pub async fn spawn() -> Self {
        Self::spawn_with(worker_settings(0)).await
    }

    /// A server whose own workers run analyses.
    pub async fn spawn_with_workers(count: usize) -> Self {
        Self::spawn_with(worker_settings(count)).await
    }

    pub async fn spawn_with(workers: mmm_host::analyses::WorkerSettings) -> Self {
        Self::spawn_limited(workers, mmm_host::limits::Limits::generous()).await
    }

    /// A server with the given rate limits and back-pressure bound.
    pub async fn spawn_limited(
        workers: mmm_host::analyses::WorkerSettings,
        limits: mmm_host::limits::Limits,
    ) -> Self {
        let (databases, database) = fresh_databases().await;
        let signing_key =
            SigningKey::from_secret(mmm_host::secrets::random_token(32).as_bytes()).unwrap();
        let app = Self::start(databases.clone(), database, signing_key, workers, limits).await;
        mmm_host::http::auth::create_platform_admin(&databases.db, ADMIN_EMAIL, PASSWORD.into())
            .await
            .expect("create the platform admin");
        app
    }

    /// A second instance on this one's database with the same signing key,
    /// as two servers behind a load balancer are.
    pub async fn sibling(&self, limits: mmm_host::limits::Limits) -> Self {
        Self::start(
            self.databases.clone(),
            self.database.clone(),
            self.signing_key.clone(),
            worker_settings(0),
            limits,
        )
        .await
    }

    async fn start(
        databases: Databases,
        database: String,
        signing_key: SigningKey,
        workers: mmm_host::analyses::WorkerSettings,
        limits: mmm_host::limits::Limits,
    ) -> Self {
        let base_domain = "mmm.test".to_owned();
        let settings = Settings {
            bind: "127.0.0.1:0".parse().unwrap(),
            base_domain: Some(base_domain.clone()),
            signing_key: signing_key.clone(),
            previous_keys: vec![],
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(3600),
            policy_dir: policy_dir(),
            tenant_cache_ttl: Duration::from_secs(3600),
            plugin_cache_dir: Some(plugin_cache_dir()),
            plugin_keep_resident: 96 << 20,
            tables: mmm_host::tables::TableReader::default(),
            workers,
            limits,
            metrics_bind: Some("127.0.0.1:0".parse().unwrap()),
        };
        let app = Application::build(settings, databases.clone())
            .await
            .expect("build the app");
        let address = format!("http://{}", app.local_addr());
        let metrics_address = format!("http://{}", app.metrics_addr().expect("a metrics listener"));
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            address,
            client,
            database,
            signing_key,
            base_domain,
            metrics_address,
            databases,
        }
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{path}", self.address));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str, tenant: Option<&str>) -> Response {
        let mut body = json!({ "email": email, "password": password });
        if let Some(tenant) = tenant {
            body["tenant"] = json!(tenant);
        }
        self.request(Method::POST, "/auth/login", None)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Tokens of a successful login. Like any good client it comes back
    /// after a 503 `login_busy` (`Retry-After`): the password hasher is
    /// shared by every test of the binary, and one of them floods it.
    pub async fn tokens(&self, email: &str, tenant: Option<&str>) -> Value {
        let mut response = self.login(email, PASSWORD, tenant).await;
        for _ in 0..20 {
            if response.status() != StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            response = self.login(email, PASSWORD, tenant).await;
        }
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        response.json().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        access(&self.tokens(ADMIN_EMAIL, None).await)
    }

    pub async fn create_tenant(&self, admin: &str, slug: &str) -> Value {
        let response = self
            .post(
                "/admin/tenants",
                admin,
                json!({ "slug": slug, "name": slug.to_uppercase() }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn create_user(
        &self,
        admin: &str,
        tenant_id: &str,
        email: &str,
        role: &str,
    ) -> Value {
        let body = json!({ "email": email, "password": PASSWORD, "role": role });
        let response = self
            .post(&format!("/admin/tenants/{tenant_id}/users"), admin, body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create {email}");
        response.json().await.unwrap()
    }

    /// A tenant with one user per role; returns it with each role's token and user.
    pub async fn tenant_with_every_role(&self, admin: &str, slug: &str) -> TestTenant {
        let tenant = self.create_tenant(admin, slug).await;
        let id = tenant["id"].as_str().unwrap().to_owned();
        let mut users = Vec::new();
        for role in ROLES {
            let email = format!("{role}@{slug}.test");
            let user = self.create_user(admin, &id, &email, role).await;
            let token = access(&self.tokens(&email, Some(slug)).await);
            users.push((role, user, token));
        }
        TestTenant { id, users }
    }
}

pub struct TestTenant {
    pub id: String,
    pub users: Vec<(&'static str, Value, String)>,
}

impl TestTenant {
    pub fn token(&self, role: &str) -> &str {
        &self.users.iter().find(|(r, ..)| *r == role).unwrap().2
    }

    pub fn user_id(&self, role: &str) -> &str {
        self.users.iter().find(|(r, ..)| *r == role).unwrap().1["id"]
            .as_str()
            .unwrap()
    }
}

pub fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The error code of a problem response.
pub async fn code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A second server on `app`'s database with its signing key (so `app`'s
/// tokens are good here), whose request pool (`mmm_app`) has a single
/// connection for requests, and that pool: every tenant request to it runs
/// on the one connection a test then probes. (The pool holds two more, each
/// kept from the start by one of the server's LISTEN tasks.)
pub async fn sibling_with_one_app_connection(
    app: &TestApp,
    limits: mmm_host::limits::Limits,
) -> (TestApp, sqlx::PgPool) {
    let [(_, app_pool), (_, platform)] = app.databases.db.pools();
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(3)
        .connect_with(app_pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let databases = Databases {
        owner: app.databases.owner.clone(),
        db: mmm_host::db::Db::new(one.clone(), platform.clone()),
    };
    let sibling = TestApp::start(
        databases,
        app.database.clone(),
        app.signing_key.clone(),
        worker_settings(0),
        limits,
    )
    .await;
    (sibling, one)
}
