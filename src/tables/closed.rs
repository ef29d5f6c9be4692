//! Closed hours: the rows of an hour that the run has read past leave memory for a spill
//! file, and come back, in file order, as the outputs are written.
//!
//! The run reads delivery hours oldest first (pipeline). Once it has read delivery hour `D`,
//! an event of hour `h` can still arrive only if CloudTrail delivered it more than
//! `--delivery-allowance` after its hour ended; with the default hour, every hour up to
//! `D - 1h` is *closed*: its `kms_calls`, `kms_rates`, `sigv2_requests` and `tls_legacy`
//! rows are taken out of every
//! worker's tables, joined, sorted, and appended to the spill file as one block per table.
//! Memory then holds the open hours, not the span: on a month of an organization trail each
//! worker held every row of the month of both tables (BENCHMARKS.md).
//!
//! Closing never changes an answer. A record that arrives for a closed hour after all (a
//! late delivery) is folded in memory as any other, and its row is joined with the spilled
//! row of the same key when the rows are read back ([`joined`]): the allowance decides
//! only how much stays in memory, never what is counted. Blocks hold disjoint hours, in
//! increasing order, each sorted as the file is, so the spilled rows read back as one
//! sorted sequence, and joining them with the rows still in memory is a two-way merge.
//!
//! kms_data_key_caching's groups of one call leave too, once their cache window has ended
//! (most of that table's keys are seen once in a month: 600,000 of them on an organization
//! trail, for 210 rows). They have no row of their own; at the end the spilled ones whose
//! key still has calls in memory, or whose windows met another spilled single's, are
//! counted again ([`ClosedHours::rejoin_singles`]), and the rest, calls in windows of their
//! own, would have saved nothing.
//!
//! The spilled keys' symbols point into the spill's own interner while the run goes on (each
//! worker has its own); at the end those strings are absorbed into the run's interner
//! ([`ClosedHours::finish`]) and every row read back is re-mapped to it.
//!
//! The spill file is an anonymous temporary file (`tempfile`, in `TMPDIR`): the system frees
//! it when the run ends, however it ends. Should a write to it fail (a full disk), that
//! block and every later one stay in memory, encoded: nothing taken out of the tables is
//! lost, and the run goes on as it would have without a spill.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::intern::{Interner, Sym};
use super::kms_data_key_caching::{CachingKey, DataKeyCaching, OneCall};
use super::sessions::Sessions;
use super::{TableKey, Tables, Tally};

/// A key that names the hour its rows belong to.
pub trait HourKey: TableKey + Serialize + DeserializeOwned {
    fn hour(&self) -> i64;
}

/// What a spilled row holds besides its key.
pub trait SpilledValue: Serialize + DeserializeOwned {
    /// The same value in the interner whose symbols `table` maps to.
    fn remapped(self, table: &[Sym]) -> Self;
    /// Joins the value of the same key from another worker, in the same interner.
    fn join(&mut self, other: &Self);
}

/// A tally and its sessions (kms_calls).
impl SpilledValue for (Tally, Option<Sessions>) {
    fn remapped(self, table: &[Sym]) -> Self {
        (self.0, self.1.map(|s| s.remapped(table)))
    }
    fn join(&mut self, other: &Self) {
        self.0.merge(other.0);
        if let Some(more) = &other.1 {
            self.1.get_or_insert_with(Sessions::default).union(more);
        }
    }
}

/// Where one block of a spilled table lies.
#[derive(Debug)]
enum Block {
    /// In the spill file.
    File { offset: u64, len: usize },
    /// Still in memory, encoded: the spill file could not be written.
    Memory(Vec<u8>),
}

/// The spilled rows of one table, block by block in file order.
#[derive(Debug, Default)]
pub struct SpilledTable {
    blocks: Vec<Block>,
    /// Rows written (each key once).
    pub rows: u64,
}

