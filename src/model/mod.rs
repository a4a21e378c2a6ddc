//! The simulated stream on the event kernel: producers, the write path
//! through the KDS core, per-shard throttling, retries.
//!
//! # What a record goes through
//!
//! ```text
//! arrival ─► key, size ─► too large? ─► buffer full? ─► PutRecord: send now
//!                                                       PutRecords: batch until full or linger
//! send ─► route by hash key (kds) ─► shard limiter ─► accepted: sequence number, latency
//!                                                 └► throttled: retry after backoff, or fail
//! ```
//!
//! A request is applied at the instant it is sent and answered
//! `request_latency` later; producers never wait for each other (enough
//! connections are assumed).

pub mod backlog;
mod consumers;
mod ondemand;
pub mod policy;
mod reshard;

pub use consumers::{ConsumerCounts, ConsumerState};
pub use reshard::ReshardLog;

use rand::RngExt;

use crate::kds::{
    AGGREGATE_FIXED_BYTES, AGGREGATE_PER_RECORD_BYTES, EpochNanos, HashKey, Limiter, Quota,
    ShardMap, Throttle,
};
use crate::metrics::Metrics;
use crate::scenario::{Api, Jitter, RetryPolicy, Scenario};
use crate::sim::rng::{Purpose, SimRng, stream};
use crate::sim::{EventQueue, Model, SimTime, run_until};

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

/// Events stay small (12 bytes) so that the heap moves little: a record
/// awaiting a retry waits in [`Engine::parked`], and the event holds its slot.
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
        /// Which on-demand period asked: a split due after the stream left
        /// on-demand (and perhaps came back) is dropped.
        period: u32,
    },
    ModeSwitched,
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

/// Per-key counts of a group with a finite key table.
#[derive(Debug, Clone, Default)]
pub struct KeyCounts {
    /// User records produced per key index.
    pub records: Vec<u64>,
    /// Their bytes (data plus key) per key index.
    pub bytes: Vec<u64>,
    /// Bytes (data plus key) of every record the group produced, counted
    /// key or not, except records refused as too large (at most 10 MiB
    /// each, so no overflow).
    pub offered_bytes: u64,
}

/// What a run produced, for reports.
#[derive(Debug)]
pub struct Outcome {
    /// The stream's shards at the end (with lineage).
    pub map: ShardMap,
    /// All counters.
    pub metrics: Metrics,
    /// Per group: key counts (empty for random keys).
    pub keys: Vec<KeyCounts>,
    /// Records still held by producers at the end.
    pub pending: u64,
    /// Every resharding request and what became of it.
    pub reshards: Vec<ReshardLog>,
    /// Per consumer application: its state and counts.
    pub consumers: Vec<ConsumerState>,
    /// The shards' backlogs at the end (empty without consumers).
    pub backlogs: Vec<backlog::Backlog>,
    /// Events handled.
    pub events: u64,
    /// Malformed trace lines skipped (`skip_bad_lines`).
    pub trace_lines_skipped: u64,
    /// Per group replaying a trace: its keys (name, hash key) in the order
    /// of `keys[group]`'s indices; empty for other groups.
    pub trace_keys: Vec<Vec<(String, u128)>>,
}

/// Options of a run that do not change its results.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Keep a per-second stream-level time series.
    pub per_second: bool,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// An invariant broke: a bug, reported rather than hidden.
    #[error(
        "internal error: records are not conserved: {0} (please report this with the scenario and seed)"
    )]
    Conservation(String),
    /// The external autoscaling policy failed: it could not start, crashed,
    /// timed out or answered something that is not a decision.
    #[error("autoscaling policy {command:?}: {message}")]
    Policy {
        /// The command, as in the scenario.
        command: Vec<String>,
        /// What went wrong.
        message: String,
    },
    /// A record trace could not be read, or has a malformed line (without
    /// `skip_bad_lines`).
    #[error(transparent)]
    Trace(crate::workload::TraceError),
}

