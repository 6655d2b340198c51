//! Synthetic weekly marketing data with known ground truth.
//!
//! [`generate`] draws spend for each channel, pushes it through a known
//! adstock and saturation (by default the models' own geometric adstock and
//! Hill curve; [`AdstockFamily`] and [`SaturationFamily`] pick others), adds
//! a baseline (intercept, linear trend, yearly seasonality, two controls,
//! optionally a level shift no linear trend can follow) and Gaussian noise, and records
//! the true contribution, ROI and marginal ROI of every channel in a
//! [`Truth`]. Everything follows from [`SynthConfig::seed`]: the same config
//! gives bit-identical data on every platform.
//!
//! The truth also answers questions about spend that never happened:
//! [`ChannelTruth::response`] and [`Dataset::true_media_response`] evaluate
//! the true curves (inflexion held where the history put it) on any spend,
//! and [`Dataset::true_optimum`] finds the best allocation of a budget by
//! exhaustive grid search, the yardstick for a budget optimiser's advice;
//! [`Dataset::true_lift`] is what a lift test on the data would measure.
//!
//! [`SynthConfig::roi_range`] sets the spread of the true ROIs and
//! [`SynthConfig::draw_media_share`] draws the media share per dataset;
//! [`SynthConfig::wide_spread`] is the preset with both widened (ROIs
//! 0.4-4, media 30-50% of the KPI). The defaults give the data they always did.
//! [`suite`] is the benchmark: presets that reach beyond the models'
//! assumptions (other adstock and saturation families, correlated and
//! always-on channels, 2-15% noise, 104-260 weeks, 3-12 channels).
//!
//! ```
//! let data = mmm_synth::generate(&mmm_synth::SynthConfig { seed: 7, ..Default::default() });
//! assert_eq!(data.dates.len(), 156);
//! assert_eq!(data.media.len(), 5);
//! let roi = data.truth.channels[0].roi;
//! assert!(roi > 0.0);
//! // CSV text with a header `date,kpi,<media...>,<controls...>`.
//! assert!(data.to_csv().starts_with("date,revenue,tv,"));
//! ```

mod lift;
mod media;
mod optimum;
mod output;
mod rng;
pub mod suite;
mod truth;

use chrono::{Datelike, NaiveDate};

pub use media::{Adstock, KERNEL_LAGS, Saturation};
pub use optimum::{OptimumError, TrueOptimum};
pub use output::Roles;
pub use truth::{BaselineTruth, ChannelTruth, Truth, shift_shape};

use rng::Rng;

/// Channel names, in column order; more channels are named `channel_6`, ...
const CHANNEL_NAMES: [&str; 5] = ["tv", "search", "social", "display", "radio"];
/// Yearly Fourier order of the true seasonality.
const FOURIER_ORDER: usize = 2;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Seeds every random draw.
    pub seed: u64,
    /// Number of weekly periods.
    pub weeks: usize,
    /// Number of media channels.
    pub channels: usize,
    /// Noise standard deviation as a fraction of the mean noise-free KPI.
    pub noise: f64,
    /// Target share of the noise-free KPI total that media drive (see
    /// [`SynthConfig::draw_media_share`] to draw it per dataset).
    pub media_share: f64,
    /// Range `[low, high)` each channel's true ROI is drawn uniformly from.
    /// One uniform draw per channel whatever the range, so changing it
    /// moves every ROI but leaves every other draw of a seed unchanged.
    pub roi_range: (f64, f64),
    /// How many channels (the last ones) never go dark. The others run in
    /// flights with dark weeks: only periods at or near zero spend show
    /// what a channel adds over none, which is what its ROI measures; for
    /// an always-on channel that is an extrapolation of the response curve.
    pub always_on: usize,
    /// First period (weeks start on this weekday).
    pub start: NaiveDate,
    /// Family of the channels' true adstock.
    pub adstock: AdstockFamily,
    /// Family of the channels' true saturation.
    pub saturation: SaturationFamily,
    /// Correlation of the channels' week-to-week spend variation (a common
    /// factor, as when every channel follows one marketing calendar): 0
    /// independent, towards 1 moving together, which is what makes
    /// channels hard to tell apart.
    pub correlation: f64,
    /// Amplitude of the yearly seasonality, as a multiple of the default (~8%).
    pub seasonality: f64,
    /// A lasting level shift of the baseline, as a share of its level,
    /// phased in over ~10 weeks around 60% of the history: a change of
    /// demand no linear trend can follow. 0 for none.
    pub level_shift: f64,
}

