//! `predict`: KPI and per-channel contributions for spend scenarios, from
//! the artifact alone. Two scenario shapes (see the crate docs):
//!
//! - **Totals** (no date column): one row per scenario, one column per
//!   channel holding the total spend over a horizon as long as the fitted
//!   history, spread over periods like the historical spend.
//! - **Per period** (the fit's date column present): one row per period and
//!   scenario; an optional numeric `scenario` column groups rows (each run of
//!   equal values is one scenario, carryover starting at zero); controls
//!   missing from the table take their historical mean.

use mmm_sdk::prelude::*;

use crate::artifact::{Artifact, ChannelArtifact};

/// Output column of a channel's contribution.
pub fn contribution_column(channel: &str) -> String {
    format!("{channel}_contribution")
}

pub fn predict(artifact: &Artifact, scenarios: &Table) -> Result<Table> {
    if artifact.version != crate::artifact::ARTIFACT_VERSION {
        return Err(Error::invalid_input(format!(
            "artifact version {} is not supported",
            artifact.version
        )));
    }
    let spend = artifact
        .channels
        .iter()
        .map(|c| {
            scenarios.to_f64_vec(&c.name).map_err(|_| {
                Error::invalid_input(format!("scenarios lack the spend column `{}`", c.name))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some((name, _)) = artifact
        .channels
        .iter()
        .zip(&spend)
        .find(|(_, x)| x.iter().any(|v| v.is_nan() || *v < 0.0))
    {
        return Err(Error::invalid_input(format!(
            "spend `{}` must be non-negative and present",
            name.name
        )));
    }
    if scenarios.has_column(&artifact.date) {
        per_period(artifact, scenarios, &spend)
    } else {
        totals(artifact, &spend)
    }
}

/// Precomputed `alpha * ln(a_t)` of a channel's unit-total historical
/// pattern `a`, so `sum_t hill(c a_t)` costs one `exp` per period.
struct Pattern {
    log_terms: Vec<f64>,
    alpha: f64,
    log_inflexion: f64,
    coefficient: f64,
}

impl Pattern {
    fn new(channel: &ChannelArtifact) -> Result<Self> {
        let total: f64 = channel.history.iter().sum();
        let unit: Vec<f64> = channel.history.iter().map(|x| x / total).collect();
        let mut adstocked = vec![0.0; unit.len()];
        channel.adstock_into(&unit, &mut adstocked)?;
        Ok(Self {
            log_terms: adstocked
                .iter()
                .filter(|&&a| a > 0.0)
                .map(|a| channel.alpha * a.ln())
                .collect(),
            alpha: channel.alpha,
            log_inflexion: channel.inflexion.ln(),
            coefficient: channel.coefficient,
        })
    }

    /// Contribution of `total` spend spread like history.
    fn contribution(&self, total: f64) -> f64 {
        if total <= 0.0 || self.coefficient == 0.0 {
            return 0.0;
        }
        // hill(c a) = 1 / (1 + (k / (c a))^alpha) = 1 / (1 + exp(alpha (ln k - ln c) - alpha ln a))
        let offset = self.alpha * (self.log_inflexion - total.ln());
        let sum: f64 = self
            .log_terms
            .iter()
            .map(|l| 1.0 / (1.0 + (offset - l).exp()))
            .sum();
        self.coefficient * sum
    }
}

fn totals(artifact: &Artifact, spend: &[Vec<f64>]) -> Result<Table> {
    let patterns = artifact
        .channels
        .iter()
        .map(Pattern::new)
        .collect::<Result<Vec<_>>>()?;
    let rows = spend.first().map_or(0, Vec::len);
    let contributions: Vec<Vec<f64>> = patterns
        .iter()
        .zip(spend)
        .map(|(p, x)| x.iter().map(|&c| p.contribution(c)).collect())
        .collect();
    let baseline = vec![artifact.baseline_history_total; rows];
    let kpi = (0..rows)
        .map(|r| baseline[r] + contributions.iter().map(|c| c[r]).sum::<f64>())
        .collect();
    let mut out = Table::new();
    out.set_f64(&artifact.kpi, kpi)?;
    out.set_f64("baseline", baseline)?;
    for (channel, c) in artifact.channels.iter().zip(contributions) {
        out.set_f64(&contribution_column(&channel.name), c)?;
    }
    Ok(out)
}

fn per_period(artifact: &Artifact, scenarios: &Table, spend: &[Vec<f64>]) -> Result<Table> {
    let dates = scenarios.dates(&artifact.date)?;
    let rows = dates.len();
    let groups = match scenarios.has_column("scenario") {
        true => runs(&scenarios.to_f64_vec("scenario")?),
        false => std::iter::once(0..rows).collect(),
    };
    let baseline = baseline_per_period(artifact, scenarios, &dates)?;
    let mut contributions = vec![vec![0.0; rows]; spend.len()];
    let mut adstocked = vec![0.0; rows];
    for (channel, (x, out)) in artifact
        .channels
        .iter()
        .zip(spend.iter().zip(&mut contributions))
    {
        let hill = channel.hill()?;
        for group in &groups {
            let a = &mut adstocked[group.clone()];
            channel.adstock_into(&x[group.clone()], a)?;
            for (o, &v) in out[group.clone()].iter_mut().zip(a.iter()) {
                *o = channel.coefficient * hill.value(v);
            }
        }
    }
    let kpi = (0..rows)
        .map(|r| baseline[r] + contributions.iter().map(|c| c[r]).sum::<f64>())
        .collect();
    let mut out = Table::new();
    if scenarios.has_column("scenario") {
        out.set_column("scenario", scenarios.column("scenario")?)?;
    }
    out.set_dates(&artifact.date, &dates)?;
    out.set_f64(&artifact.kpi, kpi)?;
    out.set_f64("baseline", baseline)?;
    for (channel, c) in artifact.channels.iter().zip(contributions) {
        out.set_f64(&contribution_column(&channel.name), c)?;
    }
    Ok(out)
}

/// Ranges of consecutive equal values.
fn runs(ids: &[f64]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=ids.len() {
        if i == ids.len() || ids[i].to_bits() != ids[start].to_bits() {
            out.push(start..i);
            start = i;
        }
    }
    out
}

fn baseline_per_period(
    artifact: &Artifact,
    scenarios: &Table,
    dates: &[NaiveDate],
) -> Result<Vec<f64>> {
    let calendar = artifact.calendar();
    let mut features = vec![0.0; calendar.width()];
    let controls = artifact
        .controls
        .iter()
        .map(|c| match scenarios.has_column(&c.name) {
            true => scenarios.to_f64_vec(&c.name),
            false => Ok(vec![c.mean; dates.len()]),
        })
        .collect::<Result<Vec<_>>>()?;
    // Scenarios repeat the same weeks: the trend and seasonality of a date
    // (four sines and cosines at the default order) are computed once.
    let mut time_effects = std::collections::HashMap::new();
    Ok(dates
        .iter()
        .enumerate()
        .map(|(r, &date)| {
            let time = *time_effects.entry(date).or_insert_with(|| {
                calendar.features_into(date, &mut features);
                features
                    .iter()
                    .zip(&artifact.time_coefficients)
                    .map(|(f, b)| f * b)
                    .sum::<f64>()
            });
            let control: f64 = artifact
                .controls
                .iter()
                .zip(&controls)
                .map(|(c, x)| c.coefficient * x[r])
                .sum();
            artifact.intercept + time + control
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_consecutive_scenario_ids() {
        assert_eq!(runs(&[1.0, 1.0, 2.0, 1.0]), vec![0..2, 2..3, 3..4]);
        assert!(runs(&[]).is_empty());
    }
}
