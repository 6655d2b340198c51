//! Where `mmm plugin check|run|predict` keep compiled components between
//! runs, so only the first run of a component pays for compiling it.
//!
//! The directory holds native code the CLI loads without recompiling, so it
//! must be the user's own: it is created owner-only (on Unix), and one that
//! other users may write to is not used.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The cache directory to use, created if needed; `None` (said on stderr)
/// when there is none or it cannot be used, and components are compiled
/// afresh.
pub fn open() -> Option<PathBuf> {
    let Some(dir) = dir_from(|key| std::env::var_os(key)) else {
        eprintln!(
            "no cache directory for compiled components (set MMM_CACHE_DIR or HOME); \
             compiling without a cache"
        );
        return None;
    };
    match prepare(&dir) {
        Ok(()) => Some(dir),
        Err(reason) => {
            eprintln!(
                "cannot use {} to cache compiled components ({reason}); compiling without a cache",
                dir.display()
            );
            None
        }
    }
}

/// `$MMM_CACHE_DIR`, else `$XDG_CACHE_HOME/mmm/components`, else
/// `$HOME/.cache/mmm/components`. Empty values count as unset, and a
/// relative `XDG_CACHE_HOME` is ignored (as the XDG spec says).
fn dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |key: &str| var(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    set("MMM_CACHE_DIR")
        .or_else(|| {
            set("XDG_CACHE_HOME")
                .filter(|dir| dir.is_absolute())
                .map(|dir| dir.join("mmm/components"))
        })
        .or_else(|| set("HOME").map(|home| home.join(".cache/mmm/components")))
}

/// Creates `dir` (and its missing parents) owner-only, checks that it can
/// be written to, and refuses a directory other users may write to.
fn prepare(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| e.to_string())?;
    let probe = dir.join(format!(".probe{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| format!("cannot write to it: {e}"))?;
    let _ = std::fs::remove_file(&probe);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            return Err(format!(
                "other users may write to it (mode {:o})",
                mode & 0o777
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(vars: &[(&str, &str)]) -> Option<PathBuf> {
        dir_from(|key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn the_cache_dir_follows_mmm_then_xdg_then_home() {
        let all = [
            ("MMM_CACHE_DIR", "/m"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir(&all), Some(PathBuf::from("/m")));
        assert_eq!(dir(&all[1..]), Some(PathBuf::from("/x/mmm/components")));
        assert_eq!(
            dir(&all[2..]),
            Some(PathBuf::from("/h/.cache/mmm/components"))
        );
        assert_eq!(dir(&[]), None);
        // Empty means unset; a relative XDG_CACHE_HOME is ignored.
        let odd = [
            ("MMM_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "rel"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir(&odd), Some(PathBuf::from("/h/.cache/mmm/components")));
    }

    #[test]
    fn the_cache_dir_is_created_and_a_file_in_the_way_is_reported() {
        let root = std::env::temp_dir().join(format!("mmm-cli-cache-{}", std::process::id()));
        let dir = root.join("a/b");
        prepare(&dir).unwrap();
        assert!(dir.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            let error = prepare(&dir).unwrap_err();
            assert!(error.contains("other users"), "{error}");
        }
        let file = root.join("file");
        std::fs::write(&file, "").unwrap();
        assert!(prepare(&file.join("components")).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
