//! The accuracy benchmark: how close each built-in model's ROIs come to the
//! truth on every preset of [`mmm_synth::suite`], beside an oracle handed
//! the true transforms (the noise floor).
//!
//! [`oracle`] is a least-squares fit given every channel's true saturated
//! series and the true baseline's shape, so only the coefficients are left
//! to estimate; [`run`] fits a model through the same IPC path the host
//! takes; [`Score`] reads a fit against the truth. The bench
//! (`cargo bench -p mmm-accuracy --bench suite`) prints the table.

pub mod lifts;
pub mod oracle;
pub mod run;
pub mod score;

pub use oracle::oracle;
pub use run::{Model, Outcome, run};
pub use score::Score;
