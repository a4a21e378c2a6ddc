//! One shard's flows in one step: the records offered to it (drawn as
//! counts), those due again after a backoff, and what its write limits let
//! through ([`super::admit`]).
//!
//! # The rules of a step `[t0, t1)`
//!
//! - New user records of a group: a Poisson count of the group's expected
//!   records times the shard's weight (for even arrivals, the shard's part
//!   of a multinomial split of the group's exact count; above 100 a step,
//!   a normal count); too large ones and those of a full buffer are
//!   refused first; their bytes are drawn as a sum (normal). PutRecords
//!   calls bring them in clumps, but calls go out on a timer (the linger)
//!   or when full, nearly periodically: the path within the step varies as
//!   the count does, and a clump shows only where the bucket runs dry, as
//!   overshoot ([`super::admit`]).
//! - As a rule the whole step is admitted at once: the limiter's refusals
//!   come from its path over the step ([`super::admit`]), and a refused
//!   record's retry is due no earlier than the next step. A shard far below
//!   its limits passes everything without a draw.
//! - Where the retries due are at least 5 % of the step's new records and
//!   the limiter may refuse, the step is cut into sub-steps, the new
//!   records split over them as a Poisson process's counts are (binomial
//!   bridges), each offered the retries due by its end; a record refused
//!   in a sub-step may come back in a later one of the same step.
//! - Everything offered in an interval shares its refusals in proportion.
//!   A refused part fails at its last attempt, expires past its time to
//!   live, or waits as a wave with the law of its retry times
//!   ([`super::retry`]).

use rand::RngExt;
use rand_distr::{Binomial, Distribution};

use super::admit::{self, Level, Limits, Offer, part_of};
use super::group::{GroupFlow, GroupStep, expected_blocks};
use super::retry::{Pending, Retry, Throttled};
use crate::metrics::{ProducerCounts, ShardCounts, ShardTotals};
use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::units::NANOS_PER_SEC;

/// Records of one group offered together in an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Part {
    group: u32,
    /// Attempts made before this one (0: new).
    attempts: u32,
    /// Kinesis records (aggregates count one each).
    records: u64,
    /// User records inside them.
    users: u64,
    bytes: u64,
    /// Mean square over mean of the clumps the records arrive in (1:
    /// one at a time): the bucket's overshoot when it runs dry.
    clump: f64,
    /// Variance of one Kinesis record's bytes.
    var_size: f64,
    /// What one record adds to the variance of the bytes' path:
    /// `var_size + mean^2`.
    var_path: f64,
    /// New records: the longest a first attempt waited (aggregation,
    /// batching) before it was sent.
    wait: SimTime,
}

/// Accepted user records of one group after the same number of attempts,
/// for the put latency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Accepted {
    pub(super) group: u32,
    pub(super) attempts: u32,
    pub(super) users: u64,
    /// `users` times their longest first wait, ns.
    pub(super) wait_users: f64,
}

/// What every shard's step shares.
#[derive(Debug, Clone, Copy)]
pub(super) struct StepCtx<'a, 's> {
    pub(super) t0: SimTime,
    pub(super) t1: SimTime,
    /// Every shard's write limits.
    pub(super) limits: Limits,
    /// Width of a sub-step.
    pub(super) fine: SimTime,
    pub(super) groups: &'a [GroupFlow<'s>],
    pub(super) steps: &'a [GroupStep],
    /// Per group, the mean longest first wait of its records (for the age
    /// of retries).
    pub(super) first_waits: &'a [SimTime],
    /// Whether the step ends a second of the run, and whether it is one
    /// whole second.
    pub(super) ends_second: bool,
    pub(super) whole_second: bool,
    /// Whether shard-level minutes are kept (enhanced monitoring).
    pub(super) shard_minutes: bool,
    /// One over the one-second write limits, for utilisation.
    pub(super) per_record: f64,
    pub(super) per_byte: f64,
}

