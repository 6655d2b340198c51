//! Tenant configs are cached, yet an admin's change is seen by the very next
//! request, and made-up tenant ids (from unauthenticated input) take no room.

use std::time::Duration;

use mmm_host::db::tenants::{self, NewTenant};
use mmm_host::tenant_config::TenantConfigs;
use serde_json::{Value, json};

use crate::api::helpers::{TestApp, fresh_databases};

#[tokio::test]
async fn lookups_of_tenants_that_do_not_exist_are_not_cached() {
    let (databases, _) = fresh_databases().await;
    let configs = TenantConfigs::new(databases.db.clone(), Duration::from_secs(3600));
    let mut tx = databases.db.platform_tx().await.unwrap();
    let settings = json!({});
    let real = tenants::insert(
        &mut tx,
        NewTenant {
            slug: "acme",
            name: "Acme",
            plan: "free",
            settings: &settings,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert!(configs.get(real.id).await.unwrap().is_some());
    for _ in 0..200 {
        // What `/auth/refresh` looks up for a token prefix anyone can make up.
        let stranger = uuid::Uuid::new_v4().to_string().parse().unwrap();
        assert!(configs.get(stranger).await.unwrap().is_none());
    }
    assert_eq!(configs.cached().await, 1, "only the real tenant is cached");
    assert!(configs.get(real.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_feature_toggled_by_an_admin_is_seen_by_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.tenant_with_every_role(&admin, "acme").await;
    let token = acme.token("viewer");
    let features = |me: Value| me["features"].as_array().unwrap().clone();

    let me: Value = app.get("/auth/me", token).await.json().await.unwrap();
    assert!(features(me).is_empty());

    let path = format!("/admin/tenants/{}/features/plugin:winsorize", acme.id);
    let set: Value = app
        .put(
            &path,
            &admin,
            json!({ "enabled": true, "config": { "max_z": 3 } }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["enabled"], true);
    let me: Value = app.get("/auth/me", token).await.json().await.unwrap();
    assert_eq!(features(me), vec![json!("plugin:winsorize")]);
    let tenant: Value = app.get("/tenant", token).await.json().await.unwrap();
    assert_eq!(tenant["features"]["plugin:winsorize"]["max_z"], 3);

    app.put(&path, &admin, json!({ "enabled": false })).await;
    let me: Value = app.get("/auth/me", token).await.json().await.unwrap();
    assert!(features(me).is_empty());
    let listed: Value = app
        .get(&format!("/admin/tenants/{}/features", acme.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["enabled"], false);
}
