//! The analysed spend history: what each channel spends now, and how a
//! horizon's budget is spread over its periods.

use chrono::{Datelike, Months, NaiveDate};
use mmm_sdk::Table;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RecommendationError;

/// How a channel's horizon total is spread over the periods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Spread {
    /// Like the channel's spend over the latest periods of the data (flights and all).
    #[default]
    History,
    /// The same spend every period.
    Flat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub periods: usize,
    pub spread: Spread,
}

/// The source's dates and media spend, as uploaded.
#[derive(Debug, Clone)]
pub struct History {
    pub date_column: String,
    pub dates: Vec<NaiveDate>,
    pub channels: Vec<String>,
    /// Per channel, per period (a missing value counts as nothing spent).
    pub spend: Vec<Vec<f64>>,
    /// `daily`, `weekly` or `monthly`.
    pub granularity: String,
}

impl History {
    pub fn from_source(
        content: Vec<u8>,
        date_column: &str,
        media: &[String],
        granularity: &str,
    ) -> Result<Self, RecommendationError> {
        let corrupt = |e: mmm_sdk::Error| {
            RecommendationError::Internal(anyhow::anyhow!("stored source: {e}"))
        };
        let table = Table::from_ipc(content).map_err(corrupt)?;
        let dates = table.dates(date_column).map_err(corrupt)?;
        let spend = media
            .iter()
            .map(|m| {
                table.to_f64_vec(m).map(|v| {
                    v.into_iter()
                        .map(|x| if x.is_finite() && x > 0.0 { x } else { 0.0 })
                        .collect()
                })
            })
            .collect::<Result<Vec<Vec<f64>>, _>>()
            .map_err(corrupt)?;
        Ok(Self {
            date_column: date_column.to_owned(),
            dates,
            channels: media.to_vec(),
            spend,
            granularity: granularity.to_owned(),
        })
    }

    pub fn periods(&self) -> usize {
        self.dates.len()
    }

    /// Whether a horizon is the analysed history itself: the totals form
    /// of `predict` (one row per allocation) then says exactly the same
    /// as the per-period form, at a fraction of the cost.
    pub fn is_history(&self, horizon: &Horizon) -> bool {
        horizon.periods == self.periods() && horizon.spread == Spread::History
    }

    /// Each channel's current spend over the horizon: its spend over the
    /// latest `periods` periods (the rate it spends at now), scaled up when
    /// the horizon is longer than the data.
    pub fn current(&self, horizon: &Horizon) -> Vec<f64> {
        let n = self.periods();
        self.spend
            .iter()
            .map(|x| {
                if horizon.periods <= n {
                    x[n - horizon.periods..].iter().sum()
                } else {
                    x.iter().sum::<f64>() * horizon.periods as f64 / n as f64
                }
            })
            .collect()
    }

    /// Per channel, the share of its horizon total that falls in each period.
    pub fn patterns(&self, horizon: &Horizon) -> Vec<Vec<f64>> {
        let (n, h) = (self.periods(), horizon.periods);
        let flat = vec![1.0 / h as f64; h];
        self.spend
            .iter()
            .map(|x| match horizon.spread {
                Spread::Flat => flat.clone(),
                Spread::History => {
                    // The latest h periods, repeated from the start when h > n.
                    let window: Vec<f64> = (0..h).map(|t| x[(n - h.min(n) + t) % n]).collect();
                    let total: f64 = window.iter().sum();
                    if total > 0.0 {
                        window.iter().map(|v| v / total).collect()
                    } else {
                        flat.clone()
                    }
                }
            })
            .collect()
    }

    /// The horizon's periods: the ones after the data's last.
    pub fn future_dates(&self, periods: usize) -> Vec<NaiveDate> {
        let last = *self.dates.last().expect("a stored source has rows");
        (1..=periods)
            .map(|k| match self.granularity.as_str() {
                "daily" => last + chrono::Days::new(k as u64),
                "monthly" => {
                    let first = last.with_day(1).unwrap_or(last);
                    first + Months::new(k as u32)
                }
                _ => last + chrono::Days::new(7 * k as u64),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        History {
            date_column: "date".into(),
            dates: (0..4).map(|k| start + chrono::Days::new(7 * k)).collect(),
            channels: vec!["tv".into(), "radio".into()],
            spend: vec![vec![1.0, 2.0, 3.0, 4.0], vec![0.0; 4]],
            granularity: "weekly".into(),
        }
    }

    #[test]
    fn current_spend_is_the_latest_periods_and_scales_past_the_data() {
        let h = history();
        let horizon = |periods| Horizon {
            periods,
            spread: Spread::History,
        };
        assert_eq!(h.current(&horizon(4)), vec![10.0, 0.0]);
        assert_eq!(h.current(&horizon(2)), vec![7.0, 0.0]);
        assert_eq!(h.current(&horizon(8)), vec![20.0, 0.0]);
        assert!(h.is_history(&horizon(4)) && !h.is_history(&horizon(2)));
    }

    #[test]
    fn patterns_follow_the_latest_spend_or_are_flat() {
        let h = history();
        let p = h.patterns(&Horizon {
            periods: 2,
            spread: Spread::History,
        });
        assert_eq!(p[0], vec![3.0 / 7.0, 4.0 / 7.0]);
        assert_eq!(p[1], vec![0.5, 0.5], "a dark channel spreads flat");
        let p = h.patterns(&Horizon {
            periods: 3,
            spread: Spread::Flat,
        });
        assert_eq!(p[0], vec![1.0 / 3.0; 3]);
        let dates = h.future_dates(2);
        assert_eq!(dates[0], NaiveDate::from_ymd_opt(2024, 1, 29).unwrap());
    }
}
