//! `bayes-mmm`: a Bayesian marketing mix model as an mmm plugin, on the same
//! contract and summary schema as `ridge-mmm`.
//!
//! **Model** ([`density`]). On the KPI divided by its mean,
//! `kpi_t = intercept + trend + yearly Fourier seasonality + controls +
//! sum_c roi_c S_c hill_c(adstock_c(spend_c))_t / sum_s hill_c(..)_s + noise`:
//! the same media transforms as ridge-mmm (Robyn's geometric or Weibull
//! CDF/PDF adstock, Robyn's Hill with its inflexion at `gamma` of the
//! adstocked range), with each channel's effect parameterised by its ROI
//! (`S_c` its total spend), so the ROI prior is a prior on what the analyst
//! asks about. Trend, seasonality and controls are standardised. Noise is
//! Normal, or Student-t with `"likelihood": "student-t"`.
//!
//! **Priors** ([`params::Priors`], all overridable): ROI `LogNormal(0.2, 0.9)`
//! (Meridian's default; per channel with `"roi_priors": {"tv": {"mu": ..,
//! "sigma": ..}}`); geometric `theta ~ Beta(2, 3)`; Weibull shape
//! `LogNormal(0, 1)` and scale `Beta(1.5, 15)`; Hill `alpha ~ LogNormal(ln 1.5,
//! 0.5)`, `gamma ~ Beta(2, 2)`; intercept `Normal(0.6, 0.5)`, other baseline
//! coefficients `Normal(0, 0.5)`, noise `sigma ~ HalfNormal(0.5)` (in units of
//! the mean KPI). The sampler works on `ln` / logit transforms of the
//! constrained parameters, with their Jacobians ([`layout`], [`prior`]).
//!
//! **Sampler** ([`sampler`]): NUTS from nuts-rs with a low-rank mass matrix
//! (`"mass_matrix": "diagonal"` for the old one), moving the intercept as
//! the mean level ([`density`]'s sampled coordinates),
//! by default 4 chains x (750 warm-up + 750 draws; 500 + 500 left one suite fit in seven with an R-hat above 1.01, 750 + 750 one in thirty), run one after another,
//! bit-identical for a seed. Progress is reported to the host every 25
//! iterations and the fit stops when the host cancels. Convergence
//! ([`diagnostics`]): rank-normalised split R-hat and bulk ESS per
//! parameter; R-hat above 1.01, ESS below 400 or divergences go into `warnings`.
//!
//! **Calibration** ([`calibration`]): each lift test adds
//! `Normal(lift | implied_lift, standard_error)` to the likelihood.
//!
//! **Params** ([`Params`]): every field has a default, so `{}` works.
//!
//! **Summary JSON** (conforms to `mmm_sdk::summary::ModelSummary`):
//! `channels[]` (`channel`, `spend`, `contribution`, `contribution_interval`,
//! `effect_share`, `spend_share`, `roi` (posterior mean), `roi_interval`
//! (90% central), `roi_prior`, `mroi`, `mroi_interval`, `carryover_share`,
//! `low_spend_periods`, `adstock`, `saturation` {`alpha`, `gamma`,
//! `inflexion`} (posterior means), `convergence`), `warnings`,
//! `baseline_contribution`, `baseline`, `metrics` (`all` {`periods`, `r2`,
//! `nrmse`, `mape`} of the posterior-mean fit, `sigma`, `likelihood`),
//! `sampler` (`chains`, `warmup`, `draws`, `kept_draws`, `seed`,
//! `divergences`, `step_sizes`, `mean_leapfrog_steps`,
//! `gradient_evaluations`, `max_rhat`, `min_ess`, `parameters[]` {`name`,
//! `rhat`, `ess_bulk`}), `priors`, and with lift tests `calibration[]`
//! (`channel`, `start`, `end`, `spend_change`, `measured_lift`,
//! `standard_error`, `implied_lift`, `implied_lift_interval`, `z`). ROI is contribution over spend; mROI the
//! extra KPI per extra unit of spend when every period's spend grows by the
//! same small share. No wall-clock time: same data, params and seed, same bytes.
//!
//! **Tables**: decomposition (`date`, `actual`, `fitted`, `baseline`, one
//! column per channel; posterior means over the kept draws) and response
//! curves (`channel`, `spend`, `response`, `marginal_response`,
//! `response_low`, `response_high`): the steady-state weekly response to a
//! constant weekly spend from 0 to 3x the channel's mean.
//!
//! **Scenarios** for `predict`: see [`predict`]; intervals are the kept
//! draws' 90% range, anchored at the history in the totals form.

