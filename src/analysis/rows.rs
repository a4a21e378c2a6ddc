//! The rows of a run's tables, as numbers: time series, shards, keys,
//! consumers, leases and resharding requests.

use super::{TOP_KEYS, ratio};
use crate::kds::{HashKey, HashRange, Quota, ShardId};
use crate::metrics::{HeldMs, IntervalRow, ShardCounts};
use crate::model::{ConsumerCounts, Outcome, ReshardLog};
use crate::scenario::{ConsumerKind, ReshardAction, Scenario};

/// One stream-level interval of the time series.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeRow {
    /// The interval's counts.
    pub interval: IntervalRow,
    /// Throttled attempts / attempts in the interval.
    pub throttle_rate: f64,
}

impl From<&IntervalRow> for TimeRow {
    fn from(r: &IntervalRow) -> Self {
        TimeRow {
            interval: r.clone(),
            throttle_rate: ratio(r.shards.throttled_records, r.shards.offered_records),
        }
    }
}

/// One shard over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRow {
    /// Its id.
    pub shard_id: ShardId,
    /// `ParentShardId`.
    pub parent: Option<ShardId>,
    /// `AdjacentParentShardId`.
    pub adjacent_parent: Option<ShardId>,
    /// Seconds into the run it was created (negative never: clamped at 0).
    pub created_s: f64,
    /// Seconds into the run it was closed, if it was.
    pub closed_s: Option<f64>,
    /// Its hash key range.
    pub range: HashRange,
    /// The range's share of the hash key space.
    pub hash_share: f64,
    /// Distinct keys seen on it (table keys and random keys).
    pub keys_seen: u64,
    /// Its write counts over the run.
    pub counts: ShardCounts,
    /// Mean accepted utilisation over its lifetime.
    pub mean_utilisation: f64,
    /// Highest per-second accepted utilisation.
    pub peak_utilisation: f64,
    /// Highest per-second offered utilisation.
    pub peak_offered_utilisation: f64,
}

/// One of the busiest keys.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    /// The producer group's name.
    pub group: String,
    /// The key as the group writes it (a partition key, or an explicit
    /// hash key in decimal).
    pub key: String,
    /// Its hash key.
    pub hash_key: u128,
    /// The shard it maps to at the end of the run.
    pub shard_id: ShardId,
    /// Its records.
    pub records: u64,
    /// Its share of all records produced.
    pub share: f64,
    /// Its records per second over the run.
    pub records_per_s: f64,
    /// Its bytes per second over the run.
    pub bytes_per_s: f64,
    /// Whether either rate is over one shard's write limit.
    pub exceeds_shard_limit: bool,
}

impl KeyRow {
    /// Whether the key is a partition key (which salting can rewrite), not
    /// an explicit hash key: an explicit hash key is named by its hash key,
    /// while a partition key's hash is its MD5, not its own text.
    pub fn is_partition_key(&self) -> bool {
        self.key != self.hash_key.to_string()
    }
}

struct KeyStat {
    group: usize,
    index: u32,
    records: u64,
    bytes: u64,
}

