//! Records waiting for a retry on one shard, by the bin of time they are
//! due in. A throttled part is spread over the bins as its records' retry
//! times are distributed: sent uniformly over an interval, then answered
//! after the request latency and retried after a backoff whose jitter is
//! uniform (KDS-REFERENCE.md §7a for the SDKs' backoffs; the model is
//! [`crate::model::backoff`]). Bins are the engine's steps; a step cut in
//! sub-steps keeps a queue of its own for the retries due within it. Memory
//! follows the bins of the retry horizon, not the records.

use rand::RngExt;

use crate::sim::SimTime;
use crate::sim::rng::SimRng;

/// Records of one group due again in one bin, after the same number of
/// attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Retry {
    /// The bin they are due in (`due time / bin width`).
    pub(super) bin: u64,
    pub(super) group: u32,
    /// Attempts made so far.
    pub(super) attempts: u32,
    /// Kinesis records (aggregates count one each).
    pub(super) records: u64,
    /// User records inside them.
    pub(super) users: u64,
    pub(super) bytes: u64,
}

/// One throttled part to spread over the bins.
#[derive(Debug, Clone, Copy)]
pub(super) struct Throttled {
    pub(super) group: u32,
    /// Attempts made, the throttled one included.
    pub(super) attempts: u32,
    pub(super) records: u64,
    pub(super) users: u64,
    pub(super) bytes: u64,
    /// Sent uniformly over `[from, to)`.
    pub(super) from: SimTime,
    pub(super) to: SimTime,
    /// Due again after `[delay, delay + jitter)` more, uniformly (the
    /// request latency, the backoff's fixed part and the mean batch wait
    /// in `delay`; the backoff's random part in `jitter`).
    pub(super) delay: SimTime,
    pub(super) jitter: SimTime,
    /// Records due at or after this time have outlived their time to live
    /// (KPL's RecordTtl) and expire instead.
    pub(super) expires: Option<SimTime>,
}

/// The retries waiting on one shard, in `(bin, group, attempts)` order.
#[derive(Debug, Clone, Default)]
pub(super) struct Pending {
    retries: Vec<Retry>,
}

impl Pending {
    /// Whether nothing waits.
    pub(super) fn is_empty(&self) -> bool {
        self.retries.is_empty()
    }

