//! The database's own walls, shown as the server's roles over real
//! connections to each test's database (a superuser bypasses RLS and would
//! prove nothing): what the owner, the request role (`mmm_app`) and the
//! platform role (`mmm_platform`) can and cannot do with tenant rows,
//! whatever the server's code gets wrong. Each test shows one line of the
//! security checklist (C1, C3, C5–C19); the catalog decides which tables,
//! foreign keys, views and functions there are, so what a later migration
//! adds is covered too.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgDatabaseError};
use sqlx::{Connection, PgConnection, PgExecutor, PgPool};
use tokio::io::AsyncWriteExt;

use crate::api::data::{EXAMPLE, example_meta, multipart, upload};
use crate::api::helpers::{
    PASSWORD, TestApp, TestTenant, connect_as, sibling_with_one_app_connection,
};

/// Tenant-owned tables by the catalog: every table with a `tenant_id`
/// column, and `tenants` itself. With a privilege, only those on which
/// `mmm_app` holds it.
async fn tenant_tables(pool: &PgPool, privilege: Option<&str>) -> Vec<String> {
    sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p')
           and (c.relname = 'tenants'
                or exists (select from pg_attribute a where a.attrelid = c.oid
                           and a.attname = 'tenant_id' and not a.attisdropped))
           and ($1::text is null or has_table_privilege('mmm_app', c.oid, $1))
         order by 1",
    )
    .bind(privilege)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The column naming a row's tenant.
fn tenant_column(table: &str) -> &'static str {
    if table == "tenants" {
        "id"
    } else {
        "tenant_id"
    }
}

async fn act_for(conn: &mut PgConnection, tenant: &str) {
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant)
        .execute(conn)
        .await
        .unwrap();
}

async fn count<'e>(executor: impl PgExecutor<'e>, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(executor)
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
}

/// What `tenant` sees of every table `mmm_app` reads, in one transaction.
async fn counts_as(pool: &PgPool, tables: &[String], tenant: &str) -> Vec<(String, i64)> {
    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, tenant).await;
    let mut counts = Vec::new();
    for table in tables {
        counts.push((table.clone(), count(&mut *tx, table).await));
    }
    tx.commit().await.unwrap();
    counts
}

async fn options_of(database: &str, role: &str) -> PgConnectOptions {
    let pool = connect_as(database, role).await;
    let options = pool.connect_options().as_ref().clone();
    pool.close().await;
    options
}

/// A connection of its own (not pooled), as `role`.
async fn connection_as(database: &str, role: &str) -> PgConnection {
    PgConnection::connect_with(&options_of(database, role).await)
        .await
        .unwrap()
}

async fn two_tenants() -> (TestApp, TestTenant, TestTenant) {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.tenant_with_every_role(&admin, "acme").await;
    let b = app.tenant_with_every_role(&admin, "globex").await;
    (app, a, b)
}

/// Rows of one tenant in the tables the API fills only through analyses
/// and uploads, written as the request role acting for that tenant.
struct Seeded {
    source: String,
    analysis: String,
    experiment: String,
}

async fn seed(pool: &PgPool, tenant: &str) -> Seeded {
    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, tenant).await;
    let source: String = sqlx::query_scalar(
        "insert into data_sources (tenant_id, id, name, version, roles, granularity, row_count,
             date_from, date_to, columns, warnings, sha256, size_bytes, content, uploaded_by)
         values ($1::uuid, gen_random_uuid(), 'seeded', 1, '{}', 'weekly', 1, '2024-01-01',
             '2024-01-01', '[]', '[]', 'x', 1, '\\x00', gen_random_uuid())
         returning id::text",
    )
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let analysis: String = sqlx::query_scalar(
        "insert into analyses (tenant_id, id, source_id, source_name, source_version, source_sha256,
             model, preprocessors, inputs_digest, max_attempts, requested_by)
         values ($1::uuid, gen_random_uuid(), $2::uuid, 'seeded', 1, 'x', '{}', '[]', 'd', 1,
             gen_random_uuid())
         returning id::text",
    )
    .bind(tenant)
    .bind(&source)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let experiment: String = sqlx::query_scalar(
        "insert into experiments (tenant_id, id, channel, start_date, end_date, spend_change, lift,
             standard_error, created_by)
         values ($1::uuid, gen_random_uuid(), 'tv', '2024-01-01', '2024-02-01', -1, 0.1, 0.01,
             gen_random_uuid())
         returning id::text",
    )
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "insert into tenant_features (tenant_id, key, enabled) values ($1::uuid, 'seeded', true)",
    )
    .bind(tenant)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Seeded {
        source,
        analysis,
        experiment,
    }
}

/// A complete users row for `tenant`: valid in every way but its tenant.
const INSERT_USER: &str = "insert into users (tenant_id, id, email, password_hash, role)
                           values ($1::uuid, gen_random_uuid(), 'probe@x.test', 'h', 'viewer')";

const RLS_VIOLATION: &str = "new row violates row-level security policy";

fn message(error: &sqlx::Error) -> String {
    error.to_string()
}

/// C1 (as far as isolation.rs does not show it): neither pool role owns a
/// table, view, materialised view, sequence, index, function or schema, and
/// neither may bypass RLS.
#[tokio::test]
async fn the_request_and_platform_roles_own_no_table_view_sequence_or_function() {
    let app = TestApp::spawn().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let owned: Vec<String> = sqlx::query_scalar(
        "select c.relkind::text || ' ' || c.relname from pg_class c
         where pg_get_userbyid(c.relowner) in ('mmm_app', 'mmm_platform')
         union all
         select 'function ' || p.oid::regprocedure::text from pg_proc p
         where pg_get_userbyid(p.proowner) in ('mmm_app', 'mmm_platform')
         union all
         select 'schema ' || n.nspname from pg_namespace n
         where pg_get_userbyid(n.nspowner) in ('mmm_app', 'mmm_platform')
         union all
         select 'type ' || t.typname from pg_type t
         where pg_get_userbyid(t.typowner) in ('mmm_app', 'mmm_platform')",
    )
    .fetch_all(&superuser)
    .await
    .unwrap();
    assert!(owned.is_empty(), "owned by a pool role: {owned:?}");
    let privileged: Vec<String> = sqlx::query_scalar(
        "select rolname::text from pg_roles
         where rolname in ('mmm_app', 'mmm_platform')
           and (rolsuper or rolbypassrls or rolcreaterole or rolcreatedb or rolreplication)",
    )
    .fetch_all(&superuser)
    .await
    .unwrap();
    assert!(privileged.is_empty(), "{privileged:?}");
    // What the migrations made is the owner's: the query above looks at
    // the right objects.
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from pg_class where relkind = 'r'
         and relnamespace = 'public'::regnamespace and pg_get_userbyid(relowner) = 'mmm_owner'",
    )
    .fetch_one(&superuser)
    .await
    .unwrap();
    assert!(tables >= 10, "{tables}");
}

