//! Record traces: real traffic replayed through the real partitioning.
//!
//! A trace is CSV (with a header) or JSON Lines, one record per line: a
//! timestamp (RFC 3339 in UTC, or a number of `time_unit`s since the epoch),
//! a partition key or an explicit hash key, and optionally a size in bytes.
//! Columns are found by name (`timestamp`/`time`/`ts`,
//! `partition_key`/`key`, `explicit_hash_key`/`hash_key`, `size`/`bytes`);
//! other columns are ignored. The file is read as a stream, one line at a
//! time, so a trace of any length replays in constant memory.
//!
//! Replay maps trace time to simulated time: the first record is at
//! `shift`, later ones `(t - t0) / time_scale` after it. A `rate_multiplier`
//! below 1 keeps each record with that probability (thinning); above 1 each
//! record is sent `floor(m)` times plus once more with probability
//! `frac(m)`, the extra copies spread uniformly over `copy_spread` after the
//! original (superposition), so key skew is kept. Key transforms rewrite
//! keys before hashing: `remap` sends one key's traffic to another, `salt`
//! spreads a key over `key#0..key#{n-1}`. All draws come from the
//! producer's seeded streams.
//!
//! An aggregate row (a count per interval) is expanded lazily: its records
//! are made one at a time in time order (evenly spaced, or as sorted
//! uniform order statistics), so a row of any count replays in constant
//! memory.
//!
//! The shard engine reads an aggregate trace row by row instead (`feed`):
//! each row's count, interval and keys, which it spreads over its steps.
//!
//! The parts: the columns a header names (`header`), one line parsed
//! (`line`), the replay (`reader`), aggregate rows (`rows`), rows for the
//! shard engine (`feed`), and the two
//! commands that read a trace without replaying it (`summarize`, `hash`).

mod feed;
mod hash;
mod header;
mod line;
mod reader;
mod rows;
mod summarize;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

use crate::sim::SimTime;

pub use feed::{RowDest, TraceRow, expected_records};
pub use hash::{Hashed, hash_keys};
pub use header::Columns;
pub use line::parse_time;
pub use summarize::summarize;

use reader::Source;
use rows::Row;

/// A trace that cannot be read or replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trace {}{}: {message}", path.display(), if *line > 0 { format!(" line {line}") } else { String::new() })]
pub struct TraceError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0: the file as a whole).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl TraceError {
    /// A trace that cannot be opened. A missing one is named by its full
    /// path: a relative name is resolved against the scenario's directory,
    /// which is not always the one the user thinks of.
    pub(crate) fn open(path: &std::path::Path, e: &std::io::Error) -> TraceError {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            let full = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            format!("no such file: {}", full.display())
        } else {
            format!("cannot open: {e}")
        };
        TraceError {
            path: path.to_owned(),
            line: 0,
            message,
        }
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl TraceFormat {
    /// From the file name: `.csv`, or `.jsonl`/`.ndjson`/`.json`.
    pub fn from_path(path: &Path) -> Option<TraceFormat> {
        match path.extension()?.to_str()? {
            "csv" => Some(TraceFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(TraceFormat::JsonLines),
            _ => None,
        }
    }
}

/// How a trace is replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    /// The file (resolved against the scenario's directory).
    pub path: PathBuf,
    /// Its format.
    pub format: TraceFormat,
    /// Nanoseconds per unit of numeric timestamps.
    pub time_unit_ns: u64,
    /// Replay speed: 2 replays twice as fast.
    pub time_scale: f64,
    /// Thinning (< 1) or superposition (> 1) factor.
    pub rate_multiplier: f64,
    /// Window after the original over which extra copies are spread.
    pub copy_spread: SimTime,
    /// Simulated time of the first record.
    pub shift: SimTime,
    /// Start again from the top at the end, to fill the duration.
    pub looped: bool,
    /// Skip malformed lines (counted) instead of stopping.
    pub skip_bad_lines: bool,
    /// Partition key bytes charged when the trace has explicit hash keys.
    pub explicit_key_bytes: u16,
    /// `(from, to)` key rewrites.
    pub remap: Vec<(String, String)>,
    /// `(key, n)`: spread the key over n sub-keys.
    pub salt: Vec<(String, u32)>,
    /// Whether the trace has a size column.
    pub has_size: bool,
    /// An aggregate trace: counts per interval, not records.
    pub aggregate: Option<AggregateSpec>,
}

/// How an aggregate trace (records and bytes per interval, per key or per
/// shard) becomes records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggregateSpec {
    /// The interval each row covers, from its timestamp (trace time).
    pub interval: SimTime,
    /// Where records fall within it.
    pub within: Within,
    /// For per-shard rows: shard `shardId-N` is the N-th of a stream created
    /// with this many shards; its records get hash keys drawn uniformly
    /// from that shard's range. `None`: a per-shard row is an error (it
    /// needs the count), except where shard ids are only copied
    /// ([`hash_keys`]).
    pub shards: Option<u32>,
}

