//! Arrow IPC stream encoding of [`Table`]: the bytes that cross the plugin boundary.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow_select::concat::concat_batches;

use super::Table;
use crate::{Error, Result};

impl Table {
    /// Reads an uncompressed Arrow IPC stream; several batches are concatenated.
    ///
    /// Takes the bytes by value so aligned buffers are used without copying.
    pub fn from_ipc(bytes: Vec<u8>) -> Result<Self> {
        let invalid = |e: arrow_schema::ArrowError| {
            Error::invalid_input(format!("input is not a readable Arrow IPC stream: {e}"))
        };
        let mut buffer = Buffer::from_vec(bytes);
        let mut decoder = StreamDecoder::new();
        let mut batches = Vec::new();
        while !buffer.is_empty() {
            match decoder.decode(&mut buffer).map_err(invalid)? {
                Some(batch) => batches.push(batch),
                None => break,
            }
        }
        decoder.finish().map_err(invalid)?;
        let schema = decoder
            .schema()
            .ok_or_else(|| Error::invalid_input("input Arrow IPC stream has no schema"))?;
        let batch = match batches.len() {
            0 => RecordBatch::new_empty(schema),
            1 => batches.pop().expect("one batch"),
            _ => concat_batches(&schema, &batches).map_err(invalid)?,
        };
        Ok(Self::from_batch(batch))
    }

    /// Writes the table as an uncompressed Arrow IPC stream with one batch.
    pub fn to_ipc(&self) -> Result<Vec<u8>> {
        let failed = |e: arrow_schema::ArrowError| {
            Error::internal(format!("writing the output as Arrow IPC: {e}"))
        };
        let batch = self.to_batch()?;
        let options = IpcWriteOptions::default();
        let mut writer = StreamWriter::try_new_with_options(Vec::new(), &batch.schema(), options)
            .map_err(failed)?;
        writer.write(&batch).map_err(failed)?;
        writer.into_inner().map_err(failed)
    }
}
