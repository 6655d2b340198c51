//! Missing-value imputation, per column: zero, forward fill, linear
//! interpolation or the column mean.

use std::collections::BTreeMap;

use mmm_sdk::prelude::*;

/// How to fill a column's missing values.
#[params]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Missing means none: 0.
    Zero,
    /// The last value before the gap (leading gaps take the first value).
    ForwardFill,
    /// Straight line between the values around the gap (edges take the nearest value).
    #[default]
    Linear,
    /// The mean of the column's values.
    Mean,
}

/// Which method fills which numeric column.
#[params]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Method for every numeric column without an override.
    #[serde(default)]
    pub method: Method,
    /// Per-column overrides, by column name.
    #[serde(default)]
    pub columns: BTreeMap<String, Method>,
}

#[preprocessor(name = "impute", version = "0.1.0")]
fn impute(mut data: Table, params: Params) -> Result<Table> {
    let numeric = data.numeric_column_names();
    if let Some(name) = params.columns.keys().find(|c| !numeric.contains(c)) {
        return Err(Error::invalid_params(format!(
            "`{name}` is not a numeric column"
        )));
    }
    let mut filled = 0;
    for mut col in data.numeric_columns_mut() {
        let method = params
            .columns
            .get(col.name())
            .copied()
            .unwrap_or(params.method);
        filled += fill(&mut col, method)
            .map_err(|e| Error::invalid_input(format!("column `{}`: {e}", col.name())))?;
    }
    log(LogLevel::Info, format!("imputed {filled} missing values"));
    Ok(data)
}

/// Fills the NaNs of `x` in place; returns how many it filled.
pub fn fill(x: &mut [f64], method: Method) -> Result<usize, &'static str> {
    let missing = x.iter().filter(|v| v.is_nan()).count();
    if missing == 0 || method == Method::Zero {
        x.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = 0.0);
        return Ok(missing);
    }
    let known: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return Err("no values to impute from");
    };
    match method {
        Method::Mean => {
            let mean = known.iter().map(|&i| x[i]).sum::<f64>() / known.len() as f64;
            x.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = mean);
        }
        Method::ForwardFill => {
            let mut previous = x[first];
            for v in x.iter_mut() {
                if v.is_nan() {
                    *v = previous
                } else {
                    previous = *v
                }
            }
        }
        Method::Linear => {
            let (head, tail) = (x[first], x[last]);
            x[..first].fill(head);
            x[last + 1..].fill(tail);
            for pair in known.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let step = (x[b] - x[a]) / (b - a) as f64;
                for i in a + 1..b {
                    x[i] = x[a] + step * (i - a) as f64;
                }
            }
        }
        Method::Zero => unreachable!("handled above"),
    }
    Ok(missing)
}

#[cfg(test)]
mod tests;
