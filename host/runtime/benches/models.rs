//! The two model plugins, `ridge-mmm` and `bayes-mmm`, fitted in the sandbox
//! and natively on the same data: mmm-synth's default dataset (seed 1,
//! 156 weeks × 5 channels + 2 controls) at each model's default params.
//! Prints best-of-N fit times, the guest/native ratio (target: at most
//! 1.5×) and, for bayes-mmm, gradient evaluations per second (from its
//! summary's `sampler.gradient_evaluations`, divided by the fit time).
//!
//! - guest: `Runtime::fit` of the wasm component, one call at a time, the
//!   whole call (instantiate, copy in, SDK decode, fit, SDK encode, copy
//!   out, output validation). The component is loaded (compiled, `info()`
//!   called) once before timing, so compilation is excluded.
//! - native: the crate's `fit` called directly on a `Table`, as the plugins'
//!   own `benches/fit.rs` do (no Arrow IPC, no sandbox).
//!
//! Run: `cargo bench -p mmm-runtime --bench models`. Environment:
//! `MODELS_BENCH_N` (default 3) fits per timing; `MODELS_BENCH_ONLY=ridge-mmm`
//! (or `bayes-mmm`) runs one model; `MMM_PLUGIN_DIR` a directory already
//! holding `ridge_mmm.wasm` and `bayes_mmm.wasm` (otherwise they are built
//! with cargo into `target/plugins`, as the runtime's tests do).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mmm_runtime::{CallOptions, Runtime, RuntimeConfig};
use mmm_sdk::prelude::{Roles, Table};
use mmm_synth::{Dataset, SynthConfig, generate};

const MODELS: [&str; 2] = ["ridge-mmm", "bayes-mmm"];
/// Default params for both models.
const PARAMS: &str = "{}";

