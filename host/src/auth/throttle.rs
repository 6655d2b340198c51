//! Login throttling per account name (tenant + email), whether or not the
//! account exists, so throttling reveals nothing: at most `MAX_ATTEMPTS`
//! unsuccessful attempts per window, then logins for that name are refused
//! until the window ends.
//!
//! The count lives in PostgreSQL (`login_attempts`), so it holds across
//! every instance behind the load balancer. Each attempt is counted
//! *before* its password is checked, in one atomic upsert, and a success
//! clears the count: parallel guesses cannot all slip past the check while
//! their hashes run, because the sixth one is refused before it hashes.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::db::{Db, PlatformTx};

pub const MAX_ATTEMPTS: i32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// The attempt may go on to the password check, or must wait this long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attempt {
    Allowed,
    Locked { retry_after: Duration },
}

#[derive(Clone, Debug)]
pub struct LoginThrottle {
    db: Db,
    window: Duration,
}

impl LoginThrottle {
    pub fn new(db: Db) -> Self {
        Self::with_window(db, WINDOW)
    }

    pub fn with_window(db: Db, window: Duration) -> Self {
        Self { db, window }
    }

    fn key(tenant: Option<&str>, email: &str) -> String {
        let digest = Sha256::digest(format!("{}\u{0}{email}", tenant.unwrap_or("")));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Counts one attempt and says whether it may be checked. A new window
    /// starts when the last one has ended.
    pub async fn attempt(&self, tenant: Option<&str>, email: &str) -> Result<Attempt, sqlx::Error> {
        let mut tx = self.db.platform_tx().await?;
        let (attempts, left): (i32, f64) = sqlx::query_as(
            "insert into login_attempts as l (account_key, attempts, window_start)
             values ($1, 1, now())
             on conflict (account_key) do update set
                 attempts = case when l.window_start <= now() - $2 * interval '1 second'
                                 then 1 else l.attempts + 1 end,
                 window_start = case when l.window_start <= now() - $2 * interval '1 second'
                                     then now() else l.window_start end
             returning attempts,
                 extract(epoch from window_start + $2 * interval '1 second' - now())::float8",
        )
        .bind(Self::key(tenant, email))
        .bind(self.window.as_secs_f64())
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(if attempts > MAX_ATTEMPTS {
            Attempt::Locked {
                retry_after: Duration::from_secs_f64(left.max(1.0)),
            }
        } else {
            Attempt::Allowed
        })
    }

    /// A successful login: the name starts afresh.
    pub async fn clear(&self, tenant: Option<&str>, email: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.platform_tx().await?;
        sqlx::query("delete from login_attempts where account_key = $1")
            .bind(Self::key(tenant, email))
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    /// Deletes the rows of windows that have ended.
    pub async fn sweep(&self) -> Result<u64, sqlx::Error> {
        let mut tx: PlatformTx = self.db.platform_tx().await?;
        let done = sqlx::query(
            "delete from login_attempts where window_start <= now() - $1 * interval '1 second'",
        )
        .bind(self.window.as_secs_f64())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_tenant_and_email_without_holding_either() {
        let a = LoginThrottle::key(Some("acme"), "a@x.io");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("acme") && !a.contains("a@x.io"));
        assert_ne!(a, LoginThrottle::key(Some("other"), "a@x.io"));
        assert_ne!(a, LoginThrottle::key(None, "a@x.io"));
        // The separator keeps `ab` + `c` apart from `a` + `bc`.
        assert_ne!(
            LoginThrottle::key(Some("ab"), "c"),
            LoginThrottle::key(Some("a"), "bc")
        );
    }
}
