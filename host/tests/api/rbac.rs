//! The role × route table, run in full against the real router, and the
//! start-up checks that keep the policy and the router in step.

use std::collections::BTreeSet;

use mmm_host::rbac::{Rbac, RbacError};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::helpers::{ROLES, TestApp, policy_dir};

const EVERYONE: &[&str] = &["anonymous"];
const SIGNED_IN: &[&str] = &[
    "platform_admin",
    "tenant_admin",
    "data_scientist",
    "analyst",
    "viewer",
];
const TENANT_MEMBERS: &[&str] = &["tenant_admin", "data_scientist", "analyst", "viewer"];
const TENANT_ADMIN: &[&str] = &["tenant_admin"];
const PLATFORM_ADMIN: &[&str] = &["platform_admin"];
const AUTHORS: &[&str] = &["tenant_admin", "data_scientist"];
const RUNNERS: &[&str] = &["tenant_admin", "data_scientist", "analyst"];

/// (method, route template, who may call it). Every route of the router must be here.
const TABLE: &[(&str, &str, &[&str])] = &[
    ("GET", "/healthz", EVERYONE),
    ("GET", "/readyz", EVERYONE),
    ("GET", "/openapi.json", EVERYONE),
    ("POST", "/auth/login", EVERYONE),
    ("POST", "/auth/refresh", EVERYONE),
    ("POST", "/auth/logout", EVERYONE),
    ("GET", "/auth/me", SIGNED_IN),
    ("GET", "/tenant", TENANT_MEMBERS),
    ("GET", "/tenant/users", TENANT_ADMIN),
    ("POST", "/tenant/users", TENANT_ADMIN),
    ("GET", "/tenant/users/{id}", TENANT_ADMIN),
    ("PATCH", "/tenant/users/{id}", TENANT_ADMIN),
    ("DELETE", "/tenant/users/{id}", TENANT_ADMIN),
    ("GET", "/admin/tenants", PLATFORM_ADMIN),
    ("POST", "/admin/tenants", PLATFORM_ADMIN),
    ("GET", "/admin/tenants/{id}", PLATFORM_ADMIN),
    ("PATCH", "/admin/tenants/{id}", PLATFORM_ADMIN),
    ("GET", "/admin/tenants/{id}/statistics", PLATFORM_ADMIN),
    ("GET", "/admin/tenants/{id}/users", PLATFORM_ADMIN),
    ("POST", "/admin/tenants/{id}/users", PLATFORM_ADMIN),
    ("GET", "/admin/tenants/{id}/features", PLATFORM_ADMIN),
    ("PUT", "/admin/tenants/{id}/features/{key}", PLATFORM_ADMIN),
    ("GET", "/admin/statistics", PLATFORM_ADMIN),
    ("GET", "/admin/plugins", PLATFORM_ADMIN),
    ("POST", "/admin/plugins", PLATFORM_ADMIN),
    ("GET", "/tenant/plugins", TENANT_MEMBERS),
    ("POST", "/tenant/plugins", AUTHORS),
    ("POST", "/tenant/plugins/{name}/run", RUNNERS),
    ("POST", "/tenant/data/upload", AUTHORS),
    ("GET", "/tenant/data/sources", TENANT_MEMBERS),
    ("GET", "/tenant/data/sources/{id}", TENANT_MEMBERS),
    ("DELETE", "/tenant/data/sources/{id}", AUTHORS),
    ("GET", "/tenant/data/sources/{id}/rows", TENANT_MEMBERS),
    ("GET", "/tenant/dashboard/metrics", TENANT_MEMBERS),
    ("POST", "/tenant/analysis/run", RUNNERS),
    ("GET", "/tenant/analysis", TENANT_MEMBERS),
    ("GET", "/tenant/analysis/{analysis_id}", TENANT_MEMBERS),
    (
        "GET",
        "/tenant/analysis/{analysis_id}/decomposition",
        TENANT_MEMBERS,
    ),
    (
        "GET",
        "/tenant/analysis/{analysis_id}/response-curves",
        TENANT_MEMBERS,
    ),
    (
        "GET",
        "/tenant/analysis/{analysis_id}/events",
        TENANT_MEMBERS,
    ),
    ("POST", "/tenant/analysis/{analysis_id}/cancel", RUNNERS),
    ("GET", "/tenant/recommendations", TENANT_MEMBERS),
    ("POST", "/tenant/recommendations", RUNNERS),
    ("GET", "/tenant/recommendations/saved", TENANT_MEMBERS),
    (
        "GET",
        "/tenant/recommendations/{recommendation_id}",
        TENANT_MEMBERS,
    ),
    ("GET", "/tenant/experiments", TENANT_MEMBERS),
    ("POST", "/tenant/experiments", RUNNERS),
    ("GET", "/tenant/experiments/{experiment_id}", TENANT_MEMBERS),
    ("DELETE", "/tenant/experiments/{experiment_id}", RUNNERS),
];

