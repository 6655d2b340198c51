//! Hostile plugins end in their typed error within their limit, and a
//! well-behaved plugin called at the same time in the same process succeeds.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::{from_ipc, load, to_ipc, wasm};
use mmm_runtime::{
    CallOptions, CancelToken, ErrorCode, Fault, Limits, LoadedPlugin, OutputError, Runtime,
    RuntimeConfig, RuntimeError,
};

fn tight_limits() -> Limits {
    Limits {
        memory_bytes: 64 << 20,
        preprocess_timeout: Duration::from_secs(1),
        output_bytes: 4 << 20,
        ..Limits::default()
    }
}

fn evil() -> CallOptions {
    CallOptions {
        label: "tenant-evil".into(),
        limits: Some(tight_limits()),
        ..CallOptions::default()
    }
}

fn small_table() -> Vec<u8> {
    let schema = Schema::new(vec![Field::new("tv", DataType::Float64, true)]);
    let column = Float64Array::from(vec![Some(1.0), None, Some(3.0)]);
    to_ipc(&[RecordBatch::try_new(Arc::new(schema), vec![Arc::new(column)]).unwrap()])
}

struct Sandbox {
    runtime: Runtime,
    hostile: LoadedPlugin,
    identity: LoadedPlugin,
}

async fn sandbox() -> Sandbox {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(common::shared_cache_dir()),
        max_concurrent_calls: 4,
        max_concurrent_calls_per_label: 2,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let hostile = load(&runtime, "hostile").await;
    let identity = load(&runtime, "identity").await;
    Sandbox {
        runtime,
        hostile,
        identity,
    }
}

impl Sandbox {
    async fn hostile(&self, params: &str, options: CallOptions) -> Result<Vec<u8>, RuntimeError> {
        self.runtime
            .transform(&self.hostile, small_table(), params, options)
            .await
    }

