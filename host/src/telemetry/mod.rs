//! What an operator sees of a running process: log lines ([`logs`]) and
//! Prometheus metrics ([`metrics`]: the recorder and the `/metrics`
//! listener; [`http`]: per-route request metrics; [`sampler`]: the gauges
//! read from PostgreSQL and the pools).

pub mod http;
pub mod logs;
pub mod metrics;
pub mod sampler;

pub use logs::init;
