//! The accuracy benchmark's datasets: named presets, each a recipe for a
//! [`SynthConfig`] given a seed, that together reach well beyond the
//! models' own assumptions (geometric adstock, Hill saturation, linear
//! trend, independent flighted channels).
//!
//! A model change is judged on every preset at once (the accuracy bench
//! in `host/accuracy` prints the table): data generated with exactly the
//! model's own transforms rewards a change that fits the training window
//! rather than the process, and only the other presets show it.
//!
//! ```
//! let presets = mmm_synth::suite::presets();
//! assert!(presets.len() >= 10);
//! let data = mmm_synth::generate(&(presets[0].config)(3));
//! assert_eq!(data.truth.seed, 3);
//! ```

use crate::{AdstockFamily, SaturationFamily, SynthConfig};

/// One preset of the suite.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Short name, used on the command line and in the table.
    pub name: &'static str,
    /// What it stresses.
    pub about: &'static str,
    /// The config for a seed.
    pub config: fn(u64) -> SynthConfig,
}

fn base(seed: u64) -> SynthConfig {
    SynthConfig {
        seed,
        ..SynthConfig::default()
    }
}

/// Every preset, in table order. Seeds are independent draws of the same recipe.
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            name: "own-family",
            about: "geometric + Hill, 156 weeks, 5 channels, 5% noise (the models' own assumptions)",
            config: base,
        },
        Preset {
            name: "wide-spread",
            about: "ROIs 0.4-4, media 30-50% of the KPI",
            config: SynthConfig::wide_spread,
        },
        Preset {
            name: "weibull",
            about: "Weibull survival adstock, 6 channels",
            config: |seed| SynthConfig {
                adstock: AdstockFamily::Weibull,
                channels: 6,
                ..base(seed)
            },
        },
        Preset {
            name: "delayed",
            about: "adstock peaking 1-4 weeks after spend",
            config: |seed| SynthConfig {
                adstock: AdstockFamily::Delayed,
                ..base(seed)
            },
        },
        Preset {
            name: "logistic",
            about: "PyMC-Marketing's logistic saturation, media 40% of the KPI",
            config: |seed| SynthConfig {
                saturation: SaturationFamily::Logistic,
                media_share: 0.4,
                ..base(seed)
            },
        },
        Preset {
            name: "michaelis-menten",
            about: "Michaelis-Menten saturation, half point 0.2-2x the adstocked maximum",
            config: |seed| SynthConfig {
                saturation: SaturationFamily::MichaelisMenten,
                ..base(seed)
            },
        },
        Preset {
            name: "correlated",
            about: "spend 70% correlated across channels, mixed families",
            config: |seed| SynthConfig {
                correlation: 0.7,
                adstock: AdstockFamily::Mixed,
                saturation: SaturationFamily::Mixed,
                ..base(seed)
            },
        },
        Preset {
            name: "always-on",
            about: "2 of 5 channels never go dark",
            config: |seed| SynthConfig {
                always_on: 2,
                ..base(seed)
            },
        },
        Preset {
            name: "short-noisy",
            about: "104 weeks, 3 channels, 15% noise, narrow ROIs 1-2",
            config: |seed| SynthConfig {
                weeks: 104,
                channels: 3,
                noise: 0.15,
                roi_range: (1.0, 2.0),
                ..base(seed)
            },
        },
        Preset {
            name: "long-many",
            about: "260 weeks, 12 channels, 2% noise, mixed families",
            config: |seed| SynthConfig {
                weeks: 260,
                channels: 12,
                noise: 0.02,
                adstock: AdstockFamily::Mixed,
                saturation: SaturationFamily::Mixed,
                ..base(seed)
            },
        },
        Preset {
            name: "shifting-baseline",
            about: "a 15% level shift and doubled seasonality, 8% noise",
            config: |seed| SynthConfig {
                level_shift: 0.15,
                seasonality: 2.0,
                noise: 0.08,
                ..base(seed)
            },
        },
    ]
}

/// The preset called `name`.
pub fn preset(name: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Adstock, Saturation, generate};

    #[test]
    fn every_preset_generates_consistent_truth() {
        for preset in presets() {
            let data = generate(&(preset.config)(2));
            for (c, truth) in data.truth.channels.iter().enumerate() {
                let contribution: f64 = data.contributions[c].iter().sum();
                assert!((truth.roi - contribution / truth.spend).abs() < 1e-9 * truth.roi);
                assert!(
                    truth.mroi > 0.0 && truth.mroi.is_finite(),
                    "{}",
                    preset.name
                );
                assert_eq!(
                    data.true_contribution(c, &data.media[c].1),
                    data.contributions[c]
                );
            }
        }
    }

    #[test]
    fn the_presets_leave_the_models_families() {
        let data = generate(&(preset("long-many").unwrap().config)(1));
        let kinds: Vec<_> = data
            .truth
            .channels
            .iter()
            .map(|c| {
                (
                    std::mem::discriminant(&c.adstock),
                    std::mem::discriminant(&c.saturation),
                )
            })
            .collect();
        assert!(
            data.truth
                .channels
                .iter()
                .any(|c| matches!(c.adstock, Adstock::Delayed { .. }))
        );
        assert!(
            data.truth
                .channels
                .iter()
                .any(|c| matches!(c.saturation, Saturation::Logistic { .. }))
        );
        assert!(kinds.iter().collect::<std::collections::HashSet<_>>().len() >= 3);
    }

    #[test]
    fn correlated_spend_moves_together() {
        let corr = |config: SynthConfig| {
            let data = generate(&config);
            let logs: Vec<Vec<f64>> = data
                .media
                .iter()
                .map(|(_, s)| s.iter().map(|x| (x + 1.0).ln()).collect())
                .collect();
            correlation(&logs[0], &logs[1])
        };
        let always = |correlation| SynthConfig {
            always_on: 5,
            correlation,
            ..base(4)
        };
        assert!(corr(always(0.0)).abs() < 0.25);
        assert!(corr(always(0.7)) > 0.5);
    }

    fn correlation(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }
}
