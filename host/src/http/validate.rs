//! Checks on values from request bodies, each failing with a 422 that names
//! the field.

use super::error::ApiError;
use crate::auth::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};

/// Trimmed and lower-cased, so that one mailbox is one account.
pub fn email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid("email", "not a valid email address"))
    }
}

pub fn new_password(password: &str) -> Result<(), ApiError> {
    let len = password.chars().count();
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long"),
        ))
    }
}

/// A DNS label, since slugs become subdomains.
pub fn slug(slug: &str) -> Result<(), ApiError> {
    let bytes = slug.as_bytes();
    let valid = (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-';
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "slug",
            "must be 1 to 63 lower-case letters, digits or inner hyphens",
        ))
    }
}

pub fn text(field: &'static str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.chars().count() > max {
        Err(ApiError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Numbers in stored JSON stay within this magnitude. `jsonb` keeps numbers
/// as exact decimals and prints them without an exponent, and a double near
/// `f64::MAX` printed that way no longer parses as a double: the row holding
/// it could not be read again.
pub const MAX_STORED_NUMBER: f64 = 1e308;

/// A JSON object that `jsonb` can store and give back.
pub fn json_object(field: &'static str, value: &serde_json::Value) -> Result<(), ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid(field, "must be a JSON object"));
    }
    if !numbers_stored_whole(value) {
        return Err(ApiError::invalid(
            field,
            format!("numbers must be within ±{MAX_STORED_NUMBER:e}"),
        ));
    }
    Ok(())
}

/// A tenant's settings: a JSON object, and its `rate_limit` (if any) whole.
pub fn tenant_settings(value: &serde_json::Value) -> Result<(), ApiError> {
    json_object("settings", value)?;
    crate::limits::tenant::settings_rate(value).map_err(|reason| {
        ApiError::invalid(
            format!("settings.{}", crate::limits::tenant::SETTINGS_KEY),
            reason,
        )
    })?;
    Ok(())
}

fn numbers_stored_whole(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) => n.as_f64().is_none_or(|x| x.abs() <= MAX_STORED_NUMBER),
        Value::Array(items) => items.iter().all(numbers_stored_whole),
        Value::Object(map) => map.values().all(numbers_stored_whole),
        _ => true,
    }
}

/// Feature keys such as `plugin:winsorize`.
pub fn feature_key(key: &str) -> Result<(), ApiError> {
    let valid = (1..=100).contains(&key.len())
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b':' | b'.')
        });
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid("key", "must be 1 to 100 of [a-z0-9_-:.]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_are_dns_labels() {
        assert!(slug("acme-2").is_ok());
        for bad in ["", "-acme", "acme-", "Acme", "ac.me", &"a".repeat(64)] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_objects_hold_only_numbers_jsonb_gives_back() {
        for fine in [1e308, -1e308, 8.82724440151552e-305, 5e-324, 0.5, 114794.0] {
            let value = serde_json::json!({ "a": [{ "b": fine }] });
            assert!(json_object("config", &value).is_ok(), "{fine}");
        }
        let huge = serde_json::json!({ "a": [{ "b": f64::MAX }], "c": u64::MAX });
        assert!(json_object("config", &huge).is_err());
        assert!(json_object("config", &serde_json::json!([])).is_err());
    }

    #[test]
    fn feature_keys_allow_plugin_names() {
        assert!(feature_key("plugin:winsorize").is_ok());
        assert!(feature_key("Plugin").is_err());
        assert!(feature_key("").is_err());
    }
}
