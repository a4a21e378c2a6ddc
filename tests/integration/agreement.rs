//! The agreement of the shard engine with the record engine, measured: each
//! validation scenario run on both engines with the same seeds, and the
//! differences held to the tolerances of issue 14 (docs/engines.md).
//!
//! Shared by `engines.rs` (the test) and `examples/engine_agreement.rs`
//! (which prints the table docs/engines.md shows).

use std::fmt::Write as _;
use std::path::Path;

use shardcast::analysis::analyze;
use shardcast::model::{RunOptions, simulate};
use shardcast::scenario::{EngineKind, ReshardAction, Scenario};

/// What one run measured, for comparison.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    /// Throttled attempts / attempts.
    pub throttle_rate: f64,
    /// Records failed after retries or expired in the producer.
    pub failed: f64,
    /// Records lost to retention (all applications).
    pub lost: f64,
    /// p99 put latency, ms.
    pub p99_ms: f64,
    /// Per shard (by index): throttled attempts and attempts.
    pub shard_throttled: Vec<f64>,
    pub shard_offered: Vec<f64>,
    /// The policy's and the service's requests, as `source action`.
    pub actions: Vec<String>,
    /// Cost of the run, USD.
    pub cost: f64,
}

/// Runs `scenario` on `engine` with `seed`.
pub fn measure(scenario: &Scenario, engine: EngineKind, seed: u64) -> Measures {
    let mut s = scenario.clone();
    s.seed = seed;
    s.engine.kind = engine;
    let out = simulate(&s, RunOptions::default())
        .unwrap_or_else(|e| panic!("{} on the {} engine: {e}", s.name, engine.name()));
    assert_eq!(out.engine, engine, "{}: the engine asked for ran", s.name);
    let a = analyze(&s, &out);
    let totals = &out.metrics.shard_totals;
    Measures {
        throttle_rate: a.measured.throttle_rate,
        failed: a.measured.failed as f64,
        lost: a.measured.lost as f64,
        p99_ms: a.measured.p99_ms,
        shard_throttled: totals
            .iter()
            .map(|t| t.counts.throttled_records as f64)
            .collect(),
        shard_offered: totals
            .iter()
            .map(|t| t.counts.offered_records as f64)
            .collect(),
        actions: out
            .reshards
            .iter()
            .filter(|r| r.source != "scenario")
            .map(|r| format!("{} {}", r.source, describe(&r.action)))
            .collect(),
        cost: a.summary.cost_usd,
    }
}

/// An action in a few words: `UpdateShardCount 3`, `split shardId-…0`.
fn describe(action: &ReshardAction) -> String {
    match action {
        ReshardAction::UpdateShardCount { target } => format!("UpdateShardCount {target}"),
        ReshardAction::Split { shard, .. } => format!("split {shard}"),
        ReshardAction::Merge { shard, adjacent } => format!("merge {shard} {adjacent}"),
        ReshardAction::UpdateStreamMode { on_demand } => {
            format!(
                "mode {}",
                if *on_demand {
                    "on-demand"
                } else {
                    "provisioned"
                }
            )
        }
    }
}

/// One compared quantity.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub what: String,
    pub record: f64,
    pub shard: f64,
    /// The largest difference allowed.
    pub tolerance: f64,
    pub ok: bool,
}

/// Mean and standard error of the mean.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn row(scenario: &str, what: &str, record: f64, shard: f64, tolerance: f64) -> Row {
    Row {
        scenario: scenario.to_owned(),
        what: what.to_owned(),
        record,
        shard,
        tolerance,
        ok: (record - shard).abs() <= tolerance,
    }
}

