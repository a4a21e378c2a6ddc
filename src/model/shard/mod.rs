//! The shard-level engine: per-shard flows advanced in time steps, for
//! streams too large for the record engine (thousands of shards, millions
//! of records/s, days to a month). It runs the same stream service
//! (limiters, on-demand capacity, billing), the same control plane
//! (reshards, policies, on-demand, mode switches: the policies see the
//! same per-minute metrics) and the same readers (backlogs, polling,
//! enhanced fan-out, retention) as the record engine; only the producers
//! and the write path are flows. Its agreement with the record engine is
//! measured by `tests/integration/engines.rs` and stated in
//! docs/engines.md.
//!
//! # A step `[t0, t1)`
//!
//! 1. The control plane's wake-ups due before `t1`, at their own times;
//!    new shards get flows and routing (each group's keys hashed once
//!    through the real shard map); retries waiting on a closed shard move
//!    to the shards that now own its hash range.
//! 2. Each group's expected records over the step (its rate profile,
//!    spikes and drawn bursts, sampled at 4 points; for an aggregate
//!    trace, its rows' records in the step per shard, [`trace`]) and its
//!    client's state (batch sizes and waits at its current send rate).
//! 3. Per shard, in parallel (rayon, in chunks of [`CHUNK`] shards; each
//!    chunk has its own random stream for the step and the chunks are
//!    summed in order, so the bytes out do not depend on the threads): the new
//!    records, the retries due, admission and the shard's own per-second
//!    counters ([`flow`]). In on-demand mode, where the step's offer may
//!    reach the stream's capacity ([`offer_bound`]), the capacity is
//!    shared first, in proportion to what each shard is offered.
//! 4. The stream's sums: the per-second row, billing, the put latency
//!    histogram (by attempts, [`group`]), the per-minute heatmap cells.
//! 5. The readers' wake-ups before `t1`; a poll sees the records its shard
//!    accepted in the step up to its time (spread evenly).
//!
//! # What it approximates
//!
//! Records of a step are spread evenly in it; control actions take effect
//! from the next step (a reshard's shards open up to one step late);
//! batching and aggregation are clump sizes, ratios and waits, not
//! per-record state; put latency is drawn by attempt count (waits,
//! request latencies and backoffs), not kept per record; the on-demand
//! stream limit is shared among shards in proportion to their offer;
//! keys of a shard get its records in proportion to their weights; no
//! sequence numbers are handed out (no report shows them).
//!
//! A shard with nothing offered and no retry waiting costs one draw per
//! group and step; one far below its limits costs the draws of its count
//! and bytes and no draw for its limiter (the chance it is refused is
//! under 10^-9, [`admit`]).

mod admit;
mod flow;
mod group;
mod retry;
mod trace;

use rayon::prelude::*;

use self::admit::Limits;
use self::flow::{ShardFlow, StepCtx, Sums, Worker};
use self::group::{GroupFlow, GroupStep};
use super::consumers::{ReadEvent, Readers};
use super::control::{Control, ControlEvent, ControlHooks};
use super::policy::ScalingPolicy;
use super::stream::StreamService;
use super::{KeyCounts, Outcome, RunOptions, SimError, exec_command};
use crate::kds::{Levels, Quota, ShardMap};
use crate::metrics::{Metrics, ShardCounts};
use crate::scenario::{Api, EngineKind, Scenario};
use crate::sim::rng::{Purpose, stream};
use crate::sim::{EventQueue, Schedule, SimTime};
use crate::units::NANOS_PER_SEC;

/// Shards per parallel chunk: fixed, so sums do not depend on threads.
/// Smaller chunks cost more than they spread: with 64, the 10,000-shard
/// stream at its limit took 22 % more CPU time in a two-hour comparison
/// (each chunk's step starts a random stream and adds its sums).
const CHUNK: usize = 256;

