//! A recommendation request → the exact problem: which budget, over which
//! horizon, between which bounds. Every refusal names the field and why,
//! before any model runs.

use std::collections::BTreeMap;

use mmm_sdk::allocate::{Infeasible, Problem, Target};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::RecommendationError;
use super::history::{History, Horizon, Spread};

/// What to optimise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The most KPI for the budget (default).
    #[default]
    MaxResponse,
    /// The largest budget whose overall media ROI stays at or above `target`.
    TargetRoi,
    /// The largest budget whose marginal ROI (the next unit's return) stays at or above `target`.
    TargetMroi,
}

/// The horizon the budget is spent over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HorizonRequest {
    /// Number of periods (default: as many as the analysed data has), 1 to 520.
    /// Read as a number so that `13.0`, an integer to JSON Schema, is 13.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 520)]
    pub periods: Option<f64>,
    /// How each channel's spend is spread over the periods (default `history`).
    #[serde(default)]
    pub spread: Spread,
}

/// One channel's bounds. Absolute `min`/`max` are totals over the horizon;
/// `min_relative`/`max_relative` are multiples of the channel's current
/// spend over the same horizon. Unset bounds default to 0.5x and 2x current.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBounds {
    #[schema(minimum = 0, maximum = 1e13)]
    pub min: Option<f64>,
    #[schema(minimum = 0, maximum = 1e13)]
    pub max: Option<f64>,
    #[schema(minimum = 0, maximum = 1e13)]
    pub min_relative: Option<f64>,
    #[schema(minimum = 0, maximum = 1e13)]
    pub max_relative: Option<f64>,
    /// Keep the channel at its current spend.
    #[serde(default)]
    pub fixed: bool,
    /// Spend nothing on the channel.
    #[serde(default)]
    pub excluded: bool,
}

/// `POST /tenant/recommendations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequest {
    /// A succeeded analysis of this tenant.
    pub analysis_id: Uuid,
    #[serde(default)]
    pub objective: Objective,
    /// The ROI or marginal ROI a `target_*` objective must keep (KPI per unit of spend).
    #[schema(exclusive_minimum = 0)]
    pub target: Option<f64>,
    /// Total spend over the horizon (default: the current spend over it).
    /// Not allowed with a `target_*` objective, which finds the budget.
    #[schema(minimum = 0, maximum = 1e13)]
    pub budget: Option<f64>,
    pub horizon: Option<HorizonRequest>,
    /// Per channel (by media column name).
    #[serde(default)]
    pub bounds: BTreeMap<String, ChannelBounds>,
}

/// Default bounds relative to current spend.
pub const DEFAULT_MIN_RELATIVE: f64 = 0.5;
pub const DEFAULT_MAX_RELATIVE: f64 = 2.0;

/// How a channel's bounds came about, for the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BoundKind {
    Range,
    Fixed,
    Excluded,
}

