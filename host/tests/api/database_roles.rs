//! The database's own walls, shown as the server's roles over real
//! connections (a superuser bypasses RLS and would prove nothing): what the
//! owner, the request role and the platform role can and cannot do with
//! tenant rows, whatever the server's code gets wrong.

use sqlx::postgres::{PgPoolCopyExt, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use crate::helpers::{TestApp, TestTenant, connect_as};

/// Every table with a `tenant_id` column that the pool's role may read (the
/// scheduler's `analysis_queue_turns` is the platform role's only).
async fn tenant_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r' and has_table_privilege(c.oid, 'select')
           and exists (select from pg_attribute a where a.attrelid = c.oid
                       and a.attname = 'tenant_id' and not a.attisdropped)
         order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn act_for(conn: &mut PgConnection, tenant: &TestTenant) {
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(&tenant.id)
        .execute(conn)
        .await
        .unwrap();
}

async fn count(conn: &mut PgConnection, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(conn)
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

/// C1: neither request role owns a table, view, sequence or function.
#[tokio::test]
async fn the_request_roles_own_nothing() {
    let app = TestApp::spawn().await;
    let pool = connect_as(&app.database, "postgres").await;
    let owned: i64 = sqlx::query_scalar(
        "select (select count(*) from pg_class c join pg_roles r on r.oid = c.relowner
                 where r.rolname in ('mmm_app', 'mmm_platform'))
              + (select count(*) from pg_proc p join pg_roles r on r.oid = p.proowner
                 where r.rolname in ('mmm_app', 'mmm_platform'))",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owned, 0);
}

/// C3: the owner is under FORCE too: without a tenant it counts no rows.
#[tokio::test]
async fn the_table_owner_sees_no_tenant_rows_without_a_tenant() {
    let (app, _, _) = two_tenants().await;
    let owner = connect_as(&app.database, "mmm_owner").await;
    let mut conn = owner.acquire().await.unwrap();
    let tables = tenant_tables(&owner).await;
    assert!(tables.len() >= 10, "{tables:?}");
    for table in &tables {
        assert_eq!(count(&mut conn, table).await, 0, "{table}");
    }
    let superuser = connect_as(&app.database, "postgres").await;
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&superuser)
        .await
        .unwrap();
    assert_eq!(users, 8, "the rows exist; the owner just cannot see them");
}

/// C5, C7, C18: one pooled connection serves A, then B, then no tenant;
/// each sees only its own rows, and no setting outlives its transaction.
#[tokio::test]
async fn one_connection_serves_a_then_b_then_nobody_each_its_own_rows() {
    let (app, a, b) = two_tenants().await;
    let single = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(
            connect_as(&app.database, "mmm_app")
                .await
                .connect_options()
                .as_ref()
                .clone(),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    for tenant in [&a, &b] {
        let mut tx = single.begin().await.unwrap();
        act_for(&mut tx, tenant).await;
        let tenants: Vec<String> = sqlx::query_scalar("select distinct tenant_id::text from users")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        seen.push(tenants);
        let left: Option<String> =
            sqlx::query_scalar("select nullif(current_setting('app.tenant_id', true), '')")
                .fetch_one(&single)
                .await
                .unwrap();
        assert_eq!(left, None, "the tenant setting outlived its transaction");
    }
    assert_eq!(seen, vec![vec![a.id.clone()], vec![b.id.clone()]]);
    let tables = tenant_tables(&single).await;
    let mut conn = single.acquire().await.unwrap();
    for table in tables {
        assert_eq!(
            count(&mut conn, &table).await,
            0,
            "{table} without a tenant"
        );
    }
}

/// C6, C8, C9: with tenant A set, nothing written lands in B or moves to
/// B, and B's rows cannot be changed or deleted by id.
#[tokio::test]
async fn acting_for_a_no_write_reaches_b() {
    let (app, a, b) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;

    let insert = "insert into users (tenant_id, id, email, password_hash, role)
                  values ($1::uuid, gen_random_uuid(), 'probe@x.test', 'h', 'viewer')";
    let without = sqlx::query(insert).bind(&a.id).execute(&pool).await;
    assert!(
        without
            .unwrap_err()
            .to_string()
            .contains("new row violates row-level security policy")
    );

    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a).await;
    let into_b = sqlx::query(insert).bind(&b.id).execute(&mut *tx).await;
    assert!(
        into_b
            .unwrap_err()
            .to_string()
            .contains("row-level security")
    );
    tx.rollback().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a).await;
    let moved = sqlx::query("update users set tenant_id = $1::uuid")
        .bind(&b.id)
        .execute(&mut *tx)
        .await;
    assert!(
        moved
            .unwrap_err()
            .to_string()
            .contains("row-level security")
    );
    tx.rollback().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a).await;
    let victim = b.user_id("tenant_admin");
    let updated = sqlx::query("update users set role = 'viewer' where id = $1::uuid")
        .bind(victim)
        .execute(&mut *tx)
        .await
        .unwrap();
    let deleted = sqlx::query("delete from users where id = $1::uuid")
        .bind(victim)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!((updated.rows_affected(), deleted.rows_affected()), (0, 0));
    tx.commit().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &b).await;
    let roles: Vec<String> = sqlx::query_scalar("select role from users order by role")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        roles,
        ["analyst", "data_scientist", "tenant_admin", "viewer"]
    );
}

