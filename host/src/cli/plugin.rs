//! `mmm plugin …`: what a data scientist runs on their own machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use mmm_runtime::{
    CallOptions, Experiment, LoadedPlugin, PluginKind, Roles, Runtime, RuntimeConfig,
};

use crate::config::PluginCommand;
use crate::experiments::ExperimentRequest;
use crate::tables::{self, TableFormat, TableLimits};

pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::New {
            name,
            kind,
            dir,
            sdk_path,
        } => {
            let root = super::scaffold::new_plugin(&name, kind, &dir, sdk_path)?;
            println!("created {}", root.display());
            println!("{}", super::scaffold::next_steps(&root));
            Ok(())
        }
        PluginCommand::Build { dir } => {
            let wasm = build(&dir)?;
            println!("{}", wasm.display());
            Ok(())
        }
        PluginCommand::Check { file } => {
            let (_, plugin) = load(&file).await?;
            let info = plugin.info();
            let schema: serde_json::Value =
                serde_json::from_str(&info.params_schema).unwrap_or_default();
            let report = serde_json::json!({
                "name": info.name,
                "version": info.version,
                "kind": info.kind.as_str(),
                "description": info.description,
                "author": info.author,
                "sha256": plugin.sha256(),
                "params_schema": schema,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        PluginCommand::Run {
            file,
            data,
            roles,
            params,
            experiments,
            out,
        } => {
            let experiments = match &experiments {
                Some(path) => read_experiments(path)?,
                None => Vec::new(),
            };
            let (runtime, plugin) = load(&file).await?;
            let csv =
                std::fs::read(&data).with_context(|| format!("reading {}", data.display()))?;
            let input = csv_to_ipc(&csv)?;
            match plugin.kind() {
                PluginKind::Preprocessor if !experiments.is_empty() => {
                    bail!(
                        "--experiments is for models; {} is a preprocessor",
                        plugin.info().name
                    )
                }
                PluginKind::Preprocessor => transform(&runtime, &plugin, input, params, out).await,
                PluginKind::Model => {
                    let roles = roles.context(
                        "a model needs --roles FILE.json naming date, kpi, media and controls",
                    )?;
                    fit(
                        &runtime,
                        &plugin,
                        input,
                        &roles,
                        params,
                        experiments,
                        out.unwrap_or_else(|| PathBuf::from("out")),
                    )
                    .await
                }
            }
        }
        PluginCommand::Predict {
            file,
            artifact,
            scenarios,
            out,
        } => predict(&file, &artifact, &scenarios, out).await,
        PluginCommand::Publish {
            file,
            server,
            token,
            tenant,
        } => publish(&file, &server, &token, tenant).await,
    }
}

/// `cargo build --release --target wasm32-wasip2` in the plugin's crate; the component's path.
pub fn build(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let name = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("name = \"")
                .and_then(|r| r.strip_suffix('"'))
        })
        .context("no package name in Cargo.toml")?;
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    let wasm = dir.join(format!(
        "target/wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    ));
    if !wasm.is_file() {
        bail!(
            "cargo succeeded but {} is missing; is crate-type = [\"cdylib\"]?",
            wasm.display()
        );
    }
    Ok(wasm)
}

/// The same sandbox and limits as the server, in this process. The compiled
/// component is kept in the per-user cache (see [`super::cache`]), so only
/// the first run of a component compiles it; stderr says which happened.
async fn load(file: &Path) -> anyhow::Result<(Runtime, LoadedPlugin)> {
    let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let cache_dir = super::cache::open();
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: cache_dir.clone(),
        ..RuntimeConfig::default()
    })?;
    let started = std::time::Instant::now();
    let plugin = runtime.load(wasm).await?;
    let seconds = started.elapsed().as_secs_f64();
    match cache_dir {
        Some(dir) if runtime.stats().loaded_from_disk > 0 => eprintln!(
            "loaded the compiled component from the cache in {seconds:.2} s ({})",
            dir.display()
        ),
        Some(dir) => eprintln!(
            "compiled the component in {seconds:.2} s; cached in {} for the next run",
            dir.display()
        ),
        None => eprintln!("compiled the component in {seconds:.2} s"),
    }
    Ok((runtime, plugin))
}