/// The [`TOP_KEYS`] busiest keys, and per shard how many keys with records
/// map to it.
pub(super) fn keys(scenario: &Scenario, outcome: &Outcome, secs: f64) -> (Vec<KeyRow>, Vec<u64>) {
    let p = &outcome.metrics.producer_total;
    // Keys, most records first; ties by group and index so order is stable.
    let mut keys: Vec<KeyStat> = Vec::new();
    let mut keys_seen = vec![0u64; outcome.metrics.shard_totals.len()];
    for (g, counts) in outcome.keys.iter().enumerate() {
        for (i, (&records, &bytes)) in counts.records.iter().zip(&counts.bytes).enumerate() {
            if records == 0 {
                continue;
            }
            keys.push(KeyStat {
                group: g,
                index: i as u32,
                records,
                bytes,
            });
        }
    }
    // A key's name and hash key: from the group's table, or from the keys
    // its trace replay met.
    let key_of = |g: usize, i: u32| -> (String, u128) {
        match scenario.producers[g].keys.table() {
            Some(t) if scenario.producers[g].trace.is_none() => (t.name(i), t.hash(i)),
            _ => outcome.trace_keys[g]
                .get(i as usize)
                .cloned()
                .unwrap_or_default(),
        }
    };
    let hash_of = |g: usize, i: u32| -> u128 {
        match scenario.producers[g].keys.table() {
            Some(t) if scenario.producers[g].trace.is_none() => t.hash(i),
            _ => outcome.trace_keys[g].get(i as usize).map_or(0, |k| k.1),
        }
    };
    for k in &keys {
        let shard = outcome
            .map
            .shard_for_hash_key(HashKey(hash_of(k.group, k.index)));
        keys_seen[shard.index() as usize] += 1;
    }
    keys.sort_by(|a, b| {
        b.records
            .cmp(&a.records)
            .then(a.group.cmp(&b.group))
            .then(a.index.cmp(&b.index))
    });
    keys.truncate(TOP_KEYS);
    let records_limit = Quota::WriteRecordsPerShardPerSec.value() as f64;
    let bytes_limit = Quota::WriteBytesPerShardPerSec.value() as f64;
    let rows = keys
        .iter()
        .map(|k| {
            let (name, hash) = key_of(k.group, k.index);
            let rate = k.records as f64 / secs;
            let byte_rate = k.bytes as f64 / secs;
            KeyRow {
                group: scenario.producers[k.group].name.clone(),
                key: name,
                hash_key: hash,
                shard_id: outcome.map.shard_for_hash_key(HashKey(hash)),
                records: k.records,
                share: ratio(k.records, p.produced),
                records_per_s: rate,
                bytes_per_s: byte_rate,
                exceeds_shard_limit: rate > records_limit || byte_rate > bytes_limit,
            }
        })
        .collect();
    (rows, keys_seen)
}

/// Every shard, by id.
pub(super) fn shards(
    scenario: &Scenario,
    outcome: &Outcome,
    keys_seen: &[u64],
    lifetimes: &[u64],
) -> Vec<ShardRow> {
    let totals = &outcome.metrics.shard_totals;
    let secs = |t: crate::kds::EpochNanos| t.0.saturating_sub(scenario.start.0) as f64 / 1e9;
    outcome
        .map
        .shards()
        .iter()
        .map(|s| {
            let i = s.id().index() as usize;
            let t = &totals[i];
            let r = s.range();
            ShardRow {
                shard_id: s.id(),
                parent: s.parent(),
                adjacent_parent: s.adjacent_parent(),
                created_s: secs(s.created_at()),
                closed_s: s.closed_at().map(secs),
                range: r,
                hash_share: r.fraction(),
                keys_seen: keys_seen[i] + t.random_keys,
                counts: t.counts,
                mean_utilisation: t.utilisation_sum / lifetimes[i].max(1) as f64,
                peak_utilisation: t.peak_utilisation,
                peak_offered_utilisation: t.peak_offered_utilisation,
            }
        })
        .collect()
}

/// What an application's totals row has beyond its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerTotals {
    /// Records not yet read at the end.
    pub unread_at_end: u64,
    /// Processing latency p50, ms (to the digits the histogram holds).
    pub latency_p50_ms: HeldMs,
    /// p99, ms.
    pub latency_p99_ms: HeldMs,
    /// Maximum, ms: the largest latency itself, not its histogram bucket.
    pub latency_max_ms: f64,
    /// Largest MillisBehindLatest, ms.
    pub max_millis_behind_latest: u64,
}

/// A consumer application's totals, or one of its workers.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRow {
    /// The application's name.
    pub application: String,
    /// How it reads.
    pub kind: ConsumerKind,
    /// The worker, or `None` for the application's totals.
    pub worker: Option<usize>,
    /// Leases held at the end.
    pub leases_held_at_end: u32,
    /// Its counts.
    pub counts: ConsumerCounts,
    /// The totals' extra values (`None` on a worker's row).
    pub totals: Option<ConsumerTotals>,
}

