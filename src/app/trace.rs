//! `trace summarize` and `trace hash`: a record trace inspected, or copied
//! without its keys.

use std::io::Write;
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
    let format = TraceFormat::from_path(file).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: cannot tell the format; name the file .csv or .jsonl",
            file.display()
        )
    })?;
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

/// `trace summarize`: the summary on `out`.
pub(crate) fn summarize(args: &TraceSummarizeArgs, out: &mut dyn Write) -> Result<()> {
    let spec = trace_as_is(&args.file, &args.reading, Some(args.shards))?;
    write!(
        out,
        "{}",
        crate::workload::summarize(spec, args.shards, args.top)?
    )?;
    Ok(())
}

/// `trace hash`: the copy written whole or not at all, a line about it on
/// `out`.
pub(crate) fn hash(args: &TraceHashArgs, out: &mut dyn Write) -> Result<()> {
    // Shard ids are copied as they are: no count is needed.
    let spec = trace_as_is(&args.file, &args.reading, None)?;
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
    if args.out.canonicalize().ok() == args.file.canonicalize().ok() {
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
