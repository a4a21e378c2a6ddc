//! Scenarios side by side: the same questions (throttling, failures,
//! latency, consumer lag, resharding, cost, objectives) answered for each,
//! one row per scenario, e.g. one traffic under several autoscaling
//! policies or capacity modes.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::Outcome;
use crate::report::RunReport;
use crate::scenario::Scenario;

/// One scenario's answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// Master seed.
    pub seed: u64,
    /// The engine that ran it: `record` or `shard`.
    pub engine: &'static str,
    /// Throttled attempts / attempts.
    pub throttle_rate: String,
    /// Records failed after retries or expired in the producer.
    pub records_failed: u64,
    /// p99 put latency, ms.
    pub latency_p99_ms: String,
    /// Highest per-second accepted utilisation of any shard.
    pub peak_shard_utilisation: String,
    /// Records lost to retention (all applications).
    pub records_lost: u64,
    /// Largest MillisBehindLatest of any application, seconds.
    pub max_iterator_age_s: String,
    /// Resharding and mode-switch requests accepted (the service's own
    /// on-demand splits not counted).
    pub requests_accepted: usize,
    /// Requests the service refused.
    pub requests_rejected: usize,
    /// Open shards at the start and at the end.
    pub shards_start: u32,
    /// Open shards at the end.
    pub shards_end: u32,
    /// Cost extrapolated to a 730-hour month, USD.
    pub monthly_cost_usd: String,
    /// The `[slo]` verdict (empty without objectives).
    pub slo: String,
    /// How far the run is from its objectives, to name the closest when
    /// none meets them (not a column).
    #[serde(skip)]
    pub miss: Miss,
}

/// How far a run is from meeting its objectives: the number missed, then
/// by how much (each miss's excess over its limit as a share of the limit,
/// or the excess itself for a limit of 0, such as no failed records;
/// summed).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Miss {
    /// Objectives missed.
    pub missed: usize,
    /// Objectives set.
    pub of: usize,
    /// The summed relative excess.
    pub excess: f64,
}

impl Miss {
    fn of(checks: &[crate::analysis::SloCheck]) -> Miss {
        let missed: Vec<_> = checks.iter().filter(|c| !c.pass()).collect();
        Miss {
            missed: missed.len(),
            of: checks.len(),
            excess: missed
                .iter()
                .map(|c| {
                    let over = c.value - c.limit;
                    if c.limit > 0.0 { over / c.limit } else { over }
                })
                .sum(),
        }
    }
}

/// The row of one run.
pub(crate) fn row(file: &str, scenario: &Scenario, outcome: &Outcome, report: &RunReport) -> Row {
    let m = &report.measured;
    let requests = outcome.reshards.iter().filter(|r| r.source != "on-demand");
    Row {
        scenario: scenario.name.clone(),
        file: file.to_owned(),
        seed: scenario.seed,
        engine: report.analysis.summary.engine.name(),
        throttle_rate: format!("{:.6}", m.throttle_rate),
        records_failed: m.failed,
        latency_p99_ms: report.summary.latency_p99_ms.clone(),
        peak_shard_utilisation: format!("{:.4}", m.peak_utilisation),
        records_lost: m.lost,
        max_iterator_age_s: format!("{:.1}", m.iterator_age_ms / 1000.0),
        requests_accepted: requests.clone().filter(|r| r.rejected.is_none()).count(),
        requests_rejected: requests.filter(|r| r.rejected.is_some()).count(),
        shards_start: report.analysis.summary.shards,
        shards_end: report.analysis.summary.shards_at_end,
        monthly_cost_usd: format!("{:.2}", m.monthly_cost),
        slo: report.analysis.summary.slo.clone(),
        miss: Miss::of(&report.slo),
    }
}

