//! Scale-out: one PostgreSQL, three `mmm serve` instances and two
//! `mmm worker` processes on loopback ports, one database and one data dir,
//! driven over HTTP round-robin across the instances:
//! - an admin's feature toggle on instance 1 is seen by the next request on
//!   instances 2 and 3, and a suspended tenant is refused on all three;
//! - 200 analyses queued through all instances under a load generator run
//!   exactly once each (one stored result), spread over both workers;
//! - SIGKILL of instance 3 and worker 2 mid-load loses no analysis and
//!   gives no 5xx (nor any connection error) on the surviving instances.
//!
//! The figures (requests per second, latencies) are `benches/scaleout.rs`.

#[path = "scaleout/harness.rs"]
mod harness;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harness::{Options, Platform, Tenant, call, expect};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::watch;

const ANALYSES: usize = 200;
/// Analyses queued before the kill; the rest are queued after it, through
/// the surviving instances only.
const BEFORE_KILL: usize = 100;
/// Model search candidates: a fit of some tens of milliseconds.
const BUDGET: u64 = 300;
/// Tasks of the load generator, and the pause between their requests (the
/// machine the test runs on may have two cores the workers need too).
const LOADERS: usize = 3;
const LOAD_PAUSE: Duration = Duration::from_millis(10);
/// Each loader stops after this many requests at most, whatever happens.
const LOAD_MAX_REQUESTS: usize = 20_000;
const QUEUERS: usize = 4;
/// The instance and the worker killed (0-based: instance 3, worker 2).
const KILLED_SERVE: usize = 2;
const KILLED_WORKER: usize = 1;
/// How long an admin's change may take to reach another instance.
const PROPAGATION: Duration = Duration::from_secs(2);

/// What one instance answered the load generator and the queuers.
#[derive(Debug, Default, Clone)]
struct Tally {
    by_status: BTreeMap<u16, usize>,
    connection_errors: usize,
    /// Answered requests started after the kill.
    after_kill: usize,
    /// Up to ten examples of anything but 2xx (status or error, path, body).
    examples: Vec<String>,
}

impl Tally {
    fn server_errors(&self) -> usize {
        self.by_status
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum()
    }

    fn non_success(&self) -> usize {
        self.by_status
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    fn note(&mut self, example: String) {
        if self.examples.len() < 10 {
            self.examples.push(example);
        }
    }
}

/// Shared by the load generator and the queuers.
struct Load {
    addresses: Vec<String>,
    alive: Vec<AtomicBool>,
    killed: AtomicBool,
    stop: AtomicBool,
    tallies: std::sync::Mutex<Vec<Tally>>,
    token: String,
}

impl Load {
    /// The `n`th alive instance after `from`, round-robin.
    fn pick(&self, from: usize) -> usize {
        let count = self.addresses.len();
        (0..count)
            .map(|k| (from + k) % count)
            .find(|&i| self.alive[i].load(Ordering::SeqCst))
            .expect("an instance is alive")
    }

