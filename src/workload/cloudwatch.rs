//! CloudWatch imports: IncomingRecords datapoints turned into a rate profile.
//!
//! Two inputs are read: the JSON that `aws cloudwatch get-metric-data`
//! prints (`MetricDataResults[].{Id, Label, Timestamps, Values}`), and a CSV
//! export with a header, a timestamp column (`timestamp`/`time`) and a
//! value column (`value`/`sum`/`IncomingRecords`). Values are sums over the
//! period (the query's `Stat` must be `Sum`); the rate of a period is its
//! sum divided by its length. Several series of the metric (shard-level
//! data: one per `ShardId`) are added up, since keys, not the import,
//! decide shards in the simulation. A period without a datapoint had no
//! records (CloudWatch omits empty periods).
//!
//! Per-minute sums hide micro-bursts. With `burstiness` = sigma > 0, the
//! rate within each period varies second by second by lognormal factors
//! `exp(sigma Z - sigma^2 / 2)`, rescaled so each period's total is kept
//! exactly: the import matches CloudWatch at its own resolution and is
//! burstier below it. With 0 the rate is flat within a period.

use std::path::Path;

use rand_distr::{Distribution, StandardNormal};

use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::units::NANOS_PER_SEC;

/// Datapoints of one metric: `(epoch ns, sum)`, summed over series, sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoints {
    /// The points.
    pub points: Vec<(i128, f64)>,
    /// How many series were added up.
    pub series: usize,
}

fn time(text: &str) -> Result<i128, String> {
    // get-metric-data prints `+00:00`; humantime wants `Z`.
    let t = text.trim();
    let t = t
        .strip_suffix("+00:00")
        .map_or(t.to_owned(), |s| format!("{s}Z"));
    crate::workload::parse_time(&t, NANOS_PER_SEC)
        .ok_or_else(|| format!("bad timestamp {text:?}: expected RFC 3339 in UTC"))
}

/// Reads IncomingRecords (or `metric`: an Id or Label) from a file.
pub fn read(path: &Path, metric: Option<&str>) -> Result<Datapoints, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let is_json = text.trim_start().starts_with('{');
    let mut points: Vec<(i128, f64)> = Vec::new();
    let mut series = 0;
    let wanted = metric.unwrap_or("IncomingRecords");
    if is_json {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Response {
            metric_data_results: Vec<Result_>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Result_ {
            #[serde(default)]
            id: String,
            #[serde(default)]
            label: String,
            timestamps: Vec<String>,
            values: Vec<f64>,
        }
        let r: Response =
            serde_json::from_str(&text).map_err(|e| format!("not get-metric-data JSON: {e}"))?;
        let matching: Vec<&Result_> = r
            .metric_data_results
            .iter()
            .filter(|m| m.id == wanted || m.label.contains(wanted))
            .collect();
        let chosen: Vec<&Result_> = match (matching.is_empty(), metric) {
            (false, _) => matching,
            (true, None) if r.metric_data_results.len() == 1 => {
                r.metric_data_results.iter().collect()
            }
            _ => {
                let names: Vec<String> = r
                    .metric_data_results
                    .iter()
                    .map(|m| format!("{} ({})", m.id, m.label))
                    .collect();
                return Err(format!(
                    "no result with Id or Label {wanted:?}; results: {}",
                    names.join(", ")
                ));
            }
        };
        for m in chosen {
            if m.timestamps.len() != m.values.len() {
                return Err(format!(
                    "result {}: {} timestamps but {} values",
                    m.id,
                    m.timestamps.len(),
                    m.values.len()
                ));
            }
            series += 1;
            for (t, v) in m.timestamps.iter().zip(&m.values) {
                points.push((time(t)?, *v));
            }
        }
    } else {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().map_err(|e| e.to_string())?.clone();
        let col = |names: &[&str]| {
            header
                .iter()
                .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
        };
        let t = col(&["timestamp", "time"]).ok_or("no timestamp column (timestamp or time)")?;
        let v = col(&["value", "sum", wanted])
            .ok_or(format!("no value column (value, sum or {wanted})"))?;
        series = 1;
        for (i, row) in r.records().enumerate() {
            let row = row.map_err(|e| format!("line {}: {e}", i + 2))?;
            let value: f64 =
                row.get(v).unwrap_or("").trim().parse().map_err(|_| {
                    format!("line {}: bad value {:?}", i + 2, row.get(v).unwrap_or(""))
                })?;
            let at = time(row.get(t).unwrap_or("")).map_err(|e| format!("line {}: {e}", i + 2))?;
            points.push((at, value));
        }
    }
    if points.is_empty() {
        return Err("no datapoints".into());
    }
    if let Some(bad) = points.iter().find(|p| !(p.1.is_finite() && p.1 >= 0.0)) {
        return Err(format!(
            "value {} is out of range; sums are 0 or more",
            bad.1
        ));
    }
    // Newest first in get-metric-data: sort, then add up equal times (series).
    points.sort_by_key(|p| p.0);
    let mut merged: Vec<(i128, f64)> = Vec::with_capacity(points.len());
    for (t, v) in points {
        match merged.last_mut() {
            Some(last) if last.0 == t => last.1 += v,
            _ => merged.push((t, v)),
        }
    }
    Ok(Datapoints {
        points: merged,
        series,
    })
}

