//! A tenant's lift tests, under RLS.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

crate::db::row::record! {
    #[derive(Clone, Debug)]
    pub struct ExperimentRow {
        pub id: Uuid,
        pub name: Option<String>,
        pub channel: String,
        pub start_date: NaiveDate,
        pub end_date: NaiveDate,
        pub spend_change: f64,
        pub lift: f64,
        pub standard_error: f64,
        pub created_by: Uuid,
        pub created_at: DateTime<Utc>,
    }
}

const COLUMNS: &str = "id, name, channel, start_date, end_date, spend_change, lift, \
     standard_error, created_by, created_at";

pub struct NewExperiment<'a> {
    pub id: Uuid,
    pub name: Option<&'a str>,
    pub channel: &'a str,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub spend_change: f64,
    pub lift: f64,
    pub standard_error: f64,
    pub created_by: Uuid,
}

#[tracing::instrument(skip_all, err)]
pub async fn insert(
    tx: &mut TenantTx,
    new: &NewExperiment<'_>,
) -> Result<ExperimentRow, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into experiments (tenant_id, id, name, channel, start_date, end_date,
             spend_change, lift, standard_error, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         returning {COLUMNS}"
    )))
    .bind(tenant)
    .bind(new.id)
    .bind(new.name)
    .bind(new.channel)
    .bind(new.start)
    .bind(new.end)
    .bind(new.spend_change)
    .bind(new.lift)
    .bind(new.standard_error)
    .bind(new.created_by)
    .fetch_one(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut TenantTx, id: Uuid) -> Result<Option<ExperimentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from experiments where id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

/// Newest first, optionally of one channel.
#[tracing::instrument(skip_all, err)]
pub async fn list(
    tx: &mut TenantTx,
    channel: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ExperimentRow>, i64), sqlx::Error> {
    let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from experiments where ($1::text is null or channel = $1)
         order by created_at desc, id limit $2 offset $3"
    )))
    .bind(channel)
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    let total = sqlx::query_scalar(
        "select count(*) from experiments where ($1::text is null or channel = $1)",
    )
    .bind(channel)
    .fetch_one(tx.conn())
    .await?;
    Ok((items, total))
}

/// The tests on any of `channels` that overlap `from..=to`, oldest test first.
#[tracing::instrument(skip_all, err)]
pub async fn overlapping(
    tx: &mut TenantTx,
    channels: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ExperimentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from experiments
         where channel = any($1) and start_date <= $3 and end_date >= $2
         order by start_date, channel, id"
    )))
    .bind(channels)
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await
}

/// `true` when it existed.
#[tracing::instrument(skip_all, err)]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from experiments where id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The date ranges of the tenant's data sources that have `channel` as a
/// media column: where a test on it can be checked against data.
#[tracing::instrument(skip_all, err)]
pub async fn channel_coverage(
    tx: &mut TenantTx,
    channel: &str,
) -> Result<Vec<(NaiveDate, NaiveDate)>, sqlx::Error> {
    sqlx::query_as(
        "select date_from, date_to from data_sources
         where roles -> 'media' ? $1 order by date_from, date_to",
    )
    .bind(channel)
    .fetch_all(tx.conn())
    .await
}
