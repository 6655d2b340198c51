//! Checks on values from request bodies, each failing with a 422 that names
//! the field.

use super::error::ApiError;
use crate::auth::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};

/// Trimmed and lower-cased, so that one mailbox is one account. Invisible
/// characters are refused, not stripped: `a\u{200b}dmin@x.io` would
/// otherwise look like another account in every list.
pub fn email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    if let Some(c) = email.chars().find(|c| c.is_control() || is_invisible(*c)) {
        return Err(invisible("email", c));
    }
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
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(ApiError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters long"),
        ));
    }
    if crate::auth::password::is_common(password) {
        return Err(ApiError::Invalid {
            code: "common_password",
            field: Some("password".into()),
            message: "this password is one of the most commonly used; choose another".into(),
        });
    }
    Ok(())
}

/// Subdomains the platform keeps for itself, which no tenant may take.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin", "api", "app", "assets", "auth", "cdn", "console", "docs", "help", "mail", "metrics",
    "platform", "static", "status", "support", "www",
];

/// A DNS label, since slugs become subdomains, and not one the platform
/// keeps for itself.
pub fn slug(slug: &str) -> Result<(), ApiError> {
    if RESERVED_SLUGS.contains(&slug) {
        return Err(ApiError::invalid(
            "slug",
            format!("`{slug}` is reserved for the platform's own subdomains"),
        ));
    }
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

/// A name or label: not blank, at most `max` characters, and without
/// control or invisible characters (refused rather than removed, so what is
/// stored is what the caller sent).
pub fn text(field: &'static str, value: &str, max: usize) -> Result<(), ApiError> {
    if let Some(c) = value.chars().find(|c| c.is_control() || is_invisible(*c)) {
        return Err(invisible(field, c));
    }
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

/// Characters that render as nothing or reorder the text around them:
/// zero-width spaces and joiners, bidirectional embeddings, overrides and
/// isolates, and other invisible format characters. They let two different
/// names look the same (or a name look like another) in every list. The
/// admin API's schemas say the same as a `pattern` (http/admin.rs); keep
/// the two alike.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

fn invisible(field: &'static str, c: char) -> ApiError {
    ApiError::invalid(
        field,
        format!(
            "must not contain control or invisible characters (found U+{:04X}); they are refused, not removed",
            u32::from(c)
        ),
    )
}

/// Stored settings are read on every request of the tenant: they stay small.
pub const MAX_SETTINGS_BYTES: usize = 16 * 1024;

/// A tenant's settings: a JSON object of at most [`MAX_SETTINGS_BYTES`]
/// (as compact JSON), and its `rate_limit` (if any) whole.
pub fn tenant_settings(value: &serde_json::Value) -> Result<(), ApiError> {
    json_object("settings", value)?;
    let size = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
    if size > MAX_SETTINGS_BYTES {
        return Err(ApiError::invalid(
            "settings",
            format!("is {size} bytes as JSON; at most {MAX_SETTINGS_BYTES} are kept"),
        ));
    }
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
    fn the_platforms_own_subdomains_are_no_tenants_slugs() {
        for reserved in ["www", "admin", "api"] {
            assert!(slug(reserved).is_err(), "{reserved}");
        }
        assert!(slug("wwww").is_ok());
    }

    #[test]
    fn invisible_and_control_characters_are_refused_in_names_and_emails() {
        for bad in [
            "Ac\u{200b}me",
            "\u{202e}emca",
            "Acme\u{2066}",
            "a\u{feff}",
            "tab\there",
        ] {
            assert!(text("name", bad, 200).is_err(), "{bad:?}");
        }
        assert!(text("name", "Zoë & Søn — 東京 🚀", 200).is_ok());
        assert!(email("ad\u{200d}min@acme.io").is_err());
        assert!(email("ada@acme.io\u{202e}").is_err());
    }

    #[test]
    fn settings_are_capped_in_size() {
        let small = serde_json::json!({ "note": "x".repeat(1000) });
        assert!(tenant_settings(&small).is_ok());
        let big = serde_json::json!({ "note": "x".repeat(MAX_SETTINGS_BYTES) });
        assert!(tenant_settings(&big).is_err());
    }

    #[test]
    fn feature_keys_allow_plugin_names() {
        assert!(feature_key("plugin:winsorize").is_ok());
        assert!(feature_key("Plugin").is_err());
        assert!(feature_key("").is_err());
    }
}
