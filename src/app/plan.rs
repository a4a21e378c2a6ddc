//! `plan`: the smallest shard count that meets the scenario's objectives.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::args::{Pages, Threads};
use super::output::{self, DirFor};

/// Arguments of `plan`.
#[derive(Debug, Args)]
// The planner's own wording: what stays the same is the plan.
#[command(mut_arg("threads", |a| a.help(
    "Worker threads [default: all cores]. The plan is the same for any count"
)))]
pub struct PlanArgs {
    /// The scenario file (`-`: read it from stdin; files it names are then
    /// relative to the current directory).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replications per candidate (independent seeds, the same for every
    /// candidate).
    #[arg(long, short = 'r', default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=100))]
    pub replications: u32,
    /// Smallest shard count to try.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub min_shards: u32,
    /// Largest shard count to try.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub max_shards: u32,
    /// Also run the traffic on an on-demand stream and compare its cost.
    #[arg(long)]
    pub on_demand: bool,
    /// The worker pool.
    #[command(flatten)]
    pub threads: Threads,
    /// Directory for plan.csv and plan.md [default: reports/NAME-plan, NAME the file name without .toml].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
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

/// `plan`: plan.csv, plan.md and the pages into the directory, the
/// Markdown table on `out`. `Ok(false)` (exit code 1) when no shard count
/// in the range meets the objectives: everything is written all the same.
pub(crate) fn plan(args: &PlanArgs, out: &mut dyn Write) -> Result<bool> {
    if args.min_shards > args.max_shards {
        bail!(
            "--min-shards {} is above --max-shards {}",
            args.min_shards,
            args.max_shards
        );
    }
    let (mut scenario, md5, text) = super::load_text(&args.file)?;
    args.engine.apply(&mut scenario, &args.file)?;
    let pool = args.threads.pool()?;
    let options = crate::plan::PlanOptions {
        replications: args.replications,
        min_shards: args.min_shards,
        max_shards: args.max_shards,
        on_demand: args.on_demand,
    };
    let quiet = args.shown.quiet;
    let runs = vec![&scenario; args.replications as usize];
    let what = format!("each candidate's {} runs", args.replications);
    if let Some(note) = super::progress::estimate(&runs, pool.current_num_threads(), &what) {
        super::progress::note(quiet, &note);
    }
    let bar = super::progress::Bar::growing(quiet, "plan", plan_guess(&scenario, args));
    let plan = pool.install(|| crate::plan::plan_observed(&scenario, options, &bar));
    bar.finish();
    let plan = plan?;
    let md = crate::plan::render_markdown(&plan, &scenario.name);
    let csv = crate::plan::render_csv(&plan).context("rendering plan.csv")?;
    let dir = output::out_dir(
        args.out.as_deref(),
        DirFor::Plan(&super::named(&args.file, &scenario)),
    );
    let pages = args.pages.render(
        || Ok(crate::charts::plan_charts(&plan)),
        |charts| {
            Ok(crate::html::render_plan(
                &plan,
                &scenario.name,
                &md,
                (&text, scenario.seed, &md5),
                charts,
            )?)
        },
    )?;
    let mut files = vec![
        ("plan.csv".to_owned(), csv),
        ("plan.md".to_owned(), md.clone().into_bytes()),
    ];
    files.extend(pages);
    output::write_dir(&dir, &files, &crate::html::page_files())
        .with_context(|| format!("cannot write the plan into {}", dir.display()))?;
    if args.shown.json {
        let json = crate::json::plan(&plan, &scenario.name, &dir);
        write!(out, "{}", crate::json::to_text(&json))?;
        return Ok(plan.recommended.is_some());
    }
    write!(out, "{md}")?;
    writeln!(out, "wrote {}", dir.display())?;
    Ok(plan.recommended.is_some())
}

/// A guess at the simulated time a plan runs, for its bar: the search's
/// doubling up to the AWS guide's shard count, its bisection back down,
/// the two neighbours and the hot-key run (and the on-demand runs). Salted
/// searches, found only on the way, add to it then.
fn plan_guess(scenario: &crate::scenario::Scenario, args: &PlanArgs) -> u64 {
    let guide = crate::plan::formulas(scenario, &[])
        .guide
        .clamp(args.min_shards, args.max_shards);
    let doublings = (f64::from(guide) / f64::from(args.min_shards))
        .log2()
        .ceil()
        .max(0.0) as u64;
    let candidates = 2 * doublings + 3 + if args.on_demand { 2 } else { 0 };
    scenario
        .duration
        .saturating_mul(candidates * u64::from(args.replications) + 1)
}
