//! Workers: claim a job, hold its lease while it runs (a heartbeat renews
//! it and notices cancels), store its result only while the lease is held,
//! and retry host faults with backoff. The same pool runs inside
//! `mmm serve` and as `mmm worker`; `drain` lets running jobs finish, and
//! past a grace period hands them back to the queue for another worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mmm_runtime::CancelToken;
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::events::AnalysisEvents;
use super::pipeline::{self, JobContext, JobError, ProgressTx};
use crate::db::analyses::{self, NewResult, Release};
use crate::db::queue::{self, Claim};
use crate::telemetry::metrics::ANALYSES_FINISHED;

/// How workers claim and hold jobs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Workers in this process (each runs one job at a time); 0 runs none.
    pub count: usize,
    /// How long a claim holds without a heartbeat; a dead worker's job is
    /// taken by another this long after its last heartbeat.
    pub lease: Duration,
    /// How long `drain` waits for running jobs before handing them back.
    pub grace: Duration,
    /// Jobs one tenant may have running at once, unless its `analyses`
    /// feature config sets `max_running`.
    pub tenant_max_running: i32,
    /// First retry delay after a host fault; doubles per attempt, at most a minute.
    pub retry_base: Duration,
    /// How often an idle worker looks for work without being notified.
    pub poll: Duration,
    /// Attempts a new analysis gets before host faults fail it.
    pub max_attempts: i32,
    /// Names this process's workers in leases and results (`host:pid`).
    pub name: String,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            count: std::thread::available_parallelism().map_or(2, |n| n.get()),
            lease: Duration::from_secs(30),
            grace: Duration::from_secs(60),
            tenant_max_running: 2,
            retry_base: Duration::from_secs(2),
            poll: Duration::from_secs(2),
            max_attempts: 3,
            name: default_name(),
        }
    }
}

/// `<hostname>:<pid>`.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".into());
    format!("{host}:{}", std::process::id())
}

/// Running workers; `drain` stops them.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    grace: Duration,
}

/// What every worker of a pool shares.
struct Shared {
    ctx: JobContext,
    events: AnalysisEvents,
    settings: WorkerSettings,
}

impl WorkerPool {
    pub fn start(ctx: JobContext, events: AnalysisEvents, settings: WorkerSettings) -> Self {
        let (stop, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let grace = settings.grace;
        let count = settings.count;
        let shared = Arc::new(Shared {
            ctx,
            events,
            settings,
        });
        for n in 0..count {
            let name = format!("{}#{n}", shared.settings.name);
            tasks.spawn(worker(shared.clone(), name, stop.subscribe()));
        }
        tracing::info!(workers = count, "analysis workers started");
        Self { stop, tasks, grace }
    }

    /// Stops claiming; running jobs get the grace period to finish, then
    /// are cancelled and handed back to the queue (not counted as an attempt).
    pub async fn drain(mut self) {
        let _ = self.stop.send(true);
        let all_done = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.grace, all_done).await.is_err() {
            tracing::warn!("grace period over: handing running analyses back to the queue");
            let _ = self.stop.send(true);
            HANDOVER.store(true, Ordering::Relaxed);
            while self.tasks.join_next().await.is_some() {}
        }
        tracing::info!("analysis workers stopped");
    }
}

/// Read by running jobs of every pool in the process once a drain's grace
/// is over (a process drains once, at exit).
static HANDOVER: AtomicBool = AtomicBool::new(false);

async fn worker(shared: Arc<Shared>, name: String, mut stop: watch::Receiver<bool>) {
    let mut changes = shared.events.subscribe();
    loop {
        if *stop.borrow() {
            return;
        }
        match next_claim(&shared, &name).await {
            Ok(Some(claim)) => {
                hold_and_run(&shared, &name, claim).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "claiming an analysis failed"),
        }
        // Idle: any change (a new job is an insert) or the poll interval wakes us.
        tokio::select! {
            _ = stop.changed() => {}
            _ = changes.recv() => {}
            () = tokio::time::sleep(shared.settings.poll) => {}
        }
    }
}