    fn record(
        &self,
        instance: usize,
        started_after_kill: bool,
        what: &str,
        result: &Result<(StatusCode, Value), reqwest::Error>,
    ) {
        let mut tallies = self.tallies.lock().unwrap();
        let tally = &mut tallies[instance];
        match result {
            Ok((status, body)) => {
                *tally.by_status.entry(status.as_u16()).or_default() += 1;
                if started_after_kill {
                    tally.after_kill += 1;
                }
                if !status.is_success() {
                    tally.note(format!("{status} {what}: {body}"));
                }
            }
            Err(e) => {
                tally.connection_errors += 1;
                tally.note(format!("error {what}: {e}"));
            }
        }
    }
}

/// Round-robin GETs of `/tenant/data/sources` and `/auth/me` over the
/// alive instances until told to stop (at most `LOAD_MAX_REQUESTS`).
async fn load_generator(load: Arc<Load>, task: usize) -> usize {
    let http = reqwest::Client::new();
    let paths = ["/tenant/data/sources", "/auth/me"];
    let mut sent = 0;
    for n in 0..LOAD_MAX_REQUESTS {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        let instance = load.pick(task + n);
        let after_kill = load.killed.load(Ordering::SeqCst);
        let path = paths[n % paths.len()];
        let url = format!("{}{path}", load.addresses[instance]);
        let result = call(&http, Method::GET, &url, Some(&load.token), None).await;
        load.record(instance, after_kill, &format!("GET {path}"), &result);
        sent += 1;
        tokio::time::sleep(LOAD_PAUSE).await;
    }
    sent
}

/// Queues analysis `i` (its own idempotency key), starting at instance
/// `i % 3`; a connection error (the instance was killed) moves the same
/// request to the next alive instance: the key makes a retry of a request
/// the dead instance did store return that analysis, not a second one.
async fn queue_one(load: &Load, http: &reqwest::Client, source: &str, i: usize) -> String {
    let body = json!({
        "source_id": source,
        "params": { "budget": BUDGET },
        "seed": i,
        "preprocessors": [],
    });
    for attempt in 0..(3 * load.addresses.len()) {
        let instance = load.pick(i + attempt);
        let after_kill = load.killed.load(Ordering::SeqCst);
        let url = format!("{}/tenant/analysis/run", load.addresses[instance]);
        let result = http
            .post(&url)
            .bearer_auth(&load.token)
            .header("idempotency-key", format!("scaleout-{i}"))
            .json(&body)
            .send()
            .await;
        let result = match result {
            Ok(response) => {
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                Ok((status, body))
            }
            Err(e) => Err(e),
        };
        load.record(instance, after_kill, "POST /tenant/analysis/run", &result);
        match result {
            Ok((StatusCode::ACCEPTED, answer)) => {
                return answer["id"].as_str().expect("an id").to_owned();
            }
            Ok((status, answer)) => panic!("queueing analysis {i}: {status} {answer}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("analysis {i} could not be queued on any instance");
}

async fn queuer(
    load: Arc<Load>,
    next: Arc<AtomicUsize>,
    mut killed: watch::Receiver<bool>,
    source: String,
) -> Vec<(usize, String)> {
    let http = reqwest::Client::new();
    let mut queued = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= ANALYSES {
            return queued;
        }
        if i >= BEFORE_KILL {
            tokio::time::timeout(Duration::from_secs(90), killed.wait_for(|k| *k))
                .await
                .expect("the kill within 90 s")
                .unwrap();
        }
        queued.push((i, queue_one(&load, &http, &source, i).await));
    }
}

/// `GET url` until `done` holds of the answer, for at most `PROPAGATION`;
/// the number of requests it took and how long.
async fn until(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    what: &str,
    done: impl Fn(StatusCode, &Value) -> bool,
) -> (usize, Duration) {
    let started = Instant::now();
    let mut requests = 0;
    loop {
        let (status, body) = call(http, Method::GET, url, Some(token), None)
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        requests += 1;
        if done(status, &body) {
            return (requests, started.elapsed());
        }
        assert!(
            started.elapsed() < PROPAGATION,
            "{url}: not {what} {PROPAGATION:?} after the change: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn has_feature(body: &Value, key: &str) -> bool {
    body["features"]
        .as_array()
        .is_some_and(|f| f.iter().any(|k| k == key))
}

/// Feature toggles and suspension, changed through instance 1, seen by
/// every instance.
///
/// An instance caches each tenant's config (here for an hour, the TTL set
/// by the harness); the instance that makes a change drops its entry at
/// once, and the change's transaction sends a PostgreSQL NOTIFY that every
/// other instance's listener receives at commit and drops its entry too.
/// That delivery is asynchronous: a request that reaches another instance
/// in the instant between the commit and the notification's arrival may
/// still see the old config. So the contract is "the next request after the
/// notification arrives", typically within milliseconds; we allow 2 s,
/// three orders of magnitude below the TTL, so nothing but the notification
/// can explain the change being seen.
async fn admin_changes_reach_every_instance(platform: &Platform, tenant: &Tenant) {
    let http = &tenant.http;
    let first = &platform.addresses[0];
    let feature = "plugin:winsorize";
    let me = |base: &String| format!("{base}/auth/me");
    for (on, label) in [(true, "switched on"), (false, "switched off")] {
        // Every instance caches the current config first.
        for base in &platform.addresses {
            let body = expect(
                http,
                Method::GET,
                &me(base),
                Some(&tenant.scientist),
                None,
                StatusCode::OK,
            )
            .await;
            assert_eq!(has_feature(&body, feature), !on, "{base}: {body}");
        }
        expect(
            http,
            Method::PUT,
            &format!("{first}/admin/tenants/{}/features/{feature}", tenant.id),
            Some(&tenant.admin),
            Some(&json!({ "enabled": on })),
            StatusCode::OK,
        )
        .await;
        // The instance that made the change sees it on the very next request.
        let body = expect(
            http,
            Method::GET,
            &me(first),
            Some(&tenant.scientist),
            None,
            StatusCode::OK,
        )
        .await;
        assert_eq!(has_feature(&body, feature), on, "instance 1: {body}");
        for (n, base) in platform.addresses.iter().enumerate().skip(1) {
            let (requests, took) = until(
                http,
                &me(base),
                &tenant.scientist,
                &format!("{feature} {label}"),
                |status, body| status == StatusCode::OK && has_feature(body, feature) == on,
            )
            .await;
            eprintln!(
                "{feature} {label} on instance 1: seen by instance {} on request {requests}, after {took:?}",
                n + 1
            );
        }
    }

    let tenant_url = format!("{first}/admin/tenants/{}", tenant.id);
    for base in &platform.addresses {
        expect(
            http,
            Method::GET,
            &me(base),
            Some(&tenant.scientist),
            None,
            StatusCode::OK,
        )
        .await;
    }
    expect(
        http,
        Method::PATCH,
        &tenant_url,
        Some(&tenant.admin),
        Some(&json!({ "status": "suspended" })),
        StatusCode::OK,
    )
    .await;
    for (n, base) in platform.addresses.iter().enumerate() {
        let (requests, took) = until(
            http,
            &format!("{base}/tenant/data/sources"),
            &tenant.scientist,
            "refused as suspended",
            |status, body| {
                status == StatusCode::FORBIDDEN && body["error"]["code"] == "tenant_suspended"
            },
        )
        .await;
        eprintln!(
            "suspended on instance 1: refused by instance {} on request {requests}, after {took:?}",
            n + 1
        );
        if n == 0 {
            assert_eq!(requests, 1, "instance 1 refuses the very next request");
        }
    }
    // Nor can a suspended tenant's user log in anywhere.
    for base in &platform.addresses {
        let (status, body) = call(
            http,
            Method::POST,
            &format!("{base}/auth/login"),
            None,
            Some(&json!({ "email": harness::SCIENTIST, "password": harness::PASSWORD, "tenant": harness::SLUG })),
        )
        .await
        .unwrap();
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("tenant_suspended")),
            "login on {base}: {body}"
        );
    }
    expect(
        http,
        Method::PATCH,
        &tenant_url,
        Some(&tenant.admin),
        Some(&json!({ "status": "active" })),
        StatusCode::OK,
    )
    .await;
    for base in &platform.addresses {
        until(
            http,
            &format!("{base}/tenant/data/sources"),
            &tenant.scientist,
            "served again",
            |status, _| status == StatusCode::OK,
        )
        .await;
    }
}

/// An analysis as stored, with its results.
struct Stored {
    id: String,
    status: String,
    attempts: i32,
    error: Option<Value>,
    /// Result rows (the primary key allows one).
    results: i64,
    /// Who stored the result: `<host>:<pid>#<n>`.
    worker: Option<String>,
}

impl sqlx::FromRow<'_, sqlx::postgres::PgRow> for Stored {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(Self {
            id: row.try_get("id")?,
            status: row.try_get("status")?,
            attempts: row.try_get("attempts")?,
            error: row.try_get("error")?,
            results: row.try_get("results")?,
            worker: row.try_get("worker")?,
        })
    }
}

