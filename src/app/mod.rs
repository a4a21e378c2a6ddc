//! The command line: argument definitions (clap derive) and the commands.
//!
//! The binary only calls [`main`]; everything here is library code so that it
//! can be tested in-process. Output goes to any `Write`r, errors come back as
//! `anyhow::Error` with the context of the offending input.
//!
//! One file per command family holds its arguments and its one function:
//! argument handling, calls into the library, printing and writing (all
//! files through `output`). Flags that several commands share are flag
//! groups in `args`.

use std::ffi::OsString;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::scenario::{Scenario, ScenarioError};

mod args;
mod check;
mod compare;
mod output;
mod plan;
mod progress;
mod run;
mod sweep;
mod temps;
mod tools;
mod trace;

pub use args::{Pages, Shown, Threads, TraceReading};
pub use check::{CheckArgs, ValidateArgs};
pub use compare::CompareArgs;
pub use plan::PlanArgs;
pub use run::RunArgs;
pub use sweep::{MergeArgs, SweepArgs};
pub use tools::{DecodeSeqArgs, KeyLength, PricesArgs, QuotasArgs, ReshardArgs, ShardOfArgs};
pub use trace::{TraceCommand, TraceHashArgs, TraceSummarizeArgs};

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
    // SIGINT and SIGTERM remove the temporary files of a write under way.
    temps::install_handler();
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
            // One line, whatever the error quotes (a value with a newline,
            // an 8 MiB field).
            eprintln!("error: {}", crate::shown::one_line(&format!("{err:#}")));
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
        Command::Run(args) => run::run(&args, out),
        Command::Validate(args) => check::validate(&args, out),
        Command::Check(args) => return check::check(&args, out),
        Command::Plan(args) => plan::plan(&args, out),
        Command::Compare(args) => compare::compare(&args, out),
        Command::Sweep(args) => sweep::sweep(&args, out),
        Command::Merge(args) => sweep::merge(&args, out),
        Command::ShardOf(args) => tools::shard_of(&args, input, out),
        Command::Reshard(args) => tools::reshard(&args, out),
        Command::DecodeSeq(args) => tools::decode_seq(&args, out),
        Command::Quotas(args) => tools::quotas(&args, out),
        Command::Prices(args) => tools::prices(&args, out),
        Command::Trace(TraceCommand::Summarize(args)) => trace::summarize(&args, out),
        Command::Trace(TraceCommand::Hash(args)) => trace::hash(&args, out),
    }
    .map(|()| true)
}

/// The scenario and the MD5 of its inputs.
fn load(path: &Path) -> Result<(Scenario, String)> {
    load_text(path).map(|(s, md5, _)| (s, md5))
}

/// The scenario, the MD5 of its inputs and its text.
fn load_text(path: &Path) -> Result<(Scenario, String, String)> {
    let read = |source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = crate::scenario::read_bounded(path).map_err(read)?;
    let text = crate::scenario::utf8(bytes.clone()).map_err(read)?;
    let scenario = Scenario::parse(&text, path)?;
    // The scenario and every file it reads: a change to a trace or an
    // imported configuration changes the digest too.
    let hex = crate::scenario::input_md5(&bytes, &scenario.imports)?;
    Ok((scenario, hex, text))
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
