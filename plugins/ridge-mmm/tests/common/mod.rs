//! Synthetic data as the model sees it: an mmm-synth dataset as a `Table` and `Roles`.

use mmm_sdk::prelude::*;
use mmm_synth::{Dataset, SynthConfig, generate};

/// The default synthetic dataset for `seed`; the environment variables
/// `NOISE` and `ALWAYS_ON` change its noise and always-on channels (for the
/// `roi_sweep` example; the tests set neither).
pub fn dataset(seed: u64) -> Dataset {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let defaults = SynthConfig::default();
    generate(&SynthConfig {
        seed,
        noise: env("NOISE").unwrap_or(defaults.noise),
        always_on: env("ALWAYS_ON").map_or(defaults.always_on, |v: f64| v as usize),
        ..defaults
    })
}

pub fn table(data: &Dataset) -> Table {
    let mut t = Table::new();
    t.set_dates("date", &data.dates).unwrap();
    t.set_f64(&data.kpi_name, data.kpi.clone()).unwrap();
    for (name, values) in data.media.iter().chain(&data.controls) {
        t.set_f64(name, values.clone()).unwrap();
    }
    t
}

pub fn roles(data: &Dataset) -> Roles {
    let r = data.roles();
    Roles {
        date: r.date,
        kpi: r.kpi,
        media: r.media,
        controls: r.controls,
    }
}
