//! Decompression. Log files are gzip; a `.json` file handed over as is is read as it is.
//!
//! Fast path: libdeflate inflates the whole object in one call into a buffer sized from the
//! gzip trailer (ISIZE), checking the CRC-32 and the length. Anything it does not accept
//! (a truncated or corrupt stream, several gzip members, a trailer that lies) goes through
//! flate2's streaming decoder, which is the authority on what is wrong and where.
//!
//! The decompressed size is capped (`--max-object-bytes`) so that a decompression bomb in a
//! hostile bucket fails one object instead of the whole run.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use libdeflater::Decompressor;

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

/// A worker's reusable decompression state.
pub struct Decoder {
    inflater: Decompressor,
    max_bytes: u64,
    /// Room kept after the data, so the JSON parser can read past the end without copying.
    padding: usize,
}

impl Decoder {
    pub fn new(max_bytes: u64, padding: usize) -> Decoder {
        Decoder {
            inflater: Decompressor::new(),
            max_bytes,
            padding,
        }
    }

    /// Decompresses (or copies) `bytes` into `out[..n]` and returns `n`. `out` only grows, and
    /// always has `padding` bytes after the data: zero-filling it anew for every object would
    /// cost as much as a memcpy of the whole trail.
    pub fn decode(
        &mut self,
        bytes: &[u8],
        named_gzip: bool,
        out: &mut Vec<u8>,
    ) -> Result<usize, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        if !bytes.starts_with(&GZIP_MAGIC) {
            if named_gzip {
                return Err(DecodeError::NotGzip(
                    bytes.iter().take(4).copied().collect(),
                ));
            }
            if bytes.len() as u64 > self.max_bytes {
                return Err(DecodeError::TooLarge(self.max_bytes));
            }
            self.ensure_len(out, bytes.len());
            out[..bytes.len()].copy_from_slice(bytes);
            return Ok(bytes.len());
        }
        if let Some(n) = self.inflate_whole(bytes, out) {
            return Ok(n);
        }
        self.inflate_streaming(bytes, out)
    }

    fn ensure_len(&self, out: &mut Vec<u8>, data_len: usize) {
        let needed = data_len + self.padding;
        if out.len() < needed {
            out.resize(needed, 0);
        }
    }

    /// libdeflate, when the trailer's ISIZE is plausible and the stream is one clean member.
    fn inflate_whole(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        let trailer: [u8; 4] = bytes.get(bytes.len().checked_sub(4)?..)?.try_into().ok()?;
        let size = u32::from_le_bytes(trailer) as usize;
        if size as u64 > self.max_bytes {
            return None;
        }
        self.ensure_len(out, size);
        let n = self
            .inflater
            .gzip_decompress(bytes, &mut out[..size])
            .ok()?;
        // A second member after the first would be ignored by libdeflate: only accept the
        // result when the first member's output is everything ISIZE promised.
        (n == size).then_some(n)
    }

    fn inflate_streaming(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<usize, DecodeError> {
        let mut data = Vec::new();
        let mut reader = MultiGzDecoder::new(bytes).take(self.max_bytes + 1);
        let result = reader.read_to_end(&mut data);
        match result {
            Ok(_) if data.len() as u64 > self.max_bytes => {
                return Err(DecodeError::TooLarge(self.max_bytes));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(DecodeError::Truncated(data.len()));
            }
            Err(e) => {
                return Err(DecodeError::Corrupt {
                    after: data.len(),
                    detail: e.to_string(),
                });
            }
        }
        self.ensure_len(out, data.len());
        out[..data.len()].copy_from_slice(&data);
        Ok(data.len())
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

    fn decode(bytes: &[u8], named_gzip: bool, max: u64) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        let n = Decoder::new(max, 64).decode(bytes, named_gzip, &mut out)?;
        assert!(out.len() >= n + 64, "padding kept after the data");
        out.truncate(n);
        Ok(out)
    }

    #[test]
    fn round_trips_and_passes_plain_json_through() {
        assert_eq!(
            decode(&gzip(b"{\"Records\":[]}"), true, 1 << 20).unwrap(),
            b"{\"Records\":[]}"
        );
        assert_eq!(decode(b"{}", false, 1 << 20).unwrap(), b"{}");
    }

    #[test]
    fn reused_buffers_hold_only_the_new_object() {
        let mut decoder = Decoder::new(1 << 20, 8);
        let mut out = Vec::new();
        let n = decoder
            .decode(&gzip(&vec![b'x'; 5000]), true, &mut out)
            .unwrap();
        assert_eq!(n, 5000);
        let n = decoder.decode(&gzip(b"short"), true, &mut out).unwrap();
        assert_eq!(&out[..n], b"short");
    }

    #[test]
    fn concatenated_members_are_all_read() {
        let mut two = gzip(b"{\"Records\":");
        two.extend(gzip(b"[]}"));
        assert_eq!(decode(&two, true, 1 << 20).unwrap(), b"{\"Records\":[]}");
    }

    #[test]
    fn bad_streams_are_named() {
        assert!(matches!(decode(b"", true, 100), Err(DecodeError::Empty)));
        assert!(matches!(
            decode(b"{}", true, 100),
            Err(DecodeError::NotGzip(_))
        ));
        let whole = gzip(&vec![b'a'; 100_000]);
        let err = decode(&whole[..whole.len() / 2], true, 1 << 20).unwrap_err();
        assert!(matches!(err, DecodeError::Truncated(_)), "{err}");
        let mut bad_crc = whole.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        let err = decode(&bad_crc, true, 1 << 20).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{err}");
        let err = decode(&whole, true, 1000).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge(1000)), "{err}");
        // A trailer that under-states the size (a bomb in disguise) is still capped.
        let mut lying = whole.clone();
        lying[n - 4..].copy_from_slice(&10u32.to_le_bytes());
        let err = decode(&lying, true, 1000).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooLarge(1000) | DecodeError::Corrupt { .. }
            ),
            "{err}"
        );
    }
}
