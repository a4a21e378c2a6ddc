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

mod limiter;

pub use limiter::{Limiter, Throttle};

use rand::RngExt;

use crate::kds::{EpochNanos, HashKey, Quota, ShardMap};
use crate::metrics::Metrics;
use crate::scenario::{Api, Jitter, RetryPolicy, Scenario};
use crate::sim::rng::{Purpose, SimRng, stream};
use crate::sim::{EventQueue, Model, SimTime, run_until};

/// A user record on its way: 40 bytes, carried in events, never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    hash: u128,
    born: SimTime,
    /// Data plus partition key.
    bytes: u32,
    /// Index into the group's key table, `u32::MAX` for a random key.
    key: u32,
    attempts: u32,
}

/// Events stay small (12 bytes) so that the heap moves little: a record
/// awaiting a retry waits in [`Engine::parked`], and the event holds its slot.
#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival { producer: u32 },
    Linger { producer: u32, generation: u32 },
    Retry { producer: u32, slot: u32 },
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
    /// Records held: in the batch or awaiting a retry.
    outstanding: u64,
}

/// Per-key counts of a group with a finite key table.
#[derive(Debug, Clone, Default)]
pub struct KeyCounts {
    /// User records produced per key index.
    pub records: Vec<u64>,
    /// Their bytes (data plus key) per key index.
    pub bytes: Vec<u64>,
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
    /// Events handled.
    pub events: u64,
}

/// Options of a run that do not change its results.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Keep a per-second stream-level time series.
    pub per_second: bool,
}

/// A run that broke an invariant: a bug, reported rather than hidden.
#[derive(Debug, thiserror::Error)]
#[error(
    "internal error: records are not conserved: produced {produced} != accepted {accepted} + \
     failed {failed} + rejected {rejected} + dropped {dropped} + pending {pending} \
     (please report this with the scenario and seed)"
)]
pub struct ConservationError {
    produced: u64,
    accepted: u64,
    failed: u64,
    rejected: u64,
    dropped: u64,
    pending: u64,
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
    /// Per group: the rate's upper bound and whether it is constant.
    rate_bounds: Vec<(f64, bool)>,
}

/// Simulates `scenario` with its seed.
pub fn simulate(scenario: &Scenario, options: RunOptions) -> Result<Outcome, ConservationError> {
    let records_rate = Quota::WriteRecordsPerShardPerSec.value();
    let bytes_rate = Quota::WriteBytesPerShardPerSec.value();
    let spec = &scenario.stream;
    let map = ShardMap::create(spec.shards, scenario.start).expect("validated shard count");
    let limiters = (0..spec.shards)
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
            });
        }
        let n = group.keys.table().map_or(0, |t| t.len());
        keys.push(KeyCounts {
            records: vec![0; n],
            bytes: vec![0; n],
        });
    }
    let metrics = Metrics::new(
        spec.shards as usize,
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
        rate_bounds: scenario
            .producers
            .iter()
            .map(|g| (g.rate.max(), g.rate.is_constant()))
            .collect(),
    };
    let mut queue = EventQueue::new();
    for p in 0..engine.producers.len() {
        engine.schedule_arrival(p as u32, 0, &mut queue);
    }
    // Events at the horizon itself or later are not part of the run.
    let events = if scenario.duration > 0 {
        run_until(&mut engine, &mut queue, scenario.duration - 1)
    } else {
        0
    };
    engine.metrics.finish(scenario.duration);

    // Pending records, counted from the queue and the batches: independent of
    // the `outstanding` tallies, so that conservation is a real check.
    let in_retry = queue
        .drain_ordered()
        .iter()
        .filter(|(_, e)| matches!(e, Event::Retry { .. }))
        .count() as u64;
    let in_batches: u64 = engine.producers.iter().map(|p| p.batch.len() as u64).sum();
    let pending = in_retry + in_batches;
    let outstanding: u64 = engine.producers.iter().map(|p| p.outstanding).sum();
    let p = &engine.metrics.producer_total;
    let accepted: u64 = engine
        .metrics
        .shard_totals
        .iter()
        .map(|t| t.counts.accepted_records)
        .sum();
    let failed = p.failed_after_retries + p.expired;
    if p.produced != accepted + failed + p.rejected_too_large + p.dropped_buffer_full + pending
        || outstanding != pending
    {
        return Err(ConservationError {
            produced: p.produced,
            accepted,
            failed,
            rejected: p.rejected_too_large,
            dropped: p.dropped_buffer_full,
            pending,
        });
    }
    Ok(Outcome {
        map: engine.map,
        metrics: engine.metrics,
        keys: engine.keys,
        pending,
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
        }
    }
}

impl Engine<'_> {
    fn schedule_arrival(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        let group = &self.scenario.producers[p.group as usize];
        let (max, constant) = self.rate_bounds[p.group as usize];
        if let Some(t) = group.arrivals.next(
            &group.rate,
            (max, constant),
            p.share,
            now,
            self.scenario.duration,
            &mut p.arrivals,
        ) {
            queue.push(t, Event::Arrival { producer });
        }
    }

    fn arrival(&mut self, producer: u32, now: SimTime, queue: &mut EventQueue<Event>) {
        let p = &mut self.producers[producer as usize];
        let g = p.group as usize;
        let group = &self.scenario.producers[g];
        let key = group.keys.pick(&mut p.keys);
        let size = group.size.sample(&mut p.sizes);
        let bytes = size.saturating_add(u64::from(key.key_bytes));
        self.metrics.producer_second.produced += 1;
        if bytes > self.max_record {
            self.metrics.producer_second.rejected_too_large += 1;
            return;
        }
        if p.outstanding >= group.buffer_limit {
            self.metrics.producer_second.dropped_buffer_full += 1;
            return;
        }
        p.outstanding += 1;
        if key.index != u32::MAX {
            let k = &mut self.keys[g];
            k.records[key.index as usize] += 1;
            k.bytes[key.index as usize] += bytes;
        }
        let record = Record {
            hash: key.hash,
            born: now,
            // At most 10 MiB: fits.
            bytes: bytes as u32,
            key: key.index,
            attempts: 0,
        };
        self.submit(producer, record, now, queue);
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
        let outcome = self.limiters[i].admit(now, u64::from(record.bytes));
        self.metrics.attempt(i, u64::from(record.bytes), outcome);
        if record.key == u32::MAX && record.attempts == 1 {
            self.metrics.shard_totals[i].random_keys += 1;
        }
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
                if in_batch {
                    self.metrics.producer_second.put_records_successful += 1;
                }
                self.metrics.latency(answered - record.born);
                p.outstanding -= 1;
            }
            Err(_) => {
                if in_batch {
                    self.metrics.producer_second.put_records_throttled += 1;
                }
                let retry = &group.retry;
                if record.attempts >= retry.max_attempts {
                    self.metrics.producer_second.failed_after_retries += 1;
                    p.outstanding -= 1;
                    return;
                }
                let at = answered + backoff(retry, record.attempts, &mut p.retries);
                if retry.ttl.is_some_and(|ttl| at - record.born >= ttl) {
                    self.metrics.producer_second.expired += 1;
                    p.outstanding -= 1;
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
