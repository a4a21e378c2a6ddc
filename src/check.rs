//! The CI gate: scenarios judged against their `[slo]` and a committed
//! baseline, rendered as a table, as Markdown and as JUnit XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::report::{RunReport, fmt_value};
use crate::scenario::EngineKind;

/// The metrics a baseline pins, read from a run's report.
pub const BASELINE_METRICS: &[&str] = &[
    "throttle_rate",
    "records_failed",
    "records_lost",
    "latency_p99_ms",
    "peak_shard_utilisation",
    "mean_shard_utilisation",
    "iterator_age_ms",
    "monthly_cost_usd",
];

/// A committed value and how far a run may stray from it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// The value recorded.
    pub value: f64,
    /// The largest accepted difference, either way.
    pub tolerance: f64,
}

/// Per scenario name, per metric: the committed values.
pub type Baseline = BTreeMap<String, BTreeMap<String, BaselineEntry>>;

/// A baseline file that cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// It could not be read.
    #[error("cannot read the baseline {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a valid baseline.
    #[error("baseline {} line {line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A metric name shardcast does not know.
    #[error(
        "baseline {}: scenario \"{scenario}\" has unknown metric \"{metric}\"; known metrics are {}",
        path.display(),
        BASELINE_METRICS.join(", ")
    )]
    UnknownMetric {
        /// The file.
        path: PathBuf,
        /// The scenario.
        scenario: String,
        /// The metric.
        metric: String,
    },
    /// A negative or non-finite tolerance or value.
    #[error("baseline {}: scenario \"{scenario}\", metric \"{metric}\": value and tolerance must be finite and the tolerance at least 0", path.display())]
    BadEntry {
        /// The file.
        path: PathBuf,
        /// The scenario.
        scenario: String,
        /// The metric.
        metric: String,
    },
}

/// Reads and checks a baseline file.
pub fn load_baseline(path: &Path) -> Result<Baseline, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: path.to_owned(),
        source,
    })?;
    let baseline: Baseline = toml::from_str(&text).map_err(|e| BaselineError::Parse {
        path: path.to_owned(),
        line: text[..e.span().map_or(0, |s| s.start).min(text.len())]
            .matches('\n')
            .count()
            + 1,
        message: crate::scenario::hints::humanize(e.message().trim()),
    })?;
    for (scenario, metrics) in &baseline {
        for (metric, entry) in metrics {
            if !BASELINE_METRICS.contains(&metric.as_str()) {
                return Err(BaselineError::UnknownMetric {
                    path: path.to_owned(),
                    scenario: scenario.clone(),
                    metric: metric.clone(),
                });
            }
            if !(entry.value.is_finite() && entry.tolerance.is_finite() && entry.tolerance >= 0.0) {
                return Err(BaselineError::BadEntry {
                    path: path.to_owned(),
                    scenario: scenario.clone(),
                    metric: metric.clone(),
                });
            }
        }
    }
    Ok(baseline)
}

/// The baseline metrics of a run.
pub fn metrics(report: &RunReport) -> Vec<(&'static str, f64)> {
    let m = &report.measured;
    let s = &report.summary;
    let num = |x: &str| x.parse::<f64>().unwrap_or(0.0);
    vec![
        ("throttle_rate", m.throttle_rate),
        ("records_failed", m.failed as f64),
        ("records_lost", m.lost as f64),
        ("latency_p99_ms", m.p99_ms),
        ("peak_shard_utilisation", m.peak_utilisation),
        ("mean_shard_utilisation", num(&s.mean_shard_utilisation)),
        ("iterator_age_ms", m.iterator_age_ms),
        ("monthly_cost_usd", m.monthly_cost),
    ]
}

