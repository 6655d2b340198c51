//! Tables a tenant sends, and the one place that bounds them: every table
//! the host parses (plugin runs now, data uploads next) is checked against
//! the same caps before parsing and parsed on the blocking pool under one
//! shared memory budget, because none of this is covered by the plugin
//! sandbox's limits.

mod budget;
pub mod csv;
pub mod ipc;
mod limits;
pub mod parquet;
pub mod write;

use std::time::Duration;

use arrow_array::RecordBatch;
use bytes::Bytes;

pub use budget::ParseBudget;
pub use limits::{TableError, TableLimits};

/// The media types a table may arrive as.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
pub const CSV: &str = "text/csv";
pub const PARQUET: &str = "application/vnd.apache.parquet";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Arrow,
    Parquet,
}

impl TableFormat {
    /// The format a `Content-Type` names, parameters ignored.
    pub fn of_media_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case(CSV) {
            Some(Self::Csv)
        } else if essence.eq_ignore_ascii_case(ARROW_STREAM) {
            Some(Self::Arrow)
        } else if essence.eq_ignore_ascii_case(PARQUET) {
            Some(Self::Parquet)
        } else {
            None
        }
    }

    /// Parses on the calling thread; [`TableReader::read`] is the bounded,
    /// off-runtime way for requests.
    /// The decoders panic on some malformed inputs (arrow-ipc slicing a
    /// buffer past its end, found by `data::tests`' mutated files); such a
    /// body is malformed, so the panic becomes the format's own error.
    pub fn parse(self, body: &Bytes, limits: &TableLimits) -> Result<Vec<RecordBatch>, TableError> {
        let decode = std::panic::AssertUnwindSafe(|| match self {
            Self::Csv => csv::read(body, limits),
            Self::Arrow => ipc::read(body, limits),
            Self::Parquet => parquet::read(body, limits),
        });
        std::panic::catch_unwind(decode).unwrap_or_else(|_| {
            let reason = "the file is malformed".to_owned();
            Err(match self {
                Self::Csv => TableError::Csv(reason),
                Self::Arrow => TableError::Ipc(reason),
                Self::Parquet => TableError::Parquet(reason),
            })
        })
    }

    /// Row numbers as the user sees them in their file: for CSV the line
    /// (the header is line 1), otherwise the 1-based row.
    pub fn file_row(self, index: usize) -> usize {
        match self {
            Self::Csv => index + 2,
            Self::Arrow | Self::Parquet => index + 1,
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
        self.read_with(format, body, Ok).await
    }

    /// Parses, then runs `then` on the table in the same blocking task and
    /// under the same share of the budget (counted twice: what `then` builds
    /// from the table, e.g. a validated copy, is held beside it).
    pub async fn read_with<T, E>(
        &self,
        format: TableFormat,
        body: Bytes,
        then: impl FnOnce(Vec<RecordBatch>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<TableError> + Send + 'static,
    {
        self.limits.check_bytes(body.len())?;
        let limits = self.limits;
        let estimate = parse_memory(body.len(), &limits).saturating_mul(2);
        self.budget
            .run(estimate, move || then(format.parse(&body, &limits)?))
            .await
    }
}

impl Default for TableReader {
    /// The default caps under a 2 GiB budget.
    fn default() -> Self {
        Self::new(TableLimits::default(), 2 << 30)
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
