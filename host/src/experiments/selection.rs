//! Which of the tenant's experiments an analysis hands its model: every
//! test on one of its data source's media channels whose dates overlap the
//! source's, unless the request names its own list (`[]` for none).

use uuid::Uuid;

use super::Snapshot;
use crate::db::TenantTx;
use crate::db::data_sources::SourceRecord;
use crate::db::experiments;

/// The experiments chosen, or why a named one cannot be used.
#[derive(Debug)]
pub enum Selection {
    Chosen(Vec<Snapshot>),
    /// `experiments[index]` names no experiment of this tenant, or one
    /// this source cannot be calibrated with.
    Refused {
        index: usize,
        message: String,
    },
}

/// The experiments for an analysis of `source`; `named` is the request's list.
pub async fn select(
    tx: &mut TenantTx,
    source: &SourceRecord,
    named: Option<&[Uuid]>,
) -> Result<Selection, sqlx::Error> {
    let media = &source.roles.0.media;
    let usable = experiments::overlapping(tx, media, source.date_from, source.date_to).await?;
    let Some(named) = named else {
        return Ok(Selection::Chosen(
            usable.iter().map(Snapshot::from).collect(),
        ));
    };
    let mut chosen = Vec::with_capacity(named.len());
    for (index, id) in named.iter().enumerate() {
        if named[..index].contains(id) {
            return Ok(Selection::Refused {
                index,
                message: format!("experiment {id} is named twice"),
            });
        }
        match usable.iter().find(|e| e.id == *id) {
            Some(row) => chosen.push(Snapshot::from(row)),
            None => {
                let message = match experiments::fetch(tx, *id).await? {
                    None => format!("no experiment {id} in this tenant"),
                    Some(e) => format!(
                        "experiment {id} on `{}` ({} to {}) is not on a media channel of this \
                         data source or lies outside its dates ({} to {})",
                        e.channel, e.start_date, e.end_date, source.date_from, source.date_to
                    ),
                };
                return Ok(Selection::Refused { index, message });
            }
        }
    }
    chosen.sort_by(|a, b| (a.start, &a.channel, a.id).cmp(&(b.start, &b.channel, b.id)));
    Ok(Selection::Chosen(chosen))
}