/// The closed hours of a run: the spill file, and where each table's rows lie in it.
#[derive(Debug)]
pub struct ClosedHours {
    file: File,
    /// Bytes written so far.
    end: u64,
    /// Why the file was last written to, when a write failed: later blocks stay in memory.
    write_failed: Option<String>,
    /// Hours before this one are closed.
    below: Option<i64>,
    /// The spilled symbols' strings, while the run goes on.
    strings: Interner,
    /// Per source (a worker's tables, at the same index every time): its symbols' in
    /// `strings`.
    memos: Vec<Vec<Sym>>,
    /// After [`ClosedHours::finish`]: the spilled symbols' in the run's interner.
    remap: Vec<Sym>,
    pub kms_calls: SpilledTable,
    pub kms_rates: SpilledTable,
    pub sigv2_requests: SpilledTable,
    pub tls_legacy: SpilledTable,
    /// kms_data_key_caching's groups of one call whose cache window has ended, in no order.
    pub caching_singles: SpilledTable,
    /// The (key, cache window) of every spilled single, hashed, in the spill's symbols: a
    /// second single of a key in a window already spilled (a late call, or a call another
    /// worker read) puts its key in `rejoin`.
    single_windows: FxHashSet<u64>,
    /// Keys whose spilled singles share a window: joined back whatever memory holds.
    rejoin: FxHashSet<CachingKey>,
    /// Why the spilled singles could not be joined back ([`ClosedHours::rejoin_singles`]).
    pub singles_error: Option<String>,
}

impl ClosedHours {
    /// An empty spill, in a new temporary file.
    pub fn new() -> io::Result<ClosedHours> {
        Ok(ClosedHours::in_file(tempfile::tempfile()?))
    }

    /// An empty spill in `file`, opened for reading and writing.
    fn in_file(file: File) -> ClosedHours {
        ClosedHours {
            file,
            end: 0,
            write_failed: None,
            below: None,
            strings: Interner::default(),
            memos: Vec::new(),
            remap: Vec::new(),
            kms_calls: SpilledTable::default(),
            kms_rates: SpilledTable::default(),
            sigv2_requests: SpilledTable::default(),
            tls_legacy: SpilledTable::default(),
            caching_singles: SpilledTable::default(),
            single_windows: FxHashSet::default(),
            rejoin: FxHashSet::default(),
            singles_error: None,
        }
    }

    /// Closes every hour before `bound`: takes the rows of the hours not closed yet out of
    /// `sources` (each worker's tables, always in the same order), and spills them. Rows of
    /// hours closed before stay where they are (late arrivals, joined when read back).
    /// Returns why the spill file could not be written, the first time it could not: the
    /// rows are then kept in memory, encoded.
    pub fn close(&mut self, bound: i64, sources: &mut [&mut Tables]) -> Option<String> {
        let from = self.below.unwrap_or(i64::MIN);
        if bound <= from {
            return None;
        }
        let failed_before = self.write_failed.is_some();
        self.memos.resize_with(sources.len(), Vec::new);
        for (tables, memo) in sources.iter_mut().zip(&mut self.memos) {
            self.strings.absorb_new(&tables.strings, memo);
        }
        let calls = self.spill(sources, |t| t.kms_calls.calls.take_hours(from, bound));
        add(&mut self.kms_calls, calls);
        let rates = self.spill(sources, |t| t.kms_rates.take_hours(from, bound));
        add(&mut self.kms_rates, rates);
        let sigv2 = self.spill(sources, |t| t.sigv2.requests.take_hours(from, bound));
        add(&mut self.sigv2_requests, sigv2);
        let tls = self.spill(sources, |t| t.tls.requests.take_hours(from, bound));
        add(&mut self.tls_legacy, tls);
        let singles = self.spill_singles(sources, bound);
        add(&mut self.caching_singles, singles);
        self.below = Some(bound);
        match (&self.write_failed, failed_before) {
            (Some(why), false) => Some(why.clone()),
            _ => None,
        }
    }

    /// Takes the rows `take` picks out of each of `sources`, joins them and appends them
    /// as one block, with the count of its rows; `None` when there are none.
    fn spill<K: HourKey, V: SpilledValue>(
        &mut self,
        sources: &mut [&mut Tables],
        take: impl Fn(&mut Tables) -> Vec<(K, V)>,
    ) -> Option<(Block, u64)> {
        let mut joined: FxHashMap<K, V> = FxHashMap::default();
        for (tables, memo) in sources.iter_mut().zip(&self.memos) {
            for (key, value) in take(tables) {
                let value = value.remapped(memo);
                match joined.entry(key.remap(memo)) {
                    std::collections::hash_map::Entry::Occupied(mut row) => {
                        row.get_mut().join(&value)
                    }
                    std::collections::hash_map::Entry::Vacant(row) => {
                        row.insert(value);
                    }
                }
            }
        }
        if joined.is_empty() {
            return None;
        }
        let mut rows: Vec<(K, V)> = joined.into_iter().collect();
        let strings = &self.strings;
        rows.sort_unstable_by(|a, b| a.0.resolve(strings).cmp(&b.0.resolve(strings)));
        let count = rows.len() as u64;
        // Encoding into memory fails only for a sequence of unknown length, which neither
        // the derived impls nor the std collections these rows hold ever are.
        let bytes = postcard::to_stdvec(&rows).expect("spilled rows encode");
        Some((self.append(bytes), count))
    }

