//! The record engine: every user record an event, on the kernel's queue.
//! The reference: exact within the model, and the engine any faster one
//! is to be measured against.
//!
//! # What a record goes through
//!
//! ```text
//! arrival ─► key, size ─► too large? ─► buffer full? ─► PutRecord: send now
//!                                                       PutRecords: batch until full or linger
//! send ─► stream service: route by hash key, shard (and stream) limits ─► accepted: numbered, billed, stored
//!                                                                     └► throttled: retry after backoff, or fail
//! ```
//!
//! A request is applied at the instant it is sent and answered
//! `request_latency` later; producers never wait for each other (enough
//! connections are assumed). Resharding, on-demand capacity and the policy
//! ([`super::control`]) and the consumers ([`super::consumers`]) run on the
//! same queue through their wake-ups.

mod producer;

use super::consumers::{ReadEvent, Readers};
use super::control::{Control, ControlEvent, ControlHooks};
use super::policy::ScalingPolicy;
use super::stream::StreamService;
use super::{KeyCounts, Outcome, RunOptions, SimError, exec_command};
use crate::kds::{Quota, ShardMap};
use crate::metrics::Metrics;
use crate::scenario::Scenario;
use crate::sim::rng::{Purpose, SimRng, stream};
use crate::sim::{EventQueue, Model, Schedule, SimTime, run_until};

/// A Kinesis record on its way: one user record, or an aggregate of several
/// (then `births` names the slot holding each user record's birth time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    hash: u128,
    /// Birth of the (earliest) user record.
    born: SimTime,
    /// Data plus partition key.
    bytes: u32,
    attempts: u32,
    /// User records inside.
    users: u32,
    /// Slot in [`Engine::births`] for aggregates, `NO_SLOT` otherwise.
    births: u32,
}

const NO_SLOT: u32 = u32::MAX;

/// An aggregate being filled, one per producer and predicted shard.
#[derive(Debug, Clone, Copy)]
struct OpenAggregate {
    births: u32,
    hash: u128,
    bytes: u64,
    /// The first user record's own bytes (sent alone if nothing joins it).
    first_bytes: u32,
    count: u32,
    generation: u32,
}

/// Events stay small (16 bytes) so that the heap moves little: a record
/// awaiting a retry waits in [`Engine::parked`], and the event holds its slot.
/// The control plane's and the readers' wake-ups are flattened in (not
/// nested), which keeps the size.
#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival {
        producer: u32,
    },
    Linger {
        producer: u32,
        generation: u32,
    },
    Retry {
        producer: u32,
        slot: u32,
    },
    AggregateDue {
        producer: u32,
        shard: u32,
        generation: u32,
    },
    ReshardRequest {
        index: u32,
    },
    ReshardStep,
    AppStart {
        app: u32,
    },
    Poll {
        app: u32,
        shard: u32,
    },
    Expire,
    PolicyTick,
    OnDemandTick,
    OnDemandSplit {
        shard: u32,
        period: u32,
    },
    ModeSwitched,
}

impl From<ControlEvent> for Event {
    #[inline]
    fn from(e: ControlEvent) -> Event {
        match e {
            ControlEvent::ReshardRequest { index } => Event::ReshardRequest { index },
            ControlEvent::ReshardStep => Event::ReshardStep,
            ControlEvent::PolicyTick => Event::PolicyTick,
            ControlEvent::OnDemandTick => Event::OnDemandTick,
            ControlEvent::OnDemandSplit { shard, period } => Event::OnDemandSplit { shard, period },
            ControlEvent::ModeSwitched => Event::ModeSwitched,
        }
    }
}

impl From<ReadEvent> for Event {
    #[inline]
    fn from(e: ReadEvent) -> Event {
        match e {
            ReadEvent::AppStart { app } => Event::AppStart { app },
            ReadEvent::Poll { app, shard } => Event::Poll { app, shard },
            ReadEvent::Expire => Event::Expire,
        }
    }
}

#[derive(Debug)]
struct Producer {
    group: u32,
    share: f64,
    arrivals: SimRng,
    keys: SimRng,
    sizes: SimRng,
    retries: SimRng,
    batch: Vec<Record>,
    batch_bytes: u64,
    generation: u32,
    /// User records held: aggregating, batched or awaiting a retry.
    outstanding: u64,
    /// Aggregates being filled, by shard index: only the open ones, so
    /// memory follows the shards a producer writes to right now.
    aggregates: std::collections::BTreeMap<u32, OpenAggregate>,
    /// Numbers the aggregates, so that a stale deadline is recognised.
    aggregate_generation: u32,
    /// The trace this producer replays, if any, and its next record.
    trace: Option<Box<crate::workload::TraceReader>>,
    trace_next: Option<crate::workload::TraceRecord>,
}