/// C3: FORCE holds the owner too; with no tenant set it counts no rows of
/// any tenant table, though the rows are there.
#[tokio::test]
async fn the_table_owner_under_force_counts_zero_rows_of_every_tenant_table_without_a_tenant() {
    let (app, a, _) = two_tenants().await;
    let stored = upload(
        &app,
        a.token("data_scientist"),
        EXAMPLE.as_bytes(),
        "text/csv",
        &example_meta("sales"),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let superuser = connect_as(&app.database, "postgres").await;
    let owner = connect_as(&app.database, "mmm_owner").await;
    let (is_super, bypass): (bool, bool) =
        sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = current_user")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert!(!is_super && !bypass, "the owner must be an ordinary role");

    let tables = tenant_tables(&superuser, None).await;
    assert!(tables.len() >= 13, "{tables:?}");
    let not_owned: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_class where relname = any($1)
           and relnamespace = 'public'::regnamespace and relowner <> current_user::regrole",
    )
    .bind(&tables)
    .fetch_all(&owner)
    .await
    .unwrap();
    assert!(not_owned.is_empty(), "{not_owned:?}");
    let mut populated = Vec::new();
    for table in &tables {
        let rows = count(&superuser, table).await;
        let seen = count(&owner, table).await;
        assert_eq!(
            seen, 0,
            "the owner counted {seen} of {rows} rows of {table}"
        );
        if rows > 0 {
            populated.push(table.as_str());
        }
    }
    for table in [
        "tenants",
        "users",
        "refresh_tokens",
        "audit_log",
        "data_sources",
    ] {
        assert!(populated.contains(&table), "{table} has no rows to hide");
    }
}

/// C5: once a transaction on a connection set the tenant, the setting reads
/// `''` (not NULL) in the next one: that too means no tenant, zero rows and
/// no error.
#[tokio::test]
async fn after_a_committed_tenant_transaction_the_next_without_set_config_sees_zero_rows_and_does_not_error()
 {
    let (app, a, _) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let readable = tenant_tables(&superuser, Some("select")).await;
    let mut conn = connection_as(&app.database, "mmm_app").await;

    let mut tx = conn.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    assert_eq!(count(&mut *tx, "users").await, 4);
    tx.commit().await.unwrap();

    let mut tx = conn.begin().await.unwrap();
    let (setting, current): (Option<String>, Option<uuid::Uuid>) =
        sqlx::query_as("select current_setting('app.tenant_id', true), app_current_tenant()")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(
        (setting.as_deref(), current),
        (Some(""), None),
        "the '' case"
    );
    for table in &readable {
        assert_eq!(count(&mut *tx, table).await, 0, "{table}");
    }
    tx.commit().await.unwrap();
}

/// C6: with no tenant set — never, or `''` after an earlier transaction —
/// an insert into any tenant table the request role may insert into is
/// refused by the policy, not by some other constraint.
#[tokio::test]
async fn an_insert_into_any_tenant_table_without_a_tenant_violates_row_level_security_policy() {
    let (app, a, _) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let insertable = tenant_tables(&superuser, Some("insert")).await;
    assert!(insertable.len() >= 10, "{insertable:?}");

    let fresh = connection_as(&app.database, "mmm_app").await;
    let mut used = connection_as(&app.database, "mmm_app").await;
    let mut tx = used.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    tx.commit().await.unwrap();

    for (state, mut conn) in [("never set", fresh), ("''", used)] {
        for table in &insertable {
            let column = tenant_column(table);
            let refused = sqlx::query(sqlx::AssertSqlSafe(format!(
                "insert into {table} ({column}) values ($1::uuid)"
            )))
            .bind(&a.id)
            .execute(&mut conn)
            .await
            .unwrap_err();
            assert!(
                message(&refused).contains(&format!("{RLS_VIOLATION} for table \"{table}\"")),
                "{table} ({state}): {refused}"
            );
        }
        let refused = sqlx::query(INSERT_USER)
            .bind(&a.id)
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(message(&refused).contains(RLS_VIOLATION), "{refused}");
    }

    // The same complete row, acting for its tenant, is fine.
    let mut conn = connection_as(&app.database, "mmm_app").await;
    let mut tx = conn.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    sqlx::query(INSERT_USER)
        .bind(&a.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
}

/// C7: the server's request pool holds a single connection; a request for
/// tenant A, then one for B, then a query with no tenant on that same
/// connection each see only their own rows, or none.
#[tokio::test]
async fn a_pool_of_one_connection_serves_tenant_a_then_b_then_none_each_its_own_rows() {
    let (setup, a, b) = two_tenants().await;
    let (app, one) =
        sibling_with_one_app_connection(&setup, mmm_host::limits::Limits::generous()).await;
    let superuser = connect_as(&app.database, "postgres").await;
    let readable = tenant_tables(&superuser, Some("select")).await;
    let backend = || async {
        sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
            .fetch_one(&one)
            .await
            .unwrap()
    };
    let first = backend().await;

    for round in 0..2 {
        for (tenant, slug) in [(&a, "acme"), (&b, "globex")] {
            let listed: Value = app
                .get("/tenant/users", tenant.token("tenant_admin"))
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
            assert_eq!(emails.len(), 4, "round {round}, {slug}: {listed}");
            assert!(
                emails.iter().all(|e| e.ends_with(&format!("@{slug}.test"))),
                "round {round}, {slug}: {emails:?}"
            );
            let mut tx = one.begin().await.unwrap();
            act_for(&mut tx, &tenant.id).await;
            let tenants: Vec<String> =
                sqlx::query_scalar("select distinct tenant_id::text from users")
                    .fetch_all(&mut *tx)
                    .await
                    .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(tenants, std::slice::from_ref(&tenant.id));
        }
        for table in &readable {
            assert_eq!(count(&one, table).await, 0, "{table} with no tenant");
        }
    }
    assert_eq!(first, backend().await, "the one connection served it all");
    // The pool's only connections besides it: the two its LISTEN tasks keep.
    assert_eq!(one.size(), 3);
}

/// C8: acting for A, no row can be written into B or moved to B, in any
/// tenant table; B's rows stay as they were.
#[tokio::test]
async fn acting_for_a_inserting_or_moving_a_row_into_b_errors_and_bs_rows_stay_the_same() {
    let (app, a, b) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let superuser = connect_as(&app.database, "postgres").await;
    seed(&pool, &a.id).await;
    seed(&pool, &b.id).await;
    let readable = tenant_tables(&superuser, Some("select")).await;
    let b_before = counts_as(&pool, &readable, &b.id).await;
    let a_before = counts_as(&pool, &readable, &a.id).await;

    for table in tenant_tables(&superuser, Some("insert")).await {
        let column = tenant_column(&table);
        let mut tx = pool.begin().await.unwrap();
        act_for(&mut tx, &a.id).await;
        let refused = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into {table} ({column}) values ($1::uuid)"
        )))
        .bind(&b.id)
        .execute(&mut *tx)
        .await
        .unwrap_err();
        assert!(
            message(&refused).contains(RLS_VIOLATION),
            "insert into {table}: {refused}"
        );
        tx.rollback().await.unwrap();
    }
    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    let refused = sqlx::query(INSERT_USER)
        .bind(&b.id)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(message(&refused).contains(RLS_VIOLATION), "{refused}");
    tx.rollback().await.unwrap();

    let updatable = tenant_tables(&superuser, Some("update")).await;
    for table in ["users", "refresh_tokens", "tenant_features", "analyses"] {
        assert!(updatable.iter().any(|t| t == table), "{updatable:?}");
    }
    for table in &updatable {
        let column = tenant_column(table);
        let mut tx = pool.begin().await.unwrap();
        act_for(&mut tx, &a.id).await;
        assert!(count(&mut *tx, table).await > 0, "A has no {table} to move");
        let refused = sqlx::query(sqlx::AssertSqlSafe(format!(
            "update {table} set {column} = $1::uuid"
        )))
        .bind(&b.id)
        .execute(&mut *tx)
        .await
        .unwrap_err();
        assert!(
            message(&refused).contains(RLS_VIOLATION),
            "update {table}: {refused}"
        );
        tx.rollback().await.unwrap();
    }

    assert_eq!(counts_as(&pool, &readable, &b.id).await, b_before);
    assert_eq!(counts_as(&pool, &readable, &a.id).await, a_before);
}

