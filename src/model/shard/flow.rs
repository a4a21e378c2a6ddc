//! One shard's flows in one step: the records offered to it (drawn as
//! counts), those due again after a backoff, and what its write limits let
//! through ([`super::admit`]).
//!
//! # The rules of a step `[t0, t1)`
//!
//! - New user records of a group: a Poisson count of the group's expected
//!   records times the shard's weight (for even arrivals, the shard's part
//!   of a multinomial split of the group's exact count); too large ones and those of a full buffer
//!   are refused first; their bytes are drawn as a sum (normal). When
//!   PutRecords calls bring them in clumps, the clumps make their path
//!   within the step more variable, not their count over it (a step is long
//!   against a batch's linger).
//! - With no retry due in the step, the whole step is admitted at once:
//!   the limiter's refusals come from its path over the step
//!   ([`super::admit`]), and a refused record's retry is due no earlier
//!   than the next step.
//! - With retries due, the step is cut into sub-steps (one retry bin each)
//!   and the new records split over them as a Poisson process's counts are
//!   (binomial bridges); a retry refused in a sub-step may come back in a
//!   later one of the same step.
//! - Everything offered in an interval shares its refusals in proportion.
//!   A refused part fails at its last attempt, expires past its time to
//!   live, or is spread over the retry bins by its backoff's distribution
//!   ([`super::retry`]).

use rand::RngExt;
use rand_distr::{Binomial, Distribution, Poisson};

use super::admit::{self, Offer, share};
use super::group::{GroupFlow, GroupStep, expected_blocks};
use super::retry::{Pending, Retry, Throttled};
use crate::kds::Limiter;
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
    /// one at a time).
    clump: f64,
    /// Variance of one Kinesis record's bytes.
    var_size: f64,
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
    /// Width of a sub-step and of a retry bin.
    pub(super) fine: SimTime,
    pub(super) groups: &'a [GroupFlow<'s>],
    pub(super) steps: &'a [GroupStep],
    /// Per group, the mean longest first wait of its records (for the age
    /// of retries).
    pub(super) first_waits: &'a [SimTime],
    /// Whether the step ends a second of the run.
    pub(super) ends_second: bool,
    /// The one-second write limits, for utilisation.
    pub(super) records_limit: f64,
    pub(super) bytes_limit: f64,
}

/// What one shard did in one step.
#[derive(Debug, Default)]
pub(super) struct StepOut {
    pub(super) counts: ShardCounts,
    pub(super) producer: ProducerCounts,
    /// Kinesis records and bytes accepted.
    pub(super) accepted: (u64, u64),
    /// PUT payload units and on-demand billed bytes of those.
    pub(super) units: f64,
    pub(super) billed: f64,
    /// Per group: Kinesis record attempts, and those accepted.
    pub(super) sends: Vec<(u64, u64)>,
    /// Per group: bytes of new records that can reach the stream.
    pub(super) offered_bytes: Vec<u64>,
    /// Per group: user records awaiting a retry after the step.
    pub(super) pending_users: Vec<u64>,
    /// Accepted user records by group and attempts.
    pub(super) latency: Vec<Accepted>,
    /// The second the step closed, if it closed one: its counts and
    /// utilisations (accepted, offered).
    pub(super) second: Option<(ShardCounts, f64, f64)>,
}

impl StepOut {
    fn reset(&mut self, groups: usize) {
        self.counts = ShardCounts::default();
        self.producer = ProducerCounts::default();
        self.accepted = (0, 0);
        self.units = 0.0;
        self.billed = 0.0;
        for v in [&mut self.offered_bytes, &mut self.pending_users] {
            v.clear();
            v.resize(groups, 0);
        }
        self.sends.clear();
        self.sends.resize(groups, (0, 0));
        self.latency.clear();
        self.second = None;
    }

    fn accepted_users(&mut self, group: u32, attempts: u32, users: u64, wait: SimTime) {
        let wait_users = users as f64 * wait as f64;
        match self
            .latency
            .iter_mut()
            .find(|a| a.group == group && a.attempts == attempts)
        {
            Some(a) => {
                a.users += users;
                a.wait_users += wait_users;
            }
            None => self.latency.push(Accepted {
                group,
                attempts,
                users,
                wait_users,
            }),
        }
    }
}

