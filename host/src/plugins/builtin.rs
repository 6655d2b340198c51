//! The built-in plugins, built from `plugins/` by the build script and
//! embedded in the binary; registered in the registry at start.

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