/// C9: acting for A, an UPDATE or DELETE naming B's row by its id matches
/// nothing: 0 rows, no error, B's rows unchanged.
#[tokio::test]
async fn acting_for_a_update_and_delete_by_bs_ids_affect_zero_rows() {
    let (app, a, b) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let theirs = seed(&pool, &b.id).await;
    let statements = [
        (
            "update users set role = 'viewer' where id = $1::uuid",
            b.user_id("tenant_admin").to_owned(),
        ),
        (
            "delete from users where id = $1::uuid",
            b.user_id("viewer").to_owned(),
        ),
        (
            "update refresh_tokens set revoked_at = now() where user_id = $1::uuid",
            b.user_id("analyst").to_owned(),
        ),
        (
            "update analyses set cancel_requested = true, status = 'cancelled' where id = $1::uuid",
            theirs.analysis.clone(),
        ),
        (
            "delete from data_sources where id = $1::uuid",
            theirs.source.clone(),
        ),
        (
            "delete from experiments where id = $1::uuid",
            theirs.experiment.clone(),
        ),
        (
            "update tenant_features set enabled = false where tenant_id = $1::uuid",
            b.id.clone(),
        ),
        (
            "delete from tenant_features where tenant_id = $1::uuid",
            b.id.clone(),
        ),
    ];
    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    for (statement, id) in &statements {
        let done = sqlx::query(sqlx::AssertSqlSafe(*statement))
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 0, "{statement}");
    }
    tx.commit().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &b.id).await;
    let roles: Vec<String> = sqlx::query_scalar("select role from users order by role")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        roles,
        ["analyst", "data_scientist", "tenant_admin", "viewer"]
    );
    let revoked: i64 =
        sqlx::query_scalar("select count(*) from refresh_tokens where revoked_at is not null")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let (status, cancel): (String, bool) =
        sqlx::query_as("select status, cancel_requested from analyses where id = $1::uuid")
            .bind(&theirs.analysis)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let kept: (i64, i64, Option<bool>) = sqlx::query_as(
        "select (select count(*) from data_sources where id = $1::uuid),
                (select count(*) from experiments where id = $2::uuid),
                (select enabled from tenant_features where key = 'seeded')",
    )
    .bind(&theirs.source)
    .bind(&theirs.experiment)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        (revoked, status.as_str(), cancel, kept),
        (0, "queued", false, (1, 1, Some(true)))
    );
}