struct Engine<'s> {
    scenario: &'s Scenario,
    map: ShardMap,
    limiters: Vec<Limiter>,
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
    reshard_rng: SimRng,
    reshard_log: Vec<ReshardLog>,
    active: Option<reshard::Active>,
    backlogs: Vec<backlog::Backlog>,
    read_limits: Vec<consumers::ReadLimiter>,
    consumers: Vec<ConsumerState>,
    /// Reused by reads: `(records, arrival)` pieces for latency statistics.
    read_buffer: Vec<(u64, SimTime)>,
    /// The autoscaling policy with its bounds, if the scenario has one.
    scaler: Option<policy::Scaler>,
    policy_error: Option<String>,
    trace_error: Option<crate::workload::TraceError>,
    on_demand: Option<ondemand::OnDemand>,
    /// Whether a chain of on-demand ticks is scheduled.
    on_demand_ticking: bool,
    /// Times the stream became on-demand.
    on_demand_periods: u32,
    /// Accepted capacity-mode switches, by request time.
    mode_switches: Vec<SimTime>,
    /// The reshard log entry of the switch in progress.
    mode_switch: Option<usize>,
}

/// Simulates `scenario` with its seed.
pub fn simulate(scenario: &Scenario, options: RunOptions) -> Result<Outcome, SimError> {
    let scaler = match &scenario.autoscaling {
        None => None,
        Some(a) => Some(
            policy::Scaler::from_scenario(a, scenario.stream.enhanced_monitoring).map_err(
                |message| SimError::Policy {
                    command: exec_command(scenario),
                    message,
                },
            )?,
        ),
    };
    run(scenario, options, scaler)
}

/// Simulates `scenario` with `policy` deciding in place of the scenario's
/// own: evaluated on the scenario's `[autoscaling]` schedule, within its
/// `min_shards` and `max_shards`. A test's fake ([`policy::Scripted`]) or a
/// team's policy written in Rust plugs in here.
pub fn simulate_with_policy(
    scenario: &Scenario,
    options: RunOptions,
    policy: Box<dyn policy::ScalingPolicy>,
) -> Result<Outcome, SimError> {
    let Some(a) = &scenario.autoscaling else {
        return Err(SimError::Policy {
            command: Vec::new(),
            message: "the scenario has no [autoscaling] table, which says when a policy is \
                      evaluated and its bounds"
                .into(),
        });
    };
    let scaler = policy::Scaler::new(policy, a.min_shards, a.max_shards);
    run(scenario, options, Some(scaler))
}

/// The external policy's command, if the scenario's policy is one.
fn exec_command(scenario: &Scenario) -> Vec<String> {
    match &scenario.autoscaling {
        Some(crate::scenario::Autoscaling {
            policy: crate::scenario::Policy::Exec { command, .. },
            ..
        }) => command.clone(),
        _ => Vec::new(),
    }
}

fn run(
    scenario: &Scenario,
    options: RunOptions,
    scaler: Option<policy::Scaler>,
) -> Result<Outcome, SimError> {
    let records_rate = Quota::WriteRecordsPerShardPerSec.value();
    let bytes_rate = Quota::WriteBytesPerShardPerSec.value();
    let spec = &scenario.stream;
    // An on-demand Advantage stream created with a warm throughput has the
    // shards to carry it from the start.
    let shards = match (spec.on_demand, spec.warm_throughput) {
        (Some(_), Some(warm)) => spec.shards.max(ondemand::OnDemand::warm_shards(warm)),
        _ => spec.shards,
    };
    let map = ShardMap::create(shards, scenario.start).expect("validated shard count");
    let limiters = (0..shards)
        .map(|_| {
            Limiter::new(
                spec.write_limit,
                records_rate,
                bytes_rate,
                spec.max_record_bytes,
            )
        })
        .collect();
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
    let mut engine = Engine {
        scenario,
        map,
        limiters,
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
        reshard_rng: stream(scenario.seed, Purpose::Reshard, 0),
        reshard_log: Vec::new(),
        active: None,
        backlogs: Vec::new(),
        read_limits: Vec::new(),
        consumers: Vec::new(),
        read_buffer: Vec::new(),
        scaler: None,
        policy_error: None,
        trace_error: None,
        on_demand: None,
        on_demand_ticking: false,
        on_demand_periods: 0,
        mode_switches: Vec::new(),
        mode_switch: None,
    };
    engine.scaler = scaler;
    if let Some(keep) = shard_level_minutes(scenario) {
        engine.metrics.enable_shard_level(keep);
    }
    engine.note_open_shards();
    let mut queue = EventQueue::new();
    for (i, r) in scenario.reshards.iter().enumerate() {
        queue.push(r.at, Event::ReshardRequest { index: i as u32 });
    }
    if !scenario.consumers.is_empty() {
        engine.start_consumers(&mut queue);
    }
    if let Some(a) = &scenario.autoscaling {
        queue.push(a.evaluation_interval, Event::PolicyTick);
    }
    if spec.on_demand.is_some() {
        engine.start_on_demand(0, &mut queue);
    }
    for p in 0..engine.producers.len() {
        engine.schedule_arrival(p as u32, 0, &mut queue);
        // A trace whose first lines are bad fails before the run starts.
        if let Some(e) = engine.trace_error.take() {
            return Err(SimError::Trace(e));
        }
    }
    // Events at the horizon itself or later are not part of the run.
    let events = if scenario.duration > 0 {
        run_until(&mut engine, &mut queue, scenario.duration - 1)
    } else {
        0
    };
    engine.metrics.finish(scenario.duration);
    if let Some(e) = engine.trace_error.take() {
        return Err(SimError::Trace(e));
    }
    if let Some(message) = engine.policy_error.take() {
        return Err(SimError::Policy {
            command: exec_command(scenario),
            message,
        });
    }
    // An external policy's process ends with the run.
    engine.scaler = None;

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
    for (app, c) in engine.scenario.consumers.iter().zip(&engine.consumers) {
        let available = c.available(&engine.backlogs);
        let unread = c.unread(&engine.backlogs);
        let unique = c.total.processed - c.total.duplicates;
        if available != unique + c.total.lost + unread
            || c.unread_counted(&engine.backlogs) != unread
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
        map: engine.map,
        metrics: engine.metrics,
        keys: engine.keys,
        pending,
        reshards: engine.reshard_log,
        consumers: engine.consumers,
        backlogs: engine.backlogs,
        events,
    })
}

