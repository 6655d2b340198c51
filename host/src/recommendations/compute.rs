//! One recommendation end to end: load the analysis (its artifact, model
//! and spend history), optimise through `predict`, score the current and
//! recommended allocations with intervals, marginal returns and curves in
//! one more call, and say it all.

use std::time::Instant;

use bytes::Bytes;
use mmm_runtime::{CallOptions, LoadedPlugin};
use mmm_sdk::allocate::{Settings, Solution, largest_budget, maximise};
use uuid::Uuid;

use super::RecommendationError;
use super::answer::{
    ActiveBound, Advice, ChannelAdvice, ChannelBound, Curve, CurvePoint, Estimate, HorizonView,
    Returns, Solver, Totals, plain_words,
};
use super::history::History;
use super::request::{BoundKind, Plan};
use super::scenarios::{Form, Predicted, Predictor};
use crate::analyses::request::PluginInput;
use crate::db::analyses::{self, AnalysisRow, ResultPart};
use crate::db::{Db, TenantTx, data_sources};
use crate::ids::TenantId;
use crate::plugins::Plugins;
use crate::plugins::registry::limits_for;
use crate::tenant_config::TenantConfig;

/// A succeeded analysis with what recommending on it needs.
pub struct Loaded {
    pub analysis: AnalysisRow,
    pub results_digest: String,
    pub artifact: Bytes,
    pub plugin: LoadedPlugin,
    pub kpi: String,
    pub currency: Option<String>,
    pub history: History,
}

/// The analysis named, or the tenant's latest succeeded one, with its
/// results digest; an analysis that has not succeeded is refused.
pub async fn succeeded(
    tx: &mut TenantTx,
    analysis_id: Option<Uuid>,
) -> Result<(AnalysisRow, String), RecommendationError> {
    let analysis = match analysis_id {
        Some(id) => analyses::fetch(tx, id)
            .await?
            .ok_or(RecommendationError::AnalysisNotFound)?,
        None => analyses::latest_succeeded(tx)
            .await?
            .ok_or(RecommendationError::NoAnalysis)?,
    };
    match (analysis.results_digest.clone(), analysis.status.as_str()) {
        (Some(digest), "succeeded") => Ok((analysis, digest)),
        _ => Err(RecommendationError::NotSucceeded(analysis.status)),
    }
}

/// [`succeeded`]'s analysis with its artifact, model and spend history.
pub async fn load(
    db: &Db,
    plugins: &Plugins,
    tenant: TenantId,
    analysis_id: Option<Uuid>,
) -> Result<Loaded, RecommendationError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let (analysis, results_digest) = succeeded(&mut tx, analysis_id).await?;
    let artifact = analyses::result_part(&mut tx, analysis.id, ResultPart::Artifact)
        .await?
        .ok_or_else(|| {
            RecommendationError::Internal(anyhow::anyhow!("a succeeded analysis without artifact"))
        })?;
    let gone = || RecommendationError::Internal(anyhow::anyhow!("an analysis's source is missing"));
    let source = data_sources::fetch(&mut tx, analysis.source_id)
        .await?
        .ok_or_else(gone)?;
    let content = data_sources::content(&mut tx, analysis.source_id)
        .await?
        .ok_or_else(gone)?;
    let model: PluginInput = serde_json::from_value(analysis.model.0.clone())
        .map_err(|e| RecommendationError::Internal(e.into()))?;
    let plugin = plugins
        .open_exact(&mut tx, &model.name, &model.version, &model.sha256)
        .await?;
    tx.commit().await?;
    let roles = source.roles.0;
    let history = tokio::task::spawn_blocking(move || {
        History::from_source(content, &roles.date, &roles.media, &source.granularity)
            .map(|h| (h, roles.kpi))
    })
    .await
    .map_err(|e| RecommendationError::Internal(e.into()))??;
    Ok(Loaded {
        analysis,
        results_digest,
        artifact: Bytes::from(artifact),
        plugin,
        kpi: history.1,
        currency: source.currency,
        history: history.0,
    })
}

/// How hard the optimiser searches: enough to be within 0.1% of an
/// exhaustive grid on the examples (see the tests), cheap enough for a request.
pub fn settings() -> Settings {
    Settings::default()
}

