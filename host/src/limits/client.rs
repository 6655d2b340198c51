//! Requests per client address on the anonymous `/auth` routes, where
//! password guessing and token stuffing come in. The address is the peer's,
//! or the one the load balancer names in a configured header.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, HeaderName};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use super::{Limited, limited, quota};
use crate::config::Rate;

#[derive(Clone)]
pub struct ClientLimits {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    header: Option<HeaderName>,
}

impl std::fmt::Debug for ClientLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLimits")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl ClientLimits {
    pub fn new(rate: Rate, header: Option<HeaderName>) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota(rate))),
            header,
        }
    }

    /// The client's address: the first address in the configured header
    /// when there is one, else the peer's; unknown peers share one key.
    pub fn client(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        let from_header = self.header.as_ref().and_then(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            value.split(',').next()?.trim().parse::<IpAddr>().ok()
        });
        from_header
            .or_else(|| {
                extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    pub fn check(&self, client: IpAddr) -> Result<(), Limited> {
        self.limiter
            .check_key(&client)
            .map_err(|n| limited(n, DefaultClock::default().now()))
    }

    /// Forgets addresses whose bucket is full again, so the map holds only
    /// recent clients.
    pub fn housekeep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_burst_and_the_refusal_says_when_to_retry() {
        let limits = ClientLimits::new(Rate::new(1.0, 3).unwrap(), None);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limits.check(a).is_ok());
        }
        let refused = limits.check(a).unwrap_err();
        assert!(refused.retry_after.as_secs_f64() <= 1.0);
        assert_eq!(refused.retry_after_secs(), 1);
        assert!(limits.check(b).is_ok());
    }

    #[test]
    fn the_configured_header_names_the_client_and_anything_else_is_ignored() {
        let header = HeaderName::from_static("x-real-ip");
        let limits = ClientLimits::new(Rate::new(1.0, 1).unwrap(), Some(header));
        let mut headers = HeaderMap::new();
        headers.insert("x-real-ip", "192.0.2.7, 10.0.0.1".parse().unwrap());
        headers.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        let ext = Extensions::new();
        assert_eq!(
            limits.client(&headers, &ext),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
        let unconfigured = ClientLimits::new(Rate::new(1.0, 1).unwrap(), None);
        assert_eq!(
            unconfigured.client(&headers, &ext),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