impl Model for Engine<'_> {
    type Event = Event;

    fn handle(&mut self, now: SimTime, event: Event, queue: &mut EventQueue<Event>) {
        self.metrics.advance(now);
        match event {
            Event::Arrival { producer } => {
                self.arrival(producer, now, queue);
                self.schedule_arrival(producer, now, queue);
            }
            Event::Linger {
                producer,
                generation,
            } => {
                if self.producers[producer as usize].generation == generation {
                    self.flush(producer, now, queue);
                }
            }
            Event::Retry { producer, slot } => {
                let record = self.parked[slot as usize];
                self.free_slots.push(slot);
                self.submit(producer, record, now, queue);
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
            }
            Event::ReshardRequest { index } => self.reshard_request(index as usize, now, queue),
            Event::ReshardStep => self.reshard_step(now, queue),
            Event::AppStart { app } => self.app_start(app as usize, now, queue),
            Event::Poll { app, shard } => self.poll(app as usize, shard as usize, now, queue),
            Event::Expire => self.expire(now, queue),
            Event::PolicyTick => self.policy_tick(now, queue),
            Event::OnDemandTick => self.on_demand_tick(now, queue),
            Event::OnDemandSplit { shard, period } => {
                if self
                    .on_demand
                    .as_ref()
                    .is_some_and(|od| od.period == period)
                {
                    self.on_demand_split(shard, now, queue);
                }
            }
            Event::ModeSwitched => self.mode_switched(now, queue),
        }
    }
}