/// Which adstock the channels' true responses use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdstockFamily {
    /// Geometric, `theta` in 0.1-0.7 (the models' own).
    #[default]
    Geometric,
    /// Weibull survival kernel, shape 0.5-3, scale 1-6 weeks.
    Weibull,
    /// Delayed kernel peaking 1-4 weeks after the spend.
    Delayed,
    /// Channels take geometric, Weibull and delayed in turn.
    Mixed,
}

/// Which saturation the channels' true responses use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SaturationFamily {
    /// Hill, `alpha` 1-3, inflexion at 0.3-0.8 of the adstocked range (the models' own).
    #[default]
    Hill,
    /// PyMC-Marketing's logistic, half-way (u = 1.1) at 0.55-2.2x the mean positive adstock.
    Logistic,
    /// Michaelis–Menten, half saturation at 0.2-2x the adstocked maximum.
    MichaelisMenten,
    /// Channels take logistic, Michaelis–Menten and Hill in turn.
    Mixed,
}

impl Default for SynthConfig {
    /// Three years of weekly data, five flighted channels, 5% noise, 30% media share.
    fn default() -> Self {
        Self {
            seed: 1,
            weeks: 156,
            channels: 5,
            noise: 0.05,
            media_share: 0.3,
            roi_range: (0.5, 4.0),
            always_on: 0,
            start: NaiveDate::from_ymd_opt(2022, 1, 3).expect("a valid date"),
            adstock: AdstockFamily::Geometric,
            saturation: SaturationFamily::Hill,
            correlation: 0.0,
            seasonality: 1.0,
            level_shift: 0.0,
        }
    }
}

/// Streams the per-dataset config draws ([`SynthConfig::draw_media_share`])
/// apart from the data's own, so drawing them changes no data draw.
const CONFIG_STREAM: u64 = 0x6d65_6469_615f_7368;
/// Streams the common spend factor of correlated channels apart from the
/// data's own draws, so `correlation: 0` leaves every draw of a seed as it was.
const COMMON_STREAM: u64 = 0x636f_6d6d_6f6e_5f66;

impl SynthConfig {
    /// The "wide spread" preset (issue #12): true ROIs uniform in 0.4-4.0
    /// (a tenfold spread, where the defaults' 0.5-4.0 rarely put a channel
    /// far below the average) and media driving 30-50% of the KPI, drawn
    /// per seed; everything else at the defaults. This is the data on which
    /// a pull towards the spend split shows: low-ROI channels get reported
    /// near the average.
    ///
    /// ```
    /// let config = mmm_synth::SynthConfig::wide_spread(4);
    /// assert_eq!(config.roi_range, (0.4, 4.0));
    /// assert!((0.3..0.5).contains(&config.media_share));
    /// let data = mmm_synth::generate(&config);
    /// assert!((data.truth.media_share - config.media_share).abs() < 0.05);
    /// ```
    pub fn wide_spread(seed: u64) -> Self {
        Self {
            seed,
            roi_range: (0.4, 4.0),
            ..Self::default()
        }
        .draw_media_share((0.3, 0.5))
    }

    /// This config with `media_share` drawn uniformly from `[low, high)`,
    /// deterministically from `seed` but from a stream of its own: the
    /// data's draws (spend, responses, ROIs, baseline, noise) stay those
    /// of the seed, only the baseline level follows the new share.
    #[must_use]
    pub fn draw_media_share(mut self, (low, high): (f64, f64)) -> Self {
        self.media_share = Rng::new(self.seed ^ CONFIG_STREAM).range(low, high);
        self
    }
}

