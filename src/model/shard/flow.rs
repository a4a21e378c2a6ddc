//! One shard's flows in one step: the records offered to it (drawn as
//! counts), those due again after a backoff, and what its write limits let
//! through, in the flow form of the token bucket or window
//! ([`Limiter::room`]).
//!
//! # The rules of the step
//!
//! - New user records of a group: a Poisson count of the group's expected
//!   records times the shard's weight (even arrivals: a binomial of the
//!   group's whole count); too large ones and those of a full buffer are
//!   refused first; bytes are drawn as a sum (normal when many).
//! - Admission: over an interval, the limiter passes what its tokens at the
//!   start and its refill over the interval allow, first the records'
//!   count, then their bytes at their mean size; everything offered in the
//!   interval shares the refusals in proportion.
//! - A step is refined only where that matters: when the shard's tokens at
//!   the start or at the end could run out within it (within 3 standard
//!   deviations of the arrival count) or retries are due in it, the step is
//!   cut into sub-steps of the engine's `fine` length, the new records
//!   split over them exactly as a Poisson process would (binomial
//!   bridges), and retries due within the step are offered again in it.
//!   A quiet shard costs one draw per group and step.
//! - A throttled part is retried as up to [`RETRY_SPLIT`] cohorts, each
//!   with its own backoff draw, or fails at its last attempt or past its
//!   time to live, as the record engine decides per record.

use rand_distr::{Binomial, Distribution, Poisson};

use super::group::{GroupFlow, GroupStep};
use crate::kds::{Limiter, prices};
use crate::metrics::{ProducerCounts, ShardCounts};
use crate::model::backoff;
use crate::sim::SimTime;
use crate::sim::rng::SimRng;

/// Cohorts a throttled part is split into, each with its own backoff.
pub(super) const RETRY_SPLIT: u64 = 4;

/// Quantiles of a first attempt's wait (batching, aggregation) at which
/// its put latency is recorded.
const WAIT_POINTS: u64 = 4;

/// Records of one group that travel together: new in this step, or due
/// again after a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cohort {
    pub(super) group: u32,
    /// Attempts made so far (0: new).
    pub(super) attempts: u32,
    /// When it is sent (new: the step's start; its records are spread
    /// over the step).
    pub(super) due: SimTime,
    /// Time since the records were produced, when they are sent.
    pub(super) age: SimTime,
    /// Kinesis records (aggregates count one each).
    pub(super) records: u64,
    /// User records inside them.
    pub(super) users: u64,
    pub(super) bytes: u64,
    /// New records: the longest a record waits (aggregation, batching)
    /// before its first attempt.
    pub(super) wait: SimTime,
}

/// What one shard did in one step, merged into the run's metrics in shard
/// order.
#[derive(Debug, Default)]
pub(super) struct StepOut {
    pub(super) counts: ShardCounts,
    pub(super) producer: ProducerCounts,
    /// `(put latency, user records)`.
    pub(super) latency: Vec<(SimTime, u64)>,
    /// Kinesis records and bytes accepted.
    pub(super) accepted: (u64, u64),
    pub(super) units: f64,
    pub(super) billed: f64,
    /// Per group: Kinesis record attempts, and those accepted.
    pub(super) sends: Vec<(u64, u64)>,
    /// Per group: bytes of new records that can reach the stream.
    pub(super) offered_bytes: Vec<u64>,
    /// Per group: new user records offered (for the per-key counts).
    pub(super) new_users: Vec<u64>,
    /// First attempts of records with a fresh random key.
    pub(super) random_keys: u64,
    /// Per group: user records awaiting a retry after the step.
    pub(super) pending_users: Vec<u64>,
}

impl StepOut {
    fn reset(&mut self, groups: usize) {
        self.counts = ShardCounts::default();
        self.producer = ProducerCounts::default();
        self.latency.clear();
        self.accepted = (0, 0);
        self.units = 0.0;
        self.billed = 0.0;
        for v in [
            &mut self.offered_bytes,
            &mut self.new_users,
            &mut self.pending_users,
        ] {
            v.clear();
            v.resize(groups, 0);
        }
        self.sends.clear();
        self.sends.resize(groups, (0, 0));
        self.random_keys = 0;
    }
}

