//! Media transforms of one candidate: adstock then Hill saturation, written
//! into reused buffers (the SDK's `_into` forms), and the search space that
//! maps a gene vector in `[0, 1]^d` to hyperparameters.

use mmm_sdk::adstock::{self, WeibullKind};
use mmm_sdk::prelude::*;
use mmm_sdk::saturation::{Hill, hill_inflexion};

use crate::params::{Adstock, ChannelBounds};

/// Kernel weights below this fraction of the largest are dropped: they
/// change no printed digit but cost a multiply-add per period each.
const KERNEL_CUTOFF: f64 = 1e-10;

/// One channel's adstock hyperparameters.
#[artifact]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AdstockHyper {
    /// Robyn's recursive geometric adstock.
    Geometric { theta: f64 },
    /// Robyn's Weibull CDF kernel; `scale` is relative to the series length.
    WeibullCdf { shape: f64, scale: f64 },
    /// Robyn's Weibull PDF kernel.
    WeibullPdf { shape: f64, scale: f64 },
}

/// One channel's transform hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelHyper {
    pub adstock: AdstockHyper,
    pub alpha: f64,
    pub gamma: f64,
}

/// How the adstock was applied: the lag-0 weight (for the carryover split)
/// and, for kernel adstocks, the number of weights kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Applied {
    pub immediate_weight: f64,
    pub kernel_len: usize,
    pub hill: Hill,
}

/// Adstocks `x` into `adstocked`; kernel adstocks build their weights in
/// `weights` (as long as `x`) and keep the first `kernel_len` of them.
pub fn adstock_into(
    x: &[f64],
    hyper: AdstockHyper,
    weights: &mut [f64],
    adstocked: &mut [f64],
) -> Result<(f64, usize)> {
    let numeric = |e: adstock::AdstockError| Error::numerical(e.to_string());
    let (kind, shape, scale) = match hyper {
        AdstockHyper::Geometric { theta } => {
            adstock::geometric_into(x, adstocked, theta).map_err(numeric)?;
            return Ok((1.0, 0));
        }
        AdstockHyper::WeibullCdf { shape, scale } => (WeibullKind::Cdf, shape, scale),
        AdstockHyper::WeibullPdf { shape, scale } => (WeibullKind::Pdf, shape, scale),
    };
    adstock::weibull_weights_into(weights, kind, shape, scale).map_err(numeric)?;
    let max = weights.iter().copied().fold(0.0, f64::max);
    let kernel_len = weights
        .iter()
        .rposition(|&w| w > KERNEL_CUTOFF * max)
        .map_or(1, |i| i + 1);
    adstock::convolve_into(x, adstocked, &weights[..kernel_len]).map_err(numeric)?;
    Ok((weights[0], kernel_len))
}

/// Adstock then Hill-saturate one channel (inflexion from the adstocked
/// range of all periods, as Robyn takes it over its modelling window).
pub fn transform_into(
    x: &[f64],
    hyper: &ChannelHyper,
    weights: &mut [f64],
    adstocked: &mut [f64],
    saturated: &mut [f64],
) -> Result<Applied> {
    let (immediate_weight, kernel_len) = adstock_into(x, hyper.adstock, weights, adstocked)?;
    let numeric = |e: mmm_sdk::saturation::SaturationError| Error::numerical(e.to_string());
    let inflexion = hill_inflexion(adstocked, hyper.gamma).map_err(numeric)?;
    let hill = Hill::new(hyper.alpha, inflexion).map_err(numeric)?;
    hill.apply_into(adstocked, saturated).map_err(numeric)?;
    Ok(Applied {
        immediate_weight,
        kernel_len,
        hill,
    })
}

/// Maps genes in `[0, 1]` to hyperparameters: per channel the adstock
/// genes (theta, or shape and scale), alpha and gamma, linear in their
/// bounds; then one gene for lambda, log-uniform in `[lambda_min, lambda_max]`.
#[derive(Debug, Clone)]
pub struct Space {
    pub adstock: Adstock,
    pub bounds: Vec<ChannelBounds>,
    pub lambda: [f64; 2],
}

impl Space {
    fn genes_per_channel(&self) -> usize {
        match self.adstock {
            Adstock::Geometric => 3,
            Adstock::WeibullCdf | Adstock::WeibullPdf => 4,
        }
    }

