//! Parquet in: the footer (row count, columns, and what the column chunks
//! say they decompress to) is checked against the caps before any page is
//! decoded, so a small file cannot claim gigabytes; batches are sized by bytes.
//! Pages may be compressed with any codec Spark, DuckDB or pandas write:
//! snappy, lz4, gzip, zstd or brotli.

use arrow_array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::errors::ParquetError;

use super::csv::rows_per_batch;
use super::limits::{TableError, TableLimits};

pub fn read(body: &Bytes, limits: &TableLimits) -> Result<Vec<RecordBatch>, TableError> {
    limits.check_bytes(body.len())?;
    let err = |e: ParquetError| TableError::Parquet(e.to_string());
    let builder = ParquetRecordBatchReaderBuilder::try_new(body.clone()).map_err(err)?;
    let metadata = builder.metadata().clone();
    let columns = builder.schema().fields().len();
    if columns == 0 {
        return Err(TableError::NoColumns);
    }
    limits.check_columns(columns)?;
    let rows = usize::try_from(metadata.file_metadata().num_rows()).unwrap_or(usize::MAX);
    limits.check_rows(rows, columns)?;
    let decoded: i64 = metadata
        .row_groups()
        .iter()
        .map(|group| group.total_byte_size().max(0))
        .sum();
    let allowed = limits.max_cells.saturating_mul(16) as i64;
    if decoded > allowed {
        return Err(TableError::Parquet(format!(
            "the file says it decompresses to {decoded} bytes; the limit is {allowed}"
        )));
    }
    let reader = builder
        .with_batch_size(rows_per_batch(columns))
        .build()
        .map_err(err)?;
    let mut batches = Vec::new();
    let mut seen = 0;
    for batch in reader {
        let batch = batch.map_err(|e| TableError::Parquet(e.to_string()))?;
        seen += batch.num_rows();
        limits.check_rows(seen, columns)?;
        batches.push(batch);
    }
    if seen == 0 {
        return Err(TableError::NoRows);
    }
    super::ipc::check_flat(&batches)?;
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Date32Array, Float64Array, StringArray};
    use parquet::arrow::ArrowWriter;

    use super::*;

    pub(crate) fn parquet_of(batch: &RecordBatch) -> Bytes {
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        writer.write(batch).unwrap();
        writer.close().unwrap();
        Bytes::from(out)
    }

    #[test]
    fn every_common_codec_is_read() {
        use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
        use parquet::file::properties::WriterProperties;
        let batch = RecordBatch::try_from_iter([
            (
                "week",
                Arc::new(Date32Array::from(vec![19_000, 19_007])) as _,
            ),
            ("tv", Arc::new(Float64Array::from(vec![1.5, 2.5])) as _),
        ])
        .unwrap();
        for codec in [
            Compression::SNAPPY,
            Compression::LZ4_RAW,
            Compression::GZIP(GzipLevel::default()),
            Compression::ZSTD(ZstdLevel::default()),
            Compression::BROTLI(BrotliLevel::default()),
        ] {
            let properties = WriterProperties::builder().set_compression(codec).build();
            let mut out = Vec::new();
            let mut writer =
                ArrowWriter::try_new(&mut out, batch.schema(), Some(properties)).unwrap();
            writer.write(&batch).unwrap();
            writer.close().unwrap();
            let back = read(&Bytes::from(out), &TableLimits::default())
                .unwrap_or_else(|e| panic!("{codec:?}: {e}"));
            assert_eq!(back, vec![batch.clone()], "{codec:?}");
        }
    }

    #[test]
    fn parquet_round_trips_and_truncated_files_are_refused() {
        let batch = RecordBatch::try_from_iter([
            (
                "week",
                Arc::new(Date32Array::from(vec![19_000, 19_007])) as _,
            ),
            (
                "tv",
                Arc::new(Float64Array::from(vec![Some(1.5), None])) as _,
            ),
            ("note", Arc::new(StringArray::from(vec!["a", "b"])) as _),
        ])
        .unwrap();
        let file = parquet_of(&batch);
        let back = read(&file, &TableLimits::default()).unwrap();
        assert_eq!(back, vec![batch]);
        let truncated = file.slice(..file.len() - 3);
        assert!(matches!(
            read(&truncated, &TableLimits::default()),
            Err(TableError::Parquet(_))
        ));
        assert!(matches!(
            read(&Bytes::from_static(b"garbage"), &TableLimits::default()),
            Err(TableError::Parquet(_))
        ));
        let narrow = TableLimits {
            max_columns: 2,
            ..TableLimits::default()
        };
        assert!(matches!(
            read(&file, &narrow),
            Err(TableError::TooManyColumns { .. })
        ));
    }
}
