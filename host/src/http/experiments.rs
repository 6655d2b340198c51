//! `/tenant/experiments`: record, list, read and delete the tenant's lift
//! tests. The rules are `crate::experiments`'s, the SQL
//! `crate::db::experiments`'.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, Query, TenantContext};
use super::pagination::{Page, PageQuery};
use super::state::AppState;
use crate::db::audit;
use crate::db::experiments::{self as sql};
use crate::experiments::{Experiment, ExperimentError, ExperimentRequest};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_experiments, create_experiment))
        .routes(routes!(get_experiment, delete_experiment))
}

impl From<ExperimentError> for ApiError {
    fn from(e: ExperimentError) -> Self {
        let message = e.to_string();
        match e {
            ExperimentError::Invalid { field, .. } => ApiError::Invalid {
                code: "invalid_value",
                field: Some(field),
                message,
            },
            ExperimentError::UnknownChannel { field, .. } => ApiError::Invalid {
                code: "unknown_channel",
                field: Some(field),
                message,
            },
            ExperimentError::OutsideData { field, .. } => ApiError::Invalid {
                code: "outside_data",
                field: Some(field),
                message,
            },
            ExperimentError::Db(e) => e.into(),
        }
    }
}

/// Records a lift test. Analyses started afterwards hand it to their model
/// when their data source has the channel and covers the dates.
#[utoipa::path(post, path = "/tenant/experiments", tag = "experiments", security(("bearer" = [])),
    request_body = ExperimentRequest,
    responses((status = 201, description = "Stored", body = Experiment,
            links(("GetExperiment" = (operation_id = "get_experiment", parameters(("experiment_id" = "$response.body#/id")))),
                ("DeleteExperiment" = (operation_id = "delete_experiment", parameters(("experiment_id" = "$response.body#/id")))))),
        (status = 422, description = "A value out of range, a channel no data source has, or dates outside the data (the field names which)", body = Problem)))]
async fn create_experiment(
    State(app): State<AppState>,
    ctx: TenantContext,
    Json(body): Json<ExperimentRequest>,
) -> Result<(StatusCode, Json<Experiment>), ApiError> {
    let new = body.check()?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    new.check_against_data(&mut tx).await?;
    let id = Uuid::new_v4();
    let row = sql::insert(
        &mut tx,
        &sql::NewExperiment {
            id,
            name: new.name.as_deref(),
            channel: &new.channel,
            start: new.start,
            end: new.end,
            spend_change: new.spend_change,
            lift: new.lift,
            standard_error: new.standard_error,
            created_by: ctx.user_id.0,
        },
    )
    .await?;
    let details = json!({ "id": id, "channel": new.channel });
    audit::record(tx.conn(), ctx.audit("experiment.create", details)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only tests on this channel.
    channel: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Default 0.
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// The tenant's lift tests, newest first.
#[utoipa::path(get, path = "/tenant/experiments", tag = "experiments", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of experiments", body = Page<Experiment>,
            links(("GetExperiment" = (operation_id = "get_experiment", parameters(("experiment_id" = "$response.body#/items/0/id")))))),
        (status = 422, description = "Paging out of range", body = Problem)))]
async fn list_experiments(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Experiment>>, ApiError> {
    let (limit, offset) = PageQuery::new(query.limit, query.offset).bounds()?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (rows, total) = sql::list(&mut tx, query.channel.as_deref(), limit, offset).await?;
    tx.commit().await?;
    Ok(Json(Page {
        items: rows.into_iter().map(Experiment::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// One lift test.
#[utoipa::path(get, path = "/tenant/experiments/{experiment_id}", tag = "experiments", security(("bearer" = [])),
    params(("experiment_id" = Uuid, Path, description = "The experiment's id")),
    responses((status = 200, description = "The experiment", body = Experiment),
        (status = 404, description = "No such experiment in this tenant", body = Problem)))]
async fn get_experiment(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<Json<Experiment>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let row = sql::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("experiment"))?;
    tx.commit().await?;
    Ok(Json(row.into()))
}

/// Deletes a lift test. Analyses that used it keep their snapshot of it.
#[utoipa::path(delete, path = "/tenant/experiments/{experiment_id}", tag = "experiments", security(("bearer" = [])),
    params(("experiment_id" = Uuid, Path, description = "The experiment's id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such experiment in this tenant", body = Problem)))]
async fn delete_experiment(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    if !sql::delete(&mut tx, id).await? {
        return Err(ApiError::NotFound("experiment"));
    }
    audit::record(
        tx.conn(),
        ctx.audit("experiment.delete", json!({ "id": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
