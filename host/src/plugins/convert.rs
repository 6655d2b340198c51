//! Tables between the formats people send and want (CSV, JSON) and the one
//! plugins speak (uncompressed Arrow IPC stream).

use std::io::Cursor;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::ArrowError;

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the CSV could not be read: {0}")]
    Csv(String),
    #[error("the body is not an Arrow IPC stream: {0}")]
    Ipc(String),
    #[error("the table is empty: no columns")]
    NoColumns,
    #[error("writing {format} failed: {message}")]
    Write {
        format: &'static str,
        message: String,
    },
}

/// Reads a CSV with a header row, inferring column types (numbers, dates,
/// timestamps, booleans, strings) from the whole file.
pub fn csv_to_batches(csv: &[u8]) -> Result<Vec<RecordBatch>, ConvertError> {
    let err = |e: ArrowError| ConvertError::Csv(e.to_string());
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (schema, _) = format.infer_schema(Cursor::new(csv), None).map_err(err)?;
    if schema.fields().is_empty() {
        return Err(ConvertError::NoColumns);
    }
    let reader = arrow_csv::ReaderBuilder::new(Arc::new(schema))
        .with_header(true)
        .with_batch_size(64 * 1024)
        .build(Cursor::new(csv))
        .map_err(err)?;
    reader.collect::<Result<Vec<_>, _>>().map_err(err)
}

pub fn ipc_to_batches(ipc: &[u8]) -> Result<Vec<RecordBatch>, ConvertError> {
    let err = |e: ArrowError| ConvertError::Ipc(e.to_string());
    let reader = StreamReader::try_new(Cursor::new(ipc), None).map_err(err)?;
    reader.collect::<Result<Vec<_>, _>>().map_err(err)
}

/// One uncompressed IPC stream; needs at least one batch for its schema.
pub fn batches_to_ipc(batches: &[RecordBatch]) -> Result<Vec<u8>, ConvertError> {
    let err = |e: ArrowError| ConvertError::Write {
        format: "Arrow IPC",
        message: e.to_string(),
    };
    let first = batches.first().ok_or(ConvertError::NoColumns)?;
    let mut out = Vec::new();
    let mut writer = StreamWriter::try_new(&mut out, &first.schema()).map_err(err)?;
    for batch in batches {
        writer.write(batch).map_err(err)?;
    }
    writer.finish().map_err(err)?;
    drop(writer);
    Ok(out)
}

pub fn batches_to_csv(batches: &[RecordBatch]) -> Result<Vec<u8>, ConvertError> {
    let mut out = Vec::new();
    let mut writer = arrow_csv::WriterBuilder::new()
        .with_header(true)
        .build(&mut out);
    for batch in batches {
        writer.write(batch).map_err(|e| ConvertError::Write {
            format: "CSV",
            message: e.to_string(),
        })?;
    }
    drop(writer);
    Ok(out)
}

/// A JSON array with one object per row.
pub fn batches_to_json(batches: &[RecordBatch]) -> Result<Vec<u8>, ConvertError> {
    let err = |e: ArrowError| ConvertError::Write {
        format: "JSON",
        message: e.to_string(),
    };
    let mut out = Vec::new();
    let mut writer = arrow_json::ArrayWriter::new(&mut out);
    writer
        .write_batches(&batches.iter().collect::<Vec<_>>())
        .map_err(err)?;
    writer.finish().map_err(err)?;
    drop(writer);
    if out.is_empty() {
        out.extend_from_slice(b"[]");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_schema::DataType;

    use super::*;

    const CSV: &str = "week,tv,search,note\n2024-01-01,100.5,20,a\n2024-01-08,,30,b\n";

    #[test]
    fn csv_types_are_inferred_and_survive_ipc() {
        let batches = csv_to_batches(CSV.as_bytes()).unwrap();
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
        let back = ipc_to_batches(&batches_to_ipc(&batches).unwrap()).unwrap();
        assert_eq!(back, batches);
    }

    #[test]
    fn tables_render_as_csv_and_json() {
        let batches = csv_to_batches(CSV.as_bytes()).unwrap();
        let csv = String::from_utf8(batches_to_csv(&batches).unwrap()).unwrap();
        assert_eq!(csv.lines().next(), Some("week,tv,search,note"));
        assert!(csv.contains("2024-01-08,,30,b"), "{csv}");
        let json: serde_json::Value =
            serde_json::from_slice(&batches_to_json(&batches).unwrap()).unwrap();
        assert_eq!(json[0]["tv"], 100.5);
        assert_eq!(json[1]["search"], 30);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            ipc_to_batches(b"not arrow"),
            Err(ConvertError::Ipc(_))
        ));
    }
}
