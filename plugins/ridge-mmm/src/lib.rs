//! `ridge-mmm`: a Robyn-class marketing mix model as an mmm plugin.
//!
//! **Model.** `kpi_t = intercept + trend t + yearly Fourier seasonality +
//! controls + sum_c beta_c hill_c(adstock_c(spend_c))_t + noise`, with
//! Robyn's geometric or Weibull CDF/PDF adstock, Robyn's Hill saturation
//! (inflexion at `gamma` of the adstocked range), and ridge regression on
//! standardised columns with `beta_c >= 0` (and optional control signs).
//!
//! **Search.** NSGA-II ([`search`]) over every channel's adstock and
//! saturation hyperparameters plus the ridge penalty, minimising Robyn's
//! NRMSE and, with lift tests, MAPE.LIFT ([`calibration`]); DECOMP.RSSD is
//! reported and steers the search only with `search_decomp_rssd` (see
//! [`select`] for why not by default). The periods are split in time order:
//! coefficients are fitted on the first `train_share`, NRMSE is measured
//! over those and the next `validation_share` periods (so its validation
//! part is out of sample; see [`evaluate`] for why not the validation
//! window alone), and the test window that follows is only reported.
//! Default budget 10,000 candidates (0.14 s native, `cargo bench -p
//! ridge-mmm --bench fit`), deterministic for a seed; progress is reported
//! to the host after each generation and the search stops when the host
//! says so. Each candidate's NRMSE is weighed against a weak prior on its
//! transform hyperparameters (`hyper_prior`, see [`evaluate`]), and the
//! pick ([`select`]) is the best of those among the models the calibration
//! constraint leaves eligible; up to 24 eligible models that score about as
//! well give, with each one's coefficient standard errors, the 90% ROI
//! intervals. [`health`] reads the fit's own test window and warns when it
//! forecasts much worse than it fits.
//!
//! **Calibration** ([`calibration`], Robyn's): lift tests passed as
//! experiments (`Model::fit_with_experiments`) are checked against the data
//! (unknown channel or dates outside it: `invalid_input` naming the field);
//! each candidate's implied lift (its channel contribution over the test's
//! window with the actual spend minus with the counterfactual spend) is
//! scored against the measured one, and only models whose MAPE.LIFT is
//! within `calibration_constraint` (default 0.1) of the best are picked.
//!
//! **Accuracy** is measured on the suite of `mmm_synth::suite` (eleven
//! presets, most outside this model's own transforms; `cargo bench -p
//! mmm-accuracy --bench suite`, table in the README's "Which model"): mean
//! ROI error 1.05x an oracle handed the true transforms on data of its own
//! family, 1.2-3.1x on the others (mean 1.73x; 3.42x before the
//! hyperparameter prior). Channels that never go dark are listed under
//! `warnings`: their ROI is an extrapolation; one lift test each brings
//! their error to 0.45x the oracle's (`tests/calibration.rs` holds a bound).
//!
//! **Params** ([`Params`]): every field has a default, so `{}` works;
//! `calibration_constraint` applies only with experiments.
//!
//! **Summary JSON**: `channels[]` (`channel`, `spend`, `contribution`,
//! `effect_share`, `spend_share`, `roi`, `roi_interval` `[low, high]`,
//! `mroi`, `carryover_share`, `adstock` `{kind, theta | shape, scale}`,
//! `saturation` `{alpha, gamma, inflexion}`, `coefficient`,
//! `low_spend_periods`), `warnings`, `baseline_contribution`, `baseline`
//! coefficients, `metrics`
//! (`train`/`validation`/`test` each `{periods, r2, nrmse, mape}`,
//! `decomp_rssd`, `lambda`, and with experiments `mape_lift`), `search`
//! (`candidates`, `pareto_size`, `population`, `seed`, `selection`) and,
//! with experiments, `calibration[]` (`channel`, `window` `[first, last]`
//! date, `periods`, `spend_change`, `measured_lift`, `implied_lift`,
//! `error`). Totals are over all
//! periods; ROI is contribution over spend; mROI is the extra KPI per extra
//! unit of spend when every period's spend grows by the same small share.
//! The summary conforms to `mmm_sdk::summary::ModelSummary` and holds no
//! wall-clock time: the same data, params and seed give the same bytes (the
//! host measures how long a fit took).
//!
//! **Tables**: decomposition (`date`, `actual`, `fitted`, `baseline`, one
//! column per channel) and response curves in long form (`channel`,
//! `spend`, `response`, `marginal_response`): the steady-state weekly
//! response to a constant weekly spend from 0 to 3x the channel's mean.
//!
//! **Scenarios** for `predict`: see [`predict`]. Totals: one row per
//! scenario, a column per channel with total spend → `<kpi>`, `baseline`,
//! `<channel>_contribution` per row. Per period: add the fit's date column
//! (and optionally `scenario` and control columns) → the same per row.
//! Each KPI and contribution also gets `_low` and `_high` columns: the
//! range over the plausible models and their coefficients' 90% intervals,
//! in the totals form of the change from the fitted history (so empty at
//! the historical allocation). Rows whose optional `interval` column is 0
//! get the point there, at the cost of a point prediction.