    /// Takes kms_data_key_caching's singles whose cache window ended by `bound` out of each
    /// of `sources` and appends them as one block. Unlike an hour's rows they are not joined
    /// or sorted: a single has no row of its own (a row needs two calls in one window), it
    /// only adds to its key's group at the end, if there is one ([`ClosedHours::rejoin_singles`]).
    fn spill_singles(&mut self, sources: &mut [&mut Tables], bound: i64) -> Option<(Block, u64)> {
        let mut rows: Vec<(CachingKey, OneCall)> = Vec::new();
        for (tables, memo) in sources.iter_mut().zip(&self.memos) {
            for (key, one) in tables.caching.take_closed_singles(bound) {
                let (key, one) = (key.remap(memo), one.remap(memo));
                let window = tables.caching.window_of(one.at);
                let mut h = FxHasher::default();
                (key, window).hash(&mut h);
                if !self.single_windows.insert(h.finish()) {
                    self.rejoin.insert(key);
                }
                rows.push((key, one));
            }
        }
        if rows.is_empty() {
            return None;
        }
        let count = rows.len() as u64;
        let bytes = postcard::to_stdvec(&rows).expect("spilled rows encode");
        Some((self.append(bytes), count))
    }

    /// Joins the spilled singles back into `caching` (the run's, after
    /// [`ClosedHours::finish`]): those of a key that still has calls in memory, or whose
    /// spilled singles share a window. The others would have stayed groups of calls in
    /// distinct windows, which save nothing and have no row, so leaving them out changes no
    /// answer and keeps memory as it is. A block that cannot be read sets `singles_error`,
    /// and the outputs are not published (lib.rs).
    pub fn rejoin_singles(&mut self, caching: &mut DataKeyCaching) {
        self.single_windows = FxHashSet::default();
        let rejoin: FxHashSet<CachingKey> = std::mem::take(&mut self.rejoin)
            .into_iter()
            .map(|k| k.remap(&self.remap))
            .collect();
        for block in &self.caching_singles.blocks {
            let rows: Vec<(CachingKey, OneCall)> = match self.read(block) {
                Ok(rows) => rows,
                Err(e) => {
                    self.singles_error = Some(format!("the closed hours' spill file: {e}"));
                    return;
                }
            };
            for (key, one) in rows {
                let key = key.remap(&self.remap);
                if rejoin.contains(&key) || caching.holds(&key) {
                    caching.rejoin(key, one.remap(&self.remap));
                }
            }
        }
    }

    /// Writes `bytes` at the end of the spill file, or keeps them in memory once a write has
    /// failed.
    fn append(&mut self, bytes: Vec<u8>) -> Block {
        if self.write_failed.is_none() {
            match self.file.write_all(&bytes) {
                Ok(()) => {
                    let block = Block::File {
                        offset: self.end,
                        len: bytes.len(),
                    };
                    self.end += bytes.len() as u64;
                    return block;
                }
                Err(e) => self.write_failed = Some(e.to_string()),
            }
        }
        Block::Memory(bytes)
    }

    /// The run is over: the spilled strings join `strings` (the run's interner), to which
    /// every row read back is re-mapped.
    pub fn finish(&mut self, strings: &mut Interner) {
        self.remap = strings.absorb(&self.strings);
        self.strings = Interner::default();
        self.memos = Vec::new();
    }

