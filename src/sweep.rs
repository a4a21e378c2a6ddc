//! Sweeps: a scenario run over a grid of parameter values, R replications
//! per point, in parallel, and split over machines.
//!
//! A grid is a list of axes, each a path into the scenario file and its
//! values (`stream.shards=2..16`, `producers.web.keys.exponent=0.8,1.0,1.2`).
//! Points are the Cartesian product, the last axis varying fastest. Each
//! point is the scenario file with the point's values written in, validated
//! like any scenario before anything runs.
//!
//! Determinism: replication 0 runs with the scenario's seed (so a one-point
//! sweep equals `run`), replication r > 0 with a seed derived from it and r
//! only, the same at every point (common random numbers). Runs go in
//! parallel and are gathered in grid order; the summary is computed from
//! the typed rows at the precision sweep.csv records, so a merge of
//! partitions (which reads their sweep.csv) gives the same bytes as a
//! single run.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::analyze;
use crate::model::{RunOptions, SimError, simulate};
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::rng::{Purpose, derive_seed};

use crate::scenario::grid::cell;
pub use crate::scenario::grid::{Axis, GridError, apply};

mod merge;
mod summary;

pub use merge::merge;
pub use summary::{
    METRICS, PointSummary, Row, SweepSummary, render_rows, render_summary, summarize, summary_table,
};

/// The largest grid accepted (points times replications).
pub const MAX_RUNS: usize = crate::scenario::grid::MAX_VALUES;

/// A sweep that cannot be set up, run or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// A `--set` (or `sweep.set`) that does not parse or does not apply.
    #[error("--set {spec}: {message}")]
    Set {
        /// The axis as given.
        spec: String,
        /// What is wrong.
        message: String,
    },
    /// A grid point that is not a valid scenario.
    #[error("point {point} ({assignment}): {message}")]
    Point {
        /// Its index.
        point: usize,
        /// Its values, `path=value, ...`.
        assignment: String,
        /// The scenario error.
        message: String,
    },
    /// Other bad options (partition, replications, grid size).
    #[error("{0}")]
    Options(String),
    /// Parts that do not belong together, or a part that cannot be read.
    #[error("merge: {0}")]
    Merge(String),
    /// A run failed.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// An axis that does not parse is a `--set` that does not.
impl From<GridError> for SweepError {
    fn from(e: GridError) -> SweepError {
        SweepError::Set {
            spec: e.spec,
            message: e.message,
        }
    }
}

/// Which slice of the grid this process runs: points `p` with
/// `p % count == index - 1` (round-robin, so slices cost about the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based slice number.
    pub index: u32,
    /// Number of slices.
    pub count: u32,
}

impl Partition {
    /// The whole grid.
    pub const WHOLE: Partition = Partition { index: 1, count: 1 };

