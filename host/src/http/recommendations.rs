//! `/tenant/recommendations`: the default recommendation for an analysis
//! (computed on first request, then served as stored), a recommendation
//! for a request of one's own, and reading stored ones. The rules are
//! `crate::recommendations`'s, the SQL `crate::db::recommendations`'.

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
use crate::db::recommendations::{self as sql, NewRecommendation};
use crate::recommendations::compute::{self, Loaded};
use crate::recommendations::request::{self, Plan};
use crate::recommendations::{Recommendation, RecommendationError, RecommendationRequest};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(default_recommendation, create_recommendation))
        .routes(routes!(list_recommendations))
        .routes(routes!(get_recommendation))
}

impl From<RecommendationError> for ApiError {
    fn from(e: RecommendationError) -> Self {
        let message = e.to_string();
        match e {
            RecommendationError::AnalysisNotFound => ApiError::NotFound("analysis"),
            RecommendationError::NoAnalysis => ApiError::conflict("no_succeeded_analysis", message),
            RecommendationError::NotSucceeded(_) => {
                ApiError::conflict("analysis_not_succeeded", message)
            }
            RecommendationError::Invalid { field, .. } => ApiError::Invalid {
                code: "invalid_value",
                field: Some(field),
                message,
            },
            RecommendationError::Infeasible { field, .. } => ApiError::Invalid {
                code: "infeasible_bounds",
                field: Some(field),
                message,
            },
            RecommendationError::TargetUnreachable(_) => ApiError::Invalid {
                code: "target_unreachable",
                field: Some("target".into()),
                message,
            },
            RecommendationError::Plugin(e) => e.into(),
            RecommendationError::Predict(e) => super::plugins::call_error(e),
            RecommendationError::ModelContract(_) => ApiError::Invalid {
                code: "model_contract",
                field: None,
                message,
            },
            RecommendationError::Db(e) => e.into(),
            RecommendationError::Internal(e) => ApiError::Internal(e),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DefaultQuery {
    /// Another succeeded analysis than the latest.
    analysis_id: Option<Uuid>,
}

/// Optimises, stores and returns one recommendation.
async fn make(
    app: &AppState,
    ctx: &TenantContext,
    loaded: &Loaded,
    plan: &Plan,
    is_default: bool,
) -> Result<Recommendation, ApiError> {
    let advice = compute::compute(loaded, plan, &app.plugins, &ctx.config, ctx.tenant_id).await?;
    let body = serde_json::to_value(&advice).map_err(ApiError::internal)?;
    let id = Uuid::new_v4();
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let new = NewRecommendation {
        id,
        analysis_id: loaded.analysis.id,
        results_digest: &loaded.results_digest,
        is_default,
        request: &plan.resolved,
        body: &body,
        created_by: ctx.user_id.0,
    };
    let row = if sql::insert(&mut tx, &new).await? {
        let details = json!({ "id": id, "analysis_id": loaded.analysis.id, "default": is_default });
        audit::record(tx.conn(), ctx.audit("recommendation.create", details)).await?;
        sql::fetch(&mut tx, id).await?
    } else {
        // A concurrent first request stored the default: serve that one.
        sql::default_for(&mut tx, loaded.analysis.id, &loaded.results_digest).await?
    }
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored recommendation vanished")))?;
    tx.commit().await?;
    Recommendation::from_row(row).map_err(ApiError::internal)
}

/// The recommendation for the latest succeeded analysis (or `analysis_id`)
/// with default settings: the same total budget as the analysed period,
/// each channel between 0.5x and 2x its current spend. Computed on the
/// first request and stored; later ones return the stored one.
#[utoipa::path(get, path = "/tenant/recommendations", tag = "recommendations", security(("bearer" = [])),
    params(DefaultQuery),
    responses((status = 200, description = "The default recommendation", body = Recommendation,
            links(("GetRecommendation" = (operation_id = "get_recommendation", parameters(("recommendation_id" = "$response.body#/id")))),
                ("GetAnalysis" = (operation_id = "get_analysis", parameters(("analysis_id" = "$response.body#/analysis_id")))))),
        (status = 404, description = "No such analysis in this tenant", body = Problem),
        (status = 409, description = "No succeeded analysis yet, or the one named has not succeeded", body = Problem)))]
async fn default_recommendation(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<DefaultQuery>,
) -> Result<Json<Recommendation>, ApiError> {
    // A stored default is served without reading the artifact or the data.
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (analysis, digest) = compute::succeeded(&mut tx, query.analysis_id).await?;
    let stored = sql::default_for(&mut tx, analysis.id, &digest).await?;
    tx.commit().await?;
    if let Some(row) = stored {
        return Ok(Json(
            Recommendation::from_row(row).map_err(ApiError::internal)?,
        ));
    }
    let loaded = compute::load(&app.db, &app.plugins, ctx.tenant_id, Some(analysis.id)).await?;
    let plan = request::resolve(
        &loaded.history,
        request::Objective::MaxResponse,
        None,
        None,
        None,
        &Default::default(),
    )?;
    Ok(Json(make(&app, &ctx, &loaded, &plan, true).await?))
}

/// A recommendation for a request of one's own: objective, budget, horizon, bounds.
#[utoipa::path(post, path = "/tenant/recommendations", tag = "recommendations", security(("bearer" = [])),
    request_body = RecommendationRequest,
    responses((status = 201, description = "Optimised and stored", body = Recommendation,
            links(("GetRecommendation" = (operation_id = "get_recommendation", parameters(("recommendation_id" = "$response.body#/id")))),
                ("ListRecommendations" = (operation_id = "list_recommendations", parameters(("analysis_id" = "$response.body#/analysis_id")))))),
        (status = 404, description = "No such analysis in this tenant", body = Problem),
        (status = 409, description = "The analysis has not succeeded", body = Problem),
        (status = 422, description = "A bound, budget, horizon or target that is invalid or infeasible (the field names which)", body = Problem)))]
