//! The command line: argument definitions (clap derive) and the commands.
//!
//! The binary only calls [`main`]; everything here is library code so that it
//! can be tested in-process. Output goes to any `Write`r, errors come back as
//! `anyhow::Error` with the context of the offending input.

use std::ffi::OsString;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::kds::{
    EpochNanos, HashKey, KeyLengthRule, QUOTAS_AS_OF, Quota, ReshardOp, SequenceNumber, ShardId,
    ShardMap, UpdatePlan, format_width, validate_partition_key,
};
use crate::model::{RunOptions, simulate};
use crate::report;
use crate::scenario::{Scenario, ScenarioError};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code of `check` when an objective or a baseline comparison fails.
pub const EXIT_FAIL: u8 = 1;
/// Exit code for bad input or any other error.
pub const EXIT_ERROR: u8 = 2;

/// shardcast: a deterministic simulator and capacity planner for Amazon
/// Kinesis Data Streams.
///
/// The commands below apply the service's own rules: MD5 partitioning over
/// 128-bit hash key ranges, shard lineage under SplitShard, MergeShards and
/// UpdateShardCount, and the 56-digit sequence number layout.
#[derive(Debug, Parser)]
#[command(name = "shardcast", version, max_term_width = 100)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// A shardcast command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario file and write its report (summary.csv,
    /// timeseries.csv, shards.csv, keys.csv) into a directory.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Validate(ValidateArgs),
    /// Find the smallest shard count that meets the scenario's `[slo]`, with
    /// replications, confidence intervals and costs; writes plan.csv and
    /// plan.md.
    Plan(PlanArgs),
    /// The CI gate: run scenarios and judge each against its `[slo]` and,
    /// with --baseline, against committed values. Exit code 0 when every
    /// check holds, 1 when one fails, 2 on an error.
    Check(CheckArgs),
    /// Run a scenario over a grid of parameter values (its `[sweep]` and
    /// --set), R replications per point, in parallel; writes sweep.csv,
    /// sweep-summary.csv and sweep-manifest.toml.
    Sweep(SweepArgs),
    /// Join the directories written by `sweep --partition I/N` into the
    /// files one whole sweep writes.
    Merge(MergeArgs),
    /// Run several scenarios (e.g. one traffic under different autoscaling
    /// policies or capacity modes) and write them side by side:
    /// compare.csv and compare.md.
    Compare(CompareArgs),
    /// Print the hash key and shard of partition keys (or explicit hash keys)
    /// in a stream created with N shards.
    ///
    /// Text output has one line per key: SHARD_ID, HASH_KEY and the key,
    /// separated by tabs. Keys come in this order: KEY arguments, then
    /// --explicit-hash-key values, then --stdin lines.
    ShardOf(ShardOfArgs),
    /// Print the plan of an UpdateShardCount (uniform scaling): its splits
    /// and merges with the shard ids they create, the open shards after, and
    /// the short-lived shards it makes; or the limit the request breaks.
    Reshard(ReshardArgs),
    /// Decode sequence numbers into their fields: shard, shard creation
    /// time, per-shard counter and record time.
    DecodeSeq(DecodeSeqArgs),
    /// Print the service limits shardcast enforces, each with its source.
    Quotas(QuotasArgs),
    /// Inspect a record trace before replaying it, or make a copy without
    /// its keys.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Print a built-in price table as a price file (TOML): the template for
    /// a region without one (edit it, then set `stream.prices` to its path).
    Prices(PricesArgs),
}

/// How partition key length is counted (see `--key-length`).
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum KeyLength {
    /// Unicode scalar values, one per character (shardcast's default).
    #[default]
    Chars,
    /// UTF-16 code units, as kinesalite and Java count them (an emoji is 2).
    Utf16,
}

impl From<KeyLength> for KeyLengthRule {
    fn from(k: KeyLength) -> Self {
        match k {
            KeyLength::Chars => KeyLengthRule::UnicodeScalars,
            KeyLength::Utf16 => KeyLengthRule::Utf16Units,
        }
    }
}

