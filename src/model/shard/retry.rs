//! Records waiting for a retry on one shard. The records refused together
//! (one group, one attempt count, one interval) are kept as a *wave*: how
//! many, and the law of their retry times. They were sent uniformly over
//! an interval, then answered after the request latency and retried after
//! a backoff whose jitter is uniform (KDS-REFERENCE.md §7a for the SDKs'
//! backoffs; the model is [`crate::model::backoff`]), so their retry time
//! is the sum of two uniforms. A wave gives its records out as their times
//! come: those due before `t` are `floor(n F(t) + u)` for its law's
//! distribution function `F` and one uniform `u` drawn with it (systematic
//! sampling: whole records, none lost or made, every interval's count
//! unbiased). An interval of any width asks what is due in it, so a step
//! cut in sub-steps sees its own early retries without bins of its own.
//! Memory follows the waves of the retry horizon, not the records.

use rand::RngExt;

use crate::sim::SimTime;
use crate::sim::rng::SimRng;

/// Records of one group due again in an interval, after the same number
/// of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Retry {
    pub(super) group: u32,
    /// Attempts made so far.
    pub(super) attempts: u32,
    /// Kinesis records (aggregates count one each).
    pub(super) records: u64,
    /// User records inside them.
    pub(super) users: u64,
    pub(super) bytes: u64,
}

/// One throttled part to wait for its retry.
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

/// Records refused together, given out as their retry times come.
#[derive(Debug, Clone, Copy)]
struct Wave {
    group: u32,
    attempts: u32,
    /// The count the law's shares are of (the refused records; those
    /// re-routed from a closed shard).
    of: f64,
    /// The records kept (not expired), and their users and bytes: all are
    /// due before `end`.
    records: u64,
    users: u64,
    bytes: u64,
    /// `1 / records`.
    per_record: f64,
    /// Records, users and bytes given out so far, and what the last
    /// [`Pending::peek_due`] would give (to [`Pending::commit`]).
    given: (u64, u64, u64),
    next: (u64, u64, u64),
    /// The law's origin: `F(t) = law.cdf(t - start)`.
    start: SimTime,
    end: SimTime,
    law: UniformSum,
    /// Shares are `(F(t) - base) * scale` (0 and 1 for a new wave; a
    /// re-routed one keeps only the part of its law after the re-routing).
    base: f64,
    scale: f64,
    offset: f64,
}

impl Wave {
    /// Records given out by `t` in all.
    #[inline]
    fn due_by(&self, t: SimTime) -> u64 {
        if t >= self.end {
            return self.records;
        }
        if t <= self.start {
            return 0;
        }
        let share = (self.law.cdf((t - self.start) as f64) - self.base) * self.scale;
        // `as` truncates (and saturates a negative to 0): the floor.
        ((self.of * share + self.offset) as u64).min(self.records)
    }

    /// Records, users and bytes given out by `t` in all: users and bytes
    /// go with the records, the last takes the exact rest.
    #[inline]
    fn cumulative(&self, t: SimTime) -> (u64, u64, u64) {
        let r = self.due_by(t).max(self.given.0);
        if r >= self.records {
            return (self.records, self.users, self.bytes);
        }
        let per = r as f64 * self.per_record;
        let part = |total: u64, given: u64| ((total as f64 * per) as u64).clamp(given, total);
        (
            r,
            if self.users == self.records {
                r
            } else {
                part(self.users, self.given.1)
            },
            part(self.bytes, self.given.2),
        )
    }
}

/// The retries waiting on one shard: its waves, oldest first.
#[derive(Debug, Clone, Default)]
pub(super) struct Pending {
    waves: Vec<Wave>,
}

impl Pending {
    /// Whether nothing waits.
    pub(super) fn is_empty(&self) -> bool {
        self.waves.is_empty()
    }

