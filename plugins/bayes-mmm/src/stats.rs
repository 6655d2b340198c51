//! Posterior summaries of a set of draws: mean and the central 90% interval.

/// Lower and upper tail probabilities of the reported intervals.
pub const TAILS: [f64; 2] = [0.05, 0.95];

/// Mean and 5% / 95% quantiles of some draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn of(draws: &[f64]) -> Self {
        let mut sorted = draws.to_vec();
        sorted.sort_by(f64::total_cmp);
        Self {
            mean: draws.iter().sum::<f64>() / draws.len().max(1) as f64,
            low: quantile_sorted(&sorted, TAILS[0]),
            high: quantile_sorted(&sorted, TAILS[1]),
        }
    }
}

/// The `p` quantile of sorted values, interpolated as R's default (type 7).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_r() {
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        let s = Interval::of(&v);
        assert_eq!((s.mean, s.low, s.high), (6.0, 1.5, 10.5));
    }
}
