//! Who a caller is to the platform. The strings are the subjects of the
//! casbin policy and the values stored in `users.role`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A role inside one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantRole {
    TenantAdmin,
    DataScientist,
    Analyst,
    Viewer,
}

crate::db::row::text_enum!(TenantRole {
    TenantAdmin => "tenant_admin",
    DataScientist => "data_scientist",
    Analyst => "analyst",
    Viewer => "viewer",
});

/// Any authenticated caller's role, as carried in an access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    TenantAdmin,
    DataScientist,
    Analyst,
    Viewer,
}

impl Role {
    /// The casbin subject.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::TenantAdmin => "tenant_admin",
            Role::DataScientist => "data_scientist",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }
}

impl From<TenantRole> for Role {
    fn from(role: TenantRole) -> Self {
        match role {
            TenantRole::TenantAdmin => Role::TenantAdmin,
            TenantRole::DataScientist => Role::DataScientist,
            TenantRole::Analyst => Role::Analyst,
            TenantRole::Viewer => Role::Viewer,
        }
    }
}

/// Whether a tenant may be used at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

crate::db::row::text_enum!(TenantStatus {
    Active => "active",
    Suspended => "suspended",
});
