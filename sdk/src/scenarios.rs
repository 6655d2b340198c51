//! The one `predict` contract every model shares: which scenario tables it
//! accepts and which columns it answers with. Recommendations call only
//! `predict`, through this contract, so a new model family needs no host
//! change.
//!
//! **Scenarios** come in two forms; a model accepts both.
//! - **Totals** (no date column): one row per scenario, one column per media
//!   channel holding that channel's total spend over a horizon as long as the
//!   fitted history, spread over its periods like the historical spend.
//!   This is the cheap form a budget optimiser evaluates thousands of times.
//! - **Per period** (the fit's date column present): one row per period and
//!   scenario, the fit's media columns; an optional numeric
//!   [`SCENARIO_COLUMN`] groups rows (each run of equal values is one
//!   scenario, carryover starting at zero). Controls absent from the table
//!   are the model's choice (typically their historical mean).
//!
//! **Answers**: one row per scenario row, with the KPI column (named as in
//! the fit), [`BASELINE_COLUMN`] and one [`contribution_column`] per channel.
//! A model that knows its own uncertainty adds [`low_column`] and
//! [`high_column`] for the KPI and for each contribution: the ends of its
//! interval (90% unless the model says otherwise) for that value. They
//! should be *anchored at the fitted history* in the totals form: at the
//! historical allocation the data pins the KPI, so the interval is the
//! uncertainty of moving away from it and is empty at the history itself.
//! Without them the host treats the point as certain. An optional
//! [`INTERVAL_COLUMN`] in the scenarios says which rows need them.
//!
//! ```
//! use mmm_sdk::scenarios::{contribution_column, high_column, low_column};
//!
//! assert_eq!(contribution_column("tv"), "tv_contribution");
//! assert_eq!(low_column("revenue"), "revenue_low");
//! assert_eq!(high_column(&contribution_column("tv")), "tv_contribution_high");
//! ```

/// Groups the rows of a per-period scenario table.
pub const SCENARIO_COLUMN: &str = "scenario";

/// An optional numeric column of the scenarios table saying which rows need
/// their interval: when present, only rows with a non-zero value (a missing
/// value counts as non-zero) need the [`low_column`] and [`high_column`]
/// answers, and the others may hold the point value there; when absent,
/// every row gets them. A budget optimiser evaluates thousands of scenarios
/// and needs intervals only for the final two, so this keeps `predict` as
/// cheap as a point prediction for the rest.
pub const INTERVAL_COLUMN: &str = "interval";

/// The answer's column for the KPI the model attributes to no channel.
pub const BASELINE_COLUMN: &str = "baseline";

/// The answer's column for a channel's contribution.
pub fn contribution_column(channel: &str) -> String {
    format!("{channel}_contribution")
}

/// The answer's column for the low end of `column`'s interval.
pub fn low_column(column: &str) -> String {
    format!("{column}_low")
}

/// The answer's column for the high end of `column`'s interval.
pub fn high_column(column: &str) -> String {
    format!("{column}_high")
}