    /// Parses `I/N` with `1 <= I <= N`.
    pub fn parse(text: &str) -> Result<Partition, SweepError> {
        let bad = || {
            SweepError::Options(format!(
                "--partition {text}: expected I/N with 1 <= I <= N, e.g. 2/4"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }

    /// Whether point `point` of the grid is in this part.
    pub fn holds(self, point: usize) -> bool {
        point % self.count as usize == (self.index - 1) as usize
    }
}

/// A sweep ready to run: every point validated.
#[derive(Debug)]
pub struct Sweep {
    /// The base scenario's name.
    pub name: String,
    /// MD5 of the inputs: the scenario file and every file it reads
    /// ([`input_md5`](crate::scenario::input_md5)), and the files that
    /// only some points read (an axis over `trace.file`).
    pub scenario_md5: String,
    /// The axes.
    pub axes: Vec<Axis>,
    /// Replications per point.
    pub replications: u32,
    /// Each point's scenario, in grid order.
    pub points: Vec<Scenario>,
}

/// The file's `[sweep]`: its axes and replications (validated with the
/// scenario).
pub fn file_grid(text: &str) -> Result<(Vec<String>, Option<u32>), SweepError> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| SweepError::Options(e.to_string()))?;
    let Some(sweep) = table.get("sweep") else {
        return Ok((Vec::new(), None));
    };
    let set = sweep
        .get("set")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let replications = sweep
        .get("replications")
        .and_then(toml::Value::as_integer)
        .and_then(|r| u32::try_from(r).ok());
    Ok((set, replications))
}

/// The grid from the file's `[sweep]` and the command line's `--set` (a
/// `--set` replaces the file's axis with the same path, or adds one).
pub fn axes(file: &[String], cli: &[String]) -> Result<Vec<Axis>, SweepError> {
    let mut axes: Vec<Axis> = file
        .iter()
        .map(|s| Axis::parse(s))
        .collect::<Result<_, _>>()?;
    for spec in cli {
        let axis = Axis::parse(spec)?;
        match axes.iter_mut().find(|a| a.path == axis.path) {
            Some(a) => *a = axis,
            None => axes.push(axis),
        }
    }
    Ok(axes)
}

impl Sweep {
    /// Builds and validates every point of `axes` over the scenario file
    /// `text` (read from `path`, which relative paths inside it follow).
    /// `scenario_md5` is the digest of the file's inputs; files that only
    /// points read (a path set by an axis) are hashed into it here.
    pub fn new(
        text: &str,
        path: &Path,
        scenario_md5: &str,
        axes: Vec<Axis>,
        replications: u32,
    ) -> Result<Sweep, SweepError> {
        let base = Scenario::parse(text, path).map_err(|e| SweepError::Options(e.to_string()))?;
        if !(1..=1000).contains(&replications) {
            return Err(SweepError::Options(format!(
                "{replications} replications is out of range; accepted range is 1 to 1000"
            )));
        }
        let mut table: toml::Table = toml::from_str(text)
            .map_err(|e| SweepError::Options(format!("{}: {e}", path.display())))?;
        // The grid is applied here; points are plain scenarios.
        table.remove("sweep");
        // Checked: a product past usize would wrap to a small grid.
        let count = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .unwrap_or(usize::MAX);
        if count.saturating_mul(replications as usize) > MAX_RUNS {
            return Err(SweepError::Options(format!(
                "{count} points x {replications} replications is over {MAX_RUNS} runs"
            )));
        }
        let mut points = Vec::with_capacity(count);
        for p in 0..count {
            let values = point_values(&axes, p);
            let assignment = assignment(&axes, &values);
            let mut t = table.clone();
            for (axis, v) in axes.iter().zip(&values) {
                apply(&mut t, &axis.path, (*v).clone()).map_err(|message| SweepError::Set {
                    spec: axis.spec.clone(),
                    message,
                })?;
            }
            let point_text = toml::to_string(&t).map_err(|e| SweepError::Point {
                point: p,
                assignment: assignment.clone(),
                message: e.to_string(),
            })?;
            let scenario = Scenario::parse(&point_text, path).map_err(|e| SweepError::Point {
                point: p,
                assignment: assignment.clone(),
                message: match e {
                    ScenarioError::Invalid { field, message, .. } => format!("{field}: {message}"),
                    ScenarioError::Parse { message, text, .. } => {
                        format!("{message} (in `{text}`)")
                    }
                    other => other.to_string(),
                },
            })?;
            points.push(scenario);
        }
        // Files read by points but not by the file as written, in grid
        // order: whatever the partition, every part hashes the same list.
        let mut seen: std::collections::BTreeSet<&std::path::PathBuf> =
            base.imports.iter().collect();
        let extra: Vec<std::path::PathBuf> = points
            .iter()
            .flat_map(|p| &p.imports)
            .filter(|f| seen.insert(*f))
            .cloned()
            .collect();
        let scenario_md5 = if extra.is_empty() {
            scenario_md5.to_owned()
        } else {
            crate::scenario::input_md5(scenario_md5.as_bytes(), &extra)
                .map_err(|e| SweepError::Options(e.to_string()))?
        };
        Ok(Sweep {
            name: base.name,
            scenario_md5,
            axes,
            replications,
            points,
        })
    }

