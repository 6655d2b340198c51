//! Shared test setup: the real plugins built to wasm once per test binary,
//! a runtime, and Arrow helpers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use mmm_runtime::{LoadedPlugin, Runtime, RuntimeConfig};

/// Every plugin the host's build script builds, not only the ones these
/// tests load: cargo unifies features over the packages named on its command
/// line, so building a subset into the same target dir resolves some
/// dependencies differently (num-complex without `bytemuck`), rebuilds them
/// and rewrites the `.wasm` files the host embeds, which then relinks the
/// host. The same list as `host/build.rs` makes this build a no-op there.
const PLUGINS: [&str; 8] = [
    "impute",
    "winsorize",
    "ridge-mmm",
    "bayes-mmm",
    "identity",
    "hostile",
    "adstock-bench",
    "legacy-model",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Directory holding `<name>.wasm` for every test plugin. Uses
/// `MMM_PLUGIN_DIR` when it already holds them all (a CI script may prebuild
/// them); otherwise builds them with cargo into `target/plugins`, a target
/// dir of its own so the outer `cargo test` lock is never waited on.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("MMM_PLUGIN_DIR").map(PathBuf::from)
            && PLUGINS.iter().all(|p| dir.join(file_name(p)).is_file())
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
        for plugin in PLUGINS {
            command.args(["-p", plugin]);
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "building the test plugins failed");
        target.join("wasm32-wasip2/release")
    })
}

/// Cargo names a library's artifact after its crate: dashes become underscores.
fn file_name(plugin: &str) -> String {
    format!("{}.wasm", plugin.replace('-', "_"))
}

/// The bytes of one built plugin.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = plugin_dir().join(file_name(name));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compiled components shared on disk by every test runtime (and by later
/// runs): compiling a plugin takes seconds, loading it from disk
/// milliseconds, and most tests are about calls rather than compiling.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// A runtime with default limits and the shared disk cache.
pub fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(shared_cache_dir()),
        ..RuntimeConfig::default()
    })
    .expect("runtime starts")
}

/// A runtime with default limits that compiles every component it loads
/// (no disk cache), for the tests of compiling and caching.
pub fn uncached_runtime() -> Runtime {
    Runtime::new(RuntimeConfig::default()).expect("runtime starts")
}

pub async fn load(runtime: &Runtime, name: &str) -> LoadedPlugin {
    runtime.load(wasm(name)).await.expect("plugin loads")
}

/// Serialises batches as one uncompressed Arrow IPC stream.
pub fn to_ipc(batches: &[RecordBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = StreamWriter::try_new(&mut out, &batches[0].schema()).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    drop(writer);
    out
}

/// Reads every batch of an Arrow IPC stream.
pub fn from_ipc(bytes: &[u8]) -> Vec<RecordBatch> {
    StreamReader::try_new(bytes, None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A shareable runtime for concurrent tests.
pub fn shared_runtime() -> Arc<Runtime> {
    Arc::new(runtime())
}
