//! `/tenant/dashboard/metrics`: the first screen of a marketing lead, from
//! the newest version of each data source (figures in `crate::data::metrics`).

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantContext};
use super::state::AppState;
use crate::data::metrics::{self, Figures};
use crate::db::data_sources;
use crate::tables;

/// Sources on the dashboard: the newest ones, so the answer stays bounded.
const MAX_SOURCES: i64 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboard_metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceMetrics {
    pub source_id: Uuid,
    pub name: String,
    pub version: i32,
    pub granularity: String,
    pub currency: Option<String>,
    pub date_from: chrono::NaiveDate,
    pub date_to: chrono::NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardMetrics {
    /// The newest version of each data source, newest first (at most 20).
    pub sources: Vec<SourceMetrics>,
    /// All data source names, including those not shown.
    pub total_sources: i64,
}

/// KPI and spend per data source: totals, latest period, change, split by channel.
#[utoipa::path(get, path = "/tenant/dashboard/metrics", tag = "data", security(("bearer" = [])),
    responses((status = 200, description = "The figures", body = DashboardMetrics)))]
async fn dashboard_metrics(
    State(app): State<AppState>,
    ctx: TenantContext,
) -> Result<Json<DashboardMetrics>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (latest, total_sources) = data_sources::list_latest(&mut tx, None, MAX_SOURCES, 0).await?;
    // One table decoded at a time, so memory stays one table's worth.
    let mut sources = Vec::new();
    for source in latest {
        let Some(content) = data_sources::content(&mut tx, source.id).await? else {
            continue;
        };
        let roles = source.roles.0.clone();
        let figures = tokio::task::spawn_blocking(move || figures_of(&content, &roles))
            .await
            .map_err(ApiError::internal)?;
        if let Some(figures) = figures {
            sources.push(SourceMetrics {
                source_id: source.id,
                name: source.name,
                version: source.version,
                granularity: source.granularity,
                currency: source.currency,
                date_from: source.date_from,
                date_to: source.date_to,
                figures,
            });
        }
    }
    tx.commit().await?;
    Ok(Json(DashboardMetrics {
        sources,
        total_sources,
    }))
}

fn figures_of(content: &[u8], roles: &crate::data::Roles) -> Option<Figures> {
    let batches = tables::ipc::decode_output(content).ok()?;
    let table = arrow_select::concat::concat_batches(&batches.first()?.schema(), &batches).ok()?;
    metrics::figures(&table, roles)
}
