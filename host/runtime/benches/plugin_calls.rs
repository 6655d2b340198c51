//! Plugin call benchmarks: fixed cost of one identity call on a tiny batch and
//! identity throughput on a 32 MB batch. Prints median and p95.
//!
//! Run: `cargo bench -p mmm-runtime` (builds the plugins to wasm first, or
//! uses `MMM_PLUGIN_DIR`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use mmm_runtime::{CallOptions, LoadedPlugin, Runtime};

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(run());
}

async fn run() {
    let runtime = common::runtime();
    let identity = common::load(&runtime, "identity").await;

    let tiny = Bytes::from(common::to_ipc(&[batch(1)]));
    let fixed = time(2_000, || call(&runtime, &identity, tiny.clone(), "{}")).await;
    report("identity call, 1-row batch (fixed cost)", &fixed, None);

    let rows = 32 << 20 >> 4; // two 8-byte columns: 32 MiB of values
    let big = Bytes::from(common::to_ipc(&[batch(rows)]));
    let mib = big.len() as f64 / (1 << 20) as f64;
    let bulk = time(20, || call(&runtime, &identity, big.clone(), "{}")).await;
    report(
        &format!("identity call, {mib:.1} MiB batch"),
        &bulk,
        Some(big.len()),
    );

    // The hostile plugin's `echo` mode hands the bytes back without parsing
    // them: what is left is the runtime's own share (copy in, copy out,
    // output validation), without the SDK's Arrow decode and encode.
    let hostile = common::load(&runtime, "hostile").await;
    let echo = r#"{"mode": "echo"}"#;
    let tiny_echo = time(2_000, || call(&runtime, &hostile, tiny.clone(), echo)).await;
    report("echo call, 1-row batch (runtime only)", &tiny_echo, None);
    let bulk_echo = time(20, || call(&runtime, &hostile, big.clone(), echo)).await;
    report(
        &format!("echo call, {mib:.1} MiB batch (runtime only)"),
        &bulk_echo,
        Some(big.len()),
    );
}

fn batch(rows: usize) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("spend", DataType::Float64, false),
        Field::new("clicks", DataType::Int64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| i as f64 * 0.5),
            )),
            Arc::new(Int64Array::from_iter_values(0..rows as i64)),
        ],
    )
    .unwrap()
}

async fn call(runtime: &Runtime, plugin: &LoadedPlugin, input: Bytes, params: &str) {
    let out = runtime
        .transform(plugin, input, params, CallOptions::labelled("bench"))
        .await
        .expect("the call succeeds");
    std::hint::black_box(out);
}

async fn time<F, Fut>(iterations: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..iterations.div_ceil(10) {
        f().await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        f().await;
        samples.push(start.elapsed());
    }
    samples.sort();
    samples
}

fn report(name: &str, sorted: &[Duration], bytes: Option<usize>) {
    let median = sorted[sorted.len() / 2];
    let p95 = sorted[sorted.len() * 95 / 100];
    let mut line = format!("{name:<45} median {median:>10.1?}  p95 {p95:>10.1?}");
    if let Some(bytes) = bytes {
        let gbps = bytes as f64 / median.as_secs_f64() / 1e9;
        line.push_str(&format!(
            "  throughput {gbps:.2} GB/s (input bytes / median)"
        ));
    }
    println!("{line}");
}
