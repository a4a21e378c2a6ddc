//! The capacity planner: the smallest shard count that meets a scenario's
//! SLOs, with replications, confidence intervals and costs.
//!
//! Every candidate runs the same `R` replications (seeds derived from the
//! scenario's seed and the replication index only), so candidates are
//! compared on common random numbers. Runs go in parallel with rayon; results
//! are gathered in input order and reduced sequentially, so the plan is the
//! same at any thread count.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::analysis::{Measured, analyze};
use crate::kds::Quota;
use crate::kds::prices::Dimension;
use crate::model::{
    EngineChoice, Progress, RunOptions, SimError, engine_choice, simulate_observed,
};
use crate::scenario::{EngineKind, Scenario, Slo};
use crate::shown::{dollars, number_text, percent, thousands};
use crate::sim::rng::{Purpose, derive_seed};

/// How to search.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Replications per candidate (at least 2, for an interval).
    pub replications: u32,
    /// Smallest shard count to consider.
    pub min_shards: u32,
    /// Largest shard count to consider.
    pub max_shards: u32,
    /// Also run the scenario in on-demand mode, to compare.
    pub on_demand: bool,
}

/// A mean and the half-width of its 95 % confidence interval (Student t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The sample mean.
    pub mean: f64,
    /// Half-width of the 95 % interval (0 with one sample or no spread).
    pub ci95: f64,
}

/// The estimate of `xs`' mean.
pub fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n.max(1.0);
    if xs.len() < 2 {
        return Estimate { mean, ci95: 0.0 };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    Estimate {
        mean,
        ci95: t * (var / n).sqrt(),
    }
}

/// What one run of one candidate measured.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    m: Measured,
    engine: EngineKind,
    by_records: u64,
    by_bytes: u64,
    read_throttled: u64,
    load: Load,
    offered: Offer,
}

/// What the producers offered in a run, whether or not the stream took
/// it, and what carrying all of it would cost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Offer {
    /// Monthly cost with every volume-priced dimension scaled from the
    /// records accepted to the records offered, USD.
    monthly_all: f64,
    /// The busiest minute's offered records/s.
    peak_records_s: f64,
    /// The busiest minute's offered bytes/s (its records at the run's
    /// mean offered record size).
    peak_bytes_s: f64,
}

impl Offer {
    fn of(out: &crate::model::Outcome, duration: crate::sim::SimTime, m: &Measured) -> Offer {
        let offered: u64 = out.keys.iter().map(|k| k.offered_records).sum();
        let accepted = out.metrics.producer_total.accepted;
        // Every dimension but the stream-hour grows with the records
        // carried (data in counts records each rounded up to 1 KiB, so
        // records, not bytes, are what scales it).
        let ratio = if accepted > 0 {
            offered as f64 / accepted as f64
        } else {
            1.0
        };
        let monthly_all = Dimension::ALL
            .iter()
            .map(|&d| {
                let v = m.monthly_by_dimension[d as usize];
                if d == Dimension::StreamHours {
                    v
                } else {
                    v * ratio
                }
            })
            .sum();
        let (peak_records_s, peak_bytes_s) = peak_offered(out, duration);
        Offer {
            monthly_all,
            peak_records_s,
            peak_bytes_s,
        }
    }
}

/// The busiest minute's offered records/s and bytes/s of a run of
/// `duration` (its records at the run's mean offered record size).
fn peak_offered(out: &crate::model::Outcome, duration: crate::sim::SimTime) -> (f64, f64) {
    let offered: u64 = out.keys.iter().map(|k| k.offered_records).sum();
    let offered_bytes: u64 = out.keys.iter().map(|k| k.offered_bytes).sum();
    let secs = duration as f64 / crate::units::NANOS_PER_SEC as f64;
    let peak_records_s = out
        .metrics
        .minutes
        .iter()
        .filter_map(|row| {
            let len = (secs - row.start_secs as f64).clamp(0.0, 60.0);
            let p = &row.producers;
            (len > 0.0).then(|| p.produced.saturating_sub(p.rejected_too_large) as f64 / len)
        })
        .fold(0.0, f64::max);
    let per_record = if offered > 0 {
        offered_bytes as f64 / offered as f64
    } else {
        0.0
    };
    (peak_records_s, peak_records_s * per_record)
}

/// For `run`: a note when `scenario` starts a new on-demand stream and
/// runs shorter than such a stream takes to scale to the peak `out`
/// offered, so that its throttling and cost are those of a stream still
/// scaling. An existing stream (`previous_peak`) starts with the capacity
/// of its peak, which this estimate does not follow: no note.
pub fn on_demand_still_scaling(scenario: &Scenario, out: &crate::model::Outcome) -> Option<String> {
    scenario.stream.on_demand?;
    if scenario.stream.previous_peak.is_some() {
        return None;
    }
    let (head, _) = short_of_scaling(scenario, peak_offered(out, scenario.duration))?;
    Some(format!(
        "{head}); its throttling and cost are those of a stream still scaling (`shardcast plan --on-demand` gives the steady state's cost)"
    ))
}

/// When a run of on-demand `od` is shorter than a new on-demand stream
/// takes to scale to `peak` (records/s, bytes/s): the start of the
/// sentence that says so, up to the doublings it takes, and that time.
fn short_of_scaling(od: &Scenario, (records, bytes): (f64, f64)) -> Option<(String, u64)> {
    let delay = od.stream.on_demand.unwrap_or(0);
    let (doublings, need) =
        crate::model::on_demand_scaling_time(records, bytes, od.stream.shards, delay);
    if od.duration >= need {
        return None;
    }
    let span = |ns: u64| crate::units::Duration(ns).to_string();
    let head = format!(
        "on-demand: the run ({}) is shorter than a new on-demand stream takes to scale to the offered peak of {} records/s and {:.2} MiB/s (about {}: {doublings} doubling{}",
        span(od.duration),
        thousands(records.round() as u64),
        bytes / 1_048_576.0,
        span(need),
        if doublings == 1 { "" } else { "s" },
    );
    Some((head, need))
}