/// What a chunk of shards did in one step, summed in shard order.
#[derive(Debug, Default)]
pub(super) struct Sums {
    pub(super) producer: ProducerCounts,
    /// PUT payload units and on-demand billed bytes of what was accepted.
    pub(super) units: f64,
    pub(super) billed: f64,
    /// Per group: Kinesis record attempts, and those accepted.
    pub(super) sends: Vec<(u64, u64)>,
    /// Per group: new records that can reach the stream (not too large),
    /// and their bytes.
    pub(super) offered_records: Vec<u64>,
    pub(super) offered_bytes: Vec<u64>,
    /// Per group: user records awaiting a retry after the step.
    pub(super) pending_users: Vec<u64>,
    /// Kinesis records and bytes awaiting a retry after the step.
    pub(super) waiting: (u64, u64),
    /// Accepted user records and their summed first waits, by group and
    /// attempts (`latency[group][attempts - 1]`).
    latency: Vec<Vec<(u64, f64)>>,
    /// The second the step closed, if it closed one: its counts summed and
    /// the highest accepted and offered utilisation of a shard.
    pub(super) second: (ShardCounts, f64, f64),
    /// Shards offered anything.
    pub(super) active: u64,
}

impl Sums {
    pub(super) fn reset(&mut self, groups: usize) {
        self.producer = ProducerCounts::default();
        self.units = 0.0;
        self.billed = 0.0;
        for v in [
            &mut self.offered_records,
            &mut self.offered_bytes,
            &mut self.pending_users,
        ] {
            v.clear();
            v.resize(groups, 0);
        }
        self.sends.clear();
        self.sends.resize(groups, (0, 0));
        // Cleared in place: the rows keep their room from step to step.
        self.latency.resize_with(groups, Vec::new);
        for row in &mut self.latency {
            row.fill((0, 0.0));
        }
        self.second = (ShardCounts::default(), 0.0, 0.0);
        self.active = 0;
        self.waiting = (0, 0);
    }

    /// Adds another chunk's sums.
    pub(super) fn add(&mut self, o: &Sums) {
        self.producer.add(&o.producer);
        self.units += o.units;
        self.billed += o.billed;
        for g in 0..self.sends.len() {
            self.sends[g].0 += o.sends[g].0;
            self.sends[g].1 += o.sends[g].1;
            self.pending_users[g] += o.pending_users[g];
            self.offered_records[g] += o.offered_records[g];
            self.offered_bytes[g] += o.offered_bytes[g];
        }
        for (g, row) in o.latency.iter().enumerate() {
            for (i, &(users, wait)) in row.iter().enumerate() {
                if users > 0 {
                    self.accepted_users(g as u32, i as u32 + 1, users, wait);
                }
            }
        }
        self.second.0.add(&o.second.0);
        self.second.1 = self.second.1.max(o.second.1);
        self.second.2 = self.second.2.max(o.second.2);
        self.active += o.active;
        self.waiting.0 += o.waiting.0;
        self.waiting.1 += o.waiting.1;
    }

    fn accepted_users(&mut self, group: u32, attempts: u32, users: u64, wait_users: f64) {
        let row = &mut self.latency[group as usize];
        let i = attempts as usize - 1;
        if i >= row.len() {
            row.resize(i + 1, (0, 0.0));
        }
        row[i].0 += users;
        row[i].1 += wait_users;
    }

    /// The accepted user records, by group and then attempts.
    pub(super) fn accepted(&self) -> impl Iterator<Item = Accepted> + '_ {
        self.latency.iter().enumerate().flat_map(|(g, row)| {
            row.iter()
                .enumerate()
                .filter(|(_, a)| a.0 > 0)
                .map(move |(i, &(users, wait_users))| Accepted {
                    group: g as u32,
                    attempts: i as u32 + 1,
                    users,
                    wait_users,
                })
        })
    }
}

