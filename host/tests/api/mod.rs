//! Integration tests: the real server over HTTP against a real PostgreSQL
//! cluster started by the suite itself, one fresh database per test, the
//! server connecting through its own non-superuser roles.

pub(crate) mod helpers;

mod admin;
mod analyses;
mod auth;
mod cache;
mod console;
mod contract;
mod cross_tenant;
mod data;
mod database_roles;
mod experiments;
mod isolation;
mod operations;
mod passwords;
mod plugins;
mod rbac;
mod recommendations;
mod strictness;
mod tokens;
mod untrusted_input;
