//! Synthetic data as the model sees it: an mmm-synth dataset as a `Table` and `Roles`.

use mmm_sdk::prelude::*;
use mmm_synth::{Dataset, SynthConfig, generate};

pub fn dataset(seed: u64) -> Dataset {
    let noise = std::env::var("NOISE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.05);
    generate(&SynthConfig {
        seed,
        noise,
        ..Default::default()
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