impl Engine<'_> {
    fn schedule_arrival(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        if let Some(trace) = p.trace.as_mut() {
            match trace.next(self.scenario.duration, &mut p.arrivals, &mut p.keys) {
                Ok(Some(r)) => {
                    p.trace_next = Some(r);
                    queue.push(r.at.max(now), Event::Arrival { producer });
                }
                Ok(None) => {}
                Err(e) => {
                    // A malformed line ends the run; the error is returned.
                    self.trace_error = Some(e);
                    queue.clear();
                }
            }
            return;
        }
        let group = &self.scenario.producers[p.group as usize];
        let (bounds, end) = self.rate_bounds[p.group as usize];
        if let Some(t) = group.arrivals.next(
            &self.rates[p.group as usize],
            &bounds,
            p.share,
            now,
            end,
            &mut p.arrivals,
        ) {
            queue.push(t, Event::Arrival { producer });
        }
    }

    fn arrival(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        let g = p.group as usize;
        let group = &self.scenario.producers[g];
        let (key, size) = match p.trace_next.take() {
            Some(r) => (
                crate::workload::KeyPick {
                    index: r.key,
                    hash: r.hash,
                    key_bytes: r.key_bytes,
                },
                r.size.unwrap_or_else(|| group.size.sample(&mut p.sizes)),
            ),
            None => (
                group.keys.pick(&mut p.keys),
                group.size.sample(&mut p.sizes),
            ),
        };
        let bytes = size.saturating_add(u64::from(key.key_bytes));
        self.metrics.producer_second.produced += 1;
        if bytes > self.max_record {
            self.metrics.producer_second.rejected_too_large += 1;
            return;
        }
        // What can reach the stream (not records refused as too large).
        self.keys[g].offered_bytes += bytes;
        if p.outstanding >= group.buffer_limit {
            self.metrics.producer_second.dropped_buffer_full += 1;
            return;
        }
        p.outstanding += 1;
        if key.index == u32::MAX {
            let shard = self.map.shard_for_hash_key(HashKey(key.hash));
            self.metrics.shard_totals[shard.index() as usize].random_keys += 1;
        } else {
            let k = &mut self.keys[g];
            let i = key.index as usize;
            if i >= k.records.len() {
                // A trace's keys are learnt as they come.
                k.records.resize(i + 1, 0);
                k.bytes.resize(i + 1, 0);
            }
            k.records[i] += 1;
            k.bytes[i] += bytes;
        }
        let record = Record {
            hash: key.hash,
            born: now,
            // At most 10 MiB: fits.
            bytes: bytes as u32,
            attempts: 0,
            users: 1,
            births: NO_SLOT,
        };
        if group.aggregation.is_some() {
            self.aggregate(producer, record, now, queue);
        } else {
            self.submit(producer, record, now, queue);
        }
    }

    /// Adds a user record to its predicted shard's aggregate, completing the
    /// aggregate first if the record would not fit.
    fn aggregate(
        &mut self,
        producer: u32,
        record: Record,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let p = &self.producers[producer as usize];
        let agg = self.scenario.producers[p.group as usize]
            .aggregation
            .expect("only aggregating groups aggregate");
        let shard = self.map.shard_for_hash_key(HashKey(record.hash)).index() as usize;
        let cost = u64::from(record.bytes) + AGGREGATE_PER_RECORD_BYTES;
        let key = shard as u32;
        if p.aggregates
            .get(&key)
            .is_some_and(|open| open.bytes + cost > agg.max_size)
        {
            self.complete_aggregate(producer, shard, now, queue);
        }
        if !self.producers[producer as usize]
            .aggregates
            .contains_key(&key)
        {
            let slot = match self.free_births.pop() {
                Some(slot) => slot,
                None => {
                    self.births.push(Vec::new());
                    self.births.len() as u32 - 1
                }
            };
            let p = &mut self.producers[producer as usize];
            p.aggregate_generation = p.aggregate_generation.wrapping_add(1);
            let generation = p.aggregate_generation;
            p.aggregates.insert(
                key,
                OpenAggregate {
                    births: slot,
                    hash: record.hash,
                    bytes: AGGREGATE_FIXED_BYTES,
                    first_bytes: record.bytes,
                    count: 0,
                    generation,
                },
            );
            queue.push(
                now + agg.max_buffered_time,
                Event::AggregateDue {
                    producer,
                    shard: key,
                    generation,
                },
            );
        }
        let a = self.producers[producer as usize]
            .aggregates
            .get_mut(&key)
            .expect("opened above");
        self.births[a.births as usize].push(record.born);
        a.bytes += cost;
        a.count += 1;
        if a.bytes >= agg.max_size {
            self.complete_aggregate(producer, shard, now, queue);
        }
    }

    /// Turns an open aggregate into a Kinesis record and hands it to the
    /// client. A lone user record is sent as itself, as the KPL does.
    fn complete_aggregate(
        &mut self,
        producer: u32,
        shard: usize,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let Some(a) = self.producers[producer as usize]
            .aggregates
            .remove(&(shard as u32))
        else {
            return;
        };
        let (slot, count) = (a.births, a.count);
        let born = self.births[slot as usize][0];
        let record = if count == 1 {
            self.release_births(slot);
            Record {
                hash: a.hash,
                born,
                bytes: a.first_bytes,
                attempts: 0,
                users: 1,
                births: NO_SLOT,
            }
        } else {
            self.metrics.producer_second.aggregates += 1;
            Record {
                hash: a.hash,
                born,
                // At most max_size, itself at most the 10 MiB record maximum.
                bytes: a.bytes as u32,
                attempts: 0,
                users: count,
                births: slot,
            }
        };
        self.submit(producer, record, now, queue);
    }

    fn release_births(&mut self, slot: u32) {
        self.births[slot as usize].clear();
        self.free_births.push(slot);
    }

    /// Hands a record to the client: sent at once (PutRecord) or batched.
    fn submit(
        &mut self,
        producer: u32,
        record: Record,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let p = &mut self.producers[producer as usize];
        let group = &self.scenario.producers[p.group as usize];
        match group.api {
            Api::PutRecord => {
                self.metrics.producer_second.put_record_calls += 1;
                self.send(producer, record, now, false, queue);
            }
            Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            } => {
                if p.batch_bytes + u64::from(record.bytes) > max_bytes {
                    self.flush(producer, now, queue);
                }
                let p = &mut self.producers[producer as usize];
                if p.batch.is_empty() && linger > 0 {
                    queue.push(
                        now + linger,
                        Event::Linger {
                            producer,
                            generation: p.generation,
                        },
                    );
                }
                p.batch.push(record);
                p.batch_bytes += u64::from(record.bytes);
                if p.batch.len() as u32 >= max_records || linger == 0 {
                    self.flush(producer, now, queue);
                }
            }
        }
    }

    /// Sends the batch as one PutRecords call.
    fn flush(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        p.generation = p.generation.wrapping_add(1);
        if p.batch.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut p.batch);
        p.batch_bytes = 0;
        self.metrics.producer_second.put_records_calls += 1;
        for &record in &batch {
            self.send(producer, record, now, true, queue);
        }
        // Hand the allocation back: no allocation per batch in steady state.
        batch.clear();
        self.producers[producer as usize].batch = batch;
    }

    /// One attempt of one record at the shard its hash key routes to.
    fn send(
        &mut self,
        producer: u32,
        mut record: Record,
        now: SimTime,
        in_batch: bool,
        queue: &mut EventQueue<Event>,
    ) {
        record.attempts += 1;
        let shard = self.map.shard_for_hash_key(HashKey(record.hash));
        let i = shard.index() as usize;
        let size = u64::from(record.bytes);
        let outcome = match self.on_demand.as_mut() {
            None => self.limiters[i].admit(now, size),
            Some(od) => {
                // Both the stream-level capacity and the shard must pass.
                od.minute_bytes[i] += size;
                let stream = od.stream.check(now, size);
                let shard = self.limiters[i].check(now, size);
                match (stream, shard) {
                    (Ok(()), Ok(())) => {
                        od.stream.take(size);
                        self.limiters[i].take(size);
                        Ok(())
                    }
                    (a, b) => {
                        let (a, b) = (a.err(), b.err());
                        Err(Throttle {
                            by_records: a.is_some_and(|t| t.by_records)
                                || b.is_some_and(|t| t.by_records),
                            by_bytes: a.is_some_and(|t| t.by_bytes)
                                || b.is_some_and(|t| t.by_bytes),
                        })
                    }
                }
            }
        };
        self.metrics.attempt(i, u64::from(record.bytes), outcome);
        let users = u64::from(record.users);
        let p = &mut self.producers[producer as usize];
        let group = &self.scenario.producers[p.group as usize];
        let answered = now + group.request_latency;
        if in_batch {
            self.metrics.producer_second.put_records_total += 1;
        }
        match outcome {
            Ok(()) => {
                // The service numbers the record; the run only needs it to exist.
                let _ = self
                    .map
                    .next_sequence_number(shard, EpochNanos(self.scenario.start.0 + now));
                if let Some(b) = self.backlogs.get_mut(shard.index() as usize) {
                    b.append(now, u64::from(record.bytes));
                }
                let bytes = u64::from(record.bytes);
                let billing = &mut self.metrics.billing[usize::from(self.on_demand.is_some())];
                if self.on_demand.is_some() {
                    billing.billed_in_bytes += crate::kds::prices::billed_in_bytes(bytes);
                } else {
                    let unit = self.scenario.stream.prices.payload_unit_bytes;
                    billing.payload_units += crate::kds::prices::payload_units(bytes, unit);
                }
                if in_batch {
                    self.metrics.producer_second.put_records_successful += 1;
                }
                p.outstanding -= users;
                self.metrics.producer_second.accepted += users;
                if record.births == NO_SLOT {
                    self.metrics.latency(answered - record.born);
                } else {
                    for &born in &self.births[record.births as usize] {
                        self.metrics.latency(answered - born);
                    }
                    self.release_births(record.births);
                }
            }
            Err(_) => {
                if in_batch {
                    self.metrics.producer_second.put_records_throttled += 1;
                }
                let retry = &group.retry;
                if record.attempts >= retry.max_attempts {
                    self.metrics.producer_second.failed_after_retries += users;
                    p.outstanding -= users;
                    self.release_aggregate(record);
                    return;
                }
                let at = answered + backoff(retry, record.attempts, &mut p.retries);
                if retry.ttl.is_some_and(|ttl| at - record.born >= ttl) {
                    self.metrics.producer_second.expired += users;
                    p.outstanding -= users;
                    self.release_aggregate(record);
                } else {
                    self.metrics.producer_second.retries += 1;
                    let slot = match self.free_slots.pop() {
                        Some(slot) => {
                            self.parked[slot as usize] = record;
                            slot
                        }
                        None => {
                            self.parked.push(record);
                            self.parked.len() as u32 - 1
                        }
                    };
                    queue.push(at, Event::Retry { producer, slot });
                }
            }
        }
    }
}

