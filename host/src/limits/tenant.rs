//! Requests per tenant: every authenticated request of a tenant's users
//! draws from one bucket. The rate is, first found: the tenant's settings
//! (`{"rate_limit": {"per_second": 20, "burst": 40}}`), its plan's
//! (`--plan-rate-limits`), the platform default (`--tenant-rate-limit`).
//! A changed rate takes effect on the tenant's next request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, RateLimiter};
use serde_json::Value;

use super::{Limited, limited, quota};
use crate::config::{PlanRate, Rate};
use crate::ids::TenantId;
use crate::tenant_config::TenantConfig;

/// The settings key a tenant's own rate lives under.
pub const SETTINGS_KEY: &str = "rate_limit";

struct Bucket {
    rate: Rate,
    limiter: DefaultDirectRateLimiter,
}

#[derive(Clone)]
pub struct TenantLimits {
    default: Rate,
    plans: Arc<HashMap<String, Rate>>,
    /// Buckets of tenants seen lately; an idle tenant's bucket is full
    /// again long before it is evicted, so eviction forgets nothing.
    buckets: moka::sync::Cache<TenantId, Arc<Bucket>>,
}

impl std::fmt::Debug for TenantLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLimits")
            .field("default", &self.default)
            .field("plans", &self.plans)
            .finish_non_exhaustive()
    }
}

impl TenantLimits {
    pub fn new(default: Rate, plans: &[PlanRate]) -> Self {
        Self {
            default,
            plans: Arc::new(plans.iter().map(|p| (p.plan.clone(), p.rate)).collect()),
            buckets: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    /// The rate that applies to this tenant now.
    pub fn rate_for(&self, config: &TenantConfig) -> Rate {
        settings_rate(&config.tenant.settings)
            .ok()
            .flatten()
            .or_else(|| self.plans.get(&config.tenant.plan).copied())
            .unwrap_or(self.default)
    }

    pub fn check(&self, config: &TenantConfig) -> Result<(), Limited> {
        let rate = self.rate_for(config);
        let id = config.tenant.id;
        let fresh = || {
            Arc::new(Bucket {
                rate,
                limiter: RateLimiter::direct(quota(rate)),
            })
        };
        let mut bucket = self.buckets.get_with(id, fresh);
        if bucket.rate != rate {
            bucket = fresh();
            self.buckets.insert(id, bucket.clone());
        }
        bucket
            .limiter
            .check()
            .map_err(|n| limited(n, DefaultClock::default().now()))
    }
}

/// The tenant's own rate in its settings: `Ok(None)` when it sets none,
/// `Err` naming what is wrong when it sets one badly (the admin API refuses
/// such settings; a bad one already stored falls back to the plan's).
pub fn settings_rate(settings: &Value) -> Result<Option<Rate>, String> {
    let Some(value) = settings.get(SETTINGS_KEY) else {
        return Ok(None);
    };
    let object = value
        .as_object()
        .ok_or("must be an object {\"per_second\": number, \"burst\": integer}")?;
    if let Some(unknown) = object.keys().find(|k| *k != "per_second" && *k != "burst") {
        return Err(format!("has an unknown key `{unknown}`"));
    }
    let per_second = object
        .get("per_second")
        .and_then(Value::as_f64)
        .ok_or("needs `per_second`, a number")?;
    let burst = object
        .get("burst")
        .and_then(Value::as_u64)
        .ok_or("needs `burst`, a whole number")?;
    let burst = u32::try_from(burst).map_err(|_| "`burst` is too large".to_owned())?;
    Rate::new(per_second, burst).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_tenants_settings_must_name_a_whole_rate_or_none() {
        assert_eq!(settings_rate(&json!({})), Ok(None));
        assert_eq!(
            settings_rate(&json!({"rate_limit": {"per_second": 2.5, "burst": 5}})),
            Ok(Some(Rate::new(2.5, 5).unwrap()))
        );
        for bad in [
            json!({"rate_limit": 5}),
            json!({"rate_limit": {"per_second": 5}}),
            json!({"rate_limit": {"per_second": 0, "burst": 5}}),
            json!({"rate_limit": {"per_second": 5, "burst": 0}}),
            json!({"rate_limit": {"per_second": 5, "burst": 5, "extra": 1}}),
        ] {
            assert!(settings_rate(&bad).is_err(), "{bad}");
        }
    }
}