impl Datapoints {
    /// The period: the smallest gap between datapoints (60 s for one point).
    pub fn period(&self) -> SimTime {
        self.points
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) as SimTime)
            .min()
            .unwrap_or(60 * NANOS_PER_SEC)
    }

    /// The rate as steps from time 0 (the first datapoint): one step per
    /// period, or per second with `burstiness` above 0.
    pub fn steps(&self, period: SimTime, burstiness: f64, rng: &mut SimRng) -> Vec<(SimTime, f64)> {
        let t0 = self.points[0].0;
        let per_s = period as f64 / NANOS_PER_SEC as f64;
        let seconds = (period / NANOS_PER_SEC).max(1);
        let mut steps = Vec::new();
        let mut next = 0;
        for &(t, sum) in &self.points {
            let start = (t - t0) as SimTime;
            if start > next {
                // A missing period: no records.
                steps.push((next, 0.0));
            }
            let rate = sum / per_s;
            if burstiness > 0.0 && seconds > 1 {
                let factors: Vec<f64> = (0..seconds)
                    .map(|_| {
                        let z: f64 = StandardNormal.sample(rng);
                        (burstiness * z - burstiness * burstiness / 2.0).exp()
                    })
                    .collect();
                let mean = factors.iter().sum::<f64>() / seconds as f64;
                for (k, f) in factors.iter().enumerate() {
                    steps.push((start + k as SimTime * NANOS_PER_SEC, rate * f / mean));
                }
            } else {
                steps.push((start, rate));
            }
            next = start + period;
        }
        steps.push((next, 0.0));
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, stream};

    #[test]
    fn bursts_keep_each_period_total() {
        let d = Datapoints {
            points: vec![
                (0, 6000.0),
                (60_000_000_000, 12_000.0),
                (180_000_000_000, 600.0),
            ],
            series: 1,
        };
        let mut rng = stream(1, Purpose::Arrivals, 0);
        let flat = d.steps(60 * NANOS_PER_SEC, 0.0, &mut rng);
        assert_eq!(
            flat,
            [
                (0, 100.0),
                (60_000_000_000, 200.0),
                (120_000_000_000, 0.0),
                (180_000_000_000, 10.0),
                (240_000_000_000, 0.0)
            ]
        );
        let bursty = d.steps(60 * NANOS_PER_SEC, 0.5, &mut rng);
        assert_eq!(bursty.len(), 60 * 3 + 2);
        let first: f64 = bursty[..60].iter().map(|s| s.1).sum();
        assert!((first - 6000.0).abs() < 1e-6, "{first}");
        assert!(
            bursty[..60].iter().any(|s| s.1 > 150.0),
            "no burst above 1.5x"
        );
    }
}
