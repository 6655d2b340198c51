//! What a lift test on the synthetic data would measure, from the truth:
//! the yardstick for calibrating a model with experiments.

use std::ops::Range;

use crate::Dataset;

impl Dataset {
    /// The true lift of channel `channel` over the periods `window`: its
    /// true contribution summed over the window with the spend that
    /// happened, minus the same with `counterfactual` spend (the spend
    /// without the test, as long as the history), carryover from zero in
    /// both. Carryover past the window is not counted, as a lift test's
    /// measurement usually does not; `mmm_sdk::experiments` reads a lift
    /// the same way, so a counterfactual built with its
    /// `Experiment::counterfactual` gives the lift that experiment should report.
    ///
    /// ```
    /// let data = mmm_synth::generate(&mmm_synth::SynthConfig::default());
    /// // Without channel 0's spend in weeks 10-17, the KPI would have been lower by:
    /// let mut without = data.media[0].1.clone();
    /// without[10..18].fill(0.0);
    /// let lift = data.true_lift(0, &without, 10..18);
    /// let in_window: f64 = data.contributions[0][10..18].iter().sum();
    /// assert!(lift > 0.0 && lift <= in_window);
    /// ```
    ///
    /// # Panics
    /// If `channel` is not a channel index, `counterfactual` is not as long
    /// as the history or `window` is not inside it.
    pub fn true_lift(&self, channel: usize, counterfactual: &[f64], window: Range<usize>) -> f64 {
        assert_eq!(
            counterfactual.len(),
            self.dates.len(),
            "a counterfactual spend per period"
        );
        let without = self.true_contribution(channel, counterfactual);
        self.contributions[channel][window.clone()]
            .iter()
            .zip(&without[window])
            .map(|(with, without)| with - without)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use crate::{SynthConfig, generate};

    #[test]
    fn going_dark_loses_the_window_contribution_but_not_the_carryover_into_it() {
        let data = generate(&SynthConfig {
            always_on: 5,
            ..Default::default()
        });
        let mut dark = data.media[1].1.clone();
        dark[40..48].fill(0.0);
        let lift = data.true_lift(1, &dark, 40..48);
        let in_window: f64 = data.contributions[1][40..48].iter().sum();
        // Adstock from the weeks before still reaches into the dark window.
        let carried = data.true_contribution(1, &dark)[40..48].iter().sum::<f64>();
        assert!(carried > 0.0);
        assert!((lift - (in_window - carried)).abs() < 1e-9 * in_window);
        let unchanged = data.true_lift(1, &data.media[1].1, 40..48);
        assert_eq!(unchanged, 0.0);
    }
}