/// The tolerance `--update-baseline` records: 10 % of the value, and at
/// least a floor per metric, so that a value of 0 does not demand exactly 0
/// after an intended small change. (A run is deterministic: any change at
/// all means the behaviour changed.)
pub fn default_tolerance(metric: &str, value: f64) -> f64 {
    let floor = match metric {
        "throttle_rate" => 0.001,
        "records_failed" | "records_lost" => 10.0,
        "latency_p99_ms" | "iterator_age_ms" => 5.0,
        "monthly_cost_usd" => 1.0,
        _ => 0.01,
    };
    (value.abs() * 0.1).max(floor)
}

/// One judged line: an objective or a baseline comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    /// The scenario's name.
    pub scenario: String,
    /// The engine its run used.
    pub engine: EngineKind,
    /// `slo <field>` or `baseline <metric>`.
    pub check: String,
    /// The measured value.
    pub value: String,
    /// What it is held to.
    pub limit: String,
    /// Whether it holds.
    pub pass: bool,
}

/// The rows of one run: its objectives and, with a baseline, each pinned
/// metric. A scenario missing from the baseline fails, so that a new
/// scenario is not silently unchecked.
pub fn judge(scenario: &str, report: &RunReport, baseline: Option<&Baseline>) -> Vec<CheckRow> {
    let engine = report.analysis.summary.engine.kind;
    let mut rows: Vec<CheckRow> = report
        .slo
        .iter()
        .map(|c| CheckRow {
            scenario: scenario.to_owned(),
            engine,
            check: format!("slo {}", c.name),
            value: with_unit(fmt_value(c.value), c.unit),
            limit: format!("<= {}", with_unit(fmt_value(c.limit), c.unit)),
            pass: c.pass(),
        })
        .collect();
    if let Some(baseline) = baseline {
        match baseline.get(scenario) {
            None => rows.push(CheckRow {
                scenario: scenario.to_owned(),
                engine,
                check: "baseline".to_owned(),
                value: "missing".to_owned(),
                limit: "an entry (record one with --update-baseline)".to_owned(),
                pass: false,
            }),
            Some(pinned) => {
                for (metric, value) in metrics(report) {
                    if let Some(entry) = pinned.get(metric) {
                        rows.push(CheckRow {
                            scenario: scenario.to_owned(),
                            engine,
                            check: format!("baseline {metric}"),
                            value: fmt_value(value),
                            limit: format!(
                                "{} +- {}",
                                fmt_value(entry.value),
                                fmt_value(entry.tolerance)
                            ),
                            pass: (value - entry.value).abs() <= entry.tolerance,
                        });
                    }
                }
            }
        }
    }
    rows
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn with_unit(v: String, unit: &str) -> String {
    if unit.is_empty() {
        v
    } else {
        format!("{v} {unit}")
    }
}

/// A baseline recording `runs`' metrics with default tolerances, as TOML.
pub fn render_baseline(runs: &[(String, &RunReport)]) -> Result<String, toml::ser::Error> {
    let mut baseline = Baseline::new();
    for (name, report) in runs {
        let entries = metrics(report)
            .into_iter()
            .map(|(m, v)| {
                (
                    m.to_owned(),
                    BaselineEntry {
                        // Six decimals: enough to pin a run, short to review.
                        value: round6(v),
                        tolerance: round6(default_tolerance(m, v)),
                    },
                )
            })
            .collect();
        baseline.insert(name.clone(), entries);
    }
    let body = toml::to_string(&baseline)?;
    Ok(format!(
        "# shardcast check baseline: per scenario, each metric's value and the\n\
         # largest accepted difference. Regenerate with `shardcast check --update-baseline`.\n\n{body}"
    ))
}

/// The engines the rows' scenarios ran on: `engine: record`, or
/// `engines: record at 2 scenarios, shard at 1`.
fn engines_line(rows: &[CheckRow]) -> String {
    let mut by_scenario: BTreeMap<&str, EngineKind> = BTreeMap::new();
    for r in rows {
        by_scenario.insert(&r.scenario, r.engine);
    }
    let counts = crate::model::engine_tally(by_scenario.into_values());
    crate::model::engine_counts(&counts, "scenario")
}

/// The sentence on the shard engine's accuracy, when a row used it.
fn shard_note(rows: &[CheckRow]) -> &'static str {
    if rows.iter().any(|r| r.engine == EngineKind::Shard) {
        " (the shard engine agrees with the record engine within the tolerances in docs/engines.md)"
    } else {
        ""
    }
}

