//! The HMAC keys that sign access tokens. The key comes from configuration or
//! a file generated in the data dir, never from a constant; its `kid` is a
//! digest of the key so that tokens name the key that signed them and old
//! keys can keep verifying during a rotation.

use std::path::Path;

use sha2::{Digest, Sha256};

/// Keys shorter than this are refused: HS256 wants at least 256 bits.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")]
    TooShort,
    #[error("reading or creating the JWT key file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn from_secret(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort);
        }
        let digest = Sha256::digest(secret);
        let kid = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            kid,
            secret: secret.to_vec(),
        })
    }

    /// The key in `path`, generated (and kept, mode 0600) when absent.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let secret = crate::secrets::read_or_create(path).map_err(|source| KeyError::File {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_secret(secret.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            SigningKey::from_secret(b"short"),
            Err(KeyError::TooShort)
        ));
    }

    #[test]
    fn the_kid_names_the_key() {
        let a = SigningKey::from_secret(&[1; 32]).unwrap();
        let b = SigningKey::from_secret(&[2; 32]).unwrap();
        assert_eq!(a.kid.len(), 16);
        assert_ne!(a.kid, b.kid);
        assert_eq!(a.kid, SigningKey::from_secret(&[1; 32]).unwrap().kid);
    }
}