    /// Every retry waiting, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Retry> {
        self.retries.iter()
    }

    /// Takes everything (for a shard that closed).
    pub(super) fn take_all(&mut self) -> Vec<Retry> {
        std::mem::take(&mut self.retries)
    }

    /// Moves the retries due in bins before `end` to `out`, in order.
    pub(super) fn take_due(&mut self, end: u64, out: &mut Vec<Retry>) {
        if self.retries.first().is_none_or(|r| r.bin >= end) {
            return;
        }
        let k = self.retries.partition_point(|r| r.bin < end);
        out.extend(self.retries.drain(..k));
    }

    /// Adds `r`, merged with one of the same bin, group and attempts.
    pub(super) fn add(&mut self, r: Retry) {
        if r.records == 0 && r.users == 0 {
            return;
        }
        let key = |x: &Retry| (x.bin, x.group, x.attempts);
        // Spreads add in order, mostly at the end: look there first.
        let at = match self.retries.last() {
            None => Err(0),
            Some(last) if key(last) < key(&r) => Err(self.retries.len()),
            Some(last) if key(last) == key(&r) => Ok(self.retries.len() - 1),
            Some(_) => self.retries.binary_search_by_key(&key(&r), key),
        };
        match at {
            Ok(i) => {
                let p = &mut self.retries[i];
                p.records += r.records;
                p.users += r.users;
                p.bytes += r.bytes;
            }
            Err(i) => self.retries.insert(i, r),
        }
    }

    /// Spreads `t` over bins of width `bin`, none before bin `first`
    /// (retries due before it come in it), as its records' retry times
    /// fall; with `within = Some((fine, until, queue))`, the records due
    /// before `until` (the end of the step being taken) go instead to
    /// `queue`, in bins of `fine` (its sub-steps), none before bin `first`
    /// of those. Each bin gets its share of the records by systematic
    /// sampling (cumulative shares rounded after one random offset: whole
    /// records, none lost or made, each bin's count unbiased); users and
    /// bytes go with the records. Returns the user records that expire
    /// instead (due past `t.expires`).
    pub(super) fn spread(
        &mut self,
        t: &Throttled,
        (bin, first): (SimTime, u64),
        within: Option<(SimTime, u64, SimTime, &mut Pending)>,
        rng: &mut SimRng,
    ) -> u64 {
        let start = t.from + t.delay;
        let (p, q) = ((t.to - t.from) as f64, t.jitter as f64);
        let law = UniformSum::new(p, q);
        let cdf = |x: SimTime| law.cdf(x.saturating_sub(start) as f64);
        let offset: f64 = rng.random();
        let mut cells = Cells {
            t,
            per_record: 1.0 / t.records.max(1) as f64,
            offset,
            given: (0, 0, 0),
            expired: 0,
        };
        let mut after = 0.0;
        if let Some((fine, fine_first, until, queue)) = within {
            after = cdf(until);
            if after > 0.0 {
                let lo = (start / fine).max(fine_first);
                let hi = (until - 1) / fine;
                for b in lo..=hi.max(lo) {
                    let upto = if b >= hi { after } else { cdf((b + 1) * fine) };
                    cells.put(b, fine, upto, queue);
                }
            }
        }
        if after < 1.0 {
            let lo = (start / bin).max(first);
            let hi = ((start + t.to - t.from + t.jitter) / bin).max(lo);
            for b in lo..=hi {
                let upto = if b == hi {
                    1.0
                } else {
                    cdf((b + 1) * bin).max(after)
                };
                cells.put(b, bin, upto, self);
            }
        }
        cells.expired
    }
}

/// The cumulative state of one spread.
struct Cells<'t> {
    t: &'t Throttled,
    /// `1 / t.records`.
    per_record: f64,
    offset: f64,
    /// Records, users and bytes placed so far.
    given: (u64, u64, u64),
    expired: u64,
}

impl Cells<'_> {
    /// `total * records / t.records` in floating point (a share of bytes
    /// or users: the last bin takes the exact rest).
    #[inline]
    fn scale(&self, total: u64, records: u64) -> u64 {
        ((total as f64 * records as f64 * self.per_record) as u64).min(total)
    }

    /// Places in bin `b` (of width `width`) of `into` the records due up to
    /// cumulative share `upto`, less those placed.
    fn put(&mut self, b: u64, width: SimTime, upto: f64, into: &mut Pending) {
        let t = self.t;
        let records = if upto >= 1.0 {
            t.records
        } else {
            ((t.records as f64 * upto + self.offset) as u64).min(t.records)
        };
        if records == self.given.0 && upto < 1.0 {
            return;
        }
        let (users, bytes) = if records == t.records {
            (t.users, t.bytes)
        } else if t.users == t.records {
            (records, self.scale(t.bytes, records))
        } else {
            (self.scale(t.users, records), self.scale(t.bytes, records))
        };
        let r = Retry {
            bin: b,
            group: t.group,
            attempts: t.attempts,
            records: records - self.given.0,
            users: users.max(self.given.1) - self.given.1,
            bytes: bytes.max(self.given.2) - self.given.2,
        };
        self.given = (records, users.max(self.given.1), bytes.max(self.given.2));
        if t.expires
            .is_some_and(|e| (b * width).max(t.from + t.delay) >= e)
        {
            self.expired += r.users;
        } else {
            into.add(r);
        }
    }
}

/// `P(U + V <= x)` for `U` uniform on `[0, p]` and `V` on `[0, q]` (either
/// may be 0 wide): piecewise quadratic, linear in the middle.
#[cfg(test)]
fn uniform_sum_cdf(x: f64, p: f64, q: f64) -> f64 {
    UniformSum::new(p, q).cdf(x)
}

