//! Per-second KMS request counts within one hour, and the statistics drawn from them.
//!
//! Counts are kept exactly (one entry per active second), so `peak_rps` and `peak_second`
//! are exact; the HdrHistogram is built at the end over all 3,600 seconds of the hour, zero
//! seconds included, which is what makes its percentiles mean "share of the hour".

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer, V2Serializer};
use rustc_hash::FxHashMap;

use crate::time::SECONDS_PER_HOUR;

/// Calls per second of one hour, for one scope (account and region, or one principal).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct SecondCounts {
    /// Second within the hour (0..3600) -> calls in that second.
    pub per_second: FxHashMap<u16, u32>,
    pub throttled: u64,
}

impl SecondCounts {
    pub fn record(&mut self, second_of_hour: u16, throttled: bool) {
        *self.per_second.entry(second_of_hour).or_default() += 1;
        self.throttled += u64::from(throttled);
    }

    pub fn merge(&mut self, other: SecondCounts) {
        for (second, calls) in other.per_second {
            *self.per_second.entry(second).or_default() += calls;
        }
        self.throttled += other.throttled;
    }

    /// Summarises the hour.
    pub fn stats(&self) -> RateStats {
        let calls: u64 = self.per_second.values().map(|&c| u64::from(c)).sum();
        // Earliest second wins a tie, so the answer does not depend on hash order.
        let (peak_second, peak) = self
            .per_second
            .iter()
            .map(|(&s, &c)| (s, c))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .unwrap_or((0, 0));
        let mut histogram =
            Histogram::<u64>::new_with_bounds(1, u64::from(peak.max(2)), 3).expect("valid bounds");
        let active = self.per_second.len() as u64;
        let zero_seconds = SECONDS_PER_HOUR as u64 - active.min(SECONDS_PER_HOUR as u64);
        histogram.record_n(0, zero_seconds).expect("0 is in range");
        for &c in self.per_second.values() {
            histogram.record(u64::from(c)).expect("bounded by peak");
        }
        RateStats {
            calls,
            active_seconds: active,
            peak_rps: u64::from(peak),
            peak_second_of_hour: peak_second,
            p50_rps: histogram.value_at_quantile(0.50),
            p90_rps: histogram.value_at_quantile(0.90),
            p99_rps: histogram.value_at_quantile(0.99),
            mean_rps: calls as f64 / SECONDS_PER_HOUR as f64,
            throttled: self.throttled,
            histogram,
        }
    }

    /// Seconds of the hour whose calls reached `threshold` or more.
    pub fn seconds_at_or_above(&self, threshold: f64) -> u64 {
        self.per_second
            .values()
            .filter(|&&c| f64::from(c) >= threshold)
            .count() as u64
    }
}

#[derive(Debug)]
pub struct RateStats {
    pub calls: u64,
    pub active_seconds: u64,
    pub peak_rps: u64,
    pub peak_second_of_hour: u16,
    pub p50_rps: u64,
    pub p90_rps: u64,
    pub p99_rps: u64,
    pub mean_rps: f64,
    pub throttled: u64,
    pub histogram: Histogram<u64>,
}

/// The histogram in the standard HdrHistogram V2 encoding, readable by any HdrHistogram
/// library (Java, Go, Python `hdrh`, ...).
pub fn serialize_histogram(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("serializing to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn peak_is_exact_and_histogram_covers_the_whole_hour() {
        let mut counts = SecondCounts::default();
        for _ in 0..5 {
            counts.record(10, false);
        }
        for _ in 0..5 {
            counts.record(3, true);
        }
        counts.record(4, false);
        let stats = counts.stats();
        assert_eq!(stats.calls, 11);
        assert_eq!(stats.peak_rps, 5);
        assert_eq!(stats.peak_second_of_hour, 3, "earliest second of a tie");
        assert_eq!(stats.active_seconds, 3);
        assert_eq!(stats.throttled, 5);
        assert_eq!(stats.p50_rps, 0);
        assert_eq!(stats.histogram.len(), 3600);
        let bytes = serialize_histogram(&stats.histogram);
        let back: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
        assert_eq!(back.len(), 3600);
        assert_eq!(back.max(), 5);
    }

    #[test]
    fn merging_adds_per_second() {
        let mut a = SecondCounts::default();
        a.record(7, false);
        let mut b = SecondCounts::default();
        b.record(7, false);
        b.record(8, true);
        a.merge(b);
        let stats = a.stats();
        assert_eq!((stats.calls, stats.peak_rps, stats.throttled), (3, 2, 1));
    }
}
