//! Each CSV file's bytes, from the analysis's typed rows.
//!
//! Floats are written with fixed precision so that files are byte-stable.

use serde::Serialize;

use super::{ReportError, Summary};
use crate::analysis::{
    ConsumerMinuteRow, ConsumerRow, KeyRow, LeaseRow, ReshardRow, ReshardStatus, RunAnalysis,
    RunCost, RunSummary, ShardRow, TimeRow,
};
use crate::kds::ShardId;
use crate::kds::prices::BillingMode;
use crate::scenario::{ConsumerKind, ReshardAction};

pub(super) fn f4(x: f64) -> String {
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

pub(super) fn f6(x: f64) -> String {
    format!("{x:.6}")
}

fn csv_bytes<T: Serialize>(
    file: &'static str,
    rows: impl IntoIterator<Item = T>,
) -> Result<Vec<u8>, ReportError> {
    let err = |source| ReportError::Csv { file, source };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
}

/// The summary row as summary.csv writes it. `scenario_md5` identifies the
/// input file.
pub(super) fn summary_row(s: &RunSummary, scenario_md5: &str) -> Summary {
    let (hottest_key, hottest_key_share) = s
        .hottest_key
        .as_ref()
        .map(|(k, share)| (k.clone(), f6(*share)))
        .unwrap_or_default();
    Summary {
        scenario: s.scenario.clone(),
        seed: s.seed,
        scenario_md5: scenario_md5.to_owned(),
        version: env!("CARGO_PKG_VERSION"),
        engine: s.engine.name(),
        duration_s: f4(s.duration_s),
        shards: s.shards,
        shards_at_end: s.shards_at_end,
        records_produced: s.records_produced,
        attempts: s.attempts,
        throttled_attempts: s.throttled_attempts,
        throttle_rate: f6(s.throttle_rate),
        records_accepted: s.records_accepted,
        kinesis_records_accepted: s.kinesis_records_accepted,
        aggregated_records: s.aggregated_records,
        records_failed: s.records_failed,
        records_expired: s.records_expired,
        records_too_large: s.records_too_large,
        records_dropped: s.records_dropped,
        records_pending: s.records_pending,
        retries: s.retries,
        latency_p50_ms: s.latency_p50_ms.to_string(),
        latency_p99_ms: s.latency_p99_ms.to_string(),
        latency_max_ms: f4(s.latency_max_ms),
        mean_shard_utilisation: f4(s.mean_shard_utilisation),
        peak_shard_utilisation: f4(s.peak_shard_utilisation),
        peak_offered_utilisation: f4(s.peak_offered_utilisation),
        hottest_shard: s.hottest_shard.map(|i| i.to_string()).unwrap_or_default(),
        hottest_key,
        hottest_key_share,
        cost_usd: format!("{:.4}", s.cost_usd),
        monthly_cost_usd: format!("{:.2}", s.monthly_cost_usd),
        slo: s.slo.clone(),
    }
}

#[derive(Debug, Serialize)]
struct TimeCsv {
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

impl From<&TimeRow> for TimeCsv {
    fn from(t: &TimeRow) -> Self {
        let r = &t.interval;
        TimeCsv {
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
            throttle_rate: f6(t.throttle_rate),
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
struct ShardCsv {
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

impl From<&ShardRow> for ShardCsv {
    fn from(s: &ShardRow) -> Self {
        let id = |p: Option<ShardId>| p.map(|p| p.to_string()).unwrap_or_default();
        let c = &s.counts;
        ShardCsv {
            shard_id: s.shard_id.to_string(),
            parent_shard_id: id(s.parent),
            adjacent_parent_shard_id: id(s.adjacent_parent),
            created_s: f4(s.created_s),
            closed_s: s.closed_s.map(f4).unwrap_or_default(),
            starting_hash_key: s.range.start.to_string(),
            ending_hash_key: s.range.end.to_string(),
            hash_share: f6(s.hash_share),
            keys_seen: s.keys_seen,
            offered_records: c.offered_records,
            offered_bytes: c.offered_bytes,
            accepted_records: c.accepted_records,
            accepted_bytes: c.accepted_bytes,
            throttled_records: c.throttled_records,
            throttled_by_records: c.throttled_by_records,
            throttled_by_bytes: c.throttled_by_bytes,
            mean_utilisation: f4(s.mean_utilisation),
            peak_utilisation: f4(s.peak_utilisation),
            peak_offered_utilisation: f4(s.peak_offered_utilisation),
        }
    }
}

#[derive(Debug, Serialize)]
struct KeyCsv<'a> {
    group: &'a str,
    key: &'a str,
    hash_key: String,
    shard_id: String,
    records: u64,
    share: String,
    records_per_s: String,
    bytes_per_s: String,
    exceeds_shard_limit: bool,
}

impl<'a> From<&'a KeyRow> for KeyCsv<'a> {
    fn from(k: &'a KeyRow) -> Self {
        KeyCsv {
            group: &k.group,
            key: &k.key,
            hash_key: k.hash_key.to_string(),
            shard_id: k.shard_id.to_string(),
            records: k.records,
            share: f6(k.share),
            records_per_s: f4(k.records_per_s),
            bytes_per_s: f4(k.bytes_per_s),
            exceeds_shard_limit: k.exceeds_shard_limit,
        }
    }
}

#[derive(Debug, Serialize)]
struct CostCsv<'a> {
    region: &'a str,
    mode: &'static str,
    dimension: &'static str,
    quantity: String,
    unit: &'static str,
    unit_price_usd: String,
    run_cost_usd: String,
    monthly_cost_usd: String,
}

fn cost_rows(cost: &RunCost) -> impl Iterator<Item = CostCsv<'_>> {
    cost.lines.iter().map(|m| {
        let l = &m.line;
        CostCsv {
            region: &cost.region,
            mode: match m.mode {
                BillingMode::Provisioned => "provisioned",
                BillingMode::OnDemand => "on-demand",
                BillingMode::OnDemandAdvantage => "on-demand-advantage",
            },
            dimension: l.dimension.name(),
            quantity: sig4(l.quantity),
            unit: l.unit,
            unit_price_usd: format!("{:.9}", l.unit_price),
            run_cost_usd: sig4(l.cost),
            monthly_cost_usd: format!("{:.2}", l.cost * cost.month_factor),
        }
    })
}

#[derive(Debug, Serialize)]
struct ConsumerCsv<'a> {
    application: &'a str,
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

impl<'a> From<&'a ConsumerRow> for ConsumerCsv<'a> {
    fn from(r: &'a ConsumerRow) -> Self {
        let t = r.totals.as_ref();
        let opt =
            |f: &dyn Fn(&crate::analysis::ConsumerTotals) -> String| t.map(f).unwrap_or_default();
        let c = &r.counts;
        ConsumerCsv {
            application: &r.application,
            kind: match r.kind {
                ConsumerKind::Polling => "polling",
                ConsumerKind::EnhancedFanOut => "enhanced-fan-out",
            },
            worker: r.worker.map_or_else(|| "all".to_owned(), |w| w.to_string()),
            leases_held_at_end: r.leases_held_at_end,
            records_processed: c.processed,
            bytes_processed: c.bytes,
            duplicates: c.duplicates,
            records_lost: c.lost,
            records_unread_at_end: opt(&|t| t.unread_at_end.to_string()),
            calls: c.calls,
            throttled_calls: c.throttled,
            latency_p50_ms: opt(&|t| t.latency_p50_ms.to_string()),
            latency_p99_ms: opt(&|t| t.latency_p99_ms.to_string()),
            latency_max_ms: opt(&|t| f4(t.latency_max_ms)),
            max_millis_behind_latest: opt(&|t| t.max_millis_behind_latest.to_string()),
        }
    }
}

#[derive(Debug, Serialize)]
struct ConsumerMinuteCsv<'a> {
    start_s: u64,
    application: &'a str,
    #[serde(rename = "MillisBehindLatest")]
    millis_behind_latest_max: u64,
}

