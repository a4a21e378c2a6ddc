//! What a run costs, per capacity mode and billing dimension.

use super::shard_intervals;
use crate::kds::prices::{BillingMode, CostLine};
use crate::model::Outcome;
use crate::scenario::{ReshardAction, Scenario};
use crate::units::NANOS_PER_SEC;

/// A cost line and the capacity mode it was billed in.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeCost {
    /// The capacity mode.
    pub mode: BillingMode,
    /// The dimension, quantity, price and cost.
    pub line: CostLine,
}

/// The cost of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCost {
    /// The scenario's price region.
    pub region: String,
    /// Each billed line, provisioned periods first.
    pub lines: Vec<ModeCost>,
    /// The sum of the lines, USD.
    pub total: f64,
    /// Run cost times this is the cost of a 730-hour month.
    pub month_factor: f64,
}

/// Hours of `[from, to)` that fall within `[a, b)`, summed over `intervals`.
fn overlap_hours(intervals: &[(u64, u64)], a: u64, b: u64) -> f64 {
    intervals
        .iter()
        .map(|&(from, to)| to.min(b).saturating_sub(from.max(a)))
        .sum::<u64>() as f64
        / 3600e9
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
pub fn run_cost(scenario: &Scenario, outcome: &Outcome) -> RunCost {
    use crate::kds::prices::{EXTENDED_AFTER_HOURS, LONG_TERM_AFTER_HOURS, Usage};
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
    let secs = scenario.duration as f64 / NANOS_PER_SEC as f64;
    RunCost {
        region: stream.prices.region.clone(),
        lines,
        total,
        month_factor: crate::kds::prices::MONTH_HOURS / (secs / 3600.0),
    }
}
