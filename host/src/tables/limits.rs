//! How big a table a tenant may send, and the errors that say which limit a
//! table broke (or which cell it could not store).

/// Caps checked before and while a table is parsed. The defaults (the same
/// as `mmm serve`'s, see `config::TableConfig`) fit any plausible marketing
/// history (years of daily data over hundreds of geos, hundreds of channels)
/// while keeping one parse under a GiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableLimits {
    /// Body bytes; larger bodies are refused before they are read.
    pub max_bytes: usize,
    pub max_columns: usize,
    /// Data rows, not counting the header.
    pub max_rows: usize,
    /// Rows × columns: what memory actually scales with.
    pub max_cells: usize,
}

impl Default for TableLimits {
    fn default() -> Self {
        Self {
            max_bytes: 256 << 20,
            max_columns: 1_000,
            max_rows: 2_000_000,
            max_cells: 25_000_000,
        }
    }
}

impl TableLimits {
    pub fn check_bytes(&self, bytes: usize) -> Result<(), TableError> {
        if bytes > self.max_bytes {
            return Err(TableError::TooLarge {
                bytes,
                limit: self.max_bytes,
            });
        }
        Ok(())
    }

    pub fn check_columns(&self, columns: usize) -> Result<(), TableError> {
        if columns > self.max_columns {
            return Err(TableError::TooManyColumns {
                columns,
                limit: self.max_columns,
            });
        }
        Ok(())
    }

    /// Rows so far, against the row cap and (with `columns`) the cell cap.
    pub fn check_rows(&self, rows: usize, columns: usize) -> Result<(), TableError> {
        if rows > self.max_rows {
            return Err(TableError::TooManyRows {
                limit: self.max_rows,
            });
        }
        if rows.saturating_mul(columns) > self.max_cells {
            return Err(TableError::TooManyCells {
                columns,
                limit: self.max_cells,
            });
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("the table is {bytes} bytes; the limit is {limit}")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the table has {columns} columns; the limit is {limit}")]
    TooManyColumns { columns: usize, limit: usize },
    #[error("the table has more than {limit} rows")]
    TooManyRows { limit: usize },
    #[error("the table has more than {limit} cells (rows × {columns} columns)")]
    TooManyCells { columns: usize, limit: usize },
    #[error("the table is empty: no columns")]
    NoColumns,
    #[error("the table has no rows")]
    NoRows,
    #[error("row {row}, column `{column}`: the NUL character (U+0000) is not allowed in text")]
    NulCharacter { row: usize, column: String },
    #[error("the CSV could not be read: {0}")]
    Csv(String),
    #[error("the body is not an Arrow IPC stream: {0}")]
    Ipc(String),
    #[error("the body is not a readable Parquet file: {0}")]
    Parquet(String),
    #[error(
        "column `{column}` has type {data_type}; tables hold numbers, dates, booleans and text"
    )]
    UnsupportedType { column: String, data_type: String },
    #[error("the server is busy parsing other tables; try again shortly")]
    Busy,
    #[error("writing {format} failed: {message}")]
    Write {
        format: &'static str,
        message: String,
    },
    #[error("the table parser stopped unexpectedly: {0}")]
    Crashed(String),
}

impl TableError {
    /// A stable snake_case code for problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::TooLarge { .. } => "payload_too_large",
            TableError::TooManyColumns { .. } => "too_many_columns",
            TableError::TooManyRows { .. } => "too_many_rows",
            TableError::TooManyCells { .. } => "too_many_cells",
            TableError::NoColumns | TableError::NoRows => "empty_table",
            TableError::NulCharacter { .. } => "nul_character",
            TableError::UnsupportedType { .. } => "unsupported_type",
            TableError::Busy => "busy",
            TableError::Csv(_) | TableError::Ipc(_) | TableError::Parquet(_) => "invalid_table",
            TableError::Write { .. } | TableError::Crashed(_) => "internal_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cap_names_its_limit() {
        let limits = TableLimits {
            max_bytes: 10,
            max_columns: 3,
            max_rows: 5,
            max_cells: 12,
        };
        assert!(limits.check_bytes(10).is_ok());
        assert!(matches!(
            limits.check_bytes(11),
            Err(TableError::TooLarge { limit: 10, .. })
        ));
        assert!(limits.check_columns(3).is_ok());
        assert!(matches!(
            limits.check_columns(4),
            Err(TableError::TooManyColumns {
                columns: 4,
                limit: 3
            })
        ));
        assert!(limits.check_rows(4, 3).is_ok());
        assert!(matches!(
            limits.check_rows(5, 3),
            Err(TableError::TooManyCells { limit: 12, .. })
        ));
        assert!(matches!(
            limits.check_rows(6, 1),
            Err(TableError::TooManyRows { limit: 5 })
        ));
    }
}