/// What a chunk's shards share while they take their step one after the
/// other: the chunk's random stream for the step, scratch space, and the
/// sums. One per chunk, so memory per shard stays small and the work of
/// a step walks the shards' state in order.
#[derive(Debug)]
pub(super) struct Worker {
    pub(super) rng: SimRng,
    /// New parts of the chunk's shards, and where each shard's begin
    /// (kept between the two passes of an on-demand step).
    new: Vec<Part>,
    starts: Vec<usize>,
    due: Vec<Retry>,
    offer: Vec<Part>,
    pub(super) sums: Sums,
}

impl Worker {
    pub(super) fn new(rng: SimRng) -> Worker {
        Worker {
            rng,
            new: Vec::new(),
            starts: Vec::new(),
            due: Vec::new(),
            offer: Vec::new(),
            sums: Sums::default(),
        }
    }

    /// Starts a step with the random stream `rng`.
    pub(super) fn start(&mut self, rng: SimRng, groups: usize) {
        self.rng = rng;
        self.new.clear();
        self.starts.clear();
        self.sums.reset(groups);
    }

    /// The new parts the `j`-th shard drawn in this step made.
    fn parts_of(&self, j: usize) -> std::ops::Range<usize> {
        let end = self.starts.get(j + 1).copied().unwrap_or(self.new.len());
        self.starts[j]..end
    }
}

/// One shard's state between steps: its limiter, retries and counters.
/// Laid out hot fields first: a step of 1 s reads and writes only the
/// first three cache lines of it, and the engine's time goes mostly to
/// walking these structs in order.
#[derive(Debug)]
#[repr(C)]
pub(super) struct ShardFlow {
    /// Its write limiter's state.
    level: Level,
    /// Retries waiting, as waves.
    pub(super) pending: Pending,
    /// This step's accepted Kinesis records and bytes.
    pub(super) accepted: (u64, u64),
    /// Totals over the run.
    pub(super) totals: ShardTotals,
    /// This step's offered bytes.
    pub(super) offered_bytes: u64,
    /// Its peak offered utilisation in the current minute (basis points),
    /// and whether it was offered anything in it.
    pub(super) minute_peak: u16,
    pub(super) minute_active: bool,
    /// Counts of the current second, for steps shorter than a second.
    second: ShardCounts,
    /// Its counts in the current minute, if shard-level minutes are kept.
    pub(super) minute: ShardCounts,
    /// On-demand: what the step offers (records, bytes), between its two
    /// passes.
    pub(super) demand: (u64, u64),
}

impl ShardFlow {
    /// A new shard: its limiter full, nothing waiting.
    pub(super) fn new(limits: &Limits) -> ShardFlow {
        ShardFlow {
            level: limits.full(),
            pending: Pending::default(),
            accepted: (0, 0),
            totals: ShardTotals::default(),
            offered_bytes: 0,
            minute_peak: 0,
            minute_active: false,
            second: ShardCounts::default(),
            minute: ShardCounts::default(),
            demand: (0, 0),
        }
    }

    /// Whether a closed shard still has work: retries waiting, or counts
    /// of a second not yet closed.
    pub(super) fn busy(&self) -> bool {
        !self.pending.is_empty() || self.second != ShardCounts::default()
    }

    /// A step with nothing to do.
    pub(super) fn idle(&mut self) {
        self.accepted = (0, 0);
        self.offered_bytes = 0;
    }

    /// Draws the step's new records of shard `s` (`open`: it takes
    /// writes) into `w`; `epoch` is the shard's users per group since the
    /// map last changed.
    pub(super) fn draw(
        &mut self,
        s: usize,
        open: bool,
        ctx: &StepCtx<'_, '_>,
        w: &mut Worker,
        epoch: &mut [u64],
    ) {
        self.accepted = (0, 0);
        self.offered_bytes = 0;
        w.starts.push(w.new.len());
        if open {
            for (g, (group, step)) in ctx.groups.iter().zip(ctx.steps).enumerate() {
                self.draw_group(s, g, group, step, ctx, w, epoch);
            }
        }
    }

