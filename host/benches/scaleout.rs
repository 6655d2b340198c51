//! Scale-out figures: the test's topology (one PostgreSQL, three
//! `mmm serve`, two idle `mmm worker`s, all child processes on loopback),
//! and at a fixed concurrency the requests per second and p50/p99 latency
//! of `GET /tenant/data/sources` and `GET /auth/me` round-robin over the
//! three instances, each against a bare axum handler (`GET /` answering a
//! short body) measured in the same run, in a process of its own (this
//! binary re-executed with `--bare-server`), so that it shares neither the
//! load generator's runtime nor its cores' scheduling advantages.
//!
//! `cargo bench -p mmm-host --bench scaleout`

#[path = "../tests/scaleout/harness.rs"]
mod harness;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Options, Platform, percentile};
use reqwest::StatusCode;

/// Connections (one sequential client task each) and requests per
/// connection: the same fixed work for every endpoint.
const CONNECTIONS: usize = 32;
const REQUESTS_PER_CONNECTION: usize = 500;
const WARM_UP_PER_CONNECTION: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bare-server") {
        bare_server();
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}

/// `GET /` → `ok`, on an ephemeral port it prints, until stdin closes.
fn bare_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("listening {}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let parent_gone = async {
            // The parent holds our stdin; EOF means it is done (or gone).
            let _ = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            })
            .await;
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(parent_gone)
            .await
            .unwrap();
    });
}

struct Figures {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `CONNECTIONS` tasks, each with its own client, each sending
/// `REQUESTS_PER_CONNECTION` GETs of `path` round-robin over `bases`
/// (starting at a different instance per task), after a warm-up.
async fn measure(bases: &[String], path: &str, token: Option<&str>) -> Figures {
    let run = |count: usize| {
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let urls: Vec<String> = bases.iter().map(|b| format!("{b}{path}")).collect();
                let token = token.map(str::to_owned);
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    let mut latencies = Vec::with_capacity(count);
                    for n in 0..count {
                        let url = &urls[(c + n) % urls.len()];
                        let mut request = http.get(url);
                        if let Some(token) = &token {
                            request = request.bearer_auth(token);
                        }
                        let started = Instant::now();
                        let response = request.send().await.unwrap();
                        let status = response.status();
                        let body = response.bytes().await.unwrap();
                        latencies.push(started.elapsed());
                        assert_eq!(
                            status,
                            StatusCode::OK,
                            "GET {url}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    latencies
                })
            })
            .collect();
        async move {
            let started = Instant::now();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            (all, started.elapsed())
        }
    };
    run(WARM_UP_PER_CONNECTION).await;
    let (mut latencies, took) = run(REQUESTS_PER_CONNECTION).await;
    latencies.sort_unstable();
    Figures {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / took.as_secs_f64(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn bench() {
    let platform = Platform::start(Options {
        name: "bench",
        serves: 3,
        workers: 2,
        workers_per_process: 1,
        lease_secs: 30.0,
        tenant_max_running: 2,
        rust_log: "info,sqlx=warn",
    })
    .await;
    let tenant = harness::setup(&platform.addresses[0]).await;

    let mut bare = Command::new(std::env::current_exe().unwrap())
        .arg("--bare-server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the bare server");
    let mut line = String::new();
    BufReader::new(bare.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("bare server said {line:?}"));
    let bare_base = vec![format!("http://127.0.0.1:{port}")];

    // Bare first and last: the ratio uses their mean, so drift over the
    // run (other load on the machine) shows as their difference.
    let bare_before = measure(&bare_base, "/", None).await;
    let sources = measure(
        &platform.addresses,
        "/tenant/data/sources",
        Some(&tenant.scientist),
    )
    .await;
    let me = measure(&platform.addresses, "/auth/me", Some(&tenant.scientist)).await;
    let bare_after = measure(&bare_base, "/", None).await;
    drop(bare.stdin.take());
    let _ = bare.wait();

    let bare_rps = (bare_before.per_second + bare_after.per_second) / 2.0;
    let bare_p50 = (ms(bare_before.p50) + ms(bare_after.p50)) / 2.0;
    let bare_p99 = (ms(bare_before.p99) + ms(bare_after.p99)) / 2.0;
    println!(
        "\nscale-out: 3 × mmm serve (round-robin) + 2 idle mmm worker + 1 PostgreSQL on {} cores; \
         {CONNECTIONS} connections × {REQUESTS_PER_CONNECTION} requests (after {WARM_UP_PER_CONNECTION} warm-up each)\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "endpoint", "req/s", "p50 ms", "p99 ms", "req/s ÷", "p50 ×", "p99 ×"
    );
    let row = |name: &str, f: &Figures| {
        println!(
            "{:<38} {:>9.0} {:>9.2} {:>9.2} {:>10.3} {:>10.1} {:>10.1}",
            name,
            f.per_second,
            ms(f.p50),
            ms(f.p99),
            f.per_second / bare_rps,
            ms(f.p50) / bare_p50,
            ms(f.p99) / bare_p99
        );
    };
    row("GET / bare axum (before)", &bare_before);
    row("GET / bare axum (after)", &bare_after);
    row("GET /tenant/data/sources (3 instances)", &sources);
    row("GET /auth/me (3 instances)", &me);
    println!(
        "\nratios against the bare handler's mean of before and after ({bare_rps:.0} req/s, \
         p50 {bare_p50:.2} ms, p99 {bare_p99:.2} ms); {} requests per row",
        sources.requests
    );
    platform.shutdown().await;
}
