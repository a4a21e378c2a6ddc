//! What a run measured, as numbers: the summary, the objectives and their
//! verdict, the cost, and the rows of every report table, computed from a
//! scenario and its outcome with no formatting.
//!
//! Renderers ([`crate::report`], `html`, [`crate::charts`]) and the
//! planners ([`crate::plan`](mod@crate::plan), [`crate::sweep`]) read this; none of them
//! parses a CSV file back (the plan's page shows the plan's Markdown as
//! HTML).

mod cost;
mod rows;
mod slo;

pub use cost::{ModeCost, RunCost, run_cost};
pub use rows::{
    ConsumerMinuteRow, ConsumerRow, ConsumerTotals, KeyRow, LeaseRow, ReshardRow, ReshardStatus,
    ShardRow, TimeRow,
};
pub use slo::{Measured, SloCheck, fmt_value, slo_checks, slo_verdict};

use crate::kds::ShardId;
use crate::kds::prices::Dimension;
use crate::metrics::HeldMs;
use crate::model::{EngineChoice, EngineReason, Outcome, engine_choice};
use crate::scenario::Scenario;
use crate::units::NANOS_PER_SEC;

/// How many keys the analysis (and `keys.csv`) lists.
pub const TOP_KEYS: usize = 20;

/// The one-row summary of a run, as numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// The engine that ran, why, and the shard engine's step.
    pub engine: EngineChoice,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Shards the stream was created with (the ones without a parent).
    pub shards: u32,
    /// Open shards at the end.
    pub shards_at_end: u32,
    /// User records produced.
    pub records_produced: u64,
    /// Record attempts (first tries and retries) that reached a shard.
    pub attempts: u64,
    /// Attempts throttled.
    pub throttled_attempts: u64,
    /// `throttled_attempts / attempts` (0 without attempts).
    pub throttle_rate: f64,
    /// User records accepted.
    pub records_accepted: u64,
    /// Kinesis records accepted (IncomingRecords).
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
    /// Put latency of accepted records, p50, ms (to the digits the
    /// histogram holds).
    pub latency_p50_ms: HeldMs,
    /// p99, ms.
    pub latency_p99_ms: HeldMs,
    /// Maximum, ms: the largest latency itself, not its histogram bucket.
    pub latency_max_ms: f64,
    /// Mean over shards and seconds of accepted utilisation.
    pub mean_shard_utilisation: f64,
    /// Highest per-second accepted utilisation of any shard.
    pub peak_shard_utilisation: f64,
    /// Highest per-second offered utilisation of any shard.
    pub peak_offered_utilisation: f64,
    /// The shard with the most throttled attempts (then the most offered
    /// records, then the lowest id); `None` without shards.
    pub hottest_shard: Option<ShardId>,
    /// The key with the most records, as `group:key`, and its share of all
    /// records produced; `None` if no key was seen.
    pub hottest_key: Option<(String, f64)>,
    /// The cost of the run, USD.
    pub cost_usd: f64,
    /// The same extrapolated to a 730-hour month.
    pub monthly_cost_usd: f64,
    /// The `[slo]` verdict ([`slo_verdict`]).
    pub slo: String,
}

/// Everything a run's reports show, as numbers.
#[derive(Debug, Clone)]
pub struct RunAnalysis {
    /// The one-row summary.
    pub summary: RunSummary,
    /// What the objectives are judged on.
    pub measured: Measured,
    /// The scenario's objectives, measured.
    pub slo: Vec<SloCheck>,
    /// The cost, per capacity mode and dimension.
    pub cost: RunCost,
    /// The time series per minute.
    pub minutes: Vec<TimeRow>,
    /// The time series per second, when recorded.
    pub seconds: Option<Vec<TimeRow>>,
    /// Every shard of the run, by id.
    pub shards: Vec<ShardRow>,
    /// The [`TOP_KEYS`] busiest keys, most records first.
    pub keys: Vec<KeyRow>,
    /// Consumer applications in the scenario (their files are written
    /// only if there are any).
    pub applications: usize,
    /// Per consumer application: its totals, then each worker.
    pub consumers: Vec<ConsumerRow>,
    /// Per minute and application, the largest MillisBehindLatest.
    pub consumer_minutes: Vec<ConsumerMinuteRow>,
    /// Per application and shard lease.
    pub leases: Vec<LeaseRow>,
    /// Every resharding request.
    pub reshards: Vec<ReshardRow>,
}