/// The rule for arrival times within an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// Evenly spaced: the k-th of n at `(k + 1/2) / n` of the interval.
    Even,
    /// Exactly the row's count, at independent uniform times.
    Uniform,
    /// A Poisson count with the row's count as mean, at uniform times.
    Poisson,
}

/// The most bytes a partition key can take: 256 characters of up to 4
/// bytes each in UTF-8 (KDS-REFERENCE.md §1.4: 256 characters, charged by
/// their UTF-8 bytes).
pub const MAX_KEY_BYTES: u64 = 1024;

/// The most records a second an aggregate row may stand for: a stream's
/// most, 10,000 shards (the UpdateShardCount limit) of 1,000 records/s. A
/// count above it is no real traffic (a mislabelled column: epoch seconds
/// read as counts), and would replay for ever.
pub const MAX_ROW_RATE: u64 = crate::kds::Quota::UpdateShardCountMaxShards.value()
    * crate::kds::Quota::WriteRecordsPerShardPerSec.value();

/// Distinct keys a replay counts one by one (keys.csv, hot keys); records
/// of later keys are sent but not counted per key.
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// One record to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TraceRecord {
    /// Simulated arrival time.
    pub at: SimTime,
    /// Index into the reader's [`TraceReader::keys`], or `u32::MAX` if the
    /// key is not counted (past [`MAX_TRACKED_KEYS`], or a hash key drawn
    /// for a per-shard row).
    pub key: u32,
    /// The hash key.
    pub hash: u128,
    /// Partition key bytes it carries.
    pub key_bytes: u16,
    /// Data bytes, if the trace says.
    pub size: Option<u64>,
}

// The reader is defined here, not in `reader`, so that its private fields
// are visible to every part of the replay (rows, summarize, hash) without
// widening them.
/// Streams the records of a trace, in time order.
pub struct TraceReader {
    spec: TraceSpec,
    source: Source,
    /// Lines read in this pass (the header counts as line 1 in CSV).
    line: u64,
    /// CSV: the byte offset of the record just read.
    line_byte: Option<u64>,
    t0: Option<i128>,
    last: Option<i128>,
    /// Records of the first pass, and its last timestamp (for the loop period).
    first_pass: Option<(u64, i128)>,
    pass_records: u64,
    /// Simulated time added to this pass.
    loop_offset: SimTime,
    /// Time of the last original read: no later record comes before it.
    frontier: SimTime,
    /// Queued records by (time, file order): equal times keep file order.
    ready: BinaryHeap<Reverse<(SimTime, u64, TraceRecord)>>,
    /// Aggregate rows still making records, by their next record's time.
    rows: BinaryHeap<Reverse<Row>>,
    /// Aggregate traces by shard: each shard's hash key range.
    shard_ranges: Vec<(u128, u128)>,
    seq: u64,
    eof: bool,
    /// Lines skipped as malformed.
    pub skipped: u64,
    key_buf: String,
    /// The partition key of the line just read.
    key_in: String,
    /// Keys counted so far: name (the partition key, or the hash key in
    /// decimal) and hash key, by index.
    pub keys: Vec<(String, u128)>,
    key_index: KeyIndex,
    /// Per-shard rows are read without a shard count (only copied).
    copy_shards: bool,
    /// The shard engine's next row, read but not yet due.
    peeked: Option<TraceRow>,
    /// The shard engine's salted keys: by `salt` entry, each sub-key's
    /// hash key and bytes, hashed once.
    salted: Vec<Option<SubKeys>>,
}

/// A salted key's sub-keys: hash key and bytes, by sub-key number.
type SubKeys = std::sync::Arc<[(u128, u16)]>;

/// Hash key to index in `keys`. Only looked up, never iterated (indices
/// follow first appearance), so its order cannot reach an output; a hash
/// map halves the replay time against a B-tree at 100,000 keys.
#[allow(clippy::disallowed_types)]
type KeyIndex = std::collections::HashMap<u128, u32>;

impl std::fmt::Debug for TraceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceReader")
            .field("path", &self.spec.path)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}
