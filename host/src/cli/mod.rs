//! The plugin author's command line: scaffold, build, check, run locally in
//! the same sandbox as the server, and publish.

pub mod cache;
pub mod errors;
pub mod plugin;
pub mod report;
pub mod scaffold;
