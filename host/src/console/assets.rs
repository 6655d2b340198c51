//! The console's files. Release builds embed them; debug builds read them
//! from `host/console/` on each request, so a page edited there shows on
//! reload without rebuilding the server.

use std::borrow::Cow;

use rust_embed::Embed;

#[derive(Embed)]
#[folder = "$CARGO_MANIFEST_DIR/console/"]
#[include = "index.html"]
#[include = "*.css"]
#[include = "js/*"]
#[include = "node_modules/echarts/dist/echarts.min.js"]
#[exclude = "node_modules/*/node_modules/*"]
struct Files;

/// Served paths that are not their file's path: the chart library comes
/// from its npm package (`npm ci` in `host/console`, run by `./dev.sh`).
const ALIASES: &[(&str, &str)] = &[(
    "vendor/echarts.min.js",
    "node_modules/echarts/dist/echarts.min.js",
)];

pub struct Asset {
    pub data: Cow<'static, [u8]>,
    path: String,
    hash: [u8; 32],
}

impl Asset {
    /// The file served at `/console/{path}`; `None` for anything else,
    /// including paths into `node_modules` other than the aliased ones.
    pub fn find(path: &str) -> Option<Self> {
        let file = match ALIASES.iter().find(|(served, _)| *served == path) {
            Some((_, file)) => *file,
            None if path.starts_with("node_modules/") => return None,
            None => path,
        };
        let embedded = Files::get(file)?;
        Some(Self {
            hash: embedded.metadata.sha256_hash(),
            data: embedded.data,
            path: file.to_owned(),
        })
    }

    pub fn content_type(&self) -> &'static str {
        match self.path.rsplit_once('.').map(|(_, ext)| ext) {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            _ => "application/octet-stream",
        }
    }

    /// A strong validator from the content hash, so browsers revalidate
    /// (`no-cache`) and get 304 until the file changes.
    pub fn etag(&self) -> String {
        let hex: String = self.hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_its_script_and_the_chart_library_are_there() {
        for path in [
            "index.html",
            "console.css",
            "js/main.js",
            "js/pages/results.js",
            "vendor/echarts.min.js",
        ] {
            let asset = Asset::find(path).unwrap_or_else(|| {
                panic!("{path} is missing: run `npm ci` in host/console (./dev.sh does)")
            });
            assert!(!asset.data.is_empty(), "{path} is empty");
        }
        assert_eq!(
            Asset::find("vendor/echarts.min.js").unwrap().content_type(),
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn nothing_else_from_node_modules_or_outside_the_folder_is_served() {
        for path in [
            "node_modules/echarts/package.json",
            "node_modules/echarts/dist/echarts.min.js",
            "package.json",
            "../Cargo.toml",
            "js/../../Cargo.toml",
        ] {
            assert!(Asset::find(path).is_none(), "{path} was served");
        }
    }
}
