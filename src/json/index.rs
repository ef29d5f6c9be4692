//! Stage 1: one pass over a log file that finds where every JSON token starts, so the walk
//! (json::walk) can jump from token to token instead of reading every byte again.
//!
//! The technique is simdjson's (Langdale and Lemire, "Parsing Gigabytes of JSON per Second",
//! VLDB Journal 28, 2019), written here because simd-json keeps its stage 1 private. Each
//! 64-byte block becomes six bitmasks (quote, backslash, structural operator, whitespace,
//! control byte, non-ASCII): the whole block at once with AVX-512, 32 bytes at a time with
//! AVX2, or a byte at a time from a table elsewhere, the kernel chosen at run time
//! ([`Kernel`]). Bit arithmetic on the masks then finds, for the whole block at once:
//!
//! - the escaped bytes (after an odd run of backslashes), so `\"` does not end a string;
//! - the bytes inside strings, by a prefix XOR of the unescaped quotes (carried from block
//!   to block), so a `{` or `,` inside a string is not structure;
//! - the first byte of each scalar (`true`, `false`, `null`, a number).
//!
//! The index holds the offsets of the operators `{ } [ ] : ,` outside strings, of every
//! string's opening quote, and of every scalar's first byte, then `len` as a sentinel.
//! A string's content is never indexed: the walk finds its closing quote just before the
//! next token, and skips a string it does not need without looking at it.
//!
//! The pass also checks what the walk will not look at again: every string is closed, no
//! string holds a raw control byte, every escape is one JSON allows, and the text is
//! UTF-8. It does not decide: whatever it cannot vouch for (a `\u` surrogate, say) is a
//! [`Refusal`], and the caller hands the object to simd-json, the authority on what is wrong.

/// Why stage 1 will not vouch for an object; simd-json reads it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Offsets are `u32`: an object of 4 GiB or more decompressed.
    TooLarge,
    /// A string still open at the end of the text.
    UnclosedString,
    /// A byte below 0x20 inside a string (JSON requires it escaped).
    ControlInString,
    /// An escape JSON does not allow, or a `\u` escape of a UTF-16 surrogate (whose pairing
    /// rules simd-json decides).
    Escape,
    InvalidUtf8,
}

/// Which code classifies the blocks and writes the offsets. All three give the same index
/// (the tests compare each with a byte-at-a-time definition); they differ in speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 (F, BW, VBMI2): one 64-byte register a block, the masks straight from the
    /// compares, and the offsets written 16 at a time by a byte compress (simdjson's
    /// Ice Lake kernel does the same).
    Avx512,
    /// AVX2: two 32-byte halves a block, the offsets written 8 at a time from the bits.
    Avx2,
    /// A table lookup per byte, for any CPU.
    Portable,
}

impl Kernel {
    pub const ALL: [Kernel; 3] = [Kernel::Avx512, Kernel::Avx2, Kernel::Portable];

    /// The fastest kernel this CPU runs, unless `TRAILSIFT_INDEX_KERNEL` (avx512, avx2 or
    /// portable) names another it runs: the same binary can then be measured with each.
    /// Decided once per process.
    pub fn detected() -> Kernel {
        static KERNEL: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *KERNEL.get_or_init(|| {
            let asked = std::env::var("TRAILSIFT_INDEX_KERNEL").ok();
            let asked = Kernel::ALL
                .into_iter()
                .find(|k| asked.as_deref() == Some(k.name()));
            asked
                .filter(|k| k.available())
                .or_else(|| Kernel::ALL.into_iter().find(|k| k.available()))
                .unwrap_or(Kernel::Portable)
        })
    }

    /// Whether this CPU has what the kernel needs.
    pub fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            let bits = has!("bmi1") && has!("popcnt");
            match self {
                Kernel::Avx512 => {
                    bits && has!("avx512f") && has!("avx512bw") && has!("avx512vbmi2")
                }
                Kernel::Avx2 => bits && has!("avx2"),
                Kernel::Portable => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Kernel::Portable
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }
}

