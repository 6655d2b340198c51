//! The NUL character (U+0000): PostgreSQL's `text` and `jsonb` cannot hold
//! it, so a string carrying one would fail deep inside a query as a 500.
//! Every string the API accepts (JSON bodies at any depth, object keys, path
//! and query parameters, plugin params) is checked here once, at the edge,
//! and refused with a 422 naming where it was. Tables check their cells in
//! `crate::tables`.

use serde_json::Value;

use super::error::ApiError;

const MESSAGE: &str = "the NUL character (U+0000) is not allowed";

/// Refuses the first string or key holding NUL, naming its path below `root`
/// (`config.labels[2]`; `root` may be empty).
pub fn check_json(value: &Value, root: &str) -> Result<(), ApiError> {
    match find(value, root.to_owned()) {
        Some(field) => Err(refused(field)),
        None => Ok(()),
    }
}

/// Refuses the first name or value holding NUL, naming the parameter.
pub fn check_params<K: AsRef<str>, V: AsRef<str>>(
    params: impl IntoIterator<Item = (K, V)>,
) -> Result<(), ApiError> {
    for (name, value) in params {
        let (name, value) = (name.as_ref(), value.as_ref());
        if name.contains('\0') || value.contains('\0') {
            return Err(refused(name.replace('\0', "")));
        }
    }
    Ok(())
}

fn refused(field: String) -> ApiError {
    ApiError::Invalid {
        code: "nul_character",
        message: format!(
            "{}: {MESSAGE}",
            if field.is_empty() { "body" } else { &field }
        ),
        field: Some(field),
    }
}

fn find(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let child = if path.is_empty() {
                key.replace('\0', "")
            } else {
                format!("{path}.{}", key.replace('\0', ""))
            };
            if key.contains('\0') {
                Some(child)
            } else {
                find(item, child)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(result: Result<(), ApiError>) -> Option<String> {
        match result {
            Err(ApiError::Invalid {
                code: "nul_character",
                field,
                ..
            }) => field,
            Ok(()) => None,
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn nul_is_found_at_any_depth_and_named_by_path() {
        assert_eq!(
            field(check_json(&json!({"email": "a\u{0}@x"}), "")),
            Some("email".into())
        );
        let nested = json!({"config": {"labels": ["ok", "b\u{0}d"]}});
        assert_eq!(
            field(check_json(&nested, "")),
            Some("config.labels[1]".into())
        );
        assert_eq!(
            field(check_json(&json!({"k\u{0}": 1}), "params")),
            Some("params.k".into())
        );
        assert_eq!(
            field(check_json(&json!(["\u{0}"]), "params")),
            Some("params[0]".into())
        );
        assert_eq!(
            field(check_json(&json!({"fine": ["text", 1, null]}), "")),
            None
        );
    }

    #[test]
    fn parameters_are_named() {
        assert_eq!(
            field(check_params([("version", "1\u{0}")])),
            Some("version".into())
        );
        assert_eq!(field(check_params([("name", "ok")])), None);
    }
}
