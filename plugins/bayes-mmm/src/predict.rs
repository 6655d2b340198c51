//! `predict`: KPI and per-channel contributions for spend scenarios, from
//! the artifact alone, over the kept posterior draws. The two scenario
//! shapes of `mmm_sdk::scenarios` (totals, or per period with the fit's
//! date column and an optional `scenario` column).
//!
//! **Point**: the posterior mean over the kept draws of each contribution
//! (the KPI adds the posterior-mean baseline). **Intervals** (`_low`,
//! `_high`): the draws' 5% and 95% quantiles. In the totals form they are
//! anchored at the fitted history as the contract asks: each draw
//! contributes its media's *change* from the history, so the interval is
//! `point + quantiles(change_d - mean change)`, empty at the historical
//! allocation. In the per-period form each draw's own contributions count
//! (on the mean baseline). Ends are clamped so `low <= point <= high` and
//! a contribution's low end is never negative. Rows whose optional
//! `interval` column is 0 get the point at both ends; in the totals form
//! their point comes from the artifact's table of each channel's
//! posterior-mean response ([`crate::mean_response`], within 1e-6 of the
//! exact mean) when the total is on it, so they cost microseconds.

use mmm_sdk::prelude::*;
use mmm_sdk::scenarios::{
    BASELINE_COLUMN, INTERVAL_COLUMN, SCENARIO_COLUMN, contribution_column, high_column, low_column,
};

use crate::artifact::{ARTIFACT_VERSION, Artifact};
use crate::mean_response::{Pattern, patterns};
use crate::stats::{TAILS, quantile_sorted};