/// One shard's flows and its own counters.
#[derive(Debug)]
pub(super) struct ShardFlow {
    rng: SimRng,
    /// Retries waiting, by due bin.
    pub(super) pending: Pending,
    /// This step's new parts.
    new: Vec<Part>,
    /// Scratch: retries due, and one interval's offer.
    due: Vec<Retry>,
    offer: Vec<Part>,
    /// Counts of the current second.
    second: ShardCounts,
    /// Totals over the run.
    pub(super) totals: ShardTotals,
    /// Counts and peak offered utilisation (basis points) of the current
    /// minute.
    pub(super) minute: ShardCounts,
    pub(super) minute_peak: u16,
    /// Per group, user records offered since the map last changed (for
    /// the per-key counts).
    pub(super) epoch_users: Vec<u64>,
    pub(super) out: StepOut,
}

impl ShardFlow {
    pub(super) fn new(rng: SimRng, groups: usize) -> ShardFlow {
        ShardFlow {
            rng,
            pending: Pending::default(),
            new: Vec::new(),
            due: Vec::new(),
            offer: Vec::new(),
            second: ShardCounts::default(),
            totals: ShardTotals::default(),
            minute: ShardCounts::default(),
            minute_peak: 0,
            epoch_users: vec![0; groups],
            out: StepOut::default(),
        }
    }

    /// Whether a closed shard still has work: retries waiting, or counts
    /// of a second not yet closed.
    pub(super) fn busy(&self) -> bool {
        !self.pending.is_empty() || self.second != ShardCounts::default()
    }

    /// A step with nothing to do.
    pub(super) fn idle(&mut self) {
        self.out.accepted = (0, 0);
        self.out.second = None;
    }

    /// Draws the step's new records of shard `s` (`open`: it takes
    /// writes): what it offers, in records and bytes, new and due.
    pub(super) fn draw(&mut self, s: usize, open: bool, ctx: &StepCtx<'_, '_>) -> (u64, u64) {
        self.out.reset(ctx.groups.len());
        self.new.clear();
        if open {
            for (g, (group, step)) in ctx.groups.iter().zip(ctx.steps).enumerate() {
                self.draw_group(s, g, group, step, ctx);
            }
        }
        let end = ctx.t1.div_ceil(ctx.fine);
        let due: (u64, u64) = self
            .pending
            .iter()
            .take_while(|r| r.bin < end)
            .fold((0, 0), |(r, b), x| (r + x.records, b + x.bytes));
        self.new
            .iter()
            .fold(due, |(r, b), p| (r + p.records, b + p.bytes))
    }

