//! `sweep` (a grid of runs, possibly one partition of it) and `merge`
//! (joining the partitions).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::args::{Pages, Threads};
use super::output::{self, DirFor};
use crate::sweep::{Manifest, Partition, Sweep};

/// Arguments of `sweep`.
#[derive(Debug, Args)]
// A part of a sweep never has a page: said where the flag is explained.
#[command(mut_arg("no_report", |a| a.help(
    "Do not write report.html (the one-page report with the verdict and \
     the charts; a --partition part never has one); an older one in the directory is removed"
)))]
pub struct SweepArgs {
    /// The scenario file (`-`: read it from stdin; files it names are then
    /// relative to the current directory).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// An axis of the grid: PATH=A..B, PATH=A..B:STEP or PATH=V1,V2,...
    /// (e.g. stream.shards=2..16, producers.web.keys.exponent=0.8,1.0,1.2).
    /// Replaces the file's axis with the same path. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUES")]
    pub set: Vec<String>,
    /// Replications per point [default: the file's sweep.replications, or 1].
    #[arg(long, short = 'r', value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub replications: Option<u32>,
    /// The worker pool.
    #[command(flatten)]
    pub threads: Threads,
    /// Run only the I-th of N slices of the grid (points p with p mod N = I-1);
    /// join the parts with `shardcast merge`.
    #[arg(long, value_name = "I/N")]
    pub partition: Option<String>,
    /// Output directory [default: reports/NAME-sweep, NAME the file name without .toml].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// report.html and PNG charts.
    #[command(flatten)]
    pub pages: Pages,
    /// The engine.
    #[command(flatten)]
    pub engine: super::args::EngineFlag,
    /// No progress bar and no notes on stderr. (A bar is drawn only when
    /// stderr is a terminal; the results are the same either way.)
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The parts' directories.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the joined sweep.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// report.html and PNG charts.
    #[command(flatten)]
    pub pages: Pages,
}

/// `sweep`: runs the grid (or one partition of it) in parallel and writes
/// sweep.csv, sweep-summary.csv, sweep-manifest.toml and, for a whole
/// sweep, the pages.
pub(crate) fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Result<()> {
    let (mut base, md5, text) = super::load_text(&args.file)?;
    args.engine.apply(&mut base, &args.file)?;
    let (file_sets, file_reps) = crate::sweep::file_grid(&text)?;
    let axes = crate::sweep::axes(&file_sets, &args.set)?;
    let partition = match &args.partition {
        Some(p) => Partition::parse(p)?,
        None => Partition::WHOLE,
    };
    let replications = args.replications.or(file_reps).unwrap_or(1);
    let pool = args.threads.pool()?;
    // Every point is validated before anything runs.
    let mut sweep = Sweep::new(
        &text,
        super::shown_path(&args.file),
        &md5,
        axes,
        replications,
    )?;
    // The points are the file with the grid written in, parsed again:
    // `--engine` applies to each.
    for point in &mut sweep.points {
        args.engine.apply(point, &args.file)?;
    }
    writeln!(out, "{}", crate::sweep::describe(&sweep, partition))?;
    let runs = sweep.runs_in(partition);
    let picked: Vec<&crate::scenario::Scenario> = (0..sweep.points.len())
        .filter(|&p| partition.holds(p))
        .flat_map(|p| std::iter::repeat_n(&sweep.points[p], sweep.replications as usize))
        .collect();
    let threads = pool.current_num_threads();
    if let Some(note) = super::progress::estimate(&picked, threads, "these runs") {
        super::progress::note(args.quiet, &note);
    }
    let bar = super::progress::Bar::runs(args.quiet, runs as u64);
    let rows = pool.install(|| sweep.run(partition, &|| bar.inc()));
    bar.finish();
    let manifest = sweep.manifest(partition);
    let (mut files, summary) = crate::sweep::files(&manifest, &rows?)?;
    let dir = output::out_dir(
        args.out.as_deref(),
        DirFor::Sweep(&super::named(&args.file, &base)),
    );
    // A part's summary holds only its own points: its verdict and charts
    // would mislead, so the page is made once, by `merge`.
    if partition == Partition::WHOLE {
        let pages = sweep_pages(
            &manifest,
            &summary,
            Some((&text, base.seed)),
            base.slo.max_throttle_rate,
            args.pages,
        )?;
        files.extend(pages);
    }
    output::write_dir(&dir, &files, &crate::html::page_files())
        .with_context(|| format!("cannot write the sweep into {}", dir.display()))?;
    writeln!(out, "wrote {}", dir.display())?;
    Ok(())
}

/// `merge`: the files one whole sweep writes, from its parts' directories.
pub(crate) fn merge(args: &MergeArgs, out: &mut dyn Write) -> Result<()> {
    let dirs: Vec<&Path> = args.dirs.iter().map(PathBuf::as_path).collect();
    let ((mut files, summary), manifest) = crate::sweep::merge(&dirs)?;
    // The parts keep no scenario file, so neither its text nor its
    // objectives are known here.
    let pages = sweep_pages(&manifest, &summary, None, None, args.pages)?;
    files.extend(pages);
    output::write_dir(&args.out, &files, &crate::html::page_files())
        .with_context(|| format!("cannot write the sweep into {}", args.out.display()))?;
    writeln!(
        out,
        "merged {} parts into {}",
        args.dirs.len(),
        args.out.display()
    )?;
    Ok(())
}

/// report.html and the PNG charts of a whole sweep, from its summary.
fn sweep_pages(
    manifest: &Manifest,
    summary: &crate::sweep::SweepSummary,
    scenario: Option<(&str, u64)>,
    max_throttle_rate: Option<f64>,
    pages: Pages,
) -> Result<Vec<(String, Vec<u8>)>> {
    pages.render(
        || {
            Ok(crate::charts::sweep_charts(&crate::charts::SweepData {
                summary,
                max_throttle_rate,
            })?)
        },
        |charts| {
            Ok(crate::html::render_sweep(
                manifest, summary, scenario, charts,
            )?)
        },
    )
}
