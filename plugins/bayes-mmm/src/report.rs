//! What the analyst sees: the summary JSON (shared schema plus the
//! posterior's own sections), the decomposition per period and the response
//! curves, from the posterior draws.

use mmm_sdk::metrics;
use mmm_sdk::prelude::*;
use mmm_sdk::serde_json::{Map, Value};

use crate::adstock::AdstockHyper;
use crate::artifact::Artifact;
use crate::data::Input;
use crate::design::Design;
use crate::diagnostics::{Convergence, MAX_RHAT, MIN_ESS};
use crate::layout::Layout;
use crate::params::{Adstock, LogNormal, Params};
use crate::posterior::Posterior;
use crate::sampler::Chain;
use crate::stats::Interval;

/// Spend below this share of a channel's mean counts as a low-spend period.
const LOW_SPEND_SHARE: f64 = 0.1;

/// Periods in which a channel spent less than a tenth of its mean: what
/// shows its effect against (almost) no spend, which is what ROI measures.
pub fn low_spend_periods(spend: &[f64]) -> usize {
    let mean = spend.iter().sum::<f64>() / spend.len() as f64;
    spend
        .iter()
        .filter(|&&s| s < LOW_SPEND_SHARE * mean)
        .count()
}

/// Everything the summary reads besides the posterior.
pub struct Context<'a> {
    pub input: &'a Input,
    pub design: &'a Design,
    pub params: &'a Params,
    pub roi_priors: &'a [LogNormal],
    pub layout: Layout,
    pub chains: &'a [Chain],
    pub convergence: &'a [Convergence],
    pub names: &'a [String],
    /// The decomposition's fitted and baseline series.
    pub fitted: &'a [f64],
    pub baseline: &'a [f64],
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Posterior mean of every draw of parameter `i` over all chains.
fn parameter_mean(p: &Posterior, i: usize) -> f64 {
    let all: Vec<f64> = p.parameters[i].iter().flatten().copied().collect();
    mean(&all)
}

fn channel_entry(ctx: &Context, p: &Posterior, c: usize, totals: (f64, f64)) -> Value {
    let (spend_total, effect_total) = totals;
    let (l, spend) = (ctx.layout, ctx.input.media[c].iter().sum::<f64>());
    let roi = Interval::of(&p.roi[c]);
    let contribution = Interval::of(&p.contribution[c]);
    let mroi = Interval::of(&p.mroi[c]);
    let adstock = match ctx.params.adstock {
        Adstock::Geometric => AdstockHyper::Geometric {
            theta: parameter_mean(p, l.adstock_param(c, 0)),
        },
        kind => {
            let (shape, scale) = (
                parameter_mean(p, l.adstock_param(c, 0)),
                parameter_mean(p, l.adstock_param(c, 1)),
            );
            match kind {
                Adstock::WeibullCdf => AdstockHyper::WeibullCdf { shape, scale },
                _ => AdstockHyper::WeibullPdf { shape, scale },
            }
        }
    };
    let inflexions: Vec<f64> = p.kept.iter().map(|d| d.channels[c].inflexion).collect();
    let diagnostics = |i: usize| json!({ "rhat": ctx.convergence[i].rhat, "ess_bulk": ctx.convergence[i].ess_bulk });
    json!({
        "channel": ctx.input.media_names[c],
        "spend": spend,
        "contribution": contribution.mean,
        "contribution_interval": [contribution.low, contribution.high],
        "effect_share": if effect_total > 0.0 { contribution.mean / effect_total } else { 0.0 },
        "spend_share": spend / spend_total,
        "roi": roi.mean,
        "roi_interval": [roi.low, roi.high],
        "roi_prior": { "distribution": "lognormal", "mu": ctx.roi_priors[c].mu, "sigma": ctx.roi_priors[c].sigma },
        "mroi": mroi.mean,
        "mroi_interval": [mroi.low, mroi.high],
        "carryover_share": mean(&p.carryover[c]),
        "low_spend_periods": low_spend_periods(&ctx.input.media[c]),
        "adstock": adstock,
        "saturation": {
            "alpha": parameter_mean(p, l.log_alpha(c)),
            "gamma": parameter_mean(p, l.logit_gamma(c)),
            "inflexion": mean(&inflexions),
        },
        "convergence": {
            "roi": diagnostics(l.log_roi(c)),
            "adstock": (0..l.adstock_dim()).map(|j| diagnostics(l.adstock_param(c, j))).collect::<Vec<_>>(),
            "alpha": diagnostics(l.log_alpha(c)),
            "gamma": diagnostics(l.logit_gamma(c)),
        },
    })
}