    /// What the step offers after [`ShardFlow::draw`] (the `j`-th shard of
    /// `w`), in records and bytes: new records and retries due.
    pub(super) fn demand(&self, j: usize, ctx: &StepCtx<'_, '_>, w: &Worker) -> (u64, u64) {
        let due = self.pending.due_before(ctx.t1);
        w.new[w.parts_of(j)]
            .iter()
            .fold(due, |(r, b), p| (r + p.records, b + p.bytes))
    }

    #[allow(clippy::too_many_arguments)]
    fn draw_group(
        &mut self,
        s: usize,
        g: usize,
        group: &GroupFlow<'_>,
        step: &GroupStep,
        ctx: &StepCtx<'_, '_>,
        w: &mut Worker,
        epoch: &mut [u64],
    ) {
        let weight = group.weights.get(s).copied().unwrap_or(0.0);
        if weight <= 0.0 {
            return;
        }
        let lambda = step.records * weight;
        // PutRecords calls bring a shard clumps of records at once.
        let clump = if group.spec.aggregation.is_some() {
            1.0
        } else {
            (1.0 - weight + weight * step.clump).max(1.0)
        };
        let n = if !group.poisson {
            group.even_counts.get(s).copied().unwrap_or(0)
        } else {
            // Poisson: a step is long against a batch's linger, so its
            // count varies as the records' arrivals do; the clumps show
            // only as the bucket's overshoot (the offer's `overshoot`).
            poisson(
                lambda,
                step.root_records * group.root_weights[s],
                &mut w.rng,
            )
        };
        if n == 0 {
            return;
        }
        let (too_large, bytes, random) = match &group.trace {
            // A trace's records: bytes given, or drawn, and its key bytes.
            Some(t) => {
                let ts = &t.shards[s];
                let tl = group.draw_too_large(ts.drawn, &mut w.rng);
                let drawn = ts.drawn - tl;
                let bytes = ts.sized_bytes
                    + group.draw_bytes(drawn, (drawn as f64).sqrt(), &mut w.rng)
                    + part_of(ts.drawn_key_bytes, drawn, ts.drawn.max(1));
                (ts.too_large + tl, bytes, Some(ts.random))
            }
            None => {
                let too_large = group.draw_too_large(n, &mut w.rng);
                let root = step.root_records * group.root_weights[s];
                let bytes = group.draw_bytes(n - too_large, root, &mut w.rng);
                (too_large, bytes, None)
            }
        };
        let p = &mut w.sums.producer;
        p.produced += n;
        p.rejected_too_large += too_large;
        let users = n - too_large;
        // What can reach the stream: counted before the buffer check.
        w.sums.offered_records[g] += users;
        w.sums.offered_bytes[g] += bytes;
        if step.drop_new {
            w.sums.producer.dropped_buffer_full += users;
            return;
        }
        if users == 0 {
            return;
        }
        match random {
            // A trace's counted keys are counted by the group.
            Some(r) => self.totals.random_keys += part_of(r, users, n),
            None if group.has_keys() => epoch[g] += users,
            None => self.totals.random_keys += users,
        }
        let var_user = group.sd_bytes * group.sd_bytes;
        let mean_user = if group.trace.is_some() {
            bytes as f64 / users as f64
        } else {
            group.mean_bytes
        };
        let part = match &group.spec.aggregation {
            Some(agg) => {
                let secs = (ctx.t1 - ctx.t0) as f64 / NANOS_PER_SEC as f64;
                let rate = lambda / secs / group.producers;
                let pack = GroupFlow::aggregate(agg, mean_user, group.sd_bytes, users, rate);
                w.sums.producer.aggregates += pack.aggregates;
                // An aggregate filled before its timer waits in the batch.
                let batch = if pack.wait < agg.max_buffered_time {
                    step.batch_wait.min(agg.max_buffered_time)
                } else {
                    0
                };
                let mean = (bytes + pack.extra_bytes) as f64 / pack.records.max(1) as f64;
                Part {
                    group: g as u32,
                    attempts: 0,
                    records: pack.records,
                    users,
                    bytes: bytes + pack.extra_bytes,
                    clump,
                    var_size: pack.var_bytes,
                    var_path: pack.var_bytes + mean * mean,
                    wait: pack.wait + batch,
                }
            }
            None => Part {
                group: g as u32,
                attempts: 0,
                records: users,
                users,
                bytes,
                clump,
                var_size: var_user,
                var_path: var_user + mean_user * mean_user,
                wait: step.batch_wait,
            },
        };
        w.new.push(part);
    }