/// How close a run came to the write limits: the share of the records/s
/// and of the bytes/s limit used in its busiest minute (stream level) or
/// on its busiest shard over the run, whichever is higher, and the records
/// a shard took per second on average.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Load {
    /// Share of the records/s limit (1 = 1,000 records/s per shard).
    pub records: f64,
    /// Share of the bytes/s limit (1 = 1 MiB/s per shard).
    pub bytes: f64,
    /// Records per shard per second, on average over the run.
    pub records_per_shard_s: f64,
}

impl Load {
    fn of(out: &crate::model::Outcome, duration: crate::sim::SimTime) -> Load {
        let records_limit = Quota::WriteRecordsPerShardPerSec.value() as f64;
        let bytes_limit = Quota::WriteBytesPerShardPerSec.value() as f64;
        let secs = duration as f64 / crate::units::NANOS_PER_SEC as f64;
        let mut load = Load::default();
        for row in &out.metrics.minutes {
            let len = (secs - row.start_secs as f64).clamp(0.0, 60.0);
            let capacity = len * f64::from(row.open_shards);
            if capacity <= 0.0 {
                continue;
            }
            let records = row.shards.accepted_records as f64 / capacity;
            let bytes = row.shards.accepted_bytes as f64 / capacity;
            load.records = load.records.max(records / records_limit);
            load.bytes = load.bytes.max(bytes / bytes_limit);
        }
        let totals = &out.metrics.shard_totals;
        for t in totals {
            load.records = load
                .records
                .max(t.counts.accepted_records as f64 / secs.max(1e-9) / records_limit);
            load.bytes = load
                .bytes
                .max(t.counts.accepted_bytes as f64 / secs.max(1e-9) / bytes_limit);
        }
        let accepted: u64 = totals.iter().map(|t| t.counts.accepted_records).sum();
        load.records_per_shard_s = accepted as f64 / secs.max(1e-9) / totals.len().max(1) as f64;
        load
    }

    /// The limit that binds (the higher share) and its share.
    pub fn binding(&self) -> (&'static str, f64) {
        if self.records >= self.bytes {
            ("write records/s (1,000 per shard)", self.records)
        } else {
            ("write bytes/s (1 MiB per shard)", self.bytes)
        }
    }
}

/// One candidate shard count, over its replications.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Shards.
    pub shards: u32,
    /// The engine its runs used (`Auto` only without runs).
    pub engine: EngineKind,
    /// Throttled attempts / attempts.
    pub throttle_rate: Estimate,
    /// Records failed after retries.
    pub failed: Estimate,
    /// p99 put latency, ms.
    pub p99_ms: Estimate,
    /// Peak per-second shard utilisation.
    pub peak_utilisation: Estimate,
    /// Records lost to retention.
    pub lost: Estimate,
    /// Consumer lag, ms.
    pub iterator_age_ms: Estimate,
    /// Monthly cost, USD.
    pub monthly_cost: Estimate,
    /// Mean monthly cost per billing dimension (indexed as `Dimension::ALL`).
    pub monthly_by_dimension: [f64; Dimension::ALL.len()],
    /// Share of write throttles where the records/s limit was exhausted.
    pub records_bound_share: f64,
    /// Polling calls refused for shared read limits, per run.
    pub read_throttled: f64,
    /// The highest write load of its replications.
    pub load: Load,
    /// Monthly cost of carrying all the traffic offered, USD: the cost
    /// with every dimension priced by volume (all but the stream-hour)
    /// scaled from the records accepted to the records offered. For an
    /// on-demand stream this is the steady state, once it has scaled.
    pub monthly_cost_all_offered: Estimate,
    /// The busiest minute's offered records/s and bytes/s, the highest of
    /// its replications.
    pub peak_offered: (f64, f64),
    /// Whether the means meet every objective.
    pub meets: bool,
}

/// A key whose own traffic exceeds one shard's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct HotKey {
    /// `group:key`.
    pub key: String,
    /// The producer group.
    pub group: String,
    /// The key as the group writes it: a partition key, or an explicit
    /// hash key in decimal.
    pub name: String,
    /// Whether it is a partition key (which salting can rewrite), not an
    /// explicit hash key.
    pub partition_key: bool,
    /// Its records per second.
    pub records_per_s: f64,
    /// Its bytes per second.
    pub bytes_per_s: f64,
    /// Sub-keys a salted key needs to fit under 80 % of a shard's limits.
    pub salt_into: u32,
}

/// The planner's answer.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every candidate run, by shard count.
    pub candidates: Vec<Candidate>,
    /// The smallest shard count meeting every objective, if any.
    pub recommended: Option<u32>,
    /// What limits the smaller candidates.
    pub binding: String,
    /// The objectives used (the scenario's, or the default).
    pub slo: Slo,
    /// Whether the default objectives were used.
    pub default_slo: bool,
    /// The sizing formulas' answers.
    pub formulas: Formulas,
    /// What the recommendation should not be taken without: too little
    /// headroom on its binding limit, a run too short to judge an
    /// objective.
    pub warnings: Vec<String>,
    /// Keys no shard count helps.
    pub hot_keys: Vec<HotKey>,
    /// Replications per candidate.
    pub replications: u32,
    /// The salted what-if: the same search with every named hot key split
    /// into its sub-keys; its recommendation and that candidate's results.
    pub salted: Option<(Option<u32>, Option<Candidate>)>,
    /// The salting ladder: the salted what-if at each of
    /// [`SALT_FACTORS`] times the sub-keys each hot key needs (empty when
    /// no hot key can be salted).
    pub salting: Vec<SaltRung>,
    /// The same traffic on an on-demand stream (its shard count is the
    /// service's), when asked for.
    pub on_demand: Option<Candidate>,
    /// The same on an on-demand stream under On-demand Advantage pricing.
    pub on_demand_advantage: Option<Candidate>,
    /// The Advantage discount those prices assume.
    pub advantage_discount: f64,
    /// The engine the scenario's runs use, and why (a candidate's shard
    /// count does not change it: `auto` looks at the traffic).
    pub engine: EngineChoice,
}