fn main() {
    let n: usize = std::env::var("MODELS_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let only = std::env::var("MODELS_BENCH_ONLY").ok();
    let models: Vec<&str> = MODELS
        .into_iter()
        .filter(|m| only.as_deref().is_none_or(|o| o == *m))
        .collect();
    assert!(!models.is_empty(), "MODELS_BENCH_ONLY names no model");

    let data = generate(&SynthConfig {
        seed: 1,
        ..SynthConfig::default()
    });
    let (table, roles) = (table(&data), roles(&data));
    let input = bytes::Bytes::from(table.to_ipc().expect("IPC"));
    let dir = plugin_dir(&models);

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime starts");

    println!(
        "data: {} weeks × {} channels + {} controls; params {PARAMS}; best of {n}",
        data.dates.len(),
        data.media.len(),
        data.controls.len()
    );
    let mut rows = Vec::new();
    for model in models {
        let wasm = std::fs::read(dir.join(file_name(model))).expect("plugin built");
        let started = Instant::now();
        let plugin = tokio
            .block_on(runtime.load(wasm))
            .unwrap_or_else(|e| panic!("{model} loads: {e}"));
        println!("{model}: load (compile + info) {:.2?}", started.elapsed());

        let guest = best_of(n, || {
            let out = tokio
                .block_on(runtime.fit(
                    &plugin,
                    input.clone(),
                    runtime_roles(&roles),
                    PARAMS,
                    CallOptions::labelled("bench"),
                ))
                .unwrap_or_else(|e| panic!("{model} guest fit: {e}"));
            serde_json::from_str::<serde_json::Value>(&out.summary).expect("summary JSON")
        });
        let native = best_of(n, || native_fit(model, &table, &roles));
        println!(
            "{model}: guest {:.3} s, native {:.3} s",
            guest.time.as_secs_f64(),
            native.time.as_secs_f64()
        );
        rows.push(Row {
            model,
            gradients: gradients(&guest.summary).zip(gradients(&native.summary)),
            guest,
            native,
        });
    }

    println!();
    println!(
        "{:<10} {:>12} {:>12} {:>13} {:>14} {:>14}",
        "model", "guest fit", "native fit", "guest/native", "guest grad/s", "native grad/s"
    );
    for row in &rows {
        let (g, n) = (row.guest.time.as_secs_f64(), row.native.time.as_secs_f64());
        let (guest_rate, native_rate) = match row.gradients {
            Some((gg, ng)) => (format!("{:.0}", gg / g), format!("{:.0}", ng / n)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "{:<10} {:>10.3} s {:>10.3} s {:>12.2}× {:>14} {:>14}",
            row.model,
            g,
            n,
            g / n,
            guest_rate,
            native_rate
        );
        if let Some((gg, ng)) = row.gradients {
            // Same seed, same data: the guest and the host should take the same
            // path through the sampler (its `powf`/`exp` are Rust's libm in the
            // guest, the C library's natively, so a few ulps can change it).
            println!(
                "{:<10} gradient evaluations: guest {gg:.0}, native {ng:.0}",
                ""
            );
        }
    }
}

struct Row {
    model: &'static str,
    guest: Timed,
    native: Timed,
    /// Gradient evaluations (guest, native), for a model that reports them.
    gradients: Option<(f64, f64)>,
}

/// The best time of N runs and the summary of the last.
struct Timed {
    time: Duration,
    summary: serde_json::Value,
}

fn best_of(n: usize, mut fit: impl FnMut() -> serde_json::Value) -> Timed {
    let mut best = Duration::MAX;
    let mut summary = serde_json::Value::Null;
    for _ in 0..n {
        let started = Instant::now();
        summary = std::hint::black_box(fit());
        best = best.min(started.elapsed());
    }
    Timed {
        time: best,
        summary,
    }
}

fn gradients(summary: &serde_json::Value) -> Option<f64> {
    summary["sampler"]["gradient_evaluations"].as_f64()
}

/// One native fit at default params, its summary as JSON.
fn native_fit(model: &str, table: &Table, roles: &Roles) -> serde_json::Value {
    match model {
        "ridge-mmm" => {
            let params: ridge_mmm::Params = mmm_sdk::params::parse(PARAMS).unwrap();
            ridge_mmm::fit(table, roles, &params, &[], |_, _| Ok(()))
                .expect("native ridge-mmm fit")
                .summary
        }
        "bayes-mmm" => {
            let params: bayes_mmm::Params = mmm_sdk::params::parse(PARAMS).unwrap();
            bayes_mmm::fit(table, roles, &params, &[], |_, _| Ok(()))
                .expect("native bayes-mmm fit")
                .summary
        }
        other => unreachable!("{other}"),
    }
}

fn table(data: &Dataset) -> Table {
    let mut t = Table::new();
    t.set_dates("date", &data.dates).unwrap();
    t.set_f64(&data.kpi_name, data.kpi.clone()).unwrap();
    for (name, values) in data.media.iter().chain(&data.controls) {
        t.set_f64(name, values.clone()).unwrap();
    }
    t
}

fn roles(data: &Dataset) -> Roles {
    let r = data.roles();
    Roles {
        date: r.date,
        kpi: r.kpi,
        media: r.media,
        controls: r.controls,
    }
}

fn runtime_roles(roles: &Roles) -> mmm_runtime::Roles {
    mmm_runtime::Roles {
        date: roles.date.clone(),
        kpi: roles.kpi.clone(),
        media: roles.media.clone(),
        controls: roles.controls.clone(),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Cargo names a library's artifact after its crate: dashes become underscores.
fn file_name(plugin: &str) -> String {
    format!("{}.wasm", plugin.replace('-', "_"))
}

/// `MMM_PLUGIN_DIR` when it holds every model; otherwise builds them
/// (`cargo build --release --target wasm32-wasip2`) into `target/plugins`,
/// a target dir of its own so the outer `cargo bench` lock is not waited on.
fn plugin_dir(models: &[&str]) -> PathBuf {
    if let Some(dir) = std::env::var_os("MMM_PLUGIN_DIR").map(PathBuf::from)
        && models.iter().all(|m| dir.join(file_name(m)).is_file())
    {
        return dir;
    }
    let target = workspace_root().join("target/plugins");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "--release", "--target", "wasm32-wasip2"]);
    for model in models {
        command.args(["-p", model]);
    }
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "building the model plugins failed");
    target.join("wasm32-wasip2/release")
}
