//! `compare`: several scenarios run side by side.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use rayon::prelude::*;

use super::args::Threads;
use super::output::{self, DirFor};
use crate::model::{Progress, RunOptions, simulate_observed};
use crate::report;
use crate::scenario::Scenario;

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario files, in the order of the rows (`-`: one read from stdin).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The worker pool.
    #[command(flatten)]
    pub threads: Threads,
    /// Directory for compare.csv and compare.md [default: reports/compare].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The engine.
    #[command(flatten)]
    pub engine: super::args::EngineFlag,
    /// Progress, notes and JSON.
    #[command(flatten)]
    pub shown: super::args::Shown,
}

/// `compare`: compare.csv and compare.md into the directory, the Markdown
/// table on `out`.
pub(crate) fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<()> {
    // Everything is read and validated before anything runs.
    let loaded = args
        .files
        .iter()
        .map(|f| {
            let (mut s, md5) = super::load(f)?;
            args.engine.apply(&mut s, f)?;
            Ok((f, s, md5))
        })
        .collect::<Result<Vec<_>>>()?;
    let pool = args.threads.pool()?;
    let quiet = args.shown.quiet;
    let scenarios: Vec<&Scenario> = loaded.iter().map(|(_, s, _)| s).collect();
    let threads = pool.current_num_threads();
    if let Some(note) = super::progress::estimate(&scenarios, threads, "these runs") {
        super::progress::note(quiet, &note);
    }
    let bar = super::progress::Bar::simulated(quiet, "compare");
    bar.queued(scenarios.iter().map(|s| s.duration).sum());
    // Runs in parallel, gathered in the order given.
    let rows = pool.install(|| {
        loaded
            .par_iter()
            .map(|(file, scenario, md5)| {
                let outcome = simulate_observed(scenario, RunOptions::default(), &bar)
                    .with_context(|| format!("running {}", file.display()))?;
                let report =
                    report::build(scenario, &outcome, md5).context("rendering the report")?;
                Ok(crate::compare::row(
                    &file.display().to_string(),
                    scenario,
                    &outcome,
                    &report,
                ))
            })
            .collect::<Result<Vec<_>>>()
    });
    bar.finish();
    let rows = rows?;
    let md = crate::compare::render_markdown(&rows);
    let csv = crate::compare::render_csv(&rows).context("rendering compare.csv")?;
    let dir = output::out_dir(args.out.as_deref(), DirFor::Compare);
    let files = [
        ("compare.csv".to_owned(), csv),
        ("compare.md".to_owned(), md.clone().into_bytes()),
    ];
    // No optional files: compare writes the same two every time.
    output::write_dir(&dir, &files, &[])
        .with_context(|| format!("cannot write the comparison into {}", dir.display()))?;
    if args.shown.json {
        let json = crate::json::compare(&files[0].1, &dir).context("reading compare.csv back")?;
        write!(out, "{}", crate::json::to_text(&json))?;
        return Ok(());
    }
    write!(out, "{md}")?;
    writeln!(out, "wrote {}", dir.display())?;
    Ok(())
}
