//! `predict`: KPI and per-channel contributions for spend scenarios, from
//! the artifact alone, each with its interval from the plausible models.
//! Two scenario shapes (see `mmm_sdk::scenarios`):
//!
//! - **Totals** (no date column): one row per scenario, one column per
//!   channel holding the total spend over a horizon as long as the fitted
//!   history, spread over periods like the historical spend.
//! - **Per period** (the fit's date column present): one row per period and
//!   scenario; an optional numeric `scenario` column groups rows (each run of
//!   equal values is one scenario, carryover starting at zero); controls
//!   missing from the table take their historical mean.
//!
//! **Intervals.** Each plausible model (see [`crate::select`]), with its
//! coefficients anywhere in their 90% standard-error intervals, is a model
//! the data cannot rule out; a value's interval is the range they give it.
//! In the totals form it is anchored at the fitted history: the data pin
//! the KPI there, not the split of the history between the models'
//! baselines and media, so a model contributes its media's *change* from
//! the history, `point + (change_m - change_point)`, and the interval is
//! empty at the historical allocation. In the per-period form the rows
//! need not resemble the history, so each model's own contributions count
//! (on the pick's baseline). Per model, the KPI combines the channels'
//! coefficient ends in quadrature: their standard errors are not reached
//! together, and adding the 90% ends would give far more than 90%. The
//! pick with its point coefficients is always among the candidates, so
//! `low <= point <= high`.

use mmm_sdk::prelude::*;
use mmm_sdk::scenarios::{
    BASELINE_COLUMN, INTERVAL_COLUMN, SCENARIO_COLUMN, high_column, low_column,
};

pub use mmm_sdk::scenarios::contribution_column;

use crate::artifact::{ARTIFACT_VERSION, Artifact, OLDEST_ARTIFACT_VERSION, Response};

pub fn predict(artifact: &Artifact, scenarios: &Table) -> Result<Table> {
    if !(OLDEST_ARTIFACT_VERSION..=ARTIFACT_VERSION).contains(&artifact.version) {
        return Err(Error::invalid_input(format!(
            "artifact version {} is not supported",
            artifact.version
        )));
    }
    if artifact
        .plausible
        .iter()
        .any(|m| m.channels.len() != artifact.channels.len())
    {
        return Err(Error::invalid_input(
            "the artifact's plausible models do not have its channels",
        ));
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
    let wanted = match scenarios.has_column(INTERVAL_COLUMN) {
        true => scenarios
            .to_f64_vec(INTERVAL_COLUMN)?
            .iter()
            .map(|&v| v != 0.0)
            .collect(),
        false => vec![true; scenarios.num_rows()],
    };
    // Without a row to give an interval, the plausible models cost nothing.
    let ensemble = match wanted.contains(&true) {
        true => Ensemble::new(artifact),
        false => Ensemble::point(artifact),
    };
    if scenarios.has_column(&artifact.date) {
        per_period(artifact, &ensemble, scenarios, &spend, &wanted)
    } else {
        totals(artifact, &ensemble, &spend, &wanted)
    }
}

/// The plausible models as `predict` evaluates them. Models that share a
/// channel's transform (the pick and its own entry, at least) share its
/// evaluation, the costly part: per channel the distinct transforms, the
/// pick's first, and per model and channel which one it uses.
struct Ensemble<'a> {
    transforms: Vec<Vec<Response<'a>>>,
    /// The pick's coefficients, which multiply `transforms[c][0]`.
    point: Vec<f64>,
    models: Vec<Vec<Member>>,
}

/// One plausible model's channel.
#[derive(Debug, Clone, Copy)]
struct Member {
    transform: usize,
    coefficient: f64,
    low: f64,
    high: f64,
}

impl<'a> Ensemble<'a> {
    /// The pick alone: every interval is the point.
    fn point(artifact: &'a Artifact) -> Self {
        Self {
            transforms: artifact
                .channels
                .iter()
                .map(|c| vec![c.response()])
                .collect(),
            point: artifact.channels.iter().map(|c| c.coefficient).collect(),
            models: Vec::new(),
        }
    }

    fn new(artifact: &'a Artifact) -> Self {
        let mut ensemble = Self::point(artifact);
        for model in &artifact.plausible {
            let members = model
                .channels
                .iter()
                .zip(&mut ensemble.transforms)
                .map(|(c, distinct)| {
                    let response = c.response();
                    let transform = match distinct.iter().position(|d| *d == response) {
                        Some(u) => u,
                        None => {
                            distinct.push(response);
                            distinct.len() - 1
                        }
                    };
                    Member {
                        transform,
                        coefficient: c.coefficient,
                        low: c.coefficient_low,
                        high: c.coefficient_high,
                    }
                })
                .collect();
            ensemble.models.push(members);
        }
        ensemble
    }