    /// User records waiting, by group, added to `users`, and Kinesis
    /// records and bytes waiting, added to `waiting`.
    pub(super) fn add_waiting(&self, users: &mut [u64], waiting: &mut (u64, u64)) {
        for w in &self.waves {
            users[w.group as usize] += w.users - w.given.1;
            waiting.0 += w.records - w.given.0;
            waiting.1 += w.bytes - w.given.2;
        }
    }

    /// User records waiting.
    pub(super) fn users(&self) -> u64 {
        self.waves.iter().map(|w| w.users - w.given.1).sum()
    }

    /// Puts in `out` what is due before `until` and not yet given, one
    /// entry per group and attempt count (in the order of their oldest
    /// wave), without giving it out: [`Pending::commit`] does. Returns the
    /// records.
    pub(super) fn peek_due(&mut self, until: SimTime, out: &mut Vec<Retry>) -> u64 {
        let mut total = 0;
        for w in &mut self.waves {
            w.next = w.cumulative(until);
            let records = w.next.0 - w.given.0;
            if records == 0 && w.next.1 == w.given.1 {
                continue;
            }
            total += records;
            let r = Retry {
                group: w.group,
                attempts: w.attempts,
                records,
                users: w.next.1 - w.given.1,
                bytes: w.next.2 - w.given.2,
            };
            match out
                .iter_mut()
                .find(|x| x.group == r.group && x.attempts == r.attempts)
            {
                Some(x) => {
                    x.records += r.records;
                    x.users += r.users;
                    x.bytes += r.bytes;
                }
                None => out.push(r),
            }
        }
        total
    }

    /// Gives out what the last [`Pending::peek_due`] found due; waves
    /// given out in full are done.
    pub(super) fn commit(&mut self) {
        for w in &mut self.waves {
            w.given = w.next;
        }
        self.waves
            .retain(|w| w.given.0 < w.records || w.given.1 < w.users);
    }

    /// Moves what is due before `until` to `out` (see
    /// [`Pending::peek_due`]).
    pub(super) fn take_due(&mut self, until: SimTime, out: &mut Vec<Retry>) {
        if self.waves.is_empty() {
            return;
        }
        self.peek_due(until, out);
        self.commit();
    }

    /// Records and bytes due before `until`, nothing given out.
    pub(super) fn due_before(&self, until: SimTime) -> (u64, u64) {
        self.waves.iter().fold((0, 0), |(r, b), w| {
            let c = w.cumulative(until);
            (r + c.0 - w.given.0, b + c.2 - w.given.2)
        })
    }

    /// Adds the refused part `t`, its retry times drawn as a wave (one
    /// uniform, for its rounding). Returns the user records that expire
    /// instead (due at or after `t.expires`) and the Kinesis records that
    /// will be retried.
    pub(super) fn add(&mut self, t: &Throttled, rng: &mut SimRng) -> (u64, u64) {
        let start = t.from + t.delay;
        let law = UniformSum::new((t.to - t.from) as f64, t.jitter as f64);
        let offset: f64 = rng.random();
        let mut wave = Wave {
            group: t.group,
            attempts: t.attempts,
            of: t.records as f64,
            records: t.records,
            users: t.users,
            bytes: t.bytes,
            per_record: 1.0 / t.records.max(1) as f64,
            given: (0, 0, 0),
            next: (0, 0, 0),
            start,
            end: start + (t.to - t.from) + t.jitter + 1,
            law,
            base: 0.0,
            scale: 1.0,
            offset,
        };
        let mut expired = 0;
        if let Some(e) = t.expires
            && e < wave.end
        {
            // Those due from `e` on expire: the wave keeps what is due
            // before it, as it would have given it out.
            let kept = wave.due_by(e);
            let per = kept as f64 / t.records.max(1) as f64;
            let users = if kept == t.records {
                t.users
            } else {
                ((t.users as f64 * per) as u64).min(t.users)
            };
            expired = t.users - users;
            wave.records = kept;
            wave.users = users;
            wave.bytes = ((t.bytes as f64 * per) as u64).min(t.bytes);
            wave.per_record = 1.0 / kept.max(1) as f64;
            wave.end = e;
        }
        let kept = wave.records;
        if kept > 0 || wave.users > 0 {
            self.waves.push(wave);
        }
        (expired, kept)
    }

