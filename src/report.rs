//! Reports of a run: pure renderers to bytes.
//!
//! Floats are written with fixed precision so that files are byte-stable;
//! nothing here reads the clock.

use std::path::Path;

use serde::Serialize;

use crate::kds::prices::Dimension;
use crate::kds::{HashKey, Quota, ShardId};
use crate::metrics::IntervalRow;
use crate::model::{Outcome, ReshardLog};
use crate::scenario::{ReshardAction, Scenario};
use crate::units::NANOS_PER_SEC;

/// Report files a run writes only for some scenarios or flags (besides
/// report.html and the charts: `html::page_files`).
pub const OPTIONAL_FILES: &[&str] = &[
    "timeseries-seconds.csv",
    "consumers.csv",
    "consumers-timeseries.csv",
    "consumer-shards.csv",
    "reshards.csv",
];

/// How many keys `keys.csv` lists.
pub const TOP_KEYS: usize = 20;

fn f4(x: f64) -> String {
    format!("{x:.4}")
}

/// At least 4 decimals and 4 significant digits: billed quantities of a
/// short run can be tiny (a few MB as GB-months).
fn sig4(x: f64) -> String {
    let decimals = if x == 0.0 || x.abs() >= 0.1 {
        4
    } else {
        (3 - x.abs().log10().floor() as i32).clamp(4, 15) as usize
    };
    format!("{x:.decimals$}")
}

fn f6(x: f64) -> String {
    format!("{x:.6}")
}

/// The one-row summary of a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// MD5 of the scenario file (empty if not from a file).
    pub scenario_md5: String,
    /// shardcast version.
    pub version: &'static str,
    /// Simulated seconds.
    pub duration_s: String,
    /// Shards at the start.
    pub shards: u32,
    /// Open shards at the end.
    pub shards_at_end: u32,
    /// User records produced.
    pub records_produced: u64,
    /// Record attempts (first tries and retries) that reached a shard.
    pub attempts: u64,
    /// Attempts throttled.
    pub throttled_attempts: u64,
    /// throttled_attempts / attempts.
    pub throttle_rate: String,
    /// User records accepted.
    pub records_accepted: u64,
    /// Kinesis records accepted (IncomingRecords; fewer than user records
    /// when aggregating).
    pub kinesis_records_accepted: u64,
    /// Aggregated Kinesis records made.
    pub aggregated_records: u64,
    /// Records that failed after the last allowed attempt.
    pub records_failed: u64,
    /// Records whose time to live ran out.
    pub records_expired: u64,
    /// Records larger than the maximum record size.
    pub records_too_large: u64,
    /// Records dropped by a full producer buffer.
    pub records_dropped: u64,
    /// Records still held by producers at the end.
    pub records_pending: u64,
    /// Retries.
    pub retries: u64,
    /// Put latency of accepted records, p50, in ms.
    pub latency_p50_ms: String,
    /// p99.
    pub latency_p99_ms: String,
    /// Maximum.
    pub latency_max_ms: String,
    /// Mean over shards and seconds of accepted utilisation.
    pub mean_shard_utilisation: String,
    /// Highest per-second accepted utilisation of any shard.
    pub peak_shard_utilisation: String,
    /// Highest per-second offered utilisation (demand) of any shard.
    pub peak_offered_utilisation: String,
    /// The shard with the most throttled attempts (or the most offered records).
    pub hottest_shard: String,
    /// The key with the most records, as `group:key`.
    pub hottest_key: String,
    /// Its share of all records produced.
    pub hottest_key_share: String,
    /// The cost of the run, USD, at the region's prices.
    pub cost_usd: String,
    /// The same extrapolated to a 730-hour month.
    pub monthly_cost_usd: String,
    /// The scenario's `[slo]` verdict: empty without SLOs, `pass`, or
    /// `fail: ` and each objective missed.
    pub slo: String,
}

#[derive(Debug, Serialize)]
struct TimeRow {
    start_s: u64,
    #[serde(rename = "IncomingRecords")]
    incoming_records: u64,
    #[serde(rename = "IncomingBytes")]
    incoming_bytes: u64,
    #[serde(rename = "WriteProvisionedThroughputExceeded")]
    write_throttled: u64,
    #[serde(rename = "PutRecords.TotalRecords")]
    put_records_total: u64,
    #[serde(rename = "PutRecords.SuccessfulRecords")]
    put_records_successful: u64,
    #[serde(rename = "PutRecords.ThrottledRecords")]
    put_records_throttled: u64,
    put_record_calls: u64,
    put_records_calls: u64,
    records_produced: u64,
    records_accepted: u64,
    retries: u64,
    records_failed: u64,
    records_expired: u64,
    records_dropped: u64,
    throttle_rate: String,
    max_shard_utilisation: String,
    max_offered_utilisation: String,
    open_shards: u32,
    updating_s: u64,
    #[serde(rename = "OutgoingRecords")]
    outgoing_records: u64,
    #[serde(rename = "OutgoingBytes")]
    outgoing_bytes: u64,
    #[serde(rename = "ReadProvisionedThroughputExceeded")]
    read_throttled: u64,
    #[serde(rename = "GetRecords.IteratorAgeMilliseconds")]
    iterator_age_ms: u64,
    records_lost: u64,
}