    /// One row's intervals as deviations from its point, given per channel
    /// and distinct transform the value its coefficient multiplies: writes
    /// each channel's `[low, high]` into `channels` and returns the KPI's.
    fn deviations(&self, values: &[Vec<f64>], channels: &mut [[f64; 2]]) -> [f64; 2] {
        channels.fill([0.0, 0.0]);
        let mut kpi = [0.0, 0.0];
        for model in &self.models {
            let (mut centre, mut below, mut above) = (0.0, 0.0, 0.0);
            for (c, m) in model.iter().enumerate() {
                let v = values[c][m.transform];
                let point = self.point[c] * values[c][0];
                let mid = m.coefficient * v - point;
                let (a, b) = (m.low * v - point, m.high * v - point);
                let (low, high) = if a <= b { (a, b) } else { (b, a) };
                channels[c] = [lower(channels[c][0], low), upper(channels[c][1], high)];
                centre += mid;
                below += (mid - low) * (mid - low);
                above += (high - mid) * (high - mid);
            }
            kpi = [
                lower(kpi[0], centre - below.sqrt()),
                upper(kpi[1], centre + above.sqrt()),
            ];
        }
        kpi
    }
}

// Comparisons rather than `f64::min`/`max`, which are libm calls in wasm.
fn lower(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

fn upper(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Precomputed `alpha * ln(a_t)` of a channel's unit-total historical
/// pattern `a`, so `sum_t hill(c a_t)` costs one `exp` per period.
struct Pattern {
    log_terms: Vec<f64>,
    alpha: f64,
    log_inflexion: f64,
    /// The saturated total of the historical spend, the anchor of the intervals.
    at_history: f64,
}

impl Pattern {
    fn new(response: &Response, history: &[f64]) -> Result<Self> {
        let total: f64 = history.iter().sum();
        let unit: Vec<f64> = history.iter().map(|x| x / total).collect();
        let mut adstocked = vec![0.0; unit.len()];
        response.adstock_into(&unit, &mut adstocked)?;
        let mut pattern = Self {
            log_terms: adstocked
                .iter()
                .filter(|&&a| a > 0.0)
                .map(|a| response.alpha * a.ln())
                .collect(),
            alpha: response.alpha,
            log_inflexion: response.inflexion.ln(),
            at_history: 0.0,
        };
        pattern.at_history = pattern.saturated_total(total);
        Ok(pattern)
    }

    /// `sum_t hill(adstock(spend))_t` for `total` spend spread like history.
    fn saturated_total(&self, total: f64) -> f64 {
        if total <= 0.0 {
            return 0.0;
        }
        // hill(c a) = 1 / (1 + (k / (c a))^alpha) = 1 / (1 + exp(alpha (ln k - ln c) - alpha ln a))
        let offset = self.alpha * (self.log_inflexion - total.ln());
        self.log_terms
            .iter()
            .map(|l| 1.0 / (1.0 + (offset - l).exp()))
            .sum()
    }
}

/// The answer's columns, point and interval ends; rows without an
/// interval keep the point at both ends.
struct Answer {
    kpi: Vec<f64>,
    kpi_low: Vec<f64>,
    kpi_high: Vec<f64>,
    baseline: Vec<f64>,
    contributions: Vec<Vec<f64>>,
    contribution_low: Vec<Vec<f64>>,
    contribution_high: Vec<Vec<f64>>,
}

impl Answer {
    fn new(baseline: Vec<f64>, channels: usize) -> Self {
        let rows = baseline.len();
        Self {
            kpi: vec![0.0; rows],
            kpi_low: vec![0.0; rows],
            kpi_high: vec![0.0; rows],
            baseline,
            contributions: vec![vec![0.0; rows]; channels],
            contribution_low: vec![vec![0.0; rows]; channels],
            contribution_high: vec![vec![0.0; rows]; channels],
        }
    }

    /// Sums row `r`'s KPI and widens its point by the deviations, if any.
    /// A contribution is never negative.
    fn finish_row(&mut self, r: usize, deviations: Option<([f64; 2], &[[f64; 2]])>) {
        let kpi = self.baseline[r] + self.contributions.iter().map(|c| c[r]).sum::<f64>();
        self.kpi[r] = kpi;
        let channels = self
            .contributions
            .iter()
            .zip(&mut self.contribution_low)
            .zip(&mut self.contribution_high);
        match deviations {
            Some((d, channel_deviations)) => {
                (self.kpi_low[r], self.kpi_high[r]) = (kpi + d[0], kpi + d[1]);
                for (((c, low), high), d) in channels.zip(channel_deviations) {
                    (low[r], high[r]) = (upper(c[r] + d[0], 0.0), c[r] + d[1]);
                }
            }
            None => {
                (self.kpi_low[r], self.kpi_high[r]) = (kpi, kpi);
                for ((c, low), high) in channels {
                    (low[r], high[r]) = (c[r], c[r]);
                }
            }
        }
    }

    fn write(self, artifact: &Artifact, out: &mut Table) -> Result<()> {
        out.set_f64(&artifact.kpi, self.kpi)?;
        out.set_f64(BASELINE_COLUMN, self.baseline)?;
        for (channel, c) in artifact.channels.iter().zip(self.contributions) {
            out.set_f64(&contribution_column(&channel.name), c)?;
        }
        out.set_f64(&low_column(&artifact.kpi), self.kpi_low)?;
        out.set_f64(&high_column(&artifact.kpi), self.kpi_high)?;
        let ends = self
            .contribution_low
            .into_iter()
            .zip(self.contribution_high);
        for (channel, (low, high)) in artifact.channels.iter().zip(ends) {
            let column = contribution_column(&channel.name);
            out.set_f64(&low_column(&column), low)?;
            out.set_f64(&high_column(&column), high)?;
        }
        Ok(())
    }
}

fn totals(
    artifact: &Artifact,
    ensemble: &Ensemble,
    spend: &[Vec<f64>],
    wanted: &[bool],
) -> Result<Table> {
    let patterns = ensemble
        .transforms
        .iter()
        .zip(&artifact.channels)
        .map(|(distinct, c)| {
            distinct
                .iter()
                .map(|r| Pattern::new(r, &c.history))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let rows = wanted.len();
    let mut answer = Answer::new(vec![artifact.baseline_history_total; rows], spend.len());
    let mut values: Vec<Vec<f64>> = patterns.iter().map(|p| vec![0.0; p.len()]).collect();
    let mut deviations = vec![[0.0; 2]; spend.len()];
    for r in 0..rows {
        let interval = wanted[r] && !ensemble.models.is_empty();
        for c in 0..spend.len() {
            let (x, coefficient) = (spend[c][r], ensemble.point[c]);
            if interval {
                let saturated = patterns[c][0].saturated_total(x);
                answer.contributions[c][r] = coefficient * saturated;
                values[c][0] = saturated - patterns[c][0].at_history;
                for (v, p) in values[c].iter_mut().zip(&patterns[c]).skip(1) {
                    *v = p.saturated_total(x) - p.at_history;
                }
            } else if x > 0.0 && coefficient != 0.0 {
                answer.contributions[c][r] = coefficient * patterns[c][0].saturated_total(x);
            }
        }
        match interval {
            true => {
                let kpi = ensemble.deviations(&values, &mut deviations);
                answer.finish_row(r, Some((kpi, &deviations)));
            }
            false => answer.finish_row(r, None),
        }
    }
    let mut out = Table::new();
    answer.write(artifact, &mut out)?;
    Ok(out)
}

fn per_period(
    artifact: &Artifact,
    ensemble: &Ensemble,
    scenarios: &Table,
    spend: &[Vec<f64>],
    wanted: &[bool],
) -> Result<Table> {
    let dates = scenarios.dates(&artifact.date)?;
    let rows = dates.len();
    let groups = match scenarios.has_column(SCENARIO_COLUMN) {
        true => runs(&scenarios.to_f64_vec(SCENARIO_COLUMN)?),
        false => std::iter::once(0..rows).collect(),
    };
    let hills = ensemble
        .transforms
        .iter()
        .map(|distinct| {
            distinct
                .iter()
                .map(Response::hill)
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let mut answer = Answer::new(
        baseline_per_period(artifact, scenarios, &dates)?,
        spend.len(),
    );
    let longest = groups.iter().map(|g| g.len()).max().unwrap_or(0);
    // Per channel and distinct transform, the group's adstocked spend.
    let mut adstocked: Vec<Vec<Vec<f64>>> = ensemble
        .transforms
        .iter()
        .map(|distinct| vec![vec![0.0; longest]; distinct.len()])
        .collect();
    let mut values: Vec<Vec<f64>> = hills.iter().map(|h| vec![0.0; h.len()]).collect();
    let mut deviations = vec![[0.0; 2]; spend.len()];
    for group in &groups {
        let interval = !ensemble.models.is_empty() && wanted[group.clone()].contains(&true);
        for (c, x) in spend.iter().enumerate() {
            let distinct = if interval { hills[c].len() } else { 1 };
            for (a, transform) in adstocked[c]
                .iter_mut()
                .zip(&ensemble.transforms[c])
                .take(distinct)
            {
                transform.adstock_into(&x[group.clone()], &mut a[..group.len()])?;
            }
            let coefficient = ensemble.point[c];
            for (o, &v) in answer.contributions[c][group.clone()]
                .iter_mut()
                .zip(&adstocked[c][0])
            {
                *o = coefficient * hills[c][0].value(v);
            }
        }
        for (t, r) in group.clone().enumerate() {
            match interval && wanted[r] {
                true => {
                    for (c, v) in values.iter_mut().enumerate() {
                        for (u, v) in v.iter_mut().enumerate() {
                            *v = hills[c][u].value(adstocked[c][u][t]);
                        }
                    }
                    let kpi = ensemble.deviations(&values, &mut deviations);
                    answer.finish_row(r, Some((kpi, &deviations)));
                }
                false => answer.finish_row(r, None),
            }
        }
    }
    let mut out = Table::new();
    if scenarios.has_column(SCENARIO_COLUMN) {
        out.set_column(SCENARIO_COLUMN, scenarios.column(SCENARIO_COLUMN)?)?;
    }
    out.set_dates(&artifact.date, &dates)?;
    answer.write(artifact, &mut out)?;
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