/// The structural index of one text, reused from object to object.
#[derive(Debug, Default)]
pub struct Index {
    /// Token offsets, then the sentinel `len` (twice, so a lookahead of one is in bounds).
    pub(crate) at: Vec<u32>,
    /// Bit b of word w: block 64 w + b holds an escaping backslash inside a string. A string
    /// outside every marked block needs no unescaping, which the walk tells from one or two
    /// bits instead of searching the string for a backslash.
    pub(crate) escape_blocks: Vec<u64>,
    carry: Carry,
    /// Whether the sentinels are in place (the text was finished).
    finished: bool,
}

/// What one block hands the next, and what the whole text has shown so far.
#[derive(Debug, Default, Clone, Copy)]
struct Carry {
    /// Where the next block starts.
    pos: usize,
    /// All ones when the previous block ended inside a string.
    in_string: u64,
    /// Bit 0 set when the previous block ended with an escaping backslash.
    escape: u64,
    /// Bit 0 set when the previous block ended inside a scalar.
    scalar: u64,
    control_in_string: u64,
    non_ascii: u64,
}

/// The six classes of a 64-byte block, one bit per byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Classes {
    quote: u64,
    backslash: u64,
    /// `{ } [ ] : ,` (may also flag a few control bytes; see the AVX2 kernel).
    op: u64,
    whitespace: u64,
    /// Bytes below 0x20.
    control: u64,
    non_ascii: u64,
}

