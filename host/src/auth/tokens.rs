//! Access tokens: HS256 JWTs with issuer, audience, expiry, a not-before
//! time, a token type that nothing else can pass for, the signing key's
//! `kid`, and the caller's tenant and role.
//!
//! Verifying is pure computation over the keys held in memory: the `kid` is
//! only compared with the kids of those keys, never looked up in a database
//! or fetched from anywhere, so an unknown one is refused at no cost.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::SigningKey;
use crate::ids::TenantId;
use crate::roles::Role;

pub const ISSUER: &str = "mmm";
pub const AUDIENCE: &str = "mmm-api";
/// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 5;
/// The `typ` claim of an access token; refresh tokens are opaque and never JWTs.
const ACCESS: &str = "access";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user (or platform admin) id.
    pub sub: Uuid,
    pub exp: u64,
    /// Not valid before; absent in tokens issued before it was added, where
    /// `iat` stands in for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    pub iat: u64,
    pub jti: Uuid,
    pub typ: String,
    /// The tenant, absent for platform admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<TenantId>,
    pub role: Role,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The start-up check of signing and verifying failed: the server must not run.
#[derive(Debug, thiserror::Error)]
#[error(
    "the access-token self-test failed ({0}): signing or verifying JWTs does not work \
     (the HMAC provider of auth::jwt_crypto must be jsonwebtoken's provider)"
)]
pub struct SelfTestFailed(String);

/// Signs with the current key; verifies with it or any previous key.
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    current: SigningKey,
    previous: Vec<SigningKey>,
    access_ttl_secs: u64,
}

impl TokenIssuer {
    pub fn new(current: SigningKey, previous: Vec<SigningKey>, access_ttl_secs: u64) -> Self {
        super::jwt_crypto::install();
        Self {
            current,
            previous,
            access_ttl_secs,
        }
    }

    pub fn access_ttl_secs(&self) -> u64 {
        self.access_ttl_secs
    }

    pub fn issue(
        &self,
        sub: Uuid,
        tid: Option<TenantId>,
        role: Role,
    ) -> Result<String, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub,
            exp: now + self.access_ttl_secs,
            nbf: Some(now),
            iat: now,
            jti: Uuid::new_v4(),
            typ: ACCESS.into(),
            tid,
            role,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(&self.current.secret),
        )
        .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// The key a token's `kid` names: a comparison with the keys in memory, nothing else.
    fn key(&self, kid: Option<&str>) -> Option<&SigningKey> {
        let kid = kid?;
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
    }

    /// Verifies signature, algorithm (HS256 only: `none` and every other
    /// algorithm fail), key id, issuer, audience, expiry, not-before and
    /// token type.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let key = self.key(header.kid.as_deref()).ok_or(TokenError::Invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<AccessClaims>(
            token,
            &DecodingKey::from_secret(&key.secret),
            &validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let claims = data.claims;
        if claims.typ != ACCESS {
            return Err(TokenError::Invalid);
        }
        // Issued in the future: not valid yet, whether or not it says `nbf`.
        if claims.iat > jsonwebtoken::get_current_timestamp() + LEEWAY_SECS {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// Signs and verifies a token with every key, and checks that a forged
    /// one is refused: run at start-up, so that a build whose JWT crypto does
    /// not work (jsonwebtoken panics at the first token when its crypto
    /// provider features are wrong) never serves a request.
    pub fn self_test(&self) -> Result<(), SelfTestFailed> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .try_for_each(|key| {
                let issuer = TokenIssuer::new(key.clone(), vec![], self.access_ttl_secs.max(60));
                probe(
                    |sub| issuer.issue(sub, Some(TenantId::new()), Role::Viewer),
                    |token| issuer.verify(token),
                )
            })
    }
}