impl From<&IntervalRow> for TimeRow {
    fn from(r: &IntervalRow) -> Self {
        let attempts = r.shards.offered_records;
        TimeRow {
            start_s: r.start_secs,
            incoming_records: r.shards.accepted_records,
            incoming_bytes: r.shards.accepted_bytes,
            write_throttled: r.shards.throttled_records,
            put_records_total: r.producers.put_records_total,
            put_records_successful: r.producers.put_records_successful,
            put_records_throttled: r.producers.put_records_throttled,
            put_record_calls: r.producers.put_record_calls,
            put_records_calls: r.producers.put_records_calls,
            records_produced: r.producers.produced,
            records_accepted: r.producers.accepted,
            retries: r.producers.retries,
            records_failed: r.producers.failed_after_retries,
            records_expired: r.producers.expired,
            records_dropped: r.producers.dropped_buffer_full,
            throttle_rate: f6(ratio(r.shards.throttled_records, attempts)),
            max_shard_utilisation: f4(r.max_shard_utilisation),
            max_offered_utilisation: f4(r.max_offered_utilisation),
            open_shards: r.open_shards,
            updating_s: r.updating_secs,
            outgoing_records: r.reads.records,
            outgoing_bytes: r.reads.bytes,
            read_throttled: r.reads.throttled,
            iterator_age_ms: r.reads.iterator_age_ms,
            records_lost: r.reads.lost,
        }
    }
}

#[derive(Debug, Serialize)]
struct ShardRow {
    shard_id: String,
    parent_shard_id: String,
    adjacent_parent_shard_id: String,
    created_s: String,
    closed_s: String,
    starting_hash_key: String,
    ending_hash_key: String,
    hash_share: String,
    keys_seen: u64,
    offered_records: u64,
    offered_bytes: u64,
    accepted_records: u64,
    accepted_bytes: u64,
    throttled_records: u64,
    throttled_by_records: u64,
    throttled_by_bytes: u64,
    mean_utilisation: String,
    peak_utilisation: String,
    peak_offered_utilisation: String,
}

#[derive(Debug, Serialize)]
struct KeyRow {
    group: String,
    key: String,
    hash_key: String,
    shard_id: String,
    records: u64,
    share: String,
    records_per_s: String,
    bytes_per_s: String,
    exceeds_shard_limit: bool,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A run's report: the summary and every file's bytes.
#[derive(Debug)]
pub struct RunReport {
    /// The one-row summary.
    pub summary: Summary,
    /// `(file name, contents)`, in writing order.
    pub files: Vec<(String, Vec<u8>)>,
    /// What the objectives are judged on.
    pub measured: Measured,
    /// The scenario's objectives, measured.
    pub slo: Vec<SloCheck>,
}

fn csv_bytes<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

struct KeyStat {
    group: usize,
    index: u32,
    records: u64,
    bytes: u64,
}

/// Builds the report of `outcome`. `scenario_md5` identifies the input file.
pub fn build(
    scenario: &Scenario,
    outcome: &Outcome,
    scenario_md5: &str,
) -> Result<RunReport, csv::Error> {
    let m = &outcome.metrics;
    let p = &m.producer_total;
    let secs = scenario.duration as f64 / NANOS_PER_SEC as f64;
    let totals = &m.shard_totals;
    let attempts: u64 = totals.iter().map(|t| t.counts.offered_records).sum();
    let throttled: u64 = totals.iter().map(|t| t.counts.throttled_records).sum();
    let accepted: u64 = totals.iter().map(|t| t.counts.accepted_records).sum();
    let lifetimes = shard_lifetimes(scenario, outcome);
    let shard_seconds: u64 = lifetimes.iter().sum();
    let mean_util =
        totals.iter().map(|t| t.utilisation_sum).sum::<f64>() / shard_seconds.max(1) as f64;
    let peak_util = totals
        .iter()
        .map(|t| t.peak_utilisation)
        .fold(0.0, f64::max);
    let peak_offered = totals
        .iter()
        .map(|t| t.peak_offered_utilisation)
        .fold(0.0, f64::max);
    // Hottest: most throttled, then most offered, then the lowest id.
    let hottest = totals
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| {
            (
                a.counts.throttled_records,
                a.counts.offered_records,
                std::cmp::Reverse(*i),
            )
                .cmp(&(
                    b.counts.throttled_records,
                    b.counts.offered_records,
                    std::cmp::Reverse(*j),
                ))
        })
        .map(|(i, _)| ShardId(i as u32).to_string())
        .unwrap_or_default();