pub mod adstock;
pub mod artifact;
pub mod calibration;
pub mod data;
pub mod density;
pub mod design;
pub mod diagnostics;
pub mod health;
pub mod layout;
pub mod mean_response;
pub mod params;
pub mod posterior;
pub mod predict;
pub mod prior;
pub mod report;
pub mod sampler;
pub mod stats;

use mmm_sdk::experiments::Experiment;
use mmm_sdk::prelude::*;

pub use artifact::Artifact;
pub use params::Params;

use artifact::{ChannelArtifact, ControlArtifact};
use data::Input;
use density::{Density, Model as DensityModel};
use design::Design;
use layout::{Layout, logit};

/// The plugin.
pub struct BayesMmm;

#[model(
    name = "bayes-mmm",
    version = "0.1.0",
    description = "Bayesian MMM: adstock, Hill saturation, ROI priors, NUTS, lift-test calibration"
)]
impl Model for BayesMmm {
    type Params = Params;
    type Artifact = Artifact;

    fn fit(data: Table, roles: Roles, params: Params) -> Result<Fit<Artifact>> {
        fit(&data, &roles, &params, &[], checkpoint)
    }

    fn fit_with_experiments(
        data: Table,
        roles: Roles,
        params: Params,
        experiments: Vec<Experiment>,
    ) -> Result<Fit<Artifact>> {
        fit(&data, &roles, &params, &experiments, checkpoint)
    }

    fn predict(artifact: Artifact, scenarios: Table) -> Result<Table> {
        predict::predict(&artifact, &scenarios)
    }
}

/// The density of a fit's data and params, and the point chains start near.
pub fn density(
    input: &Input,
    design: &Design,
    params: &Params,
    experiments: &[Experiment],
) -> Result<(Density, Vec<f64>)> {
    let roi_priors = params.resolve(&input.media_names)?;
    let layout = Layout {
        channels: input.media.len(),
        adstock: params.adstock,
        baseline: design.baseline.len(),
    };
    let lifts = calibration::lifts(experiments, input, design)?;
    let model = DensityModel {
        layout,
        y: design.y.clone(),
        media: design.media.clone(),
        spend_over_y: design.spend_over_y.clone(),
        baseline: design.baseline.clone(),
        roi_priors,
        priors: params.priors,
        likelihood: params.likelihood,
        dof: params.student_t_dof,
        lifts,
    };
    let start = start_point(&model, design);
    Ok((Density::new(model), start))
}

/// The priors' centre, with the intercept taking what the media at their
/// prior ROI leave of the mean KPI.
fn start_point(model: &DensityModel, design: &Design) -> Vec<f64> {
    let l = model.layout;
    let p = &model.priors;
    let mut z = vec![0.0; l.dim()];
    let n = design.len() as f64;
    let mut media = 0.0;
    for (c, roi) in model.roi_priors.iter().enumerate() {
        z[l.log_roi(c)] = roi.mu;
        media += roi.mu.exp() * design.spend_over_y[c] / n;
        match l.adstock {
            params::Adstock::Geometric => z[l.adstock_param(c, 0)] = logit(0.3),
            _ => {
                z[l.adstock_param(c, 0)] = p.shape.mu;
                z[l.adstock_param(c, 1)] = logit(0.05);
            }
        }
        z[l.log_alpha(c)] = p.alpha.mu;
        z[l.logit_gamma(c)] = 0.0;
    }
    z[l.intercept()] = (1.0 - media).max(0.1);
    z[l.log_sigma()] = 0.1f64.ln();
    z
}

