//! Data sources: immutable versions of a tenant's named tables, under RLS.
//! Listing reads the stored summaries; only `content` reads the table bytes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{FromRow, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use super::TenantTx;
use crate::data::{ColumnSummary, Roles};

crate::db::row::record! {
    /// A stored version as the API shows it (never the bytes).
    #[derive(Clone, Debug, Serialize, ToSchema)]
    pub struct SourceRecord {
        pub id: Uuid,
        pub name: String,
        pub version: i32,
        #[schema(value_type = Roles)]
        pub roles: Json<Roles>,
        /// `daily`, `weekly` or `monthly`.
        pub granularity: String,
        pub currency: Option<String>,
        pub rows: i32,
        pub date_from: NaiveDate,
        pub date_to: NaiveDate,
        #[schema(value_type = Vec<ColumnSummary>)]
        pub columns: Json<Vec<ColumnSummary>>,
        #[schema(value_type = Vec<String>)]
        pub warnings: Json<Vec<String>>,
        /// Of the canonical Arrow IPC content.
        pub sha256: String,
        pub size_bytes: i64,
        pub uploaded_by: Uuid,
        pub created_at: DateTime<Utc>,
    }
}

const COLUMNS: &str = "id, name, version, roles, granularity, currency, row_count as rows, date_from, \
     date_to, columns, warnings, sha256, size_bytes, uploaded_by, created_at";

pub struct NewSource<'a> {
    pub name: &'a str,
    pub roles: &'a Roles,
    pub granularity: &'a str,
    pub currency: Option<&'a str>,
    pub rows: i32,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub columns: &'a [ColumnSummary],
    pub warnings: &'a [String],
    pub sha256: &'a str,
    pub content: &'a [u8],
    pub uploaded_by: Uuid,
}

/// Stores the next version of `name` (1 for a new name). Two uploads of one
/// name racing meet on the (tenant, name, version) key.
#[tracing::instrument(skip_all, err)]
pub async fn insert(tx: &mut TenantTx, new: &NewSource<'_>) -> Result<SourceRecord, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into data_sources (tenant_id, id, name, version, roles, granularity, currency,
             row_count, date_from, date_to, columns, warnings, sha256, size_bytes, content, uploaded_by)
         select $1, $2, $3,
             coalesce((select max(version) from data_sources where tenant_id = $1 and name = $3), 0) + 1,
             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
         returning {COLUMNS}"
    )))
    .bind(tenant)
    .bind(Uuid::new_v4())
    .bind(new.name)
    .bind(Json(new.roles))
    .bind(new.granularity)
    .bind(new.currency)
    .bind(new.rows)
    .bind(new.date_from)
    .bind(new.date_to)
    .bind(Json(new.columns))
    .bind(Json(new.warnings))
    .bind(new.sha256)
    .bind(new.content.len() as i64)
    .bind(new.content)
    .bind(new.uploaded_by)
    .fetch_one(tx.conn())
    .await
}

/// The newest version of each name, newest first, optionally one name only.
#[tracing::instrument(skip_all, err)]
pub async fn list_latest(
    tx: &mut TenantTx,
    name: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SourceRecord>, i64), sqlx::Error> {
    let latest = "select distinct on (name) * from data_sources
         where ($1::text is null or name = $1) order by name, version desc";
    // The page and the total in one round trip: the window count is taken
    // over every row before the limit applies.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS}, count(*) over () as total from ({latest}) l
         order by created_at desc, name limit $2 offset $3"
    )))
    .bind(name)
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    let total = match rows.first() {
        Some(row) => row.try_get("total")?,
        None if offset == 0 => 0,
        // Past the end the page carries no count: ask for it (rare).
        None => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select count(*) from ({latest}) l"
            )))
            .bind(name)
            .fetch_one(tx.conn())
            .await?
        }
    };
    let items = rows
        .iter()
        .map(SourceRecord::from_row)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut TenantTx, id: Uuid) -> Result<Option<SourceRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from data_sources where id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

/// Every version of a name, newest first.
#[tracing::instrument(skip_all, err)]
pub async fn versions(tx: &mut TenantTx, name: &str) -> Result<Vec<SourceRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from data_sources where name = $1 order by version desc"
    )))
    .bind(name)
    .fetch_all(tx.conn())
    .await
}

/// The stored table (Arrow IPC).
#[tracing::instrument(skip_all, err)]
pub async fn content(tx: &mut TenantTx, id: Uuid) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("select content from data_sources where id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await
}

/// Deletes one version; answers whether it existed.
#[tracing::instrument(skip_all, err)]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from data_sources where id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}
