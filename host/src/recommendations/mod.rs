//! Recommendations: where the next unit of budget should go, for a
//! succeeded analysis, by optimising over its model's `predict` alone.
//! Where each part lives:
//!
//! - [`request`]: a request → the exact problem (objective, budget,
//!   horizon, bounds), every refusal naming its field;
//! - [`history`]: current spend and how a horizon spreads it;
//! - [`scenarios`]: allocations → one `predict` call → contributions;
//! - [`compute`]: load the analysis, optimise (`mmm_sdk::allocate`), score
//!   the answer, store it;
//! - [`answer`]: what the API returns, in numbers and in plain words.
//!
//! SQL: `crate::db::recommendations`. HTTP: `crate::http::recommendations`.

pub mod answer;
pub mod compute;
pub mod history;
pub mod request;
pub mod scenarios;

pub use answer::Recommendation;
pub use request::RecommendationRequest;

/// Why a recommendation was not made.
#[derive(Debug, thiserror::Error)]
pub enum RecommendationError {
    #[error("analysis not found")]
    AnalysisNotFound,
    #[error("the tenant has no succeeded analysis yet: run one first")]
    NoAnalysis,
    #[error("the analysis is {0}: recommendations need a succeeded one")]
    NotSucceeded(String),
    /// A field of the request (named by path) is wrong.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The bounds and the budget admit no allocation.
    #[error("{message}")]
    Infeasible { field: String, message: String },
    /// No budget within the bounds meets the target.
    #[error("{0}")]
    TargetUnreachable(String),
    #[error(transparent)]
    Plugin(#[from] crate::plugins::RegistryError),
    #[error(transparent)]
    Predict(mmm_runtime::RuntimeError),
    /// The model's answer breaks the SDK's scenario contract.
    #[error("the model's predict broke the scenario contract: {0}")]
    ModelContract(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(anyhow::Error),
}
