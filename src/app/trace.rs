//! `trace summarize` and `trace hash`: a record trace inspected, or copied
//! without its keys.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::args::TraceReading;
use super::output::StagedFile;
use crate::workload::{AggregateSpec, Columns, TraceFormat, TraceSpec, Within};

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
    /// How the trace is read.
    #[command(flatten)]
    pub reading: TraceReading,
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
    /// How the trace is read.
    #[command(flatten)]
    pub reading: TraceReading,
}

/// A trace read as it is (no replay options), for `trace summarize` and
/// `trace hash`; per-shard rows are read against `shards` shards.
fn trace_as_is(file: &Path, reading: &TraceReading, shards: Option<u32>) -> Result<TraceSpec> {
    let format = format_of(file, reading)?;
    let time_unit_ns = reading.time_unit_ns()?;
    let columns = Columns::read(file, format)?;
    Ok(TraceSpec {
        path: file.to_owned(),
        format,
        time_unit_ns,
        time_scale: 1.0,
        rate_multiplier: 1.0,
        copy_spread: 0,
        shift: 0,
        looped: false,
        skip_bad_lines: reading.skip_bad_lines,
        explicit_key_bytes: 0,
        remap: vec![],
        salt: vec![],
        has_size: columns.has_size(),
        // Rows of an aggregate trace are counted by their records column.
        aggregate: columns.has_records().then_some(AggregateSpec {
            interval: 1_000_000_000,
            within: Within::Even,
            shards,
        }),
    })
}

/// The trace's format: `--format`, else from the file's name.
fn format_of(file: &Path, reading: &TraceReading) -> Result<TraceFormat> {
    match reading.format.as_deref() {
        Some("csv") => Ok(TraceFormat::Csv),
        Some(_) => Ok(TraceFormat::JsonLines),
        None => TraceFormat::from_path(file).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: cannot tell the format; name the file .csv or .jsonl, or give --format csv or jsonl",
                file.display()
            )
        }),
    }
}

/// A trace read from stdin (`-`), copied into a temporary file: the trace
/// readers read a file, twice for `summarize` (the header, then the
/// records). Removed when dropped, and on SIGINT or SIGTERM.
struct Spooled {
    path: PathBuf,
}

impl Spooled {
    /// `input` whole into a new temporary file.
    fn from(input: &mut dyn BufRead, format: TraceFormat) -> Result<Spooled> {
        let ext = match format {
            TraceFormat::Csv => "csv",
            TraceFormat::JsonLines => "jsonl",
        };
        let path =
            std::env::temp_dir().join(format!(".shardcast-stdin-{}.{ext}", std::process::id()));
        super::temps::lock().add(&path);
        let spooled = Spooled { path };
        let mut file = std::fs::File::create(&spooled.path)
            .with_context(|| format!("cannot write {}", spooled.path.display()))?;
        std::io::copy(input, &mut file).context("reading the trace from stdin")?;
        Ok(spooled)
    }

    /// `text` with the temporary file's path shown as `<stdin>`.
    fn shown(&self, text: &str) -> String {
        text.replace(&self.path.display().to_string(), "<stdin>")
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let mut temps = super::temps::lock();
        super::temps::remove(&self.path);
        temps.forget(&self.path);
    }
}

/// Runs `f` on the trace `file`, or, for `-`, on a copy of `input`; for
/// stdin, the copy's path in the output and in an error reads `<stdin>`.
fn with_trace(
    file: &Path,
    reading: &TraceReading,
    input: &mut dyn BufRead,
    f: impl FnOnce(&Path) -> Result<String>,
) -> Result<String> {
    if file.as_os_str() != "-" {
        return f(file);
    }
    if reading.format.is_none() {
        bail!("-: a trace read from stdin needs --format csv or jsonl");
    }
    let spooled = Spooled::from(input, format_of(file, reading)?)?;
    f(&spooled.path)
        .map(|text| spooled.shown(&text))
        .map_err(|e| anyhow::anyhow!(spooled.shown(&format!("{e:#}"))))
}

/// `trace summarize`: the summary on `out`.
pub(crate) fn summarize(
    args: &TraceSummarizeArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let text = with_trace(&args.file, &args.reading, input, |file| {
        let spec = trace_as_is(file, &args.reading, Some(args.shards))?;
        Ok(crate::workload::summarize(spec, args.shards, args.top)?)
    })?;
    write!(out, "{text}")?;
    Ok(())
}

/// `trace hash`: the copy written whole or not at all, a line about it on
/// `out`.
pub(crate) fn hash(
    args: &TraceHashArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let text = with_trace(&args.file, &args.reading, input, |file| {
        hash_file(args, file)
    })?;
    write!(out, "{text}")?;
    Ok(())
}

/// `trace hash` of `file`: the line about it.
fn hash_file(args: &TraceHashArgs, file: &Path) -> Result<String> {
    // Shard ids are copied as they are: no count is needed.
    let spec = trace_as_is(file, &args.reading, None)?;
    if TraceFormat::from_path(&args.out) != Some(spec.format) {
        bail!(
            "--out {}: the hashed trace has the input's format; name it .{}",
            args.out.display(),
            match spec.format {
                TraceFormat::Csv => "csv",
                TraceFormat::JsonLines => "jsonl",
            }
        );
    }
    if args.out.canonicalize().ok() == file.canonicalize().ok() {
        bail!(
            "--out {}: is the input; write the copy elsewhere",
            args.out.display()
        );
    }
    let mut staged = StagedFile::create(&args.out)
        .with_context(|| format!("--out {}: cannot write there", args.out.display()))?;
    let done = crate::workload::hash_keys(spec, staged.writer())?;
    staged
        .commit()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(format!(
        "wrote {}: {} lines over {:.1} s of trace time, partition keys replaced by hash keys and lengths{}\n",
        args.out.display(),
        done.lines,
        done.span as f64 / 1e9,
        if done.skipped > 0 {
            format!(" ({} malformed line(s) skipped)", done.skipped)
        } else {
            String::new()
        }
    ))
}
