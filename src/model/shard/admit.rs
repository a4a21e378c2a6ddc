//! What a shard's write limiter passes of a flow of records over an
//! interval, without looking at single records.
//!
//! # Token buckets
//!
//! Over `[a, b)` a bucket holding `x0` tokens gains `rate (b - a)` and loses
//! one token (or a record's bytes) per record passed. With `n` records
//! arriving at random times, its level without limits would be a random
//! path from `x0` to `e = x0 + rate (b - a) - n`; the real level is that path
//! kept between 0 and the bucket's depth, and the records refused are
//! exactly what keeping it above 0 took away (KDS-REFERENCE.md §4a.4 for
//! the buckets; the model is `kds::Limiter`). Given its two ends, the path
//! is close to a Brownian bridge whose variance is the count's (`n` for
//! Poisson arrivals, `n D` when records come in clumps of mean square over
//! mean size `D`, such as PutRecords batches), and the lowest point of a
//! Brownian bridge has a known law:
//! `P(min < m) = exp(-2 (x0 - m)(e - m) / var)` for `m` under both ends.
//! One uniform draw gives the minimum, so the records refused, with the
//! right mean and spread; the highest point gives the tokens lost at the
//! depth the same way. A step thus needs no sub-steps to throttle
//! correctly; sub-steps are used only to let retries come back within it.
//!
//! A record passes only while a whole token (or its bytes) is left
//! (`kds::Limiter::check`), so about half a record's worth of a bucket is
//! never usable: the boundaries are moved up by half a record and half a
//! mean record's bytes.
//!
//! # Fixed windows
//!
//! An interval lies within one second (steps divide a second), so a window
//! passes what its second has left, first come first served: exact for
//! the counts.

use rand::RngExt;

use crate::kds::{Levels, Limiter};
use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::units::NANOS_PER_SEC;

/// Below this probability a boundary is taken as not reached (no draw).
const NEGLIGIBLE: f64 = 1e-9;

/// What is offered to one shard over an interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Offer {
    /// Kinesis records.
    pub(super) records: u64,
    /// Their bytes.
    pub(super) bytes: u64,
    /// Variance of the records' arrival path: `records` for Poisson
    /// arrivals, more for clumps.
    pub(super) var_records: f64,
    /// Variance of the bytes' arrival path.
    pub(super) var_bytes: f64,
}

/// What passed, which limits refused the rest, and when in the interval
/// the refusals fell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Passed {
    pub(super) records: u64,
    pub(super) bytes: u64,
    pub(super) by_records: bool,
    pub(super) by_bytes: bool,
    /// The refused records were sent over this part of the interval
    /// (fractions of it, `0 <= from < to <= 1`): a bucket refuses from when
    /// it runs dry, a window from when it fills.
    pub(super) refused_over: (f64, f64),
}

