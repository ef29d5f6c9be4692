//! Closed hours: the rows of an hour that the run has read past leave memory for a spill
//! file, and come back, in file order, as the outputs are written.
//!
//! The run reads delivery hours oldest first (pipeline). Once it has read delivery hour `D`,
//! an event of hour `h` can still arrive only if CloudTrail delivered it more than
//! `--delivery-allowance` after its hour ended; with the default hour, every hour up to
//! `D - 1h` is *closed*: its `kms_calls` rows are taken out of every worker's tables, joined,
//! sorted, and appended to the spill file as one block. Memory then holds the open hours,
//! not the span: on a month of an organization trail each worker held every `kms_calls` row
//! of the month (BENCHMARKS.md).
//!
//! Closing never changes an answer. A record that arrives for a closed hour after all (a
//! late delivery) is folded in memory as any other, and its row is joined with the spilled
//! row of the same key when the rows are read back ([`super::TallyRows`]): the allowance
//! decides only how much stays in memory, never what is counted. Blocks hold disjoint
//! hours, in increasing order, each sorted as the file is, so the spilled rows read back as
//! one sorted sequence, and joining them with the rows still in memory is a two-way merge.
//!
//! The spilled keys' symbols point into the spill's own interner while the run goes on (each
//! worker has its own); at the end those strings are absorbed into the run's interner
//! ([`ClosedHours::finish`]) and every row read back is re-mapped to it.
//!
//! The spill file is an anonymous temporary file (`tempfile`, in `TMPDIR`): the system frees
//! it when the run ends, however it ends. A month of an organization trail spills about
//! 60 MB.

use std::fs::File;
use std::io::{self, Write};

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::intern::{Interner, Sym};
use super::sessions::Sessions;
use super::{TableKey, Tables, Tallies, Tally};

/// A key that names the hour its rows belong to.
pub trait HourKey: TableKey + Serialize + DeserializeOwned {
    fn hour(&self) -> i64;
}

/// A row as it is spilled: key, tally and sessions.
pub type SpilledRow<K> = (K, Tally, Option<Sessions>);

/// One block of a spilled table: where it lies in the file.
#[derive(Debug, Clone, Copy)]
struct Block {
    offset: u64,
    len: usize,
}

/// The spilled rows of one table, block by block in file order.
#[derive(Debug, Default)]
pub struct SpilledTable {
    blocks: Vec<Block>,
    /// Rows written (each key once).
    pub rows: u64,
}

impl SpilledTable {
    fn add(&mut self, spilled: Option<(Block, u64)>) {
        if let Some((block, rows)) = spilled {
            self.blocks.push(block);
            self.rows += rows;
        }
    }
}

/// The closed hours of a run: the spill file, and where each table's rows lie in it.
#[derive(Debug)]
pub struct ClosedHours {
    file: File,
    /// Bytes written so far.
    end: u64,
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
}

impl ClosedHours {
    /// An empty spill, in a new temporary file.
    pub fn new() -> io::Result<ClosedHours> {
        Ok(ClosedHours {
            file: tempfile::tempfile()?,
            end: 0,
            below: None,
            strings: Interner::default(),
            memos: Vec::new(),
            remap: Vec::new(),
            kms_calls: SpilledTable::default(),
        })
    }

    /// Closes every hour before `bound`: takes the rows of the hours not closed yet out of
    /// `sources` (each worker's tables, always in the same order), and spills them. Rows of
    /// hours closed before stay where they are (late arrivals, joined when read back).
    pub fn close(&mut self, bound: i64, sources: &mut [&mut Tables]) -> io::Result<()> {
        let from = self.below.unwrap_or(i64::MIN);
        if bound <= from {
            return Ok(());
        }
        self.memos.resize_with(sources.len(), Vec::new);
        for (tables, memo) in sources.iter_mut().zip(&mut self.memos) {
            self.strings.absorb_new(&tables.strings, memo);
        }
        let spilled = self.spill(from, bound, sources, |t| &mut t.kms_calls.calls)?;
        self.kms_calls.add(spilled);
        self.below = Some(bound);
        Ok(())
    }

    /// Takes the rows of hours `from..bound` of one table (`table` picks it) out of
    /// `sources`, joins them and appends them as one block.
    fn spill<K: HourKey>(
        &mut self,
        from: i64,
        bound: i64,
        sources: &mut [&mut Tables],
        table: impl Fn(&mut Tables) -> &mut Tallies<K>,
    ) -> io::Result<Option<(Block, u64)>> {
        let mut joined: FxHashMap<K, (Tally, Option<Sessions>)> = FxHashMap::default();
        for (tables, memo) in sources.iter_mut().zip(&self.memos) {
            take_hours(table(tables), from, bound, memo, &mut joined);
        }
        let mut rows: Vec<SpilledRow<K>> =
            joined.into_iter().map(|(k, (t, s))| (k, t, s)).collect();
        let strings = &self.strings;
        rows.sort_unstable_by(|a, b| a.0.resolve(strings).cmp(&b.0.resolve(strings)));
        Ok(self.append(&rows)?.map(|block| (block, rows.len() as u64)))
    }