    // Keys, most records first; ties by group and index so order is stable.
    let mut keys: Vec<KeyStat> = Vec::new();
    let mut keys_seen = vec![0u64; totals.len()];
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
    let key_rows: Vec<KeyRow> = keys
        .iter()
        .map(|k| {
            let (name, hash) = key_of(k.group, k.index);
            let rate = k.records as f64 / secs;
            let byte_rate = k.bytes as f64 / secs;
            KeyRow {
                group: scenario.producers[k.group].name.clone(),
                key: name,
                hash_key: hash.to_string(),
                shard_id: outcome.map.shard_for_hash_key(HashKey(hash)).to_string(),
                records: k.records,
                share: f6(ratio(k.records, p.produced)),
                records_per_s: f4(rate),
                bytes_per_s: f4(byte_rate),
                exceeds_shard_limit: rate > records_limit || byte_rate > bytes_limit,
            }
        })
        .collect();
    let (hottest_key, hottest_key_share) = key_rows
        .first()
        .map(|k| (format!("{}:{}", k.group, k.key), k.share.clone()))
        .unwrap_or_default();

    let ms = |q: f64| f4(m.latency_us.value_at_quantile(q) as f64 / 1000.0);
    let throttle_rate = ratio(throttled, attempts);
    let p99_ns = m.latency_us.value_at_quantile(0.99).saturating_mul(1000);
    let accepted_reshards: Vec<u64> = outcome
        .reshards
        .iter()
        // Requests made (by the scenario or a policy), not the service's own
        // on-demand splits.
        .filter(|r| r.source != "on-demand" && r.rejected.is_none() && !r.operations.is_empty())
        .map(|r| r.requested)
        .collect();
    let (cost_lines, run_cost) = run_cost(scenario, outcome);
    let month_factor = crate::kds::prices::MONTH_HOURS / (secs / 3600.0);
    let mut monthly_by_dimension = [0.0; Dimension::ALL.len()];
    for l in &cost_lines {
        monthly_by_dimension[l.line.dimension as usize] += l.line.cost * month_factor;
    }
    let measured = Measured {
        monthly_cost: run_cost * month_factor,
        monthly_by_dimension,
        throttle_rate,
        failed: p.failed_after_retries + p.expired,
        p99_ms: p99_ns as f64 / 1e6,
        peak_utilisation: peak_util,
        lost: outcome.consumers.iter().map(|c| c.total.lost).sum(),
        iterator_age_ms: outcome
            .consumers
            .iter()
            .flat_map(|c| c.behind_ms_per_minute.iter().copied())
            .max()
            .unwrap_or(0) as f64,
        reshards_per_24h: max_in_window(&accepted_reshards, 24 * 3600 * NANOS_PER_SEC),
    };
    let slo_checks = slo_checks(scenario, &measured);
    let slo = slo_verdict(&slo_checks);
    let summary = Summary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        scenario_md5: scenario_md5.to_owned(),
        version: env!("CARGO_PKG_VERSION"),
        duration_s: f4(secs),
        // Shards the stream was created with (more than asked for with a
        // warm throughput): the ones without a parent.
        shards: outcome
            .map
            .shards()
            .iter()
            .filter(|s| s.parent().is_none())
            .count() as u32,
        shards_at_end: outcome.map.open_count(),
        records_produced: p.produced,
        attempts,
        throttled_attempts: throttled,
        throttle_rate: f6(throttle_rate),
        records_accepted: p.accepted,
        kinesis_records_accepted: accepted,
        aggregated_records: p.aggregates,
        records_failed: p.failed_after_retries,
        records_expired: p.expired,
        records_too_large: p.rejected_too_large,
        records_dropped: p.dropped_buffer_full,
        records_pending: outcome.pending,
        retries: p.retries,
        latency_p50_ms: ms(0.5),
        latency_p99_ms: ms(0.99),
        latency_max_ms: f4(m.latency_us.max() as f64 / 1000.0),
        mean_shard_utilisation: f4(mean_util),
        peak_shard_utilisation: f4(peak_util),
        peak_offered_utilisation: f4(peak_offered),
        hottest_shard: hottest,
        hottest_key,
        hottest_key_share,
        cost_usd: format!("{run_cost:.4}"),
        monthly_cost_usd: format!("{:.2}", run_cost * month_factor),
        slo,
    };

    let shard_rows = outcome.map.shards().iter().map(|s| {
        let i = s.id().index() as usize;
        let t = &totals[i];
        let r = s.range();
        let secs =
            |t: crate::kds::EpochNanos| f4(t.0.saturating_sub(scenario.start.0) as f64 / 1e9);
        ShardRow {
            shard_id: s.id().to_string(),
            parent_shard_id: s.parent().map(|p| p.to_string()).unwrap_or_default(),
            adjacent_parent_shard_id: s
                .adjacent_parent()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            created_s: secs(s.created_at()),
            closed_s: s.closed_at().map(secs).unwrap_or_default(),
            starting_hash_key: r.start.to_string(),
            ending_hash_key: r.end.to_string(),
            hash_share: f6(r.fraction()),
            keys_seen: keys_seen[i] + t.random_keys,
            offered_records: t.counts.offered_records,
            offered_bytes: t.counts.offered_bytes,
            accepted_records: t.counts.accepted_records,
            accepted_bytes: t.counts.accepted_bytes,
            throttled_records: t.counts.throttled_records,
            throttled_by_records: t.counts.throttled_by_records,
            throttled_by_bytes: t.counts.throttled_by_bytes,
            mean_utilisation: f4(t.utilisation_sum / lifetimes[i].max(1) as f64),
            peak_utilisation: f4(t.peak_utilisation),
            peak_offered_utilisation: f4(t.peak_offered_utilisation),
        }
    });

    let mut files = vec![
        ("summary.csv".to_owned(), csv_bytes([&summary])?),
        (
            "timeseries.csv".to_owned(),
            csv_bytes(m.minutes.iter().map(TimeRow::from))?,
        ),
    ];
    if let Some(seconds) = &m.seconds {
        files.push((
            "timeseries-seconds.csv".to_owned(),
            csv_bytes(seconds.iter().map(TimeRow::from))?,
        ));
    }
    files.push(("shards.csv".to_owned(), csv_bytes(shard_rows)?));
    files.push(("keys.csv".to_owned(), csv_bytes(key_rows)?));
    let region = scenario.stream.prices.region.as_str();
    files.push((
        "cost.csv".to_owned(),
        csv_bytes(cost_lines.iter().map(|ModeCost { mode, line: l }| CostRow {
            region,
            mode: match mode {
                crate::kds::prices::BillingMode::Provisioned => "provisioned",
                crate::kds::prices::BillingMode::OnDemand => "on-demand",
                crate::kds::prices::BillingMode::OnDemandAdvantage => "on-demand-advantage",
            },
            dimension: l.dimension.name(),
            quantity: sig4(l.quantity),
            unit: l.unit,
            unit_price_usd: format!("{:.9}", l.unit_price),
            run_cost_usd: sig4(l.cost),
            monthly_cost_usd: format!("{:.2}", l.cost * month_factor),
        }))?,
    ));
    if !scenario.consumers.is_empty() {
        files.push((
            "consumers.csv".to_owned(),
            csv_bytes(consumer_rows(scenario, outcome))?,
        ));
        // One row per minute of the run and application, as timeseries.csv.
        let minutes = m.minutes.len();
        let rows = (0..minutes).flat_map(|m| {
            scenario
                .consumers
                .iter()
                .zip(&outcome.consumers)
                .map(move |(app, c)| ConsumerMinuteRow {
                    start_s: m as u64 * 60,
                    application: app.name.clone(),
                    millis_behind_latest_max: c.behind_ms_per_minute.get(m).copied().unwrap_or(0),
                })
        });
        files.push(("consumers-timeseries.csv".to_owned(), csv_bytes(rows)?));
        let lease_rows = scenario
            .consumers
            .iter()
            .zip(&outcome.consumers)
            .flat_map(|(app, c)| {
                c.leases().into_iter().map(move |l| LeaseRow {
                    application: app.name.clone(),
                    shard_id: ShardId(l.shard as u32).to_string(),
                    worker: l
                        .worker
                        .map(|w| w.to_string())
                        .unwrap_or_else(|| "none".to_owned()),
                    records_processed: l.counts.processed,
                    duplicates: l.counts.duplicates,
                    records_lost: l.counts.lost,
                    calls: l.counts.calls,
                    throttled_calls: l.counts.throttled,
                    max_millis_behind_latest: l.max_behind_ms,
                    shard_end_s: l.finished.map(|t| f4(t as f64 / 1e9)).unwrap_or_default(),
                })
            });
        files.push(("consumer-shards.csv".to_owned(), csv_bytes(lease_rows)?));
    }
    if !outcome.reshards.is_empty() {
        files.push((
            "reshards.csv".to_owned(),
            csv_bytes(outcome.reshards.iter().map(ReshardRow::from))?,
        ));
    }
    Ok(RunReport {
        summary,
        files,
        measured,
        slo: slo_checks,
    })
}

