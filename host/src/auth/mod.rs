//! Identity: password hashing, access tokens (and their HMAC crypto), refresh
//! tokens, login throttling.

pub mod accounts;
pub mod jwt_crypto;
pub mod keys;
pub mod password;
pub mod refresh;
pub mod throttle;
pub mod tokens;

pub use keys::SigningKey;
pub use tokens::{AccessClaims, TokenError, TokenIssuer};