fn objectives(scenario: &Scenario) -> (Slo, bool) {
    let s = scenario.slo;
    let any = s.max_throttle_rate.is_some()
        || s.max_failed_records.is_some()
        || s.max_p99_latency.is_some()
        || s.max_peak_shard_utilisation.is_some()
        || s.max_lost_records.is_some()
        || s.max_iterator_age.is_some()
        || s.max_monthly_cost.is_some()
        || s.max_reshard_operations_per_24h.is_some();
    if any {
        (s, false)
    } else {
        // Without objectives: no failed records and at most 0.1 % throttled.
        (
            Slo {
                max_throttle_rate: Some(0.001),
                max_failed_records: Some(0),
                ..Slo::default()
            },
            true,
        )
    }
}

/// Two sizing formulas from mean rates, to compare with the search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Formulas {
    /// Records written per second, over the run (user records, also for
    /// a group that aggregates them).
    pub records_per_s: f64,
    /// Their bytes per second: data, partition key and KPL framing.
    pub bytes_per_s: f64,
    /// Polling applications, which share a shard's 2 MiB/s of reads.
    pub polling: u32,
    /// The AWS guide's formula: the average record size rounded up to
    /// whole KiB, times records/s, is the write KiB/s; read KiB/s is that
    /// times the consumers; `ceil(max(write KiB/s / 1024, read KiB/s /
    /// 2048))` (KDS-REFERENCE.md \[MODES\], how-do-i-size-a-stream: "rounded
    /// up to the nearest 1 KB"). Rounding each record up to 1 KiB counts
    /// small records as if 1 KiB each, so it heeds records/s only that way.
    pub guide: u32,
    /// Bytes only: `ceil(max(write bytes/s / 1 MiB, read bytes/s / 2 MiB))`,
    /// which ignores the 1,000 records/s limit altogether.
    pub bytes_only: u32,
}

/// The sizing formulas for `scenario`'s mean rates. A trace's rate is
/// known only by replaying it: `offered[g]` is what group `g` offered
/// (records, bytes) in a run of the whole duration (used for trace groups;
/// others use their model). Read traffic counts the polling applications
/// only: enhanced fan-out has its own 2 MiB/s per consumer.
pub fn formulas(scenario: &Scenario, offered: &[(u64, u64)]) -> Formulas {
    let secs = (scenario.duration as f64 / crate::units::NANOS_PER_SEC as f64).max(1e-9);
    let (mut records_per_s, mut bytes_per_s) = (0.0, 0.0);
    for (i, g) in scenario.producers.iter().enumerate() {
        match &g.trace {
            Some(_) => {
                let (r, b) = offered.get(i).copied().unwrap_or((0, 0));
                records_per_s += r as f64 / secs;
                bytes_per_s += b as f64 / secs;
            }
            // Records that reach the stream: records refused as too large
            // send none.
            None => {
                let framing = if g.aggregation.is_some() {
                    crate::kds::AGGREGATE_PER_RECORD_BYTES as f64
                } else {
                    0.0
                };
                let rate = g.rate.mean_over(scenario.duration) * g.size.sent_fraction();
                records_per_s += rate;
                bytes_per_s += rate * (g.size.mean() + g.keys.mean_key_bytes() + framing);
            }
        }
    }
    let polling = scenario
        .consumers
        .iter()
        .filter(|c| c.kind == crate::scenario::ConsumerKind::Polling)
        .count() as u32;
    let kib = 1024.0;
    let mib = kib * kib;
    let shards = |write: f64, per_shard: f64| {
        let read = write * f64::from(polling);
        (write / per_shard)
            .max(read / (2.0 * per_shard))
            .ceil()
            .max(1.0) as u32
    };
    let avg_kib = if records_per_s > 0.0 {
        (bytes_per_s / records_per_s / kib).ceil()
    } else {
        0.0
    };
    Formulas {
        records_per_s,
        bytes_per_s,
        polling,
        guide: shards(avg_kib * records_per_s, kib),
        bytes_only: shards(bytes_per_s, mib),
    }
}

/// Under this share of its binding limit a recommendation has the
/// headroom to be trusted (5 %).
const MAX_LOAD: f64 = 0.95;

/// What the recommendation (`rec`, if any) should not be taken without.
fn warnings(
    scenario: &Scenario,
    slo: &Slo,
    default_slo: bool,
    rec: Option<&Candidate>,
) -> Vec<String> {
    let mut w = Vec::new();
    let secs = scenario.duration as f64 / crate::units::NANOS_PER_SEC as f64;
    let span = |s: f64| crate::units::Duration((s * 1e9) as u64).to_string();
    if let Some(c) = rec {
        let (limit, u) = c.load.binding();
        if u > MAX_LOAD {
            let keep = (f64::from(c.shards) * u / MAX_LOAD).ceil() as u32;
            w.push(format!(
                "{} shards run at {:.1} % of their {limit} in the busiest minute (or on the busiest shard): under 5 % headroom, so whether they throttle depends on the run's length and its random traffic (a longer run can fail where this one passed); {keep} shards keep 5 %.",
                c.shards,
                u * 100.0
            ));
        } else {
            // A token bucket at load u with n arrivals a second settles in
            // about 1 / ((1 - u)^2 n) s (the random walk of its level
            // against its drift); a run under ten of those has not shown
            // its steady throttling yet.
            // The arrivals are records whichever limit binds.
            let n = c.load.records_per_shard_s;
            let need = 10.0 / ((1.0 - u).powi(2) * n.max(1e-9));
            if n > 0.0 && secs < need {
                w.push(format!(
                    "the run ({}) is too short to judge throttling at {:.1} % of the {limit}: it settles over about {}; run at least {}.",
                    span(secs),
                    u * 100.0,
                    span(need / 10.0),
                    span(need)
                ));
            }
        }
    }
    if !default_slo {
        let retention = scenario.stream.retention as f64 / crate::units::NANOS_PER_SEC as f64;
        if slo.max_lost_records.is_some() && !scenario.consumers.is_empty() && secs <= retention {
            w.push(format!(
                "the run ({}) is not longer than the retention period ({}): no record can expire in it, so max_lost_records is not tested.",
                span(secs),
                span(retention)
            ));
        }
        if slo.max_reshard_operations_per_24h.is_some() && secs < 24.0 * 3600.0 {
            w.push(format!(
                "the run ({}) is shorter than 24 hours: max_reshard_operations_per_24h is judged on the run only.",
                span(secs)
            ));
        }
    }
    w
}

