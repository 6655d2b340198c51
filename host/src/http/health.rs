//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::Json;
use super::state::AppState;
use crate::postgres::bootstrap::MIGRATOR;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// The database answers and every migration this build knows is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ready\"}`", body = Status),
        (status = 503, description = "`{\"status\": \"unavailable\"}`", body = Status)))]
async fn readyz(State(app): State<AppState>) -> Result<Json<Status>, (StatusCode, Json<Status>)> {
    let unavailable = || {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "unavailable",
            }),
        )
    };
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
            .fetch_one(&app.owner)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "readiness check failed");
                unavailable()
            })?;
    sqlx::query("select 1")
        .execute(app.db.app_pool())
        .await
        .map_err(|_| unavailable())?;
    if applied.unwrap_or(0) < latest {
        return Err(unavailable());
    }
    Ok(Json(Status { status: "ready" }))
}