#[derive(Debug, Serialize)]
struct CostRow<'a> {
    region: &'a str,
    mode: &'static str,
    dimension: &'static str,
    quantity: String,
    unit: &'static str,
    unit_price_usd: String,
    run_cost_usd: String,
    monthly_cost_usd: String,
}

/// What the run used, priced at the scenario's prices (KDS-REFERENCE.md §6).
/// Shard-hours count every shard while it could take writes (short-lived
/// ones included); extended retention the shard-hours while retention was
/// above 24 hours; enhanced fan-out consumer-shard-hours each EFO
/// application on every such shard from the application's start.
///
/// Storage billed per GB-month (long-term retention past 7 days; on-demand
/// extended retention from 24 hours to 7 days) is charged to the minute the
/// data arrived, for its whole stay under the retention then in force: a
/// run shorter than the retention still shows what its traffic will cost to
/// keep, and the monthly figure is the steady state. Not priced: KMS.
fn run_cost(scenario: &Scenario, outcome: &Outcome) -> (Vec<ModeCost>, f64) {
    use crate::kds::prices::{BillingMode, EXTENDED_AFTER_HOURS, LONG_TERM_AFTER_HOURS, Usage};
    use crate::scenario::ConsumerKind;
    let intervals = shard_intervals(scenario, outcome);
    let end = scenario.duration;
    let stream = &scenario.stream;
    // Capacity-mode periods `(from, until, on_demand)`: the initial mode,
    // then each completed UpdateStreamMode.
    let mut switches = vec![(0, stream.on_demand.is_some())];
    for r in &outcome.reshards {
        if let (ReshardAction::UpdateStreamMode { on_demand }, None, Some(t)) =
            (&r.action, &r.rejected, r.finished)
        {
            switches.push((t, *on_demand));
        }
    }
    let modes: Vec<(u64, u64, bool)> = switches
        .iter()
        .enumerate()
        .map(|(i, &(from, od))| (from, switches.get(i + 1).map_or(end, |n| n.0), od))
        .collect();
    let mode_at = |t: u64| modes.iter().rev().find(|m| m.0 <= t).is_some_and(|m| m.2);
    // Shard-hours within `[a, b)` while the stream was in mode `od`.
    let in_mode = |od: bool, a: u64, b: u64| -> f64 {
        modes
            .iter()
            .filter(|m| m.2 == od && m.0.max(a) < m.1.min(b))
            .map(|m| overlap_hours(&intervals, m.0.max(a), m.1.min(b)))
            .sum()
    };
    let mut retention = vec![(0, stream.retention)];
    retention.extend(stream.retention_changes.iter().copied());
    let retention_at = |t: u64| {
        retention
            .iter()
            .rev()
            .find(|p| p.0 <= t)
            .map_or(stream.retention, |p| p.1)
    };
    let day = 24 * 3600 * NANOS_PER_SEC;
    let hour = 3600 * NANOS_PER_SEC;
    let long_term_from = LONG_TERM_AFTER_HOURS * hour;
    let extended_from = EXTENDED_AFTER_HOURS * hour;
    let mut lines = Vec::new();
    for od in [false, true] {
        let hours: f64 = modes
            .iter()
            .filter(|m| m.2 == od)
            .map(|m| (m.1 - m.0) as f64 / hour as f64)
            .sum();
        if hours == 0.0 {
            continue;
        }
        // Enhanced fan-out: each application from its start, on every shard.
        let efo_consumer_shard_hours: f64 = scenario
            .consumers
            .iter()
            .filter(|c| c.kind == ConsumerKind::EnhancedFanOut)
            .map(|c| in_mode(od, c.starts_at, end))
            .sum();
        // Extended retention: shard-hours while retention was above 24 h.
        let extended_shard_hours: f64 = retention
            .iter()
            .enumerate()
            .filter(|(_, p)| p.1 > day)
            .map(|(i, p)| {
                let until = retention.get(i + 1).map_or(end, |n| n.0.min(end));
                in_mode(od, p.0, until)
            })
            .sum();
        // Storage by age band, charged at arrival (see above).
        let (mut long_term_byte_hours, mut extended_byte_hours) = (0.0, 0.0);
        for row in &outcome.metrics.minutes {
            let t = row.start_secs * NANOS_PER_SEC;
            if mode_at(t) != od {
                continue;
            }
            let r = retention_at(t);
            let bytes = row.shards.accepted_bytes as f64;
            long_term_byte_hours += bytes * r.saturating_sub(long_term_from) as f64 / hour as f64;
            extended_byte_hours +=
                bytes * r.min(long_term_from).saturating_sub(extended_from) as f64 / hour as f64;
        }
        let billing = &outcome.metrics.billing[usize::from(od)];
        let usage = Usage {
            hours,
            shard_hours: in_mode(od, 0, end),
            payload_units: billing.payload_units,
            extended_retention_shard_hours: extended_shard_hours,
            extended_byte_hours,
            long_term_byte_hours,
            long_term_read_bytes: billing.long_term_read_bytes,
            efo_consumer_shard_hours,
            efo_bytes: billing.efo_bytes,
            billed_in_bytes: billing.billed_in_bytes,
            out_bytes: billing.polling_bytes,
            mode: match (od, stream.advantage_mode) {
                (false, _) => BillingMode::Provisioned,
                (true, false) => BillingMode::OnDemand,
                (true, true) => BillingMode::OnDemandAdvantage,
            },
        };
        lines.extend(
            crate::kds::prices::cost(&usage, &stream.prices)
                .into_iter()
                .map(|line| ModeCost {
                    mode: usage.mode,
                    line,
                }),
        );
    }
    let total = lines.iter().map(|l| l.line.cost).sum();
    (lines, total)
}