    /// Takes what waits, for a shard that closed at `now`, as parts of
    /// what each wave has left to give (in the waves' order) with their
    /// laws from `now` on: [`Pending::adopt`] puts a share of each on
    /// another shard.
    pub(super) fn take_all(&mut self, now: SimTime) -> Vec<Left> {
        self.waves
            .drain(..)
            .map(|w| {
                let at = |t: SimTime| {
                    if t <= w.start {
                        0.0
                    } else {
                        w.law.cdf((t - w.start) as f64)
                    }
                };
                let (base, top) = (at(now.max(w.start)), at(w.end));
                Left {
                    retry: Retry {
                        group: w.group,
                        attempts: w.attempts,
                        records: w.records - w.given.0,
                        users: w.users - w.given.1,
                        bytes: w.bytes - w.given.2,
                    },
                    wave: Wave {
                        base,
                        scale: if top > base { 1.0 / (top - base) } else { 0.0 },
                        // Nothing of the law left: all due at once.
                        end: if top > base { w.end } else { now },
                        ..w
                    },
                }
            })
            .collect()
    }

    /// Adds `share` of a wave `left` of a closed shard.
    pub(super) fn adopt(&mut self, left: &Left, share: Retry) {
        if share.records == 0 && share.users == 0 {
            return;
        }
        self.waves.push(Wave {
            of: share.records as f64,
            records: share.records,
            users: share.users,
            bytes: share.bytes,
            per_record: 1.0 / share.records.max(1) as f64,
            given: (0, 0, 0),
            next: (0, 0, 0),
            ..left.wave
        });
    }
}

