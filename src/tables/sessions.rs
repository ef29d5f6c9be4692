//! The sessions behind a row: how many distinct sessions made its calls, and one of them by
//! name. For an assumed role the session name is often an instance id or a person's name
//! (principal::session_name), which is what the role's owner needs to find the caller.
//!
//! Each distinct session is kept as a 64-bit hash, so merging partials is a set union and
//! the count is exact up to hash collisions (n² / 2⁶⁵ for n sessions). The example is the
//! session with the smallest hash: the same whatever order workers or shards read records
//! in, so outputs stay byte-identical across `--threads`.
//!
//! Most rows have one or a few sessions, and a month of an organization trail has hundreds
//! of thousands of rows: the hashes of up to `FEW` sessions sit in a sorted inline vector (no
//! heap for one or two), and only a row with more gets a hash set. On a month-long
//! organization trail that is 75 MB less heap and 2.4M fewer allocations (BENCHMARKS.md).

use std::hash::Hasher;

use rustc_hash::{FxHashSet, FxHasher};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::intern::{Interner, Sym};
use crate::record::encryption_context::mix64;

/// Beyond this many sessions a row keeps a hash set: a sorted vector's insertions would grow
/// with the square of the sessions (a role whose every call has a session of its own).
const FEW: usize = 32;

/// The distinct session hashes of a row. Serialized as a sorted list, so that a partial's
/// bytes do not depend on a hash set's iteration order. A row is `Few` exactly when it has
/// at most `FEW` (a set never shrinks), so the derived equality compares like with like.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hashes {
    /// Sorted, at most `FEW`.
    Few(SmallVec<[u64; 2]>),
    Many(FxHashSet<u64>),
}

impl Default for Hashes {
    fn default() -> Self {
        Hashes::Few(SmallVec::new())
    }
}

impl Hashes {
    /// Adds `h`; true when it is new.
    fn insert(&mut self, h: u64) -> bool {
        match self {
            Hashes::Few(few) => match few.binary_search(&h) {
                Ok(_) => false,
                Err(at) if few.len() < FEW => {
                    few.insert(at, h);
                    true
                }
                Err(_) => {
                    let mut many: FxHashSet<u64> = few.iter().copied().collect();
                    many.insert(h);
                    *self = Hashes::Many(many);
                    true
                }
            },
            Hashes::Many(many) => many.insert(h),
        }
    }

    fn len(&self) -> usize {
        match self {
            Hashes::Few(few) => few.len(),
            Hashes::Many(many) => many.len(),
        }
    }

    fn extend(&mut self, other: &Hashes) {
        match other {
            Hashes::Few(few) => few.iter().for_each(|&h| {
                self.insert(h);
            }),
            Hashes::Many(many) => many.iter().for_each(|&h| {
                self.insert(h);
            }),
        }
    }

    fn sorted(&self) -> Vec<u64> {
        match self {
            Hashes::Few(few) => few.to_vec(),
            Hashes::Many(many) => {
                let mut all: Vec<u64> = many.iter().copied().collect();
                all.sort_unstable();
                all
            }
        }
    }
}

impl Serialize for Hashes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.sorted().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Hashes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut hashes = Hashes::default();
        for h in Vec::<u64>::deserialize(d)? {
            hashes.insert(h);
        }
        Ok(hashes)
    }
}

#[derive(Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    hashes: Hashes,
    /// The session with the smallest hash, and its name.
    example: Option<(u64, Sym)>,
}

/// The count and the example's hash: its symbol means something only with its interner.
impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("count", &self.hashes.len())
            .field("example_hash", &self.example.map(|(h, _)| h))
            .finish()
    }
}

fn session_hash(name: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(name.as_bytes());
    mix64(h.finish())
}

impl Sessions {
    /// Counts a call made in session `name`. Interns the name only when it becomes the
    /// example, which happens a few times per row, not per call.
    pub fn add(&mut self, name: &str, strings: &mut Interner) {
        let h = session_hash(name);
        if self.hashes.insert(h) && self.example.is_none_or(|(e, _)| h < e) {
            self.example = Some((h, strings.intern(name)));
        }
    }

