//! The HMAC-only crypto provider for `jsonwebtoken`: access tokens are
//! HS256 (HS384 and HS512 are signed and checked too, so that tokens using
//! them can be told apart and refused by algorithm, not by a panic).
//!
//! jsonwebtoken's own `rust_crypto` provider brings RSA, elliptic-curve and
//! Ed25519 code (34 crates to build) that no token of ours can use; the
//! crate's `CryptoProvider` hook lets us supply the one family we sign with.
//! The primitives are RustCrypto's `hmac` and `sha2`, as in that provider.

use std::sync::Once;

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // Key utilities serve JWKs (public keys), which HMAC secrets never are.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes the HMAC provider the process's provider; the first call wins and
/// later calls do nothing. Called before any token is signed or verified.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means a provider is installed already: nothing else installs
        // one in this process, so it is this one.
        let _ = PROVIDER.install_default();
    });
}

/// One HMAC over the hash of the token's algorithm.
enum Mac3 {
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

struct HmacKey {
    algorithm: Algorithm,
    mac: Mac3,
}

impl HmacKey {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Result<Self> {
        let invalid = |_| ErrorKind::InvalidKeyFormat;
        let mac = match algorithm {
            Algorithm::HS256 => Mac3::Sha256(Hmac::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS384 => Mac3::Sha384(Hmac::new_from_slice(secret).map_err(invalid)?),
            Algorithm::HS512 => Mac3::Sha512(Hmac::new_from_slice(secret).map_err(invalid)?),
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        };
        Ok(Self { algorithm, mac })
    }

    fn tag(&self, message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + Clone>(mac: &M, message: &[u8]) -> Vec<u8> {
            let mut mac = mac.clone();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match &self.mac {
            Mac3::Sha256(mac) => run(mac, message),
            Mac3::Sha384(mac) => run(mac, message),
            Mac3::Sha512(mac) => run(mac, message),
        }
    }

    fn check(&self, message: &[u8], tag: &[u8]) -> bool {
        fn run<M: Mac + Clone>(mac: &M, message: &[u8], tag: &[u8]) -> bool {
            let mut mac = mac.clone();
            mac.update(message);
            // Constant-time comparison, by `hmac`.
            mac.verify_slice(tag).is_ok()
        }
        match &self.mac {
            Mac3::Sha256(mac) => run(mac, message, tag),
            Mac3::Sha384(mac) => run(mac, message, tag),
            Mac3::Sha512(mac) => run(mac, message, tag),
        }
    }
}

impl Signer<Vec<u8>> for HmacKey {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(self.tag(message))
    }
}

impl JwtSigner for HmacKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl Verifier<Vec<u8>> for HmacKey {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        if self.check(message, tag) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for HmacKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(HmacKey::new(*algorithm, key.as_bytes())?))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(HmacKey::new(*algorithm, key.try_get_as_bytes()?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        install();
        let tag = jsonwebtoken::crypto::sign(
            b"what do ya want for nothing?",
            &EncodingKey::from_secret(b"Jefe"),
            Algorithm::HS256,
        )
        .unwrap();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_changed_message_or_key_fails_and_other_families_are_refused() {
        install();
        let key = EncodingKey::from_secret(b"secret");
        let tag = jsonwebtoken::crypto::sign(b"message", &key, Algorithm::HS512).unwrap();
        let verify = |message: &[u8], secret: &[u8]| {
            jsonwebtoken::crypto::verify(
                &tag,
                message,
                &DecodingKey::from_secret(secret),
                Algorithm::HS512,
            )
            .unwrap()
        };
        assert!(verify(b"message", b"secret"));
        assert!(!verify(b"messagf", b"secret"));
        assert!(!verify(b"message", b"secreu"));
        let refused = jsonwebtoken::crypto::sign(b"message", &key, Algorithm::RS256);
        assert!(refused.is_err());
    }
}
