//! One call into a plugin: a fresh `Store`, instantiation from the `InstancePre`,
//! the export, output checks, and turning every failure into a typed error.

use std::time::{Duration, Instant};

use wasmtime::component::WasmList;
use wasmtime::{Store, Trap, WasmBacktrace};

use crate::bindings::types as wit;
use crate::config::{CallOptions, CancelToken, Limits};
use crate::error::{OutputError, PluginRef, Result, RuntimeError};
use crate::ipc::validate_stream;
use crate::plugin::{Contract, Exports, LoadedPlugin, World};
use crate::runtime::Inner;
use crate::sandbox::{CallState, Interruption, new_store};
use crate::types::{Experiment, FitOutput, PluginInfo, Roles};

/// Frames wasmtime keeps in a trap's backtrace (its default).
const BACKTRACE_FRAMES: usize = 20;

/// What one `fit` is given.
pub(crate) struct FitRequest<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) roles: Roles,
    pub(crate) params: &'a str,
    pub(crate) experiments: &'a [Experiment],
}

/// What a call body returns: `Err` from wasmtime (trap, interrupt, host
/// failure) is classified afterwards; the inner result is already typed.
type Outcome<R> = wasmtime::Result<Result<R>>;

impl Inner {
    pub(crate) fn info(
        &self,
        world: &World,
        plugin: &PluginRef,
        options: &CallOptions,
        abandoned: &CancelToken,
    ) -> Result<PluginInfo> {
        let timeout = |l: &Limits| l.preprocess_timeout;
        self.call(plugin, "info", timeout, options, abandoned, |store, _| {
            let instance = world.pre.instantiate(&mut *store)?;
            let func =
                instance.get_typed_func::<(), (wit::PluginInfo,)>(&mut *store, world.info)?;
            let (info,) = func.call(&mut *store, ())?;
            Ok(Ok(info.into()))
        })
    }

    pub(crate) fn transform(
        &self,
        plugin: &LoadedPlugin,
        input: &[u8],
        params: &str,
        options: &CallOptions,
        abandoned: &CancelToken,
    ) -> Result<Vec<u8>> {
        let world = plugin.world();
        let Exports::Preprocessor { transform } = world.exports else {
            unreachable!("checked by LoadedPlugin::expect");
        };
        let who = plugin.plugin_ref();
        let timeout = |l: &Limits| l.preprocess_timeout;
        self.call(
            &who,
            "transform",
            timeout,
            options,
            abandoned,
            |store, limits| {
                let instance = world.pre.instantiate(&mut *store)?;
                type Returns = (std::result::Result<WasmList<u8>, wit::PluginError>,);
                let func =
                    instance.get_typed_func::<(&[u8], &str), Returns>(&mut *store, transform)?;
                let (returned,) = func.call(&mut *store, (input, params))?;
                Ok(match returned {
                    Err(error) => Err(plugin_error(&who, store.data(), error)),
                    Ok(list) => copy_checked(&*store, &list, limits)
                        .and_then(validate_stream)
                        .map_err(|reason| malformed(&who, reason)),
                })
            },
        )
    }

    pub(crate) fn fit(
        &self,
        plugin: &LoadedPlugin,
        request: FitRequest<'_>,
        options: &CallOptions,
        abandoned: &CancelToken,
    ) -> Result<FitOutput> {
        let FitRequest {
            input,
            roles,
            params,
            experiments,
        } = request;
        let world = plugin.world();
        let Exports::Model { fit, .. } = world.exports else {
            unreachable!("checked by LoadedPlugin::expect");
        };
        let who = plugin.plugin_ref();
        let roles = wit::Roles::from(roles);
        let experiments: Vec<wit::Experiment> = experiments.iter().map(Into::into).collect();
        let timeout = |l: &Limits| l.fit_timeout;
        self.call(&who, "fit", timeout, options, abandoned, |store, limits| {
            let instance = world.pre.instantiate(&mut *store)?;
            type Returns = (std::result::Result<wit::FitOutput, wit::PluginError>,);
            // A 0.1.0 model's `fit` has no experiments parameter; the caller
            // can tell from `LoadedPlugin::contract` that it got none.
            let (returned,) = match world.contract {
                Contract::V0_2 => instance
                    .get_typed_func::<(&[u8], &wit::Roles, &str, &[wit::Experiment]), Returns>(
                        &mut *store,
                        fit,
                    )?
                    .call(&mut *store, (input, &roles, params, &experiments))?,
                Contract::V0_1 => instance
                    .get_typed_func::<(&[u8], &wit::Roles, &str), Returns>(&mut *store, fit)?
                    .call(&mut *store, (input, &roles, params))?,
            };
            Ok(match returned {
                Err(error) => Err(plugin_error(&who, store.data(), error)),
                Ok(out) => check_fit_output(out, limits).map_err(|reason| malformed(&who, reason)),
            })
        })
    }

