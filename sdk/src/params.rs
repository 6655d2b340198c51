//! Typed plugin parameters: parsed from the host's JSON, published as JSON Schema.

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// A type a plugin takes as its params: deserialisable from JSON and able to
/// describe itself as JSON Schema. Implemented for every type deriving both.
///
/// The host validates a request's params against the published schema
/// before calling the plugin; `#[serde(default)]` fields become optional and
/// doc comments become schema descriptions.
///
/// Put [`macro@crate::params`] on the type: it derives both through the
/// SDK's serde and schemars, so the plugin crate depends on `mmm-sdk` alone.
/// (A crate that depends on `serde` and `schemars` itself may write
/// `#[derive(Deserialize, JsonSchema)]` instead.)
///
/// ```
/// use mmm_sdk::prelude::*;
///
/// /// How to clip outliers.
/// #[params]
/// #[serde(deny_unknown_fields)]
/// struct Clip {
///     /// Largest absolute z-score kept.
///     #[serde(default = "three")]
///     max_z: f64,
/// }
/// fn three() -> f64 { 3.0 }
///
/// let p: Clip = mmm_sdk::params::parse("{}")?;
/// assert_eq!(p.max_z, 3.0);
/// assert!(mmm_sdk::params::schema_json::<Clip>().contains("max_z"));
/// # Ok::<(), mmm_sdk::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as plugin params",
    label = "plugin params must derive `Deserialize` and `JsonSchema`",
    note = "put `#[params]` (in `mmm_sdk::prelude`) on `{Self}`"
)]
pub trait Params: DeserializeOwned + JsonSchema {}

impl<T: DeserializeOwned + JsonSchema> Params for T {}

/// Params for a plugin that takes none: accepts `{}` (or an empty string) only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Parses params JSON; an empty or blank string means `{}`.
pub fn parse<P: Params>(json: &str) -> Result<P> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(json).map_err(|e| Error::invalid_params(format!("params: {e}")))
}

/// The JSON Schema of a params type, as the plugin publishes it.
pub fn schema_json<P: Params>() -> String {
    serde_json::to_string(&schemars::schema_for!(P)).expect("a JSON Schema serialises")
}