async fn transform(
    runtime: &Runtime,
    plugin: &LoadedPlugin,
    input: Vec<u8>,
    params: Option<String>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let output = runtime
        .transform(
            plugin,
            input,
            params.unwrap_or_default(),
            CallOptions::labelled("cli"),
        )
        .await?;
    let csv = ipc_to_csv(&output)?;
    match out {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("output.csv");
            std::fs::write(&path, csv)?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &csv)?,
    }
    Ok(())
}

async fn fit(
    runtime: &Runtime,
    plugin: &LoadedPlugin,
    input: Vec<u8>,
    roles: &Path,
    params: Option<String>,
    experiments: Vec<Experiment>,
    out: PathBuf,
) -> anyhow::Result<()> {
    let roles_json =
        std::fs::read_to_string(roles).with_context(|| format!("reading {}", roles.display()))?;
    let roles: RolesFile = serde_json::from_str(&roles_json)
        .context("roles: expected {date, kpi, media, controls}")?;
    let roles = Roles {
        date: roles.date,
        kpi: roles.kpi,
        media: roles.media,
        controls: roles.controls,
    };
    if !experiments.is_empty() && !plugin.contract().takes_experiments() {
        eprintln!(
            "warning: {} was built against plugin contract {}, which has no experiments: {} not used",
            plugin.info().name,
            plugin.contract().as_str(),
            experiments.len()
        );
    }
    let started = std::time::Instant::now();
    let output = runtime
        .fit_with_experiments(
            plugin,
            input,
            roles,
            params.unwrap_or_default(),
            experiments,
            CallOptions::labelled("cli"),
        )
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(&out)?;
    let summary: serde_json::Value = serde_json::from_str(&output.summary)?;
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    for (file, ipc) in [
        ("decomposition.csv", &output.decomposition),
        ("response_curves.csv", &output.response_curves),
    ] {
        std::fs::write(out.join(file), ipc_to_csv(ipc)?)?;
    }
    std::fs::write(out.join("artifact.bin"), &output.artifact)?;
    println!("{}", super::report::channel_table(&summary));
    println!(
        "fit in {seconds:.2} s; wrote summary.json, decomposition.csv, response_curves.csv, artifact.bin to {}",
        out.display()
    );
    Ok(())
}

/// A JSON array of lift tests, each checked as the service checks them
/// (ranges and dates; whether the channel and dates fit the data is the
/// model's to say).
fn read_experiments(path: &Path) -> anyhow::Result<Vec<Experiment>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let requests: Vec<ExperimentRequest> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected a JSON array of {{channel, start, end, spend_change, lift, standard_error}}",
            path.display()
        )
    })?;
    requests
        .into_iter()
        .enumerate()
        .map(|(i, request)| {
            let e = request
                .check()
                .map_err(|e| anyhow::anyhow!("{}: experiments[{i}]: {e}", path.display()))?;
            Ok(Experiment {
                channel: e.channel,
                start: e.start.to_string(),
                end: e.end.to_string(),
                spend_change: e.spend_change,
                lift: e.lift,
                standard_error: e.standard_error,
            })
        })
        .collect()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    date: String,
    kpi: String,
    media: Vec<String>,
    #[serde(default)]
    controls: Vec<String>,
}

/// One `predict` call in the sandbox; its time (instantiation, IPC both
/// ways and the guest's work, not the compile) goes to stderr.
async fn predict(
    file: &Path,
    artifact: &Path,
    scenarios: &Path,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (runtime, plugin) = load(file).await?;
    let artifact =
        std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
    let csv =
        std::fs::read(scenarios).with_context(|| format!("reading {}", scenarios.display()))?;
    let input = csv_to_ipc(&csv)?;
    let started = std::time::Instant::now();
    let output = runtime
        .predict(&plugin, artifact, input, CallOptions::labelled("cli"))
        .await?;
    let elapsed = started.elapsed();
    let batches = tables::ipc::decode_output(&output)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let csv = tables::write::csv(&batches)?;
    match out {
        Some(path) => {
            std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            std::io::Write::write_all(&mut stdout, &csv)?;
            std::io::Write::flush(&mut stdout)?;
        }
    }
    eprintln!(
        "predicted {rows} rows in {:.2} ms",
        elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}

async fn publish(file: &Path, server: &str, token: &str, tenant: bool) -> anyhow::Result<()> {
    let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let path = if tenant {
        "/tenant/plugins"
    } else {
        "/admin/plugins"
    };
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.trim_end_matches('/')))
        .bearer_auth(token)
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await
        .with_context(|| format!("posting to {server}"))?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("the server refused the plugin ({status}): {body}");
    }
    println!("{body}");
    Ok(())
}

