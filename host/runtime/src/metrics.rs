//! What each plugin call records through the `metrics` facade; the host
//! installs the Prometheus recorder and serves it. Labels: the plugin's
//! name, the export called (`transform`, `fit`, `predict`, `info`) and the
//! outcome (`ok` or the error code), all bounded by what is published.

use std::time::Duration;

pub const CALLS: &str = "mmm_plugin_calls_total";
pub const DURATION: &str = "mmm_plugin_call_duration_seconds";
pub const MEMORY_PEAK: &str = "mmm_plugin_memory_peak_bytes";
pub const WAITING: &str = "mmm_plugin_calls_waiting";

pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        CALLS,
        "Plugin calls, by plugin, kind (the export called) and outcome (ok or the error code)"
    );
    describe_histogram!(
        DURATION,
        Unit::Seconds,
        "Plugin call wall time in the sandbox, by plugin and kind"
    );
    describe_histogram!(
        MEMORY_PEAK,
        Unit::Bytes,
        "Peak linear memory of a plugin call, by plugin and kind"
    );
    describe_gauge!(
        WAITING,
        "Plugin calls waiting for a sandbox slot now (per-label or global cap)"
    );
}

pub(crate) fn record_call(
    plugin: &str,
    kind: &'static str,
    outcome: &'static str,
    took: Duration,
    memory_peak: u64,
) {
    let plugin = plugin.to_owned();
    metrics::counter!(CALLS, "plugin" => plugin.clone(), "kind" => kind, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(DURATION, "plugin" => plugin.clone(), "kind" => kind)
        .record(took.as_secs_f64());
    metrics::histogram!(MEMORY_PEAK, "plugin" => plugin, "kind" => kind).record(memory_peak as f64);
}