/// Arguments of `shard-of`.
#[derive(Debug, Args)]
pub struct ShardOfArgs {
    /// Number of shards the stream was created with (CreateStream ranges).
    #[arg(long, short = 's', value_name = "N")]
    pub shards: u32,
    /// Partition keys (1 to 256 characters each). Put `--` before keys that
    /// start with a dash.
    #[arg(value_name = "KEY")]
    pub keys: Vec<String>,
    /// Also read partition keys from standard input, one per line. Lines are
    /// split on '\n' only, so a '\r' is part of a key.
    #[arg(long)]
    pub stdin: bool,
    /// An explicit hash key (decimal, 0 to 2^128-1) to route instead of a
    /// partition key's MD5. Repeatable.
    #[arg(long = "explicit-hash-key", value_name = "H")]
    pub explicit_hash_keys: Vec<String>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// How key length is counted against the 1..=256 limit.
    #[arg(long, value_enum, default_value_t = KeyLength::Chars)]
    pub key_length: KeyLength,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML; see docs/scenarios.md).
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
    /// Do not write report.html (the one-page report with the verdict and
    /// the charts); an older one in the directory is removed.
    #[arg(long)]
    pub no_report: bool,
    /// Also write each chart as a PNG image, charts/NAME.png.
    #[arg(long)]
    pub png: bool,
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The scenario file.
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
    /// Worker threads [default: all cores]. The plan is the same for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Directory for plan.csv and plan.md [default: reports/NAME-plan, NAME the file name without .toml].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not write report.html (the one-page report with the verdict and
    /// the charts); an older one in the directory is removed.
    #[arg(long)]
    pub no_report: bool,
    /// Also write each chart as a PNG image, charts/NAME.png.
    #[arg(long)]
    pub png: bool,
}

/// Arguments of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file.
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
    /// Worker threads [default: all cores]. The output is the same for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run only the I-th of N slices of the grid (points p with p mod N = I-1);
    /// join the parts with `shardcast merge`.
    #[arg(long, value_name = "I/N")]
    pub partition: Option<String>,
    /// Output directory [default: reports/NAME-sweep, NAME the file name without .toml].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not write report.html (the one-page report with the verdict and
    /// the charts; a --partition part never has one); an older one in the directory is removed.
    #[arg(long)]
    pub no_report: bool,
    /// Also write each chart as a PNG image, charts/NAME.png.
    #[arg(long)]
    pub png: bool,
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
    /// Do not write report.html (the one-page report with the verdict and
    /// the charts); an older one in the directory is removed.
    #[arg(long)]
    pub no_report: bool,
    /// Also write each chart as a PNG image, charts/NAME.png.
    #[arg(long)]
    pub png: bool,
}

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario files, in the order of the rows.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Worker threads [default: all cores]. The output is the same for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Directory for compare.csv and compare.md.
    #[arg(
        long,
        short = 'o',
        value_name = "DIR",
        default_value = "reports/compare"
    )]
    pub out: PathBuf,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files.
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
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Arguments of `reshard`.
#[derive(Debug, Args)]
pub struct ReshardArgs {
    /// Open shards before: the stream is created with this many shards.
    #[arg(long, value_name = "N")]
    pub from: u32,
    /// Target shard count of the UpdateShardCount call.
    #[arg(long, value_name = "M")]
    pub to: u32,
    /// UpdateShardCount calls already accepted in the past 24 hours (the
    /// service allows 10 per rolling 24 hours).
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub recent_calls: u32,
    /// Print the plan as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `decode-seq`.
#[derive(Debug, Args)]
pub struct DecodeSeqArgs {
    /// Sequence numbers (56 decimal digits, as the API returns them).
    #[arg(value_name = "NUMBER", required = true)]
    pub numbers: Vec<String>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `quotas`.
#[derive(Debug, Args)]
pub struct QuotasArgs {
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `trace` subcommands.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Print a trace's rate over time, key count, top keys with their
    /// shards at a given shard count, and size distribution.
    Summarize(TraceSummarizeArgs),
    /// Write a copy of a trace with each partition key replaced by its
    /// hash key and length, so it can be shared without its keys and still
    /// replay exactly.
    Hash(TraceHashArgs),
}

/// Arguments of `trace hash`.
#[derive(Debug, Args)]
pub struct TraceHashArgs {
    /// The trace (CSV with a header, or JSON Lines).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The file to write, in the same format (written whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Unit of numeric timestamps: s, ms, us or ns.
    #[arg(long, default_value = "s")]
    pub time_unit: String,
    /// Skip malformed lines (counted) instead of stopping.
    #[arg(long)]
    pub skip_bad_lines: bool,
}

/// Arguments of `trace summarize`.
#[derive(Debug, Args)]
pub struct TraceSummarizeArgs {
    /// The trace (CSV with a header, or JSON Lines).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show each top key's shard in a stream created with this many shards.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub shards: u32,
    /// How many top keys to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Unit of numeric timestamps: s, ms, us or ns.
    #[arg(long, default_value = "s")]
    pub time_unit: String,
    /// Skip malformed lines (counted) instead of stopping.
    #[arg(long)]
    pub skip_bad_lines: bool,
}

/// Arguments of `prices`.
#[derive(Debug, Args)]
pub struct PricesArgs {
    /// The built-in region to print.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

/// Parses `args`, runs the command, prints any error as one line on stderr
/// and returns the process exit code. A closed stdout (`| head`) is success.
pub fn main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version on stdout and usage errors on stderr.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_OK
            });
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(cli, &mut io::stdin().lock(), &mut out).and_then(|ok| {
        out.flush()?;
        Ok(ok)
    });
    match result {
        Ok(true) => ExitCode::from(EXIT_OK),
        Ok(false) => ExitCode::from(EXIT_FAIL),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_OK),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Runs a parsed command, reading `--stdin` input from `input` and writing
/// results to `out`. `Ok(false)`: the command ran, and a check failed.
pub fn run(cli: Cli, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<bool> {
    match cli.command {
        Command::Run(args) => run_scenario(&args, out),
        Command::Validate(args) => validate(&args, out),
        Command::Check(args) => return check(&args, out),
        Command::Plan(args) => plan(&args, out),
        Command::Compare(args) => compare(&args, out),
        Command::Sweep(args) => sweep(&args, out),
        Command::Merge(args) => merge(&args, out),
        Command::ShardOf(args) => shard_of(&args, input, out),
        Command::Reshard(args) => reshard(&args, out),
        Command::DecodeSeq(args) => decode_seq(&args, out),
        Command::Quotas(args) => quotas(&args, out),
        Command::Prices(args) => prices(&args, out),
        Command::Trace(TraceCommand::Summarize(args)) => trace_summarize(&args, out),
        Command::Trace(TraceCommand::Hash(args)) => trace_hash(&args, out),
    }
    .map(|()| true)
}

fn check(args: &CheckArgs, out: &mut dyn Write) -> Result<bool> {
    let baseline = match (&args.baseline, args.update_baseline) {
        (Some(path), false) => Some(crate::check::load_baseline(path)?),
        _ => None,
    };
    // Everything is read and validated before anything runs.
    let mut loaded = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let (scenario, md5) = load(file)?;
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
    let mut reports = Vec::with_capacity(loaded.len());
    for (scenario, md5, file) in &loaded {
        let outcome = simulate(scenario, RunOptions::default())
            .with_context(|| format!("running {}", file.display()))?;
        let report = report::build(scenario, &outcome, md5).context("rendering the report")?;
        reports.push((scenario.name.clone(), report));
    }
    if args.update_baseline {
        let path = args.baseline.as_ref().expect("clap requires --baseline");
        let runs: Vec<(String, &report::RunReport)> =
            reports.iter().map(|(n, r)| (n.clone(), r)).collect();
        let text = crate::check::render_baseline(&runs).context("rendering the baseline")?;
        write_file(path, text.as_bytes())?;
        writeln!(
            out,
            "wrote the baseline {} for {} scenario(s)",
            path.display(),
            runs.len()
        )?;
    }
    let rows: Vec<crate::check::CheckRow> = reports
        .iter()
        .flat_map(|(name, r)| crate::check::judge(name, r, baseline.as_ref()))
        .collect();
    if rows.is_empty() {
        writeln!(
            out,
            "no checks: the scenarios have no [slo] and no baseline was given"
        )?;
    } else {
        write!(out, "{}", crate::check::render_table(&rows))?;
    }
    if let Some(path) = &args.junit {
        write_file(path, crate::check::render_junit(&rows).as_bytes())?;
    }
    if let Some(path) = &args.summary {
        write_file(path, crate::check::render_markdown(&rows).as_bytes())?;
    }
    let failed = rows.iter().filter(|r| !r.pass).count();
    if failed > 0 {
        writeln!(out, "{failed} of {} checks failed", rows.len())?;
    }
    Ok(failed == 0)
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            bail!("--threads 0 is out of range; accepted range is 1 and up");
        }
        pool = pool.num_threads(n);
    }
    pool.build().context("starting the worker threads")
}

fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Result<()> {
    use crate::sweep::{Partition, Sweep};
    let (base, md5, text) = load_text(&args.file)?;
    let (file_sets, file_reps) = crate::sweep::file_grid(&text)?;
    let axes = crate::sweep::axes(&file_sets, &args.set)?;
    let partition = match &args.partition {
        Some(p) => Partition::parse(p)?,
        None => Partition::WHOLE,
    };
    let replications = args.replications.or(file_reps).unwrap_or(1);
    let pool = pool(args.threads)?;
    // Every point is validated before anything runs.
    let sweep = Sweep::new(&text, &args.file, &md5, axes, replications)?;
    writeln!(out, "{}", crate::sweep::describe(&sweep, partition))?;
    // Drawn only on a terminal (indicatif stays silent otherwise).
    let bar = indicatif::ProgressBar::new(sweep.runs_in(partition) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let rows = pool.install(|| sweep.run(partition, &|| bar.inc(1)));
    bar.finish_and_clear();
    let manifest = sweep.manifest(partition);
    let (mut files, summary) = crate::sweep::files(&manifest, &rows?)?;
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            let stem = args.file.file_stem().unwrap_or_default().to_string_lossy();
            Path::new("reports").join(format!("{stem}-sweep"))
        }
    };
    // A part's summary holds only its own points: its verdict and charts
    // would mislead, so the page is made once, by `merge`.
    if partition == Partition::WHOLE {
        let pages = sweep_pages(
            &manifest,
            &summary,
            Some((&text, base.seed)),
            base.slo.max_throttle_rate,
            args.no_report,
            args.png,
        )?;
        files.extend(pages);
    }
    write_with_pages(&dir, &files)
        .with_context(|| format!("cannot write the sweep into {}", dir.display()))?;
    writeln!(out, "wrote {}", dir.display())?;
    Ok(())
}