/// How many shard-level minutes the run keeps, if it collects them: with
/// enhanced monitoring, for a policy that reads them (an external one, or
/// target tracking of the hottest shard), the latest it may see plus those
/// not yet published. Memory then follows shards, not the run's length.
fn shard_level_minutes(scenario: &Scenario) -> Option<usize> {
    use crate::scenario::{Policy, TrackedMetric};
    if !scenario.stream.enhanced_monitoring {
        return None;
    }
    let a = scenario.autoscaling.as_ref()?;
    let seen = match &a.policy {
        Policy::Exec { window, .. } => *window as usize,
        Policy::TargetTracking {
            metric: TrackedMetric::HottestShard,
            ..
        } => 1,
        _ => return None,
    };
    let minute = 60 * crate::units::NANOS_PER_SEC;
    Some(seen + a.publication_delay.div_ceil(minute) as usize + 1)
}

impl Engine<'_> {
    /// Notes the open shards in the metrics (the count, and which ones for
    /// the shard-level minutes).
    fn note_open_shards(&mut self) {
        self.metrics.set_open_shards(self.map.open_count());
        self.metrics
            .set_open_shard_set(self.map.open_shards().map(|s| s.id().index()));
    }

    /// Evaluates the autoscaling policy on the metrics published by `now`.
    fn policy_tick(&mut self, now: SimTime, queue: &mut EventQueue<Event>) {
        let Some(a) = &self.scenario.autoscaling else {
            return;
        };
        let minute = 60 * crate::units::NANOS_PER_SEC;
        let is_published = |start_secs: u64| {
            start_secs * crate::units::NANOS_PER_SEC + minute + a.publication_delay <= now
        };
        let published = self
            .metrics
            .minutes
            .partition_point(|m| is_published(m.start_secs));
        let shard_minutes = self.metrics.shard_minutes();
        let shard_published = shard_minutes.partition_point(|m| is_published(m.start_secs));
        let obs = policy::Observation {
            now,
            open_shards: self.map.open_count(),
            updating: self.active.is_some() || self.mode_switch.is_some(),
            minutes: &self.metrics.minutes[..published],
            shard_minutes: &shard_minutes[..shard_published],
        };
        let decision = match self.scaler.as_mut() {
            Some(scaler) => scaler.decide(&obs),
            None => Ok(None),
        };
        let decision = match decision {
            Err(message) => {
                // The run ends here, with this error.
                self.policy_error = Some(message);
                queue.clear();
                return;
            }
            Ok(decision) => decision,
        };
        if let Some(target) = decision {
            self.request(
                crate::scenario::ReshardAction::UpdateShardCount { target },
                "policy",
                now,
                queue,
            );
        }
        if now + a.evaluation_interval < self.scenario.duration {
            queue.push(now + a.evaluation_interval, Event::PolicyTick);
        }
    }

    fn release_aggregate(&mut self, record: Record) {
        if record.births != NO_SLOT {
            self.release_births(record.births);
        }
    }
}

/// The delay before retry number `attempts` (1 = the first retry):
/// `jitter(min(cap, base * 2^(attempts-1)))`.
#[inline]
pub fn backoff(policy: &RetryPolicy, attempts: u32, rng: &mut SimRng) -> SimTime {
    let exp = attempts.saturating_sub(1).min(63);
    let d = policy.base.saturating_mul(1u64 << exp).min(policy.cap);
    match policy.jitter {
        Jitter::None => d,
        Jitter::Full => rng.random_range(0..=d),
        Jitter::Equal => d / 2 + rng.random_range(0..=d - d / 2),
    }
}