/// The resolved problem.
#[derive(Debug, Clone)]
pub struct Plan {
    pub objective: Objective,
    pub target: Option<Target>,
    pub horizon: Horizon,
    /// Current spend per channel over the horizon.
    pub current: Vec<f64>,
    pub kinds: Vec<BoundKind>,
    pub problem: Problem,
    /// The request with every default filled in, as stored.
    pub resolved: serde_json::Value,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> RecommendationError {
    RecommendationError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The largest amount a budget or bound may name: ten trillion, far above
/// any media plan and far below where whole cents stop fitting an `i64` sum.
pub const MAX_AMOUNT: f64 = 1e13;

fn non_negative(field: String, value: Option<f64>) -> Result<Option<f64>, RecommendationError> {
    match value {
        Some(v) if !v.is_finite() || !(0.0..=MAX_AMOUNT).contains(&v) => Err(invalid(
            field,
            format!("must be a number from 0 to {MAX_AMOUNT:e}"),
        )),
        other => Ok(other),
    }
}

/// Checks `request` against the analysed history.
pub fn resolve(
    history: &History,
    objective: Objective,
    target: Option<f64>,
    budget: Option<f64>,
    horizon: Option<&HorizonRequest>,
    bounds: &BTreeMap<String, ChannelBounds>,
) -> Result<Plan, RecommendationError> {
    let target = match (objective, target) {
        (Objective::MaxResponse, None) => None,
        (Objective::MaxResponse, Some(_)) => {
            return Err(invalid(
                "target",
                "only a target_roi or target_mroi objective takes a target",
            ));
        }
        (_, None) => {
            return Err(invalid(
                "target",
                "a target_roi or target_mroi objective needs a target",
            ));
        }
        (_, Some(t)) if !t.is_finite() || t <= 0.0 => {
            return Err(invalid("target", "must be a finite number above 0"));
        }
        (Objective::TargetRoi, Some(t)) => Some(Target::Roi(t)),
        (Objective::TargetMroi, Some(t)) => Some(Target::Mroi(t)),
    };
    if target.is_some() && budget.is_some() {
        return Err(invalid(
            "budget",
            "a target objective finds the budget: leave budget out",
        ));
    }
    let budget = non_negative("budget".into(), budget)?;
    let periods = match horizon.and_then(|h| h.periods) {
        None => history.periods(),
        Some(p) if p.fract() == 0.0 && (1.0..=520.0).contains(&p) => p as usize,
        Some(_) => return Err(invalid("horizon.periods", "must be 1 to 520")),
    };
    let horizon = Horizon {
        periods,
        spread: horizon.map(|h| h.spread).unwrap_or_default(),
    };
    if let Some(unknown) = bounds.keys().find(|k| !history.channels.contains(k)) {
        return Err(invalid(
            format!("bounds.{unknown}"),
            format!(
                "`{unknown}` is not a media channel of this analysis (it has {})",
                history.channels.join(", ")
            ),
        ));
    }
    let current = history.current(&horizon);
    let (mut lower, mut upper, mut kinds) = (vec![], vec![], vec![]);
    let mut resolved_bounds = serde_json::Map::new();
    for (c, name) in history.channels.iter().enumerate() {
        let given = bounds.get(name).cloned().unwrap_or_default();
        let field = |f: &str| format!("bounds.{name}.{f}");
        let min = non_negative(field("min"), given.min)?;
        let max = non_negative(field("max"), given.max)?;
        let min_relative = non_negative(field("min_relative"), given.min_relative)?;
        let max_relative = non_negative(field("max_relative"), given.max_relative)?;
        let any_range = min.or(max).or(min_relative).or(max_relative).is_some();
        if given.fixed && given.excluded {
            return Err(invalid(
                field("fixed"),
                format!("`{name}` cannot be both fixed and excluded"),
            ));
        }
        if (given.fixed || given.excluded) && any_range {
            let which = if given.fixed { "fixed" } else { "excluded" };
            return Err(invalid(
                field(which),
                format!("a {which} channel takes no min or max (`{name}`)"),
            ));
        }
        if min.is_some() && min_relative.is_some() {
            return Err(invalid(
                field("min_relative"),
                format!("give `{name}` either min or min_relative, not both"),
            ));
        }
        if max.is_some() && max_relative.is_some() {
            return Err(invalid(
                field("max_relative"),
                format!("give `{name}` either max or max_relative, not both"),
            ));
        }
        let (l, u, kind) = if given.fixed {
            (current[c], current[c], BoundKind::Fixed)
        } else if given.excluded {
            (0.0, 0.0, BoundKind::Excluded)
        } else {
            let l = min.unwrap_or(current[c] * min_relative.unwrap_or(DEFAULT_MIN_RELATIVE));
            let u = max.unwrap_or(current[c] * max_relative.unwrap_or(DEFAULT_MAX_RELATIVE));
            (l, u, BoundKind::Range)
        };
        if u > MAX_AMOUNT {
            return Err(invalid(
                field(if max.is_some() { "max" } else { "max_relative" }),
                format!("`{name}`: the maximum {u:e} is above {MAX_AMOUNT:e}"),
            ));
        }
        if l > u + 1e-9 {
            return Err(invalid(
                field("min"),
                format!("`{name}`: the minimum {l:.2} is above the maximum {u:.2}"),
            ));
        }
        resolved_bounds.insert(
            name.clone(),
            serde_json::json!({ "min": l, "max": u, "kind": kind }),
        );
        lower.push(l);
        upper.push(u);
        kinds.push(kind);
    }
    let total_current: f64 = current.iter().sum();
    let problem_budget = match (target, budget) {
        (Some(_), _) => upper.iter().sum::<f64>(),
        (None, Some(b)) => b,
        (None, None) => total_current,
    };
    let problem = Problem::new(problem_budget, &lower, &upper, &current)
        .map_err(|e| infeasible(e, &history.channels))?;
    let resolved = serde_json::json!({
        "objective": objective,
        "target": target.map(|t| match t { Target::Roi(v) | Target::Mroi(v) => v }),
        "budget": if target.is_some() { None } else { Some(problem.budget()) },
        "horizon": { "periods": horizon.periods, "spread": horizon.spread },
        "bounds": resolved_bounds,
    });
    Ok(Plan {
        objective,
        target,
        horizon,
        current,
        kinds,
        problem,
        resolved,
    })
}

/// The optimiser's refusal in the request's terms.
fn infeasible(e: Infeasible, channels: &[String]) -> RecommendationError {
    let name = |c: usize| channels.get(c).cloned().unwrap_or_default();
    match e {
        Infeasible::MinimumAboveMaximum { channel } => invalid(
            format!("bounds.{}.min", name(channel)),
            format!(
                "`{}`: the minimum is above the maximum once both are in whole cents",
                name(channel)
            ),
        ),
        Infeasible::NotFinite { channel } | Infeasible::NegativeMinimum { channel } => invalid(
            format!("bounds.{}", name(channel)),
            format!("`{}`: {e}", name(channel)),
        ),
        Infeasible::MinimumsAboveBudget { .. } | Infeasible::MaximumsBelowBudget { .. } => {
            RecommendationError::Infeasible {
                field: "budget".into(),
                message: e.to_string(),
            }
        }
        other => invalid("bounds", other.to_string()),
    }
}