    /// Runs a hostile mode while the identity plugin is called for another
    /// tenant; asserts the identity call succeeded and returns the hostile error.
    async fn misbehave(&self, mode: &str) -> RuntimeError {
        let params = format!(r#"{{"mode": "{mode}", "mb": 8}}"#);
        let input = small_table();
        let (hostile, identity) = tokio::join!(
            self.hostile(&params, evil()),
            self.runtime.transform(
                &self.identity,
                input.clone(),
                "{}",
                CallOptions::labelled("tenant-good")
            ),
        );
        let identity = identity.expect("the well-behaved plugin still succeeds");
        assert_eq!(from_ipc(&identity), from_ipc(&input));
        let error = hostile.expect_err("the hostile plugin fails");
        assert_eq!(error.plugin().name, "hostile");
        error
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_times_out() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("infinite-loop").await;

    assert!(
        matches!(error, RuntimeError::Timeout { limit, .. } if limit == Duration::from_secs(1)),
        "{error}"
    );
    assert_eq!(error.fault(), Fault::Guest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_the_memory_cap() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("memory-bomb").await;

    assert!(
        matches!(error, RuntimeError::MemoryLimit { limit, .. } if limit == 64 << 20),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_overflows_the_stack() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("deep-recursion").await;

    assert!(
        matches!(error, RuntimeError::StackOverflow { .. }),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_with_its_message() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("panic").await;

    assert!(
        matches!(&error, RuntimeError::Panic { message, .. } if message.contains("on purpose")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_output_is_refused_before_it_is_copied() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("huge-output").await;

    assert!(
        matches!(
            error,
            RuntimeError::MalformedOutput { reason: OutputError::TooLarge { limit, .. }, .. }
                if limit == 4 << 20
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_that_is_not_arrow_is_malformed() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("not-arrow").await;

    assert!(
        matches!(
            error,
            RuntimeError::MalformedOutput {
                reason: OutputError::NotArrowIpc(_),
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_file_finds_nothing_to_open() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("open-file").await;

    assert!(
        matches!(&error, RuntimeError::Plugin { code: ErrorCode::Internal, message, .. }
            if message.starts_with("denied:")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_the_environment_finds_it_empty() {
    // SAFETY-free: the test only makes sure there is something to leak.
    assert!(std::env::vars().next().is_some());
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("read-env").await;

    assert!(
        matches!(&error, RuntimeError::Plugin { code: ErrorCode::Internal, message, .. }
            if message.starts_with("denied:")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_error_keeps_its_code() {
    let sandbox = sandbox().await;

    let error = sandbox.misbehave("guest-error").await;

    assert!(
        matches!(
            error,
            RuntimeError::Plugin {
                code: ErrorCode::Numerical,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_flood_is_truncated_and_the_call_still_succeeds() {
    let sandbox = sandbox().await;

    let output = sandbox
        .hostile(r#"{"mode": "log-flood", "lines": 20000}"#, evil())
        .await
        .expect("logging too much is not an error");

    assert_eq!(from_ipc(&output), from_ipc(&small_table()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_progress_hook_answering_false_cancels_the_call() {
    let sandbox = sandbox().await;
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let options = CallOptions {
        progress: Some(Arc::new(move |_, _| {
            seen.fetch_add(1, Ordering::Relaxed) < 100
        })),
        ..evil()
    };

    let error = sandbox
        .hostile(r#"{"mode": "until-cancelled"}"#, options)
        .await
        .unwrap_err();

    assert!(matches!(error, RuntimeError::Cancelled { .. }), "{error}");
    assert_eq!(error.fault(), Fault::Host);
    assert!(calls.load(Ordering::Relaxed) > 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_token_stops_a_guest_that_never_asks() {
    let sandbox = sandbox().await;
    let cancel = CancelToken::new();
    let options = CallOptions {
        cancel: Some(cancel.clone()),
        limits: Some(Limits {
            preprocess_timeout: Duration::from_secs(60),
            ..tight_limits()
        }),
        ..evil()
    };
    cancel.cancel();

    let error = sandbox
        .hostile(r#"{"mode": "infinite-loop"}"#, options)
        .await
        .unwrap_err();

    assert!(matches!(error, RuntimeError::Cancelled { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_that_are_not_json_never_reach_the_plugin() {
    let sandbox = sandbox().await;

    let error = sandbox.hostile("{mode:", evil()).await.unwrap_err();

    assert!(
        matches!(error, RuntimeError::InvalidParams { .. }),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_mode_at_once_leaves_the_identity_plugin_working() {
    let sandbox = Arc::new(sandbox().await);
    let modes = [
        "infinite-loop",
        "memory-bomb",
        "deep-recursion",
        "panic",
        "huge-output",
        "not-arrow",
        "open-file",
        "read-env",
    ];
    let mut tasks = Vec::new();
    for mode in modes {
        let sandbox = sandbox.clone();
        let params = format!(r#"{{"mode": "{mode}", "mb": 8}}"#);
        tasks.push(tokio::spawn(async move {
            sandbox.hostile(&params, evil()).await
        }));
    }

    for _ in 0..20 {
        let output = sandbox
            .runtime
            .transform(
                &sandbox.identity,
                small_table(),
                "{}",
                CallOptions::labelled("tenant-good"),
            )
            .await
            .expect("identity succeeds while hostile plugins run");
        assert_eq!(from_ipc(&output), from_ipc(&small_table()));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    // The runtime still loads and runs plugins afterwards.
    assert!(sandbox.runtime.load(wasm("identity")).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_may_not_wait_for_a_busy_label_fails_busy_and_leaves_the_slots_alone() {
    let sandbox = sandbox().await;
    // Both of the label's slots are taken by guests that spin until their
    // one-second deadline.
    let spin = || sandbox.hostile(r#"{"mode": "infinite-loop"}"#, evil());
    let impatient = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let options = CallOptions {
            wait: Some(Duration::from_millis(100)),
            ..evil()
        };
        sandbox
            .runtime
            .transform(&sandbox.identity, small_table(), "{}", options)
            .await
    };
    let (first, second, impatient) = tokio::join!(spin(), spin(), impatient);

    for spun in [first, second] {
        assert!(
            matches!(spun, Err(RuntimeError::Timeout { .. })),
            "{spun:?}"
        );
    }
    let error = impatient.unwrap_err();
    assert!(matches!(error, RuntimeError::Busy { .. }), "{error}");
    assert_eq!(error.fault(), Fault::Host);
    assert_eq!(error.code(), "plugin_busy");
    // The slots came back: the same call now runs.
    let options = CallOptions {
        wait: Some(Duration::from_millis(100)),
        ..evil()
    };
    sandbox
        .runtime
        .transform(&sandbox.identity, small_table(), "{}", options)
        .await
        .expect("a free slot");
}
