//! The one error type a plugin returns, and how the building blocks' errors map onto it.

use std::fmt;

use crate::adstock::AdstockError;
use crate::metrics::MetricsError;
use crate::regression::RegressionError;
use crate::saturation::SaturationError;

/// Why a plugin call failed; mirrors the WIT `error-code` enum.
///
/// The host uses the code to decide whose fault a failure is: `InvalidInput`
/// and `InvalidParams` are the caller's, the others the plugin's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The data does not fit what the plugin needs (missing column, wrong type, ...).
    InvalidInput,
    /// The params JSON does not parse or is out of range.
    InvalidParams,
    /// The computation failed numerically (singular matrix, no convergence, ...).
    Numerical,
    /// The plugin stopped because the host asked it to (see [`crate::checkpoint`]).
    Cancelled,
    /// A bug in the plugin.
    Internal,
}

/// A plugin failure: a code and a message for a human.
///
/// Build one with the constructor named after its code, or let `?` convert
/// the building blocks' errors:
///
/// ```
/// use mmm_sdk::{Error, ErrorCode, Result};
///
/// fn check_theta(theta: f64) -> Result<()> {
///     if !(0.0..1.0).contains(&theta) {
///         return Err(Error::invalid_params(format!("theta must be in [0, 1), got {theta}")));
///     }
///     Ok(())
/// }
/// assert_eq!(check_theta(2.0).unwrap_err().code(), ErrorCode::InvalidParams);
///
/// // Building-block errors convert with `?`:
/// fn adstocked(x: &[f64]) -> Result<Vec<f64>> {
///     Ok(mmm_sdk::adstock::geometric(x, 0.5)?)
/// }
/// assert!(adstocked(&[1.0, 0.0]).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The data does not fit what the plugin needs.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// The params are unusable.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParams, message)
    }

    /// The computation failed numerically.
    pub fn numerical(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Numerical, message)
    }

    /// The host asked the plugin to stop.
    pub fn cancelled() -> Self {
        Self::new(ErrorCode::Cancelled, "cancelled by the host")
    }

    /// A bug in the plugin.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl From<AdstockError> for Error {
    fn from(e: AdstockError) -> Self {
        match e {
            AdstockError::InvalidParameter { .. } => Self::invalid_params(e.to_string()),
            _ => Self::numerical(e.to_string()),
        }
    }
}

impl From<SaturationError> for Error {
    fn from(e: SaturationError) -> Self {
        match e {
            SaturationError::InvalidParameter { .. } => Self::invalid_params(e.to_string()),
            _ => Self::numerical(e.to_string()),
        }
    }
}

impl From<RegressionError> for Error {
    fn from(e: RegressionError) -> Self {
        match e {
            RegressionError::InvalidPenalty(_) => Self::invalid_params(e.to_string()),
            _ => Self::numerical(e.to_string()),
        }
    }
}

impl From<MetricsError> for Error {
    fn from(e: MetricsError) -> Self {
        Self::numerical(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    /// JSON the plugin itself produces or reads back (artifacts, summaries);
    /// params errors are reported as `InvalidParams` before this applies.
    fn from(e: serde_json::Error) -> Self {
        Self::internal(format!("json: {e}"))
    }
}