struct Engine<'s> {
    scenario: &'s Scenario,
    service: StreamService,
    control: Control<'s>,
    readers: Readers<'s>,
    producers: Vec<Producer>,
    keys: Vec<KeyCounts>,
    metrics: Metrics,
    max_record: u64,
    /// Records awaiting a retry, by slot; free slots are reused.
    parked: Vec<Record>,
    free_slots: Vec<u32>,
    /// Per group: the rate this run follows (imported bursts drawn from
    /// the run's seed), its upper bound, whether it is constant, and when
    /// its arrivals end (the run's end, or where the rate is 0 for good).
    rates: Vec<std::borrow::Cow<'s, crate::workload::RateProfile>>,
    rate_bounds: Vec<(crate::workload::Bounds, SimTime)>,
    /// Birth times of the user records in each aggregate, by slot; emptied
    /// vectors are kept for reuse, so steady state allocates nothing.
    births: Vec<Vec<SimTime>>,
    free_births: Vec<u32>,
}

/// The control plane's view of the record engine: wake-ups go on its queue,
/// new shards get readers.
struct Hooks<'e, 's> {
    queue: &'e mut EventQueue<Event>,
    readers: &'e mut Readers<'s>,
}

impl Schedule<ControlEvent> for Hooks<'_, '_> {
    #[inline]
    fn at(&mut self, time: SimTime, event: ControlEvent) {
        self.queue.push(time, Event::from(event));
    }
}

impl ControlHooks for Hooks<'_, '_> {
    fn shards_changed(&mut self, now: SimTime, map: &ShardMap) {
        self.readers.grow(now, map, self.queue);
    }
}

