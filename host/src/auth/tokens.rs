//! Access tokens: HS256 JWTs with issuer, audience, expiry, a token type that
//! nothing else can pass for, the signing key's `kid`, and the caller's
//! tenant and role.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::SigningKey;
use crate::ids::TenantId;
use crate::roles::Role;

pub const ISSUER: &str = "mmm";
pub const AUDIENCE: &str = "mmm-api";
/// The `typ` claim of an access token; refresh tokens are opaque and never JWTs.
const ACCESS: &str = "access";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user (or platform admin) id.
    pub sub: Uuid,
    pub exp: u64,
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

/// Signs with the current key; verifies with it or any previous key.
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    current: SigningKey,
    previous: Vec<SigningKey>,
    access_ttl_secs: u64,
}

impl TokenIssuer {
    pub fn new(current: SigningKey, previous: Vec<SigningKey>, access_ttl_secs: u64) -> Self {
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

    /// Verifies signature, algorithm (HS256 only: `none` and every other
    /// algorithm fail), key id, issuer, audience, expiry and token type.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()))
            .ok_or(TokenError::Invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<AccessClaims>(
            token,
            &DecodingKey::from_secret(&key.secret),
            &validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        if data.claims.typ != ACCESS {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
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
}