/// report.html (unless `no_report`) and the charts as PNG (if `png`) of a
/// whole sweep, from its summary.
fn sweep_pages(
    manifest: &crate::sweep::Manifest,
    summary: &crate::sweep::SweepSummary,
    scenario: Option<(&str, u64)>,
    max_throttle_rate: Option<f64>,
    no_report: bool,
    png: bool,
) -> Result<Vec<(String, Vec<u8>)>> {
    if no_report && !png {
        return Ok(Vec::new());
    }
    let charts = crate::charts::sweep_charts(&crate::charts::SweepData {
        summary,
        max_throttle_rate,
    })?;
    let html = (!no_report)
        .then(|| crate::html::render_sweep(manifest, summary, scenario, &charts))
        .transpose()?;
    pages(&charts, html, png)
}

/// report.html (if given) and, with `png`, every chart as charts/NAME.png.
fn pages(
    charts: &[crate::charts::Chart],
    html: Option<String>,
    png: bool,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    if let Some(h) = html {
        files.push(("report.html".to_owned(), h.into_bytes()));
    }
    if png {
        for c in charts {
            files.push((
                format!("charts/{}.png", c.name),
                crate::charts::render_png(c)?,
            ));
        }
    }
    Ok(files)
}

/// Writes `files` into `dir` all or nothing ([`report::write_atomic`]),
/// then removes a report.html or chart this run did not write, which would
/// otherwise be taken for part of it (and the charts directory, if that
/// leaves it empty). Other files are left alone.
fn write_with_pages(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    report::write_atomic(dir, files)?;
    remove_stale(dir, files, crate::html::page_files())
}

fn remove_stale(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    names: impl IntoIterator<Item = String>,
) -> Result<()> {
    for name in names {
        if !files.iter().any(|(n, _)| *n == name) {
            let stale = dir.join(&name);
            if stale.is_file() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("cannot remove the stale {}", stale.display()))?;
            }
        }
    }
    // Fails, harmlessly, unless the directory is there and empty.
    let _ = std::fs::remove_dir(dir.join("charts"));
    Ok(())
}

fn merge(args: &MergeArgs, out: &mut dyn Write) -> Result<()> {
    let dirs: Vec<&Path> = args.dirs.iter().map(PathBuf::as_path).collect();
    let (mut files, summary) = crate::sweep::merge(&dirs)?;
    let manifest: crate::sweep::Manifest = files
        .iter()
        .find(|(n, _)| n == "sweep-manifest.toml")
        .and_then(|(_, b)| toml::from_str(std::str::from_utf8(b).ok()?).ok())
        .context("merge: the joined manifest does not parse")?;
    // The parts keep no scenario file, so neither its text nor its
    // objectives are known here.
    let pages = sweep_pages(&manifest, &summary, None, None, args.no_report, args.png)?;
    files.extend(pages);
    write_with_pages(&args.out, &files)
        .with_context(|| format!("cannot write the sweep into {}", args.out.display()))?;
    writeln!(
        out,
        "merged {} parts into {}",
        args.dirs.len(),
        args.out.display()
    )?;
    Ok(())
}

fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<()> {
    use rayon::prelude::*;
    // Everything is read and validated before anything runs.
    let loaded = args
        .files
        .iter()
        .map(|f| load(f).map(|(s, md5)| (f, s, md5)))
        .collect::<Result<Vec<_>>>()?;
    let pool = pool(args.threads)?;
    // Runs in parallel, gathered in the order given.
    let rows = pool.install(|| {
        loaded
            .par_iter()
            .map(|(file, scenario, md5)| {
                let outcome = simulate(scenario, RunOptions::default())
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
    })?;
    let md = crate::compare::render_markdown(&rows);
    let csv = crate::compare::render_csv(&rows).context("rendering compare.csv")?;
    report::write_atomic(
        &args.out,
        &[
            ("compare.csv".to_owned(), csv),
            ("compare.md".to_owned(), md.clone().into_bytes()),
        ],
    )
    .with_context(|| format!("cannot write the comparison into {}", args.out.display()))?;
    write!(out, "{md}")?;
    writeln!(out, "wrote {}", args.out.display())?;
    Ok(())
}

fn plan(args: &PlanArgs, out: &mut dyn Write) -> Result<()> {
    if args.min_shards > args.max_shards {
        bail!(
            "--min-shards {} is above --max-shards {}",
            args.min_shards,
            args.max_shards
        );
    }
    let (scenario, md5, text) = load_text(&args.file)?;
    let pool = pool(args.threads)?;
    let options = crate::plan::PlanOptions {
        replications: args.replications,
        min_shards: args.min_shards,
        max_shards: args.max_shards,
        on_demand: args.on_demand,
    };
    let plan = pool.install(|| crate::plan::plan(&scenario, options))?;
    let md = crate::plan::render_markdown(&plan, &scenario.name);
    let csv = crate::plan::render_csv(&plan).context("rendering plan.csv")?;
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            let stem = args.file.file_stem().unwrap_or_default().to_string_lossy();
            Path::new("reports").join(format!("{stem}-plan"))
        }
    };
    let mut files = Vec::new();
    if !args.no_report || args.png {
        let charts = crate::charts::plan_charts(&plan);
        let html = (!args.no_report)
            .then(|| {
                crate::html::render_plan(
                    &plan,
                    &scenario.name,
                    &md,
                    (&text, scenario.seed, &md5),
                    &charts,
                )
            })
            .transpose()?;
        files = pages(&charts, html, args.png)?;
    }
    files.insert(0, ("plan.csv".to_owned(), csv));
    files.insert(1, ("plan.md".to_owned(), md.clone().into_bytes()));
    write_with_pages(&dir, &files)
        .with_context(|| format!("cannot write the plan into {}", dir.display()))?;
    write!(out, "{md}")?;
    writeln!(out, "wrote {}", dir.display())?;
    Ok(())
}

/// Writes one file atomically (a temporary file, then a rename).
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .into_owned();
    report::write_atomic(&dir, &[(name, bytes.to_vec())])
        .with_context(|| format!("cannot write {}", path.display()))
}

fn load(path: &Path) -> Result<(Scenario, String)> {
    load_text(path).map(|(s, md5, _)| (s, md5))
}

/// The scenario, the MD5 of its inputs and its text.
fn load_text(path: &Path) -> Result<(Scenario, String, String)> {
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| anyhow::anyhow!("{} is not valid UTF-8 text", path.display()))?;
    let scenario = Scenario::parse(&text, path)?;
    // The scenario and every file it reads: a change to a trace or an
    // imported configuration changes the digest too.
    let hex = crate::scenario::input_md5(&bytes, &scenario.imports)?;
    Ok((scenario, hex, text))
}