    /// Admits the step's offer through `limiter`, at most `cap` records
    /// (the stream's share, on-demand), and closes the second if the step
    /// ends one. `j` is the shard's place among those `w` drew this step.
    pub(super) fn admit(
        &mut self,
        j: usize,
        cap: Option<u64>,
        ctx: &StepCtx<'_, '_>,
        w: &mut Worker,
    ) {
        let mut cap = cap;
        let (t0, t1) = (ctx.t0, ctx.t1);
        let parts = w.parts_of(j);
        let mut counts = ShardCounts::default();
        // Whether the free path was tried on this very offer, and failed.
        let mut not_far = false;
        if cap.is_none() && parts.len() == 1 && self.pending.is_empty() {
            // The common case far below the limits: one group's new records
            // and nothing else, all passed, in a few lines.
            let p = w.new[parts.start];
            let o = offer_of(std::slice::from_ref(&p));
            if admit::pass_far_below(&ctx.limits, &mut self.level, (t0, t1), &o) {
                counts.offered_records = p.records;
                counts.offered_bytes = p.bytes;
                counts.accepted_records = p.records;
                counts.accepted_bytes = p.bytes;
                self.accepted = (p.records, p.bytes);
                let sends = &mut w.sums.sends[p.group as usize];
                sends.0 += p.records;
                sends.1 += p.records;
                let group = &ctx.groups[p.group as usize];
                accepted(&p, group, p.records, p.users, p.bytes, ctx, &mut w.sums);
                self.finish(counts, ctx, w);
                return;
            }
            not_far = true;
        }
        let mut offer = std::mem::take(&mut w.offer);
        let mut due = std::mem::take(&mut w.due);
        offer.clear();
        due.clear();
        // What is due by the step's end, given out below if the step is
        // taken in one piece (a refined step asks sub-step by sub-step).
        let retries = if self.pending.is_empty() {
            0
        } else {
            self.pending.peek_due(t1, &mut due)
        };
        let new_parts = std::mem::take(&mut w.new);
        let total = if due.is_empty() {
            offer_of(&new_parts[parts.clone()])
        } else {
            offer.extend_from_slice(&new_parts[parts.clone()]);
            offer.extend(due.iter().map(|r| retry_part(r, ctx)));
            offer_of(&offer)
        };
        w.new = new_parts;
        // Sub-steps only where retries due are a good part of the offer
        // and the limiter may refuse some of it: there refused records
        // come back within the step.
        let new = total.records - retries;
        if ctx.fine >= t1 - t0
            || retries * REFINE_SHARE < new
            || !admit::may_refuse(&ctx.limits, &self.level, (t0, t1), &total)
        {
            // One interval: refused records come back from the next step.
            if !due.is_empty() {
                self.pending.commit();
            }
            let new_parts = std::mem::take(&mut w.new);
            let one = if due.is_empty() {
                (&new_parts[parts], total)
            } else {
                (&offer[..], total)
            };
            self.interval((t0, t1), one, (&mut cap, !not_far), ctx, w, &mut counts);
            w.new = new_parts;
        } else {
            self.refined(parts, &mut cap, ctx, w, &mut offer, &mut due, &mut counts);
        }
        w.offer = offer;
        w.due = due;
        self.pending
            .add_waiting(&mut w.sums.pending_users, &mut w.sums.waiting);
        self.finish(counts, ctx, w);
    }

