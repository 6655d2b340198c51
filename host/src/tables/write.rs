//! Tables out: the uncompressed Arrow IPC stream plugins speak, and the CSV
//! and JSON people read.

use arrow_array::RecordBatch;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::ArrowError;

use super::limits::TableError;

/// One uncompressed IPC stream; needs at least one batch for its schema.
pub fn ipc(batches: &[RecordBatch]) -> Result<Vec<u8>, TableError> {
    let err = |e: ArrowError| TableError::Write {
        format: "Arrow IPC",
        message: e.to_string(),
    };
    let first = batches.first().ok_or(TableError::NoRows)?;
    let mut out = Vec::new();
    let mut writer = StreamWriter::try_new(&mut out, &first.schema()).map_err(err)?;
    for batch in batches {
        writer.write(batch).map_err(err)?;
    }
    writer.finish().map_err(err)?;
    drop(writer);
    Ok(out)
}

pub fn csv(batches: &[RecordBatch]) -> Result<Vec<u8>, TableError> {
    let mut out = Vec::new();
    let mut writer = arrow_csv::WriterBuilder::new()
        .with_header(true)
        .build(&mut out);
    for batch in batches {
        writer.write(batch).map_err(|e| TableError::Write {
            format: "CSV",
            message: e.to_string(),
        })?;
    }
    drop(writer);
    Ok(out)
}

/// A JSON array with one object per row.
pub fn json(batches: &[RecordBatch]) -> Result<Vec<u8>, TableError> {
    let err = |e: ArrowError| TableError::Write {
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
    use super::*;
    use crate::tables::{TableLimits, csv as csv_in, ipc as ipc_in};

    const CSV: &str = "week,tv,search,note\n2024-01-01,100.5,20,a\n2024-01-08,,30,b\n";

    #[test]
    fn tables_survive_ipc_and_render_as_csv_and_json() {
        let batches = csv_in::read(CSV.as_bytes(), &TableLimits::default()).unwrap();
        let back = ipc_in::read(&ipc(&batches).unwrap(), &TableLimits::default()).unwrap();
        assert_eq!(back, batches);
        let text = String::from_utf8(csv(&batches).unwrap()).unwrap();
        assert_eq!(text.lines().next(), Some("week,tv,search,note"));
        assert!(text.contains("2024-01-08,,30,b"), "{text}");
        let rows: serde_json::Value = serde_json::from_slice(&json(&batches).unwrap()).unwrap();
        assert_eq!(rows[0]["tv"], 100.5);
        assert_eq!(rows[1]["search"], 30);
    }
}
