//! `run`: simulate one scenario and write its report directory.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::args::Pages;
use super::output::{self, DirFor};
use crate::model::{Progress, RunOptions, simulate_observed};
use crate::report;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML; see docs/scenarios.md). `-` reads it from
    /// stdin; files it names are then relative to the current directory.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Directory for the report [default: reports/NAME, NAME the file name without .toml].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Use this master seed instead of the scenario's.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Also write a per-second stream-level series (timeseries-seconds.csv).
    #[arg(long)]
    pub per_second: bool,
    /// Skip malformed lines of record traces (counted) instead of stopping.
    #[arg(long)]
    pub skip_bad_lines: bool,
    /// report.html and PNG charts.
    #[command(flatten)]
    pub pages: Pages,
    /// The engine.
    #[command(flatten)]
    pub engine: super::args::EngineFlag,
    /// Progress, notes and JSON.
    #[command(flatten)]
    pub shown: super::args::Shown,
}

/// `run`: the report files, report.html and charts into the directory, the
/// summary on `out`.
pub(crate) fn run(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let (mut scenario, md5, text) = super::load_text(&args.file)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    args.engine.apply(&mut scenario, &args.file)?;
    if args.skip_bad_lines {
        for g in &mut scenario.producers {
            if let Some(t) = &mut g.trace {
                t.skip_bad_lines = true;
            }
        }
    }
    let quiet = args.shown.quiet;
    if let Some(note) = super::progress::estimate(&[&scenario], 1, "this run") {
        super::progress::note(quiet, &note);
    }
    let bar = super::progress::Bar::simulated(quiet, "run");
    bar.queued(scenario.duration);
    let outcome = simulate_observed(
        &scenario,
        RunOptions {
            per_second: args.per_second,
        },
        &bar,
    );
    bar.finish();
    let outcome = outcome?;
    let mut report = report::build(&scenario, &outcome, &md5).context("rendering the report")?;
    let dir = output::out_dir(
        args.out.as_deref(),
        DirFor::Run(&super::named(&args.file, &scenario)),
    );
    let extra = args.pages.render(
        || Ok(crate::charts::run_charts(&scenario, &outcome, &report)),
        |charts| Ok(crate::html::render_run(&report, &text, charts)?),
    )?;
    let mut files = std::mem::take(&mut report.files);
    files.extend(extra);
    // Files of an earlier run that this one does not write (e.g. the
    // per-second series) would otherwise be mistaken for part of it.
    let optional: Vec<String> = report::OPTIONAL_FILES
        .iter()
        .map(|s| (*s).to_owned())
        .chain(crate::html::page_files())
        .collect();
    output::write_dir(&dir, &files, &optional)
        .with_context(|| format!("cannot write the report into {}", dir.display()))?;
    let mut notes = scenario.notes.clone();
    notes.extend(crate::plan::on_demand_still_scaling(&scenario, &outcome));
    if outcome.engine == crate::scenario::EngineKind::Shard {
        for why in crate::model::shard_engine_caveats(&scenario) {
            notes.push(format!(
                "{why}: the shard engine may disagree with the record engine here (docs/engines.md)"
            ));
        }
    }
    if args.shown.json {
        let json = crate::json::run(&report, &dir, &notes, outcome.trace_lines_skipped);
        write!(out, "{}", crate::json::to_text(&json))?;
        return Ok(());
    }
    write!(out, "{}", report::render_text(&report, &dir))?;
    for n in &notes {
        writeln!(out, "  note       {n}")?;
    }
    if outcome.trace_lines_skipped > 0 {
        writeln!(
            out,
            "  trace      {} malformed line(s) skipped",
            outcome.trace_lines_skipped
        )?;
    }
    Ok(())
}
