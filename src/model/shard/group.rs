//! A producer group in aggregate form: what it offers per step, where its
//! records go (hash keys routed once through the real shard map), their
//! sizes as moments, and its client (PutRecords batching, KPL aggregation,
//! retries) as clump sizes, waits and ratios rather than per-record state.

use std::borrow::Cow;

use rand::RngExt;
use rand_distr::{Binomial, Distribution};

use super::trace::{StepIn, TraceFlow};
use crate::kds::{AGGREGATE_FIXED_BYTES, AGGREGATE_PER_RECORD_BYTES, HashKey, ShardMap, prices};
use crate::model::{KeyCounts, SimError};
use crate::scenario::{Aggregation, Api, Jitter, ProducerGroup, RetryPolicy};
use crate::sim::SimTime;
use crate::sim::rng::{Purpose, SimRng, stream};
use crate::units::NANOS_PER_SEC;
use crate::workload::{Arrivals, Bounds, KeySpace, RateProfile, SizeModel};

/// Draws the size moments are estimated from, per group: the standard
/// error of the mean is then under 0.4 % of the standard deviation.
const MOMENT_DRAWS: usize = 1 << 16;

/// Points at which a step's rate is sampled (their mean is the step's).
const RATE_POINTS: u64 = 4;

/// Latency points recorded per group, attempt count and step: the put
/// latency histogram gets the accepted records spread over them.
const LATENCY_POINTS: u64 = 32;

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
    /// closed shards), and its square root.
    pub(super) weights: Vec<f64>,
    pub(super) root_weights: Vec<f64>,
    keys: Option<KeyRouting>,
    key_rng: SimRng,
    latency_rng: SimRng,
    split_rng: SimRng,
    /// Even arrivals: this step's records per shard (a multinomial split
    /// of the group's exact count, so the stream's total stays exact).
    pub(super) even_counts: Vec<u64>,
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
    /// An aggregate trace it replays, if any ([`super::trace`]).
    pub(super) trace: Option<TraceFlow>,
    /// The size model's payload units and billed bytes of a record, for a
    /// trace's records without bytes (`units_per_record` then follows
    /// the step's records).
    model_units: f64,
    model_billed: f64,
    /// Mean bytes of a record sent: the size model's, or a trace's in the
    /// last step with records (for batch sizes).
    send_mean: f64,
    /// The stream's largest record.
    max_record: u64,
}

/// What a group offers in one step, computed once per step.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct GroupStep {
    /// Expected user records over the step for the whole group, and its
    /// square root.
    pub(super) records: f64,
    pub(super) root_records: f64,
    /// Whether new records are dropped (the group's buffers are full).
    pub(super) drop_new: bool,
    /// `E[B^2] / E[B]` of the Kinesis records `B` in one producer's call:
    /// a shard with share `w` of them gets clumps whose mean square over
    /// mean is `1 - w + w * clump` (1 for PutRecord).
    pub(super) clump: f64,
    /// Longest wait of a record in a PutRecords batch before it is sent.
    pub(super) batch_wait: SimTime,
}

