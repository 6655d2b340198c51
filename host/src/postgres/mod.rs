//! Where the database comes from: an external server named by `DATABASE_URL`
//! or a cluster this process runs itself, plus the roles and pools on top.

pub mod bootstrap;
pub mod embedded;
pub mod open;
pub mod supervise;

pub use bootstrap::{Databases, RolePasswords, connect};
pub use embedded::{EmbeddedCluster, EmbeddedError};
