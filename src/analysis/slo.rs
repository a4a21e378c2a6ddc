//! The scenario's objectives, measured, and the verdict.

use crate::kds::prices::Dimension;
use crate::scenario::Scenario;

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
pub fn slo_verdict(checks: &[SloCheck]) -> String {
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
