//! CSV in: a streaming pre-scan that enforces the caps and refuses NUL cells
//! before arrow-csv allocates anything, then a typed parse whose batches are
//! sized by bytes, not by a fixed row count (a fixed 65,536-row batch over
//! 200,000 columns asked for 100 GB up front).

use std::io::Cursor;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;

use super::limits::{TableError, TableLimits};

/// Memory one batch's column builders may reserve.
const BATCH_BYTES: usize = 4 << 20;

/// Reads a CSV with a header row, inferring column types (numbers, dates,
/// timestamps, booleans, strings) from the whole file.
pub fn read(body: &[u8], limits: &TableLimits) -> Result<Vec<RecordBatch>, TableError> {
    limits.check_bytes(body.len())?;
    let columns = scan(body, limits)?;
    let err = |e: ArrowError| TableError::Csv(e.to_string());
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (schema, _) = format.infer_schema(Cursor::new(body), None).map_err(err)?;
    debug_assert_eq!(schema.fields().len(), columns);
    let reader = arrow_csv::ReaderBuilder::new(Arc::new(schema))
        .with_header(true)
        .with_batch_size(rows_per_batch(columns))
        .build(Cursor::new(body))
        .map_err(err)?;
    reader.collect::<Result<Vec<_>, _>>().map_err(err)
}

/// Rows per batch so that eight bytes a cell stay within [`BATCH_BYTES`].
pub fn rows_per_batch(columns: usize) -> usize {
    (BATCH_BYTES / (columns.max(1) * 8)).clamp(1, 65_536)
}

/// Checks shape and cells without building any column; answers the number
/// of columns. Memory is one record, whatever the file.
fn scan(body: &[u8], limits: &TableLimits) -> Result<usize, TableError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let read = |reader: &mut csv::Reader<&[u8]>, record: &mut csv::ByteRecord| {
        reader.read_byte_record(record).map_err(shape_error)
    };
    if !read(&mut reader, &mut record)? || record.is_empty() {
        return Err(TableError::NoColumns);
    }
    let columns = record.len();
    limits.check_columns(columns)?;
    let header: Vec<String> = record
        .iter()
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect();
    check_nul(&record, 0, &header)?;
    let mut rows = 0;
    while read(&mut reader, &mut record)? {
        rows += 1;
        limits.check_rows(rows, columns)?;
        check_nul(&record, rows, &header)?;
    }
    if rows == 0 {
        return Err(TableError::NoRows);
    }
    Ok(columns)
}

/// The line (1-based, the header on line 1) on which each data record of a
/// CSV starts. A quoted field may span lines, so a record's line is not its
/// index plus two; reading the file again costs a pass over it, which only
/// a refused upload's row numbers need.
pub fn record_lines(body: &[u8]) -> Vec<usize> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut lines = Vec::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        let line = record.position().map_or(0, |p| p.line());
        lines.push(usize::try_from(line).unwrap_or(usize::MAX));
    }
    lines
}

/// Row 0 is the header; data rows count from 1.
fn check_nul(record: &csv::ByteRecord, row: usize, header: &[String]) -> Result<(), TableError> {
    if !record.as_slice().contains(&0) {
        return Ok(());
    }
    let at = record
        .iter()
        .position(|cell| cell.contains(&0))
        .unwrap_or(0);
    Err(TableError::NulCharacter {
        row,
        column: header.get(at).cloned().unwrap_or_default(),
    })
}

fn shape_error(e: csv::Error) -> TableError {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => TableError::Csv(format!(
            "row {} has {len} fields, the header has {expected_len}",
            pos.as_ref().map_or(0, |p| p.record())
        )),
        _ => TableError::Csv(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_schema::DataType;

    use super::*;

    const CSV: &str = "week,tv,search,note\n2024-01-01,100.5,20,a\n2024-01-08,,30,b\n";

    #[test]
    fn types_are_inferred() {
        let batches = read(CSV.as_bytes(), &TableLimits::default()).unwrap();
        let schema = batches[0].schema();
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(
            types,
            [
                &DataType::Date32,
                &DataType::Float64,
                &DataType::Int64,
                &DataType::Utf8
            ]
        );
        assert_eq!(batches[0].column(1).null_count(), 1);
    }

    #[test]
    fn a_wide_header_is_refused_before_parsing() {
        let header = (0..200_000).map(|i| format!("c{i}")).collect::<Vec<_>>();
        let csv = format!("{}\n{}\n", header.join(","), vec!["1"; 200_000].join(","));
        let err = read(csv.as_bytes(), &TableLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                TableError::TooManyColumns {
                    columns: 200_000,
                    limit: 1_000
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn rows_and_cells_are_capped() {
        let limits = TableLimits {
            max_rows: 2,
            max_cells: 5,
            ..TableLimits::default()
        };
        let three_rows = "a,b\n1,2\n3,4\n5,6\n";
        assert!(matches!(
            read(three_rows.as_bytes(), &limits),
            Err(TableError::TooManyCells { .. } | TableError::TooManyRows { .. })
        ));
        assert!(read(b"a,b\n1,2\n", &limits).is_ok());
    }

    #[test]
    fn nul_cells_are_named_by_row_and_column() {
        let err = read(b"a,b\n1,2\n3,x\x00y\n", &TableLimits::default()).unwrap_err();
        match err {
            TableError::NulCharacter { row, column } => {
                assert_eq!((row, column.as_str()), (2, "b"))
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn ragged_rows_empty_files_and_header_only_files_are_refused() {
        let limits = TableLimits::default();
        let ragged = read(b"a,b\n1,2\n3\n", &limits).unwrap_err().to_string();
        assert!(ragged.contains("row 2 has 1 fields"), "{ragged}");
        assert!(matches!(read(b"", &limits), Err(TableError::NoColumns)));
        assert!(matches!(read(b"a,b\n", &limits), Err(TableError::NoRows)));
    }

    #[test]
    fn batches_are_sized_by_bytes() {
        assert_eq!(rows_per_batch(1), 65_536);
        assert_eq!(rows_per_batch(1_000), 524);
        assert_eq!(rows_per_batch(10_000_000), 1);
        let wide = (0..1_000)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let row = vec!["1.5"; 1_000].join(",");
        let csv = format!("{wide}\n{}", format!("{row}\n").repeat(1_200));
        let batches = read(csv.as_bytes(), &TableLimits::default()).unwrap();
        assert_eq!(
            batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
            [524, 524, 152]
        );
    }
}
