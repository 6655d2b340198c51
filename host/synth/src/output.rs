//! Writing a [`Dataset`]: the data as CSV, the truth as JSON and the column
//! roles a model needs, in the shape `mmm plugin run --roles` reads.

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::Dataset;

/// Which column plays which part, as the model's roles JSON
/// (`{"date", "kpi", "media": [...], "controls": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roles {
    /// The period column.
    pub date: String,
    /// The KPI column.
    pub kpi: String,
    /// Spend columns.
    pub media: Vec<String>,
    /// Control columns.
    pub controls: Vec<String>,
}

impl Dataset {
    /// CSV text: header `date,<kpi>,<media...>,<controls...>`, ISO dates,
    /// numbers in Rust's shortest round-trip form (re-reading gives the same f64s).
    pub fn to_csv(&self) -> String {
        let roles = self.roles();
        let mut out = format!("date,{},", roles.kpi);
        out.push_str(&roles.media.join(","));
        for name in &roles.controls {
            out.push(',');
            out.push_str(name);
        }
        out.push('\n');
        for (t, date) in self.dates.iter().enumerate() {
            out.push_str(&format!("{date},{}", self.kpi[t]));
            for (_, values) in self.media.iter().chain(&self.controls) {
                out.push_str(&format!(",{}", values[t]));
            }
            out.push('\n');
        }
        out
    }

    /// Writes [`Dataset::to_csv`] to `path`.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, self.to_csv())
    }

    /// The truth as pretty JSON.
    pub fn truth_json(&self) -> String {
        serde_json::to_string_pretty(&self.truth).expect("truth serialises") + "\n"
    }

    /// Writes [`Dataset::truth_json`] to `path`.
    pub fn write_truth_json(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, self.truth_json())
    }

    /// The column roles of this dataset.
    pub fn roles(&self) -> Roles {
        Roles {
            date: "date".to_owned(),
            kpi: self.kpi_name.clone(),
            media: self.media.iter().map(|(n, _)| n.clone()).collect(),
            controls: self.controls.iter().map(|(n, _)| n.clone()).collect(),
        }
    }

    /// The roles as pretty JSON.
    pub fn roles_json(&self) -> String {
        serde_json::to_string_pretty(&self.roles()).expect("roles serialise") + "\n"
    }

    /// Writes `<stem>.csv`, `<stem>.truth.json` and `roles.json` into `dir`
    /// (created if missing) — what `mmm synth --out DIR` produces.
    pub fn write_all(&self, dir: impl AsRef<Path>, stem: &str) -> io::Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        self.write_csv(dir.join(format!("{stem}.csv")))?;
        self.write_truth_json(dir.join(format!("{stem}.truth.json")))?;
        std::fs::write(dir.join("roles.json"), self.roles_json())
    }
}

#[cfg(test)]
mod tests {
    use crate::{SynthConfig, generate};

    #[test]
    fn csv_has_a_header_and_one_line_per_week_that_round_trips() {
        let data = generate(&SynthConfig {
            weeks: 4,
            channels: 2,
            ..Default::default()
        });
        let csv = data.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "date,revenue,tv,search,price,promo");
        assert_eq!(lines.len(), 5);
        let first: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(first[0], "2022-01-03");
        assert_eq!(first[1].parse::<f64>().unwrap(), data.kpi[0]);
    }

    #[test]
    fn truth_and_roles_are_json() {
        let data = generate(&SynthConfig {
            weeks: 4,
            ..Default::default()
        });
        let truth: serde_json::Value = serde_json::from_str(&data.truth_json()).unwrap();
        assert_eq!(truth["channels"].as_array().unwrap().len(), 5);
        let roles: serde_json::Value = serde_json::from_str(&data.roles_json()).unwrap();
        assert_eq!(roles["media"][0], "tv");
        assert_eq!(roles["controls"][1], "promo");
    }
}