    /// Number of genes.
    pub fn dim(&self) -> usize {
        self.bounds.len() * self.genes_per_channel() + 1
    }

    /// Writes each channel's hyperparameters into `out`; returns lambda.
    pub fn decode(&self, genes: &[f64], out: &mut [ChannelHyper]) -> f64 {
        let lerp = |[lo, hi]: [f64; 2], g: f64| lo + (hi - lo) * g;
        let k = self.genes_per_channel();
        for ((b, g), h) in self
            .bounds
            .iter()
            .zip(genes.chunks_exact(k))
            .zip(out.iter_mut())
        {
            let adstock = match self.adstock {
                Adstock::Geometric => AdstockHyper::Geometric {
                    theta: lerp(b.theta, g[0]),
                },
                Adstock::WeibullCdf => AdstockHyper::WeibullCdf {
                    shape: lerp(b.shape, g[0]),
                    scale: lerp(b.scale, g[1]),
                },
                Adstock::WeibullPdf => AdstockHyper::WeibullPdf {
                    shape: lerp(b.shape, g[0]),
                    scale: lerp(b.scale, g[1]),
                },
            };
            *h = ChannelHyper {
                adstock,
                alpha: lerp(b.alpha, g[k - 2]),
                gamma: lerp(b.gamma, g[k - 1]),
            };
        }
        let [lo, hi] = self.lambda;
        lo * (hi / lo).powf(genes[genes.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_then_hill_matches_hand_computed_values() {
        // theta 0.5: [2, 0, 2] -> [2, 1, 2.5]; range [1, 2.5], gamma 0.5 -> k 1.75;
        // alpha 1: a / (a + 1.75)
        let hyper = ChannelHyper {
            adstock: AdstockHyper::Geometric { theta: 0.5 },
            alpha: 1.0,
            gamma: 0.5,
        };
        let (mut w, mut a, mut s) = ([0.0; 3], [0.0; 3], [0.0; 3]);
        let applied = transform_into(&[2.0, 0.0, 2.0], &hyper, &mut w, &mut a, &mut s).unwrap();
        assert_eq!(a, [2.0, 1.0, 2.5]);
        assert_eq!(applied.hill.inflexion(), 1.75);
        for (v, e) in s.iter().zip([2.0 / 3.75, 1.0 / 2.75, 2.5 / 4.25]) {
            assert!((v - e).abs() < 1e-15);
        }
    }

    #[test]
    fn weibull_kernel_is_truncated_where_weights_vanish() {
        // windlen 40, scale 0.05 -> absolute scale round(1 + 39 * 0.05) = round(2.95) = 3;
        // shape 2: w_l = prod exp(-(j/3)^2) falls below 1e-10 within ~7 lags.
        let x: Vec<f64> = (0..40).map(|t| if t == 0 { 1.0 } else { 0.0 }).collect();
        let (mut w, mut a) = (vec![0.0; 40], vec![0.0; 40]);
        let hyper = AdstockHyper::WeibullCdf {
            shape: 2.0,
            scale: 0.05,
        };
        let (w0, len) = adstock_into(&x, hyper, &mut w, &mut a).unwrap();
        assert_eq!(w0, 1.0);
        assert!(len < 10, "{len}");
        // lag 1: exp(-(1/3)^2)
        assert!((a[1] - (-1.0f64 / 9.0).exp()).abs() < 1e-15);
    }

    #[test]
    fn genes_decode_linearly_in_bounds_and_lambda_log_uniformly() {
        let space = Space {
            adstock: Adstock::Geometric,
            bounds: vec![ChannelBounds::ROBYN],
            lambda: [1e-4, 1.0],
        };
        assert_eq!(space.dim(), 4);
        let mut h = [ChannelHyper {
            adstock: AdstockHyper::Geometric { theta: 0.0 },
            alpha: 0.0,
            gamma: 0.0,
        }];
        let lambda = space.decode(&[0.5, 0.0, 1.0, 0.5], &mut h);
        assert_eq!(h[0].adstock, AdstockHyper::Geometric { theta: 0.4 });
        assert_eq!((h[0].alpha, h[0].gamma), (0.5, 1.0));
        assert!((lambda - 1e-2).abs() < 1e-15);
    }
}
