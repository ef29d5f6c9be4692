//! String interning: aggregation keys hold small integers instead of strings, so the hot
//! path hashes a few `u32`s per record and allocates only for strings never seen before
//! (the same principals, agents and keys repeat millions of times).

use rustc_hash::FxHashMap;

/// An interned string; `NULL` stands for an unknown (null) value.
pub type Sym = u32;
pub const NULL: Sym = 0;

#[derive(Debug, Clone)]
pub struct Interner {
    ids: FxHashMap<Box<str>, Sym>,
    strings: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            ids: FxHashMap::default(),
            // Index 0 is the null placeholder, never looked up by text.
            strings: vec![Box::from("")],
        }
    }
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = Sym::try_from(self.strings.len()).expect("fewer than 2^32 distinct strings");
        self.strings.push(Box::from(s));
        self.ids.insert(Box::from(s), id);
        id
    }

    /// Interns an optional string; `None` is `NULL`.
    pub fn intern_opt(&mut self, s: Option<&str>) -> Sym {
        s.map_or(NULL, |s| self.intern(s))
    }

    /// The string behind a symbol; `None` for `NULL`.
    pub fn resolve(&self, id: Sym) -> Option<&str> {
        (id != NULL)
            .then(|| self.strings.get(id as usize).map(|s| &**s))
            .flatten()
    }

    /// Whether no string was interned.
    pub fn is_empty(&self) -> bool {
        self.strings.len() == 1
    }

    /// The strings, in symbol order from 1 (the `--state` file keeps only these).
    fn texts(&self) -> &[Box<str>] {
        &self.strings[1..]
    }

    /// Each symbol's place in the order of the strings: `ranks[a] < ranks[b]` exactly when
    /// `resolve(a) < resolve(b)`, with `NULL` (None) first. Rows are sorted on these small
    /// integers instead of on resolved strings, so a table is ordered without first building
    /// every row with its strings (TallyRows).
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<Sym> = (1..self.strings.len() as Sym).collect();
        order.sort_unstable_by(|&a, &b| self.strings[a as usize].cmp(&self.strings[b as usize]));
        let mut ranks = vec![0; self.strings.len()];
        for (place, &sym) in (1..).zip(&order) {
            ranks[sym as usize] = place;
        }
        ranks
    }

    /// Extends `table` (`table[their_sym] == our_sym`, as [`Interner::absorb`] gives) with
    /// the strings `other` interned since `table` was last extended: `other` only grows, so
    /// a table kept from one call to the next costs each string once (tables::closed).
    pub fn absorb_new(&mut self, other: &Interner, table: &mut Vec<Sym>) {
        if table.is_empty() {
            table.push(NULL);
        }
        for s in other.strings.get(table.len()..).unwrap_or_default() {
            table.push(self.intern(s));
        }
    }

    /// Re-interns every string of `other` here: `table[their_sym] == our_sym`.
    pub fn absorb(&mut self, other: &Interner) -> Vec<Sym> {
        let mut table = Vec::with_capacity(other.strings.len());
        table.push(NULL);
        for s in &other.strings[1..] {
            table.push(self.intern(s));
        }
        table
    }
}

// Saved as the list of strings: symbols are their positions, so reading them back in order
// gives every key its strings again.
impl serde::Serialize for Interner {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.texts())
    }
}

impl<'de> serde::Deserialize<'de> for Interner {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        let mut interner = Interner::default();
        for (i, text) in texts.iter().enumerate() {
            if interner.intern(text) as usize != i + 1 {
                return Err(serde::de::Error::custom("a string is saved twice"));
            }
        }
        Ok(interner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_absorb_translates() {
        let mut a = Interner::default();
        let x = a.intern("role/bi");
        assert_eq!(a.intern("role/bi"), x);
        assert_eq!(a.resolve(x), Some("role/bi"));
        assert_eq!(a.resolve(NULL), None);
        let mut b = Interner::default();
        let y = b.intern("user/a");
        let bx = b.intern("role/bi");
        let table = a.absorb(&b);
        assert_eq!(table[bx as usize], x);
        assert_eq!(a.resolve(table[y as usize]), Some("user/a"));
    }

    #[test]
    fn ranks_order_symbols_as_their_strings() {
        let mut a = Interner::default();
        let words = ["role/b", "", "role/a", "Role/c", "role/ab"];
        let syms: Vec<Sym> = words.iter().map(|w| a.intern(w)).collect();
        let ranks = a.ranks();
        assert_eq!(ranks[NULL as usize], 0, "None sorts first");
        for (i, x) in syms.iter().enumerate() {
            for (j, y) in syms.iter().enumerate() {
                assert_eq!(
                    ranks[*x as usize].cmp(&ranks[*y as usize]),
                    words[i].cmp(words[j]),
                    "{} against {}",
                    words[i],
                    words[j]
                );
            }
            assert!(
                ranks[*x as usize] > 0,
                "a string, even empty, sorts after None"
            );
        }
    }

    #[test]
    fn a_saved_interner_gives_every_symbol_its_string_again() {
        let mut a = Interner::default();
        let syms: Vec<Sym> = ["role/app", "", "aws-cli/2.15.0"]
            .iter()
            .map(|s| a.intern(s))
            .collect();
        let bytes = postcard::to_stdvec(&a).expect("encode");
        let b: Interner = postcard::from_bytes(&bytes).expect("decode");
        for (sym, text) in syms.iter().zip(["role/app", "", "aws-cli/2.15.0"]) {
            assert_eq!(b.resolve(*sym), Some(text));
        }
        assert_eq!(b.resolve(NULL), None);
    }
}
