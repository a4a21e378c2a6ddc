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
mod shell;
mod sweep;
mod temps;
mod tools;
mod trace;

pub use args::{Pages, Shown, Threads, TraceReading};
pub use check::{CheckArgs, ValidateArgs};
pub use compare::CompareArgs;
pub use plan::PlanArgs;
pub use run::RunArgs;
pub use shell::{CompletionsArgs, ManArgs};
pub use sweep::{MergeArgs, SweepArgs};
pub use tools::{DecodeSeqArgs, KeyLength, PricesArgs, QuotasArgs, ReshardArgs, ShardOfArgs};
pub use trace::{TraceCommand, TraceHashArgs, TraceSummarizeArgs};

/// The version `--version` prints: the crate's, and the git commit it was
/// built from when built from a git checkout ("0.1.0 (abc1234)"; see
/// build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("SHARDCAST_VERSION_SUFFIX"));

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code of `check` when an objective or a baseline comparison fails,
/// and of `plan` when no shard count in its range meets the objectives.
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
#[command(name = "shardcast", version = VERSION, max_term_width = 100)]
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
    /// plan.md. Exit code 0 with a recommendation, 1 when no count from
    /// --min-shards to --max-shards meets the objectives, 2 on an error.
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
    /// Print a shell completion script: e.g. `shardcast completions bash >
    /// ~/.local/share/bash-completion/completions/shardcast`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): e.g. `shardcast man > shardcast.1`,
    /// or `shardcast man run` for one command's.
    Man(ManArgs),
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
/// results to `out`. `Ok(false)`: the command ran, and a check failed (or a
/// plan found no shard count meeting the objectives).
pub fn run(cli: Cli, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<bool> {
    // A scenario named `-` is read from `input`, once, before the command
    // starts (see [`load_text`]).
    let text = if cli.command.scenario_from_stdin() {
        let bytes = read_stdin(input).map_err(|source| ScenarioError::Read {
            path: STDIN_NAME.into(),
            source,
        })?;
        Some(bytes)
    } else {
        None
    };
    STDIN_SCENARIO.with(|s| *s.borrow_mut() = text);
    match cli.command {
        Command::Run(args) => run::run(&args, out),
        Command::Validate(args) => check::validate(&args, out),
        Command::Check(args) => return check::check(&args, out),
        Command::Plan(args) => return plan::plan(&args, out),
        Command::Compare(args) => compare::compare(&args, out),
        Command::Sweep(args) => sweep::sweep(&args, out),
        Command::Merge(args) => sweep::merge(&args, out),
        Command::ShardOf(args) => tools::shard_of(&args, input, out),
        Command::Reshard(args) => tools::reshard(&args, out),
        Command::DecodeSeq(args) => tools::decode_seq(&args, out),
        Command::Quotas(args) => tools::quotas(&args, out),
        Command::Prices(args) => tools::prices(&args, out),
        Command::Completions(args) => shell::completions(&args, out),
        Command::Man(args) => shell::man(&args, out),
        Command::Trace(TraceCommand::Summarize(args)) => trace::summarize(&args, input, out),
        Command::Trace(TraceCommand::Hash(args)) => trace::hash(&args, input, out),
    }
    .map(|()| true)
}

impl Command {
    /// Whether one of the command's scenario files is `-` (stdin).
    fn scenario_from_stdin(&self) -> bool {
        let files: &[std::path::PathBuf] = match self {
            Command::Run(a) => std::slice::from_ref(&a.file),
            Command::Validate(a) => std::slice::from_ref(&a.file),
            Command::Plan(a) => std::slice::from_ref(&a.file),
            Command::Sweep(a) => std::slice::from_ref(&a.file),
            Command::Check(a) => &a.files,
            Command::Compare(a) => &a.files,
            _ => &[],
        };
        files.iter().any(|f| is_stdin(f))
    }
}

/// How a scenario read from stdin is named in messages and reports.
const STDIN_NAME: &str = "<stdin>";

thread_local! {
    /// The bytes of a scenario named `-`, read from the command's input by
    /// [`run`] before the command starts. The commands read their files by
    /// path; this is the one input that has none. Loading happens on the
    /// thread that called [`run`], before any worker starts.
    static STDIN_SCENARIO: std::cell::RefCell<Option<Vec<u8>>> =
        const { std::cell::RefCell::new(None) };
}

/// Whether `path` is `-`: stdin.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The path a scenario's messages name (`<stdin>` for `-`). Files the
/// scenario names are relative to its directory: for stdin, the current
/// one.
fn shown_path(path: &Path) -> &Path {
    if is_stdin(path) {
        Path::new(STDIN_NAME)
    } else {
        path
    }
}

/// The stand-in for a scenario file's path when naming its default output
/// directory: `-` gives the scenario's `name`, kept to characters safe in a
/// file name (`reports/NAME`).
fn named(path: &Path, scenario: &Scenario) -> std::path::PathBuf {
    if !is_stdin(path) {
        return path.to_owned();
    }
    let safe: String = scenario
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_matches('-');
    std::path::PathBuf::from(format!(
        "{}.toml",
        if safe.is_empty() { "stdin" } else { safe }
    ))
}

/// All of `input`, up to the limit on files read whole.
fn read_stdin(input: &mut dyn BufRead) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let limit = crate::scenario::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    input.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most read of a file read whole",
                limit >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// The scenario and the MD5 of its inputs.
fn load(path: &Path) -> Result<(Scenario, String)> {
    load_text(path).map(|(s, md5, _)| (s, md5))
}

/// The scenario, the MD5 of its inputs and its text.
fn load_text(path: &Path) -> Result<(Scenario, String, String)> {
    let stdin = is_stdin(path)
        .then(|| STDIN_SCENARIO.with(|s| s.borrow().clone()))
        .flatten();
    let path = shown_path(path);
    let read = |source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = match stdin {
        Some(bytes) => bytes,
        None => crate::scenario::read_bounded(path).map_err(read)?,
    };
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
