//! The data on the sampler's scale. The KPI is divided by its mean and each
//! channel's spend by its mean, and the baseline regressors (trend, yearly
//! Fourier terms, controls) are standardised, so that one set of default
//! priors fits any currency and any KPI, and the posterior is roughly
//! isotropic for the sampler's diagonal mass matrix.

use crate::data::{Calendar, Input};

/// The scaled data the log density reads.
#[derive(Debug, Clone)]
pub struct Design {
    /// `kpi / y_scale`.
    pub y: Vec<f64>,
    /// The mean KPI.
    pub y_scale: f64,
    /// Per channel `spend / spend_scale`.
    pub media: Vec<Vec<f64>>,
    /// Per channel the mean spend per period.
    pub spend_scale: Vec<f64>,
    /// Per channel total spend over `y_scale`: ROI times this is the
    /// channel's total contribution on the KPI's scale.
    pub spend_over_y: Vec<f64>,
    /// Standardised baseline columns, `baseline[j][t]`.
    pub baseline: Vec<Vec<f64>>,
    /// Mean and standard deviation each raw column was standardised with.
    pub baseline_center: Vec<f64>,
    pub baseline_sd: Vec<f64>,
    /// Names for the summary (`trend`, `sin1`, `cos1`, ..., controls).
    pub baseline_names: Vec<String>,
    pub calendar: Calendar,
}

impl Design {
    pub fn new(input: &Input, fourier_order: usize) -> Self {
        let n = input.len();
        let calendar = Calendar::new(&input.dates, fourier_order);
        let width = calendar.width();
        let mut raw = vec![vec![0.0; n]; width];
        let mut row = vec![0.0; width];
        for (t, &date) in input.dates.iter().enumerate() {
            calendar.features_into(date, &mut row);
            raw.iter_mut().zip(&row).for_each(|(c, v)| c[t] = *v);
        }
        raw.extend(input.controls.iter().cloned());
        let mut names = vec!["trend".to_owned()];
        for k in 1..=fourier_order {
            names.push(format!("sin{k}"));
            names.push(format!("cos{k}"));
        }
        names.extend(input.control_names.iter().cloned());
        let (mut center, mut sd) = (Vec::new(), Vec::new());
        let baseline = raw
            .iter()
            .map(|col| {
                let mean = col.iter().sum::<f64>() / n as f64;
                let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
                // A constant column carries nothing the intercept does not.
                let s = if var > 0.0 { var.sqrt() } else { 1.0 };
                center.push(mean);
                sd.push(s);
                col.iter().map(|v| (v - mean) / s).collect()
            })
            .collect();
        let y_scale = input.y.iter().sum::<f64>() / n as f64;
        let y_scale = if y_scale.abs() > 0.0 {
            y_scale.abs()
        } else {
            1.0
        };
        let spend_scale: Vec<f64> = input
            .media
            .iter()
            .map(|x| x.iter().sum::<f64>() / n as f64)
            .collect();
        Self {
            y: input.y.iter().map(|v| v / y_scale).collect(),
            y_scale,
            media: input
                .media
                .iter()
                .zip(&spend_scale)
                .map(|(x, s)| x.iter().map(|v| v / s).collect())
                .collect(),
            spend_over_y: spend_scale.iter().map(|s| s * n as f64 / y_scale).collect(),
            spend_scale,
            baseline,
            baseline_center: center,
            baseline_sd: sd,
            baseline_names: names,
            calendar,
        }
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The baseline on the KPI's own scale, from coefficients on the
    /// standardised columns: `(intercept, coefficients)` per raw column.
    pub fn unscale_baseline(&self, intercept: f64, coefficients: &[f64]) -> (f64, Vec<f64>) {
        let raw: Vec<f64> = coefficients
            .iter()
            .zip(&self.baseline_sd)
            .map(|(b, s)| self.y_scale * b / s)
            .collect();
        let shift: f64 = raw
            .iter()
            .zip(&self.baseline_center)
            .map(|(b, m)| b * m)
            .sum();
        (self.y_scale * intercept - shift, raw)
    }
}