/// C10: a child naming B's parent fails exactly as one naming no parent.
#[tokio::test]
async fn a_reference_to_bs_row_fails_like_a_reference_to_nothing() {
    let (app, a, b) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let mut failures = Vec::new();
    for user in [
        b.user_id("viewer").to_owned(),
        uuid::Uuid::new_v4().to_string(),
    ] {
        let mut tx = pool.begin().await.unwrap();
        act_for(&mut tx, &a).await;
        let error = sqlx::query(
            "insert into refresh_tokens (tenant_id, id, user_id, family_id, token_hash, expires_at)
             values ($1::uuid, gen_random_uuid(), $2::uuid, gen_random_uuid(), 'h', now())",
        )
        .bind(&a.id)
        .bind(&user)
        .execute(&mut *tx)
        .await
        .unwrap_err();
        let db = error.as_database_error().unwrap();
        failures.push((
            db.code().unwrap().into_owned(),
            db.message().replace(&user, "<id>"),
        ));
        tx.rollback().await.unwrap();
    }
    assert_eq!(failures[0], failures[1]);
    assert_eq!(failures[0].0, "23503");
}

/// C12, C13, C16: the request role cannot switch RLS off, truncate, or COPY
/// into a tenant table; the platform role cannot truncate either.
#[tokio::test]
async fn rls_cannot_be_switched_off_truncated_or_copied_past() {
    let (app, a, _) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let platform = connect_as(&app.database, "mmm_platform").await;

    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a).await;
    sqlx::query("set local row_security = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let off = sqlx::query("select count(*) from users")
        .fetch_one(&mut *tx)
        .await;
    assert!(
        off.unwrap_err().to_string().contains("row-level security"),
        "row_security = off returned rows"
    );
    tx.rollback().await.unwrap();

    for table in tenant_tables(&pool).await {
        for (role, pool) in [("mmm_app", &pool), ("mmm_platform", &platform)] {
            let truncate = sqlx::query(sqlx::AssertSqlSafe(format!("truncate {table}")))
                .execute(pool)
                .await;
            assert!(
                truncate
                    .unwrap_err()
                    .to_string()
                    .contains("permission denied"),
                "{role} truncated {table}"
            );
        }
    }

    let copy = pool.copy_in_raw("copy users from stdin").await;
    let refused = match copy {
        Err(e) => e.to_string(),
        Ok(mut copy) => {
            copy.send(b"x\n".as_slice()).await.ok();
            copy.finish().await.unwrap_err().to_string()
        }
    };
    assert!(
        refused.contains("row-level security") || refused.contains("permission denied"),
        "{refused}"
    );
}

