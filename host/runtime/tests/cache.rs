//! Components are compiled once: in memory within a runtime, on disk across restarts.

use crate::common;

use common::{uncached_runtime, wasm};
use mmm_runtime::{Fault, Runtime, RuntimeConfig, RuntimeError};

#[tokio::test]
async fn loading_the_same_bytes_twice_compiles_once() {
    let runtime = uncached_runtime();
    let bytes = wasm("identity");

    let first = runtime.load(bytes.clone()).await.unwrap();
    let second = runtime.load(bytes).await.unwrap();

    assert_eq!(runtime.stats().compiled, 1);
    assert_eq!(first.sha256(), second.sha256());
}

#[tokio::test]
async fn a_second_runtime_reuses_the_disk_cache_instead_of_compiling() {
    let dir = std::env::temp_dir().join(format!("mmm-runtime-cache-{}", std::process::id()));
    let config = RuntimeConfig {
        cache_dir: Some(dir.clone()),
        ..RuntimeConfig::default()
    };
    let bytes = wasm("winsorize");
    let first = Runtime::new(config.clone()).unwrap();
    first.load(bytes.clone()).await.unwrap();

    let second = Runtime::new(config).unwrap();
    let plugin = second.load(bytes).await.unwrap();

    assert_eq!(first.stats().compiled, 1);
    assert_eq!(second.stats().compiled, 0);
    assert_eq!(second.stats().loaded_from_disk, 1);
    assert_eq!(plugin.info().name, "winsorize");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_corrupt_cache_file_is_recompiled() {
    let dir = std::env::temp_dir().join(format!("mmm-runtime-corrupt-{}", std::process::id()));
    let config = RuntimeConfig {
        cache_dir: Some(dir.clone()),
        ..RuntimeConfig::default()
    };
    let bytes = wasm("identity");
    Runtime::new(config.clone())
        .unwrap()
        .load(bytes.clone())
        .await
        .unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mut file = std::fs::read(&path).unwrap();
        let middle = file.len() / 2;
        file[middle] ^= 0xff;
        std::fs::write(&path, file).unwrap();
    }

    let second = Runtime::new(config).unwrap();
    second.load(bytes).await.unwrap();

    assert_eq!(second.stats().compiled, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn bytes_that_are_not_a_component_are_rejected_as_the_uploaders_fault() {
    let runtime = uncached_runtime();

    let error = runtime
        .load(b"\0asm not really".to_vec())
        .await
        .unwrap_err();

    assert!(
        matches!(error, RuntimeError::InvalidComponent { .. }),
        "{error}"
    );
    assert_eq!(error.fault(), Fault::Guest);
}

#[tokio::test]
async fn a_preprocessor_cannot_be_fitted() {
    let runtime = uncached_runtime();
    let identity = runtime.load(wasm("identity")).await.unwrap();

    let error = runtime
        .fit(
            &identity,
            Vec::new(),
            Default::default(),
            "{}",
            Default::default(),
        )
        .await
        .unwrap_err();

    assert!(matches!(error, RuntimeError::WrongKind { .. }), "{error}");
}

#[tokio::test]
async fn a_component_without_the_plugin_exports_is_not_a_plugin() {
    let runtime = uncached_runtime();
    // The smallest valid component: magic, component-model version, layer 1.
    let empty_component = vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    let error = runtime.load(empty_component).await.unwrap_err();

    assert!(matches!(error, RuntimeError::NotAPlugin { .. }), "{error}");
    assert_eq!(error.fault(), Fault::Guest);
}
