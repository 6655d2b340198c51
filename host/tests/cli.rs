//! The `mmm plugin` command line as a user runs it: a separate process each time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ridge_mmm() -> PathBuf {
    workspace().join("target/plugins/wasm32-wasip2/release/ridge_mmm.wasm")
}

/// `mmm plugin run` of ridge-mmm on the example data, with `cache` as `MMM_CACHE_DIR`.
fn fit(cache: &Path, out: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_mmm"))
        .args(["plugin", "run"])
        .arg(ridge_mmm())
        .arg("--data")
        .arg(workspace().join("examples/synthetic-156w.csv"))
        .arg("--roles")
        .arg(workspace().join("examples/roles.json"))
        .args(["--params", r#"{"budget": 300}"#, "--out"])
        .arg(out)
        .env("MMM_CACHE_DIR", cache)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(out.join("summary.json").is_file());
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn cached_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
                .collect()
        })
        .unwrap_or_default()
}

/// The first run compiles the component and stores it; the second, a new
/// process, loads it from the cache instead of compiling.
#[test]
fn a_second_run_loads_the_compiled_component_from_the_cache() {
    let dir = std::env::temp_dir().join(format!("mmm-cli-cache-{}", uuid::Uuid::new_v4()));
    let cache = dir.join("components");
    assert!(cached_files(&cache).is_empty());

    let first = stderr(&fit(&cache, &dir.join("first")));
    assert!(first.contains("compiled the component in"), "{first}");
    let files = cached_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");

    let second = stderr(&fit(&cache, &dir.join("second")));
    assert!(
        second.contains("loaded the compiled component from the cache"),
        "{second}"
    );
    assert!(!second.contains("compiled the component in"), "{second}");
    assert_eq!(cached_files(&cache), files);
    assert_eq!(
        std::fs::read(dir.join("first/summary.json")).unwrap(),
        std::fs::read(dir.join("second/summary.json")).unwrap(),
        "the cached component fits the same"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A cache directory that cannot be created is reported, and the run goes on
/// without one.
#[test]
fn without_a_usable_cache_dir_the_run_compiles_and_says_so() {
    let dir = std::env::temp_dir().join(format!("mmm-cli-nocache-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let in_the_way = dir.join("a-file");
    std::fs::write(&in_the_way, "").unwrap();

    let output = stderr(&fit(&in_the_way.join("components"), &dir.join("out")));
    assert!(output.contains("compiling without a cache"), "{output}");
    assert!(output.contains("compiled the component in"), "{output}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failure_is_printed_once_with_each_cause_once() {
    let output = Command::new(env!("CARGO_BIN_EXE_mmm"))
        .args(["plugin", "build", "/nonexistent-plugin-dir"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stderr(&output);
    assert_eq!(text.matches("Error:").count(), 1, "{text}");
    assert_eq!(
        text.matches("No such file or directory").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("/nonexistent-plugin-dir/Cargo.toml"),
        "{text}"
    );
}