/// The law of `U + V`, `U` uniform on `[0, p]` and `V` on `[0, q]`, with
/// the reciprocals its distribution function needs worked out once.
#[derive(Debug, Clone, Copy)]
struct UniformSum {
    /// The narrower and the wider width.
    a: f64,
    b: f64,
    /// `1 / 2ab` and `1 / 2b` (0 where a width is 0).
    inv_2ab: f64,
    inv_2b: f64,
}

impl UniformSum {
    fn new(p: f64, q: f64) -> UniformSum {
        let (a, b) = if p <= q { (p, q) } else { (q, p) };
        UniformSum {
            a,
            b,
            inv_2ab: if a > 0.0 { 0.5 / (a * b) } else { 0.0 },
            inv_2b: if b > 0.0 { 0.5 / b } else { 0.0 },
        }
    }

    /// `P(U + V <= x)`.
    #[inline]
    fn cdf(&self, x: f64) -> f64 {
        let (a, b) = (self.a, self.b);
        if x <= 0.0 {
            0.0
        } else if x >= a + b {
            1.0
        } else if a == 0.0 {
            2.0 * x * self.inv_2b
        } else if x < a {
            x * x * self.inv_2ab
        } else if x < b {
            (2.0 * x - a) * self.inv_2b
        } else {
            1.0 - (a + b - x) * (a + b - x) * self.inv_2ab
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cdf_of_a_sum_of_uniforms() {
        // Two equal uniforms: a triangle.
        assert_eq!(uniform_sum_cdf(1.0, 1.0, 1.0), 0.5);
        assert_eq!(uniform_sum_cdf(0.5, 1.0, 1.0), 0.125);
        assert_eq!(uniform_sum_cdf(2.0, 1.0, 1.0), 1.0);
        // One of width 0: the other alone.
        assert_eq!(uniform_sum_cdf(0.25, 0.0, 1.0), 0.25);
        assert_eq!(uniform_sum_cdf(0.25, 1.0, 0.0), 0.25);
        // Both 0 wide: a step at 0.
        assert_eq!(uniform_sum_cdf(0.0, 0.0, 0.0), 0.0);
        assert_eq!(uniform_sum_cdf(1e-9, 0.0, 0.0), 1.0);
        // Symmetric, non-decreasing.
        let mut last = 0.0;
        for i in 0..=300 {
            let x = f64::from(i) / 100.0;
            let c = uniform_sum_cdf(x, 1.0, 2.0);
            assert!(c >= last);
            assert!((c + uniform_sum_cdf(3.0 - x, 1.0, 2.0) - 1.0).abs() < 1e-12);
            last = c;
        }
    }

    #[test]
    fn a_spread_keeps_every_record_and_follows_the_backoff() {
        let rng = &mut crate::sim::rng::stream(1, crate::sim::rng::Purpose::Flows, 0);
        let mut p = Pending::default();
        // 1,000 records sent over [0, 100 ms), due 20 ms later plus a
        // backoff uniform on [0, 1 s): bins of 100 ms.
        let t = Throttled {
            group: 0,
            attempts: 1,
            records: 1_000,
            users: 3_000,
            bytes: 100_000,
            from: 0,
            to: 100_000_000,
            delay: 20_000_000,
            jitter: 1_000_000_000,
            expires: None,
        };
        assert_eq!(p.spread(&t, (100_000_000, 0), None, rng), 0);
        let total: (u64, u64, u64) = p.iter().fold((0, 0, 0), |a, r| {
            (a.0 + r.records, a.1 + r.users, a.2 + r.bytes)
        });
        assert_eq!(total, (1_000, 3_000, 100_000));
        // Due from 20 ms to 1.12 s: bins 0 to 11 (the last holds 0.2 %
        // of them, so may be empty), the middle ones alike.
        let bins: Vec<u64> = p.iter().map(|r| r.bin).collect();
        assert_eq!(bins[..11], (0..=10).collect::<Vec<_>>());
        assert!(bins.len() <= 12 && bins.last() <= Some(&11), "{bins:?}");
        // 100 each in the middle, give or take the rounding.
        let mid: Vec<u64> = p
            .iter()
            .filter(|r| (2..=9).contains(&r.bin))
            .map(|r| r.records)
            .collect();
        assert!(mid.iter().all(|&r| (99..=101).contains(&r)), "{mid:?}");
        // Nothing before the first bin allowed: those come in it.
        let mut q = Pending::default();
        q.spread(&t, (100_000_000, 5), None, rng);
        assert_eq!(q.iter().next().map(|r| r.bin), Some(5));
        assert_eq!(q.iter().map(|r| r.records).sum::<u64>(), 1_000);
        // Taking the due ones leaves the rest in order.
        let mut out = Vec::new();
        p.take_due(3, &mut out);
        assert_eq!(out.iter().map(|r| r.bin).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(p.iter().next().map(|r| r.bin), Some(3));
        // Past the time to live, records expire instead: those due from
        // 620 ms on (bins 6 to 11), about half.
        let mut e = Pending::default();
        let expired = e.spread(
            &Throttled {
                expires: Some(600_000_000),
                ..t
            },
            (100_000_000, 0),
            None,
            rng,
        );
        let kept: u64 = e.iter().map(|r| r.users).sum();
        assert_eq!(kept + expired, 3_000);
        assert!((1_400..=1_700).contains(&expired), "{expired}");
        assert_eq!(e.iter().map(|r| r.bin).max(), Some(5));
    }

    #[test]
    fn a_spread_within_a_step_keeps_its_early_retries_apart() {
        let rng = &mut crate::sim::rng::stream(2, crate::sim::rng::Purpose::Flows, 0);
        // Sent over the second sub-step [100, 200 ms) of a 1 s step, due 20
        // ms later plus up to 1 s: 83 % come back within the step.
        let t = Throttled {
            group: 0,
            attempts: 1,
            records: 1_000,
            users: 1_000,
            bytes: 50_000,
            from: 100_000_000,
            to: 200_000_000,
            delay: 20_000_000,
            jitter: 1_000_000_000,
            expires: None,
        };
        let (mut later, mut queue) = (Pending::default(), Pending::default());
        let s = 1_000_000_000;
        later.spread(&t, (s, 1), Some((100_000_000, 2, s, &mut queue)), rng);
        let early: u64 = queue.iter().map(|r| r.records).sum();
        let rest: u64 = later.iter().map(|r| r.records).sum();
        assert_eq!(early + rest, 1_000);
        assert!((820..=840).contains(&early), "{early}");
        // Sub-steps 2 to 9 of the step, then steps 1 and 2.
        assert_eq!(queue.iter().map(|r| r.bin).min(), Some(2));
        assert_eq!(queue.iter().map(|r| r.bin).max(), Some(9));
        assert_eq!(later.iter().map(|r| r.bin).collect::<Vec<_>>(), vec![1]);
        let bytes: u64 = queue.iter().chain(later.iter()).map(|r| r.bytes).sum();
        assert_eq!(bytes, 50_000);
    }

    #[test]
    fn merging_adds_like_cohorts_only() {
        let mut p = Pending::default();
        let r = Retry {
            bin: 4,
            group: 0,
            attempts: 1,
            records: 10,
            users: 10,
            bytes: 1_000,
        };
        p.add(r);
        p.add(r);
        p.add(Retry { attempts: 2, ..r });
        p.add(Retry { bin: 2, ..r });
        let v: Vec<(u64, u32, u64)> = p.iter().map(|r| (r.bin, r.attempts, r.records)).collect();
        assert_eq!(v, vec![(2, 1, 10), (4, 1, 20), (4, 2, 10)]);
    }
}