/// Compares the engines on the scenario file `path` over `reps` seeds
/// (the scenario's seed and the next ones): every tolerance of issue 14.
pub fn compare(path: &Path, reps: u64) -> Vec<Row> {
    let scenario = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let name = scenario.name.clone();
    let seeds: Vec<u64> = (0..reps).map(|i| scenario.seed + i).collect();
    let rec: Vec<Measures> = seeds
        .iter()
        .map(|&s| measure(&scenario, EngineKind::Record, s))
        .collect();
    let sh: Vec<Measures> = seeds
        .iter()
        .map(|&s| measure(&scenario, EngineKind::Shard, s))
        .collect();
    let pick = |ms: &[Measures], f: fn(&Measures) -> f64| ms.iter().map(f).collect::<Vec<_>>();
    let mut rows = Vec::new();

    // Throttle rate: 1 percentage point absolute or 10 % relative,
    // whichever is larger.
    let (r, _) = mean_se(&pick(&rec, |m| m.throttle_rate));
    let (s, _) = mean_se(&pick(&sh, |m| m.throttle_rate));
    rows.push(row(&name, "throttle rate", r, s, (0.01f64).max(0.1 * r)));

    // Failed and lost records: 10 %, or 5 standard errors of the
    // difference of the means.
    for (what, f) in [
        (
            "failed records",
            (|m: &Measures| m.failed) as fn(&Measures) -> f64,
        ),
        ("lost records", |m: &Measures| m.lost),
    ] {
        let (r, rse) = mean_se(&pick(&rec, f));
        let (s, sse) = mean_se(&pick(&sh, f));
        if r == 0.0 && s == 0.0 {
            continue;
        }
        let se = (rse * rse + sse * sse).sqrt();
        rows.push(row(&name, what, r, s, (0.1 * r).max(5.0 * se)));
    }

    // Put latency p99: 10 %.
    let (r, _) = mean_se(&pick(&rec, |m| m.p99_ms));
    let (s, _) = mean_se(&pick(&sh, |m| m.p99_ms));
    rows.push(row(&name, "put latency p99 (ms)", r, s, 0.1 * r));

    // Throttled attempts of each throttling shard (1 % of its attempts or
    // more on the record engine): 10 %.
    let shards = rec.iter().map(|m| m.shard_offered.len()).max().unwrap_or(0);
    for i in 0..shards {
        let get = |m: &Measures, v: fn(&Measures) -> &Vec<f64>| v(m).get(i).copied().unwrap_or(0.0);
        let r = rec
            .iter()
            .map(|m| get(m, |m| &m.shard_throttled))
            .sum::<f64>()
            / reps as f64;
        let offered = rec
            .iter()
            .map(|m| get(m, |m| &m.shard_offered))
            .sum::<f64>()
            / reps as f64;
        if offered == 0.0 || r < 0.01 * offered {
            continue;
        }
        let s = sh
            .iter()
            .map(|m| get(m, |m| &m.shard_throttled))
            .sum::<f64>()
            / reps as f64;
        rows.push(row(
            &name,
            &format!("throttled on shardId-{i:012}"),
            r,
            s,
            0.1 * r,
        ));
    }

    // The policy's and the service's actions: the same, seed by seed.
    for (i, (r, s)) in rec.iter().zip(&sh).enumerate() {
        if r.actions.is_empty() && s.actions.is_empty() {
            continue;
        }
        let same = r.actions == s.actions;
        rows.push(Row {
            scenario: name.clone(),
            what: format!(
                "actions, seed {} ({})",
                seeds[i],
                if same {
                    r.actions.join("; ")
                } else {
                    format!(
                        "record: {} | shard: {}",
                        r.actions.join("; "),
                        s.actions.join("; ")
                    )
                }
            ),
            record: r.actions.len() as f64,
            shard: s.actions.len() as f64,
            tolerance: 0.0,
            ok: same,
        });
    }

    // Cost: 1 %.
    let (r, _) = mean_se(&pick(&rec, |m| m.cost));
    let (s, _) = mean_se(&pick(&sh, |m| m.cost));
    rows.push(row(&name, "cost (USD)", r, s, 0.01 * r));
    rows
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | quantity | record engine | shard engine | difference | allowed | |\n|---|---|--:|--:|--:|--:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.what,
            num(r.record),
            num(r.shard),
            num(r.shard - r.record),
            num(r.tolerance),
            if r.ok { "ok" } else { "**out**" }
        );
    }
    out
}

fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 0.1 {
        format!("{x:.5}")
    } else if x.abs() < 100.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.0}")
    }
}
