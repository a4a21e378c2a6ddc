//! The shard-level engine: per-shard flows advanced in time steps, for
//! streams too large for the record engine (thousands of shards, millions
//! of records/s, days to a month). It runs the same stream service
//! (limiters, on-demand capacity, numbering, billing), the same control
//! plane (reshards, policies, on-demand, mode switches: the policies see
//! the same per-minute metrics) and the same readers (backlogs, polling,
//! enhanced fan-out, retention) as the record engine; only the producers
//! and the write path are flows. Agreement with the record engine is
//! measured in `tests/integration/engines.rs` and stated in
//! docs/engines.md.
//!
//! # A step `[t0, t1)`
//!
//! 1. The control plane's wake-ups due before `t1`, at their own times;
//!    new shards get flows and routing (each group's keys hashed once
//!    through the real shard map), retries waiting on a closed shard move
//!    to its children.
//! 2. Each group's expected records over the step (its rate profile,
//!    spikes and drawn bursts, sampled at 4 points).
//! 3. Per shard, in parallel (rayon; each shard has its own random
//!    stream, so the bytes out do not depend on the threads): the new
//!    records, the retries due, admission ([`flow`]).
//! 4. In shard order: the metrics, billing, sequence counters, backlogs.
//! 5. The readers' wake-ups before `t1`; a poll first sees the records its
//!    shard accepted in the step up to its time (spread evenly).
//!
//! Approximations (bounded by the agreement tests): records of a step are
//! spread evenly in it; control actions take effect from the next step
//! (a reshard's shards open up to one step late); batching and
//! aggregation are ratios and waits, not per-record state; the on-demand
//! stream limit is shared among shards in proportion to their offer.

mod flow;
mod group;

use rayon::prelude::*;

use self::flow::{Cap, ShardFlow, StepCtx};
use self::group::{GroupFlow, GroupStep};
use super::consumers::{ReadEvent, Readers};
use super::control::{Control, ControlEvent, ControlHooks};
use super::policy::{Scaler, ScalingPolicy};
use super::stream::StreamService;
use super::{KeyCounts, Outcome, RunOptions, SimError, exec_command};
use crate::kds::{Quota, ShardMap};
use crate::metrics::Metrics;
use crate::scenario::Scenario;
use crate::sim::rng::{Purpose, stream};
use crate::sim::{EventQueue, Schedule, SimTime};

/// Below this many shards a step runs on one thread: the fork costs more.
const PARALLEL_SHARDS: usize = 64;

/// The shard engine's sub-step where a step is refined (see [`flow`]).
pub(super) const FINE_STEP: SimTime = 10_000_000;

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