/// `a / b`, or 0 when `b` is 0.
pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Analyses the run `outcome` of `scenario`.
pub fn analyze(scenario: &Scenario, outcome: &Outcome) -> RunAnalysis {
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
    let hottest_shard = totals
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
        .map(|(i, _)| ShardId(i as u32));

    let (keys, keys_seen) = rows::keys(scenario, outcome, secs);
    let hottest_key = keys
        .first()
        .map(|k| (format!("{}:{}", k.group, k.key), k.share));

    let throttle_rate = ratio(throttled, attempts);
    let p99 = HeldMs::quantile(&m.latency_us, 0.99);
    let accepted_reshards: Vec<u64> = outcome
        .reshards
        .iter()
        // Requests made (by the scenario or a policy), not the service's own
        // on-demand splits.
        .filter(|r| r.source != "on-demand" && r.rejected.is_none() && !r.operations.is_empty())
        .map(|r| r.requested)
        .collect();
    let cost = run_cost(scenario, outcome);
    let month_factor = cost.month_factor;
    let mut monthly_by_dimension = [0.0; Dimension::ALL.len()];
    for l in &cost.lines {
        monthly_by_dimension[l.line.dimension as usize] += l.line.cost * month_factor;
    }
    let measured = Measured {
        monthly_cost: cost.total * month_factor,
        monthly_by_dimension,
        throttle_rate,
        failed: p.failed_after_retries + p.expired,
        p99_ms: p99.ms,
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
    let slo = slo_checks(scenario, &measured);
    // Which engine ran is the outcome's; why is the scenario's. They agree
    // for every run of `simulate`; an outcome from elsewhere keeps its own.
    let mut engine = engine_choice(scenario);
    if engine.kind != outcome.engine {
        engine.kind = outcome.engine;
        engine.reason = EngineReason::Asked;
    }
    let summary = RunSummary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        engine,
        duration_s: secs,
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
        throttle_rate,
        records_accepted: p.accepted,
        kinesis_records_accepted: accepted,
        aggregated_records: p.aggregates,
        records_failed: p.failed_after_retries,
        records_expired: p.expired,
        records_too_large: p.rejected_too_large,
        records_dropped: p.dropped_buffer_full,
        records_pending: outcome.pending,
        retries: p.retries,
        latency_p50_ms: HeldMs::quantile(&m.latency_us, 0.5),
        latency_p99_ms: p99,
        latency_max_ms: m.latency_max_ns as f64 / 1e6,
        mean_shard_utilisation: mean_util,
        peak_shard_utilisation: peak_util,
        peak_offered_utilisation: peak_offered,
        hottest_shard,
        hottest_key,
        cost_usd: cost.total,
        monthly_cost_usd: cost.total * month_factor,
        slo: slo_verdict(&slo),
    };
    RunAnalysis {
        summary,
        measured,
        slo,
        cost,
        minutes: m.minutes.iter().map(TimeRow::from).collect(),
        seconds: m
            .seconds
            .as_ref()
            .map(|s| s.iter().map(TimeRow::from).collect()),
        shards: rows::shards(scenario, outcome, &keys_seen, &lifetimes),
        keys,
        applications: scenario.consumers.len(),
        consumers: rows::consumers(scenario, outcome),
        consumer_minutes: rows::consumer_minutes(scenario, outcome),
        leases: rows::leases(scenario, outcome),
        reshards: outcome.reshards.iter().map(ReshardRow::from).collect(),
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{RunOptions, simulate};

    /// One shard and one key at 1,500 records/s: the key is over a shard's
    /// limit, so about a third of the attempts are throttled.
    const HOT: &str = r#"
name = "hot"
duration = "30s"
seed = 3
[stream]
shards = 2
[[producers]]
name = "app"
rate = "1500/s"
size = "100B"
keys = { kind = "uniform", count = 1, prefix = "k" }
api = "put-record"
retry = { max_attempts = 1, base = "100ms", cap = "1s" }
[slo]
max_throttle_rate = 0.01
max_monthly_cost = 1000.0
"#;

    pub(crate) fn hot_run() -> (Scenario, Outcome) {
        let s = Scenario::parse(HOT, std::path::Path::new("hot.toml")).unwrap();
        let out = simulate(&s, RunOptions::default()).unwrap();
        (s, out)
    }

    #[test]
    fn a_hot_key_is_measured_as_numbers() {
        let (s, out) = hot_run();
        let a = analyze(&s, &out);
        let sum = &a.summary;
        assert_eq!(sum.duration_s, 30.0);
        assert_eq!(sum.shards, 2);
        // 1,500 records/s for 30 s: the record engine, by `auto`.
        assert_eq!(sum.engine.kind, crate::scenario::EngineKind::Record);
        assert_eq!(sum.engine.reason, EngineReason::Expected(45_000.0));
        assert!(sum.attempts > 0 && sum.throttled_attempts > 0);
        assert_eq!(
            sum.throttle_rate,
            sum.throttled_attempts as f64 / sum.attempts as f64
        );
        assert_eq!(a.measured.throttle_rate, sum.throttle_rate);
        // One key, over one shard's 1,000 records/s.
        assert_eq!(a.keys.len(), 1);
        let k = &a.keys[0];
        assert!(k.exceeds_shard_limit && k.is_partition_key(), "{k:?}");
        assert!(
            (k.records_per_s - 1500.0).abs() < 100.0,
            "{}",
            k.records_per_s
        );
        assert_eq!(k.share, 1.0);
        assert_eq!(sum.hottest_key, Some(("app:k1".to_owned(), 1.0)));
        assert_eq!(sum.hottest_shard, Some(k.shard_id));
        // The throttle objective fails, the cost one holds.
        assert_eq!(a.slo.len(), 2);
        assert!(!a.slo[0].pass() && a.slo[1].pass());
        assert!(
            sum.slo.starts_with("fail: max_throttle_rate "),
            "{}",
            sum.slo
        );
        // Cost: the lines add up, and the month is 730 hours of 30 s.
        let total: f64 = a.cost.lines.iter().map(|l| l.line.cost).sum();
        assert_eq!(a.cost.total, total);
        assert!((a.cost.month_factor - 730.0 * 120.0).abs() < 1e-6);
        assert_eq!(a.measured.monthly_cost, a.cost.total * a.cost.month_factor);
        // Both shards are rows; only the key's shard saw a key.
        assert_eq!(a.shards.len(), 2);
        let seen: u64 = a.shards.iter().map(|r| r.keys_seen).sum();
        assert_eq!(seen, 1);
        assert_eq!(a.minutes.len(), 1);
        assert!(a.consumers.is_empty() && a.reshards.is_empty());
    }

    #[test]
    fn windows_count_requests_within_a_day() {
        let day = 24 * 3600 * NANOS_PER_SEC;
        assert_eq!(max_in_window(&[], day), 0);
        assert_eq!(max_in_window(&[0, 1, day - 1, day, 3 * day], day), 3);
    }
}
