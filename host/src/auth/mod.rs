//! Identity: password hashing, access tokens, refresh tokens, login throttling.

pub mod accounts;
pub mod keys;
pub mod password;
pub mod refresh;
pub mod throttle;
pub mod tokens;

pub use keys::SigningKey;
pub use tokens::{AccessClaims, TokenError, TokenIssuer};
