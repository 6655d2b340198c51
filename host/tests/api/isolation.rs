//! No request of tenant A reads, lists, changes or learns of tenant B's rows,
//! and the database itself refuses what the server might get wrong.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::helpers::{ROLES, TestApp, code, connect_as};

#[tokio::test]
async fn tenant_users_see_only_their_own_tenant() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.tenant_with_every_role(&admin, "acme").await;
    let b = app.tenant_with_every_role(&admin, "globex").await;

    let listed: Value = app
        .get("/tenant/users", a.token("tenant_admin"))
        .await
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(listed["total"], 4);
    assert!(
        emails.iter().all(|e| e.ends_with("@acme.test")),
        "{emails:?}"
    );

    for role in ROLES {
        let foreign = b.user_id(role);
        let path = format!("/tenant/users/{foreign}");
        let token = a.token("tenant_admin");
        assert_eq!(app.get(&path, token).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            app.patch(&path, token, json!({ "role": "viewer" }))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.delete(&path, token).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let tenant: Value = app
        .get("/tenant", a.token("viewer"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tenant["tenant"]["slug"], "acme");

    let b_users: Value = app
        .get("/tenant/users", b.token("tenant_admin"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        b_users["total"], 4,
        "tenant B lost users to tenant A's requests"
    );
    let b_admin = app
        .get(
            &format!("/tenant/users/{}", b.user_id("tenant_admin")),
            b.token("tenant_admin"),
        )
        .await;
    let b_admin: Value = b_admin.json().await.unwrap();
    assert_eq!(b_admin["role"], "tenant_admin");
}

#[tokio::test]
async fn a_body_cannot_choose_the_tenant() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.tenant_with_every_role(&admin, "acme").await;
    let b = app.create_tenant(&admin, "globex").await;

    let body = json!({ "email": "sneaky@x.test", "password": "a long enough password", "role": "viewer", "tenant_id": b["id"] });
    let response = app
        .post("/tenant/users", a.token("tenant_admin"), body)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["error"]["code"], "unknown_field");
    assert_eq!(problem["error"]["field"], "tenant_id");

    let stats: Value = app
        .get(
            &format!("/admin/tenants/{}/statistics", b["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["users"], 0);
}

#[tokio::test]
async fn a_subdomain_naming_another_tenant_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.tenant_with_every_role(&admin, "acme").await;
    app.create_tenant(&admin, "globex").await;

    let response = app
        .request(reqwest::Method::GET, "/tenant", Some(a.token("viewer")))
        .header("host", format!("globex.{}", app.base_domain))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(code(response).await, "tenant_mismatch");

    let own = app
        .request(reqwest::Method::GET, "/tenant", Some(a.token("viewer")))
        .header("host", format!("acme.{}", app.base_domain))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_tenant_context_the_request_role_sees_nothing_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.tenant_with_every_role(&admin, "acme").await;
    let pool = connect_as(&app.database, "mmm_app").await;

    for table in [
        "tenants",
        "users",
        "refresh_tokens",
        "tenant_features",
        "audit_log",
        "analyses",
        "analysis_results",
        "recommendations",
        "experiments",
    ] {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(count, 0, "{table} leaked rows without a tenant");
    }
    let insert = sqlx::query("insert into users (tenant_id, id, email, password_hash, role) values ($1::uuid, gen_random_uuid(), 'x@y.z', 'h', 'viewer')")
        .bind(&a.id)
        .execute(&pool)
        .await;
    assert!(
        insert.is_err(),
        "an insert without tenant context succeeded"
    );

    // A transaction-local setting does not outlive its transaction.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(&a.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let inside: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((inside, after), (4, 0));

    for forbidden in [
        "truncate users",
        "alter table users disable row level security",
        "drop table users",
    ] {
        assert!(
            sqlx::query(forbidden).execute(&pool).await.is_err(),
            "{forbidden} was allowed"
        );
    }
}

#[tokio::test]
async fn the_request_role_is_unprivileged_and_every_tenant_table_forces_rls() {
    let app = TestApp::spawn().await;
    let pool = connect_as(&app.database, "postgres").await;

    let (superuser, bypass, createrole): (bool, bool, bool) = sqlx::query_as(
        "select rolsuper, rolbypassrls, rolcreaterole from pg_roles where rolname = 'mmm_app'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!superuser && !bypass && !createrole);
    let owned: i64 = sqlx::query_scalar("select count(*) from pg_tables where schemaname = 'public' and tableowner in ('mmm_app', 'mmm_platform')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(owned, 0, "a request role owns tables");

    let unprotected: Vec<(String, bool, bool)> = sqlx::query_as(
        "select c.relname::text, c.relrowsecurity, c.relforcerowsecurity
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r'
           and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        unprotected.len() >= 4,
        "expected the tenant tables, got {unprotected:?}"
    );
    for (table, enabled, forced) in unprotected {
        assert!(
            enabled && forced,
            "{table}: rls enabled={enabled} forced={forced}"
        );
    }
}

/// C20: the platform role reads across tenants (admin API, statistics, the
/// queue) but writes no tenant's rows without naming that tenant; the
/// queue's transitions of `analyses` are its one cross-tenant write, by
/// column.
#[tokio::test]
async fn the_platform_role_reads_every_tenant_but_writes_none_without_its_context() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.tenant_with_every_role(&admin, "acme").await;
    let b = app.tenant_with_every_role(&admin, "globex").await;
    let platform = connect_as(&app.database, "mmm_platform").await;

    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&platform)
        .await
        .unwrap();
    assert_eq!(users, 8, "the platform role reads every tenant's users");

    let tables: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r'
           and exists (select from pg_attribute a where a.attrelid = c.oid
                       and a.attname = 'tenant_id' and not a.attisdropped)
         order by 1",
    )
    .fetch_all(&platform)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    // The scheduler's bookkeeping: when each tenant was last served. It
    // holds no tenant data; fairness across tenants is its whole job.
    const SCHEDULER: &str = "analysis_queue_turns";
    for table in tables.iter().filter(|t| *t != SCHEDULER) {
        for statement in [
            format!("insert into {table} (tenant_id) values ('{}')", a.id),
            format!("update {table} set tenant_id = tenant_id"),
            format!("delete from {table}"),
        ] {
            let refused = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&platform)
                .await
                .expect_err(&statement);
            let message = refused.to_string();
            assert!(
                message.contains("permission denied") || message.contains("row-level security"),
                "{statement}: {message}"
            );
        }
    }

    // Audit entries: platform-wide ones, or the named tenant's only.
    let audit = "insert into audit_log (tenant_id, actor_id, actor_role, action, details)
                 values ($1::uuid, gen_random_uuid(), 'platform_admin', 'probe', '{}')";
    let without_context = sqlx::query(audit).bind(&a.id).execute(&platform).await;
    assert!(
        without_context
            .unwrap_err()
            .to_string()
            .contains("row-level security")
    );
    let mut tx = platform.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(&a.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let elsewhere = sqlx::query(audit).bind(&b.id).execute(&mut *tx).await;
    assert!(elsewhere.is_err(), "wrote B's audit while acting for A");
    tx.rollback().await.unwrap();
    let mut tx = platform.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(&a.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(audit)
        .bind(&a.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    // What a job runs and for whom is the tenant's; the platform role moves
    // it through the queue only.
    for column in ["model", "source_id", "summary", "requested_by"] {
        let statement = format!("update analyses set {column} = {column}");
        let refused = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&platform)
            .await
            .expect_err(&statement);
        assert!(
            refused.to_string().contains("permission denied"),
            "{statement}: {refused}"
        );
    }
    sqlx::query("update analyses set lease_owner = lease_owner")
        .execute(&platform)
        .await
        .unwrap();

    // The admin API still writes its audit entries for the tenant it acts on.
    let renamed = app
        .patch(
            &format!("/admin/tenants/{}", a.id),
            &admin,
            json!({ "name": "Acme Two" }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
}