/// C10: a child row naming B's parent fails exactly like one naming an id
/// that exists nowhere — same SQLSTATE, constraint, message and detail but
/// for the id — for every composite foreign key between tenant tables.
#[tokio::test]
async fn a_child_naming_bs_parent_fails_exactly_like_one_naming_a_random_id() {
    let (app, a, b) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let superuser = connect_as(&app.database, "postgres").await;
    let theirs = seed(&pool, &b.id).await;
    // (child, parent, insert of a child of A naming parent $2, B's parent)
    let probes = [
        (
            "analyses",
            "data_sources",
            "insert into analyses (tenant_id, id, source_id, source_name, source_version,
                 source_sha256, model, preprocessors, inputs_digest, max_attempts, requested_by)
             values ($1::uuid, gen_random_uuid(), $2::uuid, 'seeded', 1, 'x', '{}', '[]', 'd', 1,
                 gen_random_uuid())",
            theirs.source.clone(),
        ),
        (
            "analysis_results",
            "analyses",
            "insert into analysis_results (tenant_id, analysis_id, summary, decomposition,
                 response_curves, artifact, results_digest, fit_ms, worker)
             values ($1::uuid, $2::uuid, '{}', '\\x00', '\\x00', '\\x00', 'd', 0, 'w')",
            theirs.analysis.clone(),
        ),
        (
            "recommendations",
            "analyses",
            "insert into recommendations (tenant_id, id, analysis_id, results_digest, is_default,
                 request, body, created_by)
             values ($1::uuid, gen_random_uuid(), $2::uuid, 'd', false, '{}', '{}',
                 gen_random_uuid())",
            theirs.analysis.clone(),
        ),
        (
            "refresh_tokens",
            "users",
            "insert into refresh_tokens (tenant_id, id, user_id, family_id, token_hash, expires_at)
             values ($1::uuid, gen_random_uuid(), $2::uuid, gen_random_uuid(), '\\x00', now())",
            b.user_id("viewer").to_owned(),
        ),
    ];
    let composite: Vec<(String, String)> = sqlx::query_as(
        "select conrelid::regclass::text, confrelid::regclass::text from pg_constraint
         where contype = 'f' and cardinality(conkey) > 1
           and connamespace = 'public'::regnamespace
         order by 1, 2",
    )
    .fetch_all(&superuser)
    .await
    .unwrap();
    let probed: Vec<(String, String)> = probes
        .iter()
        .map(|(child, parent, ..)| (child.to_string(), parent.to_string()))
        .collect();
    assert_eq!(
        composite, probed,
        "every composite foreign key needs a probe"
    );

    for (child, _, insert, foreign) in &probes {
        let mut failures = Vec::new();
        for parent in [foreign.clone(), uuid::Uuid::new_v4().to_string()] {
            let mut tx = pool.begin().await.unwrap();
            act_for(&mut tx, &a.id).await;
            let error = sqlx::query(sqlx::AssertSqlSafe(*insert))
                .bind(&a.id)
                .bind(&parent)
                .execute(&mut *tx)
                .await
                .unwrap_err();
            tx.rollback().await.unwrap();
            let pg = error
                .as_database_error()
                .and_then(|e| e.try_downcast_ref::<PgDatabaseError>())
                .unwrap_or_else(|| panic!("{child}: {error}"));
            let hide = |s: &str| s.replace(&parent, "<id>");
            failures.push((
                pg.code().to_owned(),
                pg.constraint().map(str::to_owned),
                hide(pg.message()),
                pg.detail().map(hide),
            ));
        }
        assert_eq!(failures[0], failures[1], "{child}");
        assert_eq!(failures[0].0, "23503", "{child}: {:?}", failures[0]);
    }
}

/// C11: what is unique is unique per tenant — the same user email and the
/// same data source name are accepted in A and in B (each B's first
/// version), while a second one within a tenant is refused.
#[tokio::test]
async fn the_same_unique_name_in_two_tenants_is_accepted_for_each() {
    let (app, a, b) = two_tenants().await;
    let user = json!({ "email": "shared@example.test", "password": PASSWORD, "role": "viewer" });
    for tenant in [&a, &b] {
        let created = app
            .post("/tenant/users", tenant.token("tenant_admin"), user.clone())
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let source = upload(
            &app,
            tenant.token("data_scientist"),
            EXAMPLE.as_bytes(),
            "text/csv",
            &example_meta("sales"),
        )
        .await;
        assert_eq!(source.status(), StatusCode::CREATED);
        let source: Value = source.json().await.unwrap();
        assert_eq!(source["version"], 1, "B's versions are its own");
    }
    let again = app
        .post("/tenant/users", a.token("tenant_admin"), user.clone())
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let superuser = connect_as(&app.database, "postgres").await;
    let owners: Vec<String> = sqlx::query_scalar(
        "select tenant_id::text from users where email = 'shared@example.test' order by 1",
    )
    .fetch_all(&superuser)
    .await
    .unwrap();
    let mut expected = vec![a.id.clone(), b.id.clone()];
    expected.sort();
    assert_eq!(owners, expected);
}

/// C12: the request role may set `row_security = off`, but then every
/// query of a table with a policy errors instead of returning rows, with or
/// without a tenant set.
#[tokio::test]
async fn row_security_off_as_the_request_role_makes_queries_error_never_return_rows() {
    let (app, a, b) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let readable = tenant_tables(&superuser, Some("select")).await;
    let refusal = "query would be affected by row-level security policy";

    let mut conn = connection_as(&app.database, "mmm_app").await;
    sqlx::query("set row_security = off")
        .execute(&mut conn)
        .await
        .unwrap();
    for table in &readable {
        let off = sqlx::query(sqlx::AssertSqlSafe(format!("select * from {table}")))
            .fetch_all(&mut conn)
            .await;
        let error = off.expect_err(&format!("{table} answered with row_security off"));
        assert!(message(&error).contains(refusal), "{table}: {error}");
        for tenant in [&a, &b] {
            let mut tx = conn.begin().await.unwrap();
            act_for(&mut tx, &tenant.id).await;
            let off = sqlx::query(sqlx::AssertSqlSafe(format!("select * from {table}")))
                .fetch_all(&mut *tx)
                .await;
            let error = off.expect_err(&format!("{table} answered with row_security off"));
            assert!(message(&error).contains(refusal), "{table}: {error}");
            tx.rollback().await.unwrap();
        }
    }
    let mut tx = conn.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    sqlx::query("set local row_security = on")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(count(&mut *tx, "users").await, 4, "on again: A's rows only");
    tx.rollback().await.unwrap();
}

/// C13: neither pool role may TRUNCATE any tenant table (TRUNCATE ignores
/// RLS, so the privilege itself must be missing).
#[tokio::test]
async fn truncate_of_every_tenant_table_is_permission_denied_for_the_request_and_platform_roles() {
    let (app, ..) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let tables = tenant_tables(&superuser, None).await;
    let before: Vec<i64> = {
        let mut counts = Vec::new();
        for table in &tables {
            counts.push(count(&superuser, table).await);
        }
        counts
    };
    for role in ["mmm_app", "mmm_platform"] {
        let pool = connect_as(&app.database, role).await;
        for table in &tables {
            let truncate = sqlx::query(sqlx::AssertSqlSafe(format!("truncate {table} cascade")))
                .execute(&pool)
                .await;
            let error = truncate.expect_err(&format!("{role} truncated {table}"));
            assert!(
                message(&error).contains(&format!("permission denied for table {table}")),
                "{role}, {table}: {error}"
            );
        }
    }
    let mut after = Vec::new();
    for table in &tables {
        after.push(count(&superuser, table).await);
    }
    assert_eq!(before, after);
}

