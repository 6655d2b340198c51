//! The W3C WebDriver commands the console tests use, as JSON over the
//! suite's own HTTP client: start and end a session, navigate, find
//! elements, click, type, clear, pick an option, read text and state, run a
//! script, resize the window, take a screenshot.
//!
//! fantoccini did this before; it is a full client (its own URL, ICU and
//! hyper client stack, 32 crates to build) for the dozen calls below, each
//! of which is one request to chromedriver.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error: the driver's `error` code and message, or a transport failure.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// One browser session.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `<driver>/session/<id>`.
    session: String,
}

/// An element of the current page.
pub struct Element {
    client: Client,
    id: String,
}

impl Client {
    /// Starts a session on the driver at `driver` with these capabilities.
    pub async fn connect(driver: &str, capabilities: Value) -> Result<Self> {
        let http = reqwest::Client::new();
        let body = json!({"capabilities": {"alwaysMatch": capabilities}});
        let value = command(
            &http,
            Method::POST,
            &format!("{driver}/session"),
            Some(body),
        )
        .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| Error(format!("no session id in {value}")))?;
        Ok(Self {
            http,
            session: format!("{driver}/session/{id}"),
        })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        command(&self.http, method, &format!("{}{path}", self.session), body).await
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.call(Method::POST, "/url", Some(json!({"url": url})))
            .await
            .map(drop)
    }

    /// The first element matching the CSS selector, now.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let found = self
            .call(Method::POST, "/element", Some(selector(css)))
            .await?;
        self.element(&found)
    }

    /// Every element matching the CSS selector, now.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let found = self
            .call(Method::POST, "/elements", Some(selector(css)))
            .await?;
        found
            .as_array()
            .ok_or_else(|| Error(format!("not a list of elements: {found}")))?
            .iter()
            .map(|element| self.element(element))
            .collect()
    }

    /// The first element matching the CSS selector once there is one, at most `within`.
    pub async fn wait_for(&self, css: &str, within: Duration) -> Result<Element> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.find(css).await {
                Ok(element) => return Ok(element),
                Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn element(&self, found: &Value) -> Result<Element> {
        let id = found[ELEMENT]
            .as_str()
            .ok_or_else(|| Error(format!("not an element: {found}")))?;
        Ok(Element {
            client: self.clone(),
            id: id.to_owned(),
        })
    }

    /// Runs `script` (a function body) with `args`; its return value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.call(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await
        .map(drop)
    }

    /// The viewport as a PNG.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let encoded = self.call(Method::GET, "/screenshot", None).await?;
        let encoded = encoded
            .as_str()
            .ok_or_else(|| Error(format!("not a screenshot: {encoded}")))?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| Error(format!("screenshot: {e}")))
    }

    /// Ends the session, which closes the browser.
    pub async fn close(self) -> Result<()> {
        self.call(Method::DELETE, "", None).await.map(drop)
    }
}

impl Element {
    fn path(&self, what: &str) -> String {
        format!("/element/{}/{what}", self.id)
    }

    pub async fn click(&self) -> Result<()> {
        self.client
            .call(Method::POST, &self.path("click"), Some(json!({})))
            .await
            .map(drop)
    }

    /// Types `keys` into the element (WebDriver key codes such as `\u{E004}`
    /// for Tab and `\u{E007}` for Enter included).
    pub async fn send_keys(&self, keys: &str) -> Result<()> {
        self.client
            .call(
                Method::POST,
                &self.path("value"),
                Some(json!({"text": keys})),
            )
            .await
            .map(drop)
    }

    /// Empties a text field.
    pub async fn clear(&self) -> Result<()> {
        self.client
            .call(Method::POST, &self.path("clear"), Some(json!({})))
            .await
            .map(drop)
    }

    /// Picks the option of this `<select>` whose value is `value`.
    pub async fn select_by_value(&self, value: &str) -> Result<()> {
        let css = format!(
            "option[value=\"{}\"]",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let option = self
            .client
            .call(Method::POST, &self.path("element"), Some(selector(&css)))
            .await?;
        let option = self.client.element(&option)?;
        option.click().await
    }

    /// The element's rendered text.
    pub async fn text(&self) -> Result<String> {
        let text = self
            .client
            .call(Method::GET, &self.path("text"), None)
            .await?;
        text.as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error(format!("not a text: {text}")))
    }

    /// Whether a checkbox or option is selected.
    pub async fn is_selected(&self) -> Result<bool> {
        let selected = self
            .client
            .call(Method::GET, &self.path("selected"), None)
            .await?;
        selected
            .as_bool()
            .ok_or_else(|| Error(format!("not a boolean: {selected}")))
    }
}

fn selector(css: &str) -> Value {
    json!({"using": "css selector", "value": css})
}

/// One WebDriver command: its `value`, or the driver's error.
async fn command(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| Error(format!("{url}: {e}")))?;
    let status = response.status();
    let mut reply: Value = response
        .json()
        .await
        .map_err(|e| Error(format!("{url}: {status}: {e}")))?;
    let value = reply["value"].take();
    if status.is_success() {
        Ok(value)
    } else {
        Err(Error(format!(
            "{}: {}",
            value["error"].as_str().unwrap_or("error"),
            value["message"].as_str().unwrap_or_default()
        )))
    }
}
