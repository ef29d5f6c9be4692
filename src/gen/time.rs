//! Time: event times and dates as CloudTrail writes them.

const DAY: i64 = 86_400;
pub(super) const HOUR: i64 = 3_600;
/// Files hold about 5 minutes of events per account and region, like CloudTrail's.
pub(super) const WINDOW: i64 = 300;

#[derive(Debug, Clone, Copy)]
pub(super) struct Civil {
    pub(super) y: u32,
    pub(super) mo: u32,
    pub(super) d: u32,
    pub(super) h: u32,
    pub(super) mi: u32,
    pub(super) s: u32,
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub(super) fn civil(t: i64) -> Civil {
    let (y, mo, d) = civil_from_days(t.div_euclid(DAY));
    let sod = t.rem_euclid(DAY) as u32;
    Civil {
        y: y.clamp(0, 9999) as u32,
        mo,
        d,
        h: sod / 3600,
        mi: sod % 3600 / 60,
        s: sod % 60,
    }
}

pub(super) fn digits2(b: &mut [u8], v: u32) {
    b[0] = b'0' + (v / 10 % 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
}

pub(super) fn digits4(b: &mut [u8], v: u32) {
    digits2(&mut b[0..2], v / 100);
    digits2(&mut b[2..4], v % 100);
}

/// `YYYY-MM-DDTHH:MM:SSZ`, CloudTrail's `eventTime`.
fn iso_bytes(t: i64) -> [u8; 20] {
    let c = civil(t);
    let mut b = *b"0000-00-00T00:00:00Z";
    digits4(&mut b[0..4], c.y);
    digits2(&mut b[5..7], c.mo);
    digits2(&mut b[8..10], c.d);
    digits2(&mut b[11..13], c.h);
    digits2(&mut b[14..16], c.mi);
    digits2(&mut b[17..19], c.s);
    b
}

pub(super) fn iso(t: i64) -> String {
    String::from_utf8_lossy(&iso_bytes(t)).into_owned()
}

pub(super) fn put_time(o: &mut Vec<u8>, t: i64) {
    o.extend_from_slice(&iso_bytes(t));
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as services write timestamps inside payloads.
pub(super) fn put_time_ms(o: &mut Vec<u8>, t: i64, ms: u32) {
    let b = iso_bytes(t);
    o.extend_from_slice(&b[..19]);
    let mut m = *b".000Z";
    m[1] = b'0' + (ms / 100 % 10) as u8;
    digits2(&mut m[2..4], ms % 100);
    o.extend_from_slice(&m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::DEFAULT_START;

    #[test]
    fn time_formatting_matches_chrono() {
        for t in [
            0,
            DEFAULT_START,
            DEFAULT_START + 86_399,
            951_782_400,
            4_102_444_800,
        ] {
            let expected = chrono::DateTime::from_timestamp(t, 0)
                .expect("in range")
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(iso(t), expected);
        }
    }
}