const SYSTEM_SCHEMA: &str =
    "n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'";

/// Views that run as their owner (no `security_invoker`), and materialised
/// views `mmm_app` may read, in every schema of the application.
async fn owner_views_and_readable_matviews(conn: &mut PgConnection) -> (Vec<String>, Vec<String>) {
    let views = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select n.nspname || '.' || c.relname from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'v' and {SYSTEM_SCHEMA}
           and not exists (select from pg_options_to_table(c.reloptions) o
                           where o.option_name = 'security_invoker'
                             and lower(o.option_value) in ('true', 'on', 'yes', '1'))
         order by 1"
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let matviews = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select n.nspname || '.' || c.relname from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'm' and {SYSTEM_SCHEMA}
           and has_table_privilege('mmm_app', c.oid, 'select')
         order by 1"
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    (views, matviews)
}

/// C14: every view runs as its invoker (so RLS applies to the caller), and
/// `mmm_app` may read no materialised view (those have no RLS). There are
/// none today; the catalog check holds whatever a migration adds.
#[tokio::test]
async fn every_view_is_security_invoker_and_the_request_role_reads_no_materialized_view() {
    let app = TestApp::spawn().await;
    let owner = connect_as(&app.database, "mmm_owner").await;
    let mut conn = owner.acquire().await.unwrap();
    let (views, matviews) = owner_views_and_readable_matviews(&mut conn).await;
    assert!(views.is_empty(), "views running as their owner: {views:?}");
    assert!(matviews.is_empty(), "readable by mmm_app: {matviews:?}");

    // The check sees what it looks for: what the owner adds in a
    // transaction that is rolled back.
    let mut tx = conn.begin().await.unwrap();
    for ddl in [
        "create view probe_owner_view as select id from users",
        "create view probe_invoker_view with (security_invoker = true) as select id from users",
        "create materialized view probe_matview as select tenant_id from users with no data",
        "grant select on probe_owner_view, probe_invoker_view, probe_matview to mmm_app",
    ] {
        sqlx::query(ddl).execute(&mut *tx).await.unwrap();
    }
    let (views, matviews) = owner_views_and_readable_matviews(&mut tx).await;
    assert_eq!(
        (views, matviews),
        (
            vec!["public.probe_owner_view".to_owned()],
            vec!["public.probe_matview".to_owned()]
        )
    );
    tx.rollback().await.unwrap();
}

/// SECURITY DEFINER functions of the application's schemas that PUBLIC may
/// execute or whose `search_path` is not fixed.
async fn loose_definers(conn: &mut PgConnection) -> Vec<(String, bool, bool)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select p.oid::regprocedure::text,
                exists (select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                        where x.grantee = 0 and x.privilege_type = 'EXECUTE'),
                coalesce((select bool_or(c like 'search\\_path=%')
                          from unnest(p.proconfig) c), false)
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where p.prosecdef and {SYSTEM_SCHEMA}
           and not exists (select from pg_depend d where d.classid = 'pg_proc'::regclass
                           and d.objid = p.oid and d.deptype = 'e')
         order by 1"
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .into_iter()
    .filter(|(_, public, fixed): &(String, bool, bool)| *public || !*fixed)
    .collect()
}

/// C15: no SECURITY DEFINER function is executable by PUBLIC, and each fixes
/// its `search_path`; a catalog check over every schema of the application,
/// so it holds for a definer function added later.
#[tokio::test]
async fn no_security_definer_function_is_executable_by_public_and_each_fixes_its_search_path() {
    let app = TestApp::spawn().await;
    let owner = connect_as(&app.database, "mmm_owner").await;
    let mut conn = owner.acquire().await.unwrap();
    let loose = loose_definers(&mut conn).await;
    assert!(
        loose.is_empty(),
        "(function, public, search_path fixed): {loose:?}"
    );

    let mut tx = conn.begin().await.unwrap();
    for ddl in [
        "create function probe_loose() returns int language sql security definer as 'select 1'",
        "create function probe_pathless() returns int language sql security definer as 'select 1'",
        "revoke execute on function probe_pathless() from public",
        "create function probe_tight() returns int language sql security definer
             set search_path = pg_catalog as 'select 1'",
        "revoke execute on function probe_tight() from public",
        "grant execute on function probe_tight() to mmm_app",
    ] {
        sqlx::query(ddl).execute(&mut *tx).await.unwrap();
    }
    let loose = loose_definers(&mut tx).await;
    assert_eq!(
        loose,
        [
            ("probe_loose()".to_owned(), true, false),
            ("probe_pathless()".to_owned(), false, false)
        ]
    );
    tx.rollback().await.unwrap();
}

