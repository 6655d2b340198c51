//! The process's Prometheus recorder and the `/metrics` listener.
//!
//! Every metric the platform records is named here, so the operator's
//! guide (README) and the code cannot drift apart silently. Labels are
//! bounded: route templates (never raw paths), plugin names (bounded by
//! what is published), models, statuses. Tenant ids never label request
//! metrics: their number grows with the customer base, not with config.

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

pub const HTTP_REQUESTS: &str = "mmm_http_requests_total";
pub const HTTP_DURATION: &str = "mmm_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "mmm_http_requests_in_flight";
pub const RATE_LIMITED: &str = "mmm_rate_limited_total";
pub const SHED: &str = "mmm_requests_shed_total";
pub const ANALYSES: &str = "mmm_analyses";
pub const ANALYSES_FINISHED: &str = "mmm_analyses_finished_total";
pub const QUEUE_DEPTH: &str = "mmm_queue_depth";
pub const QUEUE_OLDEST_AGE: &str = "mmm_queue_oldest_age_seconds";
pub const TENANT_CACHE: &str = "mmm_tenant_cache_requests_total";
pub const ACCOUNT_CACHE: &str = "mmm_account_cache_requests_total";
pub const DB_CONNECTIONS: &str = "mmm_db_pool_connections";
pub const DB_WAITING: &str = "mmm_db_pool_waiting";
pub const DB_ACQUIRE: &str = "mmm_db_pool_acquire_seconds";
/// Recorded by the plugin runtime (`mmm-runtime`), named here for the guide.
pub const PLUGIN_CALLS: &str = mmm_runtime::metrics::CALLS;

/// Latency buckets from a cached read (~1 ms) to a long fit (minutes).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Plugin memory peaks from 1 MiB to 4 GiB.
const BYTES_BUCKETS: &[f64] = &[
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
    268_435_456.0,
    1_073_741_824.0,
    4_294_967_296.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder, installed on first use. Idempotent, because
/// tests build many applications in one process and the `metrics` facade
/// takes one global recorder.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_bytes".into()), BYTES_BUCKETS))
            .expect("the bucket lists are not empty")
            .install_recorder()
            .unwrap_or_else(|_| {
                // Another recorder was installed first (only possible in a
                // host embedding this crate): record into a private one.
                PrometheusBuilder::new().build_recorder().handle()
            });
        describe();
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency, by method, route template and status"
    );
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being served now");
    describe_counter!(
        RATE_LIMITED,
        "Requests refused with 429 by a rate limit, by scope (tenant, auth)"
    );
    describe_counter!(
        SHED,
        "Requests refused with 503 because a pool or the queue was full, by resource"
    );
    describe_gauge!(
        ANALYSES,
        "Analyses queued or running now (all tenants), by status and model"
    );
    describe_counter!(
        ANALYSES_FINISHED,
        "Analyses this process's workers finished, by model and status (succeeded, failed, cancelled)"
    );
    describe_gauge!(
        QUEUE_DEPTH,
        "Analyses queued and due (all tenants): what workers could take now"
    );
    describe_gauge!(
        QUEUE_OLDEST_AGE,
        Unit::Seconds,
        "How long the oldest due, queued analysis has waited"
    );
    describe_counter!(
        TENANT_CACHE,
        "Tenant-config cache lookups, by result (hit, miss)"
    );
    describe_counter!(
        ACCOUNT_CACHE,
        "Per-user revocation-check cache lookups, by result (hit, miss)"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Database pool connections, by pool (app, platform) and state (in_use, idle)"
    );
    describe_gauge!(
        DB_WAITING,
        "Requests waiting for a database connection now, by pool"
    );
    describe_histogram!(
        DB_ACQUIRE,
        Unit::Seconds,
        "Time to get a database connection, by pool"
    );
    mmm_runtime::metrics::describe();
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = handle();
    let router = Router::new().route(
        "/metrics",
        get(move || async move {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                handle.render(),
            )
        }),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the metrics address, or says which address could not be bound.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics address {addr} (set --metrics-bind)"))
}

/// Holds one unit of a gauge while alive: the count falls again however the
/// holder ends, also when its future is dropped mid-await.
pub struct Held(metrics::Gauge);

impl Held {
    pub fn new(gauge: metrics::Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