    /// Ends the shard's step, whose counts are `counts`: what the stream
    /// sums, and the second if the step ends one.
    fn finish(&mut self, counts: ShardCounts, ctx: &StepCtx<'_, '_>, w: &mut Worker) {
        if counts.offered_records > 0 {
            w.sums.active += 1;
        }
        self.offered_bytes = counts.offered_bytes;
        if ctx.whole_second {
            // Steps of a second: the step's counts are the second's.
            self.close_second(counts, ctx, &mut w.sums);
        } else {
            self.second.add(&counts);
            if ctx.ends_second {
                let c = std::mem::take(&mut self.second);
                self.close_second(c, ctx, &mut w.sums);
            }
        }
    }

    /// The step in sub-steps of `fine`: new records split as a Poisson
    /// process's counts are, and each sub-step offered the retries due by
    /// its end (so records refused in one may come back in a later one).
    #[allow(clippy::too_many_arguments)]
    fn refined(
        &mut self,
        parts: std::ops::Range<usize>,
        cap: &mut Option<u64>,
        ctx: &StepCtx<'_, '_>,
        w: &mut Worker,
        offer: &mut Vec<Part>,
        due: &mut Vec<Retry>,
        counts: &mut ShardCounts,
    ) {
        let (t0, t1, fine) = (ctx.t0, ctx.t1, ctx.fine);
        let subs = (t1 - t0).div_ceil(fine);
        for k in 0..subs {
            let (a, b) = (t0 + k * fine, (t0 + (k + 1) * fine).min(t1));
            offer.clear();
            let left = subs - k;
            for i in parts.clone() {
                let p = &mut w.new[i];
                if p.records == 0 {
                    continue;
                }
                let r = if left == 1 {
                    p.records
                } else {
                    Binomial::new(p.records, 1.0 / left as f64)
                        .map_or(0, |bin| bin.sample(&mut w.rng))
                };
                if r == 0 {
                    continue;
                }
                let users = if p.users == p.records {
                    r
                } else {
                    part_of(p.users, r, p.records)
                };
                let bytes = part_of(p.bytes, r, p.records);
                p.records -= r;
                p.users -= users;
                p.bytes -= bytes;
                offer.push(Part {
                    records: r,
                    users,
                    bytes,
                    ..*p
                });
            }
            due.clear();
            self.pending.take_due(b, due);
            offer.extend(due.iter().map(|r| retry_part(r, ctx)));
            let sub = (&offer[..], offer_of(offer));
            self.interval((a, b), sub, (cap, true), ctx, w, counts);
        }
    }

    /// Admits `offer` over `[a, b)`, at most `cap` records, trying the free
    /// path first if `far` (not yet tried on this offer); refused parts
    /// wait for their retries.
    #[allow(clippy::too_many_arguments)]
    fn interval(
        &mut self,
        (a, b): (SimTime, SimTime),
        (offer, o): (&[Part], Offer),
        (cap, far): (&mut Option<u64>, bool),
        ctx: &StepCtx<'_, '_>,
        w: &mut Worker,
        counts: &mut ShardCounts,
    ) {
        if o.records == 0 {
            admit::pass(&ctx.limits, &mut self.level, (a, b), &o, None, &mut w.rng);
            return;
        }
        let passed = if far
            && cap.is_none()
            && admit::pass_far_below(&ctx.limits, &mut self.level, (a, b), &o)
        {
            admit::Passed::all(&o)
        } else {
            admit::pass(&ctx.limits, &mut self.level, (a, b), &o, *cap, &mut w.rng)
        };
        if let Some(c) = cap.as_mut() {
            *c -= passed.records.min(*c);
        }
        let d = o.records;
        let throttled = d - passed.records;
        counts.offered_records += d;
        counts.offered_bytes += o.bytes;
        counts.accepted_records += passed.records;
        counts.accepted_bytes += passed.bytes;
        counts.throttled_records += throttled;
        if throttled > 0 {
            counts.throttled_by_records += if passed.by_records { throttled } else { 0 };
            counts.throttled_by_bytes += if passed.by_bytes { throttled } else { 0 };
        }
        self.accepted.0 += passed.records;
        self.accepted.1 += passed.bytes;
        if throttled == 0 {
            for p in offer {
                let sends = &mut w.sums.sends[p.group as usize];
                sends.0 += p.records;
                sends.1 += p.records;
                let group = &ctx.groups[p.group as usize];
                accepted(p, group, p.records, p.users, p.bytes, ctx, &mut w.sums);
            }
            return;
        }
        // Each part takes its share of what passed: cumulative shares
        // rounded down after a random offset (systematic sampling), so the
        // shares sum to it exactly and no part, first or last, gains the
        // roundings.
        let offset: f64 = if passed.records == 0 {
            0.0
        } else {
            w.rng.random()
        };
        let ratio = passed.records as f64 / d as f64;
        let (mut cum, mut given) = (0u64, 0u64);
        for p in offer {
            cum += p.records;
            let upto = if cum == d {
                passed.records
            } else {
                // `as` truncates: the floor, without a libm call.
                ((cum as f64 * ratio + offset) as u64).min(passed.records)
            };
            let take = upto - given;
            given = upto;
            let group = &ctx.groups[p.group as usize];
            let users = if p.users == p.records {
                take
            } else {
                part_of(p.users, take, p.records)
            };
            let bytes = part_of(p.bytes, take, p.records);
            let sends = &mut w.sums.sends[p.group as usize];
            sends.0 += p.records;
            sends.1 += take;
            if take > 0 {
                accepted(p, group, take, users, bytes, ctx, &mut w.sums);
            }
            if p.records > take {
                let rest = (p.records - take, p.users - users, p.bytes - bytes);
                let (from, to) = passed.refused_over;
                let at = |f: f64| a + ((b - a) as f64 * f) as SimTime;
                let over = (at(from), at(to).max(at(from) + 1));
                self.throttled(p, group, over, rest, ctx, w);
            }
        }
    }