/// A cost line and the capacity mode it was billed in.
struct ModeCost {
    mode: crate::kds::prices::BillingMode,
    line: crate::kds::prices::CostLine,
}

#[derive(Debug, Serialize)]
struct LeaseRow {
    application: String,
    shard_id: String,
    worker: String,
    records_processed: u64,
    duplicates: u64,
    records_lost: u64,
    calls: u64,
    throttled_calls: u64,
    max_millis_behind_latest: u64,
    shard_end_s: String,
}

#[derive(Debug, Serialize)]
struct ConsumerMinuteRow {
    start_s: u64,
    application: String,
    #[serde(rename = "MillisBehindLatest")]
    millis_behind_latest_max: u64,
}

#[derive(Debug, Serialize)]
struct ConsumerRow {
    application: String,
    kind: &'static str,
    worker: String,
    leases_held_at_end: u32,
    records_processed: u64,
    bytes_processed: u64,
    duplicates: u64,
    records_lost: u64,
    records_unread_at_end: String,
    calls: u64,
    throttled_calls: u64,
    latency_p50_ms: String,
    latency_p99_ms: String,
    latency_max_ms: String,
    max_millis_behind_latest: String,
}

fn consumer_rows(scenario: &Scenario, outcome: &Outcome) -> Vec<ConsumerRow> {
    let mut rows = Vec::new();
    for (app, c) in scenario.consumers.iter().zip(&outcome.consumers) {
        let kind = match app.kind {
            crate::scenario::ConsumerKind::Polling => "polling",
            crate::scenario::ConsumerKind::EnhancedFanOut => "enhanced-fan-out",
        };
        let ms = |us: u64| f4(us as f64 / 1000.0);
        let t = &c.total;
        rows.push(ConsumerRow {
            application: app.name.clone(),
            kind,
            worker: "all".to_owned(),
            leases_held_at_end: c.worker_leases.iter().sum(),
            records_processed: t.processed,
            bytes_processed: t.bytes,
            duplicates: t.duplicates,
            records_lost: t.lost,
            records_unread_at_end: c.unread(&outcome.backlogs).to_string(),
            calls: t.calls,
            throttled_calls: t.throttled,
            latency_p50_ms: ms(c.latency_us.value_at_quantile(0.5)),
            latency_p99_ms: ms(c.latency_us.value_at_quantile(0.99)),
            latency_max_ms: ms(c.latency_us.max()),
            max_millis_behind_latest: c
                .behind_ms_per_minute
                .iter()
                .max()
                .copied()
                .unwrap_or(0)
                .to_string(),
        });
        for (w, (counts, leases)) in c.workers.iter().zip(&c.worker_leases).enumerate() {
            rows.push(ConsumerRow {
                application: app.name.clone(),
                kind,
                worker: w.to_string(),
                leases_held_at_end: *leases,
                records_processed: counts.processed,
                bytes_processed: counts.bytes,
                duplicates: counts.duplicates,
                records_lost: counts.lost,
                records_unread_at_end: String::new(),
                calls: counts.calls,
                throttled_calls: counts.throttled,
                latency_p50_ms: String::new(),
                latency_p99_ms: String::new(),
                latency_max_ms: String::new(),
                max_millis_behind_latest: String::new(),
            });
        }
    }
    rows
}