    /// The spilled rows of `table`, in file order, in the run's symbols (after
    /// [`ClosedHours::finish`]).
    pub fn rows<'a, K: HourKey + 'a, V: SpilledValue + 'a>(
        &'a self,
        table: &'a SpilledTable,
    ) -> impl Iterator<Item = io::Result<(K, V)>> + 'a {
        table.blocks.iter().flat_map(move |block| {
            let rows: Vec<io::Result<(K, V)>> = match self.read(block) {
                Ok(rows) => rows
                    .into_iter()
                    .map(|(k, v): (K, V)| Ok((k.remap(&self.remap), v.remapped(&self.remap))))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            rows
        })
    }

    fn read<K: DeserializeOwned, V: DeserializeOwned>(
        &self,
        block: &Block,
    ) -> io::Result<Vec<(K, V)>> {
        let decode = |bytes: &[u8]| {
            postcard::from_bytes(bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a block of closed hours does not decode: {e}"),
                )
            })
        };
        match block {
            Block::Memory(bytes) => decode(bytes),
            &Block::File { offset, len } => {
                let mut bytes = vec![0; len];
                read_exact_at(&self.file, &mut bytes, offset)?;
                decode(&bytes)
            }
        }
    }
}

fn add(table: &mut SpilledTable, spilled: Option<(Block, u64)>) {
    if let Some((block, rows)) = spilled {
        table.blocks.push(block);
        table.rows += rows;
    }
}

