//! A producer group in aggregate form: what it offers per step, where its
//! records go (hash keys routed once through the real shard map), their
//! sizes as moments, and its client (PutRecords batching, KPL aggregation,
//! retries) as waits and ratios rather than per-record state.

use std::borrow::Cow;

use rand_distr::{Binomial, Distribution};

use crate::kds::{AGGREGATE_FIXED_BYTES, AGGREGATE_PER_RECORD_BYTES, HashKey, ShardMap, prices};
use crate::model::KeyCounts;
use crate::scenario::{Aggregation, Api, ProducerGroup, RetryPolicy};
use crate::sim::SimTime;
use crate::sim::rng::{Purpose, SimRng, stream};
use crate::units::NANOS_PER_SEC;
use crate::workload::{Arrivals, Bounds, KeySpace, RateProfile, SizeModel};

/// Draws the size moments are estimated from, per group: the standard
/// error of the mean is then under 0.4 % of the standard deviation.
const MOMENT_DRAWS: usize = 1 << 16;

/// Points at which a step's rate is sampled (their mean is the step's).
const RATE_POINTS: u64 = 4;

/// A group's partition keys as weights over the shards.
#[derive(Debug)]
struct KeyRouting {
    /// Probability of each key index.
    probs: Vec<f64>,
    /// The shard each key routes to in the current map.
    shard_of: Vec<u32>,
    /// Partition key bytes of each key.
    key_bytes: Vec<u16>,
}

/// One producer group of the shard-level engine.
#[derive(Debug)]
pub(super) struct GroupFlow<'s> {
    pub(super) spec: &'s ProducerGroup,
    rate: Cow<'s, RateProfile>,
    /// When its arrivals end.
    end: SimTime,
    bounds: Bounds,
    pub(super) poisson: bool,
    /// Mean and standard deviation of a sent user record's bytes (data
    /// plus key), over the draws at or under the stream's maximum.
    pub(super) mean_bytes: f64,
    pub(super) sd_bytes: f64,
    /// Share of draws refused as too large.
    pub(super) too_large: f64,
    /// Expected PUT payload units and on-demand billed bytes of one
    /// unaggregated record.
    pub(super) units_per_record: f64,
    pub(super) billed_per_record: f64,
    /// Probability that a record lands on each shard (by index; 0 on
    /// closed shards).
    pub(super) weights: Vec<f64>,
    keys: Option<KeyRouting>,
    /// User records offered per shard since the map last changed, split
    /// over the keys when it changes (or at the end).
    pub(super) epoch_users: Vec<u64>,
    key_rng: SimRng,
    /// User records this group holds (awaiting a retry) after the last step.
    pub(super) outstanding: u64,
    /// Fractional PutRecords calls carried to the next step.
    calls_carry: f64,
    /// Producers in the group.
    pub(super) producers: f64,
    /// Bytes of one PUT payload unit.
    pub(super) payload_unit: u64,
    /// Fractional records of even arrivals carried to the next step.
    even_carry: f64,
}

/// What a group offers in one step, computed once per step.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct GroupStep {
    /// Expected user records over the step for the whole group.
    pub(super) records: f64,
    /// Even arrivals: the group's whole count in the step.
    pub(super) count: u64,
    /// Whether new records are dropped (the group's buffers are full).
    pub(super) drop_new: bool,
    /// The longest a first attempt waits in a batch before it is sent.
    pub(super) batch_wait: SimTime,
}

