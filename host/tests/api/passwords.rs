//! How passwords are kept and checked: the hash's strength, what a
//! password may be, and the bound on hashes running at once.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use mmm_host::auth::password::Hasher;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::helpers::{ADMIN_EMAIL, PASSWORD, TestApp, code, connect_as};

const OWASP: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

async fn stored_hash(app: &TestApp, table: &str, email: &str) -> String {
    let superuser = connect_as(&app.database, "postgres").await;
    let (hash,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select password_hash from {table} where email = $1"
    )))
    .bind(email)
    .fetch_one(&superuser)
    .await
    .unwrap();
    superuser.close().await;
    hash
}

async fn set_hash(app: &TestApp, table: &str, email: &str, hash: &str) {
    let superuser = connect_as(&app.database, "postgres").await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update {table} set password_hash = $1 where email = $2"
    )))
    .bind(hash)
    .bind(email)
    .execute(&superuser)
    .await
    .unwrap();
    superuser.close().await;
}

/// A hash of `PASSWORD` with parameters from before OWASP's.
fn legacy_hash() -> String {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes())
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn hashes_are_argon2id_at_owasp_strength_and_weaker_ones_are_upgraded_at_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.create_tenant(&admin, "acme").await;
    app.create_user(
        &admin,
        acme["id"].as_str().unwrap(),
        "ada@acme.test",
        "viewer",
    )
    .await;
    for (table, email) in [("users", "ada@acme.test"), ("platform_admins", ADMIN_EMAIL)] {
        let hash = stored_hash(&app, table, email).await;
        assert!(hash.starts_with(OWASP), "{table}: {hash}");
        assert!(!hash.contains(PASSWORD));
    }

    for (table, email, tenant) in [
        ("users", "ada@acme.test", Some("acme")),
        ("platform_admins", ADMIN_EMAIL, None),
    ] {
        let legacy = legacy_hash();
        set_hash(&app, table, email, &legacy).await;
        // A wrong password leaves the weak hash alone; the right one replaces it.
        let wrong = app.login(email, "not the password", tenant).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(stored_hash(&app, table, email).await, legacy);
        app.tokens(email, tenant).await;
        let upgraded = stored_hash(&app, table, email).await;
        assert!(upgraded.starts_with(OWASP), "{table}: {upgraded}");
        app.tokens(email, tenant).await;
        assert_eq!(
            stored_hash(&app, table, email).await,
            upgraded,
            "rehashed again"
        );
    }
}

async fn new_user(
    app: &TestApp,
    admin: &str,
    tenant: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.post(
        &format!("/admin/tenants/{tenant}/users"),
        admin,
        json!({ "email": email, "password": password, "role": "viewer" }),
    )
    .await
}

#[tokio::test]
async fn long_and_unicode_passwords_are_kept_as_typed_and_common_ones_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.create_tenant(&admin, "acme").await;
    let acme = acme["id"].as_str().unwrap();

    let nfc = "Ünïcödé pässwörd — 密码 🔐 ﷽";
    let long_64: String = "0123456789abcdef".repeat(4);
    let long_256: String = "é🔐x".repeat(85) + "z";
    assert_eq!(long_256.chars().count(), 256);
    let passwords = [
        ("unicode", nfc.to_owned()),
        ("sixty-four", long_64.clone()),
        ("two-fifty-six", long_256.clone()),
        ("spaces", "  padded with spaces  ".to_owned()),
    ];
    for (i, (what, password)) in passwords.iter().enumerate() {
        let email = format!("user{i}@acme.test");
        let created = new_user(&app, &admin, acme, &email, password).await;
        assert_eq!(created.status(), StatusCode::CREATED, "{what}");
        assert_eq!(
            app.login(&email, password, Some("acme")).await.status(),
            StatusCode::OK,
            "{what}"
        );
        // Nothing was cut, trimmed, folded or normalised on the way in.
        let mut others = vec![
            password.trim().to_owned(),
            password.to_lowercase(),
            password
                .chars()
                .take(password.chars().count() - 1)
                .collect::<String>(),
            String::from_utf8_lossy(&password.as_bytes()[..password.len().min(72)]).into_owned(),
        ];
        others.retain(|other| other != password);
        for other in others {
            assert_eq!(
                app.login(&email, &other, Some("acme")).await.status(),
                StatusCode::UNAUTHORIZED,
                "{what}: {other:?} passed for {password:?}"
            );
        }
    }
    // The decomposed spelling of the same letters is another password.
    let nfd = "U\u{308}ni\u{308}co\u{308}de\u{301} pa\u{308}sswo\u{308}rd — 密码 🔐 ﷽";
    assert_ne!(nfd, nfc);
    assert_eq!(
        app.login("user0@acme.test", nfd, Some("acme"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    for common in ["qwerty123456", "1Q2W3E4R5T6Y", "123qweasdzxc"] {
        let refused = new_user(&app, &admin, acme, "common@acme.test", common).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{common}"
        );
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["error"]["code"], "common_password", "{common}");
        assert_eq!(problem["error"]["field"], "password");
    }
    let too_long = new_user(&app, &admin, acme, "long@acme.test", &(long_256 + "!")).await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_hundred_parallel_logins_never_run_more_hashes_than_there_are_slots() {
    let app = TestApp::spawn().await;
    let hasher = Hasher::global();
    // Another account each, so the login throttle holds none of them back:
    // every one of them needs a hash.
    let logins = (0..100).map(|i| {
        let app = &app;
        async move {
            app.login(
                &format!("guess{i}@platform.test"),
                "a wrong password!",
                None,
            )
            .await
        }
    });
    let responses = futures_util::future::join_all(logins).await;
    let mut busy = 0;
    for response in responses {
        match response.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                let retry_after = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(retry_after.parse::<u32>().unwrap() >= 1);
                assert_eq!(code(response).await, "login_busy");
            }
            other => panic!("a login answered {other}"),
        }
    }
    let peak = hasher.peak();
    assert!(
        (1..=hasher.size()).contains(&peak),
        "{peak} hashes ran at once with {} slots ({busy} logins shed)",
        hasher.size()
    );
    assert!(busy < 100, "every login was shed");
}

/// A login must not hold a connection while it hashes or while its
/// tenant's config loads: on a server whose request pool has one
/// connection, logins to a tenant it has not cached yet still succeed, as
/// do parallel ones (they queue for the connection rather than each
/// holding one while waiting for another).
#[tokio::test]
async fn logins_hold_no_connection_while_hashing_or_loading_the_tenant() {
    let setup = TestApp::spawn().await;
    let admin = setup.admin_token().await;
    let tenant = setup.create_tenant(&admin, "acme").await;
    let id = tenant["id"].as_str().unwrap();
    for n in 0..3 {
        setup
            .create_user(&admin, id, &format!("analyst{n}@acme.test"), "analyst")
            .await;
    }
    let (app, _one) = crate::api::helpers::sibling_with_one_app_connection(
        &setup,
        mmm_host::limits::Limits {
            request_timeout: std::time::Duration::from_secs(20),
            ..mmm_host::limits::Limits::generous()
        },
    )
    .await;
    let logins = (0..3).map(|n| {
        let app = &app;
        async move {
            app.login(&format!("analyst{n}@acme.test"), PASSWORD, Some("acme"))
                .await
        }
    });
    for response in futures_util::future::join_all(logins).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
}