/// Passes what `limiter` lets through of `offer` over `[a, b)`, at most
/// `cap` records (the stream's share in on-demand mode), and updates the
/// limiter as of `b`.
pub(super) fn pass(
    limiter: &mut Limiter,
    a: SimTime,
    b: SimTime,
    offer: &Offer,
    cap: Option<u64>,
    rng: &mut SimRng,
) -> Passed {
    let n = offer.records;
    let levels = limiter.levels(a);
    if n == 0 {
        if let Levels::Bucket {
            records,
            bytes,
            records_rate,
            bytes_rate,
            ..
        } = levels
        {
            // Refilled over the interval, nothing taken.
            let dt = (b - a) as f64 / NANOS_PER_SEC as f64;
            limiter.set_levels(b, records + records_rate * dt, bytes + bytes_rate * dt);
        }
        return Passed::default();
    }
    let mean = offer.bytes as f64 / n as f64;
    let mut p = match levels {
        Levels::Bucket {
            records,
            bytes,
            records_cap,
            bytes_cap,
            records_rate,
            bytes_rate,
        } => {
            let dt = (b - a) as f64 / NANOS_PER_SEC as f64;
            let r = Dim::new(
                records,
                records_cap,
                records_rate * dt,
                0.5,
                n as f64,
                offer.var_records,
            );
            let y = Dim::new(
                bytes,
                bytes_cap,
                bytes_rate * dt,
                0.5 * mean,
                offer.bytes as f64,
                offer.var_bytes,
            );
            let u_low = if r.may_empty() || y.may_empty() {
                open01(rng)
            } else {
                1.0
            };
            let u_high = if r.may_fill() || y.may_fill() {
                open01(rng)
            } else {
                1.0
            };
            let (r_short, r_lost) = r.extremes(u_low, u_high);
            let (y_short, y_lost) = y.extremes(u_low, u_high);
            let y_short_records = if mean > 0.0 { y_short / mean } else { 0.0 };
            let over = if r_short >= y_short_records {
                r.dry_over(r_short)
            } else {
                y.dry_over(y_short)
            };
            let refused = round_random(r_short.max(y_short_records), rng).min(n);
            let passed = n - refused;
            let passed_bytes = share(offer.bytes, passed, n);
            limiter.set_levels(
                b,
                r.end(passed as f64, r_lost),
                y.end(passed_bytes as f64, y_lost),
            );
            Passed {
                records: passed,
                bytes: passed_bytes,
                by_records: refused > 0 && r_short > 0.0,
                by_bytes: refused > 0 && y_short > 0.0,
                refused_over: over,
            }
        }
        Levels::Window {
            records,
            bytes,
            empty,
        } => {
            let by_bytes = if offer.bytes <= bytes {
                n
            } else {
                let fit = (bytes as f64 / mean.max(1.0)) as u64;
                // A record larger than the byte limit passes an empty window.
                if fit == 0 && empty && records > 0 {
                    1
                } else {
                    fit
                }
            };
            let passed = n.min(records).min(by_bytes);
            let passed_bytes = share(offer.bytes, passed, n);
            limiter.add_to_window(a, passed, passed_bytes);
            Passed {
                records: passed,
                bytes: passed_bytes,
                by_records: records < n,
                by_bytes: by_bytes < n,
                // Arrivals spread evenly: the window fills after `passed`.
                refused_over: (passed as f64 / n as f64, 1.0),
            }
        }
    };
    if let Some(cap) = cap
        && cap < p.records
    {
        // The stream's capacity refuses what the shard would have passed;
        // the shard's limiter keeps those tokens.
        let (records, bytes) = (cap, share(offer.bytes, cap, n));
        give_back(limiter, b, p.records - records, p.bytes - bytes);
        p = Passed {
            records,
            bytes,
            refused_over: (0.0, 1.0),
            ..p
        };
    }
    p
}

/// Returns tokens a shard's limiter was charged for records the stream then
/// refused.
fn give_back(limiter: &mut Limiter, at: SimTime, records: u64, bytes: u64) {
    match limiter.levels(at) {
        Levels::Bucket {
            records: r,
            bytes: y,
            ..
        } => limiter.set_levels(at, r + records as f64, y + bytes as f64),
        Levels::Window { .. } => {
            // A window's count cannot go down; the interval's own refusals
            // were counted with it, which is what a window saw.
        }
    }
}

/// One dimension (records or bytes) of a bucket over an interval, with its
/// boundary moved up by `shift` (the part of a record no record can use).
#[derive(Debug, Clone, Copy)]
struct Dim {
    /// Usable level at the start.
    x0: f64,
    /// Refill over the interval.
    refill: f64,
    /// Usable level at the end without limits: `x0 + refill - offered`.
    e: f64,
    /// Usable depth.
    depth: f64,
    /// Variance of the arrivals' path.
    var: f64,
    shift: f64,
}

impl Dim {
    fn new(level: f64, cap: f64, refill: f64, shift: f64, offered: f64, var: f64) -> Dim {
        let x0 = (level - shift).max(0.0);
        Dim {
            x0,
            refill,
            e: x0 + refill - offered,
            depth: (cap - shift).max(0.0),
            var,
            shift,
        }
    }

    /// Whether the path may reach 0.
    fn may_empty(&self) -> bool {
        self.e <= 0.0
            || self.x0 <= 0.0
            || (self.var > 0.0 && (-2.0 * self.x0 * self.e / self.var).exp() > NEGLIGIBLE)
    }

    /// Whether the path may pass the depth.
    fn may_fill(&self) -> bool {
        let (a, b) = (self.depth - self.x0, self.depth - self.e);
        a <= 0.0 || b <= 0.0 || (self.var > 0.0 && (-2.0 * a * b / self.var).exp() > NEGLIGIBLE)
    }

    /// What keeping the path between 0 and the depth takes: refused below
    /// (records or bytes) and lost above (tokens), from the bridge's lowest
    /// and highest points drawn with `u_low` and `u_high` (in (0, 1]).
    fn extremes(&self, u_low: f64, u_high: f64) -> (f64, f64) {
        let (x0, e) = (self.x0, self.e);
        let d = x0 - e;
        let spread = |u: f64| (d * d - 2.0 * self.var * u.ln()).max(0.0).sqrt();
        let low = 0.5 * ((x0 + e) - spread(u_low));
        let high = 0.5 * ((x0 + e) + spread(u_high));
        let mut short = (-low).max(0.0);
        let mut lost = (high - self.depth).max(0.0);
        if short > 0.0 && lost > 0.0 {
            // Both bounds: falling, the top is met first and the path is
            // lower after it; rising, the bottom first and higher after.
            if e < x0 {
                short += lost;
            } else {
                lost += short;
            }
        }
        (short, lost)
    }