/// A generated dataset: the columns of the table and the truth behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// One date per week.
    pub dates: Vec<NaiveDate>,
    /// Name of the KPI column (`revenue`).
    pub kpi_name: String,
    /// The KPI: baseline + media contributions + noise.
    pub kpi: Vec<f64>,
    /// Spend per channel, `(name, values)`.
    pub media: Vec<(String, Vec<f64>)>,
    /// Control variables, `(name, values)`: a price index and a promo flag.
    pub controls: Vec<(String, Vec<f64>)>,
    /// True contribution of each channel per period, in `media` order.
    pub contributions: Vec<Vec<f64>>,
    /// The generating parameters and the per-channel answers.
    pub truth: Truth,
}

/// Generates a dataset; deterministic for a given config.
///
/// # Panics
/// If `weeks` is under 2, `channels` is 0 or `roi_range` is not a positive range.
pub fn generate(config: &SynthConfig) -> Dataset {
    assert!(
        config.weeks >= 2 && config.channels > 0,
        "need 2+ weeks and 1+ channel"
    );
    let (roi_low, roi_high) = config.roi_range;
    assert!(
        0.0 < roi_low && roi_low <= roi_high && roi_high.is_finite(),
        "need 0 < roi_range.0 <= roi_range.1 < inf"
    );
    let mut rng = Rng::new(config.seed);
    let n = config.weeks;
    let dates: Vec<NaiveDate> = (0..n)
        .map(|t| config.start + chrono::Days::new(7 * t as u64))
        .collect();
    assert!(
        (0.0..1.0).contains(&config.correlation),
        "need 0 <= correlation < 1"
    );
    let common = (config.correlation > 0.0).then(|| {
        let mut common = Rng::new(config.seed ^ COMMON_STREAM);
        (0..n).map(|_| common.normal()).collect::<Vec<_>>()
    });
    let media: Vec<(String, Vec<f64>)> = (0..config.channels)
        .map(|c| {
            let flighted = c + config.always_on < config.channels;
            let spend = draw_spend(&mut rng, n, flighted, common.as_deref(), config.correlation);
            (channel_name(c), spend)
        })
        .collect();
    let (contributions, mut channels) = media_truth(&mut rng, &media, config);
    let media_total: f64 = channels.iter().map(|c| c.contribution).sum();
    let level = media_total / n as f64 * (1.0 - config.media_share) / config.media_share;
    let (baseline_truth, controls, baseline) = draw_baseline(&mut rng, &dates, level, config);
    let clean: Vec<f64> = (0..n)
        .map(|t| baseline[t] + contributions.iter().map(|c| c[t]).sum::<f64>())
        .collect();
    let noise_sd = config.noise * clean.iter().sum::<f64>() / n as f64;
    let kpi = clean.iter().map(|v| v + noise_sd * rng.normal()).collect();
    let spend_total: f64 = channels.iter().map(|c| c.spend).sum();
    for c in &mut channels {
        c.effect_share = c.contribution / media_total;
        c.spend_share = c.spend / spend_total;
    }
    let baseline_contribution = baseline.iter().sum::<f64>();
    Dataset {
        dates,
        kpi_name: "revenue".to_owned(),
        kpi,
        media,
        controls,
        contributions,
        truth: Truth {
            seed: config.seed,
            weeks: n,
            noise_sd,
            baseline_contribution,
            media_share: media_total / (media_total + baseline_contribution),
            baseline: baseline_truth,
            channels,
        },
    }
}

fn channel_name(c: usize) -> String {
    CHANNEL_NAMES
        .get(c)
        .map_or_else(|| format!("channel_{}", c + 1), |s| (*s).to_owned())
}

