//! Tenant configs are cached, yet an admin's change is seen by the very next request.

use serde_json::{Value, json};

use crate::helpers::TestApp;

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
