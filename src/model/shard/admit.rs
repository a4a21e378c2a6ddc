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
//! is close to a Brownian bridge whose variance is the count's (`n`: for
//! Poisson arrivals, and for PutRecords batches too, whose calls go out
//! nearly periodically, so that their clumps add little variance over a
//! step), and the lowest point of a Brownian bridge has a known law:
//! `P(min < m) = exp(-2 (x0 - m)(e - m) / var)` for `m` under both ends.
//! One uniform draw gives the minimum, so the records refused, with the
//! right mean and spread; the highest point gives the tokens lost at the
//! depth the same way. A step thus needs no sub-steps to throttle
//! correctly; sub-steps are used only to let retries come back within it.
//!
//! A record passes only while a whole token (or its bytes) is left
//! (`kds::Limiter::check`), so about half a record's worth of a bucket is
//! never usable: the boundaries are moved up by half a record and half a
//! mean record's bytes. Where records come in clumps of mean square over
//! mean size `D` (PutRecords batches), the bucket runs dry on a clump's
//! arrival and the overshoot is about `D / 2` records (a random walk's
//! ladder height): the boundaries move up by that. With the clumps' `D`
//! in the path's variance instead (`n D`), a 10-shard stream at exactly
//! its limit with 25 records a shard a call throttled 1.51 % against the
//! record engine's 1.09 %; this way, 1.13 % (3 seeds, 20 minutes).
//!
//! Each shard keeps its limiter's state here in flow form ([`Level`]),
//! under the same rules and parameters as `kds::Limiter` ([`Limits`],
//! from the stream's `write_limit` and the service's quotas): a bucket's
//! tokens as real numbers, a window's use of its second.
//!
//! # Fixed windows
//!
//! An interval lies within one second (steps divide a second), so a window
//! passes what its second has left, first come first served: exact for
//! the counts.

use rand::RngExt;

use crate::kds::WriteLimit;
use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::units::NANOS_PER_SEC;

/// Seconds in a nanosecond: multiplying by it spares a division.
const SECS_PER_NANO: f64 = 1e-9;

/// A boundary is taken as not reached (and nothing drawn) when the chance
/// the path reaches it, `exp(-2 a b / var)`, is under `exp(-REACH)`: 10^-9.
const REACH: f64 = 20.7;

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
    /// The records' clump statistic summed over them (`records` when they
    /// come one at a time): a bucket runs dry on a clump's arrival, so the
    /// mean overshoot is half of `overshoot / records` records.
    pub(super) overshoot: f64,
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

/// A shard's write limits, the same for every shard: token buckets (the
/// depth as time of refill, the byte bucket at least one largest record,
/// as `kds::Limiter::new`) or a fixed one-second window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Limits {
    /// Token buckets.
    Bucket {
        records_cap: f64,
        bytes_cap: f64,
        records_rate: f64,
        bytes_rate: f64,
    },
    /// A window per whole second.
    Window { records_rate: u64, bytes_rate: u64 },
}

impl Limits {
    /// The limits of a shard under `model`, with the service's per-shard
    /// rates and largest record.
    pub(super) fn new(
        model: WriteLimit,
        records_rate: u64,
        bytes_rate: u64,
        max_record: u64,
    ) -> Limits {
        match model {
            WriteLimit::TokenBucket { burst } => {
                let depth = burst as f64 / NANOS_PER_SEC as f64;
                Limits::Bucket {
                    records_cap: (records_rate as f64 * depth).max(1.0),
                    bytes_cap: (bytes_rate as f64 * depth).max(max_record as f64),
                    records_rate: records_rate as f64,
                    bytes_rate: bytes_rate as f64,
                }
            }
            WriteLimit::FixedWindow => Limits::Window {
                records_rate,
                bytes_rate,
            },
        }
    }

    /// A fresh shard's state: full buckets, an unused window.
    pub(super) fn full(&self) -> Level {
        match *self {
            Limits::Bucket {
                records_cap,
                bytes_cap,
                ..
            } => Level {
                records: records_cap,
                bytes: bytes_cap,
                at: 0,
            },
            Limits::Window { .. } => Level::default(),
        }
    }
}