/// Seconds each shard could take writes: from the run's start (or its
/// parents' close) to its own close (or the run's end), rounded up.
fn shard_lifetimes(scenario: &Scenario, outcome: &Outcome) -> Vec<u64> {
    shard_intervals(scenario, outcome)
        .into_iter()
        .map(|(from, to)| to.saturating_sub(from).div_ceil(NANOS_PER_SEC))
        .collect()
}

/// When each shard could take writes, in simulated ns: `[from, to)`.
pub fn shard_intervals(scenario: &Scenario, outcome: &Outcome) -> Vec<(u64, u64)> {
    let map = &outcome.map;
    let sim = |t: crate::kds::EpochNanos| t.0.saturating_sub(scenario.start.0);
    map.shards()
        .iter()
        .map(|s| {
            let from = s
                .parent()
                .and_then(|p| map.shard(p).ok())
                .and_then(|p| p.closed_at())
                .map_or(0, sim);
            let to = s.closed_at().map_or(scenario.duration, sim);
            (from, to.max(from))
        })
        .collect()
}

/// Hours of `[from, to)` that fall within `[a, b)`, summed over `intervals`.
fn overlap_hours(intervals: &[(u64, u64)], a: u64, b: u64) -> f64 {
    intervals
        .iter()
        .map(|&(from, to)| to.min(b).saturating_sub(from.max(a)))
        .sum::<u64>() as f64
        / 3600e9
}