/// Weekly spend: a channel level, log-normal week-to-week variation (with
/// `correlation` of its variance from the `common` factor) and, when
/// `flighted`, runs of dark weeks. Rounded to cents.
fn draw_spend(
    rng: &mut Rng,
    n: usize,
    flighted: bool,
    common: Option<&[f64]>,
    correlation: f64,
) -> Vec<f64> {
    let level = rng.range(2_000.0, 20_000.0);
    let dark_probability = if flighted { rng.range(0.05, 0.25) } else { 0.0 };
    let mut dark = false;
    (0..n)
        .map(|t| {
            // Flighting as a two-state chain: dark runs last ~3 weeks.
            dark = if dark {
                rng.bernoulli(0.65)
            } else {
                rng.bernoulli(dark_probability)
            };
            let own = rng.normal();
            let z = match common {
                Some(common) => (1.0 - correlation).sqrt() * own + correlation.sqrt() * common[t],
                None => own,
            };
            let variation = (0.45 * z - 0.1).exp();
            if dark {
                0.0
            } else {
                (level * variation * 100.0).round() / 100.0
            }
        })
        .collect()
}

/// Draws each channel's true response and ROI, and derives its coefficient
/// so that `contribution / spend` equals that ROI exactly.
fn media_truth(
    rng: &mut Rng,
    media: &[(String, Vec<f64>)],
    config: &SynthConfig,
) -> (Vec<Vec<f64>>, Vec<ChannelTruth>) {
    let (roi_low, roi_high) = config.roi_range;
    let mut contributions = Vec::with_capacity(media.len());
    let mut channels = Vec::with_capacity(media.len());
    for (c, (name, spend)) in media.iter().enumerate() {
        // Draw order for the defaults (theta, alpha, gamma, ROI) is the
        // one the generator always had: their data stay bit-identical.
        let adstock = draw_adstock(rng, config.adstock, c);
        let shape = draw_saturation(rng, config.saturation, c);
        let roi = rng.range(roi_low, roi_high);
        let adstocked = adstock.apply(spend);
        let saturation = shape.resolve(&adstocked);
        let applied = media::apply(&adstock, &saturation, spend);
        let spend_total: f64 = spend.iter().sum();
        let saturated_total: f64 = applied.saturated.iter().sum();
        let coefficient = roi * spend_total / saturated_total;
        let contribution: Vec<f64> = applied.saturated.iter().map(|h| coefficient * h).collect();
        let elasticity: f64 = applied
            .adstocked
            .iter()
            .map(|&a| saturation.elasticity(a))
            .sum();
        let adstocked_total: f64 = applied.adstocked.iter().sum();
        channels.push(ChannelTruth {
            name: name.clone(),
            spend: spend_total,
            contribution: contribution.iter().sum(),
            roi: contribution.iter().sum::<f64>() / spend_total,
            mroi: coefficient * elasticity / spend_total,
            adstock,
            saturation,
            coefficient,
            carryover_share: (adstocked_total - spend_total) / adstocked_total,
            effect_share: 0.0,
            spend_share: 0.0,
        });
        contributions.push(contribution);
    }
    (contributions, channels)
}

/// Channel `c`'s adstock from `family`.
fn draw_adstock(rng: &mut Rng, family: AdstockFamily, c: usize) -> Adstock {
    let family = match family {
        AdstockFamily::Mixed => [
            AdstockFamily::Geometric,
            AdstockFamily::Weibull,
            AdstockFamily::Delayed,
        ][c % 3],
        other => other,
    };
    match family {
        AdstockFamily::Weibull => Adstock::Weibull {
            shape: rng.range(0.5, 3.0),
            scale: rng.range(1.0, 6.0),
        },
        AdstockFamily::Delayed => Adstock::Delayed {
            theta: rng.range(0.3, 0.8),
            peak: rng.range(1.0, 4.0),
        },
        AdstockFamily::Geometric | AdstockFamily::Mixed => Adstock::Geometric {
            theta: rng.range(0.1, 0.7),
        },
    }
}

/// A saturation's shape as drawn, before the history's adstock sets its scale.
enum Shape {
    Hill { alpha: f64, gamma: f64 },
    Logistic { at_mean: f64 },
    MichaelisMenten { of_max: f64 },
}