impl<'a> From<&'a ConsumerMinuteRow> for ConsumerMinuteCsv<'a> {
    fn from(r: &'a ConsumerMinuteRow) -> Self {
        ConsumerMinuteCsv {
            start_s: r.start_s,
            application: &r.application,
            millis_behind_latest_max: r.millis_behind_latest,
        }
    }
}

#[derive(Debug, Serialize)]
struct LeaseCsv<'a> {
    application: &'a str,
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

impl<'a> From<&'a LeaseRow> for LeaseCsv<'a> {
    fn from(l: &'a LeaseRow) -> Self {
        LeaseCsv {
            application: &l.application,
            shard_id: l.shard_id.to_string(),
            worker: l
                .worker
                .map(|w| w.to_string())
                .unwrap_or_else(|| "none".to_owned()),
            records_processed: l.counts.processed,
            duplicates: l.counts.duplicates,
            records_lost: l.counts.lost,
            calls: l.counts.calls,
            throttled_calls: l.counts.throttled,
            max_millis_behind_latest: l.max_millis_behind_latest,
            shard_end_s: l.shard_end_s.map(f4).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ReshardCsv {
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

/// A resharding request's action as reshards.csv names it.
fn action_text(action: &ReshardAction) -> String {
    match action {
        ReshardAction::UpdateShardCount { target } => format!("UpdateShardCount target={target}"),
        ReshardAction::Split {
            shard,
            new_starting_hash_key,
        } => match new_starting_hash_key {
            Some(k) => format!("SplitShard {shard} at {k}"),
            None => format!("SplitShard {shard} at midpoint"),
        },
        ReshardAction::Merge { shard, adjacent } => format!("MergeShards {shard} + {adjacent}"),
        ReshardAction::UpdateStreamMode { on_demand } => format!(
            "UpdateStreamMode {}",
            if *on_demand {
                "ON_DEMAND"
            } else {
                "PROVISIONED"
            }
        ),
    }
}

impl From<&ReshardRow> for ReshardCsv {
    fn from(r: &ReshardRow) -> Self {
        let ids = |v: &[ShardId]| {
            v.iter()
                .map(ShardId::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        ReshardCsv {
            source: r.source,
            requested_s: f4(r.requested_s),
            action: action_text(&r.action),
            status: match r.status {
                ReshardStatus::Rejected => "rejected",
                ReshardStatus::Completed => "completed",
                ReshardStatus::InProgress => "in progress at end",
            },
            reason: r.reason.clone(),
            finished_s: r.finished_s.map(f4).unwrap_or_default(),
            operations: r.operations,
            shards_created: ids(&r.shards_created),
            transient_shards: ids(&r.transient_shards),
        }
    }
}

/// Every CSV file of a run, `(name, bytes)` in writing order; `summary` is
/// summary.csv's row. Consumer files only with consumers, reshards.csv only
/// with requests.
pub(super) fn render_files(
    a: &RunAnalysis,
    summary: &Summary,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut files = vec![
        (
            "summary.csv".to_owned(),
            csv_bytes("summary.csv", [summary])?,
        ),
        (
            "timeseries.csv".to_owned(),
            csv_bytes("timeseries.csv", a.minutes.iter().map(TimeCsv::from))?,
        ),
    ];
    if let Some(seconds) = &a.seconds {
        files.push((
            "timeseries-seconds.csv".to_owned(),
            csv_bytes("timeseries-seconds.csv", seconds.iter().map(TimeCsv::from))?,
        ));
    }
    files.push((
        "shards.csv".to_owned(),
        csv_bytes("shards.csv", a.shards.iter().map(ShardCsv::from))?,
    ));
    files.push((
        "keys.csv".to_owned(),
        csv_bytes("keys.csv", a.keys.iter().map(KeyCsv::from))?,
    ));
    files.push((
        "cost.csv".to_owned(),
        csv_bytes("cost.csv", cost_rows(&a.cost))?,
    ));
    if a.applications > 0 {
        files.push((
            "consumers.csv".to_owned(),
            csv_bytes("consumers.csv", a.consumers.iter().map(ConsumerCsv::from))?,
        ));
        files.push((
            "consumers-timeseries.csv".to_owned(),
            csv_bytes(
                "consumers-timeseries.csv",
                a.consumer_minutes.iter().map(ConsumerMinuteCsv::from),
            )?,
        ));
        files.push((
            "consumer-shards.csv".to_owned(),
            csv_bytes("consumer-shards.csv", a.leases.iter().map(LeaseCsv::from))?,
        ));
    }
    if !a.reshards.is_empty() {
        files.push((
            "reshards.csv".to_owned(),
            csv_bytes("reshards.csv", a.reshards.iter().map(ReshardCsv::from))?,
        ));
    }
    Ok(files)
}
