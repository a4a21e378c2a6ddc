//! A sweep's numbers: each run's metrics (sweep.csv) and, per point, their
//! means and 95 % intervals (sweep-summary.csv).

use crate::plan::{Estimate, estimate};
use crate::scenario::EngineKind;

/// The metrics of each run, in sweep.csv's column order.
pub const METRICS: [&str; 10] = [
    "throttle_rate",
    "records_failed",
    "latency_p99_ms",
    "peak_shard_utilisation",
    "records_lost",
    "max_iterator_age_ms",
    "reshards_per_24h",
    "shards_at_end",
    "monthly_cost_usd",
    "slo_pass",
];

/// Decimals of each metric in sweep.csv (counts are whole numbers).
const RECORDED: [usize; 10] = [6, 0, 3, 4, 0, 0, 0, 0, 2, 0];

/// Decimals of each metric's mean in sweep-summary.csv.
const DECIMALS: [usize; 10] = [6, 1, 3, 4, 1, 0, 2, 2, 2, 3];

/// `x` at `decimals` places, as a CSV cell.
fn cell_at(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// `x` as sweep.csv records it (at `decimals` places). The summary's
/// statistics use the recorded values, so that a merge of parts, which has
/// only their sweep.csv, gives the same bytes as one whole sweep.
fn recorded(x: f64, decimals: usize) -> f64 {
    cell_at(x, decimals).parse().unwrap_or(x)
}

/// One run of one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Grid index.
    pub point: usize,
    /// Replication index.
    pub replication: u32,
    /// Its seed.
    pub seed: u64,
    /// The engine that ran it.
    pub engine: EngineKind,
    /// The point's values, one per axis.
    pub params: Vec<String>,
    /// [`METRICS`]' values (`slo_pass` is 1 or 0, `None` without
    /// objectives).
    pub metrics: [Option<f64>; 10],
}

/// sweep.csv's header: point, replication, seed, engine, the axes, the
/// metrics.
fn rows_header(axes: &[String]) -> Vec<String> {
    let mut header = vec![
        "point".to_owned(),
        "replication".into(),
        "seed".into(),
        "engine".into(),
    ];
    header.extend(axes.iter().cloned());
    header.extend(METRICS.iter().map(|m| (*m).to_owned()));
    header
}

/// sweep.csv: one row per point and replication.
pub fn render_rows(axes: &[String], rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(rows_header(axes))?;
    for r in rows {
        let mut rec = vec![
            r.point.to_string(),
            r.replication.to_string(),
            r.seed.to_string(),
            r.engine.name().to_owned(),
        ];
        rec.extend(r.params.iter().cloned());
        rec.extend(
            r.metrics
                .iter()
                .zip(RECORDED)
                .map(|(v, d)| v.map(|v| cell_at(v, d)).unwrap_or_default()),
        );
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// One point of sweep-summary.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSummary {
    /// Grid index.
    pub point: usize,
    /// The point's values, one per axis.
    pub params: Vec<String>,
    /// Its runs.
    pub replications: usize,
    /// The engine its runs used (they differ in their seed only, which
    /// does not change it).
    pub engine: EngineKind,
    /// Per metric ([`METRICS`]), the mean and 95 % half-width over the
    /// replications that have a value (`None` if none has), at the
    /// precision sweep-summary.csv writes, so that the page and the charts
    /// show what the file has.
    pub estimates: [Option<Estimate>; 10],
}

impl PointSummary {
    /// Metric `k`'s mean as sweep-summary.csv writes it (empty if none).
    pub fn mean_cell(&self, k: usize) -> String {
        self.estimates[k]
            .map(|e| cell_at(e.mean, DECIMALS[k]))
            .unwrap_or_default()
    }
}

/// sweep-summary.csv as numbers: the axes' paths and each point.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSummary {
    /// The axes' paths, in grid order.
    pub axes: Vec<String>,
    /// The points, in grid order.
    pub points: Vec<PointSummary>,
}

/// Per point (rows in grid order), the mean and the half-width of the 95 %
/// interval (Student t) of each metric, from the values as recorded.
pub fn summarize(axes: &[String], rows: &[Row]) -> SweepSummary {
    let points = rows
        .chunk_by(|a, b| a.point == b.point)
        .map(|group| PointSummary {
            point: group[0].point,
            params: group[0].params.clone(),
            replications: group.len(),
            engine: group[0].engine,
            estimates: std::array::from_fn(|k| {
                let xs: Vec<f64> = group
                    .iter()
                    .filter_map(|r| r.metrics[k].map(|v| recorded(v, RECORDED[k])))
                    .collect();
                (!xs.is_empty()).then(|| {
                    let e = estimate(&xs);
                    Estimate {
                        mean: recorded(e.mean, DECIMALS[k]),
                        ci95: recorded(e.ci95, DECIMALS[k]),
                    }
                })
            }),
        })
        .collect();
    SweepSummary {
        axes: axes.to_vec(),
        points,
    }
}

/// sweep-summary.csv's header and rows, as text.
pub fn summary_table(summary: &SweepSummary) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(summary.axes.iter().cloned());
    header.push("replications".into());
    header.push("engine".into());
    for m in METRICS {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_ci95"));
    }
    let rows = summary
        .points
        .iter()
        .map(|p| {
            let mut rec: Vec<String> = vec![p.point.to_string()];
            rec.extend(p.params.iter().cloned());
            rec.push(p.replications.to_string());
            rec.push(p.engine.name().to_owned());
            for (e, &digits) in p.estimates.iter().zip(&DECIMALS) {
                match e {
                    Some(e) => {
                        rec.push(cell_at(e.mean, digits));
                        rec.push(cell_at(e.ci95, digits));
                    }
                    None => rec.extend([String::new(), String::new()]),
                }
            }
            rec
        })
        .collect();
    (header, rows)
}

/// sweep-summary.csv.
pub fn render_summary(summary: &SweepSummary) -> Result<Vec<u8>, csv::Error> {
    let (header, rows) = summary_table(summary);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    for rec in rows {
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