pub fn predict(artifact: &Artifact, scenarios: &Table) -> Result<Table> {
    if artifact.version != ARTIFACT_VERSION {
        return Err(Error::invalid_input(format!(
            "artifact version {} is not supported",
            artifact.version
        )));
    }
    if artifact.draws.is_empty()
        || artifact
            .draws
            .iter()
            .any(|d| d.channels.len() != artifact.channels.len())
    {
        return Err(Error::invalid_input(
            "the artifact's draws do not have its channels",
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
    if let Some(c) = artifact
        .channels
        .iter()
        .zip(&spend)
        .find(|(_, x)| x.iter().any(|v| v.is_nan() || *v < 0.0))
    {
        return Err(Error::invalid_input(format!(
            "spend `{}` must be non-negative and present",
            c.0.name
        )));
    }
    let wanted: Vec<bool> = match scenarios.has_column(INTERVAL_COLUMN) {
        true => scenarios
            .to_f64_vec(INTERVAL_COLUMN)?
            .iter()
            .map(|&v| v != 0.0)
            .collect(),
        false => vec![true; scenarios.num_rows()],
    };
    let mut out = Table::new();
    let answer = if scenarios.has_column(&artifact.date) {
        let dates = scenarios.dates(&artifact.date)?;
        if scenarios.has_column(SCENARIO_COLUMN) {
            out.set_column(SCENARIO_COLUMN, scenarios.column(SCENARIO_COLUMN)?)?;
        }
        out.set_dates(&artifact.date, &dates)?;
        per_period(artifact, scenarios, &dates, &spend, &wanted)?
    } else {
        totals(artifact, &spend, &wanted)
    };
    answer.write(artifact, &mut out)?;
    Ok(out)
}

/// Comparisons rather than `f64::min`/`max`, which are libm calls in wasm.
fn lower(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

fn upper(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// The answer's columns: point and interval ends per row.
struct Answer {
    kpi: [Vec<f64>; 3],
    baseline: Vec<f64>,
    /// Per channel `[point, low, high]`.
    contributions: Vec<[Vec<f64>; 3]>,
}

impl Answer {
    fn new(baseline: Vec<f64>, channels: usize) -> Self {
        let rows = baseline.len();
        let zeros = || [vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]];
        Self {
            kpi: zeros(),
            baseline,
            contributions: (0..channels).map(|_| zeros()).collect(),
        }
    }

    fn write(self, artifact: &Artifact, out: &mut Table) -> Result<()> {
        let [kpi, kpi_low, kpi_high] = self.kpi;
        out.set_f64(&artifact.kpi, kpi)?;
        out.set_f64(BASELINE_COLUMN, self.baseline)?;
        let mut ends = Vec::new();
        for (channel, [point, low, high]) in artifact.channels.iter().zip(self.contributions) {
            out.set_f64(&contribution_column(&channel.name), point)?;
            ends.push((low, high));
        }
        out.set_f64(&low_column(&artifact.kpi), kpi_low)?;
        out.set_f64(&high_column(&artifact.kpi), kpi_high)?;
        for (channel, (low, high)) in artifact.channels.iter().zip(ends) {
            let column = contribution_column(&channel.name);
            out.set_f64(&low_column(&column), low)?;
            out.set_f64(&high_column(&column), high)?;
        }
        Ok(())
    }
}

/// Mean of `values`, and (when `interval`) the point plus the 5% and 95%
/// quantiles of `deviations` from their mean, clamped around the point.
fn summarise(
    values: &[f64],
    deviations: &mut [f64],
    interval: bool,
    floor: Option<f64>,
) -> [f64; 3] {
    let point = values.iter().sum::<f64>() / values.len() as f64;
    if !interval {
        return [point; 3];
    }
    let centre = deviations.iter().sum::<f64>() / deviations.len() as f64;
    deviations.sort_unstable_by(f64::total_cmp);
    let mut low = lower(
        point + quantile_sorted(deviations, TAILS[0]) - centre,
        point,
    );
    let high = upper(
        point + quantile_sorted(deviations, TAILS[1]) - centre,
        point,
    );
    if let Some(floor) = floor {
        low = upper(low, floor);
    }
    [point, low, high]
}

fn totals(artifact: &Artifact, spend: &[Vec<f64>], wanted: &[bool]) -> Answer {
    let tables = &artifact.mean_response;
    let tabulated = tables.len() == spend.len();
    // The draws' patterns cost a pass over every draw and period: built
    // only when a row needs them (an interval, or a total off the table).
    let mut built: Option<Vec<Vec<Pattern>>> = None;
    let draws = artifact.draws.len();
    let mut answer = Answer::new(
        vec![artifact.baseline_history_total; wanted.len()],
        spend.len(),
    );
    let (mut values, mut changes, mut kpi_changes, mut kpi_values) = (
        vec![0.0; draws],
        vec![0.0; draws],
        vec![0.0; draws],
        vec![0.0; draws],
    );
    for (r, &interval) in wanted.iter().enumerate() {
        if !interval && tabulated {
            let points: Option<Vec<f64>> = tables
                .iter()
                .zip(spend)
                .map(|(table, x)| table.at(x[r]))
                .collect();
            if let Some(points) = points {
                let mut kpi = artifact.baseline_history_total;
                for (out, point) in answer.contributions.iter_mut().zip(points) {
                    (out[0][r], out[1][r], out[2][r]) = (point, point, point);
                    kpi += point;
                }
                (answer.kpi[0][r], answer.kpi[1][r], answer.kpi[2][r]) = (kpi, kpi, kpi);
                continue;
            }
        }
        let by_channel = built.get_or_insert_with(|| {
            artifact
                .channels
                .iter()
                .enumerate()
                .map(|(c, ch)| patterns(ch, &artifact.draws, c))
                .collect()
        });
        kpi_changes.fill(0.0);
        kpi_values.fill(artifact.baseline_history_total);
        for (c, draw_patterns) in by_channel.iter().enumerate() {
            for (d, p) in draw_patterns.iter().enumerate() {
                values[d] = p.contribution(spend[c][r]);
                changes[d] = values[d] - p.at_history;
                kpi_changes[d] += changes[d];
                kpi_values[d] += values[d];
            }
            let [point, low, high] = summarise(&values, &mut changes, interval, Some(0.0));
            let out = &mut answer.contributions[c];
            (out[0][r], out[1][r], out[2][r]) = (point, low, high);
        }
        let [point, low, high] = summarise(&kpi_values, &mut kpi_changes, interval, None);
        (answer.kpi[0][r], answer.kpi[1][r], answer.kpi[2][r]) = (point, low, high);
    }
    answer
}

fn per_period(
    artifact: &Artifact,
    scenarios: &Table,
    dates: &[NaiveDate],
    spend: &[Vec<f64>],
    wanted: &[bool],
) -> Result<Answer> {
    let rows = dates.len();
    let groups = match scenarios.has_column(SCENARIO_COLUMN) {
        true => runs(&scenarios.to_f64_vec(SCENARIO_COLUMN)?),
        false => std::iter::once(0..rows).collect(),
    };
    let baseline = baseline_per_period(artifact, scenarios, dates)?;
    let draws = artifact.draws.len();
    let mut answer = Answer::new(baseline, spend.len());
    let longest = groups.iter().map(|g| g.len()).max().unwrap_or(0);
    // Per channel and draw, the group's contribution per period.
    let mut contributions = vec![vec![vec![0.0; longest]; draws]; spend.len()];
    let mut adstocked = vec![0.0; longest];
    let (mut values, mut kpi, mut scratch) = (vec![0.0; draws], vec![0.0; draws], vec![0.0; draws]);
    for group in &groups {
        let len = group.len();
        for (c, x) in spend.iter().enumerate() {
            for (out, d) in contributions[c].iter_mut().zip(&artifact.draws) {
                let d = &d.channels[c];
                d.adstock_into(&x[group.clone()], &mut adstocked[..len]);
                for (o, &a) in out.iter_mut().zip(&adstocked[..len]) {
                    *o = d.coefficient * d.hill(a);
                }
            }
        }
        for (t, r) in group.clone().enumerate() {
            kpi.fill(answer.baseline[r]);
            for (per_draw, out) in contributions.iter().zip(&mut answer.contributions) {
                for ((v, k), series) in values.iter_mut().zip(&mut kpi).zip(per_draw) {
                    *v = series[t];
                    *k += *v;
                }
                scratch.copy_from_slice(&values);
                let [point, low, high] = summarise(&values, &mut scratch, wanted[r], Some(0.0));
                (out[0][r], out[1][r], out[2][r]) = (point, low, high);
            }
            scratch.copy_from_slice(&kpi);
            let [point, low, high] = summarise(&kpi, &mut scratch, wanted[r], None);
            (answer.kpi[0][r], answer.kpi[1][r], answer.kpi[2][r]) = (point, low, high);
        }
    }
    Ok(answer)
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
    fn intervals_hold_the_point_and_respect_the_floor() {
        let values = [1.0, 2.0, 3.0, 10.0];
        let mut deviations = [-5.0, -4.0, -3.0, 40.0];
        let [point, low, high] = summarise(&values, &mut deviations, true, Some(0.0));
        assert_eq!(point, 4.0);
        assert!(low <= point && point <= high && low >= 0.0);
        assert_eq!(summarise(&values, &mut [0.0; 4], false, None), [4.0; 3]);
        assert_eq!(runs(&[1.0, 1.0, 2.0, 1.0]), vec![0..2, 2..3, 3..4]);
    }
}