/// Issues a token, verifies it, and verifies a copy with a changed
/// signature, which must fail; a panic anywhere is a failure too.
fn probe(
    issue: impl Fn(Uuid) -> Result<String, TokenError>,
    verify: impl Fn(&str) -> Result<AccessClaims, TokenError>,
) -> Result<(), SelfTestFailed> {
    let run = || {
        let sub = Uuid::new_v4();
        let token = issue(sub).map_err(|e| SelfTestFailed(format!("signing: {e}")))?;
        let claims = verify(&token).map_err(|e| SelfTestFailed(format!("verifying: {e}")))?;
        if claims.sub != sub {
            return Err(SelfTestFailed("the verified claims differ".into()));
        }
        let (unsigned, signature) = token
            .rsplit_once('.')
            .ok_or_else(|| SelfTestFailed("the token has no signature".into()))?;
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{unsigned}.{flipped}{}", &signature[1..]);
        if verify(&forged).is_ok() {
            return Err(SelfTestFailed("a forged signature verified".into()));
        }
        Ok(())
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        Err(SelfTestFailed(why.trim().to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn issuer(secret: u8) -> TokenIssuer {
        TokenIssuer::new(SigningKey::from_secret(&[secret; 32]).unwrap(), vec![], 900)
    }

    #[test]
    fn a_token_round_trips() {
        let tid = TenantId::new();
        let sub = Uuid::new_v4();
        let token = issuer(1).issue(sub, Some(tid), Role::Analyst).unwrap();
        let claims = issuer(1).verify(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.tid, claims.role),
            (sub, Some(tid), Role::Analyst)
        );
    }

    #[test]
    fn another_key_is_refused_unless_kept_as_previous() {
        let token = issuer(1)
            .issue(Uuid::new_v4(), None, Role::PlatformAdmin)
            .unwrap();
        assert_eq!(issuer(2).verify(&token), Err(TokenError::Invalid));
        let rotated = TokenIssuer::new(
            SigningKey::from_secret(&[2; 32]).unwrap(),
            vec![SigningKey::from_secret(&[1; 32]).unwrap()],
            900,
        );
        assert!(rotated.verify(&token).is_ok());
    }

    #[test]
    fn alg_none_is_refused() {
        let token = issuer(1)
            .issue(Uuid::new_v4(), None, Role::PlatformAdmin)
            .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            issuer(1).verify(&format!("{header}.{payload}.")),
            Err(TokenError::Invalid)
        );
    }

    fn signed(issuer: &TokenIssuer, kid: &str, changes: serde_json::Value) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": Uuid::new_v4(), "exp": now + 600,
            "nbf": now, "iat": now, "jti": Uuid::new_v4(), "typ": ACCESS, "role": "viewer",
            "tid": TenantId::new(),
        });
        // A null change removes the claim.
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(&issuer.current.secret),
        )
        .unwrap()
    }

    #[test]
    fn expiry_and_not_before_hold_to_the_leeway() {
        let issuer = issuer(1);
        let kid = issuer.current.kid.clone();
        let now = jsonwebtoken::get_current_timestamp();
        let verify = |changes| issuer.verify(&signed(&issuer, &kid, changes));
        assert!(verify(serde_json::json!({})).is_ok());
        assert_eq!(
            verify(serde_json::json!({ "exp": now - LEEWAY_SECS - 1 })),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(serde_json::json!({ "nbf": now + LEEWAY_SECS + 60 })),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(serde_json::json!({ "nbf": null, "iat": now + LEEWAY_SECS + 60 })),
            Err(TokenError::Invalid)
        );
        // Tokens from before `nbf` was issued still verify.
        assert!(verify(serde_json::json!({ "nbf": null })).is_ok());
        let issued = issuer
            .issue(Uuid::new_v4(), None, Role::PlatformAdmin)
            .unwrap();
        assert!(issuer.verify(&issued).unwrap().nbf.is_some());
    }

    #[test]
    fn an_unknown_kid_is_refused_by_comparison_with_the_keys_held() {
        let issuer = TokenIssuer::new(
            SigningKey::from_secret(&[2; 32]).unwrap(),
            vec![SigningKey::from_secret(&[1; 32]).unwrap()],
            900,
        );
        let current = issuer.current.kid.clone();
        let previous = issuer.previous[0].kid.clone();
        assert_eq!(issuer.key(Some(&current)).unwrap().kid, current);
        assert_eq!(issuer.key(Some(&previous)).unwrap().kid, previous);
        for unknown in [
            "",
            "0000000000000000",
            "http://127.0.0.1:1/jwks",
            "' or 1=1 --",
        ] {
            assert!(issuer.key(Some(unknown)).is_none());
            // Signed with the right secret, but naming another key.
            assert_eq!(
                issuer.verify(&signed(&issuer, unknown, serde_json::json!({}))),
                Err(TokenError::Invalid),
                "{unknown}"
            );
        }
        assert!(issuer.key(None).is_none());
    }

    #[test]
    fn the_self_test_passes_with_working_crypto() {
        let rotated = TokenIssuer::new(
            SigningKey::from_secret(&[2; 32]).unwrap(),
            vec![SigningKey::from_secret(&[1; 32]).unwrap()],
            900,
        );
        rotated.self_test().unwrap();
    }

    #[test]
    fn the_self_test_fails_on_broken_crypto() {
        let issuer = issuer(1);
        let issue = |sub| issuer.issue(sub, None, Role::PlatformAdmin);
        // What jsonwebtoken does without exactly one provider feature.
        let panics = probe(issue, |_| {
            panic!("Could not automatically determine the process-level CryptoProvider")
        });
        assert!(panics.unwrap_err().to_string().contains("CryptoProvider"));
        let accepts_anything = probe(issue, |token| {
            Ok(issuer
                .verify(token)
                .unwrap_or_else(|_| issuer.verify(&issue(Uuid::new_v4()).unwrap()).unwrap()))
        });
        assert!(accepts_anything.is_err());
        let cannot_sign = probe(
            |_| Err(TokenError::Signing("no provider".into())),
            |t| issuer.verify(t),
        );
        assert!(cannot_sign.unwrap_err().to_string().contains("no provider"));
        let wrong_claims = probe(issue, |_| issuer.verify(&issue(Uuid::new_v4()).unwrap()));
        assert!(wrong_claims.is_err());
    }
}