/// The rows as an aligned text table, then the engines the runs used.
pub fn render_table(rows: &[CheckRow]) -> String {
    let header = ["scenario", "check", "value", "limit", "verdict"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                r.check.clone(),
                r.value.clone(),
                r.limit.clone(),
                if r.pass { "pass" } else { "FAIL" }.to_owned(),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for c in &cells {
        for (w, cell) in width.iter_mut().zip(c) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, c: &[&str]| {
        let padded: Vec<String> = c
            .iter()
            .zip(width)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&mut out, &header);
    for c in &cells {
        let refs: Vec<&str> = c.iter().map(String::as_str).collect();
        line(&mut out, &refs);
    }
    if !rows.is_empty() {
        let _ = writeln!(out, "{}{}", engines_line(rows), shard_note(rows));
    }
    out
}

/// The rows as a Markdown table, for a CI job summary.
pub fn render_markdown(rows: &[CheckRow]) -> String {
    let failed = rows.iter().filter(|r| !r.pass).count();
    let mut out = format!(
        "## shardcast check: {}\n\n| scenario | check | value | limit | verdict |\n|---|---|---|---|---|\n",
        if failed == 0 {
            "all checks pass".to_owned()
        } else {
            format!("{failed} of {} checks fail", rows.len())
        }
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&r.scenario),
            md(&r.check),
            md(&r.value),
            md(&r.limit),
            if r.pass { "pass" } else { "**FAIL**" }
        );
    }
    if !rows.is_empty() {
        let _ = writeln!(out, "\n{}{}.", engines_line(rows), shard_note(rows));
    }
    out
}

fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The rows as JUnit XML: a test suite per scenario, a test case per check.
pub fn render_junit(rows: &[CheckRow]) -> String {
    let mut by_scenario: BTreeMap<&str, Vec<&CheckRow>> = BTreeMap::new();
    for r in rows {
        by_scenario.entry(r.scenario.as_str()).or_default().push(r);
    }
    let failures = rows.iter().filter(|r| !r.pass).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"shardcast check\" tests=\"{}\" failures=\"{failures}\">\n",
        rows.len()
    );
    for (scenario, rows) in by_scenario {
        let failed = rows.iter().filter(|r| !r.pass).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
            xml(scenario),
            rows.len()
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"engine\" value=\"{}\"/></properties>",
            rows[0].engine.name()
        );
        for r in rows {
            let _ = write!(
                out,
                "    <testcase classname=\"shardcast.{}\" name=\"{}\"",
                xml(scenario),
                xml(&r.check)
            );
            if r.pass {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}: {} is not {}\"/>\n    </testcase>",
                    xml(&r.check),
                    xml(&r.value),
                    xml(&r.limit)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pass: bool) -> CheckRow {
        CheckRow {
            scenario: "a<b>".into(),
            engine: EngineKind::Record,
            check: "slo max_throttle_rate".into(),
            value: "0.5".into(),
            limit: "<= 0.01".into(),
            pass,
        }
    }

    #[test]
    fn junit_escapes_and_counts() {
        let x = render_junit(&[row(true), row(false)]);
        assert!(x.contains("tests=\"2\" failures=\"1\""));
        assert!(x.contains("a&lt;b&gt;"));
        assert!(x.contains("&lt;= 0.01"));
        assert_eq!(x.matches("<failure").count(), 1);
    }

    #[test]
    fn tolerances_have_floors() {
        assert_eq!(default_tolerance("throttle_rate", 0.0), 0.001);
        assert_eq!(default_tolerance("records_failed", 1000.0), 100.0);
    }
}