pub mod active_set;
pub mod artifact;
pub mod calibration;
pub mod data;
pub mod evaluate;
pub mod health;
pub mod oracle;
pub mod params;
pub mod predict;
pub mod report;
pub mod rng;
pub mod search;
pub mod select;
pub mod system;
pub mod transform;

use mmm_sdk::experiments::Experiment;
use mmm_sdk::prelude::*;

pub use artifact::Artifact;
pub use params::Params;

use data::{BaselineDesign, Input, Split};
use evaluate::Evaluator;
use transform::Space;

/// The plugin.
pub struct RidgeMmm;

#[model(
    name = "ridge-mmm",
    version = "0.1.0",
    description = "Robyn-class MMM: adstock, Hill saturation, constrained ridge, NSGA-II search"
)]
impl Model for RidgeMmm {
    type Params = Params;
    type Artifact = Artifact;

    fn fit(data: Table, roles: Roles, params: Params) -> Result<Fit<Artifact>> {
        fit(&data, &roles, &params, &[], |done, total| {
            checkpoint(done, total)
        })
    }

    fn fit_with_experiments(
        data: Table,
        roles: Roles,
        params: Params,
        experiments: Vec<Experiment>,
    ) -> Result<Fit<Artifact>> {
        fit(&data, &roles, &params, &experiments, |done, total| {
            checkpoint(done, total)
        })
    }

    fn predict(artifact: Artifact, scenarios: Table) -> Result<Table> {
        predict::predict(&artifact, &scenarios)
    }
}

/// The whole fit, calibrated with `experiments` when there are any;
/// `progress` sees (candidates evaluated, budget) after each generation and
/// stops the search by returning an error.
pub fn fit(
    data: &Table,
    roles: &Roles,
    params: &Params,
    experiments: &[Experiment],
    progress: impl FnMut(u64, u64) -> Result<()>,
) -> Result<Fit<Artifact>> {
    let input = Input::from_table(data, roles)?;
    let targets = calibration::targets(experiments, &input)?;
    let calibrating = !targets.is_empty();
    let bounds = params.resolve(&input.media_names, &input.control_names)?;
    let split = Split::new(input.len(), params.train_share, params.validation_share)?;
    let design = BaselineDesign::new(&input, params.fourier_order as usize);
    let signs: Vec<_> = input
        .control_names
        .iter()
        .map(|c| params.control_signs.get(c).copied().unwrap_or_default())
        .collect();
    let space = Space {
        adstock: params.adstock,
        bounds,
        lambda: [params.lambda_min, params.lambda_max],
    };
    let mut evaluator = Evaluator::new(
        &input,
        &design,
        split,
        space,
        &signs,
        targets.clone(),
        params.cv_folds as usize,
    )?;
    evaluator.prior_weight = params.hyper_prior;
    let settings = search::Settings {
        dim: evaluator.dim(),
        budget: params.budget as usize,
        population: params.population as usize,
        seed: params.seed,
        active: [true, params.search_decomp_rssd, calibrating],
    };
    let archive = search::nsga2(settings, |g| evaluator.objectives(g), progress)?;
    let rule = select::Rule {
        periods: split.validation,
        pick_tolerance: params.pick_tolerance,
        interval_tolerance: params.interval_tolerance,
        decomp_rssd: params.search_decomp_rssd,
        calibration_constraint: calibrating.then_some(params.calibration_constraint),
    };
    let selection = select::select(&archive, rule)?;
    // The pick is one of the plausible models: each is refitted once.
    let mut chosen = None;
    let mut intervals = vec![[f64::INFINITY, f64::NEG_INFINITY]; input.media.len()];
    let mut plausible_models = Vec::with_capacity(selection.plausible.len());
    for &i in &selection.plausible {
        let plausible = evaluator.fitted(&archive.genes[i])?;
        plausible_models.push(artifact::PlausibleModel::new(&plausible));
        for (iv, s) in intervals
            .iter_mut()
            .zip(report::channel_stats(&input, &plausible))
        {
            *iv = [iv[0].min(s.roi_low), iv[1].max(s.roi_high)];
        }
        if i == selection.chosen {
            chosen = Some(plausible);
        }
    }
    let chosen = chosen.expect("the pick is among the plausible models");
    let artifact = Artifact::new(&input, roles, &design, &chosen, plausible_models);
    let stats = report::SearchStats {
        candidates: archive.genes.len(),
        pareto_size: selection.front.len(),
        population: settings.population.min(settings.budget),
        seed: params.seed,
        rule,
        plausible_models: selection.plausible.len(),
        eligible_models: selection.eligible,
    };
    let mut summary = report::summary(&input, &design, split, &chosen, &intervals, &stats);
    if calibrating {
        summary["calibration"] = calibration::section(&input, &targets, &chosen.implied_lifts);
        summary["metrics"]["mape_lift"] = json!(chosen.objectives[2]);
    }
    Ok(Fit {
        summary,
        decomposition: report::decomposition(&input, &design, &chosen)?,
        response_curves: report::response_curves(&artifact, params.curve_points as usize)?,
        artifact,
    })
}