fn run_scenario(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let (mut scenario, md5, text) = load_text(&args.file)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if args.skip_bad_lines {
        for g in &mut scenario.producers {
            if let Some(t) = &mut g.trace {
                t.skip_bad_lines = true;
            }
        }
    }
    let outcome = simulate(
        &scenario,
        RunOptions {
            per_second: args.per_second,
        },
    )?;
    let mut report = report::build(&scenario, &outcome, &md5).context("rendering the report")?;
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => {
            let stem = args.file.file_stem().unwrap_or_default();
            Path::new("reports").join(stem)
        }
    };
    let mut extra = Vec::new();
    if !args.no_report || args.png {
        let charts = crate::charts::run_charts(&scenario, &outcome, &report);
        let html = (!args.no_report)
            .then(|| crate::html::render_run(&report, &text, &charts))
            .transpose()?;
        extra = pages(&charts, html, args.png)?;
    }
    let mut files = std::mem::take(&mut report.files);
    files.extend(extra);
    report::write_atomic(&dir, &files)
        .with_context(|| format!("cannot write the report into {}", dir.display()))?;
    // Files of an earlier run that this one does not write (e.g. the
    // per-second series) would otherwise be mistaken for part of it.
    let optional = report::OPTIONAL_FILES
        .iter()
        .map(|s| (*s).to_owned())
        .chain(crate::html::page_files());
    remove_stale(&dir, &files, optional)?;
    write!(out, "{}", report::render_text(&report.summary, &dir))?;
    for n in &scenario.notes {
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

fn validate(args: &ValidateArgs, out: &mut dyn Write) -> Result<()> {
    let (scenario, _) = load(&args.file)?;
    writeln!(
        out,
        "{}: ok: \"{}\", {} s, {} shards, {} producer group(s)",
        args.file.display(),
        scenario.name,
        scenario.duration as f64 / 1e9,
        scenario.stream.shards,
        scenario.producers.len()
    )?;
    for n in &scenario.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

/// One routed key, as printed by `shard-of --json`.
#[derive(Debug, Serialize)]
struct Routed<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    partition_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explicit_hash_key: Option<&'a str>,
    hash_key: String,
    shard_id: String,
    shard_index: u32,
}

fn shard_of(args: &ShardOfArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<()> {
    let map = ShardMap::create(args.shards, EpochNanos::default()).context("--shards")?;
    if args.keys.is_empty() && args.explicit_hash_keys.is_empty() && !args.stdin {
        bail!("no keys given: pass partition keys as arguments, --explicit-hash-key H, or --stdin");
    }
    let rule = KeyLengthRule::from(args.key_length);
    let mut emit = |key: Option<&str>, explicit: Option<&str>, hash: HashKey| -> Result<()> {
        let shard = map.shard_for_hash_key(hash);
        if args.json {
            let row = Routed {
                partition_key: key,
                explicit_hash_key: explicit,
                hash_key: hash.to_string(),
                shard_id: shard.to_string(),
                shard_index: shard.index(),
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
        } else {
            let shown = match key {
                Some(k) if k.chars().any(char::is_control) => format!("{k:?}"),
                Some(k) => k.to_owned(),
                None => "(explicit hash key)".to_owned(),
            };
            writeln!(out, "{shard}\t{hash}\t{shown}")?;
        }
        Ok(())
    };
    // Validate every argument before printing anything.
    let mut given = Vec::with_capacity(args.keys.len() + args.explicit_hash_keys.len());
    for (i, key) in args.keys.iter().enumerate() {
        validate_partition_key(key, rule).with_context(|| format!("key argument {}", i + 1))?;
        given.push((Some(key.as_str()), None, HashKey::from_partition_key(key)));
    }
    for text in &args.explicit_hash_keys {
        let hash = HashKey::parse_explicit(text).context("--explicit-hash-key")?;
        given.push((None, Some(text.as_str()), hash));
    }
    for (key, explicit, hash) in given {
        emit(key, explicit, hash)?;
    }
    if args.stdin {
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            if input
                .read_until(b'\n', &mut line)
                .context("reading stdin")?
                == 0
            {
                break;
            }
            number += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let key = std::str::from_utf8(&line)
                .map_err(|_| anyhow::anyhow!("stdin line {number}: the key is not valid UTF-8"))?;
            validate_partition_key(key, rule).with_context(|| format!("stdin line {number}"))?;
            emit(Some(key), None, HashKey::from_partition_key(key))?;
        }
    }
    Ok(())
}

fn reshard(args: &ReshardArgs, out: &mut dyn Write) -> Result<()> {
    // The plan does not depend on the clock; a fixed time keeps output stable.
    let created = EpochNanos::from_secs(1_700_000_000);
    let now = created.plus_secs(24 * 3600);
    let mut map = ShardMap::create(args.from, created).context("--from")?;
    let earlier: Vec<EpochNanos> = (0..args.recent_calls)
        .map(|i| EpochNanos(now.0 - 1_000_000_000 * (3600 + u64::from(i) * 60)))
        .collect();
    crate::kds::check_update_limits(args.from, args.to, &earlier, now)?;
    let plan = map.update_shard_count(args.to, now)?;
    if args.json {
        write_plan_json(&map, &plan, out)
    } else {
        write_plan_text(&map, &plan, out)
    }
}

fn write_plan_text(map: &ShardMap, plan: &UpdatePlan, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "UpdateShardCount {} -> {} (UNIFORM_SCALING)",
        plan.from, plan.to
    )?;
    if plan.operations.is_empty() {
        writeln!(
            out,
            "no change: the stream already has {} open shards",
            plan.to
        )?;
    } else {
        writeln!(out, "\noperations ({}):", plan.operations.len())?;
    }
    for (i, op) in plan.operations.iter().enumerate() {
        match op {
            ReshardOp::Split {
                parent,
                new_starting_hash_key,
                lower,
                upper,
            } => writeln!(
                out,
                "{:>6}. split {parent} at {new_starting_hash_key} -> {lower}, {upper}",
                i + 1
            )?,
            ReshardOp::Merge {
                shard_to_merge,
                adjacent_shard_to_merge,
                child,
            } => writeln!(
                out,
                "{:>6}. merge {shard_to_merge} + {adjacent_shard_to_merge} -> {child}",
                i + 1
            )?,
        }
    }
    writeln!(out, "\nopen shards after ({}):", plan.final_open.len())?;
    let mut min_span = u128::MAX;
    let mut max_span = 0;
    for &id in &plan.final_open {
        let range = map.shard(id)?.range();
        min_span = min_span.min(range.span());
        max_span = max_span.max(range.span());
        writeln!(
            out,
            "  {id}  {:>39} .. {:<39}  width {} ({:.4}%)",
            range.start,
            range.end,
            format_width(range.span()),
            range.fraction() * 100.0
        )?;
    }
    writeln!(
        out,
        "\nwidths differ by at most {} hash keys",
        max_span - min_span
    )?;
    writeln!(
        out,
        "shards created: {}, of which transient (created and closed within the update): {}",
        plan.operations
            .iter()
            .map(|op| match op {
                ReshardOp::Split { .. } => 2,
                ReshardOp::Merge { .. } => 1,
            })
            .sum::<usize>(),
        plan.transient.len()
    )?;
    if !plan.transient.is_empty() {
        writeln!(out, "transient shards: {}", join_ids(&plan.transient))?;
    }
    Ok(())
}

fn join_ids(ids: &[ShardId]) -> String {
    ids.iter()
        .map(ShardId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Serialize)]
struct PlanJson {
    from: u32,
    to: u32,
    operations: Vec<OpJson>,
    open_after: Vec<ShardJson>,
    transient: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum OpJson {
    Split {
        shard_to_split: String,
        new_starting_hash_key: String,
        lower_child: String,
        upper_child: String,
    },
    Merge {
        shard_to_merge: String,
        adjacent_shard_to_merge: String,
        child: String,
    },
}

#[derive(Debug, Serialize)]
struct ShardJson {
    shard_id: String,
    parent_shard_id: Option<String>,
    adjacent_parent_shard_id: Option<String>,
    starting_hash_key: String,
    ending_hash_key: String,
    width: String,
}

fn write_plan_json(map: &ShardMap, plan: &UpdatePlan, out: &mut dyn Write) -> Result<()> {
    let operations = plan
        .operations
        .iter()
        .map(|op| match *op {
            ReshardOp::Split {
                parent,
                new_starting_hash_key,
                lower,
                upper,
            } => OpJson::Split {
                shard_to_split: parent.to_string(),
                new_starting_hash_key: new_starting_hash_key.to_string(),
                lower_child: lower.to_string(),
                upper_child: upper.to_string(),
            },
            ReshardOp::Merge {
                shard_to_merge,
                adjacent_shard_to_merge,
                child,
            } => OpJson::Merge {
                shard_to_merge: shard_to_merge.to_string(),
                adjacent_shard_to_merge: adjacent_shard_to_merge.to_string(),
                child: child.to_string(),
            },
        })
        .collect();
    let open_after = plan
        .final_open
        .iter()
        .map(|&id| {
            let shard = map.shard(id)?;
            let range = shard.range();
            Ok(ShardJson {
                shard_id: id.to_string(),
                parent_shard_id: shard.parent().map(|p| p.to_string()),
                adjacent_parent_shard_id: shard.adjacent_parent().map(|p| p.to_string()),
                starting_hash_key: range.start.to_string(),
                ending_hash_key: range.end.to_string(),
                width: format_width(range.span()),
            })
        })
        .collect::<Result<_>>()?;
    let json = PlanJson {
        from: plan.from,
        to: plan.to,
        operations,
        open_after,
        transient: plan.transient.iter().map(ShardId::to_string).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct DecodedJson {
    sequence_number: String,
    layout: &'static str,
    hex: String,
    shard_id: String,
    shard_created_secs: u64,
    shard_created: String,
    seq_ix: u64,
    byte1: u8,
    record_secs: u64,
    record_time: String,
    kind: &'static str,
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .to_string()
}

fn decode_seq(args: &DecodeSeqArgs, out: &mut dyn Write) -> Result<()> {
    // Parse all first, so a bad number prints nothing.
    let numbers = args
        .numbers
        .iter()
        .map(|text| text.parse::<SequenceNumber>())
        .collect::<Result<Vec<_>, _>>()?;
    for (i, n) in numbers.iter().enumerate() {
        let kind = if n.is_shard_end() {
            "ending sequence number of a closed shard (counter at its maximum)"
        } else if n.seq_ix() == 0 && n.record_secs() == n.shard_created_secs() {
            "starting sequence number of a shard, or its first record"
        } else {
            "record"
        };
        let hex = n.to_hex();
        if args.json {
            let row = DecodedJson {
                sequence_number: n.to_string(),
                layout: "v2",
                hex,
                shard_id: ShardId(n.shard_index()).to_string(),
                shard_created_secs: n.shard_created_secs(),
                shard_created: rfc3339(n.shard_created_secs()),
                seq_ix: n.seq_ix(),
                byte1: n.byte1(),
                record_secs: n.record_secs(),
                record_time: rfc3339(n.record_secs()),
                kind,
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
            continue;
        }
        if i > 0 {
            writeln!(out)?;
        }
        let spaced = format!(
            "{} {} {} {} {} {} {} {}",
            &hex[0..1],
            &hex[1..10],
            &hex[10..11],
            &hex[11..27],
            &hex[27..29],
            &hex[29..38],
            &hex[38..46],
            &hex[46..47]
        );
        writeln!(out, "{n}")?;
        writeln!(out, "  layout         version 2 (56 digits)")?;
        writeln!(out, "  hex            {spaced}")?;
        writeln!(out, "  shard          {}", ShardId(n.shard_index()))?;
        writeln!(
            out,
            "  shard created  {} ({} s)",
            rfc3339(n.shard_created_secs()),
            n.shard_created_secs()
        )?;
        writeln!(out, "  counter        {}", n.seq_ix())?;
        writeln!(
            out,
            "  record time    {} ({} s)",
            rfc3339(n.record_secs()),
            n.record_secs()
        )?;
        writeln!(out, "  byte1          {:02x}", n.byte1())?;
        writeln!(out, "  kind           {kind}")?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct QuotaJson {
    name: &'static str,
    value: u64,
    unit: String,
    source: &'static str,
    as_of: &'static str,
}

/// A trace read as it is (no replay options), for `trace summarize` and
/// `trace hash`; per-shard rows are read against `shards` shards.
fn trace_as_is(
    file: &Path,
    time_unit: &str,
    skip_bad_lines: bool,
    shards: Option<u32>,
) -> Result<crate::workload::TraceSpec> {
    use crate::workload::{TraceFormat, TraceSpec};
    let format = TraceFormat::from_path(file).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: cannot tell the format; name the file .csv or .jsonl",
            file.display()
        )
    })?;
    let time_unit_ns = match time_unit {
        "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" => 1_000,
        "ns" => 1,
        other => bail!("--time-unit {other}: accepted units are s, ms, us and ns"),
    };
    let columns = crate::workload::Columns::read(file, format)?;
    Ok(TraceSpec {
        path: file.to_owned(),
        format,
        time_unit_ns,
        time_scale: 1.0,
        rate_multiplier: 1.0,
        copy_spread: 0,
        shift: 0,
        looped: false,
        skip_bad_lines,
        explicit_key_bytes: 0,
        remap: vec![],
        salt: vec![],
        has_size: columns.has_size(),
        // Rows of an aggregate trace are counted by their records column.
        aggregate: columns
            .has_records()
            .then_some(crate::workload::AggregateSpec {
                interval: 1_000_000_000,
                within: crate::workload::Within::Even,
                shards,
            }),
    })
}

fn trace_summarize(args: &TraceSummarizeArgs, out: &mut dyn Write) -> Result<()> {
    let spec = trace_as_is(
        &args.file,
        &args.time_unit,
        args.skip_bad_lines,
        Some(args.shards),
    )?;
    write!(
        out,
        "{}",
        crate::workload::summarize(spec, args.shards, args.top)?
    )?;
    Ok(())
}

fn trace_hash(args: &TraceHashArgs, out: &mut dyn Write) -> Result<()> {
    // Shard ids are copied as they are: any count reads them.
    // Shard ids are copied as they are: no count is needed.
    let spec = trace_as_is(&args.file, &args.time_unit, args.skip_bad_lines, None)?;
    if crate::workload::TraceFormat::from_path(&args.out) != Some(spec.format) {
        bail!(
            "--out {}: the hashed trace has the input's format; name it .{}",
            args.out.display(),
            match spec.format {
                crate::workload::TraceFormat::Csv => "csv",
                crate::workload::TraceFormat::JsonLines => "jsonl",
            }
        );
    }
    if args.out.canonicalize().ok() == args.file.canonicalize().ok() {
        bail!(
            "--out {}: is the input; write the copy elsewhere",
            args.out.display()
        );
    }
    // Written beside the target and renamed: never half a file.
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = args.out.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> Result<crate::workload::Hashed> {
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("--out {}: cannot write there", args.out.display()))?;
        let mut w = std::io::BufWriter::new(file);
        let done = crate::workload::hash_keys(spec, &mut w)?;
        w.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        std::fs::rename(&tmp, &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        Ok(done)
    })();
    let done = written.inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    writeln!(
        out,
        "wrote {}: {} lines over {:.1} s of trace time, partition keys replaced by hash keys and lengths{}",
        args.out.display(),
        done.lines,
        done.span as f64 / 1e9,
        if done.skipped > 0 {
            format!(" ({} malformed line(s) skipped)", done.skipped)
        } else {
            String::new()
        }
    )?;
    Ok(())
}

fn prices(args: &PricesArgs, out: &mut dyn Write) -> Result<()> {
    let Some(p) = crate::kds::prices::prices(&args.region) else {
        bail!(
            "--region: no built-in price table for \"{}\"; built-in regions are {}",
            args.region,
            crate::kds::prices::REGIONS.join(", ")
        );
    };
    writeln!(
        out,
        "# KDS prices for {} (USD), as of {}; edit for another region and set stream.prices.\n\
         # Storage is per GB-month (2^30 bytes, 730 hours); payload units per million.",
        p.region, p.as_of
    )?;
    write!(out, "{}", p.to_toml())?;
    Ok(())
}

fn quotas(args: &QuotasArgs, out: &mut dyn Write) -> Result<()> {
    if !args.json {
        writeln!(
            out,
            "KDS limits as of {QUOTAS_AS_OF} (sources: shared/KDS-REFERENCE.md)"
        )?;
    }
    for &q in Quota::ALL {
        if args.json {
            let row = QuotaJson {
                name: q.name(),
                value: q.value(),
                unit: q.unit().to_string(),
                source: q.source(),
                as_of: QUOTAS_AS_OF,
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{:<36} {:>10} {:<8} {}",
                q.name(),
                q.value(),
                q.unit(),
                q.source()
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
