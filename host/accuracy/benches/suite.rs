//! The accuracy table: every built-in model on every preset of
//! `mmm_synth::suite` over several seeds, as mean relative ROI error per
//! channel beside the oracle's (the regression handed the true transforms),
//! with the share of 90% ROI intervals holding the truth, the model's
//! own test-window R² where it reports one, and the seconds per fit.
//!
//! `cargo bench -p mmm-accuracy --bench suite`; environment:
//! `MODELS=ridge,bayes` (default both), `SEEDS=1-10`, `PRESETS=a,b` (default
//! all), `RIDGE_PARAMS` / `BAYES_PARAMS` (JSON, default `{}`), `THREADS=2`
//! (fits run side by side), `DETAIL=path.csv` (one row per channel and fit).
//! On the always-on preset the models also fit with one lift test per
//! always-on channel (standard error 10%, measurement off by a seeded
//! draw of it), scored on the always-on channels alone.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use mmm_accuracy::{Model, Score, lifts, oracle, run};
use mmm_synth::suite::{self, Preset};

/// One fit to make: a preset and seed, a model, with lift tests or not.
#[derive(Clone, Copy)]
struct Job {
    preset: Preset,
    seed: u64,
    model: Model,
    lifts: bool,
}

/// What one job found.
struct Found {
    job: Job,
    /// True ROI per channel.
    truth: Vec<f64>,
    model: Score,
    oracle: Score,
    /// Channels that never go dark.
    always_on: Vec<bool>,
    test_r2: Option<f64>,
    /// The model's `health.test_rmse_ratio`, when it reports one.
    health_ratio: Option<f64>,
    /// Lag-1 autocorrelation of the fit's residuals.
    autocorrelation: f64,
    /// Whether the model said its fit is not trustworthy.
    untrustworthy: bool,
    seconds: f64,
    warned: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn seeds() -> Vec<u64> {
    let spec = env("SEEDS").unwrap_or_else(|| "1-10".to_owned());
    match spec.split_once('-') {
        Some((a, b)) => (a.parse().expect("SEEDS=a-b")..=b.parse().expect("SEEDS=a-b")).collect(),
        None => spec
            .split(',')
            .map(|s| s.parse().expect("SEEDS=a,b"))
            .collect(),
    }
}

fn main() {
    let models: Vec<Model> = env("MODELS")
        .unwrap_or_else(|| "ridge,bayes".to_owned())
        .split(',')
        .map(|m| Model::parse(m).unwrap_or_else(|| panic!("unknown model {m}")))
        .collect();
    let presets: Vec<Preset> = match env("PRESETS") {
        Some(names) => names
            .split(',')
            .map(|n| suite::preset(n).unwrap_or_else(|| panic!("unknown preset {n}")))
            .collect(),
        None => suite::presets(),
    };
    let params = |model: Model| {
        match model {
            Model::Ridge => env("RIDGE_PARAMS"),
            Model::Bayes => env("BAYES_PARAMS"),
        }
        .unwrap_or_else(|| "{}".to_owned())
    };
    let threads: usize = env("THREADS").and_then(|t| t.parse().ok()).unwrap_or(2);
    let mut jobs = Vec::new();
    for &preset in &presets {
        for &model in &models {
            for seed in seeds() {
                jobs.push(Job {
                    preset,
                    seed,
                    model,
                    lifts: false,
                });
                if preset.name == "always-on" {
                    jobs.push(Job {
                        preset,
                        seed,
                        model,
                        lifts: true,
                    });
                }
            }
        }
    }
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                while let Some(&job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = fit(job, &params(job.model));
                    eprint!(".");
                    found.lock().unwrap().push(result);
                }
            });
        }
    });
    eprintln!();
    let found = found.into_inner().unwrap();
    if let Some(path) = env("DETAIL") {
        write_detail(&path, &found);
    }
    print_table(&presets, &models, &found, &params);
}

