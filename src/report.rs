//! Reports of a run: pure renderers to bytes (`app::output` writes them).
//!
//! What a run measured is computed once, as numbers, by
//! [`crate::analysis`]; the renderers here only format it: `csv` writes
//! each CSV file, [`render_text`] the terminal summary. Floats are written
//! with fixed precision so that files are byte-stable; nothing here reads
//! the clock.

use serde::Serialize;

pub use crate::analysis::{Measured, SloCheck, TOP_KEYS, fmt_value, shard_intervals, slo_checks};
use crate::analysis::{RunAnalysis, analyze};
use crate::model::Outcome;
use crate::scenario::Scenario;

mod csv;
mod text;

pub use text::render_text;

/// Report files a run writes only for some scenarios or flags (besides
/// report.html and the charts: `html::page_files`).
pub const OPTIONAL_FILES: &[&str] = &[
    "timeseries-seconds.csv",
    "consumers.csv",
    "consumers-timeseries.csv",
    "consumer-shards.csv",
    "reshards.csv",
];

/// A report that cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A CSV file could not be written (to memory). Fatal for the report;
    /// nothing has been written to disk.
    #[error("cannot render {file}")]
    Csv {
        /// The file.
        file: &'static str,
        /// Why.
        #[source]
        source: ::csv::Error,
    },
}

/// The one-row summary of a run, as summary.csv writes it (formatted; the
/// numbers are in [`crate::analysis::RunSummary`]).
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
    /// The engine that ran: `record` or `shard` (why is in
    /// [`crate::analysis::RunSummary::engine`]).
    pub engine: &'static str,
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

impl Summary {
    /// Each column of summary.csv and its cell, in the file's order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("scenario", self.scenario.clone()),
            ("seed", self.seed.to_string()),
            ("scenario_md5", self.scenario_md5.clone()),
            ("version", self.version.to_owned()),
            ("engine", self.engine.to_owned()),
            ("duration_s", self.duration_s.clone()),
            ("shards", self.shards.to_string()),
            ("shards_at_end", self.shards_at_end.to_string()),
            ("records_produced", self.records_produced.to_string()),
            ("attempts", self.attempts.to_string()),
            ("throttled_attempts", self.throttled_attempts.to_string()),
            ("throttle_rate", self.throttle_rate.clone()),
            ("records_accepted", self.records_accepted.to_string()),
            (
                "kinesis_records_accepted",
                self.kinesis_records_accepted.to_string(),
            ),
            ("aggregated_records", self.aggregated_records.to_string()),
            ("records_failed", self.records_failed.to_string()),
            ("records_expired", self.records_expired.to_string()),
            ("records_too_large", self.records_too_large.to_string()),
            ("records_dropped", self.records_dropped.to_string()),
            ("records_pending", self.records_pending.to_string()),
            ("retries", self.retries.to_string()),
            ("latency_p50_ms", self.latency_p50_ms.clone()),
            ("latency_p99_ms", self.latency_p99_ms.clone()),
            ("latency_max_ms", self.latency_max_ms.clone()),
            (
                "mean_shard_utilisation",
                self.mean_shard_utilisation.clone(),
            ),
            (
                "peak_shard_utilisation",
                self.peak_shard_utilisation.clone(),
            ),
            (
                "peak_offered_utilisation",
                self.peak_offered_utilisation.clone(),
            ),
            ("hottest_shard", self.hottest_shard.clone()),
            ("hottest_key", self.hottest_key.clone()),
            ("hottest_key_share", self.hottest_key_share.clone()),
            ("cost_usd", self.cost_usd.clone()),
            ("monthly_cost_usd", self.monthly_cost_usd.clone()),
            ("slo", self.slo.clone()),
        ]
    }
}

/// A run's report: the analysis, the summary row and every file's bytes.
#[derive(Debug)]
pub struct RunReport {
    /// The one-row summary, formatted as summary.csv has it.
    pub summary: Summary,
    /// `(file name, contents)`, in writing order.
    pub files: Vec<(String, Vec<u8>)>,
    /// What the objectives are judged on (as in `analysis`).
    pub measured: Measured,
    /// The scenario's objectives, measured (as in `analysis`).
    pub slo: Vec<SloCheck>,
    /// Everything measured, as numbers.
    pub analysis: RunAnalysis,
}

/// Analyses `outcome` and renders its report. `scenario_md5` identifies
/// the input file.
pub fn build(
    scenario: &Scenario,
    outcome: &Outcome,
    scenario_md5: &str,
) -> Result<RunReport, ReportError> {
    render(analyze(scenario, outcome), scenario_md5)
}

/// Renders the report of an analysis: the summary row and every CSV file.
pub fn render(analysis: RunAnalysis, scenario_md5: &str) -> Result<RunReport, ReportError> {
    let summary = csv::summary_row(&analysis.summary, scenario_md5);
    let files = csv::render_files(&analysis, &summary)?;
    Ok(RunReport {
        summary,
        files,
        measured: analysis.measured,
        slo: analysis.slo.clone(),
        analysis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::hot_run;

    fn file(r: &RunReport, name: &str) -> ::csv::StringRecord {
        let (_, bytes) = r.files.iter().find(|(n, _)| n == name).unwrap();
        let mut rd = ::csv::Reader::from_reader(bytes.as_slice());
        rd.records().next().unwrap().unwrap()
    }

    #[test]
    fn the_csv_shows_the_analysis_values() {
        let (s, out) = hot_run();
        let r = build(&s, &out, "abc").unwrap();
        let a = &r.analysis;
        // summary.csv: the same columns and cells as the typed row's fields.
        let (_, bytes) = r.files.iter().find(|(n, _)| n == "summary.csv").unwrap();
        let mut rd = ::csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
        let row: Vec<String> = rd
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let fields = r.summary.fields();
        assert_eq!(fields.iter().map(|f| f.0).collect::<Vec<_>>(), header);
        assert_eq!(fields.into_iter().map(|f| f.1).collect::<Vec<_>>(), row);
        assert_eq!(
            r.summary.throttle_rate,
            format!("{:.6}", a.summary.throttle_rate)
        );
        assert_eq!(r.summary.scenario_md5, "abc");
        let cost: f64 = r.summary.cost_usd.parse().unwrap();
        assert!((cost - a.cost.total).abs() < 1e-4);
        // keys.csv: the hot key's rate and verdict.
        let k = file(&r, "keys.csv");
        assert_eq!(&k[0], "app");
        assert_eq!(&k[6], format!("{:.4}", a.keys[0].records_per_s));
        assert_eq!(&k[8], "true");
        // cost.csv: the first line's run cost.
        let c = file(&r, "cost.csv");
        let line: f64 = c[6].parse().unwrap();
        assert!((line - a.cost.lines[0].line.cost).abs() < 1e-4 * line.max(1.0));
        assert_eq!(r.measured, a.measured);
        assert_eq!(r.slo, a.slo);
    }
}
