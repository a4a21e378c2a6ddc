//! Flag groups that several commands share, flattened into their
//! arguments (`#[command(flatten)]`), each with the code that reads it.
//!
//! A command whose help for a shared flag says something of its own sets it
//! with `mut_arg` on its arguments struct; the flag itself stays here.

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::charts::Chart;

/// `--threads`: the worker pool of `plan`, `sweep` and `compare`.
#[derive(Debug, Clone, Copy, Args)]
pub struct Threads {
    /// Worker threads [default: all cores]. The output is the same for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl Threads {
    /// A pool of `--threads` workers (all cores without the flag).
    pub(crate) fn pool(self) -> Result<rayon::ThreadPool> {
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(n) = self.threads {
            if n == 0 {
                bail!("--threads 0 is out of range; accepted range is 1 and up");
            }
            pool = pool.num_threads(n);
        }
        pool.build().context("starting the worker threads")
    }
}

/// `--engine`: which engine simulates, for `run`, `plan`, `sweep`,
/// `compare` and `check`.
#[derive(Debug, Clone, Args)]
pub struct EngineFlag {
    /// Which engine simulates: record (every record an event; the
    /// reference), shard (per-shard flows in time steps, for large streams)
    /// or auto (shard above 500 million expected records) [default: the
    /// scenario's `engine`, else auto]
    #[arg(long, value_name = "ENGINE", value_parser = ["record", "shard", "auto"])]
    pub engine: Option<String>,
}

impl EngineFlag {
    /// Sets the scenario (read from `file`) to the flag's engine, if given.
    /// `--engine shard` on a scenario replaying a record trace is refused
    /// here, naming the file, before anything runs.
    pub(crate) fn apply(
        &self,
        scenario: &mut crate::scenario::Scenario,
        file: &std::path::Path,
    ) -> anyhow::Result<()> {
        use crate::scenario::EngineKind;
        let Some(kind) = self.engine.as_deref().and_then(EngineKind::parse) else {
            return Ok(());
        };
        if kind == EngineKind::Shard
            && let Some(g) = scenario.producers.iter().find(|g| g.replays_record_trace())
        {
            anyhow::bail!(
                "--engine shard: {}: producer group \"{}\" replays a record trace, which only the record engine reads; use --engine record or auto",
                file.display(),
                g.name
            );
        }
        scenario.engine.kind = kind;
        Ok(())
    }
}

/// `--no-report` and `--png`: the pages of `run`, `plan`, `sweep` and
/// `merge` besides their data files.
#[derive(Debug, Clone, Copy, Args)]
pub struct Pages {
    /// Do not write report.html (the one-page report with the verdict and
    /// the charts); an older one in the directory is removed.
    #[arg(long)]
    pub no_report: bool,
    /// Also write each chart as a PNG image, charts/NAME.png.
    #[arg(long)]
    pub png: bool,
}

impl Pages {
    /// report.html (made by `html` from the charts, unless --no-report) and,
    /// with --png, each chart as charts/NAME.png. The charts are drawn only
    /// if one of them is wanted.
    pub(crate) fn render(
        self,
        charts: impl FnOnce() -> Result<Vec<Chart>>,
        html: impl FnOnce(&[Chart]) -> Result<String>,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let mut files = Vec::new();
        if self.no_report && !self.png {
            return Ok(files);
        }
        let charts = charts()?;
        if !self.no_report {
            files.push(("report.html".to_owned(), html(&charts)?.into_bytes()));
        }
        if self.png {
            for c in &charts {
                files.push((
                    format!("charts/{}.png", c.name),
                    crate::charts::render_png(c)?,
                ));
            }
        }
        Ok(files)
    }
}

/// `--format`, `--time-unit` and `--skip-bad-lines`: how `trace summarize`
/// and `trace hash` read a trace.
#[derive(Debug, Clone, Args)]
pub struct TraceReading {
    /// The trace's format: csv or jsonl [default: from the file name: .csv,
    /// or .jsonl, .ndjson, .json]. Needed for `-` (stdin).
    #[arg(long, value_name = "FORMAT", value_parser = ["csv", "jsonl"])]
    pub format: Option<String>,
    /// Unit of numeric timestamps: s, ms, us or ns.
    #[arg(long, default_value = "s")]
    pub time_unit: String,
    /// Skip malformed lines (counted) instead of stopping.
    #[arg(long)]
    pub skip_bad_lines: bool,
}

impl TraceReading {
    /// Nanoseconds per unit of `--time-unit`.
    pub(crate) fn time_unit_ns(&self) -> Result<u64> {
        Ok(match self.time_unit.as_str() {
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" => 1_000,
            "ns" => 1,
            other => bail!("--time-unit {other}: accepted units are s, ms, us and ns"),
        })
    }
}

/// `--quiet` and `--json`: what `run`, `plan`, `compare` and `check` show
/// besides their files.
#[derive(Debug, Clone, Copy, Args)]
pub struct Shown {
    /// No progress bar and no notes on stderr. (A bar is drawn only when
    /// stderr is a terminal; the results on stdout are the same either way.)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the result as one JSON object on stdout instead of the human
    /// summary (docs/json.md).
    #[arg(long)]
    pub json: bool,
}
