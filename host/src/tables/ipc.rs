//! Arrow IPC stream in: the schema is checked against the caps before any
//! batch is decoded, rows and cells as batches arrive, text for NUL.

use std::io::Cursor;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_schema::{ArrowError, DataType, Schema};

use super::limits::{TableError, TableLimits};

pub fn read(body: &[u8], limits: &TableLimits) -> Result<Vec<RecordBatch>, TableError> {
    limits.check_bytes(body.len())?;
    let err = |e: ArrowError| TableError::Ipc(e.to_string());
    let reader = StreamReader::try_new(Cursor::new(body), None).map_err(err)?;
    let schema = reader.schema();
    check_schema(&schema, limits)?;
    let columns = schema.fields().len();
    let mut batches = Vec::new();
    let mut rows = 0;
    for batch in reader {
        let batch = batch.map_err(err)?;
        check_nul(&batch, rows)?;
        rows += batch.num_rows();
        limits.check_rows(rows, columns)?;
        batches.push(batch);
    }
    if rows == 0 {
        return Err(TableError::NoRows);
    }
    Ok(batches)
}

/// Decodes a plugin's output, which the runtime has already checked and
/// capped in size; the table caps are for what tenants send.
pub fn decode_output(body: &[u8]) -> Result<Vec<RecordBatch>, TableError> {
    let err = |e: ArrowError| TableError::Ipc(e.to_string());
    let reader = StreamReader::try_new(Cursor::new(body), None).map_err(err)?;
    reader.collect::<Result<Vec<_>, _>>().map_err(err)
}

/// Flat tables of numbers, dates, booleans and text: nothing nested, so the
/// caps on columns and cells bound what a table holds.
fn check_schema(schema: &Schema, limits: &TableLimits) -> Result<(), TableError> {
    if schema.fields().is_empty() {
        return Err(TableError::NoColumns);
    }
    limits.check_columns(schema.fields().len())?;
    check_types(schema)
}

fn check_types(schema: &Schema) -> Result<(), TableError> {
    for field in schema.fields() {
        let flat = field.data_type().is_primitive()
            || matches!(
                field.data_type(),
                DataType::Null | DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8
            );
        if !flat {
            return Err(TableError::UnsupportedType {
                column: field.name().clone(),
                data_type: field.data_type().to_string(),
            });
        }
    }
    Ok(())
}

/// The flat-schema and NUL checks, for tables decoded from other formats.
pub(super) fn check_flat(batches: &[RecordBatch]) -> Result<(), TableError> {
    let Some(first) = batches.first() else {
        return Ok(());
    };
    check_types(&first.schema())?;
    let mut rows = 0;
    for batch in batches {
        check_nul(batch, rows)?;
        rows += batch.num_rows();
    }
    Ok(())
}

/// `first_row` is the number of rows in earlier batches; rows count from 1.
fn check_nul(batch: &RecordBatch, first_row: usize) -> Result<(), TableError> {
    let schema = batch.schema();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let at = match column.data_type() {
            DataType::Utf8 => nul_row(column.as_string::<i32>().iter()),
            DataType::LargeUtf8 => nul_row(column.as_string::<i64>().iter()),
            _ => None,
        };
        if let Some(row) = at {
            return Err(TableError::NulCharacter {
                row: first_row + row + 1,
                column: field.name().clone(),
            });
        }
    }
    Ok(())
}

fn nul_row<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Option<usize> {
    values
        .enumerate()
        .find_map(|(i, v)| v.is_some_and(|s| s.contains('\0')).then_some(i))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{Float64Array, ListArray, StringArray};

    use super::*;
    use crate::tables::write;

    fn table(columns: Vec<(&str, Arc<dyn Array>)>) -> Vec<u8> {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        write::ipc(&[batch]).unwrap()
    }

    #[test]
    fn flat_tables_round_trip() {
        let ipc = table(vec![
            ("tv", Arc::new(Float64Array::from(vec![1.0, 2.0])) as _),
            ("note", Arc::new(StringArray::from(vec!["a", "b"])) as _),
        ]);
        let batches = read(&ipc, &TableLimits::default()).unwrap();
        assert_eq!(batches[0].num_rows(), 2);
    }

    #[test]
    fn nested_columns_nul_text_and_wide_schemas_are_refused() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
        let nested = table(vec![("l", Arc::new(list) as _)]);
        assert!(matches!(
            read(&nested, &TableLimits::default()),
            Err(TableError::UnsupportedType { .. })
        ));
        let nul = table(vec![(
            "note",
            Arc::new(StringArray::from(vec!["a", "b\0"])) as _,
        )]);
        match read(&nul, &TableLimits::default()).unwrap_err() {
            TableError::NulCharacter { row, column } => {
                assert_eq!((row, column.as_str()), (2, "note"))
            }
            other => panic!("{other}"),
        }
        let limits = TableLimits {
            max_columns: 1,
            ..TableLimits::default()
        };
        let two = table(vec![
            ("a", Arc::new(Float64Array::from(vec![1.0])) as _),
            ("b", Arc::new(Float64Array::from(vec![1.0])) as _),
        ]);
        assert!(matches!(
            read(&two, &limits),
            Err(TableError::TooManyColumns { .. })
        ));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            read(b"not arrow", &TableLimits::default()),
            Err(TableError::Ipc(_))
        ));
    }
}
