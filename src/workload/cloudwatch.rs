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
//! Each datapoint is one period's sum, so the period may not exceed the
//! smallest gap between datapoints, and every gap must be a whole number of
//! periods ([`Datapoints::check_period`]).
//!
//! Per-minute sums hide micro-bursts. With `burstiness` = sigma > 0, the
//! rate within each period varies second by second by lognormal factors,
//! rescaled so each period's total is kept exactly (see
//! [`Component::Periods`](crate::workload::Component::Periods)); the
//! factors are drawn per run, from the run's seed.

use std::path::Path;

use crate::sim::SimTime;
use crate::units::{Duration, NANOS_PER_SEC};

/// Datapoints of one metric: `(epoch ns, sum)`, summed over series, sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoints {
    /// The points.
    pub points: Vec<(i128, f64)>,
    /// How many series were added up.
    pub series: usize,
    /// Whether the series read is named as bytes (`IncomingBytes`): its Id
    /// or Label, or the CSV value column, contains "Bytes".
    pub named_bytes: bool,
    /// For get-metric-data JSON holding both IncomingRecords and
    /// IncomingBytes: their totals, `(records, bytes)`, whichever was read.
    pub both_totals: Option<(f64, f64)>,
}

fn time(text: &str) -> Result<i128, String> {
    // get-metric-data prints `+00:00`; humantime wants `Z`.
    let t = text.trim();
    let t = t
        .strip_suffix("+00:00")
        .map_or(t.to_owned(), |s| format!("{s}Z"));
    let ns = crate::workload::parse_time(&t, NANOS_PER_SEC)
        .ok_or_else(|| format!("bad timestamp {text:?}: expected RFC 3339 in UTC"))?;
    // Nanoseconds in an i64, as trace times: differences cannot overflow.
    if !(0..=i128::from(i64::MAX)).contains(&ns) {
        return Err(format!(
            "timestamp {text:?} is out of range; accepted are times from 1970 to 2262"
        ));
    }
    Ok(ns)
}

/// Checks that `value` can be a period's sum, `what` naming where it is.
fn sum(value: f64, what: &dyn std::fmt::Display) -> Result<f64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "{what}: value {value} is out of range; sums are 0 or more"
        ))
    }
}

/// Reads IncomingRecords (or `metric`: an Id or Label) from a file.
pub fn read(path: &Path, metric: Option<&str>) -> Result<Datapoints, String> {
    let text = crate::scenario::read_text(path).map_err(|e| format!("cannot read: {e}"))?;
    let is_json = text.trim_start().starts_with('{');
    let mut points: Vec<(i128, f64)> = Vec::new();
    let mut series = 0;
    let mut named_bytes = false;
    let mut both_totals = None;
    let wanted = metric.unwrap_or("IncomingRecords");
    let is_bytes = |name: &str| name.contains("Bytes");
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
        // Every series is checked, not only the one read: IncomingBytes
        // beside IncomingRecords is read for its total, and a file with a
        // bad series is not a trustworthy export.
        for m in &r.metric_data_results {
            if m.timestamps.len() != m.values.len() {
                return Err(format!(
                    "result {}: {} timestamps but {} values",
                    m.id,
                    m.timestamps.len(),
                    m.values.len()
                ));
            }
            for (i, (t, v)) in m.timestamps.iter().zip(&m.values).enumerate() {
                let at = || format!("result {} datapoint {}", m.id, i + 1);
                time(t).map_err(|e| format!("{}: {e}", at()))?;
                sum(*v, &at())?;
            }
        }
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
        // The mean record size the stream saw, when the query asked for
        // both metrics (a check of the group's size model).
        let total = |metric: &str| {
            let of: Vec<&Result_> = r
                .metric_data_results
                .iter()
                .filter(|m| m.id == metric || m.label.contains(metric))
                .collect();
            (!of.is_empty()).then(|| of.iter().flat_map(|m| &m.values).sum::<f64>())
        };
        if let (Some(n), Some(b)) = (total("IncomingRecords"), total("IncomingBytes")) {
            both_totals = Some((n, b));
        }
        for m in chosen {
            named_bytes |= is_bytes(&m.id) || is_bytes(&m.label);
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
        // Without a metric, an IncomingBytes column is read if there is no
        // records column.
        let v = col(&["value", "sum", wanted])
            .or_else(|| metric.is_none().then(|| col(&["IncomingBytes"])).flatten())
            .ok_or(format!(
                "no value column (value, sum or {wanted}{})",
                if metric.is_none() {
                    ", or IncomingBytes"
                } else {
                    ""
                }
            ))?;
        named_bytes = is_bytes(&header[v]) || (metric.is_some() && is_bytes(wanted));
        series = 1;
        for (i, row) in r.records().enumerate() {
            let row = row.map_err(|e| format!("line {}: {e}", i + 2))?;
            let value: f64 =
                row.get(v).unwrap_or("").trim().parse().map_err(|_| {
                    format!("line {}: bad value {:?}", i + 2, row.get(v).unwrap_or(""))
                })?;
            let at = time(row.get(t).unwrap_or("")).map_err(|e| format!("line {}: {e}", i + 2))?;
            points.push((at, sum(value, &format_args!("line {}", i + 2))?));
        }
    }
    if points.is_empty() {
        return Err("no datapoints".into());
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
        named_bytes,
        both_totals,
    })
}