/// One shard's limiter state: a bucket's tokens as of `at`, or a window's
/// records and bytes passed in the second `at` falls in.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Level {
    records: f64,
    bytes: f64,
    at: SimTime,
}

impl Level {
    /// The tokens at `now` (refilled, capped), or what a window's second
    /// has used.
    fn at(&self, limits: &Limits, now: SimTime) -> (f64, f64) {
        match *limits {
            Limits::Bucket {
                records_cap,
                bytes_cap,
                records_rate,
                bytes_rate,
            } => {
                let dt = now.saturating_sub(self.at) as f64 * SECS_PER_NANO;
                (
                    (self.records + records_rate * dt).min(records_cap),
                    (self.bytes + bytes_rate * dt).min(bytes_cap),
                )
            }
            Limits::Window { .. } => {
                if now / NANOS_PER_SEC == self.at / NANOS_PER_SEC {
                    (self.records, self.bytes)
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }
}

impl Passed {
    /// All of `offer`.
    pub(super) fn all(offer: &Offer) -> Passed {
        Passed {
            records: offer.records,
            bytes: offer.bytes,
            ..Passed::default()
        }
    }
}

/// Passes all of `offer` over `[a, b)` if the shard is far below its
/// limits: its buckets within a record (one record's token, one mean
/// record's bytes) of full, and the offer, with 4.5 standard deviations of
/// its path, under half of what the interval refills in both dimensions.
/// Its buckets then end full: the path cannot reach 0 (a chance under
/// 10^-9), and climbing by more than half the refill it ends below its
/// highest point by `var / 2 (e - x0)` on average, under a record (the
/// bridge's excursion beyond its end), which is not drawn. Returns whether
/// it did; the shard engine's rule for a shard that should cost almost
/// nothing.
///
/// Within a record, not exactly full: a step through [`pass`] ends a
/// fraction of a token under the depth (its drawn excursion), and a rule
/// that asked for full buckets would send such a shard through [`pass`]
/// for ever after (the month's shards took the full pass in most steps).
#[inline]
pub(super) fn pass_far_below(
    limits: &Limits,
    level: &mut Level,
    (a, b): (SimTime, SimTime),
    offer: &Offer,
) -> bool {
    let Limits::Bucket {
        records_cap,
        bytes_cap,
        records_rate,
        bytes_rate,
    } = *limits
    else {
        return false;
    };
    let dt = (b - a) as f64 * SECS_PER_NANO;
    let (records, bytes) = level.at(limits, a);
    let far = |level: f64, cap: f64, refill: f64, offered: f64, var: f64, unit: f64| {
        let room = 0.5 * refill - offered;
        level >= cap - unit && room > 0.0 && room * room > REACH * var
    };
    let mean = offer.bytes as f64 / offer.records.max(1) as f64;
    if far(
        records,
        records_cap,
        records_rate * dt,
        offer.records as f64,
        offer.var_records,
        1.0,
    ) && far(
        bytes,
        bytes_cap,
        bytes_rate * dt,
        offer.bytes as f64,
        offer.var_bytes,
        mean.max(1.0),
    ) {
        *level = Level {
            records: records_cap,
            bytes: bytes_cap,
            at: b,
        };
        true
    } else {
        false
    }
}

/// Passes what a shard's limits let through of `offer` over `[a, b)`,
/// from its state `level`, at most `cap` records (the stream's share in
/// on-demand mode), and updates `level` as of `b`.
pub(super) fn pass(
    limits: &Limits,
    level: &mut Level,
    (a, b): (SimTime, SimTime),
    offer: &Offer,
    cap: Option<u64>,
    rng: &mut SimRng,
) -> Passed {
    let n = offer.records;
    let (records, bytes) = level.at(limits, a);
    match *limits {
        Limits::Bucket {
            records_cap,
            bytes_cap,
            records_rate,
            bytes_rate,
        } => {
            let dt = (b - a) as f64 * SECS_PER_NANO;
            if n == 0 {
                // Refilled over the interval, nothing taken.
                *level = Level {
                    records: (records + records_rate * dt).min(records_cap),
                    bytes: (bytes + bytes_rate * dt).min(bytes_cap),
                    at: b,
                };
                return Passed::default();
            }
            let mean = offer.bytes as f64 / n as f64;
            let (r, y) = Dim::pair((records, bytes), limits, dt, offer);
            // One draw for each bound, shared by the two dimensions (the
            // same arrivals drive both); none where neither is near it.
            let ln_low = if r.low == Reach::Near || y.low == Reach::Near {
                -exp1(rng)
            } else {
                0.0
            };
            let ln_high = if r.high == Reach::Near || y.high == Reach::Near {
                -exp1(rng)
            } else {
                0.0
            };
            let (r_short, r_lost) = r.extremes(ln_low, ln_high);
            let (y_short, y_lost) = y.extremes(ln_low, ln_high);
            let y_short_records = if mean > 0.0 { y_short / mean } else { 0.0 };
            let over = if r_short >= y_short_records {
                r.dry_over(r_short)
            } else {
                y.dry_over(y_short)
            };
            let refused = round_random(r_short.max(y_short_records), rng).min(n);
            let mut passed = n - refused;
            let mut capped = false;
            if let Some(c) = cap
                && c < passed
            {
                // The stream's capacity refuses what the shard would have
                // passed; the shard keeps those tokens.
                passed = c;
                capped = true;
            }
            let passed_bytes = part_of(offer.bytes, passed, n);
            *level = Level {
                records: r.end(passed as f64, r_lost),
                bytes: y.end(passed_bytes as f64, y_lost),
                at: b,
            };
            Passed {
                records: passed,
                bytes: passed_bytes,
                by_records: refused > 0 && r_short > 0.0,
                by_bytes: refused > 0 && y_short > 0.0,
                refused_over: if capped { (0.0, 1.0) } else { over },
            }
        }
        Limits::Window {
            records_rate,
            bytes_rate,
        } => {
            if n == 0 {
                return Passed::default();
            }
            let mean = offer.bytes as f64 / n as f64;
            let (room, room_bytes) = (
                records_rate.saturating_sub(records as u64),
                bytes_rate.saturating_sub(bytes as u64),
            );
            let empty = records == 0.0 && bytes == 0.0;
            let by_bytes = if offer.bytes <= room_bytes {
                n
            } else {
                let fit = (room_bytes as f64 / mean.max(1.0)) as u64;
                // A record larger than the byte limit passes an empty window.
                if fit == 0 && empty && room > 0 {
                    1
                } else {
                    fit
                }
            };
            let limited = n.min(room).min(by_bytes);
            let passed = cap.map_or(limited, |c| c.min(limited));
            let passed_bytes = part_of(offer.bytes, passed, n);
            *level = Level {
                records: records + passed as f64,
                bytes: bytes + passed_bytes as f64,
                at: a,
            };
            Passed {
                records: passed,
                bytes: passed_bytes,
                by_records: room < n,
                by_bytes: by_bytes < n,
                // Arrivals spread evenly: the window fills after `passed`.
                refused_over: (passed as f64 / n as f64, 1.0),
            }
        }
    }
}

/// Whether a shard in state `level` may refuse any of `offer` over
/// `[a, b)`: a window without room for it, or a bucket whose path may
/// reach 0 (a chance of 10^-9 or more). Nothing changes.
pub(super) fn may_refuse(
    limits: &Limits,
    level: &Level,
    (a, b): (SimTime, SimTime),
    offer: &Offer,
) -> bool {
    let n = offer.records;
    if n == 0 {
        return false;
    }
    let (records, bytes) = level.at(limits, a);
    match *limits {
        Limits::Bucket { .. } => {
            let dt = (b - a) as f64 * SECS_PER_NANO;
            let (r, y) = Dim::pair((records, bytes), limits, dt, offer);
            r.may_empty() || y.may_empty()
        }
        Limits::Window {
            records_rate,
            bytes_rate,
        } => {
            n as f64 + records > records_rate as f64
                || offer.bytes as f64 + bytes > bytes_rate as f64
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
    /// How the path stands to 0 and to the depth.
    low: Reach,
    high: Reach,
}

impl Dim {
    /// The records and bytes dimensions of a bucket at `(records, bytes)`
    /// tokens over an interval of `dt` seconds taking `offer`.
    #[inline(always)]
    fn pair((records, bytes): (f64, f64), limits: &Limits, dt: f64, offer: &Offer) -> (Dim, Dim) {
        let Limits::Bucket {
            records_cap,
            bytes_cap,
            records_rate,
            bytes_rate,
        } = *limits
        else {
            unreachable!("only buckets have dimensions")
        };
        let n = offer.records as f64;
        let mean = offer.bytes as f64 / n.max(1.0);
        let half = if n > 0.0 {
            0.5 * offer.overshoot / n
        } else {
            0.5
        };
        (
            Dim::new(
                records,
                records_cap,
                records_rate * dt,
                half,
                n,
                offer.var_records,
            ),
            Dim::new(
                bytes,
                bytes_cap,
                bytes_rate * dt,
                half * mean,
                offer.bytes as f64,
                offer.var_bytes,
            ),
        )
    }

    #[inline(always)]
    fn new(level: f64, cap: f64, refill: f64, shift: f64, offered: f64, var: f64) -> Dim {
        let x0 = (level - shift).max(0.0);
        let e = x0 + refill - offered;
        let depth = (cap - shift).max(0.0);
        Dim {
            x0,
            refill,
            e,
            depth,
            var,
            shift,
            low: reach(x0, e, var),
            high: reach(depth - x0, depth - e, var),
        }
    }

    /// Whether the path may reach 0.
    fn may_empty(&self) -> bool {
        self.low != Reach::Out
    }

    /// What keeping the path between 0 and the depth takes: refused below
    /// (records or bytes) and lost above (tokens), from the bridge's lowest
    /// and highest points drawn with `ln_low` and `ln_high` (logarithms of
    /// uniform draws in (0, 1]) where a bound is near. A bound out of
    /// reach takes nothing; one the path ends far past takes what it
    /// passes by at the end plus the bridge's mean excursion beyond it,
    /// `var / 2 |x0 - e|`: its spread is then a fraction of a record.
    #[inline(always)]
    fn extremes(&self, ln_low: f64, ln_high: f64) -> (f64, f64) {
        let (x0, e) = (self.x0, self.e);
        let d = x0 - e;
        let spread = |ln: f64| (d * d - 2.0 * self.var * ln).max(0.0).sqrt();
        let mut short = match self.low {
            Reach::Out => 0.0,
            Reach::Past => -e + self.var / (2.0 * d),
            Reach::Near => (-0.5 * ((x0 + e) - spread(ln_low))).max(0.0),
        };
        let mut lost = match self.high {
            Reach::Out => 0.0,
            Reach::Past => e - self.depth + self.var / (2.0 * -d),
            Reach::Near => (0.5 * ((x0 + e) + spread(ln_high)) - self.depth).max(0.0),
        };
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

/// How a bridge stands to a boundary it starts `a` and ends `b` above
/// (variance `var`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// It reaches it with a chance under 10^-9: `exp(-2 a b / var)`.
    Out,
    /// It ends more than 4.5 standard deviations past it.
    Past,
    /// Otherwise: its extreme point is drawn.
    Near,
}

/// How a bridge `a` and `b` above a boundary at its ends stands to it,
/// compared without exponentials or square roots.
#[inline(always)]
fn reach(a: f64, b: f64, var: f64) -> Reach {
    if a > 0.0 && b > 0.0 && 2.0 * a * b >= REACH * var {
        Reach::Out
    } else if b < 0.0 && a >= 0.0 && b * b > REACH * var && a - b > 0.0 {
        Reach::Past
    } else {
        Reach::Near
    }
}

/// `x` rounded to a whole number up or down at random, by its fraction:
/// unbiased.
fn round_random(x: f64, rng: &mut SimRng) -> u64 {
    if x <= 0.0 {
        return 0;
    }
    // `as` truncates: the floor of a positive number, without a libm call.
    let whole = x as u64;
    let frac = x - whole as f64;
    let up = frac > 0.0 && rng.random::<f64>() < frac;
    whole + u64::from(up)
}

/// A standard exponential draw (the ziggurat: no logarithm as a rule).
#[inline]
fn exp1(rng: &mut SimRng) -> f64 {
    rand_distr::Distribution::sample(&rand_distr::Exp1, rng)
}

/// About `total * part / whole` (all of it when `part == whole`), in
/// floating point: for bytes and user records that go with a whole count
/// of Kinesis records, where a byte more or less does not matter and a
/// 128-bit division per call would.
#[inline]
pub(super) fn part_of(total: u64, part: u64, whole: u64) -> u64 {
    if part >= whole {
        total
    } else {
        ((total as f64 * part as f64 / whole as f64) as u64).min(total)
    }
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
    use crate::sim::rng::{Purpose, stream};

    const S: SimTime = NANOS_PER_SEC;

    /// Records refused over `secs` seconds at `rate` records/s (Poisson,
    /// 100 bytes each) by a 1,000 records/s bucket: one record at a time,
    /// and as flows over intervals of `interval`.
    fn refused(rate: f64, secs: u64, interval: SimTime, seed: u64) -> (u64, u64) {
        let model = WriteLimit::TokenBucket { burst: S };
        let mut rng = stream(seed, Purpose::Flows, 0);
        let mut l = crate::kds::Limiter::new(model, 1000, 1 << 20, 1 << 20);
        let (mut t, mut per_record) = (0.0, 0u64);
        let gap = Exp::new(rate).unwrap();
        loop {
            t += gap.sample(&mut rng);
            if t >= secs as f64 {
                break;
            }
            per_record += u64::from(l.admit((t * 1e9) as SimTime, 100).is_err());
        }
        let limits = Limits::new(model, 1000, 1 << 20, 1 << 20);
        let (mut level, mut flow) = (limits.full(), 0u64);
        let count = Poisson::new(rate * interval as f64 / 1e9).unwrap();
        for i in 0..secs * S / interval {
            let n = count.sample(&mut rng) as u64;
            let offer = Offer {
                records: n,
                bytes: 100 * n,
                var_records: n as f64,
                var_bytes: n as f64 * 10_000.0,
                overshoot: n as f64,
            };
            let span = (i * interval, (i + 1) * interval);
            let p = pass(&limits, &mut level, span, &offer, None, &mut rng);
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

    /// A shard at a tenth of its limits leaves the bridge's full pass as
    /// soon as its buckets are within a record of full: after a pass (which
    /// ends a fraction of a token under the depth) the next step is free
    /// again. Half its limits, or a bucket two records down, is not.
    #[test]
    fn a_shard_far_below_its_limits_takes_the_free_path_after_a_pass() {
        let limits = Limits::new(WriteLimit::TokenBucket { burst: S }, 1000, 1 << 20, 1 << 20);
        let offer = |n: u64| Offer {
            records: n,
            bytes: 100 * n,
            var_records: n as f64,
            var_bytes: n as f64 * 10_000.0,
            overshoot: n as f64,
        };
        let mut rng = stream(1, Purpose::Flows, 0);
        let mut level = limits.full();
        // Half a second's worth taken: the bucket is refilling, not full.
        pass(&limits, &mut level, (0, S), &offer(1500), None, &mut rng);
        assert!(!pass_far_below(
            &limits,
            &mut level,
            (S, 2 * S),
            &offer(100)
        ));
        for i in 2..10 {
            let span = (i * S, (i + 1) * S);
            let p = pass(&limits, &mut level, span, &offer(100), None, &mut rng);
            assert_eq!(p.records, 100);
        }
        let (records, _) = level.at(&limits, 10 * S);
        assert!(records < 1000.0 && records > 999.0, "{records}");
        assert!(pass_far_below(
            &limits,
            &mut level,
            (10 * S, 11 * S),
            &offer(100)
        ));
        assert_eq!(level.at(&limits, 11 * S), (1000.0, (1 << 20) as f64));
        // Two records down, or half the limit offered: the full pass.
        let mut low = Level {
            records: 998.0,
            ..limits.full()
        };
        assert!(!pass_far_below(&limits, &mut low, (0, S), &offer(100)));
        let mut full = limits.full();
        assert!(!pass_far_below(&limits, &mut full, (0, S), &offer(500)));
    }
}