/// The warnings: convergence, divergences, and channels whose ROI the data
/// can only extrapolate.
fn warnings(ctx: &Context, calibrated: &[bool]) -> Vec<String> {
    let mut out = Vec::new();
    let bad: Vec<String> = ctx
        .names
        .iter()
        .zip(ctx.convergence)
        .filter(|(_, c)| !(c.rhat <= MAX_RHAT && c.ess_bulk >= MIN_ESS))
        .map(|(n, c)| format!("{n} (R-hat {:.3}, ESS {:.0})", c.rhat, c.ess_bulk))
        .collect();
    if !bad.is_empty() {
        out.push(format!(
            "the chains have not converged for {} parameter(s) (R-hat above {MAX_RHAT} or bulk \
             ESS below {MIN_ESS}): {}; run more warmup and draws, or more chains, before trusting \
             their intervals",
            bad.len(),
            bad.join(", ")
        ));
    }
    let divergences: usize = ctx.chains.iter().map(|c| c.divergences).sum();
    if divergences > 0 {
        out.push(format!(
            "{divergences} divergent transition(s) after warm-up: the sampler may have missed part \
             of the posterior; raise target_accept (e.g. 0.95)"
        ));
    }
    for (c, name) in ctx.input.media_names.iter().enumerate() {
        if low_spend_periods(&ctx.input.media[c]) == 0 && !calibrated[c] {
            out.push(format!(
                "`{name}` never spent below a tenth of its mean: its ROI (its effect against no \
                 spend) extrapolates the response curve below the lowest spend seen and leans on \
                 its prior; read it with its interval, or calibrate it with a lift test"
            ));
        }
    }
    out
}

fn sampler_section(ctx: &Context) -> Value {
    let parameters: Vec<Value> = ctx
        .names
        .iter()
        .zip(ctx.convergence)
        .map(|(n, c)| json!({ "name": n, "rhat": c.rhat, "ess_bulk": c.ess_bulk }))
        .collect();
    let p = ctx.params;
    json!({
        "algorithm": "NUTS (nuts-rs 0.19.1), mass matrix and step size adapted in warm-up",
        "mass_matrix": match p.mass_matrix {
            crate::params::MassMatrix::Diagonal => "diagonal",
            crate::params::MassMatrix::LowRank => "low-rank",
        },
        "chains": p.chains,
        "warmup": p.warmup,
        "draws": p.draws,
        "kept_draws": p.kept_draws,
        "seed": p.seed,
        "max_tree_depth": p.max_tree_depth,
        "target_accept": p.target_accept,
        "divergences": ctx.chains.iter().map(|c| c.divergences).sum::<usize>(),
        "step_sizes": ctx.chains.iter().map(|c| c.step_size).collect::<Vec<_>>(),
        "mean_leapfrog_steps": ctx.chains.iter().map(|c| c.mean_steps).collect::<Vec<_>>(),
        "gradient_evaluations": ctx.chains.iter().map(|c| c.gradients).sum::<u64>(),
        "max_rhat": ctx.convergence.iter().map(|c| c.rhat).fold(f64::NEG_INFINITY, f64::max),
        "min_ess": ctx.convergence.iter().map(|c| c.ess_bulk).fold(f64::INFINITY, f64::min),
        "parameters": parameters,
    })
}

/// The summary JSON; `calibration` is the lift tests' section, if any.
pub fn summary(ctx: &Context, p: &Posterior, calibration: Option<(Value, Vec<bool>)>) -> Value {
    let channels = ctx.input.media.len();
    let spend_total: f64 = ctx.input.media.iter().flatten().sum();
    let effect_total: f64 = p.contribution.iter().map(|c| mean(c)).sum();
    let entries: Vec<Value> = (0..channels)
        .map(|c| channel_entry(ctx, p, c, (spend_total, effect_total)))
        .collect();
    let calibrated = calibration
        .as_ref()
        .map_or(vec![false; channels], |(_, c)| c.clone());
    let y = &ctx.input.y;
    let baseline_coefficients: Map<String, Value> = ctx
        .design
        .baseline_names
        .iter()
        .zip(&p.baseline_coefficients)
        .map(|(n, b)| (n.clone(), json!(b)))
        .collect();
    let sigma = parameter_mean(p, ctx.layout.log_sigma()) * ctx.design.y_scale;
    let health = crate::health::Health::new(y, ctx.fitted);
    let mut warnings = warnings(ctx, &calibrated);
    warnings.extend(health.warning());
    let mut out = json!({
        "model": "bayes-mmm",
        "channels": entries,
        "warnings": warnings,
        "health": health.to_json(),
        "baseline_contribution": ctx.baseline.iter().sum::<f64>(),
        "baseline": { "intercept": p.intercept, "coefficients": baseline_coefficients },
        "metrics": {
            "all": {
                "periods": y.len(),
                "r2": metrics::r_squared(y, ctx.fitted).ok(),
                "nrmse": metrics::nrmse(y, ctx.fitted).ok(),
                "mape": metrics::mape(y, ctx.fitted).ok(),
            },
            "sigma": sigma,
            "likelihood": match ctx.params.likelihood { crate::params::Likelihood::Normal => "normal", crate::params::Likelihood::StudentT => "student-t" },
        },
        "sampler": sampler_section(ctx),
        "priors": priors_section(ctx.params),
    });
    if let Some((section, _)) = calibration {
        out["calibration"] = section;
    }
    out
}

