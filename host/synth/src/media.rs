//! The true media response: Robyn's recursive geometric adstock followed by
//! a Hill curve whose inflexion sits at `gamma` of the adstocked range.
//! [`adstock`] and [`hill`] are the two steps on their own, for evaluating
//! the response with the inflexion held at the absolute value it took on the
//! generated history (what the truth's response to other spend means).
//!
//! Written independently of the SDK's transforms on purpose: the accuracy
//! tests fit the SDK-based model to this data, so a shared bug cannot cancel out.

/// One channel's true response parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Response {
    pub theta: f64,
    pub alpha: f64,
    pub gamma: f64,
}

/// What the true response does to one spend series.
pub(crate) struct Applied {
    /// Adstocked spend, `a_t = x_t + theta a_{t-1}`.
    pub adstocked: Vec<f64>,
    /// Hill-saturated adstock in `[0, 1)`.
    pub saturated: Vec<f64>,
    /// Absolute inflexion `(1 - gamma) min(a) + gamma max(a)`.
    pub inflexion: f64,
}

impl Response {
    pub(crate) fn apply(&self, spend: &[f64]) -> Applied {
        let adstocked = adstock(self.theta, spend);
        let min = adstocked.iter().copied().fold(f64::INFINITY, f64::min);
        let max = adstocked.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let inflexion = (1.0 - self.gamma) * min + self.gamma * max;
        let saturated = adstocked
            .iter()
            .map(|&a| hill(a, self.alpha, inflexion))
            .collect();
        Applied {
            adstocked,
            saturated,
            inflexion,
        }
    }
}

/// Geometric adstock `a_t = x_t + theta a_{t-1}`, carryover from zero.
pub(crate) fn adstock(theta: f64, spend: &[f64]) -> Vec<f64> {
    let mut adstocked = Vec::with_capacity(spend.len());
    let mut carry = 0.0;
    for &x in spend {
        carry = x + theta * carry;
        adstocked.push(carry);
    }
    adstocked
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adstock_and_hill_match_hand_computed_values() {
        // theta 0.5: [2, 0, 2] -> [2, 1, 2.5]; range [1, 2.5], gamma 0.5 -> k = 1.75
        // alpha 1: 2/3.75, 1/2.75, 2.5/4.25
        let r = Response {
            theta: 0.5,
            alpha: 1.0,
            gamma: 0.5,
        };
        let out = r.apply(&[2.0, 0.0, 2.0]);
        assert_eq!(out.adstocked, vec![2.0, 1.0, 2.5]);
        assert_eq!(out.inflexion, 1.75);
        let expected = [2.0 / 3.75, 1.0 / 2.75, 2.5 / 4.25];
        for (s, e) in out.saturated.iter().zip(expected) {
            assert!((s - e).abs() < 1e-15);
        }
    }
}
