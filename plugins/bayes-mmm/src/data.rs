//! The fit's input as plain vectors and where its dates sit on the model's
//! time axes (trend and yearly seasonality). As in ridge-mmm, whose
//! artifacts use the same calendar.

use mmm_sdk::prelude::*;

/// Days from 0001-01-01 (chrono's CE day 1) to 1970-01-01.
const UNIX_EPOCH_CE_DAY: i64 = 719_163;
/// Fewest periods a fit accepts: each window needs a few points.
pub const MIN_PERIODS: usize = 20;

/// The columns the model reads, validated.
#[derive(Debug, Clone)]
pub struct Input {
    pub dates: Vec<NaiveDate>,
    pub y: Vec<f64>,
    pub media_names: Vec<String>,
    pub media: Vec<Vec<f64>>,
    pub control_names: Vec<String>,
    pub controls: Vec<Vec<f64>>,
}

impl Input {
    /// Reads and checks the role columns: no missing values, increasing
    /// dates, non-negative spend with some spend in every channel.
    pub fn from_table(data: &Table, roles: &Roles) -> Result<Self> {
        let read = |name: &str| -> Result<Vec<f64>> {
            let v = data.to_f64_vec(name)?;
            match v.iter().position(|x| !x.is_finite()) {
                Some(row) => Err(Error::invalid_input(format!(
                    "column `{name}` has a missing or non-finite value at row {row}"
                ))),
                None => Ok(v),
            }
        };
        let dates = data.dates(&roles.date)?;
        if dates.len() < MIN_PERIODS {
            return Err(Error::invalid_input(format!(
                "{} periods: the model needs at least {MIN_PERIODS}",
                dates.len()
            )));
        }
        if let Some(row) = dates.windows(2).position(|w| w[1] <= w[0]) {
            return Err(Error::invalid_input(format!(
                "dates must increase: row {} is not after row {row}",
                row + 1
            )));
        }
        if roles.media.is_empty() {
            return Err(Error::invalid_input("roles name no media columns"));
        }
        let media = roles
            .media
            .iter()
            .map(|m| read(m))
            .collect::<Result<Vec<_>>>()?;
        for (name, x) in roles.media.iter().zip(&media) {
            if x.iter().any(|&v| v < 0.0) || x.iter().sum::<f64>() <= 0.0 {
                return Err(Error::invalid_input(format!(
                    "media `{name}` must be non-negative spend with a positive total"
                )));
            }
        }
        Ok(Self {
            y: read(&roles.kpi)?,
            media,
            controls: roles
                .controls
                .iter()
                .map(|c| read(c))
                .collect::<Result<_>>()?,
            media_names: roles.media.clone(),
            control_names: roles.controls.clone(),
            dates,
        })
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// Where a date sits on the model's time axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calendar {
    /// Days since 1970-01-01 of the first period.
    pub first_day: i64,
    /// Median days between periods (7 for weekly data).
    pub period_days: f64,
    pub fourier_order: usize,
}

impl Calendar {
    pub fn new(dates: &[NaiveDate], fourier_order: usize) -> Self {
        let mut gaps: Vec<i64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
        gaps.sort_unstable();
        Self {
            first_day: day_number(dates[0]),
            period_days: gaps[gaps.len() / 2] as f64,
            fourier_order,
        }
    }

    /// Number of baseline time columns: trend plus a sin and cos per order.
    pub fn width(&self) -> usize {
        1 + 2 * self.fourier_order
    }

    /// Writes the trend (periods since the first) and the yearly Fourier
    /// terms `sin/cos(2 pi k d / 365.25)` for `date` into `out`.
    pub fn features_into(&self, date: NaiveDate, out: &mut [f64]) {
        let day = day_number(date);
        out[0] = (day - self.first_day) as f64 / self.period_days;
        for k in 0..self.fourier_order {
            let angle = std::f64::consts::TAU * (k + 1) as f64 * day as f64 / 365.25;
            out[1 + 2 * k] = angle.sin();
            out[2 + 2 * k] = angle.cos();
        }
    }
}

pub fn day_number(date: NaiveDate) -> i64 {
    use mmm_sdk::chrono::Datelike;
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_CE_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_features_are_trend_and_yearly_fourier() {
        let d0 = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let dates = [d0, d0 + mmm_sdk::chrono::Days::new(7)];
        let cal = Calendar::new(&dates, 1);
        assert_eq!(cal.period_days, 7.0);
        let mut out = [0.0; 3];
        cal.features_into(dates[1], &mut out);
        // one period in; angle 2 pi 7 / 365.25
        let angle = std::f64::consts::TAU * 7.0 / 365.25;
        assert_eq!(out, [1.0, angle.sin(), angle.cos()]);
    }
}