/// What every shard's step shares.
#[derive(Debug, Clone, Copy)]
pub(super) struct StepCtx<'a, 's> {
    pub(super) t0: SimTime,
    pub(super) t1: SimTime,
    /// Sub-step length where a step is refined (the step itself: never).
    pub(super) fine: SimTime,
    pub(super) groups: &'a [GroupFlow<'s>],
    pub(super) steps: &'a [GroupStep],
}

/// A stream-level cap on a shard's admissions this step (on-demand
/// capacity), and which limit it stands for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cap {
    pub(super) records: u64,
    pub(super) by_records: bool,
    pub(super) by_bytes: bool,
}

/// One shard's flows.
#[derive(Debug)]
pub(super) struct ShardFlow {
    rng: SimRng,
    /// Cohorts awaiting a retry, due in a later step.
    pub(super) pending: Vec<Cohort>,
    /// This step's offer: new cohorts, then those due.
    offer: Vec<Cohort>,
    /// Scratch: one sub-step's offer.
    part: Vec<Cohort>,
    /// Records and bytes offered this step (after [`ShardFlow::draw`]).
    pub(super) demand: (u64, u64),
    pub(super) out: StepOut,
}

impl ShardFlow {
    pub(super) fn new(rng: SimRng) -> ShardFlow {
        ShardFlow {
            rng,
            pending: Vec::new(),
            offer: Vec::new(),
            part: Vec::new(),
            demand: (0, 0),
            out: StepOut::default(),
        }
    }