/// Below this many shards (four chunks) a step runs on one thread: the
/// other wakes for each step, which costs more than it saves below that
/// (a month on 100 to 300 shards ran no faster on two threads, with a
/// third of its time in waking them).
const PARALLEL_SHARDS: usize = 4 * CHUNK;

/// Sub-steps of a step cut where retries are due (more changed nothing
/// measurable, docs/engines.md).
const SUBSTEPS: u64 = 2;

/// The control plane's view of the shard engine: its own timer list, and
/// new shards get readers.
struct Hooks<'e, 's> {
    timers: &'e mut EventQueue<ControlEvent>,
    readers: &'e mut Readers<'s>,
    reads: &'e mut EventQueue<ReadEvent>,
}

impl Schedule<ControlEvent> for Hooks<'_, '_> {
    fn at(&mut self, time: SimTime, event: ControlEvent) {
        self.timers.push(time, event);
    }
}

impl ControlHooks for Hooks<'_, '_> {
    fn shards_changed(&mut self, now: SimTime, map: &ShardMap) {
        self.readers.grow(now, map, self.reads);
    }
}

/// Runs `work` on each chunk of [`CHUNK`] shards (its index, its flows and
/// per-group key counts, its worker), in parallel or not: each chunk's
/// work depends only on its own shards and stream, so the result is the
/// same either way.
fn for_chunks(
    parallel: bool,
    groups: usize,
    flows: &mut [ShardFlow],
    epoch: &mut [u64],
    workers: &mut [Worker],
    work: impl Fn(usize, &mut [ShardFlow], &mut [u64], &mut Worker) + Sync,
) {
    let g = groups.max(1);
    if parallel {
        flows
            .par_chunks_mut(CHUNK)
            .zip(epoch.par_chunks_mut(CHUNK * g))
            .zip(workers.par_iter_mut())
            .enumerate()
            .for_each(|(c, ((f, e), w))| work(c, f, e, w));
    } else {
        flows
            .chunks_mut(CHUNK)
            .zip(epoch.chunks_mut(CHUNK * g))
            .zip(workers.iter_mut())
            .enumerate()
            .for_each(|(c, ((f, e), w))| work(c, f, e, w));
    }
}

/// The random stream of chunk `chunk` in step `step`, pass `pass` (an
/// on-demand step draws, then admits).
fn chunk_stream(seed: u64, step: u64, pass: u64, chunk: usize) -> crate::sim::rng::SimRng {
    stream(
        seed,
        Purpose::Flows,
        (step << 21) | (pass << 20) | chunk as u64,
    )
}

/// Simulates `scenario` in steps of its `step`, with `given` as its policy
/// in place of the scenario's own, if given.
pub(super) fn simulate(
    scenario: &Scenario,
    options: RunOptions,
    given: Option<Box<dyn ScalingPolicy>>,
    progress: Option<&dyn super::Progress>,
) -> Result<Outcome, SimError> {
    // The steps run on a thread of the pool: a step forked from there
    // costs a push on its queue; forked from outside, it also puts this
    // thread to sleep and wakes it, each step (with steps forked from 128
    // shards, a month of a few hundred ran at a quarter of the speed).
    if rayon::current_thread_index().is_none() {
        return rayon::scope(move |_| steps(scenario, options, given, progress));
    }
    steps(scenario, options, given, progress)
}

