//! The true media response: an adstock (how spend carries over into later
//! weeks) followed by a saturation curve (how the carried-over spend turns
//! into KPI), each from one of several families.
//!
//! The default pair is the models' own: Robyn's recursive geometric adstock
//! and a Hill curve whose inflexion sits at `gamma` of the adstocked range.
//! The others are there so that a benchmark can judge models on data they
//! were not built from: a Weibull survival kernel (long, flexible decay), a
//! delayed kernel that peaks weeks after the spend (Jin et al. 2017), the
//! concave logistic of PyMC-Marketing, `(1 - e^-u) / (1 + e^-u)`, and
//! Michaelis–Menten with its half-saturation point anywhere from well inside
//! to well beyond the spend the history saw.
//!
//! Every curve is evaluated with its scale held at the absolute value the
//! generated history set (what the truth's response to other spend means).
//! Written independently of the SDK's transforms on purpose: the accuracy
//! tests fit the SDK-based models to this data, so a shared bug cannot cancel out.

use serde::Serialize;

/// Lags a kernel adstock reaches back (weeks, the current one included).
pub const KERNEL_LAGS: usize = 13;

/// How spend carries over into later periods.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Adstock {
    /// Robyn's recursive geometric decay, `a_t = x_t + theta a_{t-1}`.
    Geometric {
        /// Share carried into the next period.
        theta: f64,
    },
    /// Weibull survival kernel `w_l = exp(-(l / scale)^shape)` over
    /// [`KERNEL_LAGS`] lags: weight 1 at lag 0, decay as slow or as
    /// sudden as the shape says.
    Weibull {
        /// Weibull shape: below 1 a long tail, above 1 a shoulder then a drop.
        shape: f64,
        /// Lag (weeks) at which the weight has fallen to `1/e`.
        scale: f64,
    },
    /// Delayed kernel `w_l = theta^((l - peak)^2)` over [`KERNEL_LAGS`] lags:
    /// the effect peaks `peak` weeks after the spend.
    Delayed {
        /// Decay around the peak.
        theta: f64,
        /// Lag (weeks) of the largest weight.
        peak: f64,
    },
}

/// How adstocked spend saturates into KPI: a curve from 0 at 0 rising towards 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Saturation {
    /// `a^alpha / (a^alpha + inflexion^alpha)`.
    Hill {
        /// Shape: S-shaped above 1.
        alpha: f64,
        /// The inflexion as Robyn's `gamma` over the adstocked range of the history.
        gamma: f64,
        /// The same inflexion in adstocked-spend units.
        inflexion: f64,
    },
    /// PyMC-Marketing's logistic `(1 - e^-u) / (1 + e^-u)` with `u = a / scale`.
    Logistic {
        /// Adstocked spend per unit of `u` (absolute).
        scale: f64,
    },
    /// Michaelis–Menten `a / (a + half)`.
    MichaelisMenten {
        /// Adstocked spend at half saturation (absolute).
        half: f64,
    },
}

impl Adstock {
    /// The adstocked series, carryover from zero.
    pub fn apply(&self, spend: &[f64]) -> Vec<f64> {
        match *self {
            Self::Geometric { theta } => {
                let mut carry = 0.0;
                spend
                    .iter()
                    .map(|&x| {
                        carry = x + theta * carry;
                        carry
                    })
                    .collect()
            }
            Self::Weibull { .. } | Self::Delayed { .. } => {
                let kernel = self.kernel();
                (0..spend.len())
                    .map(|t| {
                        kernel
                            .iter()
                            .enumerate()
                            .take(t + 1)
                            .map(|(l, w)| w * spend[t - l])
                            .sum()
                    })
                    .collect()
            }
        }
    }

    /// Weights by lag of a kernel adstock (empty for the recursive geometric one).
    fn kernel(&self) -> Vec<f64> {
        let weight = |l: f64| match *self {
            Self::Geometric { .. } => 0.0,
            Self::Weibull { shape, scale } => (-(l / scale).powf(shape)).exp(),
            Self::Delayed { theta, peak } => theta.powf((l - peak).powi(2)),
        };
        match self {
            Self::Geometric { .. } => Vec::new(),
            _ => (0..KERNEL_LAGS).map(|l| weight(l as f64)).collect(),
        }
    }
}

