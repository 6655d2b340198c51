//! From draws of the unconstrained vector to what the analyst reads: per
//! draw each channel's ROI, contribution, mROI and carryover share on the
//! KPI's own scale, each lift test's implied lift, the constrained
//! parameters (for the diagnostics), and an evenly thinned set of draws
//! kept whole for `predict`, the decomposition and the response curves.

use crate::artifact::{DrawArtifact, DrawChannel};
use crate::density::Density;
use crate::design::Design;
use crate::sampler::Chain;

/// Per-draw quantities over all chains' draws (chain after chain).
#[derive(Debug, Clone)]
pub struct Posterior {
    /// `[channel][draw]`.
    pub roi: Vec<Vec<f64>>,
    pub contribution: Vec<Vec<f64>>,
    pub mroi: Vec<Vec<f64>>,
    pub carryover: Vec<Vec<f64>>,
    /// `[experiment][draw]`, KPI units.
    pub implied_lift: Vec<Vec<f64>>,
    /// `[parameter][chain][draw]`, constrained, in the layout's order.
    pub parameters: Vec<Vec<Vec<f64>>>,
    /// The thinned draws, whole.
    pub kept: Vec<DrawArtifact>,
    /// Mean over the kept draws of each channel's contribution per period.
    pub channel_series: Vec<Vec<f64>>,
    /// Mean over the kept draws of the intercept and raw baseline coefficients.
    pub intercept: f64,
    pub baseline_coefficients: Vec<f64>,
}

/// Evaluates every draw; keeps `kept` of them, evenly spaced.
pub fn summarise(
    density: &mut Density,
    design: &Design,
    chains: &[Chain],
    kept: usize,
) -> Posterior {
    let layout = density.model.layout;
    let (channels, n) = (layout.channels, design.len());
    let total: usize = chains.iter().map(|c| c.draws.len()).sum();
    let per_channel = || vec![Vec::with_capacity(total); channels];
    let mut p = Posterior {
        roi: per_channel(),
        contribution: per_channel(),
        mroi: per_channel(),
        carryover: per_channel(),
        implied_lift: vec![Vec::with_capacity(total); density.model.lifts.len()],
        parameters: vec![vec![Vec::new(); chains.len()]; layout.dim()],
        kept: Vec::with_capacity(kept),
        channel_series: vec![vec![0.0; n]; channels],
        intercept: 0.0,
        baseline_coefficients: vec![0.0; layout.baseline],
    };
    let spend: Vec<f64> = design.media.iter().map(|x| x.iter().sum()).collect();
    let mut next_kept = 0;
    let mut index = 0;
    for (m, chain) in chains.iter().enumerate() {
        for z in &chain.draws {
            density.forward(z);
            for (i, v) in layout.constrained(z).into_iter().enumerate() {
                p.parameters[i][m].push(v);
            }
            for (c, s) in density.channels.iter().enumerate() {
                let raw_spend = spend[c] * design.spend_scale[c];
                let contribution = design.y_scale * s.scale * s.saturated_total;
                let curvature: f64 = s.h.iter().map(|h| h * (1.0 - h)).sum();
                p.roi[c].push(contribution / raw_spend);
                p.contribution[c].push(contribution);
                p.mroi[c].push(design.y_scale * s.scale * s.alpha * curvature / raw_spend);
                let adstocked: f64 = s.a.iter().sum();
                let immediate = s.adstock.immediate_weight() * spend[c];
                p.carryover[c].push(if adstocked > 0.0 {
                    1.0 - immediate / adstocked
                } else {
                    0.0
                });
            }
            for (e, state) in density.lifts.iter().enumerate() {
                p.implied_lift[e].push(design.y_scale * state.implied);
            }
            // Draw `index` is kept when it is the next of `kept` evenly spaced ones.
            if next_kept < kept && index == next_kept * total / kept {
                keep(&mut p, density, design, z);
                next_kept += 1;
            }
            index += 1;
        }
    }
    let k = p.kept.len().max(1) as f64;
    p.channel_series.iter_mut().flatten().for_each(|v| *v /= k);
    p.intercept /= k;
    p.baseline_coefficients.iter_mut().for_each(|v| *v /= k);
    p
}

/// Stores the evaluated draw `z` whole and adds it to the kept-draw means.
fn keep(p: &mut Posterior, density: &Density, design: &Design, z: &[f64]) {
    let layout = density.model.layout;
    let coefficients: Vec<f64> = (0..layout.baseline)
        .map(|j| z[layout.baseline_coefficient(j)])
        .collect();
    let (intercept, raw) = design.unscale_baseline(z[layout.intercept()], &coefficients);
    p.intercept += intercept;
    p.baseline_coefficients
        .iter_mut()
        .zip(&raw)
        .for_each(|(s, v)| *s += v);
    let channels = density
        .channels
        .iter()
        .enumerate()
        .map(|(c, s)| {
            let coefficient = design.y_scale * s.scale;
            for (o, h) in p.channel_series[c].iter_mut().zip(&s.h) {
                *o += coefficient * h;
            }
            DrawChannel {
                adstock: s.adstock.hyper(),
                kernel: s.adstock.kernel().to_vec(),
                alpha: s.alpha,
                inflexion: s.k * design.spend_scale[c],
                coefficient,
            }
        })
        .collect();
    p.kept.push(DrawArtifact { channels });
}