    /// When in the interval a path that came `short` below 0 refused: from
    /// where its mean line meets 0 to the end if it ends below, else
    /// around its lowest point (where a bridge dipping to `-short` most
    /// likely is).
    fn dry_over(&self, short: f64) -> (f64, f64) {
        if short <= 0.0 {
            return (0.0, 1.0);
        }
        if self.e < 0.0 {
            ((self.x0 / (self.x0 - self.e)).clamp(0.0, 0.99), 1.0)
        } else {
            let at = (self.x0 + short) / (self.x0 + self.e + 2.0 * short);
            ((at - 0.1).max(0.0), (at + 0.1).min(1.0))
        }
    }

    /// The level (with the shift back) at the end when `passed` went
    /// through and `lost` spilled over the depth.
    fn end(&self, passed: f64, lost: f64) -> f64 {
        (self.x0 + self.refill - passed - lost).clamp(0.0, self.depth) + self.shift
    }
}

/// `x` rounded to a whole number up or down at random, by its fraction:
/// unbiased.
fn round_random(x: f64, rng: &mut SimRng) -> u64 {
    if x <= 0.0 {
        return 0;
    }
    let whole = x.floor();
    let frac = x - whole;
    let up = frac > 0.0 && rng.random::<f64>() < frac;
    whole as u64 + u64::from(up)
}

/// A uniform draw in (0, 1].
fn open01(rng: &mut SimRng) -> f64 {
    1.0 - rng.random::<f64>()
}

/// `total * part / whole`, rounded down (all of it when `part == whole`).
#[inline]
pub(super) fn share(total: u64, part: u64, whole: u64) -> u64 {
    if part >= whole {
        total
    } else {
        (u128::from(total) * u128::from(part) / u128::from(whole.max(1))) as u64
    }
}

#[cfg(test)]
mod tests {
    use rand_distr::{Distribution, Exp, Poisson};

    use super::*;
    use crate::kds::WriteLimit;
    use crate::sim::rng::{Purpose, stream};

    const S: SimTime = NANOS_PER_SEC;

    /// Records refused over `secs` seconds at `rate` records/s (Poisson,
    /// 100 bytes each) by a 1,000 records/s bucket: one record at a time,
    /// and as flows over intervals of `interval`.
    fn refused(rate: f64, secs: u64, interval: SimTime, seed: u64) -> (u64, u64) {
        let new = || Limiter::new(WriteLimit::TokenBucket { burst: S }, 1000, 1 << 20, 1 << 20);
        let mut rng = stream(seed, Purpose::Flows, 0);
        let (mut l, mut t, mut per_record) = (new(), 0.0, 0u64);
        let gap = Exp::new(rate).unwrap();
        loop {
            t += gap.sample(&mut rng);
            if t >= secs as f64 {
                break;
            }
            per_record += u64::from(l.admit((t * 1e9) as SimTime, 100).is_err());
        }
        let (mut l, mut flow) = (new(), 0u64);
        let count = Poisson::new(rate * interval as f64 / 1e9).unwrap();
        for i in 0..secs * S / interval {
            let n = count.sample(&mut rng) as u64;
            let offer = Offer {
                records: n,
                bytes: 100 * n,
                var_records: n as f64,
                var_bytes: n as f64 * 10_000.0,
            };
            let p = pass(
                &mut l,
                i * interval,
                (i + 1) * interval,
                &offer,
                None,
                &mut rng,
            );
            flow += n - p.records;
        }
        (per_record, flow)
    }

    /// Over 1 s and 100 ms intervals, a flow loses what records sent one
    /// at a time lose, within the noise of the arrivals and 1 %, from just
    /// under the limit to twice it (without retries: those are `flow`'s).
    #[test]
    fn a_flow_is_refused_as_its_records_are_one_by_one() {
        for interval in [S, S / 10] {
            for (rate, secs) in [(950.0, 1000), (1020.0, 1000), (1200.0, 300), (2000.0, 100)] {
                let (mut a, mut b) = (0, 0);
                for seed in 0..4 {
                    let (x, y) = refused(rate, secs, interval, seed);
                    a += x;
                    b += y;
                }
                // The arrivals differ: their counts' noise (4 standard
                // deviations of the difference) and 1 % more.
                let allowed = 4.0 * (2.0 * rate * secs as f64 * 4.0).sqrt() + 0.01 * a as f64;
                assert!(
                    (a as f64 - b as f64).abs() <= allowed,
                    "{rate}/s over {interval} ns steps: one by one {a}, as a flow {b}"
                );
            }
        }
    }
}