impl Datapoints {
    /// The default period: the smallest gap between datapoints (60 s for
    /// one point).
    pub fn period(&self) -> SimTime {
        self.gaps()
            .map(|(_, _, gap)| gap)
            .min()
            .unwrap_or(60 * NANOS_PER_SEC)
    }

    /// Consecutive datapoints and the time between them (saturated: a gap
    /// past `u64` nanoseconds, about 584 years, is out of any scenario).
    fn gaps(&self) -> impl Iterator<Item = (i128, i128, SimTime)> + '_ {
        self.points.windows(2).map(|w| {
            let gap = SimTime::try_from(w[1].0 - w[0].0).unwrap_or(SimTime::MAX);
            (w[0].0, w[1].0, gap)
        })
    }

    /// Checks that each datapoint can be one `period`'s sum: no gap is
    /// shorter than the period (the periods would overlap) and every gap is
    /// a whole number of periods (a gap of several is periods without
    /// records). The message says which datapoints break the rule and what
    /// is accepted.
    pub fn check_period(&self, period: SimTime) -> Result<(), String> {
        let smallest = self.period();
        // The largest period of whole seconds, up to 24 h, that divides
        // every gap: what a period may be at most.
        let fits = self.gaps().fold(0, |g, x| gcd(g, x.2));
        let best = if self.points.len() < 2 {
            Some(24 * 3600 * NANOS_PER_SEC)
        } else if fits.is_multiple_of(NANOS_PER_SEC) && fits > 0 {
            let s = fits / NANOS_PER_SEC;
            (1..=s.min(24 * 3600))
                .rev()
                .find(|d| s.is_multiple_of(*d))
                .map(|d| d * NANOS_PER_SEC)
        } else {
            None
        };
        let hint = match best {
            Some(b) => format!(
                "; the largest period that fits every gap is {}",
                Duration(b)
            ),
            None => {
                "; no period fits: the datapoints are not on a grid of whole seconds".to_owned()
            }
        };
        if best.is_none() && self.points.len() > 1 && period > smallest {
            return Err(format!(
                "{} does not fit: datapoints are {} apart at the closest{hint}",
                Duration(period),
                seconds(smallest)
            ));
        }
        if self.points.len() > 1 && period > smallest {
            return Err(format!(
                "{} is out of range; accepted range is 1s to {}: datapoints are {} apart at the closest, \
                 and each datapoint is the sum of one period, so longer periods would overlap{hint}",
                Duration(period),
                Duration(smallest),
                seconds(smallest)
            ));
        }
        if let Some((a, b, gap)) = self.gaps().find(|g| !g.2.is_multiple_of(period)) {
            return Err(format!(
                "{} does not fit the datapoints at {} and {}, {} apart: every gap between \
                 datapoints must be a whole number of periods (a gap of several periods is \
                 periods without records){hint}",
                Duration(period),
                stamp(a),
                stamp(b),
                seconds(gap)
            ));
        }
        Ok(())
    }

    /// The rate of each period with a datapoint: `(start, records/s)`, the
    /// start counted from the first datapoint. Datapoints past `u64`
    /// nanoseconds from the first (centuries) are left out.
    pub fn rates(&self, period: SimTime) -> Vec<(SimTime, f64)> {
        let t0 = self.points[0].0;
        let per_s = period as f64 / NANOS_PER_SEC as f64;
        self.points
            .iter()
            .map_while(|&(t, sum)| Some((SimTime::try_from(t - t0).ok()?, sum / per_s)))
            .collect()
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `90 s`, or `0.5 s` for a gap that is not whole seconds.
fn seconds(ns: SimTime) -> String {
    if ns.is_multiple_of(NANOS_PER_SEC) {
        format!("{} s", ns / NANOS_PER_SEC)
    } else {
        format!("{} s", ns as f64 / NANOS_PER_SEC as f64)
    }
}

/// An epoch time in RFC 3339, as CloudWatch prints it.
fn stamp(t: i128) -> String {
    u64::try_from(t)
        .ok()
        .and_then(|ns| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_nanos(ns)))
        .map_or_else(
            || format!("{t} ns"),
            |st| humantime::format_rfc3339(st).to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimTime = NANOS_PER_SEC;

    fn at(seconds: &[i128]) -> Datapoints {
        Datapoints {
            points: seconds
                .iter()
                .map(|&t| (t * 1_000_000_000, 600.0))
                .collect(),
            series: 1,
            named_bytes: false,
            both_totals: None,
        }
    }

    #[test]
    fn rates_are_sums_over_the_period() {
        let d = Datapoints {
            points: vec![
                (0, 6000.0),
                (60 * S as i128, 12_000.0),
                (180 * S as i128, 600.0),
            ],
            series: 1,
            named_bytes: false,
            both_totals: None,
        };
        assert_eq!(d.period(), 60 * S);
        assert_eq!(
            d.rates(60 * S),
            [(0, 100.0), (60 * S, 200.0), (180 * S, 10.0)]
        );
        // A shorter period: the same sums over less time.
        assert_eq!(d.rates(30 * S)[1], (60 * S, 400.0));
    }

    #[test]
    fn a_period_must_fit_between_datapoints() {
        // 60 s apart, then a missing minute: 1m fits, and so do its divisors.
        let d = at(&[0, 60, 180]);
        for ok in [S, 20 * S, 30 * S, 60 * S] {
            assert_eq!(d.check_period(ok), Ok(()), "{ok}");
        }
        // Longer than the closest datapoints: periods would overlap.
        let e = d.check_period(300 * S).unwrap_err();
        assert!(
            e.starts_with(
                "5m is out of range; accepted range is 1s to 1m: datapoints are 60 s apart"
            ),
            "{e}"
        );
        assert!(d.check_period(61 * S).is_err());
        assert!(
            e.ends_with("the largest period that fits every gap is 1m"),
            "{e}"
        );
        // Daily data: the largest period that fits is within the 24 h limit.
        let daily = at(&[0, 2 * 86_400, 4 * 86_400]);
        let e = daily.check_period(5 * 3600 * S).unwrap_err();
        assert!(e.ends_with("fits every gap is 1day"), "{e}");
        // Off a whole-second grid, nothing is said to be accepted.
        let frac = Datapoints {
            points: vec![(0, 1.0), (1_500_000_000, 1.0)],
            series: 1,
            named_bytes: false,
            both_totals: None,
        };
        let e = frac.check_period(2 * S).unwrap_err();
        assert_eq!(
            e,
            "2s does not fit: datapoints are 1.5 s apart at the closest; no period fits: the datapoints are not on a grid of whole seconds"
        );
        // Not a divisor of every gap: the rates would straddle datapoints.
        let e = d.check_period(45 * S).unwrap_err();
        assert!(
            e.contains("45s does not fit the datapoints at 1970-01-01T00:00:00Z and 1970-01-01T00:01:00Z, 60 s apart")
                && e.ends_with("the largest period that fits every gap is 1m"),
            "{e}"
        );
        // The default (smallest gap) can fail too: 60 s, then 90 s.
        let d = at(&[0, 60, 150]);
        assert_eq!(d.period(), 60 * S);
        let e = d.check_period(d.period()).unwrap_err();
        assert!(
            e.contains("1970-01-01T00:01:00Z and 1970-01-01T00:02:30Z, 90 s apart")
                && e.ends_with("is 30s"),
            "{e}"
        );
        // Off a whole-second grid, no period is suggested.
        let d = Datapoints {
            points: vec![
                (0, 1.0),
                (2 * S as i128, 1.0),
                (3 * S as i128 + 500_000_000, 1.0),
            ],
            series: 1,
            named_bytes: false,
            both_totals: None,
        };
        let e = d.check_period(S).unwrap_err();
        assert!(
            e.contains("1.5 s apart") && e.ends_with("not on a grid of whole seconds"),
            "{e}"
        );
        // One datapoint: any period.
        assert_eq!(at(&[0]).check_period(3600 * S), Ok(()));
    }
}
