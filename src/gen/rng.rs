//! Randomness: the RNG, and the seeds that keep its streams independent.

/// wyrand: tiny, fast, and, unlike `rand::rngs::SmallRng`, guaranteed to give the same
/// stream on every platform and in every future version, so a seed names the same trail
/// forever.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    }

    /// Uniform in `0..n` (Lemire's multiply-shift, bias negligible here).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    pub(super) fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    /// True with probability `per_10k` / 10,000.
    pub(super) fn chance(&mut self, per_10k: u64) -> bool {
        self.below(10_000) < per_10k
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Seed for one independent RNG stream, from a path of numbers.
pub(super) fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5eed_7a11_u64, |h, &p| splitmix(h ^ p))
}

// Tags that keep the RNG streams of different purposes apart.
pub(super) const TAG_WORLD: u64 = 1;
pub(super) const TAG_META: u64 = 2;
pub(super) const TAG_FILE: u64 = 3;
pub(super) const TAG_DIGEST: u64 = 4;
pub(super) const TAG_PLAN: u64 = 5;

pub(super) fn pick_weighted<T: Copy>(rng: &mut Rng, table: &[(T, u32)]) -> T {
    let total: u64 = table.iter().map(|e| u64::from(e.1)).sum();
    let mut x = rng.below(total);
    for &(v, w) in table {
        if x < u64::from(w) {
            return v;
        }
        x -= u64::from(w);
    }
    table[table.len() - 1].0
}