#[derive(Debug, Serialize)]
struct ReshardRow {
    source: &'static str,
    requested_s: String,
    action: String,
    status: &'static str,
    reason: String,
    finished_s: String,
    operations: usize,
    shards_created: String,
    transient_shards: String,
}

impl From<&ReshardLog> for ReshardRow {
    fn from(r: &ReshardLog) -> Self {
        let s = |t: u64| f4(t as f64 / 1e9);
        let ids = |v: &[ShardId]| {
            v.iter()
                .map(ShardId::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        ReshardRow {
            source: r.source,
            requested_s: s(r.requested),
            action: match &r.action {
                ReshardAction::UpdateShardCount { target } => {
                    format!("UpdateShardCount target={target}")
                }
                ReshardAction::Split {
                    shard,
                    new_starting_hash_key,
                } => match new_starting_hash_key {
                    Some(k) => format!("SplitShard {shard} at {k}"),
                    None => format!("SplitShard {shard} at midpoint"),
                },
                ReshardAction::Merge { shard, adjacent } => {
                    format!("MergeShards {shard} + {adjacent}")
                }
                ReshardAction::UpdateStreamMode { on_demand } => format!(
                    "UpdateStreamMode {}",
                    if *on_demand {
                        "ON_DEMAND"
                    } else {
                        "PROVISIONED"
                    }
                ),
            },
            status: match (&r.rejected, r.finished) {
                (Some(_), _) => "rejected",
                (None, Some(_)) => "completed",
                (None, None) => "in progress at end",
            },
            reason: r.rejected.clone().unwrap_or_default(),
            finished_s: r.finished.map(s).unwrap_or_default(),
            operations: r.operations.len(),
            shards_created: ids(&r.created),
            transient_shards: ids(&r.transient),
        }
    }
}

/// One service-level objective, measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SloCheck {
    /// The `[slo]` field.
    pub name: &'static str,
    /// The measured value, in `unit`.
    pub value: f64,
    /// The limit, in `unit`.
    pub limit: f64,
    /// The unit of both.
    pub unit: &'static str,
}

impl SloCheck {
    /// Whether the objective holds (value at most the limit).
    pub fn pass(&self) -> bool {
        self.value <= self.limit
    }
}

/// What the objectives are judged on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measured {
    /// Throttled attempts / attempts.
    pub throttle_rate: f64,
    /// Records that failed after retries or expired in the producer.
    pub failed: u64,
    /// p99 put latency, ms.
    pub p99_ms: f64,
    /// Peak per-second shard utilisation.
    pub peak_utilisation: f64,
    /// Records lost to retention, summed over consumer applications.
    pub lost: u64,
    /// Largest MillisBehindLatest of any application, ms.
    pub iterator_age_ms: f64,
    /// Most accepted resharding requests in any rolling 24 hours.
    pub reshards_per_24h: u64,
    /// Cost extrapolated to a 730-hour month, USD.
    pub monthly_cost: f64,
    /// The same, per billing dimension (indexed as `Dimension::ALL`).
    pub monthly_by_dimension: [f64; Dimension::ALL.len()],
}