    /// Runs the points of `partition`, every replication, in parallel on
    /// the current rayon pool; `progress` is called once per finished run
    /// (from worker threads). Rows come back in grid order.
    pub fn run(
        &self,
        partition: Partition,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Vec<Row>, SweepError> {
        use rayon::prelude::*;
        let jobs: Vec<(usize, u32)> = (0..self.points.len())
            .filter(|&p| partition.holds(p))
            .flat_map(|p| (0..self.replications).map(move |r| (p, r)))
            .collect();
        let rows: Vec<Result<Row, SweepError>> = jobs
            .par_iter()
            .map(|&(p, r)| {
                let row = self.run_one(p, r);
                progress();
                row
            })
            .collect();
        rows.into_iter().collect()
    }

    /// Runs in this partition.
    pub fn runs_in(&self, partition: Partition) -> usize {
        (0..self.points.len())
            .filter(|&p| partition.holds(p))
            .count()
            * self.replications as usize
    }

    fn run_one(&self, point: usize, replication: u32) -> Result<Row, SweepError> {
        let mut sc = self.points[point].clone();
        if replication > 0 {
            sc.seed = derive_seed(sc.seed, Purpose::Replication, u64::from(replication));
        }
        let out = simulate(&sc, RunOptions::default())?;
        let a = analyze(&sc, &out);
        let m = &a.measured;
        let slo = &a.slo;
        Ok(Row {
            point,
            replication,
            seed: sc.seed,
            engine: out.engine,
            params: point_values(&self.axes, point)
                .into_iter()
                .map(cell)
                .collect(),
            metrics: [
                Some(m.throttle_rate),
                Some(m.failed as f64),
                Some(m.p99_ms),
                Some(m.peak_utilisation),
                Some(m.lost as f64),
                Some(m.iterator_age_ms),
                Some(m.reshards_per_24h as f64),
                Some(f64::from(a.summary.shards_at_end)),
                Some(m.monthly_cost),
                (!slo.is_empty()).then(|| f64::from(u8::from(slo.iter().all(|c| c.pass())))),
            ],
        })
    }

    /// The manifest of a sweep or a part of one (TOML).
    pub fn manifest(&self, partition: Partition) -> Manifest {
        Manifest {
            scenario: self.name.clone(),
            scenario_md5: self.scenario_md5.clone(),
            axes: self.axes.iter().map(|a| a.spec.clone()).collect(),
            points: self.points.len(),
            replications: self.replications,
            partition: format!("{}/{}", partition.index, partition.count),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

fn point_values(axes: &[Axis], mut p: usize) -> Vec<&toml::Value> {
    let mut out = vec![None; axes.len()];
    for (i, a) in axes.iter().enumerate().rev() {
        out[i] = Some(&a.values[p % a.values.len()]);
        p /= a.values.len();
    }
    out.into_iter()
        .map(|v| v.expect("every axis set"))
        .collect()
}

fn assignment(axes: &[Axis], values: &[&toml::Value]) -> String {
    axes.iter()
        .zip(values)
        .map(|(a, v)| format!("{}={}", a.path, cell(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a sweep (or one part of it) ran: written as sweep-manifest.toml so
/// that `merge` can check the parts belong together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Scenario name.
    pub scenario: String,
    /// MD5 of the inputs: the scenario file and the files it reads.
    pub scenario_md5: String,
    /// The axes as given.
    pub axes: Vec<String>,
    /// Points in the whole grid.
    pub points: usize,
    /// Replications per point.
    pub replications: u32,
    /// `I/N`: this part, or `1/1` for a whole sweep.
    pub partition: String,
    /// shardcast version.
    pub version: String,
}

/// The axes' paths of a manifest (`stream.shards` of `stream.shards=2..6`).
pub fn axis_names(manifest: &Manifest) -> Vec<String> {
    manifest
        .axes
        .iter()
        .map(|s| {
            s.split_once('=')
                .map_or(s.as_str(), |x| x.0)
                .trim()
                .to_owned()
        })
        .collect()
}

/// The files of a sweep (sweep.csv, sweep-summary.csv,
/// sweep-manifest.toml) and its summary as numbers.
pub fn files(manifest: &Manifest, rows: &[Row]) -> Result<SweepFiles, SweepError> {
    let axes = axis_names(manifest);
    let csv = render_rows(&axes, rows).map_err(|e| SweepError::Options(e.to_string()))?;
    files_from_rows(manifest, &axes, csv, rows)
}

/// A sweep's files, `(name, bytes)`, and its summary as numbers.
pub type SweepFiles = (Vec<(String, Vec<u8>)>, SweepSummary);

/// The files, with sweep.csv already rendered as `csv`.
fn files_from_rows(
    manifest: &Manifest,
    axes: &[String],
    csv: Vec<u8>,
    rows: &[Row],
) -> Result<SweepFiles, SweepError> {
    let summary = summarize(axes, rows);
    let summary_csv = render_summary(&summary)
        .map_err(|e| SweepError::Options(format!("sweep-summary.csv: {e}")))?;
    let toml = toml::to_string(manifest).map_err(|e| SweepError::Options(e.to_string()))?;
    Ok((
        vec![
            ("sweep.csv".into(), csv),
            ("sweep-summary.csv".into(), summary_csv),
            ("sweep-manifest.toml".into(), toml.into_bytes()),
        ],
        summary,
    ))
}

/// A one-line description of the grid, for the terminal.
pub fn describe(sweep: &Sweep, partition: Partition) -> String {
    let mut t = String::new();
    let _ = write!(
        t,
        "{} points x {} replication{}",
        sweep.points.len(),
        sweep.replications,
        if sweep.replications == 1 { "" } else { "s" }
    );
    if partition != Partition::WHOLE {
        let _ = write!(
            t,
            ", partition {}/{}: {} runs",
            partition.index,
            partition.count,
            sweep.runs_in(partition)
        );
    }
    for a in &sweep.axes {
        let n = a.values.len();
        let _ = write!(
            t,
            "; {} ({n} value{})",
            a.path,
            if n == 1 { "" } else { "s" }
        );
    }
    let engines = crate::model::engine_tally(sweep.points.iter().map(crate::model::engine_for));
    let _ = write!(t, "; {}", crate::model::engine_counts(&engines, "point"));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_error_reads_as_the_set_it_came_from() {
        let e = SweepError::from(Axis::parse("stream.shards").unwrap_err());
        assert!(matches!(&e, SweepError::Set { spec, .. } if spec == "stream.shards"));
        assert_eq!(
            e.to_string(),
            "--set stream.shards: expected PATH=VALUES, e.g. stream.shards=2..16"
        );
        let e = axes(&["a=1..2".into()], &["b=5..1".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set b=5..1: the range 5..1 is empty (its start is above its end)"
        );
    }

    #[test]
    fn points_enumerate_with_the_last_axis_fastest() {
        let a = Axis::parse("a=1..2").unwrap();
        let b = Axis::parse("b=10,20,30").unwrap();
        let axes = [a, b];
        let cells = |p| {
            point_values(&axes, p)
                .into_iter()
                .map(cell)
                .collect::<Vec<_>>()
        };
        assert_eq!(cells(0), ["1", "10"]);
        assert_eq!(cells(2), ["1", "30"]);
        assert_eq!(cells(3), ["2", "10"]);
        assert_eq!(cells(5), ["2", "30"]);
    }

    #[test]
    fn partitions_parse_and_slice_round_robin() {
        assert_eq!(
            Partition::parse("2/4").unwrap(),
            Partition { index: 2, count: 4 }
        );
        for bad in ["0/4", "5/4", "1/0", "x", "1-2", "a/b"] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
        let p = Partition { index: 2, count: 3 };
        let held: Vec<usize> = (0..8).filter(|&i| p.holds(i)).collect();
        assert_eq!(held, [1, 4, 7]);
    }
}
