//! Builds the plugins in `plugins/` to wasm32-wasip2 components as part of
//! the server's normal build, and embeds the built-in ones in the binary;
//! embeds the SQL migrations in `migrations/` too.
//!
//! The nested cargo uses a target dir of its own (`target/plugins`), so it
//! never waits on the outer build's lock; the runtime's tests find the test
//! plugins already built there. Outer-cargo variables that would leak into
//! the nested build (target, flags, profile) are removed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Embedded in the server and registered at start.
const BUILTIN: &[&str] = &["impute", "winsorize", "ridge-mmm", "bayes-mmm"];
/// Built alongside for the test suites, never embedded.
const TEST_ONLY: &[&str] = &["identity", "hostile", "adstock-bench", "legacy-model"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    for dir in ["plugins", "sdk"] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    embed_migrations(&workspace.join("migrations"));
    let target_dir = workspace.join("target/plugins");
    build_plugins(&workspace, &target_dir);
    let release = target_dir.join("wasm32-wasip2/release");
    let mut source = String::from(
        "/// (name, component bytes) of every built-in plugin.\npub const BUILTIN: &[(&str, &[u8])] = &[\n",
    );
    for name in BUILTIN {
        let path = release.join(format!("{}.wasm", name.replace('-', "_")));
        assert!(path.is_file(), "{} was not built", path.display());
        source.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    source.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin_plugins.rs");
    std::fs::write(out, source).expect("write builtin_plugins.rs");
}

fn build_plugins(workspace: &Path, target_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", target_dir);
    for name in BUILTIN.iter().chain(TEST_ONLY) {
        command.args(["-p", name]);
    }
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let leaks = key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_PKG_")
            || matches!(
                key.as_str(),
                "CARGO_ENCODED_RUSTFLAGS"
                    | "RUSTFLAGS"
                    | "CARGO_BUILD_TARGET"
                    | "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
            );
        if leaks {
            command.env_remove(&key);
        }
    }
    let status = command.status().expect("run cargo to build the plugins");
    assert!(
        status.success(),
        "building the plugins for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
    );
}

/// `migrations.rs`: (version, description, SQL) of every `migrations/*.sql`
/// in version order, named `<version>_<description>.sql` as sqlx expects
/// (`_` in the description reads as a space). This is what sqlx's
/// `migrate!` embeds, without building sqlx's proc macros for it.
fn embed_migrations(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut migrations: Vec<(i64, String, PathBuf)> = std::fs::read_dir(dir)
        .expect("read migrations/")
        .map(|entry| entry.expect("a migrations/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (version, description) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{} is not <version>_<description>.sql", path.display()));
            let version = version
                .parse()
                .unwrap_or_else(|_| panic!("{}: the version is not a number", path.display()));
            (version, description.replace('_', " "), path)
        })
        .collect();
    migrations.sort();
    let mut source = String::from(
        "/// (version, description, SQL) of every migration, in version order.\n\
         pub static MIGRATIONS: &[(i64, &str, &str)] = &[\n",
    );
    for (version, description, path) in &migrations {
        source.push_str(&format!(
            "    ({version}, {description:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    source.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("migrations.rs");
    std::fs::write(out, source).expect("write migrations.rs");
}
