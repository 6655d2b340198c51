//! How the API shows an analysis: status and progress, the exact inputs
//! with their digest, the failure's cause, and (when it succeeded) the
//! model's summary.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::request::PluginInput;
use crate::db::analyses::AnalysisRow;
use crate::experiments::Snapshot;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Analysis {
    pub id: Uuid,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    pub progress: Progress,
    /// Attempts started so far (a host failure or a lost worker retries).
    pub attempts: i32,
    pub max_attempts: i32,
    /// A cancel was asked for while it ran; it stops at the worker's next check.
    pub cancel_requested: bool,
    pub inputs: Inputs,
    /// Why it failed (or, while it waits to retry, why the last attempt did):
    /// `{code, message, fault: "plugin" | "host", plugin?}`.
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    /// The model's summary (see the SDK's `ModelSummary`): channels with
    /// spend, contribution, ROI and interval, mROI, carryover; baseline;
    /// metrics; warnings; search statistics. Only in `GET /tenant/analysis/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// sha256 over the stored summary, decomposition, curves and artifact.
    pub results_digest: Option<String>,
    /// How long the plugin calls of the successful attempt took.
    pub fit_ms: Option<i64>,
    pub requested_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Progress {
    /// `queued`, `starting`, `loading data`, `preprocess <name>`, `fit`,
    /// `storing`, `done`, `waiting to retry`, `failed`, `cancelled`.
    pub stage: String,
    pub done: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Inputs {
    pub source: SourceInput,
    pub preprocessors: Vec<PluginInput>,
    pub model: PluginInput,
    pub seed: Option<i64>,
    /// The lift tests handed to the model, as they were then.
    pub experiments: Vec<Snapshot>,
    /// sha256 of the inputs above: equal digests give byte-identical results.
    pub digest: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceInput {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub sha256: String,
}

impl Analysis {
    /// The API view; `with_summary` is false for lists.
    pub fn from_row(row: AnalysisRow, with_summary: bool) -> Self {
        let model = serde_json::from_value(row.model.0).unwrap_or_else(|_| PluginInput {
            name: "?".into(),
            version: "?".into(),
            sha256: String::new(),
            params: Value::Null,
        });
        let preprocessors = serde_json::from_value(row.preprocessors.0).unwrap_or_default();
        let experiments = serde_json::from_value(row.experiments.0).unwrap_or_default();
        Self {
            id: row.id,
            status: row.status,
            progress: Progress {
                stage: row.stage,
                done: row.progress_done,
                total: row.progress_total,
            },
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            cancel_requested: row.cancel_requested,
            inputs: Inputs {
                source: SourceInput {
                    id: row.source_id,
                    name: row.source_name,
                    version: row.source_version,
                    sha256: row.source_sha256,
                },
                preprocessors,
                model,
                seed: row.seed,
                experiments,
                digest: row.inputs_digest,
            },
            error: row.error.map(|e| e.0),
            summary: if with_summary {
                row.summary.map(|s| s.0)
            } else {
                None
            },
            results_digest: row.results_digest,
            fit_ms: row.fit_ms,
            requested_by: row.requested_by,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            updated_at: row.updated_at,
        }
    }
}

/// Whether a status is one an analysis never leaves.
pub fn is_final(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "cancelled")
}
