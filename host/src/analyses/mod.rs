//! Analyses: a tenant's data source through its preprocessors and a model,
//! run as a durable job. Where each part lives:
//!
//! - [`request`]: a run request → the exact inputs (defaults, plugins,
//!   params checked against their schemas, seed, digest);
//! - [`contract`]: JSON Schema checks of params and of every model's output;
//! - [`worker`]: claiming, leases, heartbeats, cancels, retries, draining;
//! - [`pipeline`]: one attempt: preprocessors → fit → checked output;
//! - [`events`]: changes from PostgreSQL `NOTIFY` to streams and workers;
//! - [`view`]: the API's view of an analysis.
//!
//! SQL: `crate::db::analyses` (tenant side, under RLS) and
//! `crate::db::queue` (claiming across tenants). HTTP: `crate::http::analyses`.

pub mod contract;
pub mod events;
pub mod pipeline;
pub mod request;
pub mod view;
pub mod worker;

pub use events::AnalysisEvents;
pub use pipeline::JobContext;
pub use worker::{WorkerPool, WorkerSettings};
