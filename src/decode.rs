//! Decompression. Log files are gzip; a `.json` file handed over as is is read as it is.
//!
//! The decompressed size is capped (`--max-object-bytes`) so that a decompression bomb
//! in a hostile bucket fails one object instead of the whole run.

use std::io::Read;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Default cap on one object's decompressed size. Real CloudTrail files are at most a few
/// tens of MB decompressed; 1 GiB is far above that and still fits in memory per worker.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty object")]
    Empty,
    #[error("named .gz but not gzip (first bytes {0:02x?})")]
    NotGzip(Vec<u8>),
    #[error("truncated gzip stream after {0} decompressed bytes")]
    Truncated(usize),
    #[error("corrupt gzip stream after {after} decompressed bytes: {detail}")]
    Corrupt { after: usize, detail: String },
    #[error("decompressed size exceeds the limit of {0} bytes (--max-object-bytes)")]
    TooLarge(u64),
}

/// Decompresses (or copies) `bytes` into `out`, replacing its contents.
pub fn decode(
    bytes: &[u8],
    named_gzip: bool,
    max_bytes: u64,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    out.clear();
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if !bytes.starts_with(&GZIP_MAGIC) {
        if named_gzip {
            return Err(DecodeError::NotGzip(
                bytes.iter().take(4).copied().collect(),
            ));
        }
        if bytes.len() as u64 > max_bytes {
            return Err(DecodeError::TooLarge(max_bytes));
        }
        out.extend_from_slice(bytes);
        return Ok(());
    }
    // CloudTrail files compress about 10:1; reserving that avoids most regrowth.
    out.reserve((bytes.len() * 10).min(max_bytes as usize));
    let mut reader = MultiGzDecoder::new(bytes).take(max_bytes + 1);
    match reader.read_to_end(out) {
        Ok(_) if out.len() as u64 > max_bytes => Err(DecodeError::TooLarge(max_bytes)),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(DecodeError::Truncated(out.len()))
        }
        Err(e) => Err(DecodeError::Corrupt {
            after: out.len(),
            detail: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn round_trips_and_passes_plain_json_through() {
        let mut out = Vec::new();
        decode(&gzip(b"{\"Records\":[]}"), true, 1 << 20, &mut out).unwrap();
        assert_eq!(out, b"{\"Records\":[]}");
        decode(b"{}", false, 1 << 20, &mut out).unwrap();
        assert_eq!(out, b"{}");
    }

    #[test]
    fn bad_streams_are_named() {
        let mut out = Vec::new();
        assert!(matches!(
            decode(b"", true, 100, &mut out),
            Err(DecodeError::Empty)
        ));
        assert!(matches!(
            decode(b"{}", true, 100, &mut out),
            Err(DecodeError::NotGzip(_))
        ));
        let whole = gzip(&vec![b'a'; 100_000]);
        let err = decode(&whole[..whole.len() / 2], true, 1 << 20, &mut out).unwrap_err();
        assert!(matches!(err, DecodeError::Truncated(_)), "{err}");
        let mut bad_crc = whole.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        let err = decode(&bad_crc, true, 1 << 20, &mut out).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{err}");
        let err = decode(&whole, true, 1000, &mut out).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge(1000)), "{err}");
    }
}
