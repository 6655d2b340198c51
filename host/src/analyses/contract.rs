//! JSON Schema checks in the host: a request's params against the schema
//! each plugin publishes (before anything is queued), and every model's
//! output against the SDK's shared summary contract (before it is stored).

use std::io::Cursor;
use std::sync::OnceLock;

use serde_json::Value;

/// A value that broke a schema: where (`params.budget`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Violation {
    pub field: String,
    pub message: String,
}

/// Checks `value` against `schema`; the first violation names its path
/// under `root`. A schema that does not compile is the plugin's problem,
/// reported as a violation at `root`.
pub fn check(schema: &Value, value: &Value, root: &str) -> Result<(), Violation> {
    let validator = jsonschema::validator_for(schema).map_err(|e| Violation {
        field: root.to_owned(),
        message: format!("the plugin's published params schema is invalid: {e}"),
    })?;
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(error) => Err(Violation {
            field: field_path(root, &error.instance_path().to_string()),
            message: error.to_string(),
        }),
    }
}

/// `params` + `/channels/tv/alpha` → `params.channels.tv.alpha`.
fn field_path(root: &str, pointer: &str) -> String {
    pointer
        .split('/')
        .filter(|s| !s.is_empty())
        .fold(root.to_owned(), |mut path, segment| {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            if segment.bytes().all(|b| b.is_ascii_digit()) {
                path.push_str(&format!("[{segment}]"));
            } else {
                path.push('.');
                path.push_str(&segment);
            }
            path
        })
}

fn summary_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&mmm_sdk::summary::summary_schema())
            .expect("the SDK's summary schema compiles")
    })
}

/// Checks a model's fit output against the shared contract: the summary
/// schema, its channels being exactly the data's media columns, and the
/// tables' columns. The message says what is wrong, for the plugin's author.
pub fn check_fit_output(
    summary: &Value,
    decomposition: &[u8],
    response_curves: &[u8],
    media: &[String],
) -> Result<(), String> {
    if let Some(error) = summary_validator().iter_errors(summary).next() {
        return Err(format!(
            "the summary does not conform to the model-summary schema at `{}`: {error}",
            field_path("summary", &error.instance_path().to_string())
        ));
    }
    let channels: Vec<&str> = summary["channels"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["channel"].as_str()).collect())
        .unwrap_or_default();
    let mut sorted = channels.clone();
    sorted.sort_unstable();
    let mut expected: Vec<&str> = media.iter().map(String::as_str).collect();
    expected.sort_unstable();
    if sorted != expected {
        return Err(format!(
            "the summary's channels {channels:?} are not the data's media columns {media:?}"
        ));
    }
    let decomposition = column_names(decomposition, "decomposition")?;
    let curves = column_names(response_curves, "response curves")?;
    let decomposition: Vec<&str> = decomposition.iter().map(String::as_str).collect();
    let curves: Vec<&str> = curves.iter().map(String::as_str).collect();
    mmm_sdk::summary::check_tables(&decomposition, &curves, &channels)
}

fn column_names(ipc: &[u8], what: &str) -> Result<Vec<String>, String> {
    let reader = arrow_ipc::reader::StreamReader::try_new(Cursor::new(ipc), None)
        .map_err(|e| format!("the {what} is not an Arrow IPC stream: {e}"))?;
    Ok(reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_violation_names_the_field_by_its_path() {
        let schema = json!({
            "type": "object",
            "properties": {
                "budget": {"type": "integer", "minimum": 1},
                "channels": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}}
            },
            "additionalProperties": false
        });
        assert!(check(&schema, &json!({"budget": 5}), "params").is_ok());
        let v = check(&schema, &json!({"budget": "many"}), "params").unwrap_err();
        assert_eq!(v.field, "params.budget");
        let v = check(&schema, &json!({"channels": {"tv": [1, "x"]}}), "params").unwrap_err();
        assert_eq!(v.field, "params.channels.tv[1]");
        let v = check(&schema, &json!({"nope": 1}), "preprocessors[0].params").unwrap_err();
        assert_eq!(v.field, "preprocessors[0].params");
        assert!(v.message.contains("nope"), "{}", v.message);
    }

    #[test]
    fn a_summary_without_the_shared_fields_is_refused() {
        let err = check_fit_output(&json!({"model": "m"}), &[], &[], &[]).unwrap_err();
        assert!(err.contains("model-summary schema"), "{err}");
    }
}