/// C16: COPY cannot write a tenant table as the request role, with or
/// without a tenant (PostgreSQL refuses COPY FROM under RLS, and where the
/// role may not insert, the privilege is missing); neither can a server
/// file or program. COPY TO answers under RLS. A CSV upload through the
/// server lands in the uploader's tenant only, whatever its body says.
#[tokio::test]
async fn copy_into_a_tenant_table_as_the_request_role_fails_and_a_csv_upload_lands_only_in_its_tenant()
 {
    let (app, a, b) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let insertable = tenant_tables(&superuser, Some("insert")).await;
    let mut conn = connection_as(&app.database, "mmm_app").await;
    for table in tenant_tables(&superuser, None).await {
        let expected = if insertable.contains(&table) {
            "COPY FROM not supported with row-level security".to_owned()
        } else {
            format!("permission denied for table {table}")
        };
        for tenant in [None, Some(&a.id)] {
            let mut tx = conn.begin().await.unwrap();
            if let Some(tenant) = tenant {
                act_for(&mut tx, tenant).await;
            }
            let statement = format!("copy {table} from stdin");
            let refused = match tx.copy_in_raw(&statement).await {
                Err(e) => e.to_string(),
                Ok(copy) => {
                    copy.abort("not to be").await.ok();
                    panic!("{statement} was accepted (tenant {tenant:?})");
                }
            };
            assert!(refused.contains(&expected), "{statement}: {refused}");
            tx.rollback().await.unwrap();
        }
    }
    for (statement, expected) in [
        (
            "copy users from '/etc/hostname'",
            "pg_read_server_files role to COPY from a file",
        ),
        (
            "copy users from program 'true'",
            "pg_execute_server_program role to COPY to or from an external program",
        ),
    ] {
        let refused = sqlx::query(statement).execute(&mut conn).await.unwrap_err();
        assert!(
            message(&refused).contains(expected),
            "{statement}: {refused}"
        );
    }
    {
        use futures_util::TryStreamExt;
        let mut tx = conn.begin().await.unwrap();
        act_for(&mut tx, &a.id).await;
        let out: Vec<u8> = tx
            .copy_out_raw("copy users (tenant_id, email) to stdout")
            .await
            .unwrap()
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(lines.iter().all(|l| l.starts_with(&a.id)), "{out}");
    }

    // The server's import: A's upload is A's, and its body cannot name B.
    let token = a.token("data_scientist");
    let stored = upload(
        &app,
        token,
        EXAMPLE.as_bytes(),
        "text/csv",
        &example_meta("sales"),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let mut meta = example_meta("elsewhere");
    meta["tenant_id"] = json!(b.id);
    let named = upload(&app, token, EXAMPLE.as_bytes(), "text/csv", &meta).await;
    assert_eq!(named.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let landed: Vec<(String, String, i64)> = sqlx::query_as(
        "select tenant_id::text, name, count(*) from data_sources group by 1, 2 order by 1, 2",
    )
    .fetch_all(&superuser)
    .await
    .unwrap();
    assert_eq!(landed, [(a.id.clone(), "sales".to_owned(), 1)]);
    let audited: Vec<String> =
        sqlx::query_scalar("select tenant_id::text from audit_log where action = 'data.upload'")
            .fetch_all(&superuser)
            .await
            .unwrap();
    assert_eq!(audited, std::slice::from_ref(&a.id));
}

/// The hot queries of the request role, one or more per tenant table, as
/// the server runs them (db/*.rs), RLS adding the tenant filter.
const HOT_QUERIES: &[(&str, &str)] = &[
    ("tenants", "select * from tenants where id = app_current_tenant()"),
    ("users", "select * from users order by created_at, id limit 50"),
    ("users", "select * from users where id = '00000000-0000-0000-0000-000000000001'"),
    ("users", "select id, role, password_hash from users where email = 'x@y.test'"),
    (
        "refresh_tokens",
        "select family_id from refresh_tokens where token_hash = '\\x00'",
    ),
    (
        "refresh_tokens",
        "select id from refresh_tokens
         where family_id = '00000000-0000-0000-0000-000000000001' and revoked_at is null",
    ),
    (
        "tenant_features",
        "select key, enabled, config from tenant_features order by key",
    ),
    ("audit_log", "select * from audit_log order by created_at desc limit 50"),
    (
        "tenant_plugins",
        "select name, version from tenant_plugins order by name, created_at",
    ),
    (
        "tenant_plugins",
        "select wasm from tenant_plugins where name = 'p' and version = '1'",
    ),
    ("plugin_runs", "select count(*) from plugin_runs where not succeeded"),
    (
        "data_sources",
        "select * from (select distinct on (name) * from data_sources order by name, version desc) l
         order by created_at desc, name limit 50",
    ),
    (
        "data_sources",
        "select * from data_sources where id = '00000000-0000-0000-0000-000000000001'",
    ),
    (
        "data_sources",
        "select * from data_sources where name = 'sales' order by version desc",
    ),
    (
        "analyses",
        "select * from analyses order by created_at desc, id limit 50",
    ),
    (
        "analyses",
        "select * from analyses where id = '00000000-0000-0000-0000-000000000001'",
    ),
    (
        "analyses",
        "select * from analyses where idempotency_key = 'k'",
    ),
    (
        "analysis_results",
        "select summary from analysis_results
         where analysis_id = '00000000-0000-0000-0000-000000000001'",
    ),
    (
        "recommendations",
        "select * from recommendations order by created_at desc, id limit 50",
    ),
    (
        "recommendations",
        "select * from recommendations
         where analysis_id = '00000000-0000-0000-0000-000000000001' and results_digest = 'd'
           and is_default",
    ),
    (
        "experiments",
        "select * from experiments order by created_at desc, id limit 50",
    ),
    (
        "experiments",
        "select * from experiments where channel = any('{tv}') and start_date <= '2024-12-31'
           and end_date >= '2024-01-01' order by start_date, channel, id",
    ),
];

/// Every scan node of a JSON plan: (node type, relation, index, index condition).
fn scans(plan: &Value, out: &mut Vec<(String, String, String, String)>) {
    let field = |name: &str| plan[name].as_str().unwrap_or_default().to_owned();
    if plan.get("Relation Name").is_some() || plan.get("Index Name").is_some() {
        out.push((
            field("Node Type"),
            field("Relation Name"),
            field("Index Name"),
            field("Index Cond"),
        ));
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        scans(child, out);
    }
}

/// C17: under RLS with a tenant set, each tenant table's hot queries reach
/// its rows through an index whose first column is the tenant, with the
/// tenant as the index condition. `enable_seqscan = off` stands in for
/// production-sized tables (small ones are cheaper to scan whole): it shows
/// that such an index exists and that the planner can use it for the
/// query under RLS.
#[tokio::test]
async fn the_hot_query_of_every_tenant_table_uses_a_tenant_led_index_under_rls() {
    let (app, a, _) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let superuser = connect_as(&app.database, "postgres").await;
    seed(&pool, &a.id).await;
    let readable = tenant_tables(&superuser, Some("select")).await;
    for table in &readable {
        assert!(
            HOT_QUERIES.iter().any(|(t, _)| t == table),
            "name the hot query of {table}"
        );
    }
    sqlx::query("analyze").execute(&superuser).await.unwrap();
    for (table, query) in HOT_QUERIES {
        let mut tx = pool.begin().await.unwrap();
        act_for(&mut tx, &a.id).await;
        sqlx::query("set local enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .unwrap();
        let plan: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "explain (format json) {query}"
        )))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        let mut found = Vec::new();
        scans(&plan[0]["Plan"], &mut found);
        assert!(
            found
                .iter()
                .all(|(node, relation, ..)| !(node == "Seq Scan" && relation == table)),
            "{query}: a sequential scan of {table}\n{plan:#}"
        );
        let indexes: Vec<&(String, String, String, String)> = found
            .iter()
            .filter(|(.., index, _)| !index.is_empty())
            .collect();
        assert!(!indexes.is_empty(), "{query}: no index\n{plan:#}");
        let column = tenant_column(table);
        for (_, _, index, condition) in indexes {
            let leading: String = sqlx::query_scalar(
                "select a.attname::text from pg_index i
                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                 where i.indexrelid = $1::regclass",
            )
            .bind(index)
            .fetch_one(&superuser)
            .await
            .unwrap();
            assert_eq!(leading, column, "{query}: through {index}\n{plan:#}");
            let tenant_bound = condition.contains(&format!("{column} = "))
                && (condition.contains("app_current_tenant()")
                    || condition.contains("current_setting('app.tenant_id'"));
            assert!(
                tenant_bound,
                "{query}: {index} is not searched by tenant ({condition})\n{plan:#}"
            );
        }
    }
}

