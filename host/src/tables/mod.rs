//! Tables a tenant sends, and the one place that bounds them: every table
//! the host parses (plugin runs now, data uploads next) is checked against
//! the same caps before parsing and parsed on the blocking pool under one
//! shared memory budget, because none of this is covered by the plugin
//! sandbox's limits.

mod budget;
pub mod csv;
pub mod ipc;
mod limits;
pub mod write;

use std::time::Duration;

use arrow_array::RecordBatch;
use bytes::Bytes;

pub use budget::ParseBudget;
pub use limits::{TableError, TableLimits};

/// The media types a table may arrive as.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
pub const CSV: &str = "text/csv";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Arrow,
}

impl TableFormat {
    /// The format a `Content-Type` names, parameters ignored.
    pub fn of_media_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case(CSV) {
            Some(Self::Csv)
        } else if essence.eq_ignore_ascii_case(ARROW_STREAM) {
            Some(Self::Arrow)
        } else {
            None
        }
    }

    /// Parses on the calling thread; [`TableReader::read`] is the bounded,
    /// off-runtime way for requests.
    pub fn parse(self, body: &[u8], limits: &TableLimits) -> Result<Vec<RecordBatch>, TableError> {
        match self {
            Self::Csv => csv::read(body, limits),
            Self::Arrow => ipc::read(body, limits),
        }
    }
}

/// The caps and the memory budget every request's table goes through.
#[derive(Clone, Debug)]
pub struct TableReader {
    limits: TableLimits,
    budget: ParseBudget,
}

impl TableReader {
    pub fn new(limits: TableLimits, budget_bytes: usize) -> Self {
        Self {
            limits,
            budget: ParseBudget::new(budget_bytes, Duration::from_secs(30)),
        }
    }

    pub fn limits(&self) -> &TableLimits {
        &self.limits
    }

    pub async fn read(
        &self,
        format: TableFormat,
        body: Bytes,
    ) -> Result<Vec<RecordBatch>, TableError> {
        self.limits.check_bytes(body.len())?;
        let limits = self.limits;
        let estimate = parse_memory(body.len(), &limits);
        self.budget
            .run(estimate, move || format.parse(&body, &limits))
            .await
    }
}

impl Default for TableReader {
    /// The default caps under a 1 GiB budget: four of the largest tables at once.
    fn default() -> Self {
        Self::new(TableLimits::default(), 1 << 30)
    }
}

/// What parsing a body may hold at its peak: the columns (eight bytes a
/// cell, a cell being at least two bytes of text) and their IPC copy, capped
/// by the cell limit.
fn parse_memory(body_bytes: usize, limits: &TableLimits) -> usize {
    let cells = (body_bytes / 2).min(limits.max_cells);
    cells.saturating_mul(16).saturating_add(body_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_name_formats() {
        assert_eq!(
            TableFormat::of_media_type("text/csv; charset=utf-8"),
            Some(TableFormat::Csv)
        );
        assert_eq!(
            TableFormat::of_media_type(ARROW_STREAM),
            Some(TableFormat::Arrow)
        );
        assert_eq!(TableFormat::of_media_type("application/json"), None);
    }

    #[tokio::test]
    async fn requests_parse_off_the_runtime_under_the_caps() {
        let reader = TableReader::default();
        let batches = reader
            .read(TableFormat::Csv, Bytes::from_static(b"a,b\n1,2\n"))
            .await
            .unwrap();
        assert_eq!(batches[0].num_columns(), 2);
        let big = Bytes::from(vec![b'a'; reader.limits().max_bytes + 1]);
        assert!(matches!(
            reader.read(TableFormat::Csv, big).await,
            Err(TableError::TooLarge { .. })
        ));
    }
}