impl Index {
    /// Indexes `text` (the decompressed object, without padding); returns it as the UTF-8
    /// it was proved to be.
    pub fn build<'t>(&mut self, text: &'t [u8]) -> Result<&'t str, Refusal> {
        self.reset();
        self.feed(text, true)?;
        self.finish(text)
    }

    /// [`Index::build`] with the given kernel (the portable one if the CPU lacks what it
    /// needs): what the tests and the ceiling bench compare the kernels with.
    pub fn build_with<'t>(&mut self, kernel: Kernel, text: &'t [u8]) -> Result<&'t str, Refusal> {
        self.reset();
        self.feed_with(kernel, text, true)?;
        self.finish(text)
    }

    /// Starts a text that arrives in pieces ([`Index::feed`]).
    pub fn reset(&mut self) {
        self.at.clear();
        self.escape_blocks.clear();
        self.carry = Carry::default();
        self.finished = false;
    }

    /// Whether any block of `start..end` holds an escape (see `escape_blocks`). A string
    /// spans one or two blocks as a rule; the blocks between are looked at only when there
    /// are any.
    #[inline(always)]
    pub(crate) fn escapes_in(&self, start: usize, end: usize) -> bool {
        if self.escape_blocks.is_empty() {
            return false;
        }
        let marked = |block: usize| {
            self.escape_blocks
                .get(block / 64)
                .is_some_and(|w| (w >> (block % 64)) & 1 != 0)
        };
        let (first, last) = (start / 64, end.saturating_sub(1) / 64);
        marked(first) || marked(last) || (first + 1 < last && (first + 1..last).any(marked))
    }

    /// Indexes what has arrived of a text: `text` is all of it so far, and grows between
    /// calls. Until `last`, the final 64 bytes or more are kept back, since an escape near
    /// the end may be followed by bytes not yet written. This is what lets inflating in
    /// cache-sized chunks be fused with the scan (benches/ceiling.rs).
    pub fn feed(&mut self, text: &[u8], last: bool) -> Result<(), Refusal> {
        self.feed_with(Kernel::detected(), text, last)
    }

    fn feed_with(&mut self, kernel: Kernel, text: &[u8], last: bool) -> Result<(), Refusal> {
        if u32::try_from(text.len()).is_err() {
            return Err(Refusal::TooLarge);
        }
        #[cfg(target_arch = "x86_64")]
        if kernel.available() {
            match kernel {
                // SAFETY: the CPU has what each kernel needs, just checked.
                Kernel::Avx512 => return unsafe { self.feed_avx512(text, last) },
                Kernel::Avx2 => return unsafe { self.feed_avx2(text, last) },
                Kernel::Portable => {}
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = kernel;
        scan(text, last, self, classify_portable, push_offsets)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi1,popcnt")]
    unsafe fn feed_avx2(&mut self, text: &[u8], last: bool) -> Result<(), Refusal> {
        scan(
            text,
            last,
            self,
            |block| {
                // SAFETY: this closure runs only inside feed_avx2, on a CPU with AVX2.
                unsafe { avx2::classify(block) }
            },
            push_offsets,
        )
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,bmi1,popcnt")]
    unsafe fn feed_avx512(&mut self, text: &[u8], last: bool) -> Result<(), Refusal> {
        scan(
            text,
            last,
            self,
            |block| {
                // SAFETY: these closures run only inside feed_avx512, on a CPU with
                // AVX-512 F, BW and VBMI2.
                unsafe { avx512::classify(block) }
            },
            |out, base, bits| unsafe { avx512::push_offsets(out, base, bits) },
        )
    }

    /// Ends a text fed whole (the last [`Index::feed`] had `last`): checks what only the end
    /// can tell, and returns the text as UTF-8.
    pub fn finish<'t>(&mut self, text: &'t [u8]) -> Result<&'t str, Refusal> {
        let c = self.carry;
        if c.in_string != 0 {
            return Err(Refusal::UnclosedString);
        }
        if c.control_in_string != 0 {
            return Err(Refusal::ControlInString);
        }
        let text = if c.non_ascii == 0 {
            // SAFETY: no byte is at or above 0x80 (the non-ASCII mask of every block was
            // empty), and ASCII is valid UTF-8.
            unsafe { std::str::from_utf8_unchecked(text) }
        } else {
            simdutf8::basic::from_utf8(text).map_err(|_| Refusal::InvalidUtf8)?
        };
        let len = text.len() as u32;
        self.at.extend([len, len]);
        self.finished = true;
        Ok(text)
    }

    /// [`Index::finish`] for a text already proved UTF-8 (by the caller, before feeding).
    pub fn finish_validated(&mut self, len: usize) -> Result<(), Refusal> {
        let c = self.carry;
        if c.in_string != 0 {
            return Err(Refusal::UnclosedString);
        }
        if c.control_in_string != 0 {
            return Err(Refusal::ControlInString);
        }
        let len = u32::try_from(len).map_err(|_| Refusal::TooLarge)?;
        self.at.extend([len, len]);
        self.finished = true;
        Ok(())
    }

    /// Token offsets (without the sentinels).
    pub fn tokens(&self) -> &[u32] {
        let sentinels = if self.finished { 2 } else { 0 };
        &self.at[..self.at.len() - sentinels]
    }
}

/// The block loop, inlined into each kernel so the classifier is compiled with its CPU
/// features. Indexes from where the last call stopped up to the end of `text` (`last`) or
/// to the last whole block at least 64 bytes before it.
#[inline(always)]
fn scan(
    text: &[u8],
    last: bool,
    index: &mut Index,
    classify: impl Fn(&[u8; 64]) -> Classes,
    push: impl Fn(&mut Vec<u32>, u32, u64),
) -> Result<(), Refusal> {
    let end = if last {
        text.len()
    } else {
        text.len().saturating_sub(64) & !63
    };
    let mut c = index.carry;
    // Trail JSON has about one token per 8 bytes; reserving that once saves regrowing.
    index.at.reserve(end.saturating_sub(c.pos) / 8 + 64);
    let mut tail = [b' '; 64];
    let mut base = c.pos;
    while base < end {
        let block = match text[base..].first_chunk::<64>() {
            Some(block) => block,
            None => {
                // The last, short block, padded with whitespace (which is never a token).
                let rest = &text[base..];
                tail[..rest.len()].copy_from_slice(rest);
                &tail
            }
        };
        let k = classify(block);
        let (escaped, escapers) = if k.backslash == 0 && c.escape == 0 {
            (0, 0)
        } else {
            escapes(k.backslash, &mut c.escape)
        };
        let quote = k.quote & !escaped;
        // Set on an opening quote and the bytes after it up to (not including) the closing one.
        let inside = prefix_xor(quote) ^ c.in_string;
        c.in_string = ((inside as i64) >> 63) as u64;
        let op = k.op & !k.control;
        let scalar = !(inside | quote | op | k.whitespace);
        let scalar_start = scalar & !((scalar << 1) | c.scalar);
        c.scalar = scalar >> 63;
        c.control_in_string |= k.control & inside;
        c.non_ascii |= k.non_ascii;
        let escapers_in_strings = escapers & inside;
        if escapers_in_strings != 0 {
            check_escapes(text, base, escapers_in_strings)?;
            mark_block(&mut index.escape_blocks, base / 64);
        }
        push(
            &mut index.at,
            base as u32,
            (op & !inside) | (quote & inside) | scalar_start,
        );
        base += 64;
    }
    c.pos = base;
    index.carry = c;
    Ok(())
}

/// Bit i of the result: the XOR of bits 0..=i of `x`. Over the quote mask: inside a string.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The escaped bytes of a block and the backslashes that escape them. A backslash escapes
/// the next byte unless it is itself escaped; runs are rare in trail JSON, so this walks the
/// backslashes one by one instead of simdjson's carry trick.
#[inline]
fn escapes(backslash: u64, carry: &mut u64) -> (u64, u64) {
    let mut escaped = *carry;
    let mut left = backslash & !escaped;
    let mut escapers = 0u64;
    while left != 0 {
        let bit = left & left.wrapping_neg();
        escapers |= bit;
        let next = bit << 1;
        escaped |= next;
        left &= !(bit | next);
    }
    *carry = escapers >> 63;
    (escaped, escapers)
}

/// Checks each escape inside a string: `\" \\ \/ \b \f \n \r \t` or `\u` and four hex digits
/// that are not a UTF-16 surrogate.
#[cold]
fn check_escapes(text: &[u8], base: usize, mut escapers: u64) -> Result<(), Refusal> {
    while escapers != 0 {
        let at = base + escapers.trailing_zeros() as usize;
        escapers &= escapers - 1;
        match text.get(at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
            Some(b'u') => {
                let hex = text.get(at + 2..at + 6).ok_or(Refusal::Escape)?;
                let unit = std::str::from_utf8(hex)
                    .ok()
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                    .ok_or(Refusal::Escape)?;
                if (0xd800..=0xdfff).contains(&unit) {
                    return Err(Refusal::Escape);
                }
            }
            _ => return Err(Refusal::Escape),
        }
    }
    Ok(())
}

#[cold]
fn mark_block(blocks: &mut Vec<u64>, block: usize) {
    if blocks.len() <= block / 64 {
        blocks.resize(block / 64 + 1, 0);
    }
    blocks[block / 64] |= 1 << (block % 64);
}

/// Appends `base + i` for every set bit i of `bits`, in order. As simdjson does, it writes
/// eight slots at a time whether or not that many bits are set (the extra slots are beyond
/// the new length, overwritten later): a loop that stopped at the last bit would mispredict
/// its exit once per block.
#[inline(always)]
fn push_offsets(out: &mut Vec<u32>, base: u32, mut bits: u64) {
    let n = bits.count_ones() as usize;
    out.reserve(64);
    let start = out.len();
    let spare = &mut out.spare_capacity_mut()[..64];
    let mut written = 0;
    while written < n {
        for slot in &mut spare[written..written + 8] {
            slot.write(base.wrapping_add(bits.trailing_zeros()));
            bits &= bits.wrapping_sub(1);
        }
        written += 8;
    }
    // SAFETY: the n slots after `start` were written just above (n <= 64, within the
    // reserved capacity).
    unsafe { out.set_len(start + n) };
}

const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
const OP: u8 = 4;
const WHITESPACE: u8 = 8;
const CONTROL: u8 = 16;
const NON_ASCII: u8 = 32;

/// Each byte's classes, for the portable kernel.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let mut class = match b as u8 {
            b'"' => QUOTE,
            b'\\' => BACKSLASH,
            b'{' | b'}' | b'[' | b']' | b':' | b',' => OP,
            b' ' | b'\t' | b'\n' | b'\r' => WHITESPACE,
            _ => 0,
        };
        if b < 0x20 {
            class |= CONTROL;
        }
        if b >= 0x80 {
            class |= NON_ASCII;
        }
        table[b] = class;
        b += 1;
    }
    table
};

