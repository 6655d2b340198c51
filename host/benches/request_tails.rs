//! Request tails on one `mmm serve` (this build, its own PostgreSQL, no
//! workers): `wrk` with 2 threads and 32 connections for 10 s on
//! `GET /healthz`, `GET /tenant/data/sources` and `GET /auth/me`, printing
//! requests per second, p50 and p99 of each; beside them pgbench with 32
//! clients on the same cluster running the SQL the sources route sends,
//! as it sent it before (five statements) and as it sends it now (three
//! round trips, the last of which the request does not wait for).
//!
//! Needs `wrk` (Debian package `wrk`); pgbench comes with PostgreSQL.
//! `cargo bench -p mmm-host --bench request_tails`

#[path = "../tests/scaleout/harness.rs"]
mod harness;

use std::path::Path;
use std::process::Command;

use harness::{Options, Platform};

const THREADS: &str = "2";
const CONNECTIONS: &str = "32";
const SECONDS: &str = "10";

/// The listing's SQL as in `db::data_sources::list_latest` (no name filter,
/// the first page of 20).
const LATEST: &str = "select distinct on (name) * from data_sources \
     where (null::text is null or name = null::text) order by name, version desc";
const COLUMNS: &str = "id, name, version, roles, granularity, currency, row_count as rows, \
     date_from, date_to, columns, warnings, sha256, size_bytes, uploaded_by, created_at";

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("request_tails needs wrk: apt-get install wrk");
        std::process::exit(2);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}

async fn bench() {
    let platform = Platform::start(Options {
        name: "tails",
        serves: 1,
        workers: 0,
        workers_per_process: 1,
        lease_secs: 30.0,
        tenant_max_running: 2,
        rust_log: "warn",
    })
    .await;
    let base = platform.addresses[0].clone();
    let tenant = harness::setup(&base).await;
    println!(
        "wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s against one release `mmm serve`; \
         pgbench -c{CONNECTIONS} -j{THREADS} -T{SECONDS} on its cluster"
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>8}",
        "", "req/s", "p50 ms", "p99 ms", "p99/p50"
    );
    for (path, token) in [
        ("/healthz", None),
        ("/tenant/data/sources", Some(&tenant.scientist)),
        ("/auth/me", Some(&tenant.scientist)),
    ] {
        let figures = wrk(&format!("{base}{path}"), token.map(String::as_str));
        println!(
            "{:<34} {:>9.0} {:>9.2} {:>9.2} {:>8.1}",
            format!("GET {path}"),
            figures.per_second,
            figures.p50_ms,
            figures.p99_ms,
            figures.p99_ms / figures.p50_ms
        );
    }
    let page = format!(
        "select {COLUMNS} from ({LATEST}) l order by created_at desc, name limit 20 offset 0;"
    );
    let before = format!(
        "begin;\nselect set_config('app.tenant_id', '{id}', true);\n{page}\n\
         select count(*) from ({LATEST}) l;\ncommit;\n",
        id = tenant.id
    );
    let now = format!(
        "begin \\; select set_config('app.tenant_id', '{id}', true);\n\
         select {COLUMNS}, count(*) over () as total from ({LATEST}) l \
         order by created_at desc, name limit 20 offset 0;\nrollback;\n",
        id = tenant.id
    );
    for (label, script) in [
        ("pgbench: sources SQL, 5 trips", before),
        ("pgbench: sources SQL, 3 trips", now),
    ] {
        let (tps, average_ms) = pgbench(&platform, &script);
        println!("{label:<34} {tps:>9.0} (transactions/s; average latency {average_ms:.2} ms)");
    }
    platform.shutdown().await;
}

struct Figures {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// One wrk run on `url`; its requests per second and latency percentiles.
fn wrk(url: &str, token: Option<&str>) -> Figures {
    let mut command = Command::new("wrk");
    command.args([
        "-t",
        THREADS,
        "-c",
        CONNECTIONS,
        "-d",
        &format!("{SECONDS}s"),
        "--latency",
    ]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let output = command.arg(url).output().expect("run wrk");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk {url}: {text}");
    assert!(
        !text.contains("Non-2xx"),
        "wrk {url} got error responses:\n{text}"
    );
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in wrk's output:\n{text}"))
            .trim()
            .to_owned()
    };
    Figures {
        per_second: field("Requests/sec:").parse().unwrap(),
        p50_ms: milliseconds(&field("50%")),
        p99_ms: milliseconds(&field("99%")),
    }
}

/// wrk's `12.34ms`, `567.00us` or `1.20s` in milliseconds.
fn milliseconds(value: &str) -> f64 {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().unwrap();
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        other => panic!("wrk latency unit {other:?}"),
    }
}

/// pgbench on the platform's cluster as the owner role (row-level security
/// is forced, so it binds the owner as it binds the request role), running
/// `script`; transactions per second and average latency.
fn pgbench(platform: &Platform, script: &str) -> (f64, f64) {
    let file = platform.root.join("pgbench.sql");
    std::fs::write(&file, script).unwrap();
    let output = Command::new(pgbench_binary())
        .args([
            "-n",
            "-M",
            "simple",
            "-c",
            CONNECTIONS,
            "-j",
            THREADS,
            "-T",
            SECONDS,
        ])
        .arg("-f")
        .arg(&file)
        .arg(&platform.database_url)
        .output()
        .expect("run pgbench");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let number = |prefix: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `{prefix}` in pgbench's output:\n{text}"))
            .parse()
            .unwrap()
    };
    (number("tps = "), number("latency average = "))
}

/// pgbench beside the cluster's own binaries.
fn pgbench_binary() -> std::path::PathBuf {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin/pgbench"))
        .find(|path| path.is_file());
    found.unwrap_or_else(|| Path::new("pgbench").to_owned())
}