fn router_routes() -> BTreeSet<(String, String)> {
    mmm_host::http::openapi::routes(&mmm_host::http::api().1)
}

#[test]
fn the_table_covers_every_route_of_the_router() {
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(table, router_routes());
}

#[tokio::test]
async fn every_role_gets_exactly_the_routes_the_policy_grants() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let unknown_user = uuid::Uuid::new_v4().to_string();
    let mut failures = Vec::new();

    for (method, template, allowed) in TABLE {
        let path = if template.starts_with("/tenant/users/") {
            template.replace("{id}", &unknown_user)
        } else {
            template
                .replace("{id}", &acme.id)
                .replace("{key}", "plugin:rbac-check")
        };
        // Bodies that change nothing if accepted.
        let body = match *template {
            "/auth/logout" => json!({ "refresh_token": format!("p.{}", "x".repeat(43)) }),
            "/admin/tenants/{id}/features/{key}" => json!({ "enabled": false }),
            "/tenant/users/{id}" => json!({ "role": "viewer" }),
            _ => json!({}),
        };
        let callers = std::iter::once(("anonymous", None))
            .chain(std::iter::once(("platform_admin", Some(admin.as_str()))))
            .chain(ROLES.iter().map(|role| (*role, Some(acme.token(role)))));
        for (role, token) in callers {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let mut request = app.request(method.clone(), &path, token);
            if method != Method::GET && method != Method::DELETE {
                request = request.json(&body);
            }
            let status = request.send().await.unwrap().status();
            let public = allowed.contains(&"anonymous");
            let may = public || allowed.contains(&role);
            let ok = match (may, role) {
                (true, _) => {
                    status != StatusCode::FORBIDDEN
                        && (public || status != StatusCode::UNAUTHORIZED)
                }
                (false, "anonymous") => status == StatusCode::UNAUTHORIZED,
                (false, _) => status == StatusCode::FORBIDDEN,
            };
            if !ok {
                failures.push(format!(
                    "{role} {method} {template} -> {status} (allowed: {may})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn policy_copy(edit: impl FnOnce(String) -> String) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    std::fs::copy(
        policy_dir().join("model.conf"),
        dir.path().join("model.conf"),
    )
    .unwrap();
    let policy = std::fs::read_to_string(policy_dir().join("policy.csv")).unwrap();
    std::fs::write(dir.path().join("policy.csv"), edit(policy)).unwrap();
    dir
}

#[tokio::test]
async fn a_route_without_a_policy_line_stops_the_server() {
    let dir = policy_copy(|p| p.replace("p, platform_admin, /admin/statistics, GET\n", ""));
    let error = Rbac::load(dir.path(), &router_routes()).await.unwrap_err();
    assert!(
        matches!(error, RbacError::Uncovered(ref path, _) if path == "/admin/statistics"),
        "{error}"
    );
}

#[tokio::test]
async fn a_policy_line_for_a_missing_route_or_role_stops_the_server() {
    let dir = policy_copy(|p| p + "p, viewer, /admin/secret, GET\n");
    assert!(matches!(
        Rbac::load(dir.path(), &router_routes()).await,
        Err(RbacError::UnknownRoute(..))
    ));
    let dir = policy_copy(|p| p + "p, janitor, /tenant, GET\n");
    assert!(matches!(
        Rbac::load(dir.path(), &router_routes()).await,
        Err(RbacError::UnknownSubject(..))
    ));
}

#[tokio::test]
async fn a_malformed_model_stops_the_server() {
    let dir = policy_copy(|p| p);
    std::fs::write(
        dir.path().join("model.conf"),
        "[request_definition]\nr = sub, obj, act\n[matchers]\nm = (((\n",
    )
    .unwrap();
    assert!(matches!(
        Rbac::load(dir.path(), &router_routes()).await,
        Err(RbacError::Load { .. })
    ));
}

/// A temporary directory removed on drop.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("mmm-policy-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
