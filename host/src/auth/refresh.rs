//! Opaque refresh tokens: `<scope>.<random>`, stored only as a SHA-256 hash.
//! The scope (a tenant id, or `p` for platform admins) says where to look the
//! hash up; forging it only sends the lookup to a tenant where the hash is
//! not found.

use sha2::{Digest, Sha256};

use crate::ids::TenantId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Tenant(TenantId),
    Platform,
}

/// A fresh token and the hash to store for it.
pub fn generate(scope: Scope) -> (String, Vec<u8>) {
    let prefix = match scope {
        Scope::Tenant(id) => id.to_string(),
        Scope::Platform => "p".to_owned(),
    };
    let token = format!("{prefix}.{}", crate::secrets::random_token(32));
    let hash = hash(&token);
    (token, hash)
}

/// The scope and stored hash of a presented token; `None` when malformed.
pub fn parse(token: &str) -> Option<(Scope, Vec<u8>)> {
    let (prefix, secret) = token.split_once('.')?;
    if secret.len() < 40 || token.len() > 128 {
        return None;
    }
    let scope = match prefix {
        "p" => Scope::Platform,
        id => Scope::Tenant(id.parse().ok()?),
    };
    Some((scope, hash(token)))
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_back_to_its_scope_and_hash() {
        let tenant = TenantId::new();
        let (token, hash) = generate(Scope::Tenant(tenant));
        assert_eq!(parse(&token), Some((Scope::Tenant(tenant), hash)));
        let (token, hash) = generate(Scope::Platform);
        assert_eq!(parse(&token), Some((Scope::Platform, hash)));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        assert_eq!(parse("nonsense"), None);
        assert_eq!(parse("p.short"), None);
        assert_eq!(
            parse("not-a-uuid.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            None
        );
    }
}