impl<'s> GroupFlow<'s> {
    /// The group `g` of a run with `seed`, over `duration`, with stream
    /// maximum record `max_record`.
    pub(super) fn new(
        spec: &'s ProducerGroup,
        g: usize,
        seed: u64,
        duration: SimTime,
        max_record: u64,
        payload_unit: u64,
    ) -> GroupFlow<'s> {
        let rate = spec.rate.realize(seed, g as u64, duration);
        let end = rate.end().unwrap_or(SimTime::MAX).min(duration);
        let bounds = rate.bounds();
        let key_mean = spec.keys.mean_key_bytes();
        let mut rng = stream(seed, Purpose::FlowGroups, g as u64);
        let moments = size_moments(&spec.size, key_mean, max_record, payload_unit, &mut rng);
        let keys = match &spec.keys {
            KeySpace::Table { table, sampler } => Some(KeyRouting {
                probs: sampler.probabilities(),
                shard_of: vec![0; table.len()],
                key_bytes: (0..table.len() as u32)
                    .map(|i| table.key_bytes(i))
                    .collect(),
            }),
            KeySpace::Random { .. } => None,
        };
        GroupFlow {
            spec,
            rate,
            end,
            bounds,
            poisson: matches!(spec.arrivals, Arrivals::Poisson),
            mean_bytes: moments.mean,
            sd_bytes: moments.sd,
            too_large: moments.too_large,
            units_per_record: moments.units,
            billed_per_record: moments.billed,
            weights: Vec::new(),
            keys,
            epoch_users: Vec::new(),
            key_rng: rng,
            outstanding: 0,
            calls_carry: 0.0,
            producers: f64::from(spec.count),
            payload_unit,
            even_carry: 0.0,
        }
    }

    /// Routes the group's keys through `map` (its open shards): the
    /// weights of the shards, from now on.
    pub(super) fn route(&mut self, map: &ShardMap) {
        let n = map.shards().len();
        self.weights.clear();
        self.weights.resize(n, 0.0);
        self.epoch_users.resize(n, 0);
        match (&mut self.keys, &self.spec.keys) {
            (Some(k), KeySpace::Table { table, .. }) => {
                for (i, p) in k.probs.iter().enumerate() {
                    let s = map
                        .shard_for_hash_key(HashKey(table.hash(i as u32)))
                        .index();
                    k.shard_of[i] = s;
                    self.weights[s as usize] += p;
                }
            }
            _ => {
                for s in map.open_shards() {
                    self.weights[s.id().index() as usize] = s.range().fraction();
                }
            }
        }
    }

    /// Splits the user records offered since the last routing over the
    /// keys of each shard (a multinomial by key probability, drawn from
    /// the group's own stream) into `counts`; nothing for random keys.
    pub(super) fn settle_keys(&mut self, counts: &mut KeyCounts) {
        if self.epoch_users.iter().all(|&u| u == 0) {
            return;
        }
        let Some(k) = &self.keys else {
            self.epoch_users.iter_mut().for_each(|u| *u = 0);
            return;
        };
        // Keys by shard, in key order: each shard's users go to its keys.
        let mut left: Vec<u64> = self.epoch_users.clone();
        let mut mass: Vec<f64> = self.weights.clone();
        for (i, &p) in k.probs.iter().enumerate() {
            let s = k.shard_of[i] as usize;
            if left[s] == 0 {
                continue;
            }
            let share = if mass[s] <= p {
                1.0
            } else {
                (p / mass[s]).clamp(0.0, 1.0)
            };
            let n = if share >= 1.0 {
                left[s]
            } else {
                Binomial::new(left[s], share).map_or(0, |b| b.sample(&mut self.key_rng))
            };
            left[s] -= n;
            mass[s] -= p;
            counts.records[i] += n;
            let bytes = self.mean_bytes - self.mean_key_bytes() + f64::from(k.key_bytes[i]);
            counts.bytes[i] += (n as f64 * bytes).round() as u64;
        }
        self.epoch_users.iter_mut().for_each(|u| *u = 0);
    }

    fn mean_key_bytes(&self) -> f64 {
        self.spec.keys.mean_key_bytes()
    }

    /// What the group offers over `[t0, t1)`.
    pub(super) fn step(&mut self, t0: SimTime, t1: SimTime, send_rate: f64) -> GroupStep {
        let dt = t1 - t0;
        let records = if t0 >= self.end || self.bounds.max <= 0.0 {
            0.0
        } else {
            let sum: f64 = (0..RATE_POINTS)
                .map(|i| {
                    let t = t0 + dt * (2 * i + 1) / (2 * RATE_POINTS);
                    if t < self.end { self.rate.at(t) } else { 0.0 }
                })
                .sum();
            sum / RATE_POINTS as f64 * dt as f64 / NANOS_PER_SEC as f64
        };
        let count = if self.poisson {
            0
        } else {
            let due = records + self.even_carry;
            let whole = due.floor();
            self.even_carry = due - whole;
            whole as u64
        };
        GroupStep {
            records,
            count,
            drop_new: self.outstanding
                >= self
                    .spec
                    .buffer_limit
                    .saturating_mul(u64::from(self.spec.count)),
            batch_wait: self.batch_wait(send_rate),
        }
    }

    /// The longest a record waits in a PutRecords batch when the group's
    /// producers send `send_rate` Kinesis records/s in all: until the batch
    /// is full or its linger passes, whichever is first.
    fn batch_wait(&self, send_rate: f64) -> SimTime {
        match self.spec.api {
            Api::PutRecord => 0,
            Api::PutRecords { linger: 0, .. } => 0,
            Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            } => {
                let per = send_rate / self.producers;
                if per <= 0.0 {
                    return linger;
                }
                let full = f64::from(max_records)
                    .min((max_bytes as f64 / self.mean_bytes.max(1.0)).max(1.0));
                let fill = ((full - 1.0).max(0.0) / per * NANOS_PER_SEC as f64) as SimTime;
                fill.min(linger)
            }
        }
    }

    /// Calls made for `sends` Kinesis record attempts in a step at
    /// `send_rate` records/s, fractional calls carried on.
    pub(super) fn calls(&mut self, sends: u64, send_rate: f64) -> u64 {
        let per_call = match self.spec.api {
            Api::PutRecord => return sends,
            Api::PutRecords { linger: 0, .. } => 1.0,
            Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            } => {
                let full = f64::from(max_records)
                    .min((max_bytes as f64 / self.mean_bytes.max(1.0)).max(1.0));
                let per = send_rate / self.producers;
                (1.0 + per * linger as f64 / NANOS_PER_SEC as f64)
                    .min(full)
                    .max(1.0)
            }
        };
        let calls = sends as f64 / per_call + self.calls_carry;
        let whole = calls.floor();
        self.calls_carry = calls - whole;
        whole as u64
    }

    /// The group's retry policy.
    pub(super) fn retry(&self) -> &RetryPolicy {
        &self.spec.retry
    }

    /// KPL aggregation of `users` user records a step offers one shard, at
    /// `rate` user records/s per producer to it: the Kinesis records they
    /// make, how many of those are aggregates, their bytes beyond the
    /// users' own, and the longest a user record waits in an aggregate.
    pub(super) fn aggregate(agg: &Aggregation, mean: f64, users: u64, rate: f64) -> Packing {
        let full = ((agg.max_size.saturating_sub(AGGREGATE_FIXED_BYTES)) as f64
            / (mean + AGGREGATE_PER_RECORD_BYTES as f64))
            .floor()
            .max(1.0);
        let wait_secs = agg.max_buffered_time as f64 / NANOS_PER_SEC as f64;
        let (per, wait, lone) = if rate <= 0.0 {
            (1.0, agg.max_buffered_time, 1.0)
        } else if 1.0 + rate * wait_secs >= full {
            // Filled by size before the timer.
            (
                full,
                ((full - 1.0) / rate * NANOS_PER_SEC as f64) as SimTime,
                if full <= 1.0 { 1.0 } else { 0.0 },
            )
        } else {
            // Sent by the timer: the first record and those in its wait.
            (
                1.0 + rate * wait_secs,
                agg.max_buffered_time,
                (-rate * wait_secs).exp(),
            )
        };
        let records = ((users as f64 / per).round() as u64).clamp(u64::from(users > 0), users);
        let aggregates = ((records as f64 * (1.0 - lone)).round() as u64).min(records);
        let aggregated_users = users.saturating_sub(records - aggregates);
        Packing {
            records,
            aggregates,
            extra_bytes: aggregates * AGGREGATE_FIXED_BYTES
                + aggregated_users * AGGREGATE_PER_RECORD_BYTES,
            wait,
        }
    }

    /// Draws the bytes of `n` sent user records: each drawn when few, else
    /// the normal approximation of their sum (central limit).
    pub(super) fn draw_bytes(&self, n: u64, rng: &mut SimRng) -> u64 {
        if n == 0 {
            return 0;
        }
        let mean = n as f64 * self.mean_bytes;
        if self.sd_bytes == 0.0 {
            return mean.round() as u64;
        }
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        let sum = mean + (n as f64).sqrt() * self.sd_bytes * z;
        sum.max(n as f64).round() as u64
    }

    /// Draws how many of `n` user records are refused as too large.
    pub(super) fn draw_too_large(&self, n: u64, rng: &mut SimRng) -> u64 {
        if self.too_large <= 0.0 || n == 0 {
            return 0;
        }
        Binomial::new(n, self.too_large.min(1.0)).map_or(0, |b| b.sample(rng))
    }
}