impl Shape {
    fn resolve(&self, adstocked: &[f64]) -> Saturation {
        let (min, max) = media::range(adstocked);
        match *self {
            Self::Hill { alpha, gamma } => Saturation::Hill {
                alpha,
                gamma,
                inflexion: (1.0 - gamma) * min + gamma * max,
            },
            Self::Logistic { at_mean } => {
                let positive: Vec<f64> = adstocked.iter().copied().filter(|&a| a > 0.0).collect();
                let mean = positive.iter().sum::<f64>() / positive.len().max(1) as f64;
                Saturation::Logistic {
                    scale: mean * at_mean,
                }
            }
            Self::MichaelisMenten { of_max } => Saturation::MichaelisMenten { half: max * of_max },
        }
    }
}

/// Channel `c`'s saturation shape from `family`.
fn draw_saturation(rng: &mut Rng, family: SaturationFamily, c: usize) -> Shape {
    let family = match family {
        SaturationFamily::Mixed => [
            SaturationFamily::Logistic,
            SaturationFamily::MichaelisMenten,
            SaturationFamily::Hill,
        ][c % 3],
        other => other,
    };
    match family {
        SaturationFamily::Logistic => Shape::Logistic {
            at_mean: rng.range(0.5, 2.0),
        },
        SaturationFamily::MichaelisMenten => Shape::MichaelisMenten {
            of_max: rng.range(0.2, 2.0),
        },
        SaturationFamily::Hill | SaturationFamily::Mixed => Shape::Hill {
            alpha: rng.range(1.0, 3.0),
            gamma: rng.range(0.3, 0.8),
        },
    }
}

/// Named series, `(column, values)`.
type Columns = Vec<(String, Vec<f64>)>;

/// The baseline around `level`: a trend of -10%..+20% over the series,
/// yearly seasonality of up to ~10% (times `config.seasonality`), the
/// configured level shift, a price index (AR(1) around 1, elastic) and a
/// promo flag (~10% of weeks, +5%).
fn draw_baseline(
    rng: &mut Rng,
    dates: &[NaiveDate],
    level: f64,
    config: &SynthConfig,
) -> (BaselineTruth, Columns, Vec<f64>) {
    let n = dates.len();
    let trend_per_week = level * rng.range(-0.1, 0.2) / n as f64;
    let fourier: Vec<(f64, f64)> = (1..=FOURIER_ORDER)
        .map(|k| {
            let amplitude = level * 0.08 * config.seasonality / k as f64;
            (
                amplitude * rng.range(-1.0, 1.0),
                amplitude * rng.range(-1.0, 1.0),
            )
        })
        .collect();
    let mut price = Vec::with_capacity(n);
    let mut deviation = 0.0;
    for _ in 0..n {
        deviation = 0.8 * deviation + 0.02 * rng.normal();
        price.push(1.0 + deviation);
    }
    let promo: Vec<f64> = (0..n)
        .map(|_| f64::from(u8::from(rng.bernoulli(0.1))))
        .collect();
    let price_coef = -level * rng.range(0.3, 0.8);
    let promo_coef = level * rng.range(0.03, 0.08);
    // The price effect is centred on the index's nominal 1 so `level` stays the typical baseline.
    let intercept = level - price_coef;
    let level_shift = level * config.level_shift;
    let baseline = (0..n)
        .map(|t| {
            let base = intercept
                + trend_per_week * t as f64
                + seasonality(&fourier, dates[t])
                + price_coef * price[t]
                + promo_coef * promo[t];
            if level_shift == 0.0 {
                base
            } else {
                base + level_shift * truth::shift_shape(t, n)
            }
        })
        .collect();
    let truth = BaselineTruth {
        intercept,
        trend_per_week,
        level_shift,
        fourier,
        controls: vec![
            ("price".to_owned(), price_coef),
            ("promo".to_owned(), promo_coef),
        ],
    };
    let controls = vec![("price".to_owned(), price), ("promo".to_owned(), promo)];
    (truth, controls, baseline)
}