/// Simulates `scenario` in steps of its `step`, with `given` as its policy
/// in place of the scenario's own, if given.
pub(super) fn simulate(
    scenario: &Scenario,
    options: RunOptions,
    given: Option<Box<dyn ScalingPolicy>>,
) -> Result<Outcome, SimError> {
    if let Some(g) = scenario.producers.iter().find(|g| g.trace.is_some()) {
        return Err(SimError::Engine(format!(
            "producer group \"{}\" replays a record trace, which only the record engine runs \
             (engine = \"record\" or \"auto\")",
            g.name
        )));
    }
    let spec = &scenario.stream;
    let shards = Control::initial_shards(spec);
    let mut service = StreamService::create(spec, shards, scenario.start);
    let mut metrics = Metrics::new(
        shards as usize,
        Quota::WriteRecordsPerShardPerSec.value(),
        Quota::WriteBytesPerShardPerSec.value(),
        options.per_second,
    );
    let payload_unit = service.payload_unit();
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
        .collect();
    let mut keys: Vec<KeyCounts> = scenario
        .producers
        .iter()
        .map(|group| {
            let n = group.keys.table().map_or(0, |t| t.len());
            KeyCounts {
                records: vec![0; n],
                bytes: vec![0; n],
                offered_bytes: 0,
            }
        })
        .collect();
    let shard_level = super::record::shard_level_minutes(scenario, given.as_deref());
    let scaler = match (given, &scenario.autoscaling) {
        (_, None) => None,
        (Some(policy), Some(a)) => Some(Scaler::new(policy, a.min_shards, a.max_shards)),
        (None, Some(a)) => Some(Scaler::from_scenario(a, spec.enhanced_monitoring).map_err(
            |message| SimError::Policy {
                command: exec_command(scenario),
                message,
            },
        )?),
    };
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
    let fine = FINE_STEP.min(step);
    let mut flows: Vec<ShardFlow> = Vec::new();
    let mut routed = 0;
    let mut steps = vec![GroupStep::default(); groups.len()];
    let mut send_rates = vec![0.0; groups.len()];
    let (mut units_carry, mut billed_carry) = (0.0f64, 0.0f64);
    // Per shard, this step's accepted records not yet in its backlog:
    // (records, bytes, appended so far from).
    let mut unread: Vec<(u64, u64, SimTime)> = Vec::new();
    let mut shard_steps = 0u64;
    let mut t0 = 0;
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
                group.settle_keys(&mut keys[g]);
                group.route(service.map());
            }
            while flows.len() < n {
                flows.push(ShardFlow::new(stream(
                    scenario.seed,
                    Purpose::Flows,
                    flows.len() as u64,
                )));
            }
            unread.resize(n, (0, 0, 0));
            reroute_closed(&mut flows, service.map(), &groups);
            routed = n;
        }
        for (g, group) in groups.iter_mut().enumerate() {
            steps[g] = group.step(t0, t1, send_rates[g]);
        }
        let ctx = StepCtx {
            t0,
            t1,
            fine,
            groups: &groups,
            steps: &steps,
        };
        let map = service.map();
        let open: Vec<bool> = map.shards().iter().map(|s| s.is_open()).collect();
        let (limiters, on_demand) = service.flow_limiters();
        let parallel = flows.len() >= PARALLEL_SHARDS;
        let draw = |(s, f): (usize, &mut ShardFlow)| {
            if open[s] || !f.pending.is_empty() {
                f.draw(s, &ctx);
            } else {
                f.demand = (0, 0);
            }
        };
        if parallel {
            flows.par_iter_mut().enumerate().for_each(draw);
        } else {
            flows.iter_mut().enumerate().for_each(draw);
        }
        // The on-demand stream limit, shared in proportion to the offer.
        let caps: Option<Vec<Cap>> = on_demand.as_ref().map(|od| {
            let room = od.limiter.room(t0, t1);
            let (d, db) = flows
                .iter()
                .fold((0u64, 0u64), |(r, b), f| (r + f.demand.0, b + f.demand.1));
            let by_bytes = db > room.bytes;
            let limit = if by_bytes {
                (u128::from(room.bytes) * u128::from(d) / u128::from(db.max(1))) as u64
            } else {
                d
            }
            .min(room.records);
            flows
                .iter()
                .map(|f| Cap {
                    records: if limit >= d {
                        u64::MAX
                    } else {
                        (u128::from(limit) * u128::from(f.demand.0) / u128::from(d.max(1))) as u64
                    },
                    by_records: room.records < d,
                    by_bytes,
                })
                .collect()
        });
        let admit = |((s, f), l): ((usize, &mut ShardFlow), &mut crate::kds::Limiter)| {
            if f.demand.0 > 0 || !f.pending.is_empty() || f.out.producer.produced > 0 {
                let cap = caps.as_ref().map(|c| c[s]);
                f.admit(l, cap, &ctx);
            }
        };
        if parallel {
            flows
                .par_iter_mut()
                .enumerate()
                .zip(limiters.par_iter_mut())
                .for_each(admit);
        } else {
            flows
                .iter_mut()
                .enumerate()
                .zip(limiters.iter_mut())
                .for_each(admit);
        }
        if let Some(od) = on_demand {
            let (r, b) = flows.iter().fold((0u64, 0u64), |(r, b), f| {
                (r + f.out.accepted.0, b + f.out.accepted.1)
            });
            od.limiter.take_flow(t0, t1, r, b);
            for (s, f) in flows.iter().enumerate() {
                od.minute_bytes[s] += f.out.counts.offered_bytes;
            }
        }
        // Merged in shard order: the same sums whatever the threads.
        let mut sends = vec![(0u64, 0u64); groups.len()];
        let mut pending = vec![0u64; groups.len()];
        for (s, f) in flows.iter_mut().enumerate() {
            if f.demand.0 == 0 && f.out.producer.produced == 0 && f.pending.is_empty() {
                continue;
            }
            shard_steps += 1;
            let out = &f.out;
            metrics.attempts(s, &out.counts);
            metrics.producer_second.add(&out.producer);
            metrics.shard_totals[s].random_keys += out.random_keys;
            for &(nanos, n) in &out.latency {
                metrics.latency_n(nanos, n);
            }
            units_carry += out.units;
            billed_carry += out.billed;
            let (units, billed) = (
                units_carry.floor(),
                (billed_carry / 1024.0).floor() * 1024.0,
            );
            units_carry -= units;
            billed_carry -= billed;
            service.accept_flow(s, out.accepted.0, units as u64, billed as u64, &mut metrics);
            if out.accepted.0 > 0 && !scenario.consumers.is_empty() {
                unread[s] = (out.accepted.0, out.accepted.1, t0);
            }
            for (g, group) in groups.iter_mut().enumerate() {
                group.epoch_users[s] += out.new_users[g];
                keys[g].offered_bytes += out.offered_bytes[g];
                sends[g].0 += out.sends[g].0;
                sends[g].1 += out.sends[g].1;
                pending[g] += out.pending_users[g];
            }
        }
        let secs = (t1 - t0) as f64 / crate::units::NANOS_PER_SEC as f64;
        for (g, group) in groups.iter_mut().enumerate() {
            group.outstanding = pending[g];
            let (attempts, accepted) = sends[g];
            send_rates[g] = attempts as f64 / secs;
            let calls = group.calls(attempts, send_rates[g]);
            let p = &mut metrics.producer_second;
            match group.spec.api {
                crate::scenario::Api::PutRecord => p.put_record_calls += calls,
                crate::scenario::Api::PutRecords { .. } => {
                    p.put_records_calls += calls;
                    p.put_records_total += attempts;
                    p.put_records_successful += accepted;
                    p.put_records_throttled += attempts - accepted;
                }
            }
        }
        // The readers, seeing the step's records up to their own time.
        while let Some((at, event)) = reads.pop_until(t1 - 1) {
            metrics.advance(at);
            if let ReadEvent::Poll { shard, .. } = event {
                catch_up(&mut readers, &mut unread, shard as usize, at, t0, t1);
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
        if !scenario.consumers.is_empty() {
            for s in 0..unread.len() {
                catch_up(&mut readers, &mut unread, s, t1, t0, t1);
            }
        }
        t0 = t1;
    }
    metrics.finish(scenario.duration);
    control.stop_policy();
    for (g, group) in groups.iter_mut().enumerate() {
        group.settle_keys(&mut keys[g]);
    }

    let pending: u64 = flows
        .iter()
        .flat_map(|f| f.pending.iter().map(|c| c.users))
        .sum();
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
    Ok(Outcome {
        trace_lines_skipped: 0,
        trace_keys: vec![Vec::new(); scenario.producers.len()],
        map: service.into_map(),
        metrics,
        keys,
        pending,
        reshards: control.into_log(),
        consumers: readers.consumers,
        backlogs: readers.backlogs,
        events: shard_steps,
        engine: crate::scenario::EngineKind::Shard,
    })
}