impl Saturation {
    /// The curve at adstocked spend `a`, in `[0, 1)`; zero for `a <= 0`.
    pub fn at(&self, a: f64) -> f64 {
        if a <= 0.0 {
            return 0.0;
        }
        match *self {
            Self::Hill {
                alpha, inflexion, ..
            } => hill(a, alpha, inflexion),
            Self::Logistic { scale } => {
                let e = (-a / scale).exp();
                (1.0 - e) / (1.0 + e)
            }
            Self::MichaelisMenten { half } => a / (a + half),
        }
    }

    /// `a h'(a)`: how much the curve grows when `a` grows by a small share,
    /// per unit of that share (what a marginal ROI sums).
    pub fn elasticity(&self, a: f64) -> f64 {
        if a <= 0.0 {
            return 0.0;
        }
        let h = self.at(a);
        match *self {
            Self::Hill { alpha, .. } => alpha * h * (1.0 - h),
            Self::Logistic { scale } => a / scale * (1.0 - h * h) / 2.0,
            Self::MichaelisMenten { .. } => h * (1.0 - h),
        }
    }
}

/// What the true response does to one spend series.
pub(crate) struct Applied {
    pub adstocked: Vec<f64>,
    /// The saturated adstock in `[0, 1)`.
    pub saturated: Vec<f64>,
}

/// Applies `adstock` then `saturation`.
pub(crate) fn apply(adstock: &Adstock, saturation: &Saturation, spend: &[f64]) -> Applied {
    let adstocked = adstock.apply(spend);
    let saturated = adstocked.iter().map(|&a| saturation.at(a)).collect();
    Applied {
        adstocked,
        saturated,
    }
}

/// Hill saturation of adstock `a` with shape `alpha` and absolute
/// `inflexion`, in `[0, 1)`; zero for `a <= 0`.
pub(crate) fn hill(a: f64, alpha: f64, inflexion: f64) -> f64 {
    if a <= 0.0 {
        0.0
    } else {
        a.powf(alpha) / (a.powf(alpha) + inflexion.powf(alpha))
    }
}

/// `(min, max)` of a series.
pub(crate) fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adstock_and_hill_match_hand_computed_values() {
        // theta 0.5: [2, 0, 2] -> [2, 1, 2.5]; range [1, 2.5], gamma 0.5 -> k = 1.75
        // alpha 1: 2/3.75, 1/2.75, 2.5/4.25
        let adstocked = Adstock::Geometric { theta: 0.5 }.apply(&[2.0, 0.0, 2.0]);
        assert_eq!(adstocked, vec![2.0, 1.0, 2.5]);
        let hill = Saturation::Hill {
            alpha: 1.0,
            gamma: 0.5,
            inflexion: 1.75,
        };
        let expected = [2.0 / 3.75, 1.0 / 2.75, 2.5 / 4.25];
        for (a, e) in adstocked.iter().zip(expected) {
            assert!((hill.at(*a) - e).abs() < 1e-15);
        }
    }

    #[test]
    fn kernels_carry_spend_forward_with_their_shape() {
        let mut pulse = vec![0.0; 20];
        pulse[0] = 1.0;
        let delayed = Adstock::Delayed {
            theta: 0.5,
            peak: 2.0,
        }
        .apply(&pulse);
        // 0.5^4, 0.5^1, 1, 0.5, 0.5^4, ... then nothing past the kernel.
        assert_eq!(&delayed[..4], &[0.0625, 0.5, 1.0, 0.5]);
        assert_eq!(delayed[KERNEL_LAGS], 0.0);
        let weibull = Adstock::Weibull {
            shape: 1.0,
            scale: 2.0,
        }
        .apply(&pulse);
        assert_eq!(weibull[0], 1.0);
        assert!((weibull[2] - (-1.0f64).exp()).abs() < 1e-15);
    }

    #[test]
    fn elasticities_are_the_numerical_derivative() {
        let curves = [
            Saturation::Hill {
                alpha: 2.0,
                gamma: 0.5,
                inflexion: 3.0,
            },
            Saturation::Logistic { scale: 2.0 },
            Saturation::MichaelisMenten { half: 4.0 },
        ];
        for s in curves {
            for a in [0.5, 3.0, 9.0] {
                let h = 1e-6 * a;
                let numeric = a * (s.at(a + h) - s.at(a - h)) / (2.0 * h);
                assert!((s.elasticity(a) - numeric).abs() < 1e-7, "{s:?} at {a}");
            }
        }
    }
}