/// Yearly Fourier seasonality at `date`, in days since 1970-01-01.
fn seasonality(fourier: &[(f64, f64)], date: NaiveDate) -> f64 {
    let days = f64::from(date.num_days_from_ce() - 719_163);
    fourier
        .iter()
        .enumerate()
        .map(|(k, (s, c))| {
            let angle = std::f64::consts::TAU * (k + 1) as f64 * days / 365.25;
            s * angle.sin() + c * angle.cos()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_identical_data_and_another_seed_does_not() {
        let a = generate(&SynthConfig::default());
        assert_eq!(a, generate(&SynthConfig::default()));
        let b = generate(&SynthConfig {
            seed: 2,
            ..Default::default()
        });
        assert_ne!(a.kpi, b.kpi);
    }

    #[test]
    fn truth_is_consistent_with_the_data() {
        let data = generate(&SynthConfig {
            seed: 3,
            ..Default::default()
        });
        for (c, truth) in data.truth.channels.iter().enumerate() {
            let spend: f64 = data.media[c].1.iter().sum();
            let contribution: f64 = data.contributions[c].iter().sum();
            assert!((truth.roi - contribution / spend).abs() < 1e-9 * truth.roi);
            let Saturation::Hill { alpha, .. } = truth.saturation else {
                panic!("the defaults are Hill curves");
            };
            assert!(truth.mroi > 0.0 && truth.mroi < truth.roi * alpha);
            assert!(data.media[c].1.iter().all(|&s| s >= 0.0));
        }
        let share = data.truth.media_share;
        assert!((share - 0.3).abs() < 0.05, "{share}");
        let shares: f64 = data.truth.channels.iter().map(|c| c.effect_share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
    }

    #[test]
    fn always_on_channels_never_go_dark_and_the_others_do() {
        let data = generate(&SynthConfig {
            always_on: 2,
            ..Default::default()
        });
        let dark = |c: usize| data.media[c].1.iter().filter(|&&s| s == 0.0).count();
        assert!((0..3).all(|c| dark(c) > 0));
        assert_eq!((dark(3), dark(4)), (0, 0));
    }

    #[test]
    fn the_roi_range_moves_only_the_rois_and_the_wide_preset_spreads_them() {
        let default = generate(&SynthConfig::default());
        let explicit = generate(&SynthConfig {
            roi_range: (0.5, 4.0),
            ..Default::default()
        });
        assert_eq!(default, explicit);
        let wide = generate(&SynthConfig {
            roi_range: (0.4, 4.0),
            ..Default::default()
        });
        assert_eq!(default.media, wide.media);
        assert_ne!(default.truth.channels[0].roi, wide.truth.channels[0].roi);
        let rois: Vec<f64> = (1..=12)
            .flat_map(|seed| generate(&SynthConfig::wide_spread(seed)).truth.channels)
            .map(|c| c.roi)
            .collect();
        assert!(rois.iter().all(|r| (0.4..4.0).contains(r)));
        assert!(rois.iter().any(|&r| r < 0.8) && rois.iter().any(|&r| r > 3.5));
    }

    #[test]
    fn a_drawn_media_share_changes_the_baseline_level_only() {
        let fixed = generate(&SynthConfig::default());
        let config = SynthConfig::default().draw_media_share((0.3, 0.5));
        assert_eq!(config, SynthConfig::default().draw_media_share((0.3, 0.5)));
        assert!((0.3..0.5).contains(&config.media_share));
        let drawn = generate(&config);
        assert_eq!(fixed.media, drawn.media);
        assert_eq!(fixed.truth.channels, drawn.truth.channels);
        assert!((drawn.truth.media_share - config.media_share).abs() < 0.05);
        let shares: Vec<f64> = (1..=12)
            .map(|seed| SynthConfig::wide_spread(seed).media_share)
            .collect();
        assert!(shares.iter().any(|&s| s < 0.37) && shares.iter().any(|&s| s > 0.43));
    }

    #[test]
    fn dates_are_weekly_from_the_start() {
        let data = generate(&SynthConfig {
            weeks: 3,
            ..Default::default()
        });
        assert_eq!(data.dates[2] - data.dates[0], chrono::TimeDelta::days(14));
        assert_eq!(data.dates[0].weekday(), chrono::Weekday::Mon);
    }
}