/// The whole fit; `progress` sees (iterations done, total) now and then and
/// stops the fit by returning an error.
pub fn fit(
    data: &Table,
    roles: &Roles,
    params: &Params,
    experiments: &[Experiment],
    progress: impl FnMut(u64, u64) -> Result<()>,
) -> Result<Fit<Artifact>> {
    let input = Input::from_table(data, roles)?;
    let design = Design::new(&input, params.fourier_order as usize);
    let (mut density, start) = density(&input, &design, params, experiments)?;
    let settings = sampler::Settings {
        chains: params.chains,
        warmup: params.warmup,
        draws: params.draws,
        seed: params.seed,
        max_tree_depth: params.max_tree_depth,
        target_accept: params.target_accept,
        low_rank: params.mass_matrix == params::MassMatrix::LowRank,
    };
    let chains = sampler::sample(&density, &start, settings, progress)?;
    let posterior =
        posterior::summarise(&mut density, &design, &chains, params.kept_draws as usize);
    let convergence: Vec<_> = posterior
        .parameters
        .iter()
        .map(|p| diagnostics::convergence(p))
        .collect();
    let layout = density.model.layout;
    let names = layout.names(&input.media_names, &design.baseline_names);
    let baseline = report::baseline_series(&design, &posterior);
    let (decomposition, fitted) = report::decomposition(&input, &baseline, &posterior)?;
    let artifact = artifact(&input, roles, &design, &baseline, &posterior);
    let calibration = (!experiments.is_empty()).then(|| {
        let mut calibrated = vec![false; input.media.len()];
        density
            .model
            .lifts
            .iter()
            .for_each(|l| calibrated[l.channel] = true);
        (
            calibration::section(experiments, &posterior.implied_lift),
            calibrated,
        )
    });
    let roi_priors = params.resolve(&input.media_names)?;
    let ctx = report::Context {
        input: &input,
        design: &design,
        params,
        roi_priors: &roi_priors,
        layout,
        chains: &chains,
        convergence: &convergence,
        names: &names,
        fitted: &fitted,
        baseline: &baseline,
    };
    Ok(Fit {
        summary: report::summary(&ctx, &posterior, calibration),
        decomposition,
        response_curves: report::response_curves(&artifact, params.curve_points as usize)?,
        artifact,
    })
}

fn artifact(
    input: &Input,
    roles: &Roles,
    design: &Design,
    baseline: &[f64],
    posterior: &posterior::Posterior,
) -> Artifact {
    let width = design.calendar.width();
    let channels: Vec<ChannelArtifact> = input
        .media_names
        .iter()
        .zip(&input.media)
        .map(|(name, history)| ChannelArtifact {
            name: name.clone(),
            history: history.clone(),
        })
        .collect();
    Artifact {
        version: artifact::ARTIFACT_VERSION,
        kpi: roles.kpi.clone(),
        date: roles.date.clone(),
        first_day: design.calendar.first_day,
        period_days: design.calendar.period_days,
        fourier_order: design.calendar.fourier_order,
        intercept: posterior.intercept,
        time_coefficients: posterior.baseline_coefficients[..width].to_vec(),
        controls: input
            .control_names
            .iter()
            .zip(&input.controls)
            .zip(&posterior.baseline_coefficients[width..])
            .map(|((name, x), &coefficient)| ControlArtifact {
                name: name.clone(),
                coefficient,
                mean: x.iter().sum::<f64>() / x.len() as f64,
            })
            .collect(),
        baseline_history_total: baseline.iter().sum(),
        mean_response: mean_response::tabulate(&channels, &posterior.kept),
        draws: posterior.kept.clone(),
        channels,
    }
}
