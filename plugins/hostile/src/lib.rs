//! Test-only preprocessor that misbehaves on purpose, for the runtime's
//! sandbox tests. The `mode` param picks the misbehaviour:
//!
//! | mode             | what it does                                              | expected host outcome        |
//! |------------------|-----------------------------------------------------------|------------------------------|
//! | `echo`           | returns its input (the well-behaved control)              | success                      |
//! | `infinite-loop`  | spins forever without calling the host                    | timeout (epoch deadline)     |
//! | `memory-bomb`    | allocates and touches 16 MiB blocks until allocation fails| memory limit / trap          |
//! | `deep-recursion` | recurses without bound, 1 KiB of stack per frame          | stack overflow trap          |
//! | `panic`          | panics (the SDK logs the message, then it traps)          | trap, message in the log     |
//! | `huge-output`    | returns a valid Arrow IPC stream of `mb` MiB (default 128)| output size limit            |
//! | `not-arrow`      | returns bytes that are not Arrow IPC                      | malformed output             |
//! | `open-file`      | reads `path` (default `/etc/passwd`)                      | guest error: nothing to read |
//! | `read-env`       | reads the environment variables                           | guest error: none visible    |
//! | `log-flood`      | logs `lines` (default 100 000) lines of 1 KiB, then echoes| success, logs truncated      |
//! | `until-cancelled`| calls `progress` until the host says stop                 | guest error `cancelled`      |
//! | `guest-error`    | returns a `numerical` plugin error                        | guest error                  |
//!
//! `open-file` and `read-env` return `internal` errors whose message starts
//! with `denied:` when the sandbox held, and succeed with a one-column table
//! `leaked` (the file or the variables) when it did not.
//!
//! Unlike the real plugins it binds the WIT directly, because some modes
//! must return bytes the SDK would never produce.

// Only the wasm build calls into the modes.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use std::hint::black_box;

use mmm_sdk::prelude::*;

/// The params: `{"mode": "...", ...}`.
#[params]
struct Params {
    mode: String,
    /// Size of `huge-output`, in MiB.
    mb: Option<usize>,
    /// File `open-file` tries to read.
    path: Option<String>,
    /// Lines `log-flood` writes.
    lines: Option<usize>,
}

/// Runs one mode; `Ok` holds the raw bytes to return.
fn misbehave(input: Vec<u8>, params: &str) -> Result<Vec<u8>> {
    let params: Params = mmm_sdk::params::parse(params)?;
    match params.mode.as_str() {
        "echo" => Ok(input),
        "infinite-loop" => {
            let mut i = 0u64;
            loop {
                i = black_box(i.wrapping_add(1));
            }
        }
        "memory-bomb" => {
            let mut blocks = Vec::new();
            loop {
                blocks.push(black_box(vec![1u8; 16 << 20]));
            }
        }
        "deep-recursion" => Ok(vec![recurse(black_box([0u8; 1024]))]),
        "panic" => panic!("hostile plugin panics on purpose"),
        "huge-output" => {
            let rows = (params.mb.unwrap_or(128) << 20) / 8;
            let mut t = Table::new();
            t.set_f64("x", vec![0.5; rows])?;
            t.to_ipc()
        }
        "not-arrow" => Ok(b"date,tv\n2024-01-01,3\n".to_vec()),
        "open-file" => {
            let path = params.path.as_deref().unwrap_or("/etc/passwd");
            let content = std::fs::read_to_string(path)
                .map_err(|e| Error::internal(format!("denied: reading {path}: {e}")))?;
            leaked(&content)
        }
        "read-env" => {
            let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
            if vars.is_empty() {
                return Err(Error::internal("denied: the environment is empty"));
            }
            leaked(&vars.join("\n"))
        }
        "log-flood" => {
            let line = "x".repeat(1024);
            for _ in 0..params.lines.unwrap_or(100_000) {
                log(LogLevel::Info, &line);
            }
            Ok(input)
        }
        "until-cancelled" => {
            let mut done = 0;
            loop {
                checkpoint(done, u64::MAX)?;
                done += 1;
            }
        }
        "guest-error" => Err(Error::numerical("hostile plugin fails on purpose")),
        other => Err(Error::invalid_params(format!("unknown mode `{other}`"))),
    }
}

#[allow(unconditional_recursion)] // the point of `deep-recursion`
fn recurse(frame: [u8; 1024]) -> u8 {
    let frame = black_box(frame);
    recurse(frame).wrapping_add(frame[0])
}

fn leaked(content: &str) -> Result<Vec<u8>> {
    let mut t = Table::new();
    t.set_strings("leaked", &[content])?;
    t.to_ipc()
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, missing_docs, clippy::all)]
mod component {
    use mmm_sdk::__private::bindings::mmm::plugin::types::PluginKind;

    wit_bindgen::generate!({
        path: "../../sdk/wit",
        world: "mmm:plugin/preprocessor@0.2.0",
        with: {
            "mmm:plugin/types@0.2.0": mmm_sdk::__private::bindings::mmm::plugin::types,
            "mmm:plugin/host@0.2.0": mmm_sdk::__private::bindings::mmm::plugin::host,
        },
    });

    struct Hostile;

    impl Guest for Hostile {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "hostile".into(),
                version: "0.1.0".into(),
                kind: PluginKind::Preprocessor,
                description: "Misbehaves on purpose (runtime tests only)".into(),
                author: String::new(),
                params_schema: mmm_sdk::params::schema_json::<super::Params>(),
            }
        }

        fn transform(input: Vec<u8>, params: String) -> Result<Vec<u8>, PluginError> {
            super::misbehave(input, &params).map_err(Into::into)
        }
    }

    export!(Hostile);
}