/// C18: after each committed request through the server, the request
/// pool's (only) connection has no tenant set and no transaction open.
#[tokio::test]
async fn after_each_committed_request_the_pooled_connection_has_no_tenant_set() {
    let (setup, a, b) = two_tenants().await;
    let (app, one) =
        sibling_with_one_app_connection(&setup, mmm_host::limits::Limits::generous()).await;
    let superuser = connect_as(&app.database, "postgres").await;
    let probe = || async {
        let (setting, xid): (Option<String>, Option<i64>) = sqlx::query_as(
            "select current_setting('app.tenant_id', true), txid_current_if_assigned()",
        )
        .fetch_one(&one)
        .await
        .unwrap();
        let lingering: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where datname = $1 and usename = 'mmm_app' and state like 'idle in transaction%'",
        )
        .bind(&app.database)
        .fetch_one(&superuser)
        .await
        .unwrap();
        (setting.unwrap_or_default(), xid, lingering)
    };
    let clean = (String::new(), None, 0);
    assert_eq!(probe().await, clean);

    let user = json!({ "email": "new@x.test", "password": PASSWORD, "role": "viewer" });
    let created = app
        .post("/tenant/users", a.token("tenant_admin"), user.clone())
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(probe().await, clean, "after A created a user");
    let listed = app.get("/tenant/users", b.token("tenant_admin")).await;
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(probe().await, clean, "after B listed its users");
    let stored = upload(
        &app,
        a.token("data_scientist"),
        EXAMPLE.as_bytes(),
        "text/csv",
        &example_meta("sales"),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    assert_eq!(probe().await, clean, "after A uploaded data");
    let refused = app
        .post("/tenant/users", a.token("tenant_admin"), user)
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        probe().await,
        clean,
        "after A's request failed in its transaction"
    );
}

/// Waits (bounded) until `condition` holds.
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting for {what}");
}

/// Whether the backend `pid` has no transaction open any more (or is gone).
async fn transaction_over(superuser: &PgPool, pid: i32) -> bool {
    let state: Option<(Option<String>, bool)> = sqlx::query_as(
        "select state, backend_xid is not null from pg_stat_activity where pid = $1",
    )
    .bind(pid)
    .fetch_optional(superuser)
    .await
    .unwrap();
    match state {
        None => true,
        Some((state, xid)) => state.as_deref() == Some("idle") && !xid,
    }
}

/// C19: a transaction that inserted and whose task is aborted before commit
/// (as a handler is dropped when its request is cancelled) writes nothing,
/// and its pooled connection comes back without a transaction or tenant.
#[tokio::test]
async fn a_transaction_aborted_mid_way_writes_nothing_and_its_pooled_connection_returns_clean() {
    let (app, a, _) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options_of(&app.database, "mmm_app").await)
        .await
        .unwrap();
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&one)
        .await
        .unwrap();
    let (inserted, told) = tokio::sync::oneshot::channel();
    let handler = {
        let one = one.clone();
        let tenant = a.id.clone();
        tokio::spawn(async move {
            let mut tx = one.begin().await.unwrap();
            act_for(&mut tx, &tenant).await;
            sqlx::query(
                "insert into tenant_features (tenant_id, key, enabled) values ($1::uuid, 'probe', true)",
            )
            .bind(&tenant)
            .execute(&mut *tx)
            .await
            .unwrap();
            inserted.send(()).unwrap();
            // The request is cancelled here, its transaction open.
            std::future::pending::<()>().await;
        })
    };
    told.await.unwrap();
    let open: (Option<String>, bool) = sqlx::query_as(
        "select state, backend_xid is not null from pg_stat_activity where pid = $1",
    )
    .bind(pid)
    .fetch_one(&superuser)
    .await
    .unwrap();
    assert_eq!(open, (Some("idle in transaction".to_owned()), true));
    handler.abort();
    assert!(handler.await.unwrap_err().is_cancelled());

    // Acquiring waits for the connection's return, rollback included.
    let mut conn = one.acquire().await.unwrap();
    let (setting, xid, again): (Option<String>, Option<i64>, i32) = sqlx::query_as(
        "select current_setting('app.tenant_id', true), txid_current_if_assigned(), pg_backend_pid()",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        (setting.unwrap_or_default(), xid, again),
        (String::new(), None, pid)
    );
    assert!(transaction_over(&superuser, pid).await);
    drop(conn);
    let probes: i64 =
        sqlx::query_scalar("select count(*) from tenant_features where key = 'probe'")
            .fetch_one(&superuser)
            .await
            .unwrap();
    assert_eq!(probes, 0, "the aborted transaction's row was kept");
}