    pub(crate) fn predict(
        &self,
        plugin: &LoadedPlugin,
        artifact: &[u8],
        scenarios: &[u8],
        options: &CallOptions,
        abandoned: &CancelToken,
    ) -> Result<Vec<u8>> {
        let world = plugin.world();
        let Exports::Model { predict, .. } = world.exports else {
            unreachable!("checked by LoadedPlugin::expect");
        };
        let who = plugin.plugin_ref();
        let timeout = |l: &Limits| l.predict_timeout;
        self.call(
            &who,
            "predict",
            timeout,
            options,
            abandoned,
            |store, limits| {
                let instance = world.pre.instantiate(&mut *store)?;
                type Returns = (std::result::Result<WasmList<u8>, wit::PluginError>,);
                let func =
                    instance.get_typed_func::<(&[u8], &[u8]), Returns>(&mut *store, predict)?;
                let (returned,) = func.call(&mut *store, (artifact, scenarios))?;
                Ok(match returned {
                    Err(error) => Err(plugin_error(&who, store.data(), error)),
                    Ok(list) => copy_checked(&*store, &list, limits)
                        .and_then(validate_stream)
                        .map_err(|reason| malformed(&who, reason)),
                })
            },
        )
    }

    /// Runs `body` in a fresh store inside a `plugin.call` span and types its failure.
    fn call<R>(
        &self,
        plugin: &PluginRef,
        export: &'static str,
        timeout_of: impl Fn(&Limits) -> Duration,
        options: &CallOptions,
        abandoned: &CancelToken,
        body: impl FnOnce(&mut Store<CallState>, &Limits) -> Outcome<R>,
    ) -> Result<R> {
        let limits = options.limits.unwrap_or(self.config.limits);
        let timeout = timeout_of(&limits);
        let span = tracing::info_span!(
            "plugin.call",
            plugin = %plugin.name,
            version = %plugin.version,
            label = %options.label,
            export,
            duration_us = tracing::field::Empty,
            memory_peak = tracing::field::Empty,
            fault = tracing::field::Empty,
        );
        let _entered = span.enter();
        let started = Instant::now();
        let mut store = new_store(
            &self.engine,
            plugin.clone(),
            &limits,
            timeout,
            options,
            abandoned,
        );
        let result = match body(&mut store, &limits) {
            Ok(result) => result,
            Err(error) => Err(classify(error, store.data(), plugin, &limits, timeout)),
        };
        let state = store.data();
        state.flush_diagnostics();
        let took = started.elapsed();
        span.record("duration_us", took.as_micros() as u64);
        span.record("memory_peak", state.memory.peak);
        let outcome = match &result {
            Ok(_) => {
                tracing::info!("plugin call finished");
                "ok"
            }
            Err(error) => {
                span.record("fault", tracing::field::debug(error.fault()));
                tracing::warn!(code = error.code(), %error, "plugin call failed");
                error.code()
            }
        };
        crate::metrics::record_call(&plugin.name, export, outcome, took, state.memory.peak);
        result
    }
}

