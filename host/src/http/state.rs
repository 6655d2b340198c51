//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::auth::TokenIssuer;
use crate::auth::throttle::LoginThrottle;
use crate::db::Db;
use crate::plugins::Plugins;
use crate::rbac::Rbac;
use crate::tables::TableReader;
use crate::tenant_config::TenantConfigs;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// The migration owner's pool, used only to check readiness.
    pub owner: PgPool,
    pub tokens: TokenIssuer,
    pub tenants: TenantConfigs,
    pub rbac: Arc<Rbac>,
    pub throttle: LoginThrottle,
    pub plugins: Plugins,
    /// Every table a request sends is parsed through this.
    pub tables: TableReader,
    pub settings: Arc<HttpSettings>,
    /// Analysis event streams and the attempts new analyses get.
    pub analyses: super::analyses::AnalysisSettings,
    /// Rate limits and the queue's back-pressure bound.
    pub limits: crate::limits::Limits,
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// `acme.<base_domain>` names tenant `acme`.
    pub base_domain: Option<String>,
    pub refresh_ttl: Duration,
}

impl HttpSettings {
    /// The tenant slug named by a `Host` header, if it is a subdomain of the base domain.
    pub fn subdomain<'a>(&self, host: &'a str) -> Option<&'a str> {
        let base = self.base_domain.as_deref()?;
        let host = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let slug = host.strip_suffix(base)?.strip_suffix('.')?;
        (!slug.is_empty() && !slug.contains('.')).then_some(slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subdomain_of_the_base_domain_names_a_tenant() {
        let settings = HttpSettings {
            base_domain: Some("mmm.example".into()),
            refresh_ttl: Duration::from_secs(1),
        };
        assert_eq!(settings.subdomain("acme.mmm.example"), Some("acme"));
        assert_eq!(settings.subdomain("acme.mmm.example:8080"), Some("acme"));
        assert_eq!(settings.subdomain("mmm.example"), None);
        assert_eq!(settings.subdomain("a.b.mmm.example"), None);
        assert_eq!(settings.subdomain("acme.other.example"), None);
        assert_eq!(settings.subdomain("evilmmm.example"), None);
    }
}
