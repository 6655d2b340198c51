//! Rate limits at the API's edge, answered with 429 and `Retry-After`:
//! per tenant ([`tenant`]: a rate and burst from the tenant's settings, its
//! plan or the platform default) and per client address on the anonymous
//! `/auth` routes ([`client`]), both GCRA limiters from `governor`.
//!
//! Limits are per instance: behind N instances a tenant may reach N times
//! its rate. That keeps the check in memory (no database round trip per
//! request); the limits that must hold across instances (the login
//! throttle) live in PostgreSQL instead.

pub mod client;
pub mod tenant;

use std::time::Duration;

pub use client::ClientLimits;
pub use tenant::TenantLimits;

use crate::config::{LimitConfig, Rate};

/// Every limit the API's edge applies.
#[derive(Clone, Debug)]
pub struct Limits {
    pub tenants: TenantLimits,
    /// On the anonymous `/auth` routes.
    pub clients: ClientLimits,
    /// Queued analyses (all tenants) past which new runs get 503.
    pub max_queued_analyses: i64,
    /// How long a request may take until its response starts (a stream's
    /// body is not counted); past it, 503 `request_timeout`.
    pub request_timeout: Duration,
}

impl Limits {
    /// Limits no test or benchmark reaches by accident; tests of the limits
    /// themselves set their own.
    pub fn generous() -> Self {
        let rate = Rate::new(1e6, 1_000_000).expect("in range");
        Self {
            tenants: TenantLimits::new(rate, &[]),
            clients: ClientLimits::new(rate, None),
            max_queued_analyses: i64::MAX,
            request_timeout: Duration::from_secs(600),
        }
    }
}

impl TryFrom<&LimitConfig> for Limits {
    type Error = anyhow::Error;

    fn try_from(config: &LimitConfig) -> anyhow::Result<Self> {
        let header = config
            .client_ip_header
            .as_deref()
            .map(axum::http::HeaderName::try_from)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--client-ip-header: {e}"))?;
        anyhow::ensure!(
            config.max_queued_analyses >= 1,
            "--max-queued-analyses must be at least 1"
        );
        anyhow::ensure!(
            config.request_timeout >= 1,
            "--request-timeout must be at least 1 second"
        );
        Ok(Self {
            tenants: TenantLimits::new(config.tenant_rate_limit, &config.plan_rate_limits),
            clients: ClientLimits::new(config.auth_rate_limit, header),
            max_queued_analyses: config.max_queued_analyses,
            request_timeout: Duration::from_secs(config.request_timeout),
        })
    }
}

/// A refusal: how long until the next request would be let through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds for `Retry-After`, at least 1.
    pub fn retry_after_secs(&self) -> u32 {
        let secs = self.retry_after.as_secs_f64().ceil();
        secs.clamp(1.0, f64::from(u32::MAX)) as u32
    }
}

/// The GCRA quota for `rate`: one cell every 1/rate seconds, `burst` at once.
fn quota(rate: Rate) -> governor::Quota {
    let period = Duration::from_secs_f64(1.0 / rate.per_second).max(Duration::from_nanos(1));
    let burst = std::num::NonZeroU32::new(rate.burst).unwrap_or(std::num::NonZeroU32::MIN);
    governor::Quota::with_period(period)
        .expect("a period of at least a nanosecond")
        .allow_burst(burst)
}

fn limited<T: governor::clock::Reference>(not_until: governor::NotUntil<T>, now: T) -> Limited {
    Limited {
        retry_after: not_until.wait_time_from(now),
    }
}