async fn next_claim(shared: &Shared, name: &str) -> Result<Option<Claim>, sqlx::Error> {
    let mut tx = shared.ctx.db.platform_tx().await?;
    queue::reap(&mut tx).await?;
    let claim = queue::claim(
        &mut tx,
        name,
        shared.settings.lease.as_secs_f64(),
        shared.settings.tenant_max_running,
    )
    .await?;
    tx.commit().await?;
    Ok(claim)
}

/// Why the local call was told to stop.
#[derive(Default)]
struct Stops {
    lease_lost: AtomicBool,
    cancel_requested: AtomicBool,
}

async fn hold_and_run(shared: &Shared, name: &str, claim: Claim) {
    let span = tracing::info_span!("analysis", tenant = %claim.tenant_id, id = %claim.id, attempt = claim.attempts);
    async {
        let cancel = CancelToken::new();
        let stops = Arc::new(Stops::default());
        let (progress, progress_rx) = watch::channel(("starting".to_owned(), 0, 0));
        let started = Instant::now();
        // Neither side is ever dropped mid-flight: a future dropped inside
        // a database call can hand its connection back to the pool in the
        // middle of a transaction (sqlx's BEGIN is not cancel-safe). The
        // holder is told to stop and stops between its calls; a lost lease
        // cancels the run, which is awaited to its end.
        let (done, done_rx) = watch::channel(false);
        let holder = hold(shared, &claim, &cancel, &stops, progress_rx, done_rx);
        let run = run_until_handover(shared, &claim, &cancel, &progress);
        tokio::pin!(holder, run);
        let result = tokio::select! {
            result = &mut run => {
                let _ = done.send(true);
                (&mut holder).await;
                result
            }
            () = &mut holder => {
                let _ = (&mut run).await;
                Err(JobError::Cancelled)
            }
        };
        match settle(shared, name, &claim, &stops, result).await {
            Ok(what) => {
                if matches!(what, "succeeded" | "failed" | "cancelled") {
                    metrics::counter!(ANALYSES_FINISHED, "model" => claim.model.clone(), "status" => what).increment(1);
                }
                tracing::info!(outcome = what, ms = started.elapsed().as_millis() as u64, "analysis attempt ended")
            }
            Err(e) => tracing::warn!(error = %e, "recording the end of an analysis attempt failed; its lease will expire and it will be retried"),
        }
    }
    .instrument(span)
    .await
}