fn priors_section(params: &Params) -> Value {
    let p = &params.priors;
    json!({
        "roi": "per channel LogNormal(mu, sigma) (see channels[].roi_prior)",
        "theta": { "distribution": "beta", "a": p.theta.a, "b": p.theta.b },
        "shape": { "distribution": "lognormal", "mu": p.shape.mu, "sigma": p.shape.sigma },
        "scale": { "distribution": "beta", "a": p.scale.a, "b": p.scale.b },
        "alpha": { "distribution": "lognormal", "mu": p.alpha.mu, "sigma": p.alpha.sigma },
        "gamma": { "distribution": "beta", "a": p.gamma.a, "b": p.gamma.b },
        "intercept": { "distribution": "normal", "mu": p.intercept.mu, "sigma": p.intercept.sigma, "units": "mean KPI" },
        "baseline": { "distribution": "normal", "mu": 0.0, "sigma": p.baseline_sd, "units": "mean KPI per standard deviation of the regressor" },
        "sigma": { "distribution": "half-normal", "scale": p.sigma_scale, "units": "mean KPI" },
    })
}

/// The posterior-mean baseline per period, from the mean raw coefficients.
pub fn baseline_series(design: &Design, p: &Posterior) -> Vec<f64> {
    (0..design.len())
        .map(|t| {
            p.intercept
                + design
                    .baseline
                    .iter()
                    .zip(&p.baseline_coefficients)
                    .zip(design.baseline_sd.iter().zip(&design.baseline_center))
                    .map(|((col, b), (sd, center))| b * (col[t] * sd + center))
                    .sum::<f64>()
        })
        .collect()
}

/// Date, actual, fitted, baseline and each channel's contribution per
/// period: posterior means over the kept draws, so `predict` on the
/// history gives the same numbers.
pub fn decomposition(input: &Input, baseline: &[f64], p: &Posterior) -> Result<(Table, Vec<f64>)> {
    let fitted: Vec<f64> = (0..input.len())
        .map(|t| baseline[t] + p.channel_series.iter().map(|c| c[t]).sum::<f64>())
        .collect();
    let mut t = Table::new();
    t.set_dates("date", &input.dates)?;
    t.set_f64("actual", input.y.clone())?;
    t.set_f64("fitted", fitted.clone())?;
    t.set_f64("baseline", baseline.to_vec())?;
    for (name, series) in input.media_names.iter().zip(&p.channel_series) {
        t.set_f64(name, series.clone())?;
    }
    Ok((t, fitted))
}

/// Per channel, the steady-state response to a constant spend per period
/// from 0 to 3x the channel's mean spend, posterior mean and 90% interval
/// over the kept draws, and the mean marginal response.
pub fn response_curves(artifact: &Artifact, points: usize) -> Result<Table> {
    let mut columns: [Vec<f64>; 5] = Default::default();
    let mut channel = Vec::new();
    let mut values = vec![0.0; artifact.draws.len()];
    for (c, ch) in artifact.channels.iter().enumerate() {
        let mean_spend = mean(&ch.history);
        for p in 0..points {
            let s = 3.0 * mean_spend * p as f64 / (points - 1) as f64;
            let mut marginal = 0.0;
            for (v, d) in values.iter_mut().zip(&artifact.draws) {
                let d = &d.channels[c];
                let gain = d.steady_state_gain();
                *v = d.coefficient * d.hill(s * gain);
                marginal += d.coefficient * d.hill_derivative(s * gain) * gain;
            }
            let r = Interval::of(&values);
            channel.push(ch.name.as_str());
            for (col, v) in
                columns
                    .iter_mut()
                    .zip([s, r.mean, marginal / values.len() as f64, r.low, r.high])
            {
                col.push(v);
            }
        }
    }
    let [spend, response, marginal, low, high] = columns;
    let mut t = Table::new();
    t.set_strings("channel", &channel)?;
    t.set_f64("spend", spend)?;
    t.set_f64("response", response)?;
    t.set_f64("marginal_response", marginal)?;
    t.set_f64("response_low", low)?;
    t.set_f64("response_high", high)?;
    Ok(t)
}