/// C14, C15: no view runs as its owner, no materialised view is readable,
/// and no SECURITY DEFINER function is PUBLIC or has a movable search_path.
#[tokio::test]
async fn views_and_functions_cannot_run_as_their_owner() {
    let app = TestApp::spawn().await;
    let pool = connect_as(&app.database, "postgres").await;
    let owner_views: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'v'
           and not coalesce('security_invoker=true' = any(c.reloptions), false)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(owner_views.is_empty(), "{owner_views:?}");
    let matviews: Vec<String> = sqlx::query_scalar(
        "select matviewname::text from pg_matviews
         where has_table_privilege('mmm_app', format('%I.%I', schemaname, matviewname), 'select')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(matviews.is_empty(), "{matviews:?}");
    let definers: Vec<(String, bool, bool)> = sqlx::query_as(
        "select p.proname::text,
                has_function_privilege('public', p.oid, 'execute'),
                coalesce(exists (select from unnest(p.proconfig) c where c like 'search_path=%'), false)
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and p.prosecdef",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for (name, public, fixed_path) in definers {
        assert!(
            !public && fixed_path,
            "{name}: public={public} search_path fixed={fixed_path}"
        );
    }
}

/// C17: under RLS, each tenant table's tenant filter is served by an index
/// whose first column is `tenant_id`.
#[tokio::test]
async fn every_tenant_tables_rows_are_reached_through_a_tenant_led_index() {
    let (app, a, _) = two_tenants().await;
    let pool = connect_as(&app.database, "mmm_app").await;
    let superuser = connect_as(&app.database, "postgres").await;
    for table in tenant_tables(&pool).await {
        let mut tx = pool.begin().await.unwrap();
        act_for(&mut tx, &a).await;
        // Tiny test tables would be scanned whole; off shows the index the
        // planner has for the filter once tables are big.
        sqlx::query("set local enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "explain select * from {table} limit 50"
        )))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        let plan = plan.join("\n");
        // `Index Scan using X`, `Index Only Scan using X`, `Bitmap Index Scan on X`.
        let index = plan
            .lines()
            .find_map(|line| {
                let (_, rest) = line
                    .split_once("Index Scan using ")
                    .or_else(|| line.split_once("Index Only Scan using "))
                    .or_else(|| line.split_once("Bitmap Index Scan on "))?;
                rest.split_whitespace().next()
            })
            .unwrap_or_else(|| panic!("{table}: no index in\n{plan}"));
        let leading: String = sqlx::query_scalar(
            "select a.attname::text from pg_index i
             join pg_class c on c.oid = i.indexrelid
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
             where c.relname = $1",
        )
        .bind(index)
        .fetch_one(&superuser)
        .await
        .unwrap();
        assert_eq!(
            leading, "tenant_id",
            "{table} is reached through {index}:\n{plan}"
        );
    }
}

/// C19: a transaction dropped half way (a request cancelled by its client
/// or by the deadline) writes nothing, and its connection comes back clean.
#[tokio::test]
async fn a_transaction_dropped_half_way_writes_nothing_and_leaves_the_connection_clean() {
    let (app, a, _) = two_tenants().await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(
            connect_as(&app.database, "mmm_app")
                .await
                .connect_options()
                .as_ref()
                .clone(),
        )
        .await
        .unwrap();
    let before = {
        let mut tx = pool.begin().await.unwrap();
        act_for(&mut tx, &a).await;
        count(&mut tx, "tenant_features").await
    };
    let handler = {
        let pool = pool.clone();
        let a_id = a.id.clone();
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("select set_config('app.tenant_id', $1, true)")
                .bind(&a_id)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(
                "insert into tenant_features (tenant_id, key, enabled, config)
                 values ($1::uuid, 'probe', true, '{}')",
            )
            .bind(&a_id)
            .execute(&mut *tx)
            .await
            .unwrap();
            // The client goes away here: the task is dropped mid-transaction.
            std::future::pending::<()>().await;
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    handler.abort();
    let _ = handler.await;

    // A transaction that wrote holds a transaction id: had the connection
    // come back inside it, the probe would see one.
    let (in_tx, tenant): (bool, Option<String>) = sqlx::query_as(
        "select txid_current_if_assigned() is not null,
                nullif(current_setting('app.tenant_id', true), '')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!in_tx, "the connection came back inside a transaction");
    assert_eq!(tenant, None);
    let mut tx = pool.begin().await.unwrap();
    act_for(&mut tx, &a).await;
    assert_eq!(count(&mut tx, "tenant_features").await, before);
}