    /// The refused part `(records, users, bytes)` of part `p`, sent over
    /// `[from, to)`: a wave waiting for its retry times, or failed.
    #[allow(clippy::too_many_arguments)]
    fn throttled(
        &mut self,
        p: &Part,
        group: &GroupFlow<'_>,
        (from, to): (SimTime, SimTime),
        (records, users, bytes): (u64, u64, u64),
        ctx: &StepCtx<'_, '_>,
        w: &mut Worker,
    ) {
        let retry = group.retry();
        let attempts = p.attempts + 1;
        if attempts >= retry.max_attempts {
            w.sums.producer.failed_after_retries += users;
            return;
        }
        let step = &ctx.steps[p.group as usize];
        let lat = group.spec.request_latency;
        let (lo, hi) = group.backoff_range(attempts);
        // Batched again: half the longest batch wait on average.
        let delay = lat + lo + step.batch_wait / 2;
        let expires = retry.ttl.map(|ttl| {
            let first_wait = if p.attempts == 0 {
                p.wait
            } else {
                ctx.first_waits[p.group as usize]
            };
            let age = group.mean_age(p.attempts, first_wait, step.batch_wait);
            (from + (to - from) / 2 + ttl).saturating_sub(age)
        });
        let (expired, retried) = self.pending.add(
            &Throttled {
                group: p.group,
                attempts,
                records,
                users,
                bytes,
                from,
                to,
                delay,
                jitter: hi - lo,
                expires,
            },
            &mut w.rng,
        );
        let out = &mut w.sums.producer;
        out.expired += expired;
        // Retries are counted per Kinesis record; expired ones are not
        // retried.
        out.retries += retried;
    }

