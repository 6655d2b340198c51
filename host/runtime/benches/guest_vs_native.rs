//! The same transform in the guest and natively: geometric adstock + Hill
//! saturation on every numeric column (the `adstock-bench` plugin), on
//! 156 weeks × 50 columns and on 10 000 rows × 50 columns. Prints medians and
//! the guest/native ratios (target: guest/native at most 1.5×).
//!
//! Three timings per size, all on the same input bytes and params:
//! - guest: `Runtime::transform` of the plugin, the whole call (instantiate,
//!   copy in, SDK decode, transform, SDK encode, copy out, output validation);
//! - native, SDK path: the same plugin function through the SDK's own glue
//!   on the host (decode the IPC bytes, transform, encode), no sandbox;
//! - native, kernel only: the plugin's per-column function on columns
//!   already in `Vec<f64>`s, no Arrow at all.
//!
//! Run: `cargo bench -p mmm-runtime --bench guest_vs_native`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use adstock_bench::{Params, adstock_bench, transform_column};
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use mmm_runtime::{CallOptions, Runtime};

const COLUMNS: usize = 50;
const PARAMS: &str = r#"{"theta": 0.6, "alpha": 2.0, "gamma": 0.4}"#;

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
    let plugin = common::load(&runtime, "adstock-bench").await;
    let params: Params = serde_json::from_str(PARAMS).unwrap();

    for (rows, iterations) in [(156, 2_000), (10_000, 200)] {
        let columns = data(rows);
        let input = Bytes::from(common::to_ipc(&[batch(&columns)]));

        // Same answer both ways before timing anything (to the last few
        // ulps: the guest's `powf` is Rust's libm, the host's is the C library's).
        let guest_out = guest(&runtime, &plugin, input.clone()).await;
        let native_out = mmm_sdk::__private::transform(input.to_vec(), PARAMS, adstock_bench)
            .expect("native transform");
        assert_close(&guest_out, &native_out);

        let guest_t = time_async(iterations, || {
            let (runtime, plugin, input) = (&runtime, &plugin, input.clone());
            async move {
                std::hint::black_box(guest(runtime, plugin, input).await);
            }
        })
        .await;
        let native_sdk = time(iterations, || {
            let out = mmm_sdk::__private::transform(input.to_vec(), PARAMS, adstock_bench)
                .expect("native transform");
            std::hint::black_box(out);
        });
        let native_kernel = time(iterations, || {
            let mut columns = columns.clone();
            for column in &mut columns {
                transform_column(column, &params).expect("kernel");
            }
            std::hint::black_box(columns);
        });

        let name = format!("{rows} rows × {COLUMNS} columns");
        report(&format!("{name}: guest (whole call)"), guest_t);
        report(&format!("{name}: native, SDK path"), native_sdk);
        report(&format!("{name}: native, kernel only"), native_kernel);
        println!(
            "{name}: guest/native = {:.2}× (vs SDK path), {:.2}× (vs kernel only)",
            ratio(guest_t, native_sdk),
            ratio(guest_t, native_kernel),
        );
    }
}

fn assert_close(guest: &[u8], native: &[u8]) {
    let (guest, native) = (common::from_ipc(guest), common::from_ipc(native));
    assert_eq!(guest.len(), native.len());
    for (g, n) in guest.iter().zip(&native) {
        assert_eq!(g.schema(), n.schema());
        for (g, n) in g.columns().iter().zip(n.columns()) {
            let (g, n) = (
                g.as_primitive::<Float64Type>(),
                n.as_primitive::<Float64Type>(),
            );
            for (g, n) in g.values().iter().zip(n.values()) {
                assert!(
                    (g - n).abs() <= 1e-12 * n.abs().max(1.0),
                    "guest {g} vs native {n}"
                );
            }
        }
    }
}

/// Positive, spiky spend series, different per column.
fn data(rows: usize) -> Vec<Vec<f64>> {
    (0..COLUMNS)
        .map(|c| {
            (0..rows)
                .map(|t| {
                    let phase = (t * (c + 3) % 17) as f64;
                    100.0 + 50.0 * phase + if t % (c + 7) == 0 { 400.0 } else { 0.0 }
                })
                .collect()
        })
        .collect()
}

fn batch(columns: &[Vec<f64>]) -> RecordBatch {
    let fields: Vec<Field> = (0..columns.len())
        .map(|c| Field::new(format!("channel_{c}"), DataType::Float64, false))
        .collect();
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| Arc::new(Float64Array::from(c.clone())) as ArrayRef)
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

async fn guest(runtime: &Runtime, plugin: &mmm_runtime::LoadedPlugin, input: Bytes) -> Vec<u8> {
    runtime
        .transform(plugin, input, PARAMS, CallOptions::labelled("bench"))
        .await
        .expect("the call succeeds")
}

fn time(iterations: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..iterations.div_ceil(10) {
        f();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

async fn time_async<F, Fut>(iterations: usize, mut f: F) -> Duration
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
    samples[samples.len() / 2]
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn report(name: &str, median: Duration) {
    println!("{name:<50} median {median:>10.1?}");
}
