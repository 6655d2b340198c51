//! Compiled components on disk: one file per (sha256 of the source, engine
//! compatibility hash), checksummed so a torn or corrupted file is recompiled
//! rather than loaded.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where precompiled components live.
pub(crate) struct DiskCache {
    dir: PathBuf,
    engine_tag: String,
}

impl DiskCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir: dir.to_owned(),
            engine_tag: format!("{:016x}", hasher.finish()),
        })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_tag))
    }

    /// The component compiled earlier from the source with this sha256, if
    /// its file is intact and this engine accepts it.
    pub(crate) fn get(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path(sha256);
        let file = std::fs::read(&path).ok()?;
        let (checksum, payload) = file.split_at_checked(32)?;
        if Sha256::digest(payload)[..] != *checksum {
            tracing::warn!(path = %path.display(), "corrupt precompiled component ignored");
            return None;
        }
        match deserialize(engine, payload) {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "precompiled component rejected");
                None
            }
        }
    }

    /// Stores a compiled component; failures are logged, never fatal.
    pub(crate) fn put(&self, sha256: &str, component: &Component) {
        let result = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|payload| {
                let path = self.path(sha256);
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                let mut file = Sha256::digest(&payload).to_vec();
                file.extend_from_slice(&payload);
                std::fs::write(&tmp, file)?;
                std::fs::rename(&tmp, &path)
            });
        if let Err(error) = result {
            tracing::warn!(%error, sha256, "could not store precompiled component");
        }
    }
}

/// Loads native code produced by [`Component::serialize`].
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, payload: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `payload` is the output of `Component::serialize` by this same
    // runtime: it was read from the cache directory, which only the server
    // writes, and its SHA-256 matched the checksum written beside it, so it is
    // neither torn nor corrupted. Wasmtime itself checks that the engine
    // version and configuration match and errors otherwise.
    unsafe { Component::deserialize(engine, payload) }
}