fn classify_portable(block: &[u8; 64]) -> Classes {
    let mut c = Classes::default();
    for (i, &b) in block.iter().enumerate() {
        let class = CLASS[b as usize];
        let bit = |flag: u8| u64::from(class & flag != 0) << i;
        c.quote |= bit(QUOTE);
        c.backslash |= bit(BACKSLASH);
        c.op |= bit(OP);
        c.whitespace |= bit(WHITESPACE);
        c.control |= bit(CONTROL);
        c.non_ascii |= bit(NON_ASCII);
    }
    c
}

/// The SIMD kernels' nibble tables (see `avx2::classify`), one 16-byte lane, repeated into
/// every lane of the register. Whitespace: ' ', '\t', '\n', '\r' at their low nibbles, and
/// elsewhere bytes whose low nibble differs from their slot's, which never compare equal.
#[cfg(target_arch = "x86_64")]
const WHITESPACE_TABLE: [u8; 16] = [
    b' ', 100, 100, 100, 17, 100, 113, 2, 100, b'\t', b'\n', 112, 100, b'\r', 100, 100,
];
/// Operators: ':' '{' ',' '}' at nibbles A..D ('[' and ']' match '{' and '}' once 0x20 is
/// OR-ed into the input).
#[cfg(target_arch = "x86_64")]
const OP_TABLE: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b':', b'{', b',', b'}', 0, 0];

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Classes, OP_TABLE, WHITESPACE_TABLE};

    /// simdjson's nibble lookup: `_mm256_shuffle_epi8` indexes a 16-byte table by each byte's
    /// low nibble (and gives 0 for bytes with the high bit set), so one shuffle and one
    /// compare classify 32 bytes. The whitespace table holds ' ', '\t', '\n' and '\r' at their
    /// nibbles and, elsewhere, bytes whose own low nibble differs from their slot, which can
    /// never compare equal. The operator table holds ':' '{' ',' '}' at nibbles A..D; OR-ing
    /// 0x20 into the input turns '[' and ']' into '{' and '}'. It also matches 0x1A and 0x0C
    /// (0x1A | 0x20 = ':', 0x0C | 0x20 = ','), control bytes that the scan takes out again.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn classify(block: &[u8; 64]) -> Classes {
        // SAFETY: both 32-byte loads are within the 64-byte block; loadu has no alignment need.
        let (lo, hi) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast()),
                _mm256_loadu_si256(block.as_ptr().add(32).cast()),
            )
        };
        // SAFETY: 16-byte loads of the 16-byte tables.
        let (whitespace_table, op_table) = unsafe {
            (
                _mm256_broadcastsi128_si256(_mm_loadu_si128(WHITESPACE_TABLE.as_ptr().cast())),
                _mm256_broadcastsi128_si256(_mm_loadu_si128(OP_TABLE.as_ptr().cast())),
            )
        };
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        let curl = _mm256_set1_epi8(0x20);
        let control_max = _mm256_set1_epi8(0x1f);
        let bits = |lo_mask: __m256i, hi_mask: __m256i| -> u64 {
            (_mm256_movemask_epi8(lo_mask) as u32 as u64)
                | ((_mm256_movemask_epi8(hi_mask) as u32 as u64) << 32)
        };
        let eq = |x: __m256i, y: __m256i| _mm256_cmpeq_epi8(x, y);
        Classes {
            quote: bits(eq(lo, quote), eq(hi, quote)),
            backslash: bits(eq(lo, backslash), eq(hi, backslash)),
            op: bits(
                eq(_mm256_shuffle_epi8(op_table, lo), _mm256_or_si256(lo, curl)),
                eq(_mm256_shuffle_epi8(op_table, hi), _mm256_or_si256(hi, curl)),
            ),
            whitespace: bits(
                eq(_mm256_shuffle_epi8(whitespace_table, lo), lo),
                eq(_mm256_shuffle_epi8(whitespace_table, hi), hi),
            ),
            control: bits(
                eq(_mm256_max_epu8(lo, control_max), control_max),
                eq(_mm256_max_epu8(hi, control_max), control_max),
            ),
            non_ascii: bits(lo, hi),
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Classes, OP_TABLE, WHITESPACE_TABLE};

    /// The AVX2 kernel's nibble lookups (see there), on the whole block at once: each
    /// compare gives its 64-bit mask directly, with no movemask and no halves to join.
    /// `vpshufb` looks up within each 16-byte lane, so the tables are repeated per lane.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn classify(block: &[u8; 64]) -> Classes {
        // SAFETY: one 64-byte load of the 64-byte block; loadu has no alignment need.
        let x = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        // SAFETY: 16-byte loads of the 16-byte tables.
        let (whitespace_table, op_table) = unsafe {
            (
                _mm512_broadcast_i32x4(_mm_loadu_si128(WHITESPACE_TABLE.as_ptr().cast())),
                _mm512_broadcast_i32x4(_mm_loadu_si128(OP_TABLE.as_ptr().cast())),
            )
        };
        let byte = |b: u8| _mm512_set1_epi8(b as i8);
        Classes {
            quote: _mm512_cmpeq_epi8_mask(x, byte(b'"')),
            backslash: _mm512_cmpeq_epi8_mask(x, byte(b'\\')),
            op: _mm512_cmpeq_epi8_mask(
                _mm512_shuffle_epi8(op_table, x),
                _mm512_or_si512(x, byte(0x20)),
            ),
            whitespace: _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(whitespace_table, x), x),
            control: _mm512_cmple_epu8_mask(x, byte(0x1f)),
            non_ascii: _mm512_movepi8_mask(x),
        }
    }

    /// Byte positions 0..64, compressed by the token bits.
    static POSITIONS: [u8; 64] = {
        let mut p = [0u8; 64];
        let mut i = 0;
        while i < 64 {
            p[i] = i as u8;
            i += 1;
        }
        p
    };

    /// `super::push_offsets` without a loop over the bits: one byte compress packs the
    /// positions of the set bits, in order, into the low bytes of a register; each 16 of
    /// them are widened to `u32`, added to `base` and stored at once. A block has about
    /// eight tokens, so this is one compress and one store where AVX2 takes eight
    /// `tzcnt`/`blsr` pairs and their inserts.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
    pub(super) unsafe fn push_offsets(out: &mut Vec<u32>, base: u32, bits: u64) {
        let n = bits.count_ones() as usize;
        out.reserve(64);
        let start = out.len();
        // SAFETY: a 64-byte load of a 64-byte static.
        let positions = unsafe { _mm512_loadu_si512(POSITIONS.as_ptr().cast()) };
        let packed = _mm512_maskz_compress_epi8(bits, positions);
        let base = _mm512_set1_epi32(base as i32);
        let spare = out.spare_capacity_mut();
        let dst = spare.as_mut_ptr().cast::<__m512i>();
        let widen = |lanes: __m128i| _mm512_add_epi32(_mm512_cvtepu8_epi32(lanes), base);
        // SAFETY (each store): 16 u32 at slot 16 k < 64, within the 64 reserved slots.
        unsafe {
            _mm512_storeu_si512(dst, widen(_mm512_castsi512_si128(packed)));
            if n > 16 {
                _mm512_storeu_si512(dst.add(1), widen(_mm512_extracti32x4_epi32::<1>(packed)));
            }
            if n > 32 {
                _mm512_storeu_si512(dst.add(2), widen(_mm512_extracti32x4_epi32::<2>(packed)));
            }
            if n > 48 {
                _mm512_storeu_si512(dst.add(3), widen(_mm512_extracti32x4_epi32::<3>(packed)));
            }
        }
        // SAFETY: the n slots after `start` were written just above (n <= 64, within the
        // reserved capacity).
        unsafe { out.set_len(start + n) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Token offsets by a byte-at-a-time state machine, the definition the kernels must meet.
    /// As in simdjson, a backslash escapes the next byte wherever it is; outside strings
    /// that only matters to a quote (which then opens nothing), and such text is invalid
    /// anyway (the walk refuses a scalar holding a backslash).
    fn reference(text: &[u8]) -> Result<Vec<u32>, Refusal> {
        let mut out = Vec::new();
        let (mut in_string, mut escaped, mut in_scalar) = (false, false, false);
        for (i, &b) in text.iter().enumerate() {
            let is_escaped = escaped;
            escaped = b == b'\\' && !is_escaped;
            if in_string {
                if escaped {
                    match text.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            let hex = text.get(i + 2..i + 6).ok_or(Refusal::Escape)?;
                            let hex = std::str::from_utf8(hex).map_err(|_| Refusal::Escape)?;
                            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                                return Err(Refusal::Escape);
                            }
                            let unit = u16::from_str_radix(hex, 16).map_err(|_| Refusal::Escape)?;
                            if (0xd800..=0xdfff).contains(&unit) {
                                return Err(Refusal::Escape);
                            }
                        }
                        _ => return Err(Refusal::Escape),
                    }
                } else if b == b'"' && !is_escaped {
                    in_string = false;
                } else if b < 0x20 {
                    return Err(Refusal::ControlInString);
                }
                continue;
            }
            match b {
                b'"' if !is_escaped => {
                    out.push(i as u32);
                    in_string = true;
                    in_scalar = false;
                }
                b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                    out.push(i as u32);
                    in_scalar = false;
                }
                b' ' | b'\t' | b'\n' | b'\r' => in_scalar = false,
                _ => {
                    if !in_scalar {
                        out.push(i as u32);
                    }
                    in_scalar = true;
                }
            }
        }
        if in_string {
            return Err(Refusal::UnclosedString);
        }
        if std::str::from_utf8(text).is_err() {
            return Err(Refusal::InvalidUtf8);
        }
        Ok(out)
    }

    fn tokens_with(text: &[u8], kernel: Kernel) -> Result<Vec<u32>, Refusal> {
        let mut index = Index::default();
        index.build_with(kernel, text)?;
        Ok(index.tokens().to_vec())
    }

    /// With the kernel a run would choose.
    fn tokens(text: &[u8]) -> Result<Vec<u32>, Refusal> {
        tokens_with(text, Kernel::detected())
    }

    /// The kernels this CPU runs (the portable one always): a kernel the CPU lacks is
    /// tested on the machines that have it.
    fn kernels() -> impl Iterator<Item = Kernel> {
        Kernel::ALL.into_iter().filter(|k| k.available())
    }

    /// Errors are compared by kind only where both refuse; which refusal comes first may
    /// differ, since the kernels check a block at a time.
    fn same(text: &[u8]) {
        let want = reference(text);
        for kernel in kernels() {
            let got = tokens_with(text, kernel);
            match (&want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(
                    w,
                    g,
                    "{}: {:?}",
                    kernel.name(),
                    String::from_utf8_lossy(text)
                ),
                (Err(_), Err(_)) => {}
                _ => panic!(
                    "{}: {want:?} vs {got:?} on {:?}",
                    kernel.name(),
                    String::from_utf8_lossy(text)
                ),
            }
        }
    }

    #[test]
    fn the_chosen_kernel_is_the_fastest_the_cpu_runs() {
        let best = kernels().next();
        assert!(Kernel::Portable.available());
        if std::env::var_os("TRAILSIFT_INDEX_KERNEL").is_none() {
            assert_eq!(Some(Kernel::detected()), best);
        }
        assert!(Kernel::detected().available());
    }

    /// Blocks dense with tokens (up to one a byte) take the AVX-512 kernel's later stores,
    /// and every count of tokens per block around its 16-offset steps.
    #[test]
    fn blocks_of_every_token_density() {
        for commas in 0..=64 {
            let mut text = b"[".to_vec();
            text.extend(std::iter::repeat_n(b'1', 64 - commas));
            for _ in 0..commas {
                text.extend(b",1");
            }
            text.push(b']');
            same(&text);
        }
        let dense: Vec<u8> = b"[["
            .iter()
            .chain(&[b'['; 200])
            .chain(&[b']'; 202])
            .copied()
            .collect();
        same(&dense);
        assert_eq!(tokens(&dense).unwrap().len(), 404);
    }

    #[test]
    fn tokens_of_a_record() {
        let text = br#"{"a":[1,true,"x\"y"],"b":null}"#;
        assert_eq!(
            tokens(text).unwrap(),
            vec![0, 1, 4, 5, 6, 7, 8, 12, 13, 19, 20, 21, 24, 25, 29]
        );
        same(text);
    }

    #[test]
    fn strings_across_blocks_and_escaped_backslashes() {
        // A string that spans the 64-byte boundary, with "\\" right before its closing quote.
        let mut text = br#"{"k":""#.to_vec();
        text.extend(std::iter::repeat_n(b'x', 57));
        text.extend(br#"\\\\","z":{}}"#);
        same(&text);
        let t = tokens(&text).unwrap();
        assert_eq!(
            text[t[4] as usize], b',',
            "the string closed where it should"
        );
        assert_eq!(t.len(), 10);
    }

    #[test]
    fn refusals() {
        assert_eq!(tokens(br#"{"a":"b"#), Err(Refusal::UnclosedString));
        assert_eq!(tokens(b"{\"a\":\"\x01\"}"), Err(Refusal::ControlInString));
        assert_eq!(tokens(br#"{"a":"\x"}"#), Err(Refusal::Escape));
        assert_eq!(tokens(br#"{"a":"\ud83d\ude00"}"#), Err(Refusal::Escape));
        assert_eq!(tokens(br#"{"a":"\u00e9"}"#).map(|t| t.len()), Ok(5));
        assert_eq!(tokens(b"{\"a\":\"\xff\"}"), Err(Refusal::InvalidUtf8));
        // A form feed outside a string is a scalar byte (invalid), not the ',' AVX2 sees.
        same(b"[1\x0c2]");
        same(b"[1\x1a2]");
    }

    fn json_like() -> impl Strategy<Value = Vec<u8>> {
        let alphabet = prop::sample::select(
            b"{}[]:,\"\\ \t\n\r\x0c\x1a\x01abnu0123456789-.eE+tfl/\xc3\xa9\x80".to_vec(),
        );
        prop::collection::vec(alphabet, 0..300)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn kernels_match_the_reference(text in json_like()) {
            same(&text);
        }

        /// A text fed as it is inflated, in pieces, is indexed as when it is given whole.
        #[test]
        fn feeding_in_pieces_changes_nothing(
            text in json_like(),
            mut cuts in prop::collection::vec(0usize..320, 0..6),
        ) {
            cuts.sort_unstable();
            let whole = tokens(&text);
            for kernel in kernels() {
                let mut index = Index::default();
                index.reset();
                let mut pieces = Ok(());
                for &cut in &cuts {
                    pieces = pieces
                        .and_then(|()| index.feed_with(kernel, &text[..cut.min(text.len())], false));
                }
                let fed = pieces
                    .and_then(|()| index.feed_with(kernel, &text, true))
                    .and_then(|()| index.finish(&text).map(|_| ()))
                    .map(|()| index.tokens().to_vec());
                prop_assert_eq!(fed.is_ok(), whole.is_ok(), "{}", kernel.name());
                if let (Ok(fed), Ok(whole)) = (&fed, &whole) {
                    prop_assert_eq!(fed, whole, "{}", kernel.name());
                }
            }
        }
    }
}
