//! NUTS from `nuts-rs` (a low-rank or diagonal mass matrix and the step
//! size adapted during warm-up), on the density's sampled coordinates
//! (draws are handed back in the model's), chains run one after another on the calling thread so that a
//! seed gives bit-identical draws. Each chain has its own ChaCha8 stream
//! derived from the seed and the chain's index, and starts from a jittered
//! point near the priors' centre.

use std::collections::HashMap;

use mmm_sdk::prelude::*;
use nuts_rs::rand::rngs::ChaCha8Rng;
use nuts_rs::rand::{RngExt, SeedableRng};
use nuts_rs::{
    Chain as _, CpuLogpFunc, CpuMath, CpuMathError, DiagNutsSettings, HasDims, LogpError,
    LowRankNutsSettings,
};

use crate::density::Density;

/// How many iterations pass between progress reports to the host.
const REPORT_EVERY: u64 = 25;

/// The sampler's settings (from [`crate::Params`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub chains: u32,
    pub warmup: u32,
    pub draws: u32,
    pub seed: u64,
    pub max_tree_depth: u32,
    pub target_accept: f64,
    /// Adapt a low-rank-plus-diagonal mass matrix instead of a diagonal one.
    pub low_rank: bool,
}

/// One chain's draws (unconstrained, one vector per draw) and statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub draws: Vec<Vec<f64>>,
    /// Divergent transitions after warm-up.
    pub divergences: usize,
    /// The step size warm-up settled on.
    pub step_size: f64,
    /// Gradient evaluations, warm-up included.
    pub gradients: u64,
    /// Mean leapfrog steps per draw after warm-up.
    pub mean_steps: f64,
}

/// The log density as nuts-rs calls it.
#[derive(Debug, Clone)]
struct Logp(Density);

/// A non-finite log density: NUTS treats it as a divergence and moves on.
#[derive(Debug)]
struct NonFinite;

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the log density is not finite here")
    }
}

impl std::error::Error for NonFinite {}

impl LogpError for NonFinite {
    fn is_recoverable(&self) -> bool {
        true
    }
}

impl HasDims for Logp {
    fn dim_sizes(&self) -> HashMap<String, u64> {
        HashMap::from([("unconstrained_parameter".to_owned(), self.0.dim() as u64)])
    }
}

impl CpuLogpFunc for Logp {
    type LogpError = NonFinite;
    type FlowParameters = ();
    type ExpandedVector = Vec<f64>;

    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn logp(&mut self, position: &[f64], gradient: &mut [f64]) -> Result<f64, NonFinite> {
        let lp = self.0.logp_sampled(position, gradient);
        if lp.is_finite() && gradient.iter().all(|g| g.is_finite()) {
            Ok(lp)
        } else {
            Err(NonFinite)
        }
    }

    fn expand_vector<R: nuts_rs::rand::Rng + ?Sized>(
        &mut self,
        _rng: &mut R,
        array: &[f64],
    ) -> Result<Vec<f64>, CpuMathError> {
        Ok(array.to_vec())
    }
}

/// Runs every chain from `start` (jittered per chain); `progress` sees
/// (iterations done, total) now and then and stops the fit with its error.
pub fn sample(
    density: &Density,
    start: &[f64],
    settings: Settings,
    progress: impl FnMut(u64, u64) -> Result<()>,
) -> Result<Vec<Chain>> {
    macro_rules! configured {
        ($kind:ty) => {{
            let mut nuts = <$kind>::default();
            nuts.num_tune = u64::from(settings.warmup);
            nuts.num_draws = u64::from(settings.draws);
            nuts.maxdepth = u64::from(settings.max_tree_depth);
            nuts.num_chains = settings.chains as usize;
            nuts.seed = settings.seed;
            nuts.adapt_options.step_size_settings.target_accept = settings.target_accept;
            nuts
        }};
    }
    if settings.low_rank {
        run(
            configured!(LowRankNutsSettings),
            density,
            start,
            settings,
            progress,
        )
    } else {
        run(
            configured!(DiagNutsSettings),
            density,
            start,
            settings,
            progress,
        )
    }
}

fn start_error(e: impl std::fmt::Display) -> Error {
    Error::numerical(format!("NUTS could not start: {e}"))
}

fn run(
    nuts: impl nuts_rs::Settings,
    density: &Density,
    start: &[f64],
    settings: Settings,
    mut progress: impl FnMut(u64, u64) -> Result<()>,
) -> Result<Vec<Chain>> {
    let per_chain = u64::from(settings.warmup + settings.draws);
    let total = per_chain * u64::from(settings.chains);
    let mut chains = Vec::with_capacity(settings.chains as usize);
    for chain in 0..u64::from(settings.chains) {
        let mut rng = ChaCha8Rng::seed_from_u64(
            settings.seed ^ (chain + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let init: Vec<f64> = density
            .to_sampled(start)
            .iter()
            .map(|v| v + rng.random_range(-0.5..0.5))
            .collect();
        let math = CpuMath::new(Logp(density.clone()));
        let mut sampler = nuts.new_chain(chain, math, &mut rng).map_err(start_error)?;
        sampler.set_position(&init).map_err(start_error)?;
        let mut out = Chain {
            draws: Vec::with_capacity(settings.draws as usize),
            divergences: 0,
            step_size: 0.0,
            gradients: 0,
            mean_steps: 0.0,
        };
        for i in 0..per_chain {
            let (draw, info) = sampler
                .draw()
                .map_err(|e| Error::numerical(format!("NUTS failed: {e}")))?;
            out.gradients += info.num_gradients;
            if !info.tuning {
                out.divergences += usize::from(info.diverging);
                out.step_size = info.step_size;
                out.mean_steps += info.num_steps as f64;
                let mut draw = draw.into_vec();
                density.to_raw(&mut draw);
                out.draws.push(draw);
            }
            let done = chain * per_chain + i + 1;
            if done.is_multiple_of(REPORT_EVERY) {
                progress(done, total)?;
            }
        }
        out.mean_steps /= out.draws.len().max(1) as f64;
        chains.push(out);
    }
    progress(total, total)?;
    Ok(chains)
}