/// How a step's user records to one shard are packed by the KPL.
#[derive(Debug, Clone, Copy)]
pub(super) struct Packing {
    pub(super) records: u64,
    pub(super) aggregates: u64,
    pub(super) extra_bytes: u64,
    pub(super) wait: SimTime,
}

struct Moments {
    mean: f64,
    sd: f64,
    too_large: f64,
    units: f64,
    billed: f64,
}

/// The moments of a sent record's bytes (data plus the group's mean key),
/// estimated from [`MOMENT_DRAWS`] draws, except the mean and the
/// too-large share, which the size model knows exactly.
fn size_moments(
    size: &SizeModel,
    key: f64,
    max_record: u64,
    payload_unit: u64,
    rng: &mut SimRng,
) -> Moments {
    let key_bytes = key.round() as u64;
    let (mut n, mut sum, mut sq, mut units, mut billed) = (0u64, 0.0, 0.0, 0.0, 0.0);
    for _ in 0..MOMENT_DRAWS {
        let b = size.sample(rng).saturating_add(key_bytes);
        if b > max_record {
            continue;
        }
        n += 1;
        let x = b as f64;
        sum += x;
        sq += x * x;
        units += prices::payload_units(b, payload_unit) as f64;
        billed += prices::billed_in_bytes(b) as f64;
    }
    let n = n.max(1) as f64;
    let sample_mean = sum / n;
    let var = (sq / n - sample_mean * sample_mean).max(0.0);
    Moments {
        mean: size.mean() + key,
        sd: var.sqrt(),
        too_large: 1.0 - size.sent_fraction(),
        units: units / n,
        billed: billed / n,
    }
}
