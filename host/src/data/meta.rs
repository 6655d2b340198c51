//! What an upload declares beside its file: the source's name, which column
//! plays which part in the model, and optionally the periods' granularity
//! and the currency. Models read the roles from here, never from guesses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The column roles of a data source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// The period column.
    pub date: String,
    /// The outcome being explained (sales, conversions).
    pub kpi: String,
    /// Spend columns, one per channel.
    pub media: Vec<String>,
    /// Exposure columns (impressions, clicks), each paired with a media column:
    /// `{"tv_impressions": "tv"}`.
    #[serde(default)]
    pub exposure: BTreeMap<String, String>,
    /// Other drivers of the KPI (price, promotions, weather).
    #[serde(default)]
    pub controls: Vec<String>,
}

impl Roles {
    /// Every column a role names, with the role's name.
    pub fn columns(&self) -> Vec<(&str, &'static str)> {
        let mut out = vec![(self.date.as_str(), "date"), (self.kpi.as_str(), "kpi")];
        out.extend(self.media.iter().map(|c| (c.as_str(), "media")));
        out.extend(self.exposure.keys().map(|c| (c.as_str(), "exposure")));
        out.extend(self.controls.iter().map(|c| (c.as_str(), "controls")));
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Daily,
    Weekly,
    Monthly,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "daily" => Some(Self::Daily),
            "weekly" => Some(Self::Weekly),
            "monthly" => Some(Self::Monthly),
            _ => None,
        }
    }

    /// Periods in a year, for the "less than a year of data" warning.
    pub fn per_year(self) -> usize {
        match self {
            Self::Daily => 365,
            Self::Weekly => 52,
            Self::Monthly => 12,
        }
    }
}

/// The upload's declarations (the `meta` part of a multipart upload, or
/// query parameters beside a raw body).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadMeta {
    /// The data source's name; uploading under an existing name adds a version.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub roles: Roles,
    /// Inferred from the dates when absent.
    pub granularity: Option<Granularity>,
    /// ISO 4217 code of the spend and KPI, e.g. `EUR`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Gaps between periods are warnings instead of errors.
    #[serde(default)]
    pub allow_gaps: bool,
}
