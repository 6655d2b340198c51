//! Outlier winsorising: clips numeric columns at a z-score or at quantiles.

use mmm_sdk::prelude::*;

/// Where to clip.
#[params]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Bounds {
    /// Clip to mean ± `max_z` population standard deviations.
    ZScore {
        /// Largest absolute z-score kept.
        max_z: f64,
    },
    /// Clip to the `lower` and `upper` quantiles (linear interpolation, R type 7).
    Quantile {
        /// Lower quantile in [0, 1].
        lower: f64,
        /// Upper quantile in [0, 1], above `lower`.
        upper: f64,
    },
}

/// How and which columns to clip.
#[params]
pub struct Params {
    /// The clipping rule.
    #[serde(flatten)]
    pub bounds: Bounds,
    /// Columns to clip; every numeric column when empty.
    #[serde(default)]
    pub columns: Vec<String>,
}

#[preprocessor(name = "winsorize", version = "0.1.0")]
fn winsorize(mut data: Table, params: Params) -> Result<Table> {
    match params.bounds {
        Bounds::ZScore { max_z } if max_z > 0.0 && max_z.is_finite() => {}
        Bounds::Quantile { lower, upper } if 0.0 <= lower && lower < upper && upper <= 1.0 => {}
        bounds => return Err(Error::invalid_params(format!("unusable bounds {bounds:?}"))),
    }
    let columns = match params.columns.is_empty() {
        true => data.numeric_column_names(),
        false => params.columns,
    };
    for name in &columns {
        clip(data.f64_column_mut(name)?, params.bounds);
    }
    Ok(data)
}

/// Clips the finite values of `x` in place; NaN (missing) stays missing.
pub fn clip(x: &mut [f64], bounds: Bounds) {
    let mut known: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if known.is_empty() {
        return;
    }
    let (lo, hi) = match bounds {
        Bounds::ZScore { max_z } => {
            let n = known.len() as f64;
            let mean = known.iter().sum::<f64>() / n;
            let sd = (known.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            (mean - max_z * sd, mean + max_z * sd)
        }
        Bounds::Quantile { lower, upper } => {
            known.sort_by(f64::total_cmp);
            (quantile(&known, lower), quantile(&known, upper))
        }
    };
    x.iter_mut()
        .filter(|v| !v.is_nan())
        .for_each(|v| *v = v.clamp(lo, hi));
}

/// Type-7 quantile of sorted, non-empty values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (below, above) = (h.floor() as usize, h.ceil() as usize);
    sorted[below] + (h - h.floor()) * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests;