    /// The hash a session's name is counted by, and its symbol once interned: what a row of
    /// one call keeps of it instead of a whole [`Sessions`] (kms_data_key_caching).
    pub fn one(name: &str, strings: &mut Interner) -> (u64, Sym) {
        (session_hash(name), strings.intern(name))
    }

    /// The sessions of a single call in session `one` ([`Sessions::one`]): what
    /// [`Sessions::add`] makes of it in an empty row.
    pub fn of_one((hash, name): (u64, Sym)) -> Sessions {
        let mut sessions = Sessions::default();
        sessions.hashes.insert(hash);
        sessions.example = Some((hash, name));
        sessions
    }

    /// Joins another partial's sessions; `table` maps its symbols to ours.
    pub fn merge(&mut self, other: Sessions, table: &[Sym]) {
        self.absorb(&other, |s| table[s as usize]);
    }

    /// The same sessions in the interner whose symbols `table` maps to.
    pub fn remapped(mut self, table: &[Sym]) -> Sessions {
        self.example = self.example.map(|(h, s)| (h, table[s as usize]));
        self
    }

    /// Joins sessions of the same interner (derived tables: kms_cost, kms_bucket_keys).
    pub fn union(&mut self, other: &Sessions) {
        self.absorb(other, |s| s);
    }

    fn absorb(&mut self, other: &Sessions, remap: impl Fn(Sym) -> Sym) {
        self.hashes.extend(&other.hashes);
        if let Some((h, s)) = other.example
            && self.example.is_none_or(|(e, _)| h < e)
        {
            self.example = Some((h, remap(s)));
        }
    }

    /// Distinct sessions (`sessions` column); 0 for principals without sessions.
    pub fn count(&self) -> u64 {
        self.hashes.len() as u64
    }

    /// One session by name (`example_session` column).
    pub fn example<'a>(&self, strings: &'a Interner) -> Option<&'a str> {
        self.example.and_then(|(_, s)| strings.resolve(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_count_once_and_the_example_does_not_depend_on_order() {
        let names = ["i-0aaa", "i-0bbb", "alice", "i-0aaa", "i-0ccc"];
        let mut strings = Interner::default();
        let mut forward = Sessions::default();
        for n in names {
            forward.add(n, &mut strings);
        }
        let mut backward = Sessions::default();
        for n in names.iter().rev() {
            backward.add(n, &mut strings);
        }
        assert_eq!(forward.count(), 4);
        assert_eq!(forward.example(&strings), backward.example(&strings));
        // Two partials merged give the whole.
        let (mut a, mut b) = (Sessions::default(), Sessions::default());
        let mut sa = Interner::default();
        let mut sb = Interner::default();
        for n in &names[..2] {
            a.add(n, &mut sa);
        }
        for n in &names[2..] {
            b.add(n, &mut sb);
        }
        let table = sa.absorb(&sb);
        a.merge(b, &table);
        assert_eq!(a.count(), 4);
        assert_eq!(a.example(&sa), forward.example(&strings));
    }

    #[test]
    fn a_row_with_many_sessions_counts_each_once_past_the_inline_ones() {
        let mut strings = Interner::default();
        let names: Vec<String> = (0..200).map(|i| format!("i-{i:017x}")).collect();
        let mut all = Sessions::default();
        let (mut low, mut high) = (Sessions::default(), Sessions::default());
        for (i, n) in names.iter().enumerate() {
            all.add(n, &mut strings);
            all.add(n, &mut strings);
            if i < 20 {
                low.add(n, &mut strings);
            } else {
                high.add(n, &mut strings);
            }
        }
        assert_eq!(all.count(), 200);
        assert_eq!((low.count(), high.count()), (20, 180));
        // Few joined with many, and many with few, give the same set and example.
        let mut joined = low.clone();
        joined.union(&high);
        let mut other_way = high.clone();
        other_way.union(&low);
        assert_eq!(joined.count(), 200);
        assert_eq!(joined, other_way);
        assert_eq!(joined.example(&strings), all.example(&strings));
        // The serialized form is the sorted hashes, whichever way the set is held.
        let bytes = postcard::to_allocvec(&joined).expect("encodes");
        assert_eq!(postcard::to_allocvec(&all).expect("encodes"), bytes);
        let back: Sessions = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(back.count(), 200);
    }
}