    /// Draws the step's new records of shard `s` and gathers the retries
    /// due in it.
    pub(super) fn draw(&mut self, s: usize, ctx: &StepCtx<'_, '_>) {
        self.out.reset(ctx.groups.len());
        self.offer.clear();
        let secs = (ctx.t1 - ctx.t0) as f64 / crate::units::NANOS_PER_SEC as f64;
        for (g, (group, step)) in ctx.groups.iter().zip(ctx.steps).enumerate() {
            let w = group.weights.get(s).copied().unwrap_or(0.0);
            if w <= 0.0 {
                continue;
            }
            let lambda = step.records * w;
            let n = if group.poisson {
                if lambda <= 0.0 {
                    0
                } else {
                    Poisson::new(lambda).map_or(0, |p| p.sample(&mut self.rng) as u64)
                }
            } else if w >= 1.0 {
                step.count
            } else {
                Binomial::new(step.count, w).map_or(0, |b| b.sample(&mut self.rng))
            };
            if n == 0 {
                continue;
            }
            let p = &mut self.out.producer;
            p.produced += n;
            let too_large = group.draw_too_large(n, &mut self.rng);
            p.rejected_too_large += too_large;
            let users = n - too_large;
            let bytes = group.draw_bytes(users, &mut self.rng);
            // What can reach the stream: counted before the buffer check.
            self.out.offered_bytes[g] += bytes;
            if step.drop_new {
                self.out.producer.dropped_buffer_full += users;
                continue;
            }
            self.out.new_users[g] += users;
            if group.spec.keys.table().is_none() {
                self.out.random_keys += users;
            }
            let (records, extra, agg_wait) = match &group.spec.aggregation {
                Some(agg) => {
                    let rate = lambda / secs / group.producers;
                    let pack = GroupFlow::aggregate(agg, group.mean_bytes, users, rate);
                    self.out.producer.aggregates += pack.aggregates;
                    (pack.records, pack.extra_bytes, pack.wait)
                }
                None => (users, 0, 0),
            };
            if users == 0 {
                continue;
            }
            self.offer.push(Cohort {
                group: g as u32,
                attempts: 0,
                due: ctx.t0,
                age: 0,
                records,
                users,
                bytes: bytes + extra,
                wait: agg_wait + step.batch_wait,
            });
        }
        // Retries due within the step join it, in due order.
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].due < ctx.t1 {
                self.offer.push(self.pending.swap_remove(i));
            } else {
                i += 1;
            }
        }
        let new = self.offer.iter().filter(|c| c.attempts == 0).count();
        self.offer[new..].sort_unstable_by_key(|c| (c.due, c.group, c.attempts));
        self.demand = self
            .offer
            .iter()
            .fold((0, 0), |(r, b), c| (r + c.records, b + c.bytes));
    }

    /// Admits the step's offer through `limiter` (and the stream's `cap`).
    pub(super) fn admit(&mut self, limiter: &mut Limiter, cap: Option<Cap>, ctx: &StepCtx<'_, '_>) {
        let (t0, t1) = (ctx.t0, ctx.t1);
        let mut cap = cap;
        let (d, db) = self.demand;
        let retries = self.offer.iter().any(|c| c.attempts > 0);
        let refine = ctx.fine < t1 - t0
            && matches!(limiter, Limiter::Bucket { .. })
            && (retries || at_risk(limiter, t0, t1, d, db));
        if !refine {
            let mut offer = std::mem::take(&mut self.offer);
            self.admit_part(limiter, t0, t1, &offer, &mut cap, ctx, false);
            offer.clear();
            self.offer = offer;
        } else {
            self.refined(limiter, &mut cap, ctx);
        }
        for c in &self.pending {
            self.out.pending_users[c.group as usize] += c.users;
        }
    }

    /// The step in sub-steps: new records split as a Poisson process's
    /// counts are (binomial bridges), retries at their due times.
    fn refined(&mut self, limiter: &mut Limiter, cap: &mut Option<Cap>, ctx: &StepCtx<'_, '_>) {
        let (t0, t1) = (ctx.t0, ctx.t1);
        let parts = (t1 - t0).div_ceil(ctx.fine);
        let mut offer = std::mem::take(&mut self.offer);
        let mut part = std::mem::take(&mut self.part);
        let new = offer.iter().filter(|c| c.attempts == 0).count();
        for j in 0..parts {
            let (a, b) = (t0 + j * ctx.fine, (t0 + (j + 1) * ctx.fine).min(t1));
            part.clear();
            let left = parts - j;
            for c in offer[..new].iter_mut() {
                if c.records == 0 {
                    continue;
                }
                let r = if left == 1 {
                    c.records
                } else {
                    Binomial::new(c.records, 1.0 / left as f64)
                        .map_or(0, |bin| bin.sample(&mut self.rng))
                };
                if r == 0 {
                    continue;
                }
                let users = share(c.users, r, c.records);
                let bytes = share(c.bytes, r, c.records);
                c.records -= r;
                c.users -= users;
                c.bytes -= bytes;
                part.push(Cohort {
                    due: a,
                    records: r,
                    users,
                    bytes,
                    ..*c
                });
            }
            // Retries due in this sub-step (the offer's tail, in due order,
            // and those the sub-steps before threw back into the step).
            let mut i = new;
            while i < offer.len() {
                if offer[i].due < b {
                    part.push(offer.remove(i));
                } else {
                    i += 1;
                }
            }
            let later = self.admit_part(limiter, a, b, &part, cap, ctx, true);
            for c in later {
                // Kept in due order behind the new cohorts.
                let at = offer[new..].partition_point(|o| o.due <= c.due) + new;
                offer.insert(at, c);
            }
        }
        // Cohorts due within the step but after its last sub-step began
        // (none: the last sub-step takes all due before the step's end).
        debug_assert!(offer[new..].is_empty());
        offer.clear();
        part.clear();
        self.offer = offer;
        self.part = part;
    }

    /// Admits the cohorts `offer` over `[a, b)`. Throttled parts become
    /// retries; with `within`, those due before the step ends are
    /// returned, to be offered again in it.
    #[allow(clippy::too_many_arguments)]
    fn admit_part(
        &mut self,
        limiter: &mut Limiter,
        a: SimTime,
        b: SimTime,
        offer: &[Cohort],
        cap: &mut Option<Cap>,
        ctx: &StepCtx<'_, '_>,
        within: bool,
    ) -> Vec<Cohort> {
        let mut back = Vec::new();
        let (d, db) = offer
            .iter()
            .fold((0u64, 0u64), |(r, by), c| (r + c.records, by + c.bytes));
        if d == 0 {
            return back;
        }
        let room = limiter.room(a, b);
        let by_records = room.records < d;
        let by_bytes_room = if db <= room.bytes {
            d
        } else {
            let n = (u128::from(room.bytes) * u128::from(d) / u128::from(db)) as u64;
            if n == 0 && room.one_large && room.records > 0 {
                1
            } else {
                n
            }
        };
        let by_bytes = by_bytes_room < d;
        let mut admitted = d.min(room.records).min(by_bytes_room);
        let (mut cap_records, mut cap_bytes) = (false, false);
        if let Some(c) = cap.as_mut() {
            if c.records < admitted {
                admitted = c.records;
                cap_records = c.by_records;
                cap_bytes = c.by_bytes;
            }
            c.records -= admitted;
        }
        let throttled = d - admitted;
        let counts = &mut self.out.counts;
        counts.offered_records += d;
        counts.offered_bytes += db;
        counts.throttled_records += throttled;
        if throttled > 0 {
            if by_records || cap_records {
                counts.throttled_by_records += throttled;
            }
            if by_bytes || cap_bytes {
                counts.throttled_by_bytes += throttled;
            }
        }
        // Each cohort takes its share of the admitted records: cumulative
        // floors, so the shares sum to the admitted count exactly.
        let (mut cum, mut given, mut taken_bytes) = (0u64, 0u64, 0u64);
        for c in offer {
            cum += c.records;
            let upto = (u128::from(admitted) * u128::from(cum) / u128::from(d)) as u64;
            let take = upto - given;
            given = upto;
            let group = &ctx.groups[c.group as usize];
            let users = share(c.users, take, c.records);
            let bytes = share(c.bytes, take, c.records);
            taken_bytes += bytes;
            let sends = &mut self.out.sends[c.group as usize];
            sends.0 += c.records;
            sends.1 += take;
            if take > 0 {
                self.accepted(c, group, take, users, bytes);
            }
            let (r, u, by) = (c.records - take, c.users - users, c.bytes - bytes);
            if r > 0 {
                self.throttled(c, group, a, b, (r, u, by), ctx, within, &mut back);
            }
        }
        limiter.take_flow(a, b, admitted, taken_bytes);
        let counts = &mut self.out.counts;
        counts.accepted_records += admitted;
        counts.accepted_bytes += taken_bytes;
        self.out.accepted.0 += admitted;
        self.out.accepted.1 += taken_bytes;
        back
    }

    /// Counts `take` accepted records of cohort `c` (`users` user records,
    /// `bytes`): their latency and billing.
    fn accepted(&mut self, c: &Cohort, group: &GroupFlow<'_>, take: u64, users: u64, bytes: u64) {
        let out = &mut self.out;
        out.producer.accepted += users;
        let latency = group.spec.request_latency;
        if c.attempts == 0 && c.wait > 0 {
            // Waits spread evenly up to the longest.
            for q in 0..WAIT_POINTS {
                let n = share(users, q + 1, WAIT_POINTS) - share(users, q, WAIT_POINTS);
                if n > 0 {
                    let wait = c.wait * (2 * q + 1) / (2 * WAIT_POINTS);
                    out.latency.push((latency + wait, n));
                }
            }
        } else {
            out.latency.push((c.age + latency, users));
        }
        if c.users == c.records {
            out.units += take as f64 * group.units_per_record;
            out.billed += take as f64 * group.billed_per_record;
        } else {
            let mean = bytes.div_ceil(take.max(1));
            out.units += (take * prices::payload_units(mean, group.payload_unit)) as f64;
            out.billed += (take * prices::billed_in_bytes(mean)) as f64;
        }
    }

    /// The throttled part `(records, users, bytes)` of cohort `c`, offered
    /// over `[a, b)`: retried in up to [`RETRY_SPLIT`] cohorts, or failed.
    #[allow(clippy::too_many_arguments)]
    fn throttled(
        &mut self,
        c: &Cohort,
        group: &GroupFlow<'_>,
        a: SimTime,
        b: SimTime,
        (records, users, bytes): (u64, u64, u64),
        ctx: &StepCtx<'_, '_>,
        within: bool,
        back: &mut Vec<Cohort>,
    ) {
        let retry = group.retry();
        let attempts = c.attempts + 1;
        let p = &mut self.out.producer;
        if attempts >= retry.max_attempts {
            p.failed_after_retries += users;
            return;
        }
        let latency = group.spec.request_latency;
        let split = records.min(RETRY_SPLIT);
        for i in 0..split {
            let r = share(records, i + 1, split) - share(records, i, split);
            let u = share(users, i + 1, split) - share(users, i, split);
            let by = share(bytes, i + 1, split) - share(bytes, i, split);
            // New records are sent across the interval, after half their
            // longest wait on average; a retry at its due time.
            let (sent, age) = if c.attempts == 0 {
                let at = a + (b - a) * (2 * i + 1) / (2 * split);
                (at, c.wait / 2)
            } else {
                (c.due, c.age)
            };
            let delay = latency + backoff(retry, attempts, &mut self.rng);
            let age = age + delay;
            if retry.ttl.is_some_and(|ttl| age >= ttl) {
                self.out.producer.expired += u;
                continue;
            }
            self.out.producer.retries += r;
            let next = Cohort {
                group: c.group,
                attempts,
                due: sent + delay,
                age,
                records: r,
                users: u,
                bytes: by,
                wait: 0,
            };
            if within && next.due < ctx.t1 {
                back.push(next);
            } else {
                self.park(next, ctx.fine);
            }
        }
    }

    /// Keeps a retry for a later step, merged with one of the same group
    /// and attempt due in the same sub-step (memory follows time, not
    /// records).
    fn park(&mut self, c: Cohort, fine: SimTime) {
        let slot = c.due / fine;
        if let Some(p) = self
            .pending
            .iter_mut()
            .find(|p| p.group == c.group && p.attempts == c.attempts && p.due / fine == slot)
        {
            let users = p.users + c.users;
            p.age = ((u128::from(p.age) * u128::from(p.users)
                + u128::from(c.age) * u128::from(c.users))
                / u128::from(users.max(1))) as SimTime;
            p.due = p.due.min(c.due);
            p.records += c.records;
            p.users = users;
            p.bytes += c.bytes;
        } else {
            self.pending.push(c);
        }
    }
}

/// Whether a bucket could run out within `[t0, t1)` for `d` records
/// (`db` bytes) arriving as a Poisson process: its tokens at the start, or
/// at the end, within 3 standard deviations of the count.
fn at_risk(limiter: &Limiter, t0: SimTime, t1: SimTime, d: u64, db: u64) -> bool {
    if d == 0 {
        return false;
    }
    let start = limiter.room(t0, t0);
    let end = limiter.room(t0, t1);
    let margin = 3.0 * (d as f64).sqrt() + 1.0;
    let mean = db as f64 / d as f64;
    (start.records as f64) < margin
        || (d as f64 + margin) > end.records as f64
        || (start.bytes as f64) < margin * mean
        || (db as f64 + margin * mean) > end.bytes as f64
}

/// `total * part / whole`, rounded down (all of it when `part == whole`).
#[inline]
fn share(total: u64, part: u64, whole: u64) -> u64 {
    if part >= whole {
        total
    } else {
        (u128::from(total) * u128::from(part) / u128::from(whole.max(1))) as u64
    }
}
