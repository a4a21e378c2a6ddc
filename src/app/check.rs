//! `check` (the CI gate) and `validate` (a scenario read, not run).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::output;
use crate::check::CheckRow;
use crate::model::{Progress, RunOptions, simulate_observed};
use crate::report;
use crate::scenario::Scenario;

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files (`-`: one read from stdin).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// A baseline file (TOML) of committed metric values and tolerances.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the baseline file from these runs instead of comparing against it.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Also write the results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the results as a Markdown table (for a CI job summary).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// The engine.
    #[command(flatten)]
    pub engine: super::args::EngineFlag,
    /// Progress, notes and JSON.
    #[command(flatten)]
    pub shown: super::args::Shown,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (`-`: read it from stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `check`: runs each scenario and judges it; `Ok(false)` when a check
/// fails.
pub(crate) fn check(args: &CheckArgs, out: &mut dyn Write) -> Result<bool> {
    let baseline = match (&args.baseline, args.update_baseline) {
        (Some(path), false) => Some(crate::check::load_baseline(path)?),
        _ => None,
    };
    // Everything is read and validated before anything runs.
    let mut loaded = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let (mut scenario, md5) = super::load(file)?;
        args.engine.apply(&mut scenario, file)?;
        if loaded
            .iter()
            .any(|(s, _, _): &(Scenario, String, &PathBuf)| s.name == scenario.name)
        {
            bail!(
                "{}: scenario name \"{}\" is used by another file; check needs unique names",
                file.display(),
                scenario.name
            );
        }
        loaded.push((scenario, md5, file));
    }
    let quiet = args.shown.quiet;
    let scenarios: Vec<&Scenario> = loaded.iter().map(|(s, _, _)| s).collect();
    // One after another: one worker.
    if let Some(note) = super::progress::estimate(&scenarios, 1, "these runs") {
        super::progress::note(quiet, &note);
    }
    let bar = super::progress::Bar::simulated(quiet, "check");
    bar.queued(scenarios.iter().map(|s| s.duration).sum());
    let mut reports = Vec::with_capacity(loaded.len());
    for (scenario, md5, file) in &loaded {
        let outcome = simulate_observed(scenario, RunOptions::default(), &bar)
            .with_context(|| format!("running {}", file.display()));
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                bar.finish();
                return Err(e);
            }
        };
        let report = report::build(scenario, &outcome, md5).context("rendering the report")?;
        reports.push((scenario.name.clone(), report));
    }
    bar.finish();
    if args.update_baseline {
        let path = args.baseline.as_ref().expect("clap requires --baseline");
        let runs: Vec<(String, &report::RunReport)> =
            reports.iter().map(|(n, r)| (n.clone(), r)).collect();
        let text = crate::check::render_baseline(&runs).context("rendering the baseline")?;
        output::write_file(path, text.as_bytes())?;
        if !args.shown.json {
            writeln!(
                out,
                "wrote the baseline {} for {} scenario(s)",
                path.display(),
                runs.len()
            )?;
        }
    }
    let rows: Vec<CheckRow> = reports
        .iter()
        .flat_map(|(name, r)| crate::check::judge(name, r, baseline.as_ref()))
        .collect();
    if args.shown.json {
        let written = args.baseline.as_deref().filter(|_| args.update_baseline);
        write!(
            out,
            "{}",
            crate::json::to_text(&crate::json::check(&rows, written))
        )?;
    } else if rows.is_empty() {
        writeln!(
            out,
            "no checks: the scenarios have no [slo] and no baseline was given"
        )?;
    } else {
        write!(out, "{}", crate::check::render_table(&rows))?;
    }
    if let Some(path) = &args.junit {
        output::write_file(path, crate::check::render_junit(&rows).as_bytes())?;
    }
    if let Some(path) = &args.summary {
        output::write_file(path, crate::check::render_markdown(&rows).as_bytes())?;
    }
    let failed = rows.iter().filter(|r| !r.pass).count();
    if failed > 0 && !args.shown.json {
        writeln!(out, "{failed} of {} checks failed", rows.len())?;
    }
    Ok(failed == 0)
}

/// `validate`: the scenario's name and shape, the engine a run would use
/// and why, and its notes.
pub(crate) fn validate(args: &ValidateArgs, out: &mut dyn Write) -> Result<()> {
    let (scenario, _) = super::load(&args.file)?;
    writeln!(
        out,
        "{}: ok: \"{}\", {} s, {} shards, {} producer group(s); engine {}",
        args.file.display(),
        scenario.name,
        scenario.duration as f64 / 1e9,
        scenario.stream.shards,
        scenario.producers.len(),
        crate::model::engine_choice(&scenario)
    )?;
    for n in &scenario.notes {
        writeln!(out, "note: {n}")?;
    }
    // What `run` would say on stderr before starting.
    if let Some(note) = super::progress::estimate(&[&scenario], 1, "a run") {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}
