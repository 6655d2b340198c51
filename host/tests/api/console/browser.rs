//! One chromedriver per test binary and one browser session per test.
//!
//! Where no Chromium is installed the browser tests skip with a message,
//! unless `MMM_REQUIRE_BROWSER` is set (`./dev.sh test` sets it once it has
//! installed Chromium), so a missing browser never passes silently in CI.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::webdriver::{Client, Element};
use crate::api::helpers::{PASSWORD, TestApp};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Long enough for an analysis to run on a loaded 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(180);

static DRIVER: OnceCell<Option<String>> = OnceCell::const_new();

/// chromedriver's address, started on first use with a watchdog that stops
/// it (and any browser a failed test left open) once this binary exits.
async fn driver() -> Option<String> {
    DRIVER
        .get_or_init(|| async {
            let found = std::path::Path::new(CHROMEDRIVER).exists()
                && std::path::Path::new(CHROMIUM).exists();
            if !found {
                let message = format!(
                    "no browser: {CHROMIUM} and {CHROMEDRIVER} are needed (Debian packages \
                     chromium and chromium-driver; ./dev.sh test installs them)"
                );
                assert!(
                    std::env::var_os("MMM_REQUIRE_BROWSER").is_none(),
                    "{message}"
                );
                eprintln!("skipping the browser tests: {message}");
                return None;
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let script = format!(
                "{CHROMEDRIVER} --port={port} --allowed-ips=127.0.0.1 & driver=$!; \
                 while [ -d /proc/{pid} ]; do sleep 1; done; \
                 kill $driver; sleep 1; pkill -f 'mmm-browser-{pid}-' || true",
                pid = std::process::id(),
            );
            // The watchdog outlives this binary by design, so it is not waited for.
            let watchdog = std::process::Command::new("sh")
                .args(["-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver");
            std::mem::forget(watchdog);
            let url = format!("http://127.0.0.1:{port}");
            let status = format!("{url}/status");
            for _ in 0..100 {
                if let Ok(response) = reqwest::get(&status).await
                    && response.status().is_success()
                {
                    return Some(url);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("chromedriver did not start on port {port}");
        })
        .await
        .clone()
}

pub struct Browser {
    pub client: Client,
    base: String,
    shots: PathBuf,
    name: &'static str,
}

impl Browser {
    /// A fresh browser (its own profile: no cookies, no storage) on `app`'s
    /// console at 1280×800; `None` where the tests skip.
    pub async fn open(app: &TestApp, name: &'static str) -> Option<Self> {
        let driver = driver().await?;
        let profile = std::env::temp_dir().join(format!(
            "mmm-browser-{}-{name}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1280,800", "--lang=en-GB",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let client = Client::connect(&driver, capabilities)
            .await
            .expect("a browser session");
        let shots = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("console-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        let browser = Self {
            client,
            base: format!("{}/console/", app.address),
            shots,
            name,
        };
        browser.client.goto(&browser.base).await.unwrap();
        Some(browser)
    }

    /// Signs in through the form with the keyboard alone: Tab between the
    /// fields, Enter to submit.
    pub async fn sign_in(&self, tenant: Option<&str>, email: &str) {
        self.ready("signin").await;
        let field = self.find("#signin-tenant").await;
        field.click().await.unwrap();
        let keys = format!(
            "{}\u{E004}{email}\u{E004}{PASSWORD}\u{E007}",
            tenant.unwrap_or("")
        );
        field.send_keys(&keys).await.unwrap();
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait_for(css, Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("{}: no {css}: {e}", self.name))
    }

    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(css).await.unwrap()
    }

    /// Waits until the page `page` has loaded its data and drawn it.
    pub async fn ready(&self, page: &str) {
        self.find(&format!(
            "main#page[data-page=\"{page}\"][data-ready=\"true\"]"
        ))
        .await;
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click {css}: {e}", self.name));
    }

    /// Clicks the link `css` and waits for the page `page` it leads to.
    pub async fn follow(&self, css: &str, page: &str) {
        self.click(css).await;
        self.ready(page).await;
    }

    /// Clicks the navigation link to `page` and waits for it.
    pub async fn visit(&self, page: &str) {
        self.follow(&format!("a[data-nav=\"{page}\"]"), page).await;
    }

    /// Waits until `script` (a JS expression) is truthy, at most `within`.
    pub async fn until(&self, script: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let value = self
                .client
                .execute(&format!("return {script};"), vec![])
                .await
                .unwrap();
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: `{script}` stayed {value}; page says: {}",
                self.name,
                self.text("body").await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        match self.client.find(css).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The text of each cell of each body row of `table`.
    pub async fn rows(&self, table: &str) -> Vec<Vec<String>> {
        let value = self
            .client
            .execute(
                "return [...document.querySelectorAll(arguments[0] + ' tbody tr')]
                    .map(r => [...r.cells].map(c => c.textContent.trim()));",
                vec![json!(table)],
            )
            .await
            .unwrap();
        serde_json::from_value(value).unwrap()
    }

    /// Saves a screenshot as `<test>-<page>.png`.
    pub async fn screenshot(&self, page: &str) -> PathBuf {
        // Charts animate in; let them settle so the picture shows the data.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{}-{page}.png", self.name));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Content-Security-Policy violations the page reported so far.
    pub async fn csp_violations(&self) -> Value {
        self.client
            .execute(
                "return window.__cspViolations || ['no violation listener'];",
                vec![],
            )
            .await
            .unwrap()
    }

    /// What the page keeps in web storage and cookies: tokens must be in
    /// none of them.
    pub async fn stored(&self) -> Value {
        self.client
            .execute(
                "return {local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage), cookies: document.cookie};",
                vec![],
            )
            .await
            .unwrap()
    }

    pub async fn close(self) {
        self.client.close().await.unwrap();
    }
}