/// The pid in a result's `worker` (`<host>:<pid>#<n>`).
fn worker_pid(worker: &str) -> u32 {
    let process = worker.split('#').next().unwrap();
    process.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn three_instances_and_two_workers_share_changes_and_lose_nothing_to_sigkill() {
    let started = Instant::now();
    let mut platform = Platform::start(Options {
        name: "test",
        serves: 3,
        workers: 2,
        workers_per_process: 2,
        lease_secs: 2.0,
        tenant_max_running: 16,
        rust_log: "info,sqlx=warn",
    })
    .await;
    let tenant = harness::setup(&platform.addresses[0]).await;
    let db = platform.superuser().await;

    admin_changes_reach_every_instance(&platform, &tenant).await;
    eprintln!("admin changes checked at {:?}", started.elapsed());

    let load = Arc::new(Load {
        addresses: platform.addresses.clone(),
        alive: platform
            .addresses
            .iter()
            .map(|_| AtomicBool::new(true))
            .collect(),
        killed: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        tallies: std::sync::Mutex::new(vec![Tally::default(); platform.addresses.len()]),
        token: tenant.scientist.clone(),
    });
    let loaders: Vec<_> = (0..LOADERS)
        .map(|t| tokio::spawn(load_generator(load.clone(), t)))
        .collect();
    let (killed_tx, killed_rx) = watch::channel(false);
    let next = Arc::new(AtomicUsize::new(0));
    let queuers: Vec<_> = (0..QUEUERS)
        .map(|_| {
            tokio::spawn(queuer(
                load.clone(),
                next.clone(),
                killed_rx.clone(),
                tenant.source.clone(),
            ))
        })
        .collect();

    // The kill: once the first half is queued and worker 2 has stored at
    // least one result, preferably while it holds a running analysis.
    let pids: Vec<u32> = platform.workers.iter().map(|w| w.pid()).collect();
    let killed_pattern = format!("%:{}#%", pids[KILLED_WORKER]);
    let kill_deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let queued: i64 = sqlx::query_scalar("select count(*) from analyses")
            .fetch_one(&db)
            .await
            .unwrap();
        let stored: i64 =
            sqlx::query_scalar("select count(*) from analysis_results where worker like $1")
                .bind(&killed_pattern)
                .fetch_one(&db)
                .await
                .unwrap();
        if queued >= BEFORE_KILL as i64 && stored >= 1 {
            break;
        }
        assert!(
            Instant::now() < kill_deadline,
            "no kill point within 90 s: {queued} queued, worker 2 stored {stored}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let holding_deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < holding_deadline {
        let holding: i64 = sqlx::query_scalar(
            "select count(*) from analyses where status = 'running' and lease_owner like $1",
        )
        .bind(&killed_pattern)
        .fetch_one(&db)
        .await
        .unwrap();
        if holding > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    load.alive[KILLED_SERVE].store(false, Ordering::SeqCst);
    load.killed.store(true, Ordering::SeqCst);
    platform.serves[KILLED_SERVE].signal("KILL");
    platform.workers[KILLED_WORKER].signal("KILL");
    let killed_at = Instant::now();
    platform.serves[KILLED_SERVE]
        .exit(Duration::from_secs(10))
        .await;
    platform.workers[KILLED_WORKER]
        .exit(Duration::from_secs(10))
        .await;
    // What the dead worker held: read once any commit it sent before dying
    // is surely done, and well before its lease (2 s) lets another take it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let interrupted: HashSet<String> = sqlx::query_scalar(
        "select id::text from analyses where status = 'running' and lease_owner like $1",
    )
    .bind(&killed_pattern)
    .fetch_all(&db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let done_at_kill: i64 =
        sqlx::query_scalar("select count(*) from analyses where status = 'succeeded'")
            .fetch_one(&db)
            .await
            .unwrap();
    killed_tx.send(true).unwrap();
    eprintln!(
        "killed instance 3 and worker 2 at {:?}: {done_at_kill} analyses done, {} running on worker 2",
        started.elapsed(),
        interrupted.len()
    );

    let mut ids: HashMap<String, usize> = HashMap::new();
    for q in queuers {
        for (i, id) in q.await.unwrap() {
            assert!(ids.insert(id.clone(), i).is_none(), "{id} queued twice");
        }
    }
    assert_eq!(ids.len(), ANALYSES, "one analysis per request");
    eprintln!("all {ANALYSES} queued at {:?}", started.elapsed());

    let finish_deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from analyses where status in ('queued', 'running')",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < finish_deadline,
            "{open} analyses still open 120 s after the last was queued"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let finished_at = Instant::now();
    load.stop.store(true, Ordering::SeqCst);
    let mut load_requests = 0;
    for l in loaders {
        load_requests += l.await.unwrap();
    }

    // Every analysis succeeded, with exactly one stored result.
    let rows: Vec<Stored> = sqlx::query_as(
        "select a.id::text as id, a.status, a.attempts, a.error,
                (select count(*) from analysis_results r
                  where r.tenant_id = a.tenant_id and r.analysis_id = a.id) as results,
                (select r.worker from analysis_results r
                  where r.tenant_id = a.tenant_id and r.analysis_id = a.id) as worker
         from analyses a",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(rows.len(), ANALYSES, "analyses in the database");
    let mut per_worker: BTreeMap<u32, usize> = BTreeMap::new();
    let mut retried = Vec::new();
    for Stored {
        id,
        status,
        attempts,
        error,
        results,
        worker,
    } in &rows
    {
        assert!(ids.contains_key(id), "{id} was not queued by this test");
        assert_eq!(
            (status.as_str(), *results),
            ("succeeded", 1),
            "analysis {id} (attempts {attempts}, error {error:?})"
        );
        let pid = worker_pid(worker.as_deref().unwrap());
        *per_worker.entry(pid).or_default() += 1;
        if *attempts > 1 {
            retried.push((id.clone(), *attempts, pid));
        }
    }
    eprintln!(
        "all {ANALYSES} succeeded {:?} after the kill, results per worker process {per_worker:?} \
         (worker 1 = {}, worker 2 = {}); {} analyses ran more than once: {retried:?}",
        finished_at - killed_at,
        pids[0],
        pids[1],
        retried.len()
    );
    assert_eq!(
        per_worker.keys().copied().collect::<Vec<_>>(),
        {
            let mut p = pids.clone();
            p.sort_unstable();
            p
        },
        "results come from both workers and nobody else"
    );
    for (id, attempts, pid) in &retried {
        assert!(
            interrupted.contains(id),
            "{id} took {attempts} attempts but was not on the killed worker"
        );
        assert_eq!(*pid, pids[0], "{id}: the surviving worker finished it");
    }
    for id in &interrupted {
        let worker = rows.iter().find(|r| &r.id == id).unwrap().worker.clone();
        assert_eq!(
            worker_pid(&worker.unwrap()),
            pids[0],
            "{id}, interrupted by the kill, was finished by worker 1"
        );
    }

    // HTTP: no 5xx (no non-2xx at all) anywhere; connection errors only
    // from the killed instance; the survivors kept serving after the kill.
    let tallies = load.tallies.lock().unwrap().clone();
    for (n, tally) in tallies.iter().enumerate() {
        eprintln!("instance {}: {tally:?}", n + 1);
    }
    eprintln!("load generator: {load_requests} requests");
    for (n, tally) in tallies.iter().enumerate() {
        assert_eq!(
            tally.server_errors(),
            0,
            "5xx from instance {}: {:?}",
            n + 1,
            tally.examples
        );
        assert_eq!(
            tally.non_success(),
            0,
            "non-2xx from instance {}: {:?}",
            n + 1,
            tally.examples
        );
        if n != KILLED_SERVE {
            assert_eq!(
                tally.connection_errors,
                0,
                "connection errors from surviving instance {}: {:?}",
                n + 1,
                tally.examples
            );
            assert!(
                tally.after_kill > 0,
                "instance {} served nothing after the kill",
                n + 1
            );
        }
    }
    let survivors_served: usize = tallies
        .iter()
        .enumerate()
        .filter(|(n, _)| *n != KILLED_SERVE)
        .map(|(_, t)| t.by_status.values().sum::<usize>())
        .sum();
    assert!(survivors_served > 0);

    let problems = platform.problems();
    eprintln!("{} warning or error log lines", problems.len());
    for line in problems.iter().take(30) {
        eprintln!("  {line}");
    }

    db.close().await;
    platform.shutdown().await;
    eprintln!("scale-out test done in {:?}", started.elapsed());
}
