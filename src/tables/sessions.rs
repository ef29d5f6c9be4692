//! The sessions behind a row: how many distinct sessions made its calls, and one of them by
//! name. For an assumed role the session name is often an instance id or a person's name
//! (principal::session_name), which is what the role's owner needs to find the caller.
//!
//! Each distinct session is kept as a 64-bit hash, so merging partials is a set union and
//! the count is exact up to hash collisions (n² / 2⁶⁵ for n sessions). The example is the
//! session with the smallest hash: the same whatever order workers or shards read records
//! in, so outputs stay byte-identical across `--threads`.

use std::hash::Hasher;

use rustc_hash::{FxHashSet, FxHasher};
use serde::{Deserialize, Serialize};

use super::intern::{Interner, Sym};
use crate::record::encryption_context::mix64;

#[derive(Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    hashes: FxHashSet<u64>,
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

    /// Joins another partial's sessions; `table` maps its symbols to ours.
    pub fn merge(&mut self, other: Sessions, table: &[Sym]) {
        self.absorb(&other, |s| table[s as usize]);
    }

    /// Joins sessions of the same interner (derived tables: kms_cost, kms_bucket_keys).
    pub fn union(&mut self, other: &Sessions) {
        self.absorb(other, |s| s);
    }

    fn absorb(&mut self, other: &Sessions, remap: impl Fn(Sym) -> Sym) {
        self.hashes.extend(other.hashes.iter().copied());
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
}
