//! Validation of the Arrow IPC streams plugins return: well-formed, uncompressed, decodable.

use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::{MessageHeader, root_as_message};

use crate::error::OutputError;

const CONTINUATION: u32 = 0xFFFF_FFFF;

/// Checks that `bytes` is one uncompressed Arrow IPC stream that decodes, and
/// hands the bytes back without copying them.
pub(crate) fn validate_stream(bytes: Vec<u8>) -> Result<Vec<u8>, OutputError> {
    check_messages(&bytes)?;
    let buffer = Buffer::from_vec(bytes);
    decode_all(buffer.clone())?;
    Ok(buffer
        .into_vec::<u8>()
        .unwrap_or_else(|shared| shared.as_slice().to_vec()))
}

/// Decodes every batch (zero-copy where aligned), validating buffers and offsets.
fn decode_all(mut buffer: Buffer) -> Result<(), OutputError> {
    let mut decoder = StreamDecoder::new();
    while !buffer.is_empty() {
        decoder.decode(&mut buffer).map_err(not_ipc)?;
    }
    decoder.finish().map_err(not_ipc)?;
    if decoder.schema().is_none() {
        return Err(OutputError::NotArrowIpc("the stream has no schema".into()));
    }
    Ok(())
}

fn not_ipc(error: impl std::fmt::Display) -> OutputError {
    OutputError::NotArrowIpc(error.to_string())
}

/// Walks the message headers without touching bodies: the first message must
/// be a schema and no batch may declare body compression.
fn check_messages(bytes: &[u8]) -> Result<(), OutputError> {
    let mut pos = 0usize;
    let mut messages = 0usize;
    while pos < bytes.len() {
        let mut len = read_u32(bytes, &mut pos)?;
        if len == CONTINUATION {
            len = read_u32(bytes, &mut pos)?;
        }
        if len == 0 {
            break;
        }
        let meta = slice(bytes, pos, len as usize, "message metadata")?;
        pos += meta.len();
        let message = root_as_message(meta).map_err(not_ipc)?;
        let header = message.header_type();
        if messages == 0 && header != MessageHeader::Schema {
            return Err(not_ipc("the stream does not start with a schema"));
        }
        let compression = match header {
            MessageHeader::RecordBatch => message
                .header_as_record_batch()
                .and_then(|batch| batch.compression()),
            MessageHeader::DictionaryBatch => message
                .header_as_dictionary_batch()
                .and_then(|dict| dict.data())
                .and_then(|batch| batch.compression()),
            _ => None,
        };
        if let Some(compression) = compression {
            return Err(OutputError::Compressed(format!(
                "{:?}",
                compression.codec()
            )));
        }
        let body = usize::try_from(message.bodyLength()).map_err(not_ipc)?;
        pos += slice(bytes, pos, body, "message body")?.len();
        messages += 1;
    }
    if messages == 0 {
        return Err(not_ipc("the stream is empty"));
    }
    Ok(())
}

fn read_u32(bytes: &[u8], pos: &mut usize) -> Result<u32, OutputError> {
    let word = slice(bytes, *pos, 4, "message length")?;
    *pos += 4;
    Ok(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
}

fn slice<'b>(bytes: &'b [u8], pos: usize, len: usize, what: &str) -> Result<&'b [u8], OutputError> {
    pos.checked_add(len)
        .and_then(|end| bytes.get(pos..end))
        .ok_or_else(|| not_ipc(format!("truncated {what} at byte {pos}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_arrow() {
        let err = validate_stream(b"hello, world".to_vec()).unwrap_err();
        assert!(matches!(err, OutputError::NotArrowIpc(_)), "{err}");
    }

    #[test]
    fn empty_output_is_not_arrow() {
        let err = validate_stream(Vec::new()).unwrap_err();
        assert!(matches!(err, OutputError::NotArrowIpc(_)), "{err}");
    }
}
