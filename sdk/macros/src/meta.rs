//! The `name = "...", version = "...", ...` arguments of the plugin attributes.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};

/// What a plugin attribute says about its plugin.
pub(crate) struct PluginMeta {
    name: LitStr,
    version: LitStr,
    description: Option<LitStr>,
    author: Option<LitStr>,
}

impl PluginMeta {
    pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut name = None;
        let mut version = None;
        let mut description = None;
        let mut author = None;
        let parser = syn::meta::parser(|m: ParseNestedMeta<'_>| {
            let slot = if m.path.is_ident("name") {
                &mut name
            } else if m.path.is_ident("version") {
                &mut version
            } else if m.path.is_ident("description") {
                &mut description
            } else if m.path.is_ident("author") {
                &mut author
            } else {
                return Err(m.error(
                    "unknown argument; expected `name`, `version`, `description` or `author`",
                ));
            };
            if slot.is_some() {
                return Err(m.error("argument given twice"));
            }
            *slot = Some(m.value()?.parse::<LitStr>()?);
            Ok(())
        });
        parser.parse2(input.parse::<TokenStream>()?)?;
        let missing = |what: &str| {
            syn::Error::new(
                Span::call_site(),
                format!(
                    "missing `{what} = \"...\"`, e.g. #[preprocessor(name = \"impute\", version = \"1.0.0\")]"
                ),
            )
        };
        let name = name.ok_or_else(|| missing("name"))?;
        let version = version.ok_or_else(|| missing("version"))?;
        if !is_plugin_name(&name.value()) {
            return Err(syn::Error::new(
                name.span(),
                "a plugin name is lower-case kebab-case: letters, digits and single dashes, starting with a letter",
            ));
        }
        if !is_semver(&version.value()) {
            return Err(syn::Error::new(
                version.span(),
                "a plugin version is semver: MAJOR.MINOR.PATCH with optional -pre and +build parts",
            ));
        }
        Ok(Self {
            name,
            version,
            description,
            author,
        })
    }

    /// An `::mmm_sdk::__private::Meta` literal; defaults come from the package.
    pub(crate) fn to_tokens(&self) -> TokenStream {
        let Self {
            name,
            version,
            description,
            author,
        } = self;
        let description = description
            .as_ref()
            .map_or_else(|| quote!(env!("CARGO_PKG_DESCRIPTION")), |d| quote!(#d));
        let author = author
            .as_ref()
            .map_or_else(|| quote!(env!("CARGO_PKG_AUTHORS")), |a| quote!(#a));
        quote! {
            ::mmm_sdk::__private::Meta {
                name: #name,
                version: #version,
                description: #description,
                author: #author,
            }
        }
    }
}

fn is_plugin_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_semver(version: &str) -> bool {
    let version =
        version.split_once('+').map_or(
            version,
            |(v, build)| {
                if is_dot_separated(build) { v } else { "" }
            },
        );
    let (core, pre) = version.split_once('-').unwrap_or((version, "0"));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && is_dot_separated(pre)
}

fn is_dot_separated(s: &str) -> bool {
    s.split('.')
        .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_kebab_case() {
        assert!(is_plugin_name("impute"));
        assert!(is_plugin_name("geo-adstock2"));
        assert!(!is_plugin_name("Impute"));
        assert!(!is_plugin_name("2x"));
        assert!(!is_plugin_name("a--b"));
        assert!(!is_plugin_name("a_b"));
        assert!(!is_plugin_name("a-"));
    }

    #[test]
    fn versions_are_semver() {
        assert!(is_semver("1.0.0"));
        assert!(is_semver("0.12.3-rc.1+build.5"));
        assert!(!is_semver("1.0"));
        assert!(!is_semver("01.0.0"));
        assert!(!is_semver("1.0.0-"));
        assert!(!is_semver("v1.0.0"));
    }
}