/// Optimises `plan` on `loaded`'s model.
pub async fn compute(
    loaded: &Loaded,
    plan: &Plan,
    plugins: &Plugins,
    config: &TenantConfig,
    tenant: TenantId,
) -> Result<Advice, RecommendationError> {
    let started = Instant::now();
    let history = &loaded.history;
    let form = if history.is_history(&plan.horizon) {
        Form::Totals
    } else {
        Form::PerPeriod {
            date_column: history.date_column.clone(),
            dates: history.future_dates(plan.horizon.periods),
            patterns: history.patterns(&plan.horizon),
        }
    };
    let model_name = loaded.plugin.info().name.clone();
    let predictor = Predictor {
        plugins: plugins.clone(),
        plugin: loaded.plugin.clone(),
        artifact: loaded.artifact.clone(),
        options: CallOptions {
            label: format!("{tenant}/recommendation"),
            limits: Some(limits_for(config, &model_name, plugins.default_limits())),
            progress: None,
            cancel: None,
            wait: Some(crate::plugins::REQUEST_SLOT_WAIT),
        },
        kpi: loaded.kpi.clone(),
        channels: history.channels.clone(),
        form,
    };
    let solution = optimise(&predictor, plan).await?;
    let (budget_cents, solution) = solution;
    let recommended = solution.allocation.clone();
    let batch = Final::new(&plan.current, &recommended, plan, budget_cents);
    let scored = predictor
        .predict(&batch.allocations, &batch.intervals)
        .await?;
    let milliseconds = started.elapsed().as_secs_f64() * 1e3;
    let solver = Solver {
        method:
            "global sample + trust-region Newton on a diagonal model + jumps (mmm_sdk::allocate)"
                .into(),
        iterations: solution.stats.iterations,
        predict_calls: solution.stats.batches + 1,
        scenarios: solution.stats.scenarios + batch.allocations.len(),
        milliseconds,
    };
    let mut advice = batch.advice(&scored, plan, loaded, solver);
    advice.summary = plain_words(&advice, plan.resolved["target"].as_f64());
    Ok(advice)
}

/// Runs the optimiser on a blocking thread: it drives `predict` (async)
/// from its synchronous batch callback.
async fn optimise(
    predictor: &Predictor,
    plan: &Plan,
) -> Result<(i64, Solution), RecommendationError> {
    let handle = tokio::runtime::Handle::current();
    let predictor = predictor.clone();
    let problem = plan.problem.clone();
    let target = plan.target;
    let budget = (problem.budget() * 100.0).round() as i64;
    tokio::task::spawn_blocking(move || {
        let evaluate = |batch: &[Vec<f64>]| {
            handle
                .block_on(predictor.predict(batch, &[]))
                .map(|p| (0..batch.len()).map(|s| p.total(s)).collect::<Vec<f64>>())
        };
        match target {
            None => maximise(&problem, &settings(), evaluate).map(|s| (budget, s)),
            Some(target) => largest_budget(&problem, &settings(), target, evaluate)?.ok_or_else(|| {
                RecommendationError::TargetUnreachable(format!(
                    "no budget between the minimums ({:.2}) and the maximums ({:.2}) keeps the {} at or above the target",
                    (0..problem.channels()).map(|c| problem.lower(c)).sum::<f64>(),
                    (0..problem.channels()).map(|c| problem.upper(c)).sum::<f64>(),
                    match target {
                        mmm_sdk::allocate::Target::Roi(_) => "ROI",
                        mmm_sdk::allocate::Target::Mroi(_) => "marginal ROI",
                    }
                ))
            }),
        }
    })
    .await
    .map_err(|e| RecommendationError::Internal(e.into()))?
}

/// Points per response curve.
const CURVE_POINTS: usize = 21;

/// The final scoring batch: both allocations (with intervals), a forward
/// step per channel at each (for marginal returns) and every curve point.
struct Final {
    allocations: Vec<Vec<f64>>,
    intervals: Vec<bool>,
    steps: Vec<f64>,
    curve_tops: Vec<f64>,
    budget_cents: i64,
}

impl Final {
    fn new(current: &[f64], recommended: &[f64], plan: &Plan, budget_cents: i64) -> Self {
        let n = current.len();
        let scale = (plan.problem.budget() / n as f64).max(1.0);
        let steps: Vec<f64> = (0..n)
            .map(|c| {
                (1e-3 * current[c].max(recommended[c]))
                    .max(1e-4 * scale)
                    .max(0.01)
            })
            .collect();
        let mut allocations = vec![current.to_vec(), recommended.to_vec()];
        for point in [current, recommended] {
            for c in 0..n {
                let mut p = point.to_vec();
                p[c] += steps[c];
                allocations.push(p);
            }
        }
        let curve_tops: Vec<f64> = (0..n)
            .map(|c| {
                (1.25 * current[c].max(recommended[c]))
                    .max(plan.problem.upper(c))
                    .max(1.0)
            })
            .collect();
        for c in 0..n {
            for k in 0..CURVE_POINTS {
                let mut p = recommended.to_vec();
                p[c] = curve_tops[c] * k as f64 / (CURVE_POINTS - 1) as f64;
                allocations.push(p);
            }
        }
        let mut intervals = vec![false; allocations.len()];
        intervals[0] = true;
        intervals[1] = true;
        Self {
            allocations,
            intervals,
            steps,
            curve_tops,
            budget_cents,
        }
    }