/// [`simulate`], on the thread it runs on.
fn steps(
    scenario: &Scenario,
    options: RunOptions,
    given: Option<Box<dyn ScalingPolicy>>,
    progress: Option<&dyn super::Progress>,
) -> Result<Outcome, SimError> {
    if let Some(g) = scenario.producers.iter().find(|g| g.replays_record_trace()) {
        return Err(SimError::Engine(format!(
            "producer group \"{}\" replays a record trace, which only the record engine runs \
             (engine = \"record\" or \"auto\"; an aggregate trace runs on both)",
            g.name
        )));
    }
    let spec = &scenario.stream;
    let shards = Control::initial_shards(spec);
    let mut service = StreamService::create(spec, shards, scenario.start);
    let records_limit = Quota::WriteRecordsPerShardPerSec.value();
    let bytes_limit = Quota::WriteBytesPerShardPerSec.value();
    let mut metrics = Metrics::new(
        shards as usize,
        records_limit,
        bytes_limit,
        options.per_second,
    );
    let payload_unit = service.payload_unit();
    let n_groups = scenario.producers.len();
    let mut groups: Vec<GroupFlow<'_>> = scenario
        .producers
        .iter()
        .enumerate()
        .map(|(g, group)| {
            GroupFlow::new(
                group,
                g,
                scenario.seed,
                scenario.duration,
                spec.max_record_bytes,
                payload_unit,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut keys: Vec<KeyCounts> = scenario
        .producers
        .iter()
        .map(|group| {
            let n = group.keys.table().map_or(0, |t| t.len());
            KeyCounts {
                records: vec![0; n],
                bytes: vec![0; n],
                offered_records: 0,
                offered_bytes: 0,
            }
        })
        .collect();
    let shard_level = super::record::shard_level_minutes(scenario, given.as_deref());
    let scaler = super::scaler(scenario, given)?;
    if let Some(keep) = shard_level {
        metrics.enable_shard_level(keep);
    }
    let mut control = Control::new(scenario, scaler);
    let mut readers = Readers::new(scenario);
    Control::note_open_shards(&service, &mut metrics);
    let mut timers = EventQueue::new();
    let mut reads = EventQueue::new();
    control.schedule_requests(&mut Hooks {
        timers: &mut timers,
        readers: &mut readers,
        reads: &mut reads,
    });
    if !scenario.consumers.is_empty() {
        readers.start(service.map(), &mut reads);
    }
    control.start(
        &mut service,
        &mut metrics,
        &mut Hooks {
            timers: &mut timers,
            readers: &mut readers,
            reads: &mut reads,
        },
    );

    let step = scenario.engine.step;
    let fine = (step / SUBSTEPS).max(1);
    let limits = Limits::new(
        spec.write_limit,
        records_limit,
        bytes_limit,
        spec.max_record_bytes,
    );
    let mut flows: Vec<ShardFlow> = Vec::new();
    let mut workers: Vec<Worker> = Vec::new();
    // Per shard and group, user records offered since the map last
    // changed (for the per-key counts).
    let mut epoch: Vec<u64> = Vec::new();
    let mut total = Sums::default();
    let mut step_index = 0u64;
    let mut routed = 0;
    let mut steps = vec![GroupStep::default(); n_groups];
    let mut send_rates = vec![0.0; n_groups];
    let mut first_waits: Vec<SimTime> = vec![0; n_groups];
    let mut open: Vec<bool> = Vec::new();
    let mut caps: Vec<Option<u64>> = Vec::new();
    let (mut units_carry, mut billed_carry) = (0.0f64, 0.0f64);
    // Per shard, this step's accepted records not yet in its backlog:
    // (records, bytes, appended up to).
    let mut unread: Vec<(u64, u64, SimTime)> = Vec::new();
    let consumers = !scenario.consumers.is_empty();
    let mut shard_steps = 0u64;
    let mut t0 = 0;
    let mut told = 0;
    while t0 < scenario.duration {
        let t1 = (t0 + step).min(scenario.duration);
        metrics.advance(t0);
        while let Some((at, event)) = timers.pop_until(t1 - 1) {
            metrics.advance(at);
            let mut hooks = Hooks {
                timers: &mut timers,
                readers: &mut readers,
                reads: &mut reads,
            };
            control
                .handle(event, at, &mut service, &mut metrics, &mut hooks)
                .map_err(|message| SimError::Policy {
                    command: exec_command(scenario),
                    message,
                })?;
        }
        let n = service.map().shards().len();
        if n != routed {
            for (g, group) in groups.iter_mut().enumerate() {
                let users: Vec<u64> = epoch.iter().skip(g).step_by(n_groups).copied().collect();
                group.settle_keys(&users, &mut keys[g]);
                group.route(service.map());
            }
            epoch.iter_mut().for_each(|u| *u = 0);
            flows.resize_with(n, || ShardFlow::new(&limits));
            epoch.resize(n * n_groups.max(1), 0);
            while workers.len() < n.div_ceil(CHUNK) {
                workers.push(Worker::new(stream(scenario.seed, Purpose::Flows, u64::MAX)));
            }
            unread.resize(n, (0, 0, 0));
            open = service.map().shards().iter().map(|s| s.is_open()).collect();
            caps.resize(n, None);
            reroute_closed(&mut flows, service.map(), &groups, t0);
            routed = n;
        }
        for (g, group) in groups.iter_mut().enumerate() {
            steps[g] = group.step(t0, t1, send_rates[g], service.map(), &mut keys[g])?;
        }
        let ends_second = t1.is_multiple_of(NANOS_PER_SEC) || t1 == scenario.duration;
        let ends_minute = t1.is_multiple_of(60 * NANOS_PER_SEC) || t1 == scenario.duration;
        let ctx = StepCtx {
            t0,
            t1,
            limits,
            fine,
            groups: &groups,
            steps: &steps,
            first_waits: &first_waits,
            ends_second,
            whole_second: t1 - t0 == NANOS_PER_SEC && t0.is_multiple_of(NANOS_PER_SEC),
            shard_minutes: metrics.keeps_shard_minutes(),
            per_record: 1.0 / records_limit as f64,
            per_byte: 1.0 / bytes_limit as f64,
        };
        let parallel = flows.len() >= PARALLEL_SHARDS;
        let on_demand = service.on_demand_mut();
        for (c, w) in workers.iter_mut().enumerate() {
            w.start(chunk_stream(scenario.seed, step_index, 0, c), n_groups);
        }
        // Each shard's step on its own (what a provisioned stream's step
        // is, and an on-demand one's where its capacity cannot bind).
        let one_pass = |c: usize, flows: &mut [ShardFlow], epoch: &mut [u64], w: &mut Worker| {
            let mut drawn = 0;
            for (j, f) in flows.iter_mut().enumerate() {
                let s = c * CHUNK + j;
                if open[s] || f.busy() {
                    let e = &mut epoch[j * n_groups..(j + 1) * n_groups];
                    f.draw(s, open[s], &ctx, w, e);
                    f.admit(drawn, None, &ctx, w);
                    drawn += 1;
                } else {
                    f.idle();
                }
            }
        };
        if let Some(od) = on_demand {
            let Some(Levels {
                records,
                bytes,
                records_rate,
                bytes_rate,
                ..
            }) = od.limiter.levels(t0)
            else {
                unreachable!("the on-demand limiter is a bucket")
            };
            let dt = (t1 - t0) as f64 / NANOS_PER_SEC as f64;
            let (room, room_bytes) = (records + records_rate * dt, bytes + bytes_rate * dt);
            let bound = offer_bound(&groups, &steps, total.waiting, n);
            if bound.is_some_and(|(r, b)| r <= room && b <= room_bytes) {
                // The stream's capacity holds whatever the step may offer.
                for_chunks(
                    parallel,
                    n_groups,
                    &mut flows,
                    &mut epoch,
                    &mut workers,
                    one_pass,
                );
            } else {
                // Two passes: what each shard is offered, then the stream's
                // capacity shared in proportion to it.
                for_chunks(
                    parallel,
                    n_groups,
                    &mut flows,
                    &mut epoch,
                    &mut workers,
                    |c, flows, epoch, w| {
                        for (j, f) in flows.iter_mut().enumerate() {
                            let s = c * CHUNK + j;
                            let e = &mut epoch[j * n_groups..(j + 1) * n_groups];
                            f.draw(s, open[s], &ctx, w, e);
                            f.demand = f.demand(j, &ctx, w);
                        }
                    },
                );
                let (d, db) = flows
                    .iter()
                    .fold((0u64, 0u64), |(r, b), f| (r + f.demand.0, b + f.demand.1));
                let fits = if (db as f64) <= room_bytes {
                    d as f64
                } else {
                    room_bytes * d as f64 / db.max(1) as f64
                };
                let limit = fits.min(room).max(0.0);
                for (c, x) in caps.iter_mut().zip(flows.iter().map(|f| f.demand)) {
                    *c = if limit >= d as f64 {
                        None
                    } else {
                        Some((limit * x.0 as f64 / d.max(1) as f64) as u64)
                    };
                }
                for (c, w) in workers.iter_mut().enumerate() {
                    w.rng = chunk_stream(scenario.seed, step_index, 1, c);
                }
                let caps = &caps;
                for_chunks(
                    parallel,
                    n_groups,
                    &mut flows,
                    &mut epoch,
                    &mut workers,
                    |c, flows, _, w| {
                        for (j, f) in flows.iter_mut().enumerate() {
                            f.admit(j, caps[c * CHUNK + j], &ctx, w);
                        }
                    },
                );
            }
            let (r, b) = flows.iter().fold((0u64, 0u64), |(r, b), f| {
                (r + f.accepted.0, b + f.accepted.1)
            });
            od.limiter
                .set_levels(t1, room - r as f64, room_bytes - b as f64);
            for (s, f) in flows.iter().enumerate() {
                od.minute_bytes[s] += f.offered_bytes;
            }
        } else {
            for_chunks(
                parallel,
                n_groups,
                &mut flows,
                &mut epoch,
                &mut workers,
                one_pass,
            );
        }
        // The stream's sums, in chunk order.
        total.reset(n_groups);
        for w in &workers {
            total.add(&w.sums);
        }
        step_index += 1;
        shard_steps += total.active;
        metrics.producer_second.add(&total.producer);
        units_carry += total.units;
        billed_carry += total.billed;
        let (units, billed) = (
            units_carry.floor(),
            (billed_carry / 1024.0).floor() * 1024.0,
        );
        units_carry -= units;
        billed_carry -= billed;
        let billing = &mut metrics.billing[usize::from(service.is_on_demand())];
        if service.is_on_demand() {
            billing.billed_in_bytes += billed as u64;
        } else {
            billing.payload_units += units as u64;
        }
        for a in total.accepted() {
            let g = a.group as usize;
            let wait = (a.wait_users / a.users.max(1) as f64) as SimTime;
            if a.attempts == 1 {
                first_waits[g] = wait;
            }
            let max = groups[g].record_latency(
                a.users,
                a.attempts,
                wait,
                steps[g].batch_wait,
                &mut metrics.latency_us,
            );
            metrics.latency_max_ns = metrics.latency_max_ns.max(max);
        }
        let secs = (t1 - t0) as f64 / NANOS_PER_SEC as f64;
        for (g, group) in groups.iter_mut().enumerate() {
            group.outstanding = total.pending_users[g];
            keys[g].offered_records += total.offered_records[g];
            keys[g].offered_bytes += total.offered_bytes[g];
            let (attempts, accepted) = total.sends[g];
            send_rates[g] = attempts as f64 / secs;
            let calls = group.calls(attempts, send_rates[g] / group.producers);
            let p = &mut metrics.producer_second;
            match group.spec.api {
                Api::PutRecord => p.put_record_calls += calls,
                Api::PutRecords { .. } => {
                    p.put_records_calls += calls;
                    p.put_records_total += attempts;
                    p.put_records_successful += accepted;
                    p.put_records_throttled += attempts - accepted;
                }
            }
        }
        if ends_second {
            let (c, util, offered) = &total.second;
            metrics.add_shard_second(c, *util, *offered);
        }
        if ends_minute {
            let start = (t1 - 1) / NANOS_PER_SEC / 60 * 60;
            for (s, f) in flows.iter_mut().enumerate() {
                if f.minute_active {
                    metrics.add_shard_minute(s, start, f.minute_peak, &f.minute);
                    f.minute = ShardCounts::default();
                    f.minute_peak = 0;
                    f.minute_active = false;
                }
            }
        }
        if consumers {
            for (s, f) in flows.iter().enumerate() {
                if f.accepted.0 > 0 {
                    unread[s] = (f.accepted.0, f.accepted.1, t0);
                }
            }
            // The readers, seeing the step's records up to their own time.
            while let Some((at, event)) = reads.pop_until(t1 - 1) {
                metrics.advance(at);
                if let ReadEvent::Poll { shard, .. } = event {
                    catch_up(&mut readers, &mut unread, shard as usize, at, t1);
                }
                readers.handle(
                    event,
                    at,
                    service.map(),
                    service.is_on_demand(),
                    &mut metrics,
                    &mut reads,
                );
            }
            for s in 0..unread.len() {
                catch_up(&mut readers, &mut unread, s, t1, t1);
            }
        }
        // Told once a simulated second at most, whatever the step.
        if let Some(progress) = progress
            && (t1 - told >= NANOS_PER_SEC || t1 == scenario.duration)
        {
            progress.advanced(t1 - told);
            told = t1;
        }
        t0 = t1;
    }
    metrics.finish(scenario.duration);
    control.stop_policy();
    for (g, group) in groups.iter_mut().enumerate() {
        let users: Vec<u64> = epoch.iter().skip(g).step_by(n_groups).copied().collect();
        group.settle_keys(&users, &mut keys[g]);
    }
    for (s, f) in flows.iter().enumerate() {
        metrics.shard_totals[s] = f.totals.clone();
    }

    let pending: u64 = flows.iter().map(|f| f.pending.users()).sum();
    let p = &metrics.producer_total;
    let failed = p.failed_after_retries + p.expired;
    if p.produced != p.accepted + failed + p.rejected_too_large + p.dropped_buffer_full + pending {
        return Err(SimError::Conservation(format!(
            "shard engine: produced {} != accepted {} + failed {failed} + rejected {} + dropped {} + pending {pending}",
            p.produced, p.accepted, p.rejected_too_large, p.dropped_buffer_full
        )));
    }
    for (app, c) in scenario.consumers.iter().zip(&readers.consumers) {
        let available = c.available(&readers.backlogs);
        let unread = c.unread(&readers.backlogs);
        let unique = c.total.processed - c.total.duplicates;
        if available != unique + c.total.lost + unread {
            return Err(SimError::Conservation(format!(
                "shard engine: consumer \"{}\": available {available} != processed once {unique} + lost {} + unread {unread}",
                app.name, c.total.lost
            )));
        }
    }
    let mut trace_lines_skipped = 0;
    let mut trace_keys = vec![Vec::new(); n_groups];
    for (g, group) in groups.iter_mut().enumerate() {
        if let Some(t) = group.trace.take() {
            let (skipped, learnt) = t.finish();
            trace_lines_skipped += skipped;
            trace_keys[g] = learnt;
        }
    }
    Ok(Outcome {
        trace_lines_skipped,
        trace_keys,
        map: service.into_map(),
        metrics,
        keys,
        pending,
        reshards: control.into_log(),
        consumers: readers.consumers,
        backlogs: readers.backlogs,
        events: shard_steps,
        engine: EngineKind::Shard,
    })
}

/// Standard deviations of the step's offer [`offer_bound`] allows: a
/// count or a sum of bytes beyond it has a chance under 10^-80.
const BOUND_SDS: f64 = 20.0;

/// An upper bound of the Kinesis records and bytes a step can offer the
/// stream, from the groups' expected records (`BOUND_SDS` standard
/// deviations over, and each of `shards` roundings) and all the retries
/// waiting (`waiting`, the most that can come due). `None` where no cheap
/// bound holds: trace groups (their counts are read, not drawn) and KPL
/// aggregation (aggregates' sizes are not a sum of records').
fn offer_bound(
    groups: &[GroupFlow<'_>],
    steps: &[GroupStep],
    waiting: (u64, u64),
    shards: usize,
) -> Option<(f64, f64)> {
    let (mut records, mut bytes) = (waiting.0 as f64, waiting.1 as f64);
    for (g, step) in groups.iter().zip(steps) {
        if g.trace.is_some() || g.spec.aggregation.is_some() {
            return None;
        }
        let n = step.records + BOUND_SDS * (step.root_records + 1.0) + shards as f64;
        records += n;
        bytes += n * g.mean_bytes + BOUND_SDS * g.sd_bytes * n.sqrt() + shards as f64;
    }
    Some((records, bytes))
}

/// Appends to shard `s`'s backlog the part of the step's accepted records
/// that arrived by `at` (spread evenly up to `t1`).
fn catch_up(
    readers: &mut Readers<'_>,
    unread: &mut [(u64, u64, SimTime)],
    s: usize,
    at: SimTime,
    t1: SimTime,
) {
    let Some(u) = unread.get_mut(s) else {
        return;
    };
    let (records, bytes, from) = *u;
    if records == 0 {
        return;
    }
    let (r, b) = if at >= t1 {
        (records, bytes)
    } else {
        let part = u128::from(at.saturating_sub(from));
        let left = u128::from(t1 - from);
        (
            (u128::from(records) * part / left) as u64,
            (u128::from(bytes) * part / left) as u64,
        )
    };
    readers.append_spread(s, from, at.max(from + 1).min(t1), r, b);
    *u = if at >= t1 {
        (0, 0, t1)
    } else {
        (records - r, bytes - b, at.max(from))
    };
}

/// Moves the retries waiting on shards closed by `now` to the open shards
/// that cover their hash ranges, in proportion to where the group's records
/// go (or to the ranges' widths when the group sends nothing there), each
/// share keeping its wave's law from `now` on.
fn reroute_closed(flows: &mut [ShardFlow], map: &ShardMap, groups: &[GroupFlow<'_>], now: SimTime) {
    for s in 0..flows.len() {
        if map.shards()[s].is_open() || flows[s].pending.is_empty() {
            continue;
        }
        let range = map.shards()[s].range();
        let children: Vec<usize> = map
            .open_shards()
            .filter(|o| o.range().start <= range.end && range.start <= o.range().end)
            .map(|o| o.id().index() as usize)
            .collect();
        if children.is_empty() {
            continue;
        }
        for left in flows[s].pending.take_all(now) {
            let r = left.retry;
            let g = &groups[r.group as usize];
            let mut w: Vec<f64> = children.iter().map(|&k| g.weights[k]).collect();
            if w.iter().sum::<f64>() <= 0.0 {
                w = children
                    .iter()
                    .map(|&k| map.shards()[k].range().fraction())
                    .collect();
            }
            let sum: f64 = w.iter().sum();
            let (mut cum, mut given) = (0.0, (0u64, 0u64, 0u64));
            for (i, &k) in children.iter().enumerate() {
                cum += w[i];
                let f = if i + 1 == children.len() {
                    1.0
                } else {
                    cum / sum
                };
                let upto = (
                    ((r.records as f64 * f).floor() as u64).max(given.0),
                    ((r.users as f64 * f).floor() as u64).max(given.1),
                    ((r.bytes as f64 * f).floor() as u64).max(given.2),
                );
                flows[k].pending.adopt(
                    &left,
                    retry::Retry {
                        records: upto.0 - given.0,
                        users: upto.1 - given.1,
                        bytes: upto.2 - given.2,
                        ..r
                    },
                );
                given = upto;
            }
        }
    }
}