/// A row of a table read back: from memory, from the spill, or from both (a late record's
/// row, joined with its hour's spilled row).
pub enum Joined<'a, K, M, V> {
    Memory(&'a K, M),
    Spilled(K, V),
    Both(&'a K, M, V),
}

/// The rows in memory (`memory`, in file order) merged with the spilled rows of `spilled`,
/// in file order; `ranks` are the run's strings' (Interner::ranks). A spilled block that
/// cannot be read back ends the spilled rows and sets `error`.
pub fn joined<'a, K: HourKey + 'a, M, V: SpilledValue + 'a>(
    memory: impl Iterator<Item = (&'a K, M)> + 'a,
    spilled: Option<(&'a ClosedHours, &'a SpilledTable)>,
    ranks: &'a [u32],
    error: &'a OnceLock<String>,
) -> impl Iterator<Item = Joined<'a, K, M, V>> + 'a {
    let mut spilled = spilled
        .into_iter()
        .flat_map(|(closed, table)| closed.rows::<K, V>(table))
        .map_while(move |row| match row {
            Ok(row) => Some(row),
            Err(e) => {
                let _ = error.set(format!("the closed hours' spill file: {e}"));
                None
            }
        })
        .peekable();
    let mut memory = memory.peekable();
    std::iter::from_fn(move || {
        let order = match (memory.peek(), spilled.peek()) {
            (None, None) => return None,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((m, _)), Some((s, _))) => m.cmp_ranked(s, ranks),
        };
        Some(match order {
            std::cmp::Ordering::Less => {
                let (k, m) = memory.next()?;
                Joined::Memory(k, m)
            }
            std::cmp::Ordering::Greater => {
                let (k, v) = spilled.next()?;
                Joined::Spilled(k, v)
            }
            std::cmp::Ordering::Equal => {
                let (k, m) = memory.next()?;
                let (_, v) = spilled.next()?;
                Joined::Both(k, m, v)
            }
        })
    })
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::kms::{CallerKind, QuotaClass};
    use crate::tables::kms_calls::Key;
    use crate::tables::kms_rates;
    use crate::tables::{Rows, TallyRows, intern::NULL};

    /// A call of `principal` at second `t`, in `session`, folded into `tables`.
    fn call(tables: &mut Tables, principal: &str, t: i64, session: Option<&str>) {
        let s = &mut tables.strings;
        let key = Key {
            hour: t - t % 3600,
            account_id: s.intern("111122223333"),
            region: s.intern("us-east-1"),
            principal: s.intern(principal),
            principal_type: NULL,
            event_name: s.intern("Decrypt"),
            key_arn: NULL,
            via_service: NULL,
            s3_bucket: NULL,
            bucket_key: None,
            error_code: NULL,
            caller_kind: CallerKind::Direct,
            key_account_id: NULL,
        };
        tables.kms_calls.calls.add(key, t, session, s);
        // The same caller signing an S3 request with SigV2 over TLS 1.0.
        let sigv2 = crate::tables::sigv2_requests::Key {
            hour: key.hour,
            account_id: key.account_id,
            region: key.region,
            principal: key.principal,
            principal_type: NULL,
            user_agent: NULL,
            ua_family: NULL,
            ua_version: NULL,
            event_name: s.intern("GetObject"),
            bucket: NULL,
            source_ip: NULL,
            auth_method: NULL,
            evidence: crate::attribute::sigv2::Evidence::Observed,
            ua_kind: NULL,
            sigv4_min_version: NULL,
            upgrade_advice: NULL,
            access_key_id: NULL,
        };
        tables.sigv2.requests.add(sigv2, t, session, s);
        let tls = crate::tables::tls_legacy::Key {
            hour: key.hour,
            account_id: key.account_id,
            region: key.region,
            event_source: s.intern("s3.amazonaws.com"),
            principal: key.principal,
            principal_type: NULL,
            user_agent: NULL,
            ua_family: NULL,
            ua_version: NULL,
            tls_version: s.intern("TLSv1"),
            cipher_suite: NULL,
            source_ip: NULL,
            ua_kind: NULL,
            upgrade_advice: NULL,
            access_key_id: NULL,
        };
        tables.tls.requests.add(tls, t, session, s);
        for principal in [NULL, key.principal] {
            let rate = kms_rates::Key {
                hour: key.hour,
                account_id: key.account_id,
                region: key.region,
                quota_class: QuotaClass::Symmetric,
                custom_key_store_id: NULL,
                principal,
            };
            let counts = tables.kms_rates.seconds.entry(rate).or_default();
            counts.record((t - key.hour) as u16, t % 2 == 0);
            if let (Some(name), true) = (session, principal != NULL) {
                counts.sessions.add(name, s);
            }
        }
    }

    type SeenRates = Vec<(
        Option<String>,
        i64,
        Vec<(u16, u32)>,
        u64,
        u64,
        Option<String>,
    )>;

    fn seen_rates(rows: &Rows<'_>) -> SeenRates {
        rows.kms_rates
            .iter()
            .map(|r| {
                (
                    r.principal.map(str::to_owned),
                    r.hour,
                    r.counts.per_second.iter().collect(),
                    r.counts.throttled,
                    r.counts.sessions.count(),
                    r.example_session.map(str::to_owned),
                )
            })
            .collect()
    }

    type Seen = Vec<(String, i64, u64, i64, i64, i64, Option<String>)>;

    /// Each row's principal, hour, tally and sessions; `key` reads a row's principal and hour.
    fn seen_of<'a, K: HourKey>(
        rows: &TallyRows<'a, K>,
        key: impl Fn(&K::Resolved<'a>) -> (Option<&'a str>, i64),
    ) -> Seen {
        let seen = rows
            .iter()
            .map(|r| {
                let (principal, hour) = key(&r.key);
                (
                    principal.unwrap_or_default().to_owned(),
                    hour,
                    r.tally.count,
                    r.tally.first_seen,
                    r.tally.last_seen,
                    r.session_count(),
                    r.example_session.map(str::to_owned),
                )
            })
            .collect();
        assert!(rows.error().is_none(), "every spilled block read back");
        seen
    }

    fn seen(rows: &Rows<'_>) -> Seen {
        seen_of(&rows.kms_calls, |k| (k.principal, k.hour))
    }

    /// The rows of sigv2_requests and of tls_legacy, as [`seen`] has kms_calls'.
    fn seen_s3(rows: &Rows<'_>) -> (Seen, Seen) {
        (
            seen_of(&rows.sigv2, |k| (k.principal, k.hour)),
            seen_of(&rows.tls, |k| (k.principal, k.hour)),
        )
    }

    #[test]
    fn closed_hours_read_back_as_if_never_closed_late_records_included() {
        // Two workers, whose interners saw the strings in different orders.
        let early = |a: &mut Tables, b: &mut Tables| {
            call(a, "role/bi", 10, Some("i-1"));
            call(a, "role/app", 20, None);
            call(b, "role/zeta", 30, Some("i-9"));
            call(b, "role/bi", 40, Some("i-2"));
            call(b, "role/bi", 3700, Some("i-3"));
        };
        // Delivered after hour 0 closed: joins the spilled row of role/bi, hour 0.
        let late = |a: &mut Tables| {
            call(a, "role/bi", 5, Some("i-0"));
            call(a, "role/late", 50, None);
        };
        let mut whole = Tables::new(300);
        let (mut a, mut b) = (Tables::new(300), Tables::new(300));
        early(&mut whole, &mut Tables::new(300));
        let mut other = Tables::new(300);
        early(&mut Tables::new(300), &mut other);
        late(&mut whole);
        whole.merge(other);

        let mut closed = ClosedHours::new().expect("a temporary file");
        early(&mut a, &mut b);
        assert_eq!(closed.close(3600, &mut [&mut a, &mut b]), None, "spilled");
        assert_eq!(
            closed.kms_calls.rows, 3,
            "hour 0's rows, joined across workers"
        );
        assert_eq!(a.kms_calls.calls.tallies.len(), 0);
        assert_eq!(b.kms_calls.calls.tallies.len(), 1, "hour 1 stays open");
        assert_eq!(
            closed.kms_rates.rows, 4,
            "hour 0's account scope and its three principals"
        );
        assert_eq!(a.kms_rates.seconds.len(), 0);
        assert_eq!(b.kms_rates.seconds.len(), 2, "hour 1's scope and role/bi");
        // A bound already closed closes nothing again.
        assert_eq!(closed.close(3600, &mut [&mut a, &mut b]), None);
        assert_eq!(closed.kms_calls.rows, 3);
        late(&mut a);
        a.merge(b);
        closed.finish(&mut a.strings);

        let expected = seen(&Rows::of(&whole));
        let rows = Rows::with_closed(&a, Some(&closed));
        assert_eq!(seen(&rows), expected);
        let expected_s3 = seen_s3(&Rows::of(&whole));
        assert_eq!(seen_s3(&rows), expected_s3);
        assert_eq!(
            (closed.sigv2_requests.rows, closed.tls_legacy.rows),
            (3, 3),
            "hour 0's rows of each, joined across workers"
        );
        assert_eq!(
            expected_s3.0, expected,
            "the same callers, hours and counts"
        );
        assert_eq!(expected_s3.1, expected);
        let expected_rates = seen_rates(&Rows::of(&whole));
        assert_eq!(seen_rates(&rows), expected_rates);
        assert_eq!(
            rows.kms_rates.len(),
            7,
            "hour 0: scope + 4 principals; hour 1: 2"
        );
        assert!(rows.kms_rates.error().is_none());
        // The late call at second 5 joined hour 0's spilled account scope; the calls at
        // even seconds are the throttled ones.
        assert_eq!(
            expected_rates[0],
            (
                None,
                0,
                vec![(5, 1), (10, 1), (20, 1), (30, 1), (40, 1), (50, 1)],
                5,
                0,
                None
            )
        );
        assert_eq!(rows.kms_calls.len(), 5);
        assert!(rows.kms_calls.error().is_none());
        let bi = &expected[1];
        assert_eq!(
            (bi.0.as_str(), bi.2, bi.3, bi.5, bi.6.as_deref()),
            (
                "role/bi",
                3,
                5,
                3,
                Some(expected_example(&["i-0", "i-1", "i-2"]))
            ),
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_spill_file_that_cannot_be_written_loses_nothing() {
        // /dev/full refuses every write with "no space left on device".
        let full = File::options()
            .read(true)
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut closed = ClosedHours::in_file(full);
        let (mut a, mut whole) = (Tables::new(300), Tables::new(300));
        for t in [&mut a, &mut whole] {
            call(t, "role/bi", 10, Some("i-1"));
            call(t, "role/bi", 3700, Some("i-2"));
            call(t, "role/bi", 7300, None);
        }
        let why = closed.close(3600, &mut [&mut a]).expect("the write failed");
        assert!(why.contains("space"), "{why}");
        assert_eq!(closed.close(7200, &mut [&mut a]), None, "said once");
        assert_eq!((closed.kms_calls.rows, closed.kms_rates.rows), (2, 4));
        closed.finish(&mut a.strings);
        let rows = Rows::with_closed(&a, Some(&closed));
        let expected = Rows::of(&whole);
        assert_eq!(seen(&rows), seen(&expected));
        assert_eq!(seen_rates(&rows), seen_rates(&expected));
        assert_eq!(seen_s3(&rows), seen_s3(&expected));
        assert_eq!(rows.kms_calls.len(), 3);
    }

    /// A direct GenerateDataKey call of `principal` at second `t`, as the table counts one.
    fn data_key(tables: &mut Tables, principal: &str, t: i64, session: Option<&str>) {
        let s = &mut tables.strings;
        let key = CachingKey {
            account_id: s.intern("111122223333"),
            region: s.intern("us-east-1"),
            principal: s.intern(principal),
            key_arn: s.intern("arn:aws:kms:us-east-1:111122223333:key/k"),
            context: 7,
            operation: crate::attribute::kms::CacheOperation::GenerateDataKey,
        };
        let call = OneCall {
            at: t,
            session: session.map(|name| Sessions::one(name, s)),
        };
        tables.caching.rejoin(key, call);
    }

    type SeenCaching = Vec<(String, u64, i64, i64, u64, u64, Option<String>)>;

    fn seen_caching(t: &Tables) -> SeenCaching {
        let mut seen: SeenCaching =
            crate::tables::kms_data_key_caching::rows(&t.caching, &t.strings)
                .iter()
                .map(|r| {
                    (
                        r.principal.unwrap_or_default().to_owned(),
                        r.group.calls,
                        r.group.first_seen,
                        r.group.last_seen,
                        r.group.windows(),
                        r.group.sessions.count(),
                        r.example_session.map(str::to_owned),
                    )
                })
                .collect();
        seen.sort();
        seen
    }

    #[test]
    fn data_key_singles_leave_memory_and_still_count_in_their_groups() {
        // Cache windows of 300 s. Hour 0 closes at 3600, hour 1 at 7200.
        let early = |a: &mut Tables, b: &mut Tables| {
            // Late: a second call in its window arrives after the window is spilled.
            data_key(a, "role/late", 10, Some("i-1"));
            // Two workers, one window: both singles spilled in the same block.
            data_key(a, "role/split", 10, None);
            data_key(b, "role/split", 30, Some("i-2"));
            // A spilled single whose key makes a group later, in another window.
            data_key(b, "role/grows", 100, None);
            // Calls in distinct windows only: no row, spilled or not.
            data_key(a, "role/apart", 10, None);
        };
        let after_hour_0 = |a: &mut Tables| {
            data_key(a, "role/late", 50, Some("i-0"));
            data_key(a, "role/apart", 4000, None);
        };
        let open = |a: &mut Tables| {
            data_key(a, "role/grows", 7300, None);
            data_key(a, "role/grows", 7310, Some("i-3"));
            data_key(a, "role/fresh", 7400, None);
        };
        let mut whole = Tables::new(300);
        let mut other = Tables::new(300);
        early(&mut whole, &mut other);
        after_hour_0(&mut whole);
        open(&mut whole);
        whole.merge(other);

        let mut closed = ClosedHours::new().expect("a temporary file");
        let (mut a, mut b) = (Tables::new(300), Tables::new(300));
        early(&mut a, &mut b);
        assert_eq!(closed.close(3600, &mut [&mut a, &mut b]), None);
        assert_eq!(closed.caching_singles.rows, 5, "every single of hour 0");
        assert!(a.caching.singles.is_empty() && b.caching.singles.is_empty());
        after_hour_0(&mut a);
        assert_eq!(closed.close(7200, &mut [&mut a, &mut b]), None);
        assert_eq!(closed.caching_singles.rows, 7, "and the two of hour 1");
        open(&mut a);
        a.merge(b);
        closed.finish(&mut a.strings);
        closed.rejoin_singles(&mut a.caching);
        assert!(closed.singles_error.is_none());

        let expected = seen_caching(&whole);
        assert_eq!(seen_caching(&a), expected);
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            expected,
            vec![
                ("role/grows".into(), 3, 100, 7310, 2, 1, some("i-3")),
                (
                    "role/late".into(),
                    2,
                    10,
                    50,
                    1,
                    2,
                    some(expected_example(&["i-0", "i-1"]))
                ),
                ("role/split".into(), 2, 10, 30, 1, 1, some("i-2")),
            ],
            "role/apart saves nothing, role/fresh is one call"
        );
        let held = |t: &Tables| {
            let principals = t.caching.groups.keys().chain(t.caching.singles.keys());
            principals
                .filter_map(|k| t.strings.resolve(k.principal))
                .map(str::to_owned)
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(
            held(&a),
            ["role/fresh", "role/grows", "role/late", "role/split"]
                .map(String::from)
                .into(),
            "the spilled calls of role/apart stayed out of memory"
        );
    }

    /// The example session of a row with `names`: the smallest hash (sessions).
    fn expected_example<'a>(names: &[&'a str]) -> &'a str {
        let mut strings = Interner::default();
        let mut s = Sessions::default();
        for n in names {
            s.add(n, &mut strings);
        }
        let example = s.example(&strings).expect("an example").to_owned();
        names
            .iter()
            .copied()
            .find(|n| *n == example)
            .expect("one of them")
    }
}
