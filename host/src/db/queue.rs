//! The analysis queue's cross-tenant part, on the platform role: claiming
//! the next job fairly and reaping jobs whose worker stopped renewing its
//! lease. Everything else a worker does runs as the tenant ([`super::analyses`]).

use uuid::Uuid;

use super::PlatformTx;
use crate::ids::TenantId;

crate::db::row::record! {
    /// A job a worker now holds.
    #[derive(Debug, Clone)]
    pub struct Claim {
        pub tenant_id: TenantId,
        pub id: Uuid,
        pub lease_token: Uuid,
        pub attempts: i32,
        /// The model's name, for the metrics of how the job ended.
        pub model: String,
    }
}

/// Serialises claims, so the per-tenant running limit holds between two
/// workers claiming at once; a claim is a few index reads, so this costs
/// far less than a job.
const CLAIM_LOCK: i64 = 0x6d6d_6d71; // "mmmq"

/// Ends the jobs whose lease expired and that may not run again: cancelled
/// ones (their worker died before it could stop) and those out of attempts.
#[tracing::instrument(skip_all, err)]
pub async fn reap(tx: &mut PlatformTx) -> Result<u64, sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(CLAIM_LOCK)
        .execute(tx.conn())
        .await?;
    let free = "lease_owner = null, lease_token = null, lease_expires_at = null, \
        finished_at = now(), updated_at = now()";
    let cancelled = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update analyses set status = 'cancelled', stage = 'cancelled', {free}
         where status = 'running' and cancel_requested and lease_expires_at <= now()"
    )))
    .execute(tx.conn())
    .await?;
    let failed = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update analyses set status = 'failed', stage = 'failed', {free},
             error = jsonb_build_object(
                 'code', 'worker_lost',
                 'message', format('the worker running attempt %s of %s stopped renewing its lease', attempts, max_attempts),
                 'fault', 'host')
         where status = 'running' and lease_expires_at <= now() and attempts >= max_attempts"
    )))
    .execute(tx.conn())
    .await?;
    Ok(cancelled.rows_affected() + failed.rows_affected())
}

/// Takes the next job for `worker`: a queued job whose time has come, or a
/// running one whose lease expired (its worker is gone). Among tenants
/// under their running limit (`max_running` of the tenant's `analyses`
/// feature, else `default_max_running`), the one with the fewest running
/// jobs goes first, then the one served longest ago; within a tenant,
/// the oldest job. Call after [`reap`] in the same transaction.
#[tracing::instrument(skip_all, err)]
pub async fn claim(
    tx: &mut PlatformTx,
    worker: &str,
    lease_secs: f64,
    default_max_running: i32,
) -> Result<Option<Claim>, sqlx::Error> {
    let claim: Option<Claim> = sqlx::query_as(
        "with running as (
             select tenant_id, count(*) as n from analyses
             where status = 'running' and lease_expires_at > now()
             group by tenant_id
         ), candidate as (
             select a.tenant_id, a.id
             from analyses a
             left join running r on r.tenant_id = a.tenant_id
             left join analysis_queue_turns t on t.tenant_id = a.tenant_id
             left join tenant_features f
                 on f.tenant_id = a.tenant_id and f.key = 'analyses' and f.enabled
             where ((a.status = 'queued' and a.run_after <= now())
                    or (a.status = 'running' and a.lease_expires_at <= now()))
               and not a.cancel_requested
               and coalesce(r.n, 0) < coalesce(
                   case when jsonb_typeof(f.config->'max_running') = 'number'
                        then least((f.config->>'max_running')::numeric, 1000)::int end,
                   $3)
             order by coalesce(r.n, 0), t.last_claimed_at nulls first, a.created_at, a.id
             limit 1
             for update of a skip locked
         )
         update analyses a set
             status = 'running',
             stage = 'starting',
             attempts = a.attempts + 1,
             lease_owner = $1,
             lease_token = gen_random_uuid(),
             lease_expires_at = now() + make_interval(secs => $2),
             started_at = coalesce(a.started_at, now()),
             error = case when a.status = 'running' then jsonb_build_object(
                 'code', 'worker_lost',
                 'message', format('the worker running attempt %s stopped renewing its lease; retried', a.attempts),
                 'fault', 'host') else a.error end,
             updated_at = now()
         from candidate c
         where a.tenant_id = c.tenant_id and a.id = c.id
         returning a.tenant_id, a.id, a.lease_token, a.attempts, a.model->>'name' as model",
    )
    .bind(worker)
    .bind(lease_secs)
    .bind(default_max_running)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(claim) = &claim {
        sqlx::query(
            "insert into analysis_queue_turns (tenant_id, last_claimed_at) values ($1, clock_timestamp())
             on conflict (tenant_id) do update set last_claimed_at = excluded.last_claimed_at",
        )
        .bind(claim.tenant_id)
        .execute(tx.conn())
        .await?;
    }
    Ok(claim)
}

/// The queue as operators watch it, across tenants.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// Queued analyses whose time has come: what idle workers would take now.
    pub due: i64,
    /// Seconds the oldest due analysis has waited (0 when none).
    pub oldest_due_secs: f64,
    /// Queued or running analyses now, by status and model name.
    pub active: Vec<(String, String, i64)>,
}

/// Reads [`QueueStats`] from the claimable-rows index only: cheap enough to
/// sample every few seconds and to check on every new run.
#[tracing::instrument(skip_all, err)]
pub async fn stats(tx: &mut PlatformTx) -> Result<QueueStats, sqlx::Error> {
    let (due, oldest_due_secs): (i64, f64) = sqlx::query_as(
        "select count(*),
                coalesce(extract(epoch from now() - min(run_after))::float8, 0)
         from analyses
         where status = 'queued' and run_after <= now()",
    )
    .fetch_one(tx.conn())
    .await?;
    let active = sqlx::query_as(
        "select status, model->>'name', count(*) from analyses
         where status in ('queued', 'running')
         group by 1, 2",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(QueueStats {
        due,
        oldest_due_secs,
        active,
    })
}

/// Queued analyses of all tenants, due or not: the back-pressure check.
pub async fn queued(tx: &mut PlatformTx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from analyses where status = 'queued'")
        .fetch_one(tx.conn())
        .await
}
