//! Test-only preprocessor for the runtime's guest-vs-native benchmark:
//! geometric adstock then Hill saturation (Robyn's parameterisation) on every
//! numeric column, with the SDK's building blocks. The bench runs the same
//! [`adstock_bench`] function natively and in the guest on the same data.

use mmm_sdk::prelude::*;
use mmm_sdk::{adstock, saturation};

/// The transform's hyperparameters, shared by every column.
#[params]
pub struct Params {
    /// Geometric decay in [0, 1] (default 0.5).
    #[serde(default = "default_theta")]
    pub theta: f64,
    /// Hill shape, above 0 (default 2).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Hill inflexion as a share of the adstocked range, in [0, 1] (default 0.5).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

fn default_theta() -> f64 {
    0.5
}

fn default_alpha() -> f64 {
    2.0
}

fn default_gamma() -> f64 {
    0.5
}

impl Default for Params {
    fn default() -> Self {
        Self {
            theta: default_theta(),
            alpha: default_alpha(),
            gamma: default_gamma(),
        }
    }
}

/// Adstocks then saturates every numeric column in place.
#[preprocessor(
    name = "adstock-bench",
    version = "0.1.0",
    description = "Geometric adstock + Hill saturation on every numeric column (benchmarks)"
)]
pub fn adstock_bench(mut data: Table, params: Params) -> Result<Table> {
    for mut column in data.numeric_columns_mut() {
        transform_column(&mut column, &params)?;
    }
    Ok(data)
}

/// The per-column transform: `x <- hill(geometric(x, theta), alpha, gamma)`.
pub fn transform_column(x: &mut [f64], params: &Params) -> Result<()> {
    adstock::geometric_in_place(x, params.theta)?;
    let hill = saturation::Hill::from_series(x, params.alpha, params.gamma)?;
    x.iter_mut().for_each(|v| *v = hill.value(*v));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adstocks_then_saturates() {
        let mut t = Table::new();
        t.set_f64("tv", vec![1.0, 0.0, 0.0]).unwrap();
        let out = mmm_sdk::testing::run_preprocessor(adstock_bench, &t, "{}").unwrap();
        // adstock [1, .5, .25]; inflexion .625; alpha 2: 1 / (1 + (.625 / x)^2)
        let expected: Vec<f64> = [1.0f64, 0.5, 0.25]
            .iter()
            .map(|x| 1.0 / (1.0 + (0.625 / x).powi(2)))
            .collect();
        let got = out.f64_column("tv").unwrap();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12, "{got:?} vs {expected:?}");
        }
    }
}