    /// Appends `rows` as one block; `None` when there are none.
    fn append<K: Serialize>(&mut self, rows: &[SpilledRow<K>]) -> io::Result<Option<Block>> {
        if rows.is_empty() {
            return Ok(None);
        }
        let bytes = postcard::to_stdvec(rows).map_err(io::Error::other)?;
        self.file.write_all(&bytes)?;
        let block = Block {
            offset: self.end,
            len: bytes.len(),
        };
        self.end += bytes.len() as u64;
        Ok(Some(block))
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
    pub fn rows<'a, K: HourKey + 'a>(
        &'a self,
        table: &'a SpilledTable,
    ) -> impl Iterator<Item = io::Result<SpilledRow<K>>> + 'a {
        table.blocks.iter().flat_map(move |block| {
            let rows: Vec<io::Result<SpilledRow<K>>> = match self.read(*block) {
                Ok(rows) => rows
                    .into_iter()
                    .map(|(k, t, s): SpilledRow<K>| {
                        Ok((k.remap(&self.remap), t, s.map(|s| s.remapped(&self.remap))))
                    })
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            rows
        })
    }

    fn read<K: DeserializeOwned>(&self, block: Block) -> io::Result<Vec<SpilledRow<K>>> {
        let mut bytes = vec![0; block.len];
        read_exact_at(&self.file, &mut bytes, block.offset)?;
        postcard::from_bytes(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a block of closed hours does not decode: {e}"),
            )
        })
    }
}

/// Moves the rows of hours in `from..bound` out of `tallies` into `into`, their symbols
/// re-mapped by `memo`.
fn take_hours<K: HourKey>(
    tallies: &mut Tallies<K>,
    from: i64,
    bound: i64,
    memo: &[Sym],
    into: &mut FxHashMap<K, (Tally, Option<Sessions>)>,
) {
    let closing = |k: &K| (from..bound).contains(&k.hour());
    let taken: Vec<(K, Tally)> = tallies.tallies.extract_if(|k, _| closing(k)).collect();
    if taken.is_empty() {
        return;
    }
    for (key, tally) in taken {
        let sessions = tallies.sessions.remove(&key).map(|s| s.remapped(memo));
        match into.entry(key.remap(memo)) {
            std::collections::hash_map::Entry::Occupied(mut row) => {
                let (t, s) = row.get_mut();
                t.merge(tally);
                if let Some(more) = sessions {
                    s.get_or_insert_with(Sessions::default).union(&more);
                }
            }
            std::collections::hash_map::Entry::Vacant(row) => {
                row.insert((tally, sessions));
            }
        }
    }
    // The maps shrink with what left them: a month's worth of capacity would stay otherwise.
    tallies.tallies.shrink_to_fit();
    tallies.sessions.shrink_to_fit();
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
    use crate::attribute::kms::CallerKind;
    use crate::tables::kms_calls::Key;
    use crate::tables::{Rows, intern::NULL};

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
    }

    type Seen = Vec<(String, i64, u64, i64, i64, i64, Option<String>)>;

    fn seen(rows: &Rows<'_>) -> Seen {
        rows.kms_calls
            .iter()
            .map(|r| {
                (
                    r.principal.unwrap_or_default().to_owned(),
                    r.hour,
                    r.tally.count,
                    r.tally.first_seen,
                    r.tally.last_seen,
                    r.session_count(),
                    r.example_session.map(str::to_owned),
                )
            })
            .collect()
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
        closed.close(3600, &mut [&mut a, &mut b]).expect("spilled");
        assert_eq!(
            closed.kms_calls.rows, 3,
            "hour 0's rows, joined across workers"
        );
        assert_eq!(a.kms_calls.calls.tallies.len(), 0);
        assert_eq!(b.kms_calls.calls.tallies.len(), 1, "hour 1 stays open");
        // A bound already closed closes nothing again.
        closed
            .close(3600, &mut [&mut a, &mut b])
            .expect("nothing to spill");
        assert_eq!(closed.kms_calls.rows, 3);
        late(&mut a);
        a.merge(b);
        closed.finish(&mut a.strings);

        let expected = seen(&Rows::of(&whole));
        let rows = Rows::with_closed(&a, Some(&closed));
        assert_eq!(seen(&rows), expected);
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