fn fit(job: Job, params: &str) -> Found {
    let data = mmm_synth::generate(&(job.preset.config)(job.seed));
    let experiments = if job.lifts {
        lifts::always_on(&data, 0.1)
    } else {
        Vec::new()
    };
    let always_on = data.media.iter().map(|(_, s)| !s.contains(&0.0)).collect();
    let oracle = Score::new(&data, &oracle(&data), &[]);
    let truth: Vec<f64> = data.truth.channels.iter().map(|c| c.roi).collect();
    match run(job.model, &data, params, &experiments) {
        Ok(outcome) => {
            if env("WARNINGS").is_some() && !outcome.warnings.is_empty() {
                eprintln!(
                    "\n{} {} seed {}: {:?} {}",
                    job.model.name(),
                    job.preset.name,
                    job.seed,
                    outcome.warnings,
                    outcome.summary["sampler"]
                );
            }
            Found {
                job,
                truth,
                model: Score::new(&data, &outcome.rois, &outcome.intervals),
                oracle,
                always_on,
                test_r2: outcome.test_r2,
                health_ratio: outcome.summary["health"]["test_rmse_ratio"].as_f64(),
                autocorrelation: outcome.residual_autocorrelation,
                untrustworthy: outcome.trustworthy == Some(false),
                seconds: outcome.seconds,
                warned: !outcome.warnings.is_empty(),
            }
        }
        Err(error) => {
            eprintln!(
                "\n{} {} seed {}: {error}",
                job.model.name(),
                job.preset.name,
                job.seed
            );
            let n = data.media.len();
            Found {
                job,
                truth,
                model: Score {
                    errors: vec![f64::NAN; n],
                    covered: vec![false; n],
                    rois: vec![f64::NAN; n],
                },
                oracle,
                always_on,
                test_r2: None,
                health_ratio: None,
                autocorrelation: f64::NAN,
                untrustworthy: true,
                seconds: f64::NAN,
                warned: true,
            }
        }
    }
}

fn mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = v.into_iter().fold((0.0, 0), |(s, n), x| (s + x, n + 1));
    sum / f64::from(n.max(1))
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// The row of one preset (and lift variant) for one model.
struct Row {
    oracle: f64,
    model: f64,
    coverage: f64,
    test_r2: Option<f64>,
    seconds: f64,
    fits: usize,
}

fn row(found: &[&Found], always_on_only: bool) -> Row {
    let keep = |f: &Found| {
        let always_on = f.always_on.clone();
        move |c: usize| !always_on_only || always_on[c]
    };
    let model: Vec<Score> = found.iter().map(|f| f.model.only(keep(f))).collect();
    let oracle: Vec<Score> = found.iter().map(|f| f.oracle.only(keep(f))).collect();
    let covered: Vec<bool> = model.iter().flat_map(|s| s.covered.clone()).collect();
    Row {
        oracle: mean(oracle.iter().map(Score::mean_error)),
        model: mean(model.iter().map(Score::mean_error)),
        coverage: covered.iter().filter(|&&c| c).count() as f64 / covered.len().max(1) as f64,
        test_r2: median(found.iter().filter_map(|f| f.test_r2).collect()),
        seconds: median(found.iter().map(|f| f.seconds).collect()).unwrap_or(f64::NAN),
        fits: found.len(),
    }
}

