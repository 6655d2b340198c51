//! The host's one integration-test binary (one link of the whole server
//! instead of one per file): the HTTP API against a real PostgreSQL, and the
//! real `mmm` binary run as separate processes.

mod api;
mod cli;
mod cluster;
mod deploy;
mod logs;
mod scaleout;
mod workers;