/// Simulates `scenario` record by record, with `given` as its policy in
/// place of the scenario's own, if given.
pub(super) fn simulate(
    scenario: &Scenario,
    options: RunOptions,
    given: Option<Box<dyn ScalingPolicy>>,
    progress: Option<&dyn super::Progress>,
) -> Result<Outcome, SimError> {
    let records_rate = Quota::WriteRecordsPerShardPerSec.value();
    let bytes_rate = Quota::WriteBytesPerShardPerSec.value();
    let spec = &scenario.stream;
    let shards = Control::initial_shards(spec);
    let service = StreamService::create(spec, shards, scenario.start);
    let mut producers = Vec::new();
    let mut keys = Vec::with_capacity(scenario.producers.len());
    for (g, group) in scenario.producers.iter().enumerate() {
        for _ in 0..group.count {
            // Streams are numbered by producer across groups, in file order.
            let i = producers.len() as u64;
            let seed = scenario.seed;
            producers.push(Producer {
                group: g as u32,
                share: 1.0 / f64::from(group.count),
                arrivals: stream(seed, Purpose::Arrivals, i),
                keys: stream(seed, Purpose::Keys, i),
                sizes: stream(seed, Purpose::Sizes, i),
                retries: stream(seed, Purpose::Retries, i),
                batch: Vec::new(),
                batch_bytes: 0,
                generation: 0,
                outstanding: 0,
                aggregates: std::collections::BTreeMap::new(),
                aggregate_generation: 0,
                trace: match &group.trace {
                    None => None,
                    Some(spec) => Some(Box::new(
                        crate::workload::TraceReader::open(spec.clone())
                            .map_err(SimError::Trace)?,
                    )),
                },
                trace_next: None,
            });
        }
        let n = group.keys.table().map_or(0, |t| t.len());
        keys.push(KeyCounts {
            records: vec![0; n],
            bytes: vec![0; n],
            offered_bytes: 0,
            offered_records: 0,
        });
    }
    let rates: Vec<_> = scenario
        .producers
        .iter()
        .enumerate()
        .map(|(g, group)| {
            group
                .rate
                .realize(scenario.seed, g as u64, scenario.duration)
        })
        .collect();
    let metrics = Metrics::new(
        shards as usize,
        records_rate,
        bytes_rate,
        options.per_second,
    );
    // The policy starts once the traces are open: a bad trace fails first,
    // without a process started for nothing.
    let shard_level = shard_level_minutes(scenario, given.as_deref());
    let scaler = super::scaler(scenario, given)?;
    let mut engine = Engine {
        scenario,
        service,
        control: Control::new(scenario, scaler),
        readers: Readers::new(scenario),
        producers,
        keys,
        metrics,
        max_record: spec.max_record_bytes,
        parked: Vec::new(),
        free_slots: Vec::new(),
        rate_bounds: rates
            .iter()
            .map(|r| {
                // No arrival after the rate is 0 for good (an import that
                // ends before the run does).
                let end = r.end().unwrap_or(SimTime::MAX).min(scenario.duration);
                (r.bounds(), end)
            })
            .collect(),
        rates,
        births: Vec::new(),
        free_births: Vec::new(),
    };
    if let Some(keep) = shard_level {
        engine.metrics.enable_shard_level(keep);
    }
    Control::note_open_shards(&engine.service, &mut engine.metrics);
    let mut queue = EventQueue::new();
    // The order of these first wake-ups is the order of ties at time 0.
    engine.control.schedule_requests(&mut Hooks {
        queue: &mut queue,
        readers: &mut engine.readers,
    });
    if !scenario.consumers.is_empty() {
        engine.readers.start(engine.service.map(), &mut queue);
    }
    engine.control.start(
        &mut engine.service,
        &mut engine.metrics,
        &mut Hooks {
            queue: &mut queue,
            readers: &mut engine.readers,
        },
    );
    for p in 0..engine.producers.len() {
        // A trace whose first lines are bad fails before the run starts.
        engine.schedule_arrival(p as u32, 0, &mut queue)?;
    }
    // Events at the horizon itself or later are not part of the run.
    let events = match progress {
        _ if scenario.duration == 0 => 0,
        None => run_until(&mut engine, &mut queue, scenario.duration - 1)?,
        // In slices of simulated time: the queue delivers the same events
        // in the same order whatever the slices, so watching changes
        // nothing but the wall clock.
        Some(progress) => {
            let slice = (scenario.duration / 1000).clamp(1_000_000, crate::units::NANOS_PER_SEC);
            let (mut done, mut events) = (0, 0);
            while done < scenario.duration {
                let next = done.saturating_add(slice).min(scenario.duration);
                events += run_until(&mut engine, &mut queue, next - 1)?;
                progress.advanced(next - done);
                done = next;
            }
            events
        }
    };
    engine.metrics.finish(scenario.duration);
    // An external policy's process ends with the run.
    engine.control.stop_policy();

    // Pending records, counted from the queue and the batches: independent of
    // the `outstanding` tallies, so that conservation is a real check.
    let in_retry: u64 = queue
        .drain_ordered()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Retry { slot, .. } => Some(u64::from(engine.parked[*slot as usize].users)),
            _ => None,
        })
        .sum();
    let in_batches: u64 = engine
        .producers
        .iter()
        .flat_map(|p| p.batch.iter().map(|r| u64::from(r.users)))
        .sum();
    let aggregating: u64 = engine
        .producers
        .iter()
        .flat_map(|p| p.aggregates.values().map(|a| u64::from(a.count)))
        .sum();
    let pending = in_retry + in_batches + aggregating;
    let outstanding: u64 = engine.producers.iter().map(|p| p.outstanding).sum();
    let p = &engine.metrics.producer_total;
    let accepted = p.accepted;
    let failed = p.failed_after_retries + p.expired;
    if p.produced != accepted + failed + p.rejected_too_large + p.dropped_buffer_full + pending
        || outstanding != pending
    {
        return Err(SimError::Conservation(format!(
            "produced {} != accepted {accepted} + failed {failed} + rejected {} + dropped {} + pending {pending}",
            p.produced, p.rejected_too_large, p.dropped_buffer_full
        )));
    }
    // Per application: what it could read is processed, lost or still unread.
    for (app, c) in scenario.consumers.iter().zip(&engine.readers.consumers) {
        let available = c.available(&engine.readers.backlogs);
        let unread = c.unread(&engine.readers.backlogs);
        let unique = c.total.processed - c.total.duplicates;
        if available != unique + c.total.lost + unread
            || c.unread_counted(&engine.readers.backlogs) != unread
        {
            return Err(SimError::Conservation(format!(
                "consumer \"{}\": available {available} != processed once {unique} + lost {} + unread {unread}",
                app.name, c.total.lost
            )));
        }
    }
    let trace_lines_skipped = engine
        .producers
        .iter()
        .filter_map(|p| p.trace.as_ref().map(|t| t.skipped))
        .sum();
    // A trace group has one producer: its reader knows the group's keys.
    let mut trace_keys = vec![Vec::new(); scenario.producers.len()];
    for p in &mut engine.producers {
        if let Some(t) = p.trace.as_mut() {
            trace_keys[p.group as usize] = std::mem::take(&mut t.keys);
        }
    }
    Ok(Outcome {
        trace_lines_skipped,
        trace_keys,
        map: engine.service.into_map(),
        metrics: engine.metrics,
        keys: engine.keys,
        pending,
        reshards: engine.control.into_log(),
        consumers: engine.readers.consumers,
        backlogs: engine.readers.backlogs,
        events,
        engine: crate::scenario::EngineKind::Record,
    })
}