    fn advice(&self, scored: &Predicted, plan: &Plan, loaded: &Loaded, solver: Solver) -> Advice {
        let n = plan.current.len();
        let (cur, rec) = (&self.allocations[0], &self.allocations[1]);
        let mroi = |point: usize, c: usize| {
            let stepped = 2 + point * n + c;
            (scored.contribution[stepped][c] - scored.contribution[point][c]) / self.steps[c]
        };
        let roi = |contribution: f64, spend: f64| (spend > 0.0).then(|| contribution / spend);
        // The change's interval: each end's own width added (exact when the
        // current allocation is the history the interval is anchored at).
        let change =
            |point: f64, cur_point: f64, (rl, rh): (f64, f64), (cl, ch): (f64, f64)| Estimate {
                value: point - cur_point,
                low: (point - cur_point) - ((point - rl) + (ch - cur_point)),
                high: (point - cur_point) + ((rh - point) + (cur_point - cl)),
            };
        let channels: Vec<ChannelAdvice> = (0..n)
            .map(|c| {
                let (kind, name) = (plan.kinds[c], &loaded.history.channels[c]);
                let cents = (rec[c] * 100.0).round() as i64;
                let (lo, hi) = (plan.problem.lower(c), plan.problem.upper(c));
                let active = match kind {
                    BoundKind::Range if (cents as f64) <= (lo * 100.0).round() => {
                        Some(ActiveBound::Min)
                    }
                    BoundKind::Range if (cents as f64) >= (hi * 100.0).round() => {
                        Some(ActiveBound::Max)
                    }
                    _ => None,
                };
                ChannelAdvice {
                    channel: name.clone(),
                    current_spend: cur[c],
                    recommended_spend: rec[c],
                    spend_change: rec[c] - cur[c],
                    expected_kpi_change: change(
                        scored.contribution[1][c],
                        scored.contribution[0][c],
                        (scored.low[1][c], scored.high[1][c]),
                        (scored.low[0][c], scored.high[0][c]),
                    ),
                    current: Returns {
                        contribution: scored.contribution[0][c],
                        roi: roi(scored.contribution[0][c], cur[c]),
                        mroi: mroi(0, c),
                    },
                    recommended: Returns {
                        contribution: scored.contribution[1][c],
                        roi: roi(scored.contribution[1][c], rec[c]),
                        mroi: mroi(1, c),
                    },
                    bounds: ChannelBound {
                        min: lo,
                        max: hi,
                        kind,
                        active,
                    },
                }
            })
            .collect();
        let spread_mroi = |point: usize, x: &[f64]| {
            let total: f64 = x.iter().sum();
            if total <= 0.0 {
                return 0.0;
            }
            (0..n).map(|c| x[c] / total * mroi(point, c)).sum()
        };
        let (cur_total, rec_total) = (scored.total(0), scored.total(1));
        let current_spend: f64 = cur.iter().sum();
        let recommended_spend = self.budget_cents as f64 / 100.0;
        let totals = Totals {
            current_spend,
            recommended_spend,
            expected_kpi_change: change(
                rec_total,
                cur_total,
                (scored.total_low[1], scored.total_high[1]),
                (scored.total_low[0], scored.total_high[0]),
            ),
            current: Returns {
                contribution: cur_total,
                roi: roi(cur_total, current_spend),
                mroi: spread_mroi(0, cur),
            },
            recommended: Returns {
                contribution: rec_total,
                roi: roi(rec_total, recommended_spend),
                mroi: spread_mroi(1, rec),
            },
        };
        let first_curve = 2 + 2 * n;
        let curves = (0..n)
            .map(|c| Curve {
                channel: loaded.history.channels[c].clone(),
                points: (0..CURVE_POINTS)
                    .map(|k| CurvePoint {
                        spend: self.curve_tops[c] * k as f64 / (CURVE_POINTS - 1) as f64,
                        response: scored.contribution[first_curve + c * CURVE_POINTS + k][c],
                    })
                    .collect(),
                current: CurvePoint {
                    spend: cur[c],
                    response: scored.contribution[0][c],
                },
                recommended: CurvePoint {
                    spend: rec[c],
                    response: scored.contribution[1][c],
                },
            })
            .collect();
        Advice {
            objective: plan.objective,
            kpi: loaded.kpi.clone(),
            currency: loaded.currency.clone(),
            horizon: HorizonView {
                periods: plan.horizon.periods,
                spread: serde_json::to_value(plan.horizon.spread)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                granularity: loaded.history.granularity.clone(),
            },
            summary: String::new(),
            channels,
            totals,
            solver,
            curves,
        }
    }
}