/// Runs the pipeline; once a drain's grace is over, cancels it.
async fn run_until_handover(
    shared: &Shared,
    claim: &Claim,
    cancel: &CancelToken,
    progress: &ProgressTx,
) -> Result<pipeline::Output, JobError> {
    let watch_handover = async {
        loop {
            if HANDOVER.load(Ordering::Relaxed) {
                cancel.cancel();
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let run = pipeline::run(&shared.ctx, claim, cancel, progress);
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => result,
        () = watch_handover => {
            // The call notices the cancel at its next epoch tick; awaiting
            // it (not dropping it) lets any database call in flight end.
            let _ = (&mut run).await;
            Err(JobError::Cancelled)
        }
    }
}

/// Holds the lease while the job runs: renews it, writes progress (at
/// most every 100 ms), and cancels the local call when the tenant asked
/// for it or the lease was lost. Returns when the lease is lost or `done`
/// is set, and only between database calls.
async fn hold(
    shared: &Shared,
    claim: &Claim,
    cancel: &CancelToken,
    stops: &Stops,
    mut progress: watch::Receiver<(String, u64, u64)>,
    mut done: watch::Receiver<bool>,
) {
    let db = &shared.ctx.db;
    let lease = shared.settings.lease;
    let beat_every = (lease / 3).max(Duration::from_millis(200));
    let mut changes = shared.events.subscribe();
    let mut next_beat = tokio::time::Instant::now() + beat_every;
    let mut last_progress = tokio::time::Instant::now() - Duration::from_secs(1);
    let mut progress_open = true;
    loop {
        if *done.borrow() {
            return;
        }
        let beat = tokio::select! {
            _ = done.changed() => return,
            () = tokio::time::sleep_until(next_beat) => true,
            change = changes.recv() => match change {
                Ok(c) => c.id == claim.id,
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => false,
            },
            changed = progress.changed(), if progress_open => {
                if changed.is_err() {
                    progress_open = false;
                    continue;
                }
                let wait = (last_progress + Duration::from_millis(100)).saturating_duration_since(tokio::time::Instant::now());
                tokio::time::sleep(wait).await;
                let (stage, done, total) = progress.borrow_and_update().clone();
                last_progress = tokio::time::Instant::now();
                let held = async {
                    let mut tx = db.tenant_tx(claim.tenant_id).await?;
                    let held = analyses::progress(&mut tx, claim.id, claim.lease_token, &stage, done as i64, total as i64).await?;
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>(held)
                }.await;
                if let Ok(false) = held {
                    stops.lease_lost.store(true, Ordering::Relaxed);
                    cancel.cancel();
                    return;
                }
                false
            }
        };
        if !beat {
            continue;
        }
        next_beat = tokio::time::Instant::now() + beat_every;
        let renewed = async {
            let mut tx = db.tenant_tx(claim.tenant_id).await?;
            let held =
                analyses::heartbeat(&mut tx, claim.id, claim.lease_token, lease.as_secs_f64())
                    .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(held)
        }
        .await;
        match renewed {
            Ok(Some(false)) => {}
            Ok(Some(true)) => {
                stops.cancel_requested.store(true, Ordering::Relaxed);
                cancel.cancel();
            }
            Ok(None) => {
                tracing::warn!("lost the lease: another worker has the job");
                stops.lease_lost.store(true, Ordering::Relaxed);
                cancel.cancel();
                return;
            }
            // The database is unreachable: keep running; if it stays away
            // the lease expires and the result write is refused.
            Err(e) => tracing::warn!(error = %e, "renewing the lease failed"),
        }
    }
}

/// Writes how the attempt ended, conditional on the lease.
async fn settle(
    shared: &Shared,
    name: &str,
    claim: &Claim,
    stops: &Stops,
    result: Result<pipeline::Output, JobError>,
) -> Result<&'static str, sqlx::Error> {
    if stops.lease_lost.load(Ordering::Relaxed) {
        return Ok("lease lost");
    }
    let mut tx = shared.ctx.db.tenant_tx(claim.tenant_id).await?;
    let (held, what) = match result {
        Ok(output) => {
            let result = NewResult {
                summary: &output.summary,
                decomposition: &output.decomposition,
                response_curves: &output.response_curves,
                artifact: &output.artifact,
                results_digest: &output.results_digest,
                fit_ms: output.fit_ms,
                worker: name,
            };
            (
                analyses::succeed(&mut tx, claim.id, claim.lease_token, &result).await?,
                "succeeded",
            )
        }
        Err(error) => {
            let (how, what) = release_for(shared, claim, stops, error);
            (
                analyses::release(&mut tx, claim.id, claim.lease_token, &how).await?,
                what,
            )
        }
    };
    tx.commit().await?;
    Ok(if held {
        what
    } else {
        "lease lost before the write"
    })
}

fn release_for(
    shared: &Shared,
    claim: &Claim,
    stops: &Stops,
    error: JobError,
) -> (Release, &'static str) {
    match error {
        JobError::Cancelled if stops.cancel_requested.load(Ordering::Relaxed) => {
            (Release::Cancel, "cancelled")
        }
        JobError::Cancelled => (Release::HandOver, "handed over"),
        JobError::Fail(cause) => (Release::Fail(cause), "failed"),
        JobError::Retry(cause) => {
            let exponent = (claim.attempts.max(1) - 1).min(10) as u32;
            let delay =
                (shared.settings.retry_base * 2u32.pow(exponent)).min(Duration::from_secs(60));
            (
                Release::Retry {
                    error: with_attempt(cause, claim.attempts),
                    delay_secs: delay.as_secs_f64(),
                },
                "retrying",
            )
        }
    }
}

fn with_attempt(mut cause: Value, attempt: i32) -> Value {
    if let Some(map) = cause.as_object_mut() {
        map.insert("attempt".into(), attempt.into());
    }
    cause
}
