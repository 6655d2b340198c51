//! The mmm server and CLI: identity, tenancy, data and (in later modules)
//! the plugin runtime and analysis jobs.

/// Analyses: run requests, durable jobs, workers, live changes.
pub mod analyses;
/// Password hashing, access and refresh tokens, login throttling.
pub mod auth;
/// The plugin author's command line.
pub mod cli;
/// The command line and environment.
pub mod config;
/// The web console: the single-page app under `/console/`.
pub mod console;
/// Marketing data: upload declarations, validation rules, canonical tables.
pub mod data;
/// All SQL, behind tenant and platform transactions.
pub mod db;
/// Experiments: a tenant's lift tests, which models calibrate against.
pub mod experiments;
/// The HTTP API.
pub mod http;
/// Typed ids.
pub mod ids;
/// Rate limits per tenant and per client address.
pub mod limits;
/// Built-in plugins and the plugin registry.
pub mod plugins;
/// PostgreSQL: embedded cluster, roles, migrations, pools.
pub mod postgres;
/// casbin RBAC over route templates.
pub mod rbac;
/// Recommendations: budget allocations optimised over a model's `predict`.
pub mod recommendations;
/// Roles and tenant status.
pub mod roles;
/// Generated secrets kept in the data dir.
pub mod secrets;
/// Building and running the server.
pub mod startup;
/// Tables tenants send: caps, parsing under a memory budget, formats.
pub mod tables;
/// Logs and Prometheus metrics.
pub mod telemetry;
/// The cached tenant configs and feature flags.
pub mod tenant_config;