impl Model for Engine<'_> {
    type Event = Event;
    type Error = SimError;

    fn handle(
        &mut self,
        now: SimTime,
        event: Event,
        queue: &mut EventQueue<Event>,
    ) -> Result<(), SimError> {
        self.metrics.advance(now);
        let control = match event {
            Event::Arrival { producer } => {
                self.arrival(producer, now, queue);
                return self.schedule_arrival(producer, now, queue);
            }
            Event::Linger {
                producer,
                generation,
            } => {
                if self.producers[producer as usize].generation == generation {
                    self.flush(producer, now, queue);
                }
                return Ok(());
            }
            Event::Retry { producer, slot } => {
                let record = self.parked[slot as usize];
                self.free_slots.push(slot);
                self.submit(producer, record, now, queue);
                return Ok(());
            }
            Event::AggregateDue {
                producer,
                shard,
                generation,
            } => {
                let due = self.producers[producer as usize]
                    .aggregates
                    .get(&shard)
                    .is_some_and(|a| a.generation == generation);
                if due {
                    self.complete_aggregate(producer, shard as usize, now, queue);
                    // The KPL sends a record by its deadline: the batch goes too.
                    self.flush(producer, now, queue);
                }
                return Ok(());
            }
            Event::AppStart { app } => return self.read(ReadEvent::AppStart { app }, now, queue),
            Event::Poll { app, shard } => {
                return self.read(ReadEvent::Poll { app, shard }, now, queue);
            }
            Event::Expire => return self.read(ReadEvent::Expire, now, queue),
            Event::ReshardRequest { index } => ControlEvent::ReshardRequest { index },
            Event::ReshardStep => ControlEvent::ReshardStep,
            Event::PolicyTick => ControlEvent::PolicyTick,
            Event::OnDemandTick => ControlEvent::OnDemandTick,
            Event::OnDemandSplit { shard, period } => ControlEvent::OnDemandSplit { shard, period },
            Event::ModeSwitched => ControlEvent::ModeSwitched,
        };
        let mut hooks = Hooks {
            queue,
            readers: &mut self.readers,
        };
        self.control
            .handle(
                control,
                now,
                &mut self.service,
                &mut self.metrics,
                &mut hooks,
            )
            .map_err(|message| SimError::Policy {
                command: exec_command(self.scenario),
                message,
            })
    }
}

impl Engine<'_> {
    fn read(
        &mut self,
        event: ReadEvent,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) -> Result<(), SimError> {
        self.readers.handle(
            event,
            now,
            self.service.map(),
            self.service.is_on_demand(),
            &mut self.metrics,
            queue,
        );
        Ok(())
    }
}

/// How many shard-level minutes the run keeps, if it collects them: with
/// enhanced monitoring, for a policy that reads them (an external one, or
/// target tracking of the hottest shard), the latest it may see plus those
/// not yet published. Memory then follows shards, not the run's length.
pub(super) fn shard_level_minutes(
    scenario: &Scenario,
    given: Option<&dyn ScalingPolicy>,
) -> Option<usize> {
    use crate::scenario::{Policy, TrackedMetric};
    if !scenario.stream.enhanced_monitoring {
        return None;
    }
    let a = scenario.autoscaling.as_ref()?;
    let seen = match (&a.policy, given) {
        (_, Some(policy)) => policy.shard_minutes(),
        (Policy::Exec { window, .. }, None) => *window as usize,
        (
            Policy::TargetTracking {
                metric: TrackedMetric::HottestShard,
                ..
            },
            None,
        ) => 1,
        _ => return None,
    };
    if seen == 0 {
        return None;
    }
    let minute = 60 * crate::units::NANOS_PER_SEC;
    Some(seen + a.publication_delay.div_ceil(minute) as usize + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small() {
        // The heap moves events: the flattened wake-ups keep them at the
        // size of the largest producer event (three u32 and a tag).
        assert_eq!(std::mem::size_of::<Event>(), 16);
    }
}
