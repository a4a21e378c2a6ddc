//! The short human summary a run prints.

use std::path::Path;

use super::RunReport;

/// A short human summary of a run, from its summary row (so that the
/// terminal shows the digits summary.csv has), with the engine that ran
/// and why.
pub fn render_text(report: &RunReport, out_dir: &Path) -> String {
    let s = &report.summary;
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
        "  engine     {}\n",
        report.analysis.summary.engine
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
