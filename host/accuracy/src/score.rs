//! A fit read against the truth: per channel, the relative ROI error and
//! whether the 90% interval holds the true ROI.

use mmm_synth::Dataset;

/// Per-channel scores of one fit (or of the oracle, without intervals).
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// `|roi - true roi| / true roi` per channel.
    pub errors: Vec<f64>,
    /// Whether each channel's interval holds the true ROI (empty for the oracle).
    pub covered: Vec<bool>,
    /// The ROIs scored.
    pub rois: Vec<f64>,
}

impl Score {
    /// Scores ROIs (and intervals, when given) against the truth.
    pub fn new(data: &Dataset, rois: &[f64], intervals: &[[f64; 2]]) -> Self {
        let truth = &data.truth.channels;
        Self {
            errors: rois
                .iter()
                .zip(truth)
                .map(|(roi, t)| (roi - t.roi).abs() / t.roi)
                .collect(),
            covered: intervals
                .iter()
                .zip(truth)
                .map(|([low, high], t)| *low <= t.roi && t.roi <= *high)
                .collect(),
            rois: rois.to_vec(),
        }
    }

    /// Mean relative ROI error over the channels (NaN errors count as 1: a
    /// model that reports no ROI is as wrong as one that reports zero).
    pub fn mean_error(&self) -> f64 {
        let sum: f64 = self
            .errors
            .iter()
            .map(|e| if e.is_finite() { *e } else { 1.0 })
            .sum();
        sum / self.errors.len().max(1) as f64
    }

    /// Only the channels `keep` selects.
    pub fn only(&self, keep: impl Fn(usize) -> bool) -> Self {
        fn pick<T: Copy>(v: &[T], keep: &impl Fn(usize) -> bool) -> Vec<T> {
            (0..v.len()).filter(|&c| keep(c)).map(|c| v[c]).collect()
        }
        Self {
            errors: pick(&self.errors, &keep),
            rois: pick(&self.rois, &keep),
            covered: pick(&self.covered, &keep),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmm_synth::{SynthConfig, generate};

    #[test]
    fn errors_and_coverage_read_against_the_truth() {
        let data = generate(&SynthConfig {
            channels: 2,
            ..SynthConfig::default()
        });
        let truth: Vec<f64> = data.truth.channels.iter().map(|c| c.roi).collect();
        let rois = [truth[0] * 1.5, f64::NAN];
        let intervals = [[0.0, truth[0]], [truth[1] * 2.0, truth[1] * 3.0]];
        let score = Score::new(&data, &rois, &intervals);
        assert!((score.errors[0] - 0.5).abs() < 1e-12);
        assert_eq!(score.covered, vec![true, false]);
        assert!((score.mean_error() - 0.75).abs() < 1e-12);
        assert_eq!(score.only(|c| c == 1).covered, vec![false]);
    }
}