/// Per application, its totals row and then one row per worker.
pub(super) fn consumers(scenario: &Scenario, outcome: &Outcome) -> Vec<ConsumerRow> {
    let mut rows = Vec::new();
    for (app, c) in scenario.consumers.iter().zip(&outcome.consumers) {
        rows.push(ConsumerRow {
            application: app.name.clone(),
            kind: app.kind,
            worker: None,
            leases_held_at_end: c.worker_leases.iter().sum(),
            counts: c.total,
            totals: Some(ConsumerTotals {
                unread_at_end: c.unread(&outcome.backlogs),
                latency_p50_ms: HeldMs::quantile(&c.latency_us, 0.5),
                latency_p99_ms: HeldMs::quantile(&c.latency_us, 0.99),
                latency_max_ms: c.latency_max_ns as f64 / 1e6,
                max_millis_behind_latest: c.behind_ms_per_minute.iter().max().copied().unwrap_or(0),
            }),
        });
        for (w, (counts, leases)) in c.workers.iter().zip(&c.worker_leases).enumerate() {
            rows.push(ConsumerRow {
                application: app.name.clone(),
                kind: app.kind,
                worker: Some(w),
                leases_held_at_end: *leases,
                counts: *counts,
                totals: None,
            });
        }
    }
    rows
}

/// One minute of one application's lag.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerMinuteRow {
    /// The minute's start, seconds into the run.
    pub start_s: u64,
    /// The application.
    pub application: String,
    /// Its largest MillisBehindLatest in the minute.
    pub millis_behind_latest: u64,
}

/// One row per minute of the run and application, as the time series.
pub(super) fn consumer_minutes(scenario: &Scenario, outcome: &Outcome) -> Vec<ConsumerMinuteRow> {
    let minutes = outcome.metrics.minutes.len();
    (0..minutes)
        .flat_map(|m| {
            scenario
                .consumers
                .iter()
                .zip(&outcome.consumers)
                .map(move |(app, c)| ConsumerMinuteRow {
                    start_s: m as u64 * 60,
                    application: app.name.clone(),
                    millis_behind_latest: c.behind_ms_per_minute.get(m).copied().unwrap_or(0),
                })
        })
        .collect()
}

/// One application's lease of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseRow {
    /// The application.
    pub application: String,
    /// The shard.
    pub shard_id: ShardId,
    /// The worker holding it (`None` if no worker ever had room).
    pub worker: Option<u32>,
    /// Its counts.
    pub counts: ConsumerCounts,
    /// Largest MillisBehindLatest, ms.
    pub max_millis_behind_latest: u64,
    /// Seconds into the run it reached SHARD_END, if it did.
    pub shard_end_s: Option<f64>,
}

/// Per application, its leases by shard.
pub(super) fn leases(scenario: &Scenario, outcome: &Outcome) -> Vec<LeaseRow> {
    scenario
        .consumers
        .iter()
        .zip(&outcome.consumers)
        .flat_map(|(app, c)| {
            c.leases().into_iter().map(move |l| LeaseRow {
                application: app.name.clone(),
                shard_id: ShardId(l.shard as u32),
                worker: l.worker,
                counts: l.counts,
                max_millis_behind_latest: l.max_behind_ms,
                shard_end_s: l.finished.map(|t| t as f64 / 1e9),
            })
        })
        .collect()
}

/// Where a resharding request ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReshardStatus {
    /// The service refused it.
    Rejected,
    /// Its last operation finished.
    Completed,
    /// Still running when the run ended.
    InProgress,
}

/// One resharding request.
#[derive(Debug, Clone, PartialEq)]
pub struct ReshardRow {
    /// Who asked.
    pub source: &'static str,
    /// When, seconds into the run.
    pub requested_s: f64,
    /// What it asked for.
    pub action: ReshardAction,
    /// Where it ended up.
    pub status: ReshardStatus,
    /// The service's reason if rejected (else empty).
    pub reason: String,
    /// When its last operation finished, seconds into the run.
    pub finished_s: Option<f64>,
    /// Its splits and merges.
    pub operations: usize,
    /// Shards it created.
    pub shards_created: Vec<ShardId>,
    /// Of those, the ones closed again within the request.
    pub transient_shards: Vec<ShardId>,
}

impl From<&ReshardLog> for ReshardRow {
    fn from(r: &ReshardLog) -> Self {
        let s = |t: u64| t as f64 / 1e9;
        ReshardRow {
            source: r.source,
            requested_s: s(r.requested),
            action: r.action.clone(),
            status: match (&r.rejected, r.finished) {
                (Some(_), _) => ReshardStatus::Rejected,
                (None, Some(_)) => ReshardStatus::Completed,
                (None, None) => ReshardStatus::InProgress,
            },
            reason: r.rejected.clone().unwrap_or_default(),
            finished_s: r.finished.map(s),
            operations: r.operations.len(),
            shards_created: r.created.clone(),
            transient_shards: r.transient.clone(),
        }
    }
}
