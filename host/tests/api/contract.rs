//! The API against its own OpenAPI document, on a live server: the document
//! is valid OpenAPI 3.1, and Schemathesis, fuzzing every operation (and,
//! in its stateful phase, the document's links: upload → analysis →
//! recommendation) as an anonymous caller and with a token of every role,
//! on a tenant with data, a fitted analysis and a recommendation, finds no
//! server error, no response outside the documented statuses and schemas,
//! and no other check failing. The tools come from `tools/api-fuzz/requirements.txt`,
//! installed by `./dev.sh test` into the virtual environment named by
//! `MMM_API_FUZZ_VENV` (default `<workspace>/.tools/venv`).

use std::path::{Path, PathBuf};
use std::process::Output;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::analyses::{start, tenant_with_data, wait_end};
use crate::api::helpers::{TestApp, TestTenant, access};
use crate::api::plugins::enable;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A tool of the virtual environment; a missing one fails the test, since a
/// skipped contract test would pass while proving nothing.
fn tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("MMM_API_FUZZ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".tools/venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `./dev.sh test`, which installs tools/api-fuzz/requirements.txt \
         into {} (set MMM_API_FUZZ_VENV to use another virtual environment)",
        path.display(),
        venv.display(),
    );
    path
}

fn report(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A lift test on TV in the example's first spring.
fn holdout() -> Value {
    json!({
        "name": "TV spring holdout",
        "channel": "tv",
        "start": "2022-03-07",
        "end": "2022-03-27",
        "spend_change": -18000.0,
        "lift": -30000.0,
        "standard_error": 8000.0,
    })
}

/// A tenant with a user of every role, a fitted analysis of the example
/// (so that the routes behind a data source, an analysis or a
/// recommendation get past 404 and 409 now and then), a stored default
/// recommendation, an experiment, and a plugin feature on; returns it with
/// the platform admin's token.
async fn tenant_with_everything(app: &TestApp) -> (TestTenant, String) {
    let admin = app.admin_token().await;
    let (tenant, source) = tenant_with_data(app, &admin, "fuzz").await;
    // So that running a plugin gets past the feature check now and then.
    enable(app, &admin, &tenant, "winsorize", true).await;
    let analyst = tenant.token("analyst");
    let body = json!({ "source_id": source, "params": { "budget": 2000 }, "seed": 3, "preprocessors": [] });
    let queued = start(app, analyst, body).await;
    let id = queued["id"].as_str().unwrap();
    let done = wait_end(app, analyst, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let response = app
        .get(
            &format!("/tenant/recommendations?analysis_id={id}"),
            analyst,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.post("/tenant/experiments", analyst, holdout()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    (tenant, admin)
}

/// Whose token a run sends.
enum Caller<'a> {
    Anonymous,
    Token(&'a str),
    /// A tenant admin signed up just before the run: a tenant admin's run
    /// may demote or delete tenant admins (itself too, once the fuzzer has
    /// made another one), revoking their tokens.
    NewTenantAdmin(&'static str),
}

/// One Schemathesis run: who acts, as which caller, and its bounds (the
/// config file's `max-time` and `max-examples` are the longest).
struct Run<'a> {
    who: &'static str,
    caller: Caller<'a>,
    max_time: u32,
    max_examples: u32,
    /// Only these phases (`--phases`); all of them when `None`.
    phases: Option<&'static str>,
}

#[tokio::test]
async fn the_live_api_keeps_to_its_openapi_document() {
    let validator = tool("openapi-spec-validator");
    let schemathesis = tool("schemathesis");
    let began = std::time::Instant::now();
    // A worker, so that the analyses the fuzzer queues through the links
    // run (and some end), as they would in production.
    let app = TestApp::spawn_with_workers(1).await;
    let (tenant, platform_admin) = tenant_with_everything(&app).await;
    println!(
        "=== the tenant's data is ready ({:.0} s) ===",
        began.elapsed().as_secs_f64()
    );
    let dir = std::env::temp_dir().join(format!("mmm-contract-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let document = dir.join("openapi.json");
    let response = app
        .request(Method::GET, "/openapi.json", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    std::fs::write(&document, response.bytes().await.unwrap()).unwrap();

    let output = tokio::process::Command::new(&validator)
        .arg(&document)
        .output()
        .await
        .expect("run openapi-spec-validator");
    assert!(
        output.status.success(),
        "/openapi.json is not valid OpenAPI 3.1:\n{}",
        report(&output)
    );

    // Every role, the least privileged first: a tenant admin may delete or
    // demote the other roles' users (revoking their tokens), and the
    // platform admin goes last, since it may suspend the tenant.
    let run = |who, caller, max_time, max_examples| Run {
        who,
        caller,
        max_time,
        max_examples,
        phases: None,
    };
    // A full run leaves the stateful phase a few seconds; this one gives
    // the links (upload → analysis → recommendation) time of their own.
    let stateful = Run {
        phases: Some("stateful"),
        ..run(
            "tenant admin, stateful only",
            Caller::NewTenantAdmin("stateful@fuzz.test"),
            15,
            25,
        )
    };
    let runs = [
        run("anonymous", Caller::Anonymous, 12, 10),
        run("viewer", Caller::Token(tenant.token("viewer")), 15, 10),
        run("analyst", Caller::Token(tenant.token("analyst")), 20, 15),
        run(
            "data scientist",
            Caller::Token(tenant.token("data_scientist")),
            20,
            15,
        ),
        run(
            "tenant admin",
            Caller::Token(tenant.token("tenant_admin")),
            25,
            25,
        ),
        stateful,
        run("platform admin", Caller::Token(&platform_admin), 25, 25),
    ];
    let mut failed = Vec::new();
    for Run {
        who,
        caller,
        max_time,
        max_examples,
        phases,
    } in runs
    {
        let token = match caller {
            Caller::Anonymous => None,
            Caller::Token(token) => Some(token.to_owned()),
            Caller::NewTenantAdmin(email) => {
                app.create_user(&platform_admin, &tenant.id, email, "tenant_admin")
                    .await;
                Some(access(&app.tokens(email, Some("fuzz")).await))
            }
        };
        let mut command = tokio::process::Command::new(&schemathesis);
        command
            .current_dir(&dir)
            .arg("--config-file")
            .arg(workspace().join("tools/api-fuzz/schemathesis.toml"))
            .arg("run")
            .arg("--url")
            .arg(&app.address)
            .arg("--max-time")
            .arg(max_time.to_string())
            .arg("--max-examples")
            .arg(max_examples.to_string())
            .arg(&document);
        if let Some(phases) = phases {
            command.arg("--phases").arg(phases);
        }
        if let Some(token) = token {
            command
                .arg("-H")
                .arg(format!("Authorization: Bearer {token}"));
        }
        let started = std::time::Instant::now();
        let output = command.output().await.expect("run schemathesis");
        let text = report(&output);
        println!(
            "=== schemathesis as {who} ({:.0} s) ===\n{text}",
            started.elapsed().as_secs_f64()
        );
        if !output.status.success() {
            failed.push(who);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!(
        "=== contract test: {:.0} s in all ===",
        began.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "Schemathesis found failures as {failed:?}; its reports are printed above"
    );
}