/// C19: a client that goes away mid-transaction — its connection dropped,
/// or its statement cancelled — leaves nothing written.
#[tokio::test]
async fn a_transaction_whose_client_goes_away_or_is_cancelled_writes_nothing() {
    let (app, a, _) = two_tenants().await;
    let superuser = connect_as(&app.database, "postgres").await;
    let insert =
        "insert into tenant_features (tenant_id, key, enabled) values ($1::uuid, $2, true)";

    // The connection is dropped with the transaction open.
    let mut gone = connection_as(&app.database, "mmm_app").await;
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut gone)
        .await
        .unwrap();
    let mut tx = gone.begin().await.unwrap();
    act_for(&mut tx, &a.id).await;
    sqlx::query(insert)
        .bind(&a.id)
        .bind("dropped")
        .execute(&mut *tx)
        .await
        .unwrap();
    std::mem::forget(tx);
    drop(gone);
    eventually("the dropped client's backend to end", || {
        transaction_over(&superuser, pid)
    })
    .await;

    // The statement is cancelled while the transaction runs.
    let mut cancelled = connection_as(&app.database, "mmm_app").await;
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut cancelled)
        .await
        .unwrap();
    let client = {
        let tenant = a.id.clone();
        tokio::spawn(async move {
            let mut tx = cancelled.begin().await.unwrap();
            act_for(&mut tx, &tenant).await;
            sqlx::query(insert)
                .bind(&tenant)
                .bind("cancelled")
                .execute(&mut *tx)
                .await
                .unwrap();
            let slow = sqlx::query("select pg_sleep(600)").execute(&mut *tx).await;
            let outcome = match slow {
                Err(e) => e.to_string(),
                Ok(_) => "finished".to_owned(),
            };
            // What a handler does with an error: drop the transaction.
            drop(tx);
            (outcome, cancelled)
        })
    };
    eventually("the slow statement to run", || async {
        let running: bool = sqlx::query_scalar(
            "select exists (select from pg_stat_activity
                            where pid = $1 and state = 'active' and query like '%pg_sleep%')",
        )
        .bind(pid)
        .fetch_one(&superuser)
        .await
        .unwrap();
        running
    })
    .await;
    let signalled: bool = sqlx::query_scalar("select pg_cancel_backend($1)")
        .bind(pid)
        .fetch_one(&superuser)
        .await
        .unwrap();
    assert!(signalled);
    let (outcome, mut cancelled) = client.await.unwrap();
    assert!(outcome.contains("canceling statement"), "{outcome}");
    let (setting, xid): (Option<String>, Option<i64>) =
        sqlx::query_as("select current_setting('app.tenant_id', true), txid_current_if_assigned()")
            .fetch_one(&mut cancelled)
            .await
            .unwrap();
    assert_eq!((setting.unwrap_or_default(), xid), (String::new(), None));

    let kept: Vec<String> =
        sqlx::query_scalar("select key from tenant_features where key in ('dropped', 'cancelled')")
            .fetch_all(&superuser)
            .await
            .unwrap();
    assert!(kept.is_empty(), "partial writes kept: {kept:?}");
}

/// The pid of the request role's backend of `database` waiting on a lock.
async fn blocked_backend(superuser: &PgPool, database: &str) -> i32 {
    for _ in 0..600 {
        let pid: Option<i32> = sqlx::query_scalar(
            "select pid from pg_stat_activity
             where datname = $1 and usename = 'mmm_app' and wait_event_type = 'Lock'",
        )
        .bind(database)
        .fetch_optional(superuser)
        .await
        .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting for the upload to wait on the lock");
}

/// C19 over HTTP: an upload whose transaction is open (held on a lock the
/// test takes) when its request is cancelled — by the request deadline,
/// then by the client going away — leaves its data source and its audit
/// entry both unwritten or both written, never one of them; the deadline's
/// 503 means nothing was written; and the server's one request connection
/// comes back clean and keeps serving.
#[tokio::test]
async fn an_upload_cancelled_mid_transaction_writes_nothing_and_the_server_keeps_answering() {
    let limits = mmm_host::limits::Limits {
        request_timeout: Duration::from_secs(10),
        ..mmm_host::limits::Limits::generous()
    };
    let (setup, a, _) = two_tenants().await;
    let (app, one) = sibling_with_one_app_connection(&setup, limits).await;
    let token = a.token("data_scientist").to_owned();
    let superuser = connect_as(&app.database, "postgres").await;
    let written = |name: &'static str| {
        let superuser = superuser.clone();
        async move {
            let counts: (i64, i64) = sqlx::query_as(
                "select (select count(*) from data_sources where name = $1),
                        (select count(*) from audit_log
                         where action = 'data.upload' and details ->> 'name' = $1)",
            )
            .bind(name)
            .fetch_one(&superuser)
            .await
            .unwrap();
            counts
        }
    };

    // The deadline drops the handler while its insert waits.
    let mut lock = superuser.begin().await.unwrap();
    sqlx::query("lock table data_sources in share mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    let (content_type, body) = multipart(EXAMPLE.as_bytes(), "text/csv", &example_meta("late"));
    let request = app
        .request(Method::POST, "/tenant/data/upload", Some(&token))
        .header("content-type", &content_type)
        .body(body)
        .send();
    let response = tokio::spawn(request);
    let pid = blocked_backend(&superuser, &app.database).await;
    let response = response.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    lock.rollback().await.unwrap();
    eventually("the cancelled upload's transaction to end", || {
        transaction_over(&superuser, pid)
    })
    .await;
    assert_eq!(written("late").await, (0, 0), "a 503 upload was stored");

    // The client goes away while its insert waits.
    let mut lock = superuser.begin().await.unwrap();
    sqlx::query("lock table data_sources in share mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    let (content_type, body) = multipart(EXAMPLE.as_bytes(), "text/csv", &example_meta("gone"));
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /tenant/data/upload HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {token}\r\n\
         content-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let pid = blocked_backend(&superuser, &app.database).await;
    drop(stream);
    lock.rollback().await.unwrap();
    eventually("the abandoned upload's transaction to end", || {
        transaction_over(&superuser, pid)
    })
    .await;
    let (sources, audits) = written("gone").await;
    assert!(sources <= 1 && sources == audits, "({sources}, {audits})");

    // The one connection came back clean and serves the next requests.
    let (setting, xid): (Option<String>, Option<i64>) =
        sqlx::query_as("select current_setting('app.tenant_id', true), txid_current_if_assigned()")
            .fetch_one(&one)
            .await
            .unwrap();
    assert_eq!((setting.unwrap_or_default(), xid), (String::new(), None));
    let stored = upload(
        &app,
        &token,
        EXAMPLE.as_bytes(),
        "text/csv",
        &example_meta("late"),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let stored: Value = stored.json().await.unwrap();
    assert_eq!(stored["version"], 1);
    let listed: Value = app
        .get("/tenant/data/sources", a.token("viewer"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1 + sources);
}