/// Appends to shard `s`'s backlog the part of the step's accepted records
/// that arrived by `at` (spread evenly over `[t0, t1)`).
fn catch_up(
    readers: &mut Readers<'_>,
    unread: &mut [(u64, u64, SimTime)],
    s: usize,
    at: SimTime,
    t0: SimTime,
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
        let part = (at - from) as u128;
        let left = (t1 - from) as u128;
        (
            (u128::from(records) * part / left) as u64,
            (u128::from(bytes) * part / left) as u64,
        )
    };
    let _ = t0;
    readers.append_spread(s, from, at.max(from + 1).min(t1), r, b);
    *u = if at >= t1 {
        (0, 0, t1)
    } else {
        (records - r, bytes - b, at)
    };
}

/// Moves the retries waiting on closed shards to the open shards that
/// cover their hash ranges, in proportion to where the group's records go
/// (or to the ranges' widths when the group sends nothing there).
fn reroute_closed(flows: &mut [ShardFlow], map: &ShardMap, groups: &[GroupFlow<'_>]) {
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
        let cohorts = std::mem::take(&mut flows[s].pending);
        for c in cohorts {
            let g = &groups[c.group as usize];
            let mut w: Vec<f64> = children.iter().map(|&k| g.weights[k]).collect();
            if w.iter().sum::<f64>() <= 0.0 {
                w = children
                    .iter()
                    .map(|&k| map.shards()[k].range().fraction())
                    .collect();
            }
            let total: f64 = w.iter().sum();
            let (mut cum, mut given) = (0.0, (0u64, 0u64, 0u64));
            for (i, &k) in children.iter().enumerate() {
                cum += w[i];
                let f = if i + 1 == children.len() {
                    1.0
                } else {
                    cum / total
                };
                let upto = (
                    (c.records as f64 * f).floor() as u64,
                    (c.users as f64 * f).floor() as u64,
                    (c.bytes as f64 * f).floor() as u64,
                );
                let part = flow::Cohort {
                    records: upto.0 - given.0,
                    users: upto.1 - given.1,
                    bytes: upto.2 - given.2,
                    ..c
                };
                given = upto;
                if part.users > 0 || part.records > 0 {
                    flows[k].pending.push(part);
                }
            }
        }
    }
}