/// Turns what wasmtime reported into the typed cause, using what the store saw.
fn classify(
    error: wasmtime::Error,
    state: &CallState,
    plugin: &PluginRef,
    limits: &Limits,
    timeout: Duration,
) -> RuntimeError {
    let plugin = plugin.clone();
    match state.interrupted {
        Some(Interruption::Deadline) => {
            return RuntimeError::Timeout {
                plugin,
                limit: timeout,
            };
        }
        Some(Interruption::Cancelled) => return RuntimeError::Cancelled { plugin },
        None => {}
    }
    // A refused grow surfaces as an allocation-failure abort in the guest.
    if state.memory.refused {
        return RuntimeError::MemoryLimit {
            plugin,
            limit: limits.memory_bytes,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => RuntimeError::StackOverflow { plugin },
        Some(Trap::MemoryOutOfBounds) if shadow_stack_overflow(&error) => {
            RuntimeError::StackOverflow { plugin }
        }
        Some(Trap::UnreachableCodeReached) => {
            match panic_message(&state.stderr_text()).or_else(|| state.panic_message.clone()) {
                Some(message) => RuntimeError::Panic { plugin, message },
                None => RuntimeError::Trap {
                    plugin,
                    message: format!("{error:#}"),
                },
            }
        }
        _ => RuntimeError::Trap {
            plugin,
            message: format!("{error:#}"),
        },
    }
}

/// Rust keeps large frames on a shadow stack in linear memory; when deep
/// recursion exhausts it, the stack pointer wraps below address 0 and the next
/// write traps out of bounds. Such a trap with a full backtrace made of one or
/// two functions is recursion, not a stray pointer.
fn shadow_stack_overflow(error: &wasmtime::Error) -> bool {
    let Some(backtrace) = error.downcast_ref::<WasmBacktrace>() else {
        return false;
    };
    let frames = backtrace.frames();
    let mut functions: Vec<u32> = frames.iter().map(|f| f.func_index()).collect();
    functions.sort_unstable();
    functions.dedup();
    frames.len() >= BACKTRACE_FRAMES && functions.len() <= 2
}

/// The message of a Rust panic printed on the guest's stderr, if there was one.
fn panic_message(stderr: &str) -> Option<String> {
    let (_, rest) = stderr.split_once("panicked at ")?;
    let message = rest
        .lines()
        .filter(|line| !line.starts_with("note:") && !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut end = message.len().min(1024);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    Some(message[..end].to_owned())
}

fn plugin_error(plugin: &PluginRef, state: &CallState, error: wit::PluginError) -> RuntimeError {
    let code = error.code.into();
    if code == crate::ErrorCode::Cancelled && state.stop_requested_at.is_some() {
        return RuntimeError::Cancelled {
            plugin: plugin.clone(),
        };
    }
    RuntimeError::Plugin {
        plugin: plugin.clone(),
        code,
        message: error.message,
    }
}

fn malformed(plugin: &PluginRef, reason: OutputError) -> RuntimeError {
    RuntimeError::MalformedOutput {
        plugin: plugin.clone(),
        reason,
    }
}

fn check_size(size: u64, limits: &Limits) -> std::result::Result<(), OutputError> {
    if size > limits.output_bytes {
        return Err(OutputError::TooLarge {
            size,
            limit: limits.output_bytes,
        });
    }
    Ok(())
}

/// Copies a list out of guest memory once its size is known to be within the cap.
fn copy_checked(
    store: &Store<CallState>,
    list: &WasmList<u8>,
    limits: &Limits,
) -> std::result::Result<Vec<u8>, OutputError> {
    check_size(list.len() as u64, limits)?;
    Ok(list.as_le_slice(store).to_vec())
}

fn check_fit_output(
    out: wit::FitOutput,
    limits: &Limits,
) -> std::result::Result<FitOutput, OutputError> {
    let size = [
        out.artifact.len(),
        out.summary.len(),
        out.decomposition.len(),
        out.response_curves.len(),
    ]
    .iter()
    .sum::<usize>();
    check_size(size as u64, limits)?;
    serde_json::from_str::<serde_json::Value>(&out.summary)
        .map_err(|e| OutputError::NotJson(e.to_string()))?;
    Ok(FitOutput {
        artifact: out.artifact,
        summary: out.summary,
        decomposition: validate_stream(out.decomposition)?,
        response_curves: validate_stream(out.response_curves)?,
    })
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn extracts_the_panic_message_from_stderr() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("src/lib.rs:3:5: boom")
        );
        assert_eq!(panic_message("nothing here"), None);
    }
}
