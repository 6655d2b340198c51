//! `mmm plugin new`: a plugin crate that builds out of the box, written the
//! way the built-in plugins are.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::PluginKindArg;

/// The SDK of the checkout this binary was built from, when it still exists.
pub fn default_sdk_path() -> Option<PathBuf> {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    sdk.join("Cargo.toml")
        .is_file()
        .then(|| sdk.canonicalize().ok())
        .flatten()
}

/// Writes `<dir>/<name>/` with a Cargo.toml and a src/lib.rs; returns the crate dir.
pub fn new_plugin(
    name: &str,
    kind: PluginKindArg,
    dir: &Path,
    sdk: Option<PathBuf>,
) -> anyhow::Result<PathBuf> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-');
    if !valid {
        bail!("plugin names are lower-case kebab-case, starting with a letter (e.g. `my-adstock`)");
    }
    let sdk = sdk.or_else(default_sdk_path).context(
        "cannot find the mmm SDK: pass --sdk-path pointing at the `sdk` folder of an mmm checkout",
    )?;
    let root = dir.join(name);
    if root.exists() {
        bail!("{} already exists", root.display());
    }
    std::fs::create_dir_all(root.join("src"))?;
    std::fs::write(root.join("Cargo.toml"), cargo_toml(name, &sdk))?;
    let lib = match kind {
        PluginKindArg::Preprocessor => preprocessor_lib(name),
        PluginKindArg::Model => model_lib(name),
    };
    std::fs::write(root.join("src/lib.rs"), lib)?;
    std::fs::write(root.join(".gitignore"), "/target\n")?;
    Ok(root)
}

fn cargo_toml(name: &str, sdk: &Path) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
description = "An mmm plugin"

[lib]
crate-type = ["cdylib"]

[dependencies]
mmm-sdk = {{ path = "{sdk}" }}

[profile.release]
strip = true
codegen-units = 1

# A crate of its own, even when created inside another workspace.
[workspace]
"#,
        sdk = sdk.display()
    )
}

fn preprocessor_lib(name: &str) -> String {
    format!(
        r#"//! {name}: scales the chosen numeric columns by a factor.

use mmm_sdk::prelude::*;

/// The params, with their JSON Schema derived for the host.
#[params]
#[serde(deny_unknown_fields)]
struct Params {{
    /// What every value is multiplied by.
    factor: f64,
    /// Columns to scale; all numeric columns when absent.
    columns: Option<Vec<String>>,
}}

#[preprocessor(name = "{name}", version = "0.1.0")]
fn scale(mut data: Table, params: Params) -> Result<Table> {{
    if !params.factor.is_finite() {{
        return Err(Error::invalid_params("factor must be a finite number"));
    }}
    for mut column in data.numeric_columns_mut() {{
        let chosen = params.columns.as_ref().is_none_or(|c| c.iter().any(|n| n == column.name()));
        if chosen {{
            column.iter_mut().for_each(|v| *v *= params.factor);
        }}
    }}
    Ok(data)
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn doubles_every_numeric_column() {{
        let mut table = Table::new();
        table.set_f64("tv", vec![1.0, 2.5]).unwrap();
        let out = scale(table, Params {{ factor: 2.0, columns: None }}).unwrap();
        assert_eq!(out.f64_column("tv").unwrap(), &[2.0, 5.0]);
    }}
}}
"#
    )
}

fn model_lib(name: &str) -> String {
    format!(
        r#"//! {name}: KPI = intercept + one ridge coefficient per media channel.

use mmm_sdk::prelude::*;
use mmm_sdk::regression::{{RidgeOptions, ridge}};

struct SpendModel;

#[params]
#[serde(deny_unknown_fields)]
struct Params {{
    /// Ridge penalty.
    #[serde(default = "default_lambda")]
    lambda: f64,
}}

fn default_lambda() -> f64 {{
    1.0
}}

#[artifact]
struct Coefficients {{
    media: Vec<String>,
    intercept: f64,
    beta: Vec<f64>,
}}

#[model(name = "{name}", version = "0.1.0")]
impl Model for SpendModel {{
    type Params = Params;
    type Artifact = Coefficients;

    fn fit(data: Table, roles: Roles, params: Params) -> Result<Fit<Coefficients>> {{
        let media: Vec<&str> = roles.media.iter().map(String::as_str).collect();
        let x = data.to_matrix(&media)?;
        let y = data.to_f64_vec(&roles.kpi)?;
        let fit = ridge(x.view(), &y, &RidgeOptions::new(params.lambda))?;
        let mut decomposition = Table::new();
        decomposition.set_dates("date", &data.dates(&roles.date)?)?;
        decomposition.set_f64("baseline", vec![fit.intercept; y.len()])?;
        for (j, channel) in media.iter().enumerate() {{
            let contribution = x.column(j).iter().map(|s| s * fit.coefficients[j]).collect();
            decomposition.set_f64(channel, contribution)?;
        }}
        Ok(Fit {{
            summary: json!({{ "intercept": fit.intercept, "coefficients": fit.coefficients }}),
            artifact: Coefficients {{ media: roles.media, intercept: fit.intercept, beta: fit.coefficients }},
            decomposition,
            response_curves: Table::new(),
        }})
    }}

    fn predict(model: Coefficients, scenarios: Table) -> Result<Table> {{
        let mut kpi = vec![model.intercept; scenarios.num_rows()];
        for (channel, beta) in model.media.iter().zip(&model.beta) {{
            for (k, spend) in kpi.iter_mut().zip(scenarios.to_f64_vec(channel)?) {{
                *k += beta * spend;
            }}
        }}
        let mut out = Table::new();
        out.set_f64("kpi", kpi)?;
        Ok(out)
    }}
}}
"#
    )
}
