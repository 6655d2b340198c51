//! What a recommendation says: per channel and in total, the current and
//! recommended spend, the expected KPI change with its interval, ROI and
//! marginal ROI at both points, which bounds bind, the solver's cost,
//! chart-ready response curves, and the same in plain words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::request::{BoundKind, Objective};

/// A value and the model's interval for it (90% unless the model says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Returns at one allocation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Returns {
    /// The channel's (or all channels') contribution to the KPI over the horizon.
    pub contribution: f64,
    /// Contribution over spend (`null` at zero spend).
    pub roi: Option<f64>,
    /// KPI from the next unit of spend.
    pub mroi: f64,
}

/// Which side of a channel's range the recommendation sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActiveBound {
    Min,
    Max,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelBound {
    pub min: f64,
    pub max: f64,
    pub kind: BoundKind,
    /// Set when the recommended spend sits on the bound (fixed channels sit on both).
    pub active: Option<ActiveBound>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelAdvice {
    pub channel: String,
    pub current_spend: f64,
    /// In whole cents: the channels sum to the budget exactly.
    pub recommended_spend: f64,
    pub spend_change: f64,
    /// KPI change over the horizon from this channel's move.
    pub expected_kpi_change: Estimate,
    pub current: Returns,
    pub recommended: Returns,
    pub bounds: ChannelBound,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    pub current_spend: f64,
    pub recommended_spend: f64,
    /// KPI change over the horizon from moving to the recommended allocation.
    pub expected_kpi_change: Estimate,
    /// All channels together (mROI spreads the next unit like the allocation).
    pub current: Returns,
    pub recommended: Returns,
}

/// What the optimiser cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Solver {
    pub method: String,
    pub iterations: usize,
    /// `predict` calls, the final scoring included.
    pub predict_calls: usize,
    /// Allocations scored.
    pub scenarios: usize,
    pub milliseconds: f64,
}

/// A point on a response curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CurvePoint {
    pub spend: f64,
    pub response: f64,
}

/// A channel's contribution over the horizon against its spend (the other
/// channels at their recommended spend), with both allocations marked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Curve {
    pub channel: String,
    pub points: Vec<CurvePoint>,
    pub current: CurvePoint,
    pub recommended: CurvePoint,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HorizonView {
    pub periods: usize,
    /// `history` or `flat`.
    pub spread: String,
    /// `daily`, `weekly` or `monthly`.
    pub granularity: String,
}

/// The computed part, stored as it is served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Advice {
    pub objective: Objective,
    pub kpi: String,
    pub currency: Option<String>,
    pub horizon: HorizonView,
    /// What to move where and what it is expected to bring.
    pub summary: String,
    pub channels: Vec<ChannelAdvice>,
    pub totals: Totals,
    pub solver: Solver,
    pub curves: Vec<Curve>,
}

/// A stored recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    pub id: Uuid,
    pub analysis_id: Uuid,
    /// Whether this is the analysis's default recommendation (`GET /tenant/recommendations`).
    pub is_default: bool,
    /// The request with every default filled in.
    #[schema(value_type = Object)]
    pub request: Value,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub advice: Advice,
}

impl Recommendation {
    pub fn from_row(
        row: crate::db::recommendations::RecommendationRow,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: row.id,
            analysis_id: row.analysis_id,
            is_default: row.is_default,
            request: row.request.0,
            created_at: row.created_at,
            advice: serde_json::from_value(row.body.0)?,
        })
    }
}

/// A money amount for a sentence: `EUR 12,345` (whole units; cents are in the numbers).
pub fn money(amount: f64, currency: Option<&str>) -> String {
    let whole = amount.abs().round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if amount < -0.5 { "-" } else { "" };
    match currency {
        Some(c) => format!("{sign}{c} {grouped}"),
        None => format!("{sign}{grouped}"),
    }
}

fn signed(amount: f64, currency: Option<&str>) -> String {
    if amount >= 0.5 {
        format!("+{}", money(amount, currency))
    } else {
        money(amount, currency)
    }
}

/// The recommendation in one paragraph: the budget, the moves (largest
/// first, small ones left out), and the expected change with its interval.
pub fn plain_words(advice: &Advice, target: Option<f64>) -> String {
    let cur = advice.currency.as_deref();
    let unit = match advice.horizon.granularity.as_str() {
        "daily" => "days",
        "monthly" => "months",
        _ => "weeks",
    };
    let totals = &advice.totals;
    let budget = match (advice.objective, target) {
        (Objective::MaxResponse, _)
            if (totals.recommended_spend - totals.current_spend).abs() < 0.5 =>
        {
            format!(
                "the same budget of {}",
                money(totals.recommended_spend, cur)
            )
        }
        (Objective::MaxResponse, _) => format!(
            "a budget of {} (now {})",
            money(totals.recommended_spend, cur),
            money(totals.current_spend, cur)
        ),
        (Objective::TargetRoi, Some(t)) => format!(
            "{}, the largest budget whose ROI stays at or above {t} (now {})",
            money(totals.recommended_spend, cur),
            money(totals.current_spend, cur)
        ),
        (_, t) => format!(
            "{}, the largest budget whose marginal ROI stays at or above {} (now {})",
            money(totals.recommended_spend, cur),
            t.unwrap_or_default(),
            money(totals.current_spend, cur)
        ),
    };
    let threshold = 0.005 * totals.recommended_spend.max(totals.current_spend);
    let mut moves: Vec<&ChannelAdvice> = advice
        .channels
        .iter()
        .filter(|c| c.spend_change.abs() >= threshold.max(0.5))
        .collect();
    moves.sort_by(|a, b| b.spend_change.abs().total_cmp(&a.spend_change.abs()));
    let list = |up: bool| -> Vec<String> {
        moves
            .iter()
            .filter(|c| (c.spend_change > 0.0) == up)
            .map(|c| format!("{} {}", c.channel, signed(c.spend_change, cur)))
            .collect()
    };
    let (more, less) = (list(true), list(false));
    let moves = match (more.is_empty(), less.is_empty()) {
        (true, true) => "keep every channel where it is: no move pays".to_owned(),
        (false, true) => format!("spend more on {}", more.join(", ")),
        (true, false) => format!("spend less on {}", less.join(", ")),
        (false, false) => format!(
            "spend more on {} and less on {}",
            more.join(", "),
            less.join(", ")
        ),
    };
    let change = &totals.expected_kpi_change;
    format!(
        "Over the next {} {unit}, with {budget}: {moves}. Expected {} change: {} (interval {} to {}), \
         ROI {} → {}.",
        advice.horizon.periods,
        advice.kpi,
        signed(change.value, None),
        signed(change.low, None),
        signed(change.high, None),
        totals.current.roi.map_or("-".into(), |r| format!("{r:.2}")),
        totals
            .recommended
            .roi
            .map_or("-".into(), |r| format!("{r:.2}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_keeps_the_sign() {
        assert_eq!(money(1_234_567.4, Some("EUR")), "EUR 1,234,567");
        assert_eq!(money(-950.0, None), "-950");
        assert_eq!(signed(12.0, None), "+12");
        assert_eq!(money(0.2, None), "0");
    }
}