/// The scenario's `[slo]` objectives, each measured.
pub fn slo_checks(scenario: &Scenario, m: &Measured) -> Vec<SloCheck> {
    let s = &scenario.slo;
    let mut checks = Vec::new();
    let mut add = |name, value: f64, limit: Option<f64>, unit| {
        if let Some(limit) = limit {
            checks.push(SloCheck {
                name,
                value,
                limit,
                unit,
            });
        }
    };
    add(
        "max_throttle_rate",
        m.throttle_rate,
        s.max_throttle_rate,
        "",
    );
    add(
        "max_failed_records",
        m.failed as f64,
        s.max_failed_records.map(|x| x as f64),
        "records",
    );
    add(
        "max_p99_latency",
        m.p99_ms,
        s.max_p99_latency.map(|x| x as f64 / 1e6),
        "ms",
    );
    add(
        "max_peak_shard_utilisation",
        m.peak_utilisation,
        s.max_peak_shard_utilisation,
        "",
    );
    add(
        "max_lost_records",
        m.lost as f64,
        s.max_lost_records.map(|x| x as f64),
        "records",
    );
    add(
        "max_iterator_age",
        m.iterator_age_ms,
        s.max_iterator_age.map(|x| x as f64 / 1e6),
        "ms",
    );
    add(
        "max_monthly_cost",
        m.monthly_cost,
        s.max_monthly_cost,
        "USD",
    );
    add(
        "max_reshard_operations_per_24h",
        m.reshards_per_24h as f64,
        s.max_reshard_operations_per_24h.map(|x| x as f64),
        "requests",
    );
    checks
}

/// The summary's `slo` column: empty without objectives, `pass`, or `fail:`
/// and each objective missed.
fn slo_verdict(checks: &[SloCheck]) -> String {
    if checks.is_empty() {
        return String::new();
    }
    let missed: Vec<String> = checks
        .iter()
        .filter(|c| !c.pass())
        .map(|c| format!("{} {} > {}", c.name, fmt_value(c.value), fmt_value(c.limit)))
        .collect();
    if missed.is_empty() {
        "pass".to_owned()
    } else {
        format!("fail: {}", missed.join("; "))
    }
}

/// Six significant decimals, trailing zeros trimmed.
pub fn fmt_value(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// Most items of `times` (sorted) within any window of `window` ns.
fn max_in_window(times: &[u64], window: u64) -> u64 {
    let mut best = 0;
    let mut start = 0;
    for (end, &t) in times.iter().enumerate() {
        while t - times[start] >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best as u64
}

/// A short human summary of a run.
pub fn render_text(s: &Summary, out_dir: &Path) -> String {
    let pct = |x: &str| {
        x.parse::<f64>()
            .map_or(x.to_owned(), |v| format!("{:.2} %", v * 100.0))
    };
    let mut t = String::new();
    t.push_str(&format!(
        "{}: {} s simulated on {} shards (seed {})\n",
        s.scenario, s.duration_s, s.shards, s.seed
    ));
    t.push_str(&format!(
        "  records    {} produced, {} accepted, {} failed after retries, {} expired, {} too large, {} dropped, {} pending\n",
        s.records_produced, s.records_accepted, s.records_failed, s.records_expired, s.records_too_large, s.records_dropped, s.records_pending
    ));
    if s.aggregated_records > 0 {
        t.push_str(&format!(
            "  kinesis    {} Kinesis records accepted; {} aggregates made\n",
            s.kinesis_records_accepted, s.aggregated_records
        ));
    }
    t.push_str(&format!(
        "  throttled  {} of {} attempts ({}), {} retries\n",
        s.throttled_attempts,
        s.attempts,
        pct(&s.throttle_rate),
        s.retries
    ));
    t.push_str(&format!(
        "  latency    p50 {} ms, p99 {} ms, max {} ms\n",
        s.latency_p50_ms, s.latency_p99_ms, s.latency_max_ms
    ));
    t.push_str(&format!(
        "  shards     mean utilisation {}, peak {} (demand peak {}), hottest {}\n",
        pct(&s.mean_shard_utilisation),
        pct(&s.peak_shard_utilisation),
        pct(&s.peak_offered_utilisation),
        s.hottest_shard
    ));
    if !s.hottest_key.is_empty() {
        t.push_str(&format!(
            "  hot key    {} with {} of records\n",
            s.hottest_key,
            pct(&s.hottest_key_share)
        ));
    }
    t.push_str(&format!(
        "  cost       ${} for the run, ${} per 730-hour month\n",
        s.cost_usd, s.monthly_cost_usd
    ));
    if !s.slo.is_empty() {
        t.push_str(&format!("  slo        {}\n", s.slo));
    }
    t.push_str(&format!("  wrote      {}\n", out_dir.display()));
    t
}