/// The warning when the on-demand run `c` of `od` is shorter than a new
/// on-demand stream takes to scale to the offered peak: its throttling
/// and cost are those of a stream still scaling.
fn still_scaling(od: &Scenario, c: &Candidate) -> Option<String> {
    let (head, need) = short_of_scaling(od, c.peak_offered)?;
    let span = |ns: u64| crate::units::Duration(ns).to_string();
    Some(format!(
        "{head} of about 16 minutes from 4 MiB/s, 4,000 records/s and {} shards). Its throttle rate ({}) and its cost ({} a month) are those of a stream still scaling, and the cost prices only the records it accepted; once scaled, carrying all the offered traffic costs about {} a month. A run well over {} shows the steady state.",
        od.stream.shards,
        percent(c.throttle_rate.mean),
        dollars(c.monthly_cost.mean),
        dollars(c.monthly_cost_all_offered.mean),
        span(need),
    ))
}

/// Runs the candidates' replications in parallel, in a stable order.
fn evaluate(
    scenario: &Scenario,
    shards: &[u32],
    replications: u32,
    progress: &dyn Progress,
) -> Result<Vec<Vec<Run>>, SimError> {
    let jobs: Vec<(u32, u32)> = shards
        .iter()
        .flat_map(|&s| (0..replications).map(move |r| (s, r)))
        .collect();
    progress.queued(scenario.duration.saturating_mul(jobs.len() as u64));
    let runs: Vec<Result<Run, SimError>> = jobs
        .par_iter()
        .map(|&(s, r)| {
            let mut sc = scenario.clone();
            sc.stream.shards = s;
            sc.seed = derive_seed(scenario.seed, Purpose::Replication, u64::from(r));
            let out = simulate_observed(&sc, RunOptions::default(), progress)?;
            let t = &out.metrics.shard_totals;
            let m = analyze(&sc, &out).measured;
            Ok(Run {
                offered: Offer::of(&out, sc.duration, &m),
                m,
                engine: out.engine,
                by_records: t.iter().map(|x| x.counts.throttled_by_records).sum(),
                by_bytes: t.iter().map(|x| x.counts.throttled_by_bytes).sum(),
                read_throttled: out.consumers.iter().map(|c| c.total.throttled).sum(),
                load: Load::of(&out, sc.duration),
            })
        })
        .collect();
    let mut runs = runs.into_iter();
    let mut out = Vec::with_capacity(shards.len());
    for _ in shards {
        out.push(
            runs.by_ref()
                .take(replications as usize)
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    Ok(out)
}

fn candidate(shards: u32, runs: &[Run], slo: &Slo) -> Candidate {
    let est = |f: &dyn Fn(&Run) -> f64| estimate(&runs.iter().map(f).collect::<Vec<_>>());
    let by_records: u64 = runs.iter().map(|r| r.by_records).sum();
    let by_bytes: u64 = runs.iter().map(|r| r.by_bytes).sum();
    let c = Candidate {
        shards,
        // Replications differ in their seed only, which does not change
        // the engine.
        engine: runs.first().map_or(EngineKind::Auto, |r| r.engine),
        throttle_rate: est(&|r| r.m.throttle_rate),
        failed: est(&|r| r.m.failed as f64),
        p99_ms: est(&|r| r.m.p99_ms),
        peak_utilisation: est(&|r| r.m.peak_utilisation),
        lost: est(&|r| r.m.lost as f64),
        iterator_age_ms: est(&|r| r.m.iterator_age_ms),
        monthly_cost: est(&|r| r.m.monthly_cost),
        monthly_by_dimension: std::array::from_fn(|d| {
            runs.iter()
                .map(|r| r.m.monthly_by_dimension[d])
                .sum::<f64>()
                / runs.len().max(1) as f64
        }),
        records_bound_share: if by_records + by_bytes == 0 {
            0.0
        } else {
            by_records as f64 / (by_records + by_bytes) as f64
        },
        read_throttled: runs.iter().map(|r| r.read_throttled as f64).sum::<f64>()
            / runs.len().max(1) as f64,
        load: runs.iter().fold(Load::default(), |a, r| Load {
            records: a.records.max(r.load.records),
            bytes: a.bytes.max(r.load.bytes),
            records_per_shard_s: a.records_per_shard_s.max(r.load.records_per_shard_s),
        }),
        monthly_cost_all_offered: est(&|r| r.offered.monthly_all),
        peak_offered: runs.iter().fold((0.0, 0.0), |a, r| {
            (
                a.0.max(r.offered.peak_records_s),
                a.1.max(r.offered.peak_bytes_s),
            )
        }),
        meets: false,
    };
    let holds = |limit: Option<f64>, value: f64| limit.is_none_or(|l| value <= l);
    let meets = holds(slo.max_throttle_rate, c.throttle_rate.mean)
        && holds(slo.max_failed_records.map(|x| x as f64), c.failed.mean)
        && holds(slo.max_p99_latency.map(|x| x as f64 / 1e6), c.p99_ms.mean)
        && holds(slo.max_peak_shard_utilisation, c.peak_utilisation.mean)
        && holds(slo.max_lost_records.map(|x| x as f64), c.lost.mean)
        && holds(
            slo.max_iterator_age.map(|x| x as f64 / 1e6),
            c.iterator_age_ms.mean,
        )
        && holds(slo.max_monthly_cost, c.monthly_cost.mean)
        && holds(
            slo.max_reshard_operations_per_24h.map(|x| x as f64),
            runs.iter()
                .map(|r| r.m.reshards_per_24h as f64)
                .fold(0.0, f64::max),
        );
    Candidate { meets, ..c }
}

/// Searches the shard count: doubling from `min_shards` until a candidate
/// meets the objectives (or `max_shards`), then bisecting down to the
/// smallest that does, assuming more shards never hurt. The candidate below
/// and the one above the answer are run too, as runner-ups.
pub fn plan(scenario: &Scenario, options: PlanOptions) -> Result<Plan, SimError> {
    plan_observed(scenario, options, &())
}

/// [`plan`], telling `progress` of each run it queues and how far the runs
/// have got. The plan is the one [`plan`] gives.
pub fn plan_observed(
    scenario: &Scenario,
    options: PlanOptions,
    progress: &dyn Progress,
) -> Result<Plan, SimError> {
    let mut p = search(scenario, options, None, progress)?;
    if options.on_demand {
        let mut od = scenario.clone();
        od.stream.on_demand = Some(15 * 60 * crate::units::NANOS_PER_SEC);
        od.stream.shards = 4;
        od.reshards.clear();
        od.autoscaling = None;
        let (slo, _) = objectives(scenario);
        od.slo = slo;
        let runs = evaluate(&od, &[4], options.replications, progress)?;
        let c = candidate(4, &runs[0], &slo);
        p.warnings.extend(still_scaling(&od, &c));
        p.on_demand = Some(c);
        od.stream.advantage_mode = true;
        let runs = evaluate(&od, &[4], options.replications, progress)?;
        p.on_demand_advantage = Some(candidate(4, &runs[0], &slo));
    }
    // The what-if: salt every named hot key and search again, with the
    // sub-keys it needs, then twice and four times as many. More sub-keys
    // spread a key more thinly but land on shards at random (their hashes),
    // so a rung can need more shards than the one before: each is searched
    // over the whole range, starting from the rung before's answer.
    let mut hint = None;
    for factor in SALT_FACTORS {
        let Some((salted, sub_keys)) = salt(scenario, &p.hot_keys, factor) else {
            break;
        };
        // The rung before's answer is a good first guess.
        let s = search(&salted, options, hint, progress)?;
        hint = s.recommended;
        let best = s
            .recommended
            .and_then(|r| s.candidates.iter().find(|c| c.shards == r).cloned());
        if factor == 1 {
            p.salted = Some((s.recommended, best.clone()));
        }
        p.salting.push(SaltRung {
            factor,
            sub_keys,
            largest_tried: s.candidates.last().map_or(0, |c| c.shards),
            recommended: s.recommended,
            candidate: best,
        });
    }
    Ok(p)
}

/// The salting ladder's rungs: each named hot key salted into this many
/// times the sub-keys it needs.
pub const SALT_FACTORS: [u32; 3] = [1, 2, 4];

/// One rung of the salting ladder: every named hot key (a partition key)
/// salted into `factor` times the sub-keys it needs, and the smallest
/// shard count that then meets the objectives.
#[derive(Debug, Clone, PartialEq)]
pub struct SaltRung {
    /// Times the sub-keys a key needs ([`HotKey::salt_into`]).
    pub factor: u32,
    /// Sub-keys per hot key, in the order of [`Plan::hot_keys`] (0: the
    /// key is not salted, e.g. an explicit hash key).
    pub sub_keys: Vec<u32>,
    /// The largest shard count its search ran.
    pub largest_tried: u32,
    /// The smallest shard count meeting the objectives, if any in the
    /// range searched.
    pub recommended: Option<u32>,
    /// That candidate's results.
    pub candidate: Option<Candidate>,
}

/// `scenario` with every named hot key that salting can rewrite salted
/// into `factor` times its [`HotKey::salt_into`] sub-keys, and the
/// sub-keys per hot key (0 where not salted); `None` if none can be.
fn salt(scenario: &Scenario, hot_keys: &[HotKey], factor: u32) -> Option<(Scenario, Vec<u32>)> {
    let mut salted = scenario.clone();
    let mut sub_keys = Vec::with_capacity(hot_keys.len());
    for h in hot_keys {
        let key = h.name.as_str();
        let into = h.salt_into.saturating_mul(factor).clamp(1, 10_000);
        let Some(g) = salted.producers.iter_mut().find(|g| g.name == h.group) else {
            sub_keys.push(0);
            continue;
        };
        if let Some(trace) = g.trace.as_mut() {
            // A replayed key is salted by the replay (not hash keys: salting
            // rewrites a partition key), within the replay's salt ranges; a
            // sub-key of a salt the scenario has (`hot#0`) is not a key of
            // the trace, so salting it would change nothing.
            let fits = key.chars().count() + 1 + (into - 1).to_string().len() <= 256;
            let sub_key = trace.salt.iter().any(|(k, _)| {
                key.strip_prefix(k.as_str())
                    .and_then(|rest| rest.strip_prefix('#'))
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            });
            if h.partition_key && fits && !sub_key && !trace.salt.iter().any(|(k, _)| k == key) {
                trace.salt.push((key.to_owned(), into));
                sub_keys.push(into);
            } else {
                sub_keys.push(0);
            }
        } else if let Some(keys) = g.keys.salted(key, into) {
            g.keys = keys;
            sub_keys.push(into);
        } else {
            sub_keys.push(0);
        }
    }
    sub_keys
        .iter()
        .any(|&n| n > 0)
        .then_some((salted, sub_keys))
}

/// The salting ladder's columns in `plan --json` ([`salting_rows`]).
pub const SALTING_COLUMNS: [&str; 6] = [
    "factor",
    "sub_keys",
    "recommended_shards",
    "monthly_cost_usd_mean",
    "throttle_rate_mean",
    "meets_slo",
];

/// The salting ladder as text cells, one row per rung: `sub_keys` is
/// `group:key=N` per salted key, separated by spaces; the cost and
/// throttle rate are the recommended candidate's (empty without one).
pub fn salting_rows(plan: &Plan) -> Vec<Vec<String>> {
    plan.salting
        .iter()
        .map(|r| {
            let keys: Vec<String> = plan
                .hot_keys
                .iter()
                .zip(&r.sub_keys)
                .filter(|(_, n)| **n > 0)
                .map(|(h, n)| format!("{}={n}", h.key))
                .collect();
            let c = r.candidate.as_ref();
            vec![
                r.factor.to_string(),
                keys.join(" "),
                r.recommended.map_or(String::new(), |n| n.to_string()),
                c.map_or(String::new(), |c| format!("{:.2}", c.monthly_cost.mean)),
                c.map_or(String::new(), |c| format!("{:.6}", c.throttle_rate.mean)),
                c.is_some().to_string(),
            ]
        })
        .collect()
}

fn search(
    scenario: &Scenario,
    options: PlanOptions,
    hint: Option<u32>,
    progress: &dyn Progress,
) -> Result<Plan, SimError> {
    let (slo, default_slo) = objectives(scenario);
    let mut sc = scenario.clone();
    sc.slo = slo;
    let r = options.replications;
    let mut seen: BTreeMap<u32, Candidate> = BTreeMap::new();
    let run = |shards: &[u32], seen: &mut BTreeMap<u32, Candidate>| -> Result<(), SimError> {
        let todo: Vec<u32> = shards
            .iter()
            .copied()
            .filter(|s| !seen.contains_key(s))
            .collect();
        for (s, runs) in todo.iter().zip(evaluate(&sc, &todo, r, progress)?) {
            seen.insert(*s, candidate(*s, &runs, &slo));
        }
        Ok(())
    };
    // Doubling; `lo` is the largest count known (or taken) to fail.
    let (mut lo, mut hi) = (options.min_shards.max(1) - 1, None);
    let mut s = options.min_shards.max(1);
    // A hint (an answer close by) is tried first: if it meets them, the
    // bisection below it starts at once; if not, the doubling goes on
    // from it.
    let mut doubling = true;
    if let Some(h) = hint.filter(|h| (s..=options.max_shards).contains(h)) {
        run(&[h], &mut seen)?;
        if seen[&h].meets {
            hi = Some(h);
            doubling = false;
        } else {
            lo = h;
            s = h.saturating_mul(2).min(options.max_shards);
            doubling = h < options.max_shards;
        }
    }
    while doubling {
        run(&[s], &mut seen)?;
        if seen[&s].meets {
            hi = Some(s);
            break;
        }
        lo = s;
        doubling = s < options.max_shards;
        s = s.saturating_mul(2).min(options.max_shards);
    }
    // Bisection between the last failing and the first passing count.
    if let Some(mut h) = hi {
        while h - lo > 1 {
            let mid = lo + (h - lo) / 2;
            run(&[mid], &mut seen)?;
            if seen[&mid].meets {
                h = mid;
            } else {
                lo = mid;
            }
        }
        hi = Some(h);
        let mut around = Vec::new();
        if h < options.max_shards {
            around.push(h + 1);
        }
        if h > options.min_shards.max(1) {
            around.push(h - 1);
        }
        run(&around, &mut seen)?;
    }
    // Hot keys: from one run at the largest candidate tried.
    let top = *seen.keys().last().expect("at least one candidate");
    let (hot_keys, offered) = hot_keys(&sc, top, progress)?;
    let failing = seen.values().rev().find(|c| !c.meets);
    let binding = binding(failing, &hot_keys, hi.is_some());
    let warnings = warnings(scenario, &slo, default_slo, hi.and_then(|h| seen.get(&h)));
    Ok(Plan {
        candidates: seen.into_values().collect(),
        recommended: hi,
        binding,
        slo,
        default_slo,
        formulas: formulas(scenario, &offered),
        warnings,
        hot_keys,
        replications: r,
        salted: None,
        salting: Vec::new(),
        on_demand: None,
        on_demand_advantage: None,
        advantage_discount: scenario.stream.prices.advantage_discount,
        engine: engine_choice(scenario),
    })
}

/// The keys over one shard's limit in a run at `shards` shards, and the
/// records and bytes each group offered in it.
/// Records and bytes offered, per producer group.
type Offered = Vec<(u64, u64)>;

fn hot_keys(
    scenario: &Scenario,
    shards: u32,
    progress: &dyn Progress,
) -> Result<(Vec<HotKey>, Offered), SimError> {
    let mut sc = scenario.clone();
    sc.stream.shards = shards;
    progress.queued(sc.duration);
    let out = simulate_observed(&sc, RunOptions::default(), progress)?;
    let offered = out
        .keys
        .iter()
        .map(|k| (k.offered_records, k.offered_bytes))
        .collect();
    let records_limit = Quota::WriteRecordsPerShardPerSec.value() as f64;
    let bytes_limit = Quota::WriteBytesPerShardPerSec.value() as f64;
    let hot = analyze(&sc, &out)
        .keys
        .into_iter()
        .filter(|k| k.exceeds_shard_limit)
        .map(|k| {
            let (rate, bytes) = (k.records_per_s, k.bytes_per_s);
            let salt_into = (rate / (0.8 * records_limit))
                .max(bytes / (0.8 * bytes_limit))
                .ceil() as u32;
            HotKey {
                key: format!("{}:{}", k.group, k.key),
                partition_key: k.is_partition_key(),
                group: k.group,
                name: k.key,
                records_per_s: rate,
                bytes_per_s: bytes,
                salt_into,
            }
        })
        .collect();
    Ok((hot, offered))
}

fn binding(failing: Option<&Candidate>, hot: &[HotKey], met: bool) -> String {
    if !hot.is_empty() && !met {
        return "a hot key: one key's traffic exceeds one shard's limit, and a key always maps to one shard".into();
    }
    match failing {
        None => "none: the smallest candidate already meets the objectives".into(),
        Some(c) if c.throttle_rate.mean == 0.0 && c.read_throttled > 0.0 => {
            "read sharing: polling consumers exceed 5 calls/s or 2 MiB/s per shard".into()
        }
        Some(c) if c.throttle_rate.mean == 0.0 => {
            "consumer processing or retention: writes pass, readers fall behind".into()
        }
        Some(c) if c.records_bound_share >= 0.5 => "write records/s (1,000 per shard)".into(),
        Some(_) => "write bytes/s (1 MiB per shard)".into(),
    }
}

/// The engine the runs used, in one sentence; for the shard engine, what
/// it is and where its accuracy is stated.
fn engine_sentence(engine: &EngineChoice) -> String {
    let mut t = format!("Engine: {engine}.");
    if engine.kind == EngineKind::Shard {
        let _ = write!(
            t,
            " The shard engine advances per-shard flows in steps of {}; it agrees with the record engine within the tolerances in docs/engines.md.",
            engine.step_text()
        );
    }
    t
}

fn e(x: &Estimate, digits: usize) -> (String, String) {
    (
        format!("{:.*}", digits, x.mean),
        format!("{:.*}", digits, x.ci95),
    )
}

/// The plan as CSV: one row per candidate, then the on-demand options.
/// Cost columns per dimension are those some row pays for.
pub fn render_csv(plan: &Plan) -> Result<Vec<u8>, csv::Error> {
    let (header, rows) = table(plan);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    for record in rows {
        w.write_record(&record)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// plan.csv's header and rows, as text.
pub fn table(plan: &Plan) -> (Vec<String>, Vec<Vec<String>>) {
    let rows: Vec<(String, &Candidate)> = plan
        .candidates
        .iter()
        .map(|c| (c.shards.to_string(), c))
        .chain(plan.on_demand.iter().map(|c| ("on-demand".to_owned(), c)))
        .chain(
            plan.on_demand_advantage
                .iter()
                .map(|c| ("on-demand-advantage".to_owned(), c)),
        )
        .collect();
    let dims: Vec<Dimension> = Dimension::ALL
        .into_iter()
        .filter(|&d| {
            rows.iter()
                .any(|(_, c)| c.monthly_by_dimension[d as usize] > 0.0)
        })
        .collect();
    let mut header: Vec<String> = [
        "shards",
        "replications",
        "engine",
        "meets_slo",
        "throttle_rate_mean",
        "throttle_rate_ci95",
        "records_failed_mean",
        "records_failed_ci95",
        "latency_p99_ms_mean",
        "latency_p99_ms_ci95",
        "peak_shard_utilisation_mean",
        "peak_shard_utilisation_ci95",
        "records_lost_mean",
        "iterator_age_ms_mean",
        "monthly_cost_usd_mean",
        "monthly_cost_usd_ci95",
        "records_bound_share",
    ]
    .map(str::to_owned)
    .into();
    header.extend(dims.iter().map(|d| format!("monthly_{}_usd", d.column())));
    // On-demand rows price all the traffic offered too (the steady state);
    // a shard count's row leaves it empty (those shards carry what they
    // carry).
    let offered = plan.on_demand.is_some() || plan.on_demand_advantage.is_some();
    if offered {
        header.push("monthly_cost_all_offered_usd_mean".to_owned());
    }
    let mut records = Vec::with_capacity(rows.len());
    for (shards, c) in rows {
        let on_demand_row = shards.starts_with("on-demand");
        let (tr, tr_ci) = e(&c.throttle_rate, 6);
        let (f, f_ci) = e(&c.failed, 1);
        let (p, p_ci) = e(&c.p99_ms, 3);
        let (u, u_ci) = e(&c.peak_utilisation, 4);
        let (cost, cost_ci) = e(&c.monthly_cost, 2);
        let mut record = vec![
            shards,
            plan.replications.to_string(),
            c.engine.name().to_owned(),
            c.meets.to_string(),
            tr,
            tr_ci,
            f,
            f_ci,
            p,
            p_ci,
            u,
            u_ci,
            format!("{:.1}", c.lost.mean),
            format!("{:.1}", c.iterator_age_ms.mean),
            cost,
            cost_ci,
            format!("{:.4}", c.records_bound_share),
        ];
        record.extend(
            dims.iter()
                .map(|&d| format!("{:.2}", c.monthly_by_dimension[d as usize])),
        );
        if offered {
            record.push(if on_demand_row {
                format!("{:.2}", c.monthly_cost_all_offered.mean)
            } else {
                String::new()
            });
        }
        records.push(record);
    }
    (header, records)
}

/// The recommendation in plain words (Markdown).
pub fn render_markdown(plan: &Plan, name: &str) -> String {
    let mut t = format!("# Capacity plan: {name}\n\n");
    let by = |s: u32| plan.candidates.iter().find(|c| c.shards == s);
    match plan.recommended.and_then(by) {
        Some(c) => {
            let _ = writeln!(
                t,
                "**Recommendation: {} shards**, about {} a month (+- {}), throttle rate {} (+- {}), over {} replications.\n",
                c.shards,
                dollars(c.monthly_cost.mean),
                dollars(c.monthly_cost.ci95),
                percent(c.throttle_rate.mean),
                percent(c.throttle_rate.ci95),
                plan.replications
            );
            if let Some(below) = by(c.shards.saturating_sub(1)).filter(|b| !b.meets) {
                let _ = writeln!(
                    t,
                    "With {} shards ({} a month) the objectives fail: throttle rate {}, {} records failed. What binds: {}.\n",
                    below.shards,
                    dollars(below.monthly_cost.mean),
                    percent(below.throttle_rate.mean),
                    thousands(below.failed.mean.round() as u64),
                    plan.binding
                );
            }
            if let Some(above) = by(c.shards + 1) {
                let _ = writeln!(
                    t,
                    "With {} shards: {} a month, throttle rate {}.\n",
                    above.shards,
                    dollars(above.monthly_cost.mean),
                    percent(above.throttle_rate.mean)
                );
            }
        }
        None => {
            let _ = writeln!(
                t,
                "**No shard count up to {} meets the objectives.** What binds: {}.\n",
                plan.candidates.last().map_or(0, |c| c.shards),
                plan.binding
            );
        }
    }
    for h in &plan.hot_keys {
        let _ = writeln!(
            t,
            "- Key `{}` alone carries {} records/s and {} bytes/s, over one shard's limit (1,000 records/s, 1 MiB/s). No shard count fixes it: salt it into at least {} sub-keys (e.g. append `#0`..`#{}` and spread writes over them).",
            h.key,
            thousands(h.records_per_s.round() as u64),
            thousands(h.bytes_per_s.round() as u64),
            h.salt_into,
            h.salt_into.saturating_sub(1)
        );
    }
    if !plan.hot_keys.is_empty() {
        t.push('\n');
    }
    match &plan.salted {
        Some((Some(n), Some(c))) => {
            let _ = writeln!(
                t,
                "What-if, the hot keys salted as above: **{n} shards** meet the objectives, about {} a month, throttle rate {}.\n",
                dollars(c.monthly_cost.mean),
                percent(c.throttle_rate.mean)
            );
        }
        Some(_) => {
            t.push_str("What-if, the hot keys salted as above: still no shard count in range meets the objectives.\n\n");
        }
        None if !plan.hot_keys.is_empty() => {
            let _ = writeln!(
                t,
                "(No salted what-if: salting rewrites partition keys, so it is not run for explicit hash keys, nor for key tables over {} keys.)\n",
                crate::workload::MAX_SALTED_TABLE
            );
        }
        None => {}
    }
    if !plan.salting.is_empty() {
        t.push_str("Salting ladder: each hot key salted into 1, 2 and 4 times the sub-keys it needs (more sub-keys spread it more thinly, but each lands on a shard at random):

| sub-keys | shards | $ / month | throttle rate |
|---|---:|---:|---:|
");
        for (rung, cells) in plan.salting.iter().zip(salting_rows(plan)) {
            let keys = cells[1].replace(' ', ", ");
            let _ = match &rung.candidate {
                Some(c) => writeln!(
                    t,
                    "| {keys} ({}x) | {} | {} | {} |",
                    rung.factor,
                    c.shards,
                    number_text(&format!("{:.2}", c.monthly_cost.mean)),
                    percent(c.throttle_rate.mean)
                ),
                None => writeln!(
                    t,
                    "| {keys} ({}x) | none up to {} | | |",
                    rung.factor, rung.largest_tried
                ),
            };
        }
        t.push('\n');
    }
    if let Some(c) = &plan.on_demand {
        let _ = writeln!(
            t,
            "On-demand instead: about {} a month (+- {}), throttle rate {}: {} the objectives. That prices the records it accepted; carrying all the traffic offered (the steady state, once scaled): about {} a month.\n",
            dollars(c.monthly_cost.mean),
            dollars(c.monthly_cost.ci95),
            percent(c.throttle_rate.mean),
            if c.meets { "meets" } else { "misses" },
            dollars(c.monthly_cost_all_offered.mean)
        );
        if !plan.hot_keys.is_empty() {
            // On-demand splits shards evenly; it never isolates a key.
            t.push_str("(On-demand throttles a key over one shard's limit too, however far it scales: the hot keys above need salting on it as well.)\n\n");
        }
    }
    if let Some(c) = &plan.on_demand_advantage {
        let _ = writeln!(
            t,
            "On-demand Advantage (an account-level setting): about {} a month (+- {}), priced at {:.0} % off On-demand Standard's data and retention prices with no stream-hour charge (AWS says \"at least 60% lower\"; set `advantage_discount` in a price file); all the traffic offered: about {} a month.\n",
            dollars(c.monthly_cost.mean),
            dollars(c.monthly_cost.ci95),
            plan.advantage_discount * 100.0,
            dollars(c.monthly_cost_all_offered.mean),
        );
    }
    let f = &plan.formulas;
    let plural = |n: u32| if n == 1 { "" } else { "s" };
    let _ = writeln!(
        t,
        "Sizing formulas on the mean rates ({} records/s, {:.0} bytes each on average, {} polling application{}), which see no bursts, hot keys or retries:\n\n\
         - the AWS guide's (the average record size rounded up to whole KiB, times records/s: `ceil(max(write KiB/s / 1024, read KiB/s / 2048))`): **{} shard{}**;\n\
         - bytes only (`ceil(max(write bytes/s / 1 MiB, read bytes/s / 2 MiB))`, which ignores the 1,000 records/s limit): **{} shard{}**.\n",
        thousands(f.records_per_s.round() as u64),
        if f.records_per_s > 0.0 {
            f.bytes_per_s / f.records_per_s
        } else {
            0.0
        },
        f.polling,
        plural(f.polling),
        f.guide,
        plural(f.guide),
        f.bytes_only,
        plural(f.bytes_only),
    );
    for w in &plan.warnings {
        let _ = writeln!(t, "**Warning:** {w}\n");
    }
    let _ = writeln!(t, "{}\n", engine_sentence(&plan.engine));
    if plan.default_slo {
        t.push_str("The scenario has no `[slo]`: the plan used at most 0.1 % throttled attempts and no failed records.\n");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_uses_student_t() {
        let e = estimate(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        // sd 1, t(0.975, 2) = 4.3027: half-width 4.3027 / sqrt(3).
        assert!(
            (e.ci95 - 4.302_653 / 3f64.sqrt()).abs() < 1e-5,
            "{}",
            e.ci95
        );
        assert_eq!(estimate(&[5.0]).ci95, 0.0);
        assert_eq!(estimate(&[2.0, 2.0]).ci95, 0.0);
    }
}
