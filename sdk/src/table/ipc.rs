//! Arrow IPC stream encoding of [`Table`]: the bytes that cross the plugin boundary.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, make_array};
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow_schema::SchemaRef;
use arrow_select::concat::concat_batches;

use super::{Column, Table};
use crate::{Error, Result};

/// The stream a table was decoded from and what it decoded to, kept so an
/// unchanged table goes back out as the very bytes it came in as.
#[derive(Clone)]
pub(super) struct Source {
    bytes: Buffer,
    num_rows: usize,
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Table {
    /// Reads an uncompressed Arrow IPC stream; several batches are concatenated.
    ///
    /// Takes the bytes by value so aligned buffers are used without copying.
    pub fn from_ipc(bytes: Vec<u8>) -> Result<Self> {
        let invalid = |e: arrow_schema::ArrowError| {
            Error::invalid_input(format!("input is not a readable Arrow IPC stream: {e}"))
        };
        let whole = Buffer::from_vec(bytes);
        let mut buffer = whole.clone();
        let mut decoder = StreamDecoder::new();
        let mut batches = Vec::new();
        while !buffer.is_empty() {
            match decoder.decode(&mut buffer).map_err(invalid)? {
                Some(batch) => batches.push(batch),
                None => break,
            }
        }
        let consumed = buffer.is_empty();
        drop(buffer);
        decoder.finish().map_err(invalid)?;
        let schema = decoder
            .schema()
            .ok_or_else(|| Error::invalid_input("input Arrow IPC stream has no schema"))?;
        let single = batches.len() == 1;
        let batch = match batches.len() {
            0 => RecordBatch::new_empty(schema),
            1 => batches.pop().expect("one batch"),
            _ => concat_batches(&schema, &batches).map_err(invalid)?,
        };
        let source = (consumed && single).then(|| Source {
            bytes: whole,
            num_rows: batch.num_rows(),
            schema: batch.schema(),
            columns: batch.columns().to_vec(),
        });
        Ok(Self {
            source,
            ..Self::from_batch(batch)
        })
    }

    /// Writes the table as an uncompressed Arrow IPC stream with one batch.
    pub fn to_ipc(&self) -> Result<Vec<u8>> {
        let failed = |e: arrow_schema::ArrowError| {
            Error::internal(format!("writing the output as Arrow IPC: {e}"))
        };
        let batch = self.to_batch()?;
        let options = IpcWriteOptions::default();
        // Sized up front: growing a Vec of tens of MiB by doubling copies it
        // several times over.
        let out = Vec::with_capacity(encoded_size_hint(&batch));
        let mut writer =
            StreamWriter::try_new_with_options(out, &batch.schema(), options).map_err(failed)?;
        writer.write(&batch).map_err(failed)?;
        writer.into_inner().map_err(failed)
    }

    /// [`Table::to_ipc`], consuming the table: a table read with
    /// [`Table::from_ipc`] from a one-batch stream and left unchanged (no
    /// column opened, replaced, added or dropped) is returned as the bytes it
    /// was read from, without encoding or copying it again. Columns a plugin
    /// only read pass through; the SDK writes its outputs this way.
    pub fn into_ipc(mut self) -> Result<Vec<u8>> {
        let Some(source) = self.source.take().filter(|s| self.unchanged_since(s)) else {
            return self.to_ipc();
        };
        drop(self);
        let Source { bytes, .. } = source;
        // The arrays were the other owners of the bytes; if the author kept
        // a clone of the table or of a column, copy instead.
        Ok(bytes
            .into_vec::<u8>()
            .unwrap_or_else(|shared| shared.as_slice().to_vec()))
    }

    /// Whether the table still holds exactly what was decoded from `source`.
    fn unchanged_since(&self, source: &Source) -> bool {
        self.num_rows == source.num_rows
            && self.metadata == *source.schema.metadata()
            && self.fields.len() == source.schema.fields().len()
            && self
                .fields
                .iter()
                .zip(source.schema.fields())
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
            && self.columns.len() == source.columns.len()
            && self
                .columns
                .iter()
                .zip(&source.columns)
                .all(|(column, original)| match column {
                    Column::Arrow(array) => Arc::ptr_eq(array, original),
                    Column::Values(_) => false,
                })
    }
}

/// Bytes the IPC stream of `batch` will take, give or take the metadata:
/// the body buffers plus a generous allowance for the flatbuffer headers.
fn encoded_size_hint(batch: &RecordBatch) -> usize {
    fn body(array: &dyn Array) -> usize {
        // Buffers of sliced arrays are written truncated, so their lengths bound the body.
        let data = array.to_data();
        let buffers: usize = data.buffers().iter().map(|b| b.len() + 64).sum();
        let nulls = data.nulls().map_or(0, |n| n.buffer().len() + 64);
        let children: usize = data
            .child_data()
            .iter()
            .map(|child| body(make_array(child.clone()).as_ref()))
            .sum();
        buffers + nulls + children
    }
    let columns: usize = batch.columns().iter().map(|a| body(a.as_ref())).sum();
    columns + 512 * batch.num_columns() + 4096
}