fn print_table(
    presets: &[Preset],
    models: &[Model],
    found: &[Found],
    params: &dyn Fn(Model) -> String,
) {
    let seeds = seeds();
    println!(
        "Mean relative ROI error per channel (mean over {} seeds {}..={}), oracle = regression handed the true transforms.",
        seeds.len(),
        seeds.first().unwrap_or(&0),
        seeds.last().unwrap_or(&0)
    );
    for &model in models {
        println!("\n### {} (params {})\n", model.name(), params(model));
        println!(
            "| preset | oracle | model | model / oracle | 90% interval holds truth | test R² (median) | s per fit (median) |"
        );
        println!("|---|---|---|---|---|---|---|");
        let mut ratios = BTreeMap::new();
        let (mut covered, mut channels) = (0.0, 0.0);
        for preset in presets {
            let variants: &[(bool, bool, &str)] = if preset.name == "always-on" {
                &[
                    (false, false, ""),
                    (false, true, " (always-on channels)"),
                    (true, true, " + lift tests (always-on channels)"),
                ]
            } else {
                &[(false, false, "")]
            };
            for &(lifted, always_on_only, label) in variants {
                let of: Vec<&Found> = found
                    .iter()
                    .filter(|f| {
                        f.job.model == model
                            && f.job.preset.name == preset.name
                            && f.job.lifts == lifted
                    })
                    .collect();
                if of.is_empty() {
                    continue;
                }
                let r = row(&of, always_on_only);
                let ratio = r.model / r.oracle;
                if !always_on_only {
                    ratios.insert(preset.name, ratio);
                    let n: usize = of.iter().map(|f| f.model.covered.len()).sum();
                    covered += r.coverage * n as f64;
                    channels += n as f64;
                }
                let warned = of.iter().filter(|f| f.warned).count();
                let flagged = of.iter().filter(|f| f.untrustworthy).count();
                println!(
                    "| {}{label} | {:.3} | {:.3} | {:.2} | {:.0}% | {} | {:.2} |{}",
                    preset.name,
                    r.oracle,
                    r.model,
                    ratio,
                    100.0 * r.coverage,
                    r.test_r2.map_or("-".to_owned(), |v| format!("{v:.2}")),
                    r.seconds,
                    match (warned, flagged) {
                        (0, _) => String::new(),
                        (w, 0) => format!(" {w}/{} warned", r.fits),
                        (w, f) => format!(" {w}/{} warned, {f} untrustworthy", r.fits),
                    },
                );
            }
        }
        let worst = ratios.iter().max_by(|a, b| a.1.total_cmp(b.1));
        let of_model = |flag: bool| {
            let errors: Vec<f64> = found
                .iter()
                .filter(|f| f.job.model == model && !f.job.lifts && f.untrustworthy == flag)
                .map(|f| f.model.mean_error() / f.oracle.mean_error())
                .collect();
            (errors.len(), median(errors))
        };
        let ((flagged, flagged_ratio), (trusted, trusted_ratio)) =
            (of_model(true), of_model(false));
        if flagged > 0 {
            println!(
                "\nFits the model flagged untrustworthy: {flagged}, median model/oracle {:.2}; the other {trusted}: {:.2}",
                flagged_ratio.unwrap_or(f64::NAN),
                trusted_ratio.unwrap_or(f64::NAN)
            );
        }
        println!(
            "\n{}: mean model/oracle {:.2}, worst {:.2} ({}), presets within 1.5x: {}/{}, 90% intervals hold the truth for {:.0}% of channels",
            model.name(),
            mean(ratios.values().copied()),
            worst.map_or(f64::NAN, |w| *w.1),
            worst.map_or("-", |w| w.0),
            ratios.values().filter(|&&r| r <= 1.5).count(),
            ratios.len(),
            100.0 * covered / channels.max(1.0),
        );
    }
}

fn write_detail(path: &str, found: &[Found]) {
    let mut out = std::fs::File::create(path).expect("DETAIL file");
    writeln!(
        out,
        "model,preset,seed,lifts,channel,always_on,true_roi,roi,oracle_roi,error,oracle_error,covered,test_r2,health_ratio,autocorrelation,seconds"
    )
    .unwrap();
    for f in found {
        for c in 0..f.model.errors.len() {
            writeln!(
                out,
                "{},{},{},{},{c},{},{},{},{},{},{},{},{},{},{},{}",
                f.job.model.name(),
                f.job.preset.name,
                f.job.seed,
                f.job.lifts,
                f.always_on[c],
                f.truth[c],
                f.model.rois[c],
                f.oracle.rois[c],
                f.model.errors[c],
                f.oracle.errors[c],
                f.model.covered[c],
                f.test_r2.map_or(String::new(), |v| v.to_string()),
                f.health_ratio.map_or(String::new(), |v| v.to_string()),
                f.autocorrelation,
                f.seconds,
            )
            .unwrap();
        }
    }
}
