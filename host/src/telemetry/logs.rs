//! Logging: readable locally, JSON in production; `RUST_LOG` wins. With an
//! OTLP endpoint, the same spans (request, plugin call, analysis) are also
//! exported as OpenTelemetry traces; without one nothing is sent anywhere.

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"))
}

/// Logs only.
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_env_filter(filter());
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Flushes and stops the trace exporter when dropped (at exit).
pub struct Traces(Option<SdkTracerProvider>);

impl Drop for Traces {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces: {e}");
        }
    }
}

/// Logs, and traces to `otlp` (an OTLP/HTTP collector, e.g.
/// `http://collector:4318`; `/v1/traces` is added unless the URL names a path).
pub fn init_with_traces(
    format: LogFormat,
    otlp: Option<&str>,
    service: &'static str,
) -> anyhow::Result<Traces> {
    let Some(endpoint) = otlp else {
        init(format);
        return Ok(Traces(None));
    };
    let url = traces_url(endpoint)?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .build()
        .context("building the OTLP exporter")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("mmm"));
    let registry = tracing_subscriber::registry().with(filter()).with(otel);
    let _ = match format {
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json())
            .try_init(),
    };
    Ok(Traces(Some(provider)))
}

fn traces_url(endpoint: &str) -> anyhow::Result<String> {
    let (scheme, rest) = endpoint
        .split_once("://")
        .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
        .with_context(|| format!("--otlp-endpoint `{endpoint}` must be an http(s) URL"))?;
    let trimmed = rest.trim_end_matches('/');
    Ok(if trimmed.contains('/') {
        format!("{scheme}://{trimmed}")
    } else {
        format!("{scheme}://{trimmed}/v1/traces")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_only_to_a_bare_collector_address() {
        assert_eq!(
            traces_url("http://collector:4318").unwrap(),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("https://c.example/").unwrap(),
            "https://c.example/v1/traces"
        );
        assert_eq!(
            traces_url("http://c:4318/custom/traces").unwrap(),
            "http://c:4318/custom/traces"
        );
        assert!(traces_url("collector:4318").is_err());
    }
}
