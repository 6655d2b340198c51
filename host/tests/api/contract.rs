//! The API against its own OpenAPI document, on a live server: the document
//! is valid OpenAPI 3.1, and Schemathesis, fuzzing every operation as an
//! anonymous caller, a tenant admin and a platform admin, finds no server
//! error, no response outside the documented statuses and schemas, and no
//! other check failing. The tools come from `tools/api-fuzz/requirements.txt`,
//! installed by `./dev.sh test` into the virtual environment named by
//! `MMM_API_FUZZ_VENV` (default `<workspace>/.tools/venv`).

use std::path::{Path, PathBuf};
use std::process::Output;

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, access};

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

/// The tokens the fuzzer acts with. Access tokens are JWTs, valid whatever
/// the fuzzer does to logins (throttling) or refresh tokens (logout), and
/// the fuzzer never sees a refresh token.
struct Callers {
    platform_admin: String,
    tenant_admin: String,
}

async fn callers(app: &TestApp) -> Callers {
    let admin = app.admin_token().await;
    let tenant = app.create_tenant(&admin, "fuzz").await;
    let id = tenant["id"].as_str().unwrap();
    app.create_user(&admin, id, "owner@fuzz.test", "tenant_admin")
        .await;
    // So that running a plugin gets past the feature check now and then.
    let response = app
        .put(
            &format!("/admin/tenants/{id}/features/plugin:winsorize"),
            &admin,
            json!({ "enabled": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let tenant_admin = access(&app.tokens("owner@fuzz.test", Some("fuzz")).await);
    Callers {
        platform_admin: admin,
        tenant_admin,
    }
}

#[tokio::test]
async fn the_live_api_keeps_to_its_openapi_document() {
    let validator = tool("openapi-spec-validator");
    let schemathesis = tool("schemathesis");
    let app = TestApp::spawn().await;
    let callers = callers(&app).await;
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

    // The platform admin goes last: it may suspend the tenant the tenant
    // admin's token belongs to.
    let runs = [
        ("anonymous", None),
        ("tenant admin", Some(&callers.tenant_admin)),
        ("platform admin", Some(&callers.platform_admin)),
    ];
    let mut failed = Vec::new();
    for (who, token) in runs {
        let mut command = tokio::process::Command::new(&schemathesis);
        command
            .current_dir(&dir)
            .arg("--config-file")
            .arg(workspace().join("tools/api-fuzz/schemathesis.toml"))
            .arg("run")
            .arg("--url")
            .arg(&app.address)
            .arg(&document);
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
    assert!(
        failed.is_empty(),
        "Schemathesis found failures as {failed:?}; its reports are printed above"
    );
}