    fn draw_group(
        &mut self,
        s: usize,
        g: usize,
        group: &GroupFlow<'_>,
        step: &GroupStep,
        ctx: &StepCtx<'_, '_>,
    ) {
        let w = group.weights.get(s).copied().unwrap_or(0.0);
        if w <= 0.0 {
            return;
        }
        let lambda = step.records * w;
        // PutRecords calls bring a shard clumps of records at once.
        let clump = if group.spec.aggregation.is_some() {
            1.0
        } else {
            (1.0 - w + w * step.clump).max(1.0)
        };
        let n = if !group.poisson {
            group.even_counts.get(s).copied().unwrap_or(0)
        } else if lambda > 0.0 {
            // Poisson: a step is long against a batch's linger, so its
            // count varies as the records' arrivals do; the clumps shape
            // only the path within it (the offer's variance).
            Poisson::new(lambda).map_or(0, |p| p.sample(&mut self.rng) as u64)
        } else {
            0
        };
        if n == 0 {
            return;
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
            return;
        }
        if users == 0 {
            return;
        }
        self.epoch_users[g] += users;
        if group.spec.keys.table().is_none() {
            self.totals.random_keys += users;
        }
        let var_user = group.sd_bytes * group.sd_bytes;
        let part = match &group.spec.aggregation {
            Some(agg) => {
                let secs = (ctx.t1 - ctx.t0) as f64 / NANOS_PER_SEC as f64;
                let rate = lambda / secs / group.producers;
                let pack = GroupFlow::aggregate(agg, group.mean_bytes, group.sd_bytes, users, rate);
                self.out.producer.aggregates += pack.aggregates;
                // An aggregate filled before its timer waits in the batch.
                let batch = if pack.wait < agg.max_buffered_time {
                    step.batch_wait.min(agg.max_buffered_time)
                } else {
                    0
                };
                Part {
                    group: g as u32,
                    attempts: 0,
                    records: pack.records,
                    users,
                    bytes: bytes + pack.extra_bytes,
                    clump,
                    var_size: pack.var_bytes,
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
                wait: step.batch_wait,
            },
        };
        self.new.push(part);
    }

    /// Admits the step's offer through `limiter`, at most `cap` records
    /// (the stream's share, on-demand), and closes the second (and
    /// minute) if the step ends one.
    pub(super) fn admit(&mut self, limiter: &mut Limiter, cap: Option<u64>, ctx: &StepCtx<'_, '_>) {
        let mut cap = cap;
        let (t0, t1, fine) = (ctx.t0, ctx.t1, ctx.fine);
        let retries_due = self
            .pending
            .first_bin()
            .is_some_and(|b| b < t1.div_ceil(fine));
        if !retries_due || fine >= t1 - t0 {
            // One interval: refused records come back from the next step.
            let mut offer = std::mem::take(&mut self.offer);
            offer.clear();
            offer.extend_from_slice(&self.new);
            self.due.clear();
            self.pending.take_due(t1.div_ceil(fine), &mut self.due);
            for r in &self.due {
                offer.push(retry_part(r, ctx));
            }
            self.interval(limiter, t0, t1, &offer, &mut cap, ctx, t1.div_ceil(fine));
            self.offer = offer;
        } else {
            self.refined(limiter, &mut cap, ctx);
        }
        for r in self.pending.iter() {
            self.out.pending_users[r.group as usize] += r.users;
        }
        self.second.add(&self.out.counts);
        if ctx.ends_second {
            self.close_second(ctx);
        }
    }

    /// The step in sub-steps of `fine`: new records split as a Poisson
    /// process's counts are, retries at their bins.
    fn refined(&mut self, limiter: &mut Limiter, cap: &mut Option<u64>, ctx: &StepCtx<'_, '_>) {
        let (t0, t1, fine) = (ctx.t0, ctx.t1, ctx.fine);
        let parts = (t1 - t0).div_ceil(fine);
        let mut new = std::mem::take(&mut self.new);
        let mut offer = std::mem::take(&mut self.offer);
        for j in 0..parts {
            let (a, b) = (t0 + j * fine, (t0 + (j + 1) * fine).min(t1));
            offer.clear();
            let left = parts - j;
            for p in new.iter_mut() {
                if p.records == 0 {
                    continue;
                }
                let r = if left == 1 {
                    p.records
                } else {
                    Binomial::new(p.records, 1.0 / left as f64)
                        .map_or(0, |bin| bin.sample(&mut self.rng))
                };
                if r == 0 {
                    continue;
                }
                let users = share(p.users, r, p.records);
                let bytes = share(p.bytes, r, p.records);
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
            self.due.clear();
            let next = b.div_ceil(fine);
            self.pending.take_due(next, &mut self.due);
            for r in &self.due {
                offer.push(retry_part(r, ctx));
            }
            self.interval(limiter, a, b, &offer, cap, ctx, next);
        }
        new.clear();
        self.new = new;
        self.offer = offer;
    }

    /// Admits `offer` over `[a, b)`; refused parts retry from bin `first`.
    #[allow(clippy::too_many_arguments)]
    fn interval(
        &mut self,
        limiter: &mut Limiter,
        a: SimTime,
        b: SimTime,
        offer: &[Part],
        cap: &mut Option<u64>,
        ctx: &StepCtx<'_, '_>,
        first: u64,
    ) {
        let mut o = Offer::default();
        for p in offer {
            o.records += p.records;
            o.bytes += p.bytes;
            o.var_records += p.records as f64 * p.clump;
            let mean = p.bytes as f64 / p.records.max(1) as f64;
            o.var_bytes += p.records as f64 * (p.var_size + p.clump * mean * mean);
        }
        if o.records == 0 {
            admit::pass(limiter, a, b, &o, None, &mut self.rng);
            return;
        }
        let passed = admit::pass(limiter, a, b, &o, *cap, &mut self.rng);
        if let Some(c) = cap.as_mut() {
            *c -= passed.records.min(*c);
        }
        let d = o.records;
        let throttled = d - passed.records;
        let counts = &mut self.out.counts;
        counts.offered_records += d;
        counts.offered_bytes += o.bytes;
        counts.accepted_records += passed.records;
        counts.accepted_bytes += passed.bytes;
        counts.throttled_records += throttled;
        if throttled > 0 {
            counts.throttled_by_records += if passed.by_records { throttled } else { 0 };
            counts.throttled_by_bytes += if passed.by_bytes { throttled } else { 0 };
        }
        self.out.accepted.0 += passed.records;
        self.out.accepted.1 += passed.bytes;
        // Each part takes its share of what passed: cumulative shares
        // rounded down after a random offset (systematic sampling), so the
        // shares sum to it exactly and no part, first or last, gains the
        // roundings.
        let offset: f64 = self.rng.random();
        let ratio = passed.records as f64 / d as f64;
        let (mut cum, mut given) = (0u64, 0u64);
        for p in offer {
            cum += p.records;
            let upto = if cum == d {
                passed.records
            } else {
                ((cum as f64 * ratio + offset).floor() as u64).min(passed.records)
            };
            let take = upto - given;
            given = upto;
            let group = &ctx.groups[p.group as usize];
            let users = share(p.users, take, p.records);
            let bytes = share(p.bytes, take, p.records);
            let sends = &mut self.out.sends[p.group as usize];
            sends.0 += p.records;
            sends.1 += take;
            if take > 0 {
                self.accepted(p, group, take, users, bytes, ctx);
            }
            if p.records > take {
                let rest = (p.records - take, p.users - users, p.bytes - bytes);
                let (from, to) = passed.refused_over;
                let at = |f: f64| a + ((b - a) as f64 * f) as SimTime;
                self.throttled(
                    p,
                    group,
                    at(from),
                    at(to).max(at(from) + 1),
                    rest,
                    ctx,
                    first,
                );
            }
        }
    }

    /// Counts `take` accepted Kinesis records of part `p` (`users` user
    /// records, `bytes`): their latency and billing.
    #[allow(clippy::too_many_arguments)]
    fn accepted(
        &mut self,
        p: &Part,
        group: &GroupFlow<'_>,
        take: u64,
        users: u64,
        bytes: u64,
        ctx: &StepCtx<'_, '_>,
    ) {
        let out = &mut self.out;
        out.producer.accepted += users;
        let wait = if p.attempts == 0 {
            p.wait
        } else {
            ctx.first_waits[p.group as usize]
        };
        out.accepted_users(p.group, p.attempts + 1, users, wait);
        if p.users == p.records {
            out.units += take as f64 * group.units_per_record;
            out.billed += take as f64 * group.billed_per_record;
        } else {
            // Aggregates: sizes vary with the users in each.
            let mean = bytes as f64 / take as f64;
            let sd = p.var_size.sqrt();
            out.units += take as f64 * expected_blocks(mean, sd, group.payload_unit as f64);
            out.billed += take as f64 * 1024.0 * expected_blocks(mean, sd, 1024.0);
        }
    }

    /// The refused part `(records, users, bytes)` of part `p`, offered over
    /// `[a, b)`: spread over the retry bins from `first`, or failed.
    #[allow(clippy::too_many_arguments)]
    fn throttled(
        &mut self,
        p: &Part,
        group: &GroupFlow<'_>,
        a: SimTime,
        b: SimTime,
        (records, users, bytes): (u64, u64, u64),
        ctx: &StepCtx<'_, '_>,
        first: u64,
    ) {
        let retry = group.retry();
        let attempts = p.attempts + 1;
        if attempts >= retry.max_attempts {
            self.out.producer.failed_after_retries += users;
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
            (a + (b - a) / 2 + ttl).saturating_sub(age)
        });
        let expired = self.pending.spread(
            &Throttled {
                group: p.group,
                attempts,
                records,
                users,
                bytes,
                from: a,
                to: b,
                delay,
                jitter: hi - lo,
                expires,
            },
            ctx.fine,
            first,
            &mut self.rng,
        );
        let out = &mut self.out.producer;
        out.expired += expired;
        // Retries are counted per Kinesis record; the expired part's
        // records are not retried (their share, rounded down).
        out.retries += records - share(records, expired, users.max(1)).min(records);
    }

    /// Closes the current second: the shard's utilisation, totals and
    /// minute, and what the stream's row needs.
    fn close_second(&mut self, ctx: &StepCtx<'_, '_>) {
        let c = std::mem::take(&mut self.second);
        let util = (c.accepted_records as f64 / ctx.records_limit)
            .max(c.accepted_bytes as f64 / ctx.bytes_limit);
        let offered = (c.offered_records as f64 / ctx.records_limit)
            .max(c.offered_bytes as f64 / ctx.bytes_limit);
        if c != ShardCounts::default() {
            let t = &mut self.totals;
            t.counts.add(&c);
            t.utilisation_sum += util;
            t.peak_utilisation = t.peak_utilisation.max(util);
            t.peak_offered_utilisation = t.peak_offered_utilisation.max(offered);
            self.minute.add(&c);
            // Saturating: the `as` cast clamps.
            self.minute_peak = self.minute_peak.max((offered * 10_000.0).round() as u16);
        }
        self.out.second = Some((c, util, offered));
    }
}

/// A retry due in an interval, as a part of its offer.
fn retry_part(r: &Retry, ctx: &StepCtx<'_, '_>) -> Part {
    let group = &ctx.groups[r.group as usize];
    let var_size = if r.users == r.records {
        group.sd_bytes * group.sd_bytes
    } else {
        let mean = r.bytes as f64 / r.records.max(1) as f64;
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
        wait: 0,
    }
}