/// compare.csv: one row per scenario, in the order given.
pub(crate) fn render_csv(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// compare.md: the same as a Markdown table in the order given, then the
/// cheapest scenario that meets its objectives.
pub(crate) fn render_markdown(rows: &[Row]) -> String {
    let mut t = String::from(
        "| scenario | engine | throttle rate | failed | p99 ms | max iterator age s | lost | requests (refused) | shards start -> end | $ / month | SLO |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {:.4} % | {} | {} | {} | {} | {} ({}) | {} -> {} | {} | {} |",
            r.scenario,
            r.engine,
            r.throttle_rate.parse::<f64>().unwrap_or(0.0) * 100.0,
            r.records_failed,
            r.latency_p99_ms,
            r.max_iterator_age_s,
            r.records_lost,
            r.requests_accepted,
            r.requests_rejected,
            r.shards_start,
            r.shards_end,
            r.monthly_cost_usd,
            if r.slo.is_empty() { "-" } else { &r.slo },
        );
    }
    if rows.iter().any(|r| r.engine == "shard") {
        t.push_str(
            "\nThe shard engine advances per-shard flows in time steps; it agrees with the record \
             engine within the tolerances in docs/engines.md.\n",
        );
    }
    let cost = |r: &Row| r.monthly_cost_usd.parse::<f64>().unwrap_or(f64::INFINITY);
    let best = rows
        .iter()
        .filter(|r| r.slo == "pass")
        .min_by(|a, b| cost(a).total_cmp(&cost(b)));
    // Ties go to the earlier row (min_by keeps the first).
    let closest = rows.iter().filter(|r| r.miss.missed > 0).min_by(|a, b| {
        a.miss
            .missed
            .cmp(&b.miss.missed)
            .then(a.miss.excess.total_cmp(&b.miss.excess))
            .then(cost(a).total_cmp(&cost(b)))
    });
    match (best, closest) {
        (Some(b), _) => {
            let _ = writeln!(
                t,
                "\nCheapest that meets its objectives: **{}**, ${} a month.",
                b.scenario, b.monthly_cost_usd
            );
        }
        // Said rather than left out: a reader looks for this line.
        (None, Some(c)) => {
            let _ = writeln!(
                t,
                "\nNone meets its objectives; closest is **{}** (misses {} of {}: {}), ${} a month.",
                c.scenario,
                c.miss.missed,
                c.miss.of,
                c.slo.trim_start_matches("fail: "),
                c.monthly_cost_usd
            );
        }
        (None, None) => {
            if !rows.is_empty() {
                t.push_str("\nNo scenario has objectives (`[slo]`): none is judged.\n");
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, cost: &str, slo: &str, miss: Miss) -> Row {
        Row {
            scenario: name.to_owned(),
            file: format!("{name}.toml"),
            seed: 1,
            engine: "record",
            throttle_rate: "0.000000".to_owned(),
            records_failed: 0,
            latency_p99_ms: "1".to_owned(),
            peak_shard_utilisation: "0.5000".to_owned(),
            records_lost: 0,
            max_iterator_age_s: "0.0".to_owned(),
            requests_accepted: 0,
            requests_rejected: 0,
            shards_start: 1,
            shards_end: 1,
            monthly_cost_usd: cost.to_owned(),
            slo: slo.to_owned(),
            miss,
        }
    }

    fn miss(missed: usize, of: usize, excess: f64) -> Miss {
        Miss { missed, of, excess }
    }

    #[test]
    fn r16_closest_is_fewest_misses_then_least_excess_then_cheapest() {
        let rows = [
            // Misses by very little, but two objectives.
            row(
                "two",
                "10.00",
                "fail: a 1.1 > 1; b 1.1 > 1",
                miss(2, 2, 0.2),
            ),
            row("big", "10.00", "fail: a 9 > 1", miss(1, 2, 8.0)),
            row("small", "50.00", "fail: a 2 > 1", miss(1, 2, 1.0)),
            row("small-cheap", "40.00", "fail: a 2 > 1", miss(1, 2, 1.0)),
            row("none", "1.00", "", Miss::default()),
        ];
        let md = render_markdown(&rows);
        assert!(
            md.ends_with(
                "\nNone meets its objectives; closest is **small-cheap** (misses 1 of 2: a 2 > 1), $40.00 a month.\n"
            ),
            "{md}"
        );
        assert!(!md.contains("Cheapest"), "{md}");
        // Without objectives anywhere: said so.
        let md = render_markdown(&rows[4..]);
        assert!(
            md.ends_with("\nNo scenario has objectives (`[slo]`): none is judged.\n"),
            "{md}"
        );
        // One passes: the cheapest that passes, and no closest.
        let mut rows = rows.to_vec();
        rows[1].slo = "pass".to_owned();
        rows[1].miss = miss(0, 2, 0.0);
        let md = render_markdown(&rows);
        assert!(
            md.ends_with("\nCheapest that meets its objectives: **big**, $10.00 a month.\n"),
            "{md}"
        );
    }
}