/// What a wave of a closed shard has left to give, and its law from the
/// closing on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Left {
    pub(super) retry: Retry,
    wave: Wave,
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
    use crate::sim::rng::{Purpose, stream};

    const MS: SimTime = 1_000_000;

    /// 1,000 records (3,000 users, 100,000 bytes) sent over [0, 100 ms),
    /// due 20 ms later plus a backoff uniform on [0, 1 s).
    fn refused(expires: Option<SimTime>) -> Throttled {
        Throttled {
            group: 0,
            attempts: 1,
            records: 1_000,
            users: 3_000,
            bytes: 100_000,
            from: 0,
            to: 100 * MS,
            delay: 20 * MS,
            jitter: 1_000 * MS,
            expires,
        }
    }

    fn sum(v: &[Retry]) -> (u64, u64, u64) {
        v.iter().fold((0, 0, 0), |a, r| {
            (a.0 + r.records, a.1 + r.users, a.2 + r.bytes)
        })
    }

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
    fn a_wave_gives_out_every_record_as_the_backoff_falls() {
        let rng = &mut stream(1, Purpose::Flows, 0);
        let mut p = Pending::default();
        assert_eq!(p.add(&refused(None), rng), (0, 1_000));
        let mut per = Vec::new();
        let mut all = Vec::new();
        for k in 1..=13 {
            let mut out = Vec::new();
            p.take_due(k * 100 * MS, &mut out);
            per.push(sum(&out).0);
            all.extend(out);
        }
        assert_eq!(sum(&all), (1_000, 3_000, 100_000));
        assert!(p.is_empty());
        // Due from 20 ms to 1.12 s: about 100 in each 100 ms between
        // 200 ms and 1 s, give or take the rounding; none after 1.12 s.
        assert!(
            per[2..10].iter().all(|&r| (99..=101).contains(&r)),
            "{per:?}"
        );
        assert_eq!(per[12], 0);
        // By 100 ms, 80 ms past the first: 0.08^2 / (2 0.1 1) = 3.2 %.
        assert!((30..=34).contains(&per[0]), "{per:?}");
    }

    #[test]
    fn asking_more_often_gives_out_the_same_records() {
        // Whatever intervals ask, the records given by a time are the
        // same: a step cut in sub-steps changes none of its totals.
        let (mut a, mut b) = (Pending::default(), Pending::default());
        a.add(&refused(None), &mut stream(2, Purpose::Flows, 0));
        b.add(&refused(None), &mut stream(2, Purpose::Flows, 0));
        let (mut ga, mut gb) = (Vec::new(), Vec::new());
        for k in 1..=24 {
            a.take_due(k * 50 * MS, &mut ga);
            if k % 4 == 0 {
                b.take_due(k * 50 * MS, &mut gb);
                assert_eq!(sum(&ga), sum(&gb), "at {} ms", k * 50);
            }
        }
    }

    #[test]
    fn peeking_gives_nothing_out_until_committed() {
        let mut p = Pending::default();
        p.add(&refused(None), &mut stream(3, Purpose::Flows, 0));
        let before = p.due_before(500 * MS);
        let mut out = Vec::new();
        assert_eq!(p.peek_due(500 * MS, &mut out), before.0);
        assert_eq!((sum(&out).0, sum(&out).2), before);
        assert_eq!(p.due_before(500 * MS), before);
        p.commit();
        assert_eq!(p.due_before(500 * MS), (0, 0));
        assert_eq!(p.users() + sum(&out).1, 3_000);
    }

    #[test]
    fn records_due_past_their_time_to_live_expire() {
        // Those due from 600 ms on (of 20 ms to 1.12 s): about 47 %.
        let mut p = Pending::default();
        let (expired, kept) = p.add(&refused(Some(600 * MS)), &mut stream(4, Purpose::Flows, 0));
        assert!((1_350..=1_500).contains(&expired), "{expired}");
        let mut out = Vec::new();
        p.take_due(600 * MS, &mut out);
        assert_eq!(sum(&out).0, kept);
        assert_eq!(sum(&out).1 + expired, 3_000);
        assert!(p.is_empty());
    }

    #[test]
    fn a_closed_shards_waves_are_shared_with_their_law_from_the_closing() {
        let rng = &mut stream(5, Purpose::Flows, 0);
        let mut p = Pending::default();
        p.add(&refused(None), rng);
        p.add(
            &Throttled {
                attempts: 2,
                ..refused(None)
            },
            rng,
        );
        let mut early = Vec::new();
        p.take_due(400 * MS, &mut early);
        let given = sum(&early);
        let (mut a, mut b) = (Pending::default(), Pending::default());
        let mut left = (0, 0, 0);
        for l in p.take_all(400 * MS) {
            let r = l.retry;
            let third = Retry {
                records: r.records / 3,
                users: r.users / 3,
                bytes: r.bytes / 3,
                ..r
            };
            a.adopt(&l, third);
            b.adopt(
                &l,
                Retry {
                    records: r.records - third.records,
                    users: r.users - third.users,
                    bytes: r.bytes - third.bytes,
                    ..r
                },
            );
            left = (left.0 + r.records, left.1 + r.users, left.2 + r.bytes);
        }
        assert!(p.is_empty());
        assert_eq!(
            (given.0 + left.0, given.1 + left.1, given.2 + left.2),
            (2_000, 6_000, 200_000)
        );
        // Nothing at once: the rest comes as the law falls after 400 ms,
        // evenly until 1.02 s (about 1 % each 10 ms of the 720 left).
        let mut soon = Vec::new();
        b.take_due(410 * MS, &mut soon);
        let r = sum(&soon).0 as f64 / (2.0 / 3.0 * left.0 as f64);
        assert!(r > 0.005 && r < 0.03, "{r}");
        let (mut ra, mut rb) = (soon, Vec::new());
        a.take_due(2_000 * MS, &mut rb);
        b.take_due(2_000 * MS, &mut ra);
        let total = (sum(&ra).0 + sum(&rb).0, sum(&ra).1 + sum(&rb).1);
        assert_eq!(total, (left.0, left.1));
        assert!(a.is_empty() && b.is_empty());
    }
}