/// How a step's user records to one shard are packed by the KPL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Packing {
    /// Kinesis records made (aggregates and lone records).
    pub(super) records: u64,
    /// Of those, aggregates.
    pub(super) aggregates: u64,
    /// Bytes beyond the user records' own.
    pub(super) extra_bytes: u64,
    /// Longest a user record waits in an aggregate.
    pub(super) wait: SimTime,
    /// Variance of one Kinesis record's bytes.
    pub(super) var_bytes: f64,
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
    ) -> Result<GroupFlow<'s>, SimError> {
        let trace = match &spec.trace {
            None => None,
            Some(t) => Some(TraceFlow::new(
                crate::workload::TraceReader::open(t.clone()).map_err(SimError::Trace)?,
            )),
        };
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
        let latency_rng = stream(seed, Purpose::FlowLatency, g as u64);
        Ok(GroupFlow {
            spec,
            rate,
            end,
            bounds,
            // A trace's counts per shard are given, as even arrivals' are.
            poisson: trace.is_none() && matches!(spec.arrivals, Arrivals::Poisson),
            mean_bytes: moments.mean,
            sd_bytes: moments.sd,
            too_large: moments.too_large,
            units_per_record: moments.units,
            billed_per_record: moments.billed,
            weights: Vec::new(),
            root_weights: Vec::new(),
            keys,
            key_rng: rng,
            latency_rng,
            split_rng: stream(seed, Purpose::FlowSplit, g as u64),
            even_counts: Vec::new(),
            outstanding: 0,
            calls_carry: 0.0,
            producers: f64::from(spec.count),
            payload_unit,
            even_carry: 0.0,
            trace,
            model_units: moments.units,
            model_billed: moments.billed,
            send_mean: moments.mean,
            max_record,
        })
    }

    /// Routes the group's keys through `map` (its open shards): the
    /// weights of the shards, from now on.
    pub(super) fn route(&mut self, map: &ShardMap) {
        let n = map.shards().len();
        self.weights.clear();
        self.weights.resize(n, 0.0);
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
                // A trace's weights are its step's shares, set each step.
                for s in map.open_shards() {
                    self.weights[s.id().index() as usize] = s.range().fraction();
                }
            }
        }
        if let Some(t) = &mut self.trace {
            t.reroute();
        }
        self.root_weights.clear();
        self.root_weights
            .extend(self.weights.iter().map(|w| w.sqrt()));
    }

    /// Whether the group's keys are a table (whose per-key counts are
    /// kept), not random.
    pub(super) fn has_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// Splits the user records `users[s]` offered to each shard since the
    /// last routing over the keys of that shard (a multinomial by key
    /// probability, drawn from the group's own stream) into `counts`;
    /// nothing for random keys.
    pub(super) fn settle_keys(&mut self, users: &[u64], counts: &mut KeyCounts) {
        let Some(k) = &self.keys else {
            return;
        };
        if users.iter().all(|&u| u == 0) {
            return;
        }
        // Keys by shard, in key order: each shard's users go to its keys.
        let mut left: Vec<u64> = users.to_vec();
        left.resize(self.weights.len(), 0);
        let mut mass: Vec<f64> = self.weights.clone();
        let data = self.mean_bytes - self.spec.keys.mean_key_bytes();
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
            counts.bytes[i] += (n as f64 * (data + f64::from(k.key_bytes[i]))).round() as u64;
        }
    }

    /// What the group offers over `[t0, t1)`; `send_rate` is the Kinesis
    /// records/s the whole group sent in the last step. A trace group
    /// reads its rows of the step (routed through `map`) and counts its
    /// keys' records into `keys`.
    pub(super) fn step(
        &mut self,
        t0: SimTime,
        t1: SimTime,
        send_rate: f64,
        map: &ShardMap,
        keys: &mut KeyCounts,
    ) -> Result<GroupStep, SimError> {
        let dt = t1 - t0;
        let drop_new = self.outstanding
            >= self
                .spec
                .buffer_limit
                .saturating_mul(u64::from(self.spec.count));
        let records = if let Some(trace) = &mut self.trace {
            let input = StepIn {
                map,
                max_record: self.max_record,
                payload_unit: self.payload_unit,
                too_large: self.too_large,
                units: self.model_units,
                billed: self.model_billed,
                mean_data: self.mean_bytes,
                drop_new,
            };
            let out = trace
                .step((t0, t1), &input, keys, &mut self.split_rng)
                .map_err(SimError::Trace)?;
            let total = out.records as f64;
            self.even_counts.clear();
            self.even_counts
                .extend(trace.shards.iter().map(|s| s.records));
            self.weights.clear();
            self.weights.extend(trace.shards.iter().map(|s| {
                if total > 0.0 {
                    s.records as f64 / total
                } else {
                    0.0
                }
            }));
            self.root_weights.clear();
            self.root_weights
                .extend(self.weights.iter().map(|w| w.sqrt()));
            if out.records > 0 {
                // Billing and batch sizes follow the trace's records.
                self.units_per_record = out.units / total;
                self.billed_per_record = out.billed / total;
                self.send_mean = out.bytes / total;
            }
            total
        } else if t0 >= self.end || self.bounds.max <= 0.0 {
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
        if !self.poisson && self.trace.is_none() {
            let due = records + self.even_carry;
            let whole = due.floor();
            self.even_carry = due - whole;
            self.split_even(whole as u64);
        }
        let per = send_rate / self.producers;
        let (clump, batch_wait) = self.batching(per);
        Ok(GroupStep {
            records,
            root_records: records.sqrt(),
            drop_new,
            clump,
            batch_wait,
        })
    }

    /// Splits `count` records over the shards by their weights: binomials
    /// of what is left, shard by shard (a multinomial).
    fn split_even(&mut self, count: u64) {
        self.even_counts.clear();
        self.even_counts.resize(self.weights.len(), 0);
        let (mut left, mut mass) = (count, self.weights.iter().sum::<f64>());
        for (s, &w) in self.weights.iter().enumerate() {
            if left == 0 || w <= 0.0 {
                continue;
            }
            // The last shard with weight takes the rest (sums of floats
            // may leave its weight a hair under what is left).
            let n = if w >= mass * (1.0 - 1e-9) {
                left
            } else {
                Binomial::new(left, (w / mass).clamp(0.0, 1.0))
                    .map_or(0, |b| b.sample(&mut self.split_rng))
            };
            self.even_counts[s] = n;
            left -= n;
            mass -= w;
        }
    }

    /// Records per full PutRecords call: the count limit, or the bytes
    /// limit at the mean record.
    fn full_batch(&self, max_records: u32, max_bytes: u64, mean: f64) -> f64 {
        f64::from(max_records).min((max_bytes as f64 / mean.max(1.0)).floor().max(1.0))
    }

    /// A producer sending `per` Kinesis records/s: the clump statistic of
    /// its calls (`E[B^2]/E[B]`) and the longest a record waits in a
    /// batch. A batch opens with a record and is sent when full or after
    /// the linger: it holds `1 + Poisson(per * linger)` records, at most a
    /// full call's.
    fn batching(&self, per: f64) -> (f64, SimTime) {
        let Api::PutRecords {
            max_records,
            max_bytes,
            linger,
        } = self.spec.api
        else {
            return (1.0, 0);
        };
        if linger == 0 || per <= 0.0 {
            return (1.0, 0);
        }
        let mean = match &self.spec.aggregation {
            // The batch holds aggregates: at most a full one's bytes each.
            Some(agg) => agg.max_size as f64,
            None => self.send_mean,
        };
        let full = self.full_batch(max_records, max_bytes, mean);
        let linger_s = linger as f64 / NANOS_PER_SEC as f64;
        let more = per * linger_s;
        if 1.0 + more >= full {
            let fill = ((full - 1.0) / per * NANOS_PER_SEC as f64) as SimTime;
            (full, fill.min(linger))
        } else {
            (1.0 + more + more / (1.0 + more), linger)
        }
    }

    /// Calls made for `sends` Kinesis record attempts in a step at `per`
    /// records/s per producer, fractional calls carried on.
    pub(super) fn calls(&mut self, sends: u64, per: f64) -> u64 {
        let per_call = match self.spec.api {
            Api::PutRecord => return sends,
            Api::PutRecords { linger: 0, .. } => 1.0,
            Api::PutRecords {
                max_records,
                max_bytes,
                linger,
            } => {
                let full = self.full_batch(max_records, max_bytes, self.send_mean);
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

    /// Records `users` accepted user records of the group, each sent
    /// `attempts` times, whose first attempt waited up to `first_wait`
    /// (uniformly), into `histogram` (put latency in µs): the latency of
    /// such a record is its waits, `attempts` request latencies and the
    /// backoffs between them, spread over [`LATENCY_POINTS`] points (the
    /// first wait by quantile, the rest drawn). Returns the largest point
    /// (the run's maximum latency is the largest of those: the longest a
    /// record can have waited, approached, not a record's own).
    pub(super) fn record_latency(
        &mut self,
        users: u64,
        attempts: u32,
        first_wait: SimTime,
        retry_wait: SimTime,
        histogram: &mut hdrhistogram::Histogram<u64>,
    ) -> SimTime {
        let mut max = 0;
        if users == 0 {
            return max;
        }
        let points = LATENCY_POINTS.min(users);
        let lat = self.spec.request_latency;
        let retry = self.spec.retry;
        for j in 0..points {
            let n =
                super::admit::share(users, j + 1, points) - super::admit::share(users, j, points);
            if n == 0 {
                continue;
            }
            let mut t = u64::from(attempts) * lat + first_wait * (2 * j + 1) / (2 * points);
            for k in 1..attempts {
                t += crate::model::backoff(&retry, k, &mut self.latency_rng);
                if retry_wait > 0 {
                    t += self.latency_rng.random_range(0..=retry_wait);
                }
            }
            let _ = histogram.record_n(t / 1_000, n);
            max = max.max(t);
        }
        max
    }

    /// KPL aggregation of `users` user records a step offers one shard, at
    /// `rate` user records/s per producer to it: the Kinesis records they
    /// make, how many of those are aggregates, their bytes beyond the
    /// users' own, the longest a user record waits in an aggregate, and
    /// the variance of an aggregate's bytes. An aggregate is sent when the
    /// next record would not fit or `max_buffered_time` after it opened.
    pub(super) fn aggregate(
        agg: &Aggregation,
        mean: f64,
        sd: f64,
        users: u64,
        rate: f64,
    ) -> Packing {
        let entry = mean + AGGREGATE_PER_RECORD_BYTES as f64;
        let full = ((agg.max_size.saturating_sub(AGGREGATE_FIXED_BYTES)) as f64 / entry)
            .floor()
            .max(1.0);
        let wait_secs = agg.max_buffered_time as f64 / NANOS_PER_SEC as f64;
        let more = rate.max(0.0) * wait_secs;
        // Users per Kinesis record, the wait, the share of lone records
        // (sent as themselves) and the variance of the users per aggregate.
        let (per, wait, lone, var_count) = if rate <= 0.0 {
            (1.0, agg.max_buffered_time, 1.0, 0.0)
        } else if 1.0 + more >= full {
            let fill = ((full - 1.0) / rate * NANOS_PER_SEC as f64) as SimTime;
            (full, fill, if full <= 1.0 { 1.0 } else { 0.0 }, 0.0)
        } else {
            (1.0 + more, agg.max_buffered_time, (-more).exp(), more)
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
            var_bytes: entry * entry * var_count + per * sd * sd,
        }
    }

    /// Draws the bytes of `n` sent user records: the normal approximation
    /// of their sum (central limit), at least a byte each. `root` is about
    /// `sqrt(n)` (the caller's, to spare a square root per draw).
    pub(super) fn draw_bytes(&self, n: u64, root: f64, rng: &mut SimRng) -> u64 {
        if n == 0 {
            return 0;
        }
        let mean = n as f64 * self.mean_bytes;
        if self.sd_bytes == 0.0 {
            return (mean + 0.5) as u64;
        }
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        let sum = mean + root * self.sd_bytes * z;
        // Rounded by adding a half: `round` is a libm call on plain x86-64.
        (sum.max(n as f64) + 0.5) as u64
    }

    /// Draws how many of `n` user records are refused as too large.
    pub(super) fn draw_too_large(&self, n: u64, rng: &mut SimRng) -> u64 {
        if self.too_large <= 0.0 || n == 0 {
            return 0;
        }
        Binomial::new(n, self.too_large.min(1.0)).map_or(0, |b| b.sample(rng))
    }

    /// The mean time from a user record's birth to the send of its
    /// attempt number `attempts + 1`: half its first wait, then per retry
    /// the request latency, the mean backoff and half a batch wait.
    pub(super) fn mean_age(
        &self,
        attempts: u32,
        first_wait: SimTime,
        batch_wait: SimTime,
    ) -> SimTime {
        let lat = self.spec.request_latency;
        (1..=attempts).fold(first_wait / 2, |age, k| {
            let (lo, hi) = self.backoff_range(k);
            age + lat + lo + (hi - lo) / 2 + batch_wait / 2
        })
    }

    /// The shortest and longest backoff before retry number `attempts`
    /// (1 = the first retry): the jitter's range.
    pub(super) fn backoff_range(&self, attempts: u32) -> (SimTime, SimTime) {
        let retry = &self.spec.retry;
        let exp = attempts.saturating_sub(1).min(63);
        let d = retry.base.saturating_mul(1u64 << exp).min(retry.cap);
        match retry.jitter {
            Jitter::None => (d, d),
            Jitter::Full => (0, d),
            Jitter::Equal => (d / 2, d),
        }
    }
}

/// The expected `ceil(X / unit)` for bytes `X` normal with `mean` and `sd`
/// (at least 1): PUT payload units, or 1 KiB billing blocks, of records
/// whose sizes vary.
pub(super) fn expected_blocks(mean: f64, sd: f64, unit: f64) -> f64 {
    if sd <= 0.0 {
        return (mean / unit).ceil().max(1.0);
    }
    // E[ceil(X/u)] = sum over j >= 0 of P(X > j u), for X > 0.
    let lo = ((mean - 8.0 * sd) / unit).floor().max(0.0) as u64;
    let hi = ((mean + 8.0 * sd) / unit).ceil().max(1.0) as u64;
    let z =
        |x: f64| 0.5 * statrs::function::erf::erfc((x - mean) / (sd * std::f64::consts::SQRT_2));
    let below = lo as f64;
    (below + (lo..=hi).map(|j| z(j as f64 * unit)).sum::<f64>()).max(1.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_blocks_is_the_mean_of_the_ceiling() {
        // A fixed size: the ceiling itself.
        assert_eq!(expected_blocks(25_600.0, 0.0, 25_600.0), 1.0);
        assert_eq!(expected_blocks(25_601.0, 0.0, 25_600.0), 2.0);
        // Half the mass under one unit and half over: 1.5 on average.
        let e = expected_blocks(25_600.0, 2_000.0, 25_600.0);
        assert!((e - 1.5).abs() < 1e-3, "{e}");
        // Small records round up to one block.
        assert!((expected_blocks(100.0, 30.0, 1024.0) - 1.0).abs() < 1e-9);
        // Against a sample mean.
        let mut rng = stream(1, Purpose::Flows, 0);
        let (mean, sd, unit) = (23_000.0, 3_000.0, 1024.0);
        let n = 200_000;
        let sum: f64 = (0..n)
            .map(|_| {
                let z: f64 = rand_distr::StandardNormal.sample(&mut rng);
                ((mean + sd * z) / unit).ceil()
            })
            .sum();
        let e = expected_blocks(mean, sd, unit);
        assert!(
            (e - sum / n as f64).abs() < 0.02,
            "{e} vs {}",
            sum / n as f64
        );
    }

    #[test]
    fn aggregation_packs_by_timer_or_by_size() {
        let agg = Aggregation {
            max_size: 51_200,
            max_buffered_time: 100_000_000,
        };
        // 1,000 users/s of 200 bytes: the timer sends about 101 per aggregate.
        let p = GroupFlow::aggregate(&agg, 200.0, 0.0, 10_100, 1_000.0);
        assert_eq!(p.records, 100);
        assert_eq!(p.wait, 100_000_000);
        // 10,000/s: full (248 entries of 206 bytes) after 24.7 ms.
        let p = GroupFlow::aggregate(&agg, 200.0, 0.0, 24_800, 10_000.0);
        assert_eq!(p.records, 100);
        assert_eq!(p.wait, 24_700_000);
        assert_eq!(p.aggregates, 100);
        assert_eq!(
            p.extra_bytes,
            100 * AGGREGATE_FIXED_BYTES + 24_800 * AGGREGATE_PER_RECORD_BYTES
        );
    }
}
