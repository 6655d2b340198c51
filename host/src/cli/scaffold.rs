//! `mmm plugin new`: a plugin crate that builds out of the box, written the
//! way the built-in plugins are.

use std::ffi::OsStr;
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

/// What to run after `plugin new`, naming this binary the way the user can
/// run it from where they are: the plugin's tests in its own folder, then
/// `plugin build` on it.
pub fn next_steps(root: &Path) -> String {
    let mmm = std::env::current_exe().map_or_else(
        |_| "mmm".to_owned(),
        |exe| {
            let cwd = std::env::current_dir().ok();
            invocation(&exe, std::env::var_os("PATH").as_deref(), cwd.as_deref())
        },
    );
    let root = shell_word(&root.display().to_string());
    format!("next: (cd {root} && cargo test) && {mmm} plugin build {root}")
}

/// How to run `exe` from `cwd`: its bare name when that name on `PATH` is
/// this binary, `./…` when it lies under `cwd` (e.g. `./target/debug/mmm`
/// in a checkout, also under `cargo run`), its absolute path otherwise.
fn invocation(exe: &Path, path: Option<&OsStr>, cwd: Option<&Path>) -> String {
    let exe = exe.canonicalize().unwrap_or_else(|_| exe.to_owned());
    if let (Some(name), Some(path)) = (exe.file_name(), path) {
        let first = std::env::split_paths(path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file());
        if first.and_then(|c| c.canonicalize().ok()).as_deref() == Some(exe.as_path()) {
            return shell_word(&name.to_string_lossy());
        }
    }
    let cwd = cwd.and_then(|c| c.canonicalize().ok());
    match cwd.as_deref().and_then(|c| exe.strip_prefix(c).ok()) {
        Some(relative) => shell_word(&format!("./{}", relative.display())),
        None => shell_word(&exe.display().to_string()),
    }
}

/// `word` as one shell word: unchanged when it is plain, single-quoted otherwise.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint names the binary as the user can run it: by name when PATH
    /// finds this very file, relative to where they are when it lies below,
    /// by its absolute path otherwise.
    #[test]
    fn the_hint_names_the_binary_as_it_can_be_run() {
        let root = std::env::temp_dir().join(format!("mmm-cli-hint-{}", std::process::id()));
        let bin = root.join("target/debug");
        let elsewhere = root.join("elsewhere");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        let exe = bin.join("mmm");
        std::fs::write(&exe, "").unwrap();
        let exe = exe.canonicalize().unwrap();

        let path = std::env::join_paths([&elsewhere, &bin]).unwrap();
        assert_eq!(invocation(&exe, Some(&path), Some(&elsewhere)), "mmm");
        // Another `mmm` earlier on PATH is not this binary.
        std::fs::write(elsewhere.join("mmm"), "").unwrap();
        assert_eq!(
            invocation(&exe, Some(&path), Some(&root)),
            "./target/debug/mmm"
        );
        assert_eq!(
            invocation(&exe, Some(&path), Some(&elsewhere)),
            exe.display().to_string()
        );
        assert_eq!(shell_word("/a b/it's"), r"'/a b/it'\''s'");

        // Here the running binary is the test harness, not on PATH.
        let hint = next_steps(Path::new("./my-scale"));
        assert!(
            hint.starts_with("next: (cd ./my-scale && cargo test) && "),
            "{hint}"
        );
        assert!(hint.ends_with(" plugin build ./my-scale"), "{hint}");
        let harness = std::env::current_exe().unwrap();
        let harness = harness.file_name().unwrap().to_string_lossy();
        assert!(hint.contains(&*harness), "{hint}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