    /// Closes the current second, whose counts are `c`: the shard's
    /// utilisation, totals and minute, and what the stream's row needs.
    fn close_second(&mut self, c: ShardCounts, ctx: &StepCtx<'_, '_>, sums: &mut Sums) {
        if c.offered_records == 0 {
            return;
        }
        let (per_record, per_byte) = (ctx.per_record, ctx.per_byte);
        let util = (c.accepted_records as f64 * per_record).max(c.accepted_bytes as f64 * per_byte);
        let offered =
            (c.offered_records as f64 * per_record).max(c.offered_bytes as f64 * per_byte);
        let t = &mut self.totals;
        t.counts.add(&c);
        t.utilisation_sum += util;
        t.peak_utilisation = t.peak_utilisation.max(util);
        t.peak_offered_utilisation = t.peak_offered_utilisation.max(offered);
        if ctx.shard_minutes {
            self.minute.add(&c);
        }
        self.minute_active = true;
        // Saturating: the `as` cast clamps.
        self.minute_peak = self.minute_peak.max((offered * 10_000.0 + 0.5) as u16);
        let s = &mut sums.second;
        s.0.add(&c);
        s.1 = s.1.max(util);
        s.2 = s.2.max(offered);
    }
}

/// Counts `take` accepted Kinesis records of part `p` (`users` user
/// records, `bytes`): their latency and billing.
fn accepted(
    p: &Part,
    group: &GroupFlow<'_>,
    take: u64,
    users: u64,
    bytes: u64,
    ctx: &StepCtx<'_, '_>,
    sums: &mut Sums,
) {
    sums.producer.accepted += users;
    let wait = if p.attempts == 0 {
        p.wait
    } else {
        ctx.first_waits[p.group as usize]
    };
    sums.accepted_users(p.group, p.attempts + 1, users, users as f64 * wait as f64);
    if p.users == p.records {
        sums.units += take as f64 * group.units_per_record;
        sums.billed += take as f64 * group.billed_per_record;
    } else {
        // Aggregates: sizes vary with the users in each.
        let mean = bytes as f64 / take as f64;
        let sd = p.var_size.sqrt();
        sums.units += take as f64 * expected_blocks(mean, sd, group.payload_unit as f64);
        sums.billed += take as f64 * 1024.0 * expected_blocks(mean, sd, 1024.0);
    }
}

/// A step is cut into sub-steps when the retries due in it are at least
/// `1 / REFINE_SHARE` of its new records (5 %): below that, letting them
/// come back no earlier than the next step changes little (at 20 % the p99
/// latency at exactly a shard's limit drifted from the record engine's,
/// docs/engines.md), and a step in one piece costs half.
const REFINE_SHARE: u64 = 20;

/// What `parts` offer together: records, bytes and the variances of their
/// paths.
fn offer_of(parts: &[Part]) -> Offer {
    let mut o = Offer::default();
    for p in parts {
        o.records += p.records;
        o.bytes += p.bytes;
        o.var_records += p.records as f64;
        o.var_bytes += p.records as f64 * p.var_path;
        o.overshoot += p.records as f64 * p.clump;
    }
    o
}

/// A retry due in an interval, as a part of its offer.
fn retry_part(r: &Retry, ctx: &StepCtx<'_, '_>) -> Part {
    let group = &ctx.groups[r.group as usize];
    let mean = r.bytes as f64 / r.records.max(1) as f64;
    let var_size = if r.users == r.records {
        group.sd_bytes * group.sd_bytes
    } else {
        // Aggregates: as variable as the users they hold.
        mean * mean / (r.users as f64 / r.records.max(1) as f64).max(1.0)
    };
    Part {
        group: r.group,
        attempts: r.attempts,
        records: r.records,
        users: r.users,
        bytes: r.bytes,
        clump: 1.0,
        var_size,
        var_path: var_size + mean * mean,
        wait: 0,
    }
}

/// Above this mean a Poisson count is drawn as a normal one (rounded, at
/// least 0): its skewness, `1 / sqrt(mean)`, is then under 0.05, and one
/// normal draw costs a fraction of an exact Poisson draw.
const NORMAL_COUNTS: f64 = 100.0;

/// A Poisson count of mean `lambda` (`root` its square root).
#[inline]
fn poisson(lambda: f64, root: f64, rng: &mut SimRng) -> u64 {
    if lambda <= 0.0 {
        0
    } else if lambda >= NORMAL_COUNTS {
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        // `as` saturates: a negative draw is 0.
        (lambda + root * z + 0.5) as u64
    } else {
        crate::sim::poisson::poisson(lambda, rng)
    }
}