async fn create_recommendation(
    State(app): State<AppState>,
    ctx: TenantContext,
    Json(body): Json<RecommendationRequest>,
) -> Result<(StatusCode, Json<Recommendation>), ApiError> {
    let loaded =
        compute::load(&app.db, &app.plugins, ctx.tenant_id, Some(body.analysis_id)).await?;
    let plan = request::resolve(
        &loaded.history,
        body.objective,
        body.target,
        body.budget,
        body.horizon.as_ref(),
        &body.bounds,
    )?;
    Ok((
        StatusCode::CREATED,
        Json(make(&app, &ctx, &loaded, &plan, false).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only recommendations for this analysis.
    analysis_id: Option<Uuid>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Default 0.
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// Stored recommendations, newest first.
#[utoipa::path(get, path = "/tenant/recommendations/saved", tag = "recommendations", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of recommendations", body = Page<Recommendation>,
            links(("GetRecommendation" = (operation_id = "get_recommendation", parameters(("recommendation_id" = "$response.body#/items/0/id")))))),
        (status = 422, description = "Paging out of range", body = Problem)))]
async fn list_recommendations(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Recommendation>>, ApiError> {
    let (limit, offset) = PageQuery::new(query.limit, query.offset).bounds()?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (rows, total) = sql::list(&mut tx, query.analysis_id, limit, offset).await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(Recommendation::from_row)
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One stored recommendation.
#[utoipa::path(get, path = "/tenant/recommendations/{recommendation_id}", tag = "recommendations", security(("bearer" = [])),
    params(("recommendation_id" = Uuid, Path, description = "The recommendation's id")),
    responses((status = 200, description = "The recommendation", body = Recommendation),
        (status = 404, description = "No such recommendation in this tenant", body = Problem)))]
async fn get_recommendation(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<Json<Recommendation>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let row = sql::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("recommendation"))?;
    tx.commit().await?;
    Ok(Json(
        Recommendation::from_row(row).map_err(ApiError::internal)?,
    ))
}