/// A local CSV, under the same caps the server applies.
fn csv_to_ipc(csv: &[u8]) -> anyhow::Result<Vec<u8>> {
    let batches =
        TableFormat::Csv.parse(&bytes::Bytes::copy_from_slice(csv), &TableLimits::default())?;
    Ok(tables::write::ipc(&batches)?)
}

fn ipc_to_csv(ipc: &[u8]) -> anyhow::Result<Vec<u8>> {
    Ok(tables::write::csv(&tables::ipc::decode_output(ipc)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_experiments_file_is_checked_as_the_service_checks_it() {
        let dir = std::env::temp_dir().join(format!("mmm-cli-lift-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("experiments.json");
        let good = r#"[{"channel": "tv", "start": "2022-03-07", "end": "2022-03-27",
            "spend_change": -18000, "lift": -30000, "standard_error": 8000}]"#;
        std::fs::write(&file, good).unwrap();
        let read = read_experiments(&file).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].start, "2022-03-07");
        let bad = good.replace("8000}", "-1}");
        std::fs::write(&file, bad).unwrap();
        let error = read_experiments(&file).unwrap_err().to_string();
        assert!(
            error.contains("experiments[0]") && error.contains("standard_error"),
            "{error}"
        );
        std::fs::write(&file, r#"{"channel": "tv"}"#).unwrap();
        let error = format!("{:#}", read_experiments(&file).unwrap_err());
        assert!(error.contains("JSON array"), "{error}");
    }

    /// `plugin run` then `plugin predict` with the built-in model, as the
    /// README shows them: the artifact the fit writes answers scenarios, and
    /// scenarios missing a channel are refused with its name.
    #[tokio::test]
    async fn a_fitted_model_predicts_scenarios_from_its_artifact() {
        let dir = std::env::temp_dir().join(format!("mmm-cli-predict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (_, bytes) = crate::plugins::builtin::BUILTIN
            .iter()
            .find(|(name, _)| *name == "ridge-mmm")
            .unwrap();
        let wasm = dir.join("ridge_mmm.wasm");
        std::fs::write(&wasm, bytes).unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let fit_dir = dir.join("fit");
        run(PluginCommand::Run {
            file: wasm.clone(),
            data: examples.join("synthetic-156w.csv"),
            roles: Some(examples.join("roles.json")),
            params: Some(r#"{"budget": 300}"#.to_owned()),
            experiments: None,
            out: Some(fit_dir.clone()),
        })
        .await
        .unwrap();
        for file in ["summary.json", "decomposition.csv", "response_curves.csv"] {
            assert!(fit_dir.join(file).is_file(), "{file}");
        }

        let scenarios = dir.join("scenarios.csv");
        std::fs::write(
            &scenarios,
            "tv,search,social,display,radio\n0,0,0,0,0\n900000,1200000,400000,500000,1000000\n",
        )
        .unwrap();
        let predictions = dir.join("predictions.csv");
        let predict = |scenarios: PathBuf| PluginCommand::Predict {
            file: wasm.clone(),
            artifact: fit_dir.join("artifact.bin"),
            scenarios,
            out: Some(predictions.clone()),
        };
        run(predict(scenarios)).await.unwrap();
        let csv = std::fs::read_to_string(&predictions).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(
            lines[0].starts_with("revenue,baseline,tv_contribution"),
            "{csv}"
        );
        // No spend: the prediction is the baseline alone, and every channel
        // contributes nothing (its interval, away from history, is not empty).
        let header: Vec<&str> = lines[0].split(',').collect();
        let zero: Vec<f64> = lines[1].split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(zero[0], zero[1], "{csv}");
        for (name, value) in header.iter().zip(&zero) {
            if name.ends_with("_contribution") {
                assert_eq!(*value, 0.0, "{name}: {csv}");
            }
        }
        assert!(
            header.contains(&"revenue_low") && header.contains(&"revenue_high"),
            "{csv}"
        );

        let missing = dir.join("missing.csv");
        std::fs::write(&missing, "tv,search\n1,2\n").unwrap();
        let error = run(predict(missing)).await.unwrap_err().to_string();
        assert!(error.contains("social"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
