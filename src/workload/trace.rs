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

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rand::RngExt;
use serde::Deserialize;

use crate::kds::HashKey;
use crate::sim::SimTime;
use crate::sim::rng::SimRng;

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

/// The columns a trace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    timestamp: usize,
    key: Option<usize>,
    hash: Option<usize>,
    size: Option<usize>,
    shard: Option<usize>,
    records: Option<usize>,
    key_bytes: Option<usize>,
}

impl Columns {
    /// Whether the trace has sizes.
    pub fn has_size(&self) -> bool {
        self.size.is_some()
    }

    /// Whether the trace has a `records` column (an aggregate trace).
    pub fn has_records(&self) -> bool {
        self.records.is_some()
    }

    /// Whether the trace has a `shard_id` column (per-shard rows).
    pub fn has_shard(&self) -> bool {
        self.shard.is_some()
    }

    fn find(names: &[&str]) -> Result<Columns, String> {
        let pos = |aliases: &[&str]| names.iter().position(|n| aliases.contains(&n.trim()));
        let timestamp = pos(&["timestamp", "time", "ts"])
            .ok_or("no timestamp column (named timestamp, time or ts)")?;
        let c = Columns {
            timestamp,
            key: pos(&["partition_key", "key"]),
            hash: pos(&["explicit_hash_key", "hash_key"]),
            size: pos(&["size", "bytes"]),
            shard: pos(&["shard_id", "shard"]),
            records: pos(&["records", "count"]),
            key_bytes: pos(&["key_bytes", "partition_key_bytes"]),
        };
        if c.key.is_none() && c.hash.is_none() && c.shard.is_none() {
            return Err(
                "no key column (partition_key or key; explicit_hash_key or hash_key; or shard_id in an aggregate trace)".into(),
            );
        }
        Ok(c)
    }
}

impl Columns {
    /// Reads the header (CSV) or the first record (JSON Lines) to find the
    /// columns, so a scenario is checked before it runs.
    pub fn read(path: &Path, format: TraceFormat) -> Result<Columns, TraceError> {
        columns(path, format)
    }
}

fn columns(path: &Path, format: TraceFormat) -> Result<Columns, TraceError> {
    let err = |line, message: String| TraceError {
        path: path.to_owned(),
        line,
        message,
    };
    let file = File::open(path).map_err(|e| err(0, format!("cannot open: {e}")))?;
    let mut reader = BufReader::new(file);
    match format {
        // The csv reader reads the header as the replay will: quoted names
        // and a byte-order mark are handled the same way.
        TraceFormat::Csv => csv_columns(&mut csv_reader(reader), path),
        TraceFormat::JsonLines => {
            let mut first = String::new();
            reader
                .read_line(&mut first)
                .map_err(|e| err(1, e.to_string()))?;
            let v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(without_bom(&first).trim())
                    .map_err(|e| err(1, e.to_string()))?;
            let names: Vec<&str> = v.keys().map(String::as_str).collect();
            Columns::find(&names).map_err(|m| err(1, m))
        }
    }
}

/// The 1-based line at a byte offset of a file.
fn line_at(path: &Path, byte: u64) -> Option<u64> {
    use std::io::Read as _;
    // With CRLF line ends the csv reader's offset is the `\n` of the line
    // before: count through the offset's own byte (never a newline of the
    // record itself, whose first byte it is with LF).
    let mut file = File::open(path).ok()?.take(byte + 1);
    let mut buf = vec![0u8; 1 << 16];
    let mut line = 1;
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            return Some(line);
        }
        line += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// A UTF-8 byte-order mark, which some exporters write first, removed.
fn without_bom(line: &str) -> &str {
    line.strip_prefix('\u{feff}').unwrap_or(line)
}

fn csv_reader<R: std::io::Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader)
}

/// The columns named by a CSV trace's header.
fn csv_columns<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    path: &Path,
) -> Result<Columns, TraceError> {
    let err = |message: String| TraceError {
        path: path.to_owned(),
        line: 1,
        message,
    };
    let headers = reader.headers().map_err(|e| err(e.to_string()))?;
    let names: Vec<&str> = headers.iter().collect();
    Columns::find(&names).map_err(err)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTime<'a> {
    Int(i64),
    Float(f64),
    // Borrowed unless the string has escapes.
    Text(#[serde(borrow)] std::borrow::Cow<'a, str>),
}

#[derive(Deserialize)]
struct JsonLine<'a> {
    #[serde(borrow, alias = "time", alias = "ts")]
    timestamp: Option<JsonTime<'a>>,
    #[serde(borrow, alias = "key")]
    partition_key: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, alias = "hash_key")]
    explicit_hash_key: Option<std::borrow::Cow<'a, str>>,
    #[serde(alias = "bytes")]
    size: Option<serde_json::Number>,
    #[serde(borrow, alias = "shard")]
    shard_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(alias = "count")]
    records: Option<serde_json::Number>,
    #[serde(alias = "partition_key_bytes")]
    key_bytes: Option<serde_json::Number>,
}

enum Source {
    Csv {
        // Boxed: the csv reader is large beside the JSON variant.
        reader: Box<csv::Reader<BufReader<File>>>,
        record: csv::StringRecord,
        columns: Columns,
    },
    Json {
        reader: BufReader<File>,
        line: String,
    },
}

/// One parsed line: epoch nanoseconds, the key (or hash), the size.
struct Line {
    ns: i128,
    key: KeyText,
    size: Option<u64>,
    /// Records the line stands for (aggregate traces).
    count: Option<u64>,
    /// The partition key's length when the line has one beside an explicit
    /// hash key.
    key_len: Option<u16>,
}

enum KeyText {
    /// A partition key, in the reader's `key_in` buffer (reused line after
    /// line: no allocation per record).
    Partition,
    Hash(u128),
    Shard(u32),
}

/// A timestamp field: text, or a JSON number.
#[derive(Clone, Copy)]
enum TsField<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
}

/// A whole-number field: text, or a JSON number.
#[derive(Clone, Copy)]
enum NumField<'a> {
    Text(&'a str),
    Json(&'a serde_json::Number),
}

impl NumField<'_> {
    /// `Ok(None)` when empty; the text of a bad value as the error.
    fn whole(self) -> Result<Option<u64>, String> {
        match self {
            NumField::Text(t) if t.trim().is_empty() => Ok(None),
            NumField::Text(t) => t.trim().parse().map(Some).map_err(|_| t.trim().to_owned()),
            NumField::Json(n) => n.as_u64().map(Some).ok_or_else(|| n.to_string()),
        }
    }
}

/// Parses a timestamp: a number of `unit_ns` since the epoch, or RFC 3339.
pub fn parse_time(text: &str, unit_ns: u64) -> Option<i128> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i128::from(i) * i128::from(unit_ns));
    }
    if let Ok(x) = t.parse::<f64>() {
        return x.is_finite().then(|| (x * unit_ns as f64).round() as i128);
    }
    let st = humantime::parse_rfc3339_weak(t).ok()?;
    let d = st.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(d.as_nanos() as i128)
}

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
}

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

impl TraceReader {
    /// Opens a trace.
    pub fn open(spec: TraceSpec) -> Result<TraceReader, TraceError> {
        let source = Self::source(&spec)?;
        let shard_ranges = match spec.aggregate.and_then(|a| a.shards) {
            Some(shards) => crate::kds::ShardMap::create(shards, crate::kds::EpochNanos(0))
                .map(|m| {
                    m.shards()
                        .iter()
                        .map(|s| (s.range().start, s.range().end))
                        .collect()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(TraceReader {
            shard_ranges,
            line: u64::from(matches!(spec.format, TraceFormat::Csv)),
            line_byte: None,
            spec,
            source,
            t0: None,
            last: None,
            first_pass: None,
            pass_records: 0,
            loop_offset: 0,
            frontier: 0,
            ready: BinaryHeap::new(),
            rows: BinaryHeap::new(),
            seq: 0,
            eof: false,
            skipped: 0,
            key_buf: String::new(),
            key_in: String::new(),
            keys: Vec::new(),
            key_index: KeyIndex::default(),
            copy_shards: false,
        })
    }

    fn source(spec: &TraceSpec) -> Result<Source, TraceError> {
        let file = File::open(&spec.path).map_err(|e| TraceError {
            path: spec.path.clone(),
            line: 0,
            message: format!("cannot open: {e}"),
        })?;
        let reader = BufReader::with_capacity(1 << 16, file);
        Ok(match spec.format {
            TraceFormat::Csv => {
                let mut reader = csv_reader(reader);
                let columns = csv_columns(&mut reader, &spec.path)?;
                Source::Csv {
                    reader: Box::new(reader),
                    record: csv::StringRecord::new(),
                    columns,
                }
            }
            TraceFormat::JsonLines => Source::Json {
                reader,
                line: String::new(),
            },
        })
    }

    /// An error at the line just read. The csv reader counts neither blank
    /// lines nor line breaks inside quotes: a CSV line is counted from the
    /// record's byte offset, as an editor numbers it.
    fn error_here(&mut self, message: String) -> TraceError {
        if let (Source::Csv { .. }, Some(byte)) = (&self.source, self.line_byte)
            && let Some(line) = line_at(&self.spec.path, byte)
        {
            self.line = line;
        }
        self.error(message)
    }

    fn error(&self, message: String) -> TraceError {
        TraceError {
            path: self.spec.path.clone(),
            line: self.line,
            message,
        }
    }

    /// Reads the next line: `Ok(None)` at the end of the file.
    fn read_line(&mut self) -> Result<Option<Line>, TraceError> {
        let unit = self.spec.time_unit_ns;
        let aggregate = self.spec.aggregate.is_some();
        loop {
            self.line += 1;
            let parsed: Result<Line, String> = match &mut self.source {
                Source::Csv {
                    reader,
                    record,
                    columns,
                } => match reader.read_record(record) {
                    Ok(false) => return Ok(None),
                    Err(e) => {
                        self.line_byte = e.position().map(csv::Position::byte);
                        Err(e.to_string())
                    }
                    Ok(true) => {
                        self.line_byte = record.position().map(csv::Position::byte);
                        parse_fields(
                            Fields {
                                ts: record.get(columns.timestamp).map(TsField::Text),
                                key: columns.key.and_then(|i| record.get(i)),
                                hash: columns.hash.and_then(|i| record.get(i)),
                                size: columns.size.and_then(|i| record.get(i)).map(NumField::Text),
                                shard: columns.shard.and_then(|i| record.get(i)),
                                records: columns
                                    .records
                                    .and_then(|i| record.get(i))
                                    .map(NumField::Text),
                                key_bytes: columns
                                    .key_bytes
                                    .and_then(|i| record.get(i))
                                    .map(NumField::Text),
                            },
                            unit,
                            aggregate,
                            &mut self.key_in,
                        )
                    }
                },
                Source::Json { reader, line } => {
                    line.clear();
                    match reader.read_line(line) {
                        Ok(0) => return Ok(None),
                        Err(e) => Err(e.to_string()),
                        Ok(_) if line.trim().is_empty() => continue,
                        Ok(_) => {
                            match serde_json::from_str::<JsonLine<'_>>(without_bom(line).trim_end())
                            {
                                Err(e) => Err(format!("not a JSON object: {e}")),
                                Ok(j) => parse_fields(
                                    Fields {
                                        ts: j.timestamp.as_ref().map(|t| match t {
                                            JsonTime::Int(i) => TsField::Int(*i),
                                            JsonTime::Float(x) => TsField::Float(*x),
                                            JsonTime::Text(t) => TsField::Text(t),
                                        }),
                                        key: j.partition_key.as_deref(),
                                        hash: j.explicit_hash_key.as_deref(),
                                        size: j.size.as_ref().map(NumField::Json),
                                        shard: j.shard_id.as_deref(),
                                        records: j.records.as_ref().map(NumField::Json),
                                        key_bytes: j.key_bytes.as_ref().map(NumField::Json),
                                    },
                                    unit,
                                    aggregate,
                                    &mut self.key_in,
                                ),
                            }
                        }
                    }
                }
            };
            let shards = self.spec.aggregate.and_then(|a| a.shards);
            let copy_shards = self.copy_shards;
            let checked = parsed.and_then(|l| match (self.last, &l.key, shards) {
                (Some(prev), _, _) if l.ns < prev => Err(format!(
                    "timestamps go backwards ({} ns before the previous line's)",
                    prev - l.ns
                )),
                (_, KeyText::Shard(_), None) if !copy_shards => Err(
                    "a per-shard row needs trace.shards, the shard count of the stream the trace was captured from".to_owned()
                ),
                (_, KeyText::Shard(i), Some(n)) if *i >= n => Err(format!(
                    "shardId-{i:012} is not one of the {n} shards the trace is read against (trace.shards; --shards in trace summarize)"
                )),
                _ => Ok(l),
            });
            match checked {
                Ok(l) => return Ok(Some(l)),
                Err(m) if self.spec.skip_bad_lines => {
                    let _ = m;
                    self.skipped += 1;
                }
                Err(m) => return Err(self.error_here(m)),
            }
        }
    }

    /// Reads one original record and queues it (and its copies).
    fn read_one(&mut self, rng: &mut SimRng, keys_rng: &mut SimRng) -> Result<(), TraceError> {
        let Some(line) = self.read_line()? else {
            // End of a pass.
            if self.first_pass.is_none() {
                self.first_pass = Some((self.pass_records, self.last.unwrap_or(0)));
            }
            let (n, last) = self.first_pass.expect("set above");
            if !self.spec.looped || n == 0 {
                self.eof = true;
                return Ok(());
            }
            // The next pass starts one mean gap after this one's last record.
            let span = (last - self.t0.unwrap_or(last)).max(0) as f64;
            let gap = match self.spec.aggregate {
                Some(a) => a.interval as f64,
                // A trace of one instant loops once a second, not every ns.
                None if n > 1 && span > 0.0 => span / (n - 1) as f64,
                None => 1e9,
            };
            let period = ((span + gap) / self.spec.time_scale).max(1.0) as SimTime;
            self.loop_offset = self.loop_offset.saturating_add(period);
            self.source = Self::source(&self.spec)?;
            self.line = u64::from(matches!(self.spec.format, TraceFormat::Csv));
            self.last = None;
            self.pass_records = 0;
            return Ok(());
        };
        self.last = Some(line.ns);
        self.pass_records += 1;
        let t0 = *self.t0.get_or_insert(line.ns);
        let offset = ((line.ns - t0) as f64 / self.spec.time_scale).max(0.0) as SimTime;
        let at = self
            .spec
            .shift
            .saturating_add(self.loop_offset)
            .saturating_add(offset);
        self.frontier = at;
        let Some(agg) = self.spec.aggregate else {
            let key = match line.key {
                KeyText::Hash(h) => EmitKey::Hash(h),
                _ => EmitKey::Partition,
            };
            self.emit(at, key, line.key_len, line.size, true, rng, keys_rng);
            return Ok(());
        };
        // An aggregate row: its records are made later, one at a time.
        let span = (agg.interval as f64 / self.spec.time_scale).max(1.0) as SimTime;
        let count = line.count.unwrap_or(0);
        let n = match agg.within {
            Within::Even | Within::Uniform => count,
            Within::Poisson if count == 0 => 0,
            Within::Poisson => {
                use rand_distr::{Distribution, Poisson};
                Poisson::new(count as f64).map_or(count, |d| d.sample(rng) as u64)
            }
        };
        if n == 0 {
            return Ok(());
        }
        let key = match line.key {
            // Checked against the ranges when the line was read.
            KeyText::Shard(i) => {
                let (lo, hi) = self.shard_ranges.get(i as usize).copied().ok_or_else(|| {
                    self.error(format!(
                        "shardId-{i:012} has no hash key range to draw from"
                    ))
                })?;
                RowKey::Range(lo, hi)
            }
            KeyText::Hash(h) => RowKey::Hash(h),
            KeyText::Partition => RowKey::Partition(self.key_in.clone()),
        };
        self.seq += 1;
        let mut row = Row {
            next_at: at,
            seq: self.seq,
            start: at,
            span,
            within: agg.within,
            n,
            made: 0,
            u: 0.0,
            key,
            key_len: line.key_len,
            // Bytes split evenly over the row's records (data only).
            each: line.size.map(|b| (b / count.max(1), b % count.max(1))),
        };
        row.advance(rng);
        self.rows.push(Reverse(row));
        Ok(())
    }

    /// Makes the next record of the row that is due first.
    fn expand_row(&mut self, rng: &mut SimRng, keys_rng: &mut SimRng) {
        let Some(Reverse(mut row)) = self.rows.pop() else {
            return;
        };
        let size = row.each.map(|(q, r)| q + u64::from(row.made < r));
        let at = row.next_at;
        match &row.key {
            RowKey::Partition(k) => {
                // `emit` reads the key from `key_in`.
                self.key_in.clear();
                self.key_in.push_str(k);
                self.emit(
                    at,
                    EmitKey::Partition,
                    row.key_len,
                    size,
                    true,
                    rng,
                    keys_rng,
                );
            }
            RowKey::Hash(h) => {
                self.emit(
                    at,
                    EmitKey::Hash(*h),
                    row.key_len,
                    size,
                    true,
                    rng,
                    keys_rng,
                );
            }
            RowKey::Range(lo, hi) => {
                // Hash keys drawn for a shard's row are not keys of the trace.
                let h = rng.random_range(*lo..=*hi);
                self.emit(
                    at,
                    EmitKey::Hash(h),
                    row.key_len,
                    size,
                    false,
                    rng,
                    keys_rng,
                );
            }
        }
        row.made += 1;
        if row.made < row.n {
            row.advance(rng);
            self.rows.push(Reverse(row));
        }
    }

    /// Queues one trace record at `at`, thinned or copied, its key rewritten.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        at: SimTime,
        key: EmitKey,
        key_len: Option<u16>,
        size: Option<u64>,
        counted: bool,
        rng: &mut SimRng,
        keys_rng: &mut SimRng,
    ) {
        let m = self.spec.rate_multiplier;
        let copies = m.floor() as u64 + u64::from(rng.random::<f64>() < m.fract());
        if copies == 0 {
            return;
        }
        let (hash, key_bytes) = match key {
            EmitKey::Hash(h) => (h, key_len.unwrap_or(self.spec.explicit_key_bytes)),
            EmitKey::Partition => {
                // The key after the transforms, always left in `key_buf`.
                let mut key: &str = &self.key_in;
                if let Some((_, to)) = self.spec.remap.iter().find(|(from, _)| from == key) {
                    key = to;
                }
                use std::fmt::Write as _;
                let salt = self.spec.salt.iter().find(|(name, _)| name == key);
                let mut buf = std::mem::take(&mut self.key_buf);
                buf.clear();
                match salt {
                    Some((_, n)) => {
                        let j = keys_rng.random_range(0..*n);
                        let _ = write!(buf, "{key}#{j}");
                    }
                    None => buf.push_str(key),
                }
                self.key_buf = buf;
                (
                    HashKey::from_partition_key(&self.key_buf).0,
                    self.key_buf.len() as u16,
                )
            }
        };
        let index = if counted {
            match self.key_index.get(&hash) {
                Some(&i) => i,
                None if self.keys.len() < MAX_TRACKED_KEYS => {
                    let name = match key {
                        EmitKey::Hash(h) => h.to_string(),
                        EmitKey::Partition => self.key_buf.clone(),
                    };
                    let i = self.keys.len() as u32;
                    self.keys.push((name, hash));
                    self.key_index.insert(hash, i);
                    i
                }
                None => u32::MAX,
            }
        } else {
            u32::MAX
        };
        for c in 0..copies {
            let delay = if c == 0 || self.spec.copy_spread == 0 {
                0
            } else {
                rng.random_range(0..self.spec.copy_spread)
            };
            self.seq += 1;
            self.ready.push(Reverse((
                at.saturating_add(delay),
                self.seq,
                TraceRecord {
                    at: at.saturating_add(delay),
                    key: index,
                    hash,
                    key_bytes,
                    size,
                },
            )));
        }
    }

    /// The next record before `horizon`, in time order; `None` when the
    /// trace (or the horizon) is reached. `rng` draws thinning, copy and
    /// in-row times, `keys_rng` salted sub-keys.
    pub fn next(
        &mut self,
        horizon: SimTime,
        rng: &mut SimRng,
        keys_rng: &mut SimRng,
    ) -> Result<Option<TraceRecord>, TraceError> {
        loop {
            let queued = self.ready.peek().map(|Reverse((at, _, _))| *at);
            let row = self.rows.peek().map(|Reverse(r)| r.next_at);
            let earliest = match (queued, row) {
                (Some(q), Some(r)) => Some(q.min(r)),
                (q, r) => q.or(r),
            };
            // Read until no unread line can come before the earliest
            // pending record.
            if !self.eof && self.frontier < horizon && earliest.is_none_or(|e| self.frontier <= e) {
                self.read_one(rng, keys_rng)?;
                continue;
            }
            // On a tie the queued record goes first: it came from an
            // earlier row (file order), and rows at one instant are then
            // expanded one record at a time, not all at once.
            match row {
                Some(r) if r < horizon && queued.is_none_or(|q| r < q) => {
                    self.expand_row(rng, keys_rng);
                }
                _ => {
                    return Ok(match self.ready.pop() {
                        Some(Reverse((_, _, r))) if r.at < horizon => Some(r),
                        _ => None,
                    });
                }
            }
        }
    }
}

/// The key of a record to queue: the partition key in `key_in`, or a hash
/// key.
#[derive(Clone, Copy)]
enum EmitKey {
    Partition,
    Hash(u128),
}

/// The key of an aggregate row's records.
enum RowKey {
    Partition(String),
    Hash(u128),
    /// A shard's row: hash keys drawn from its range, inclusive.
    Range(u128, u128),
}

/// An aggregate row being expanded.
struct Row {
    /// Time of its next record.
    next_at: SimTime,
    /// File order: rows with records at equal times keep it.
    seq: u64,
    start: SimTime,
    span: SimTime,
    within: Within,
    /// Records it makes, and those made.
    n: u64,
    made: u64,
    /// The last uniform order statistic drawn, in [0, 1].
    u: f64,
    key: RowKey,
    key_len: Option<u16>,
    /// Data bytes per record: quotient, and the remainder spread one byte
    /// each over the first records.
    each: Option<(u64, u64)>,
}

impl Row {
    /// Sets `next_at` to the time of record `made` (of `n`).
    fn advance(&mut self, rng: &mut SimRng) {
        let offset = match self.within {
            // The k-th of n at (k + 1/2) / n of the span.
            Within::Even => {
                ((2 * u128::from(self.made) + 1) * u128::from(self.span) / (2 * u128::from(self.n)))
                    as SimTime
            }
            // The next of the remaining m sorted uniforms: the minimum of
            // m uniforms on [u, 1] is u + (1 - u)(1 - V^(1/m)); written
            // with expm1 so a row of billions keeps its precision.
            Within::Uniform | Within::Poisson => {
                let m = (self.n - self.made) as f64;
                let v: f64 = rng.random();
                self.u += (1.0 - self.u) * -(v.ln() / m).exp_m1();
                ((self.u * self.span as f64) as SimTime).min(self.span - 1)
            }
        };
        self.next_at = self.start.saturating_add(offset);
    }
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        (self.next_at, self.seq) == (other.next_at, other.seq)
    }
}

impl Eq for Row {}

impl PartialOrd for Row {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Row {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.next_at, self.seq).cmp(&(other.next_at, other.seq))
    }
}

/// The fields of one line.
struct Fields<'a> {
    ts: Option<TsField<'a>>,
    key: Option<&'a str>,
    hash: Option<&'a str>,
    size: Option<NumField<'a>>,
    shard: Option<&'a str>,
    records: Option<NumField<'a>>,
    key_bytes: Option<NumField<'a>>,
}

/// Parses a line's fields; a partition key is copied into `key_in`.
fn parse_fields(
    f: Fields<'_>,
    unit_ns: u64,
    aggregate: bool,
    key_in: &mut String,
) -> Result<Line, String> {
    let Fields {
        ts,
        key,
        hash,
        size,
        shard,
        records,
        key_bytes,
    } = f;
    let count = if aggregate {
        let r = records
            .map(NumField::whole)
            .transpose()
            .map_err(|t| format!("bad records count {t:?}: expected a whole number, 0 or more"))?;
        Some(r.flatten().ok_or("no records count")?)
    } else {
        None
    };
    let bad_time = |t: &dyn std::fmt::Display| {
        format!(
            "bad timestamp {:?}: expected RFC 3339 (UTC) or a number of time units since the epoch",
            t.to_string()
        )
    };
    let ns = match ts {
        None => return Err("no timestamp".into()),
        Some(TsField::Text(t)) if t.trim().is_empty() => return Err("no timestamp".into()),
        Some(TsField::Text(t)) => parse_time(t, unit_ns).ok_or_else(|| bad_time(&t))?,
        Some(TsField::Int(i)) => i128::from(i) * i128::from(unit_ns),
        Some(TsField::Float(x)) if x.is_finite() => (x * unit_ns as f64).round() as i128,
        Some(TsField::Float(x)) => return Err(bad_time(&x)),
    };
    // Nanoseconds in an i64 (1677 to 2262): differences of two times and
    // the arithmetic on them cannot overflow.
    if i64::try_from(ns).is_err() {
        let shown = match ts {
            Some(TsField::Text(t)) => t.trim().to_owned(),
            Some(TsField::Int(i)) => i.to_string(),
            Some(TsField::Float(x)) => x.to_string(),
            None => String::new(),
        };
        return Err(format!(
            "timestamp {shown:?} is out of range; accepted are times in the years 1678 to 2261 (is time_unit right?)"
        ));
    }
    let shard = shard.map(str::trim).filter(|s| !s.is_empty());
    let mut key_len = None;
    let key = match (
        key.filter(|k| !k.is_empty()),
        hash.filter(|h| !h.is_empty()),
    ) {
        (None, None) if aggregate && shard.is_some() => {
            let text = shard.unwrap_or_default();
            let id: crate::kds::ShardId = text
                .parse()
                .map_err(|e: crate::kds::KdsError| format!("bad shard id {text:?}: {e}"))?;
            KeyText::Shard(id.index())
        }
        (k, Some(h)) => {
            // The service charges the partition key that goes with an
            // explicit hash key: its length, if the trace has it, or the
            // line's key_bytes (a trace hashed by `trace hash`).
            key_len = match k {
                Some(k) => Some(k.len().min(u16::MAX as usize) as u16),
                None => match key_bytes.map(NumField::whole).transpose() {
                    Ok(Some(Some(b))) if b <= MAX_KEY_BYTES => Some(b as u16),
                    Ok(Some(None)) | Ok(None) => None,
                    Ok(Some(Some(b))) => {
                        return Err(format!(
                            "key_bytes {b} is out of range; accepted range is 0 to {MAX_KEY_BYTES}"
                        ));
                    }
                    Err(t) => {
                        return Err(format!(
                            "bad key_bytes {t:?}: expected a whole number from 0 to {MAX_KEY_BYTES}"
                        ));
                    }
                },
            };
            KeyText::Hash(
                HashKey::parse_explicit(h.trim())
                    .map_err(|e| e.to_string())?
                    .0,
            )
        }
        (Some(k), None) => {
            let n = k.chars().count();
            if n > 256 {
                return Err(format!(
                    "partition key of {n} characters; accepted length is 1 to 256"
                ));
            }
            key_in.clear();
            key_in.push_str(k);
            KeyText::Partition
        }
        (None, None) => return Err("no partition key (and no explicit hash key)".into()),
    };
    let size = size
        .map(NumField::whole)
        .transpose()
        .map_err(|s| format!("bad size {s:?}: expected a whole number of bytes, 0 or more"))?
        .flatten();
    Ok(Line {
        ns,
        key,
        key_len,
        size,
        count,
    })
}

/// What `trace summarize` prints: the rate over time, keys, top keys with
/// their shards at `shards` shards, and sizes.
pub fn summarize(spec: TraceSpec, shards: u32, top: usize) -> Result<String, TraceError> {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    /// Distinct keys counted exactly, at most (memory bound).
    const MAX_KEYS: usize = 1_000_000;
    /// Rate buckets a trace's span is cut into, at most, before the next
    /// coarser unit is used.
    const MAX_BUCKETS: i128 = 3600;
    /// Bucket widths in seconds, finest first, with their names.
    const UNITS: [(i128, &str, &str); 4] = [
        (1, "s", "second"),
        (60, "min", "minute"),
        (3600, "h", "hour"),
        (86_400, "d", "day"),
    ];
    /// A key of the trace: typed, so no key text can pass for another kind.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Partition(String),
        Hash(u128),
        Shard(u32),
    }
    let mut r = TraceReader::open(TraceSpec {
        rate_multiplier: 1.0,
        time_scale: 1.0,
        shift: 0,
        looped: false,
        ..spec
    })?;
    let path = r.spec.path.clone();
    let map =
        crate::kds::ShardMap::create(shards.max(1), crate::kds::EpochNanos(0)).map_err(|e| {
            TraceError {
                path: path.clone(),
                line: 0,
                message: e.to_string(),
            }
        })?;
    // Only buckets with records are kept: a trace with a long gap (or a
    // stray epoch timestamp) costs two entries, not the gap's length.
    let mut buckets: BTreeMap<i128, (u64, u64)> = BTreeMap::new();
    let mut unit = 0;
    let mut keys: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    let mut untracked = 0u64;
    let (mut records, mut bytes, mut sized) = (0u64, 0u64, 0u64);
    let mut sizes: Vec<u64> = Vec::new();
    let (mut first, mut last) = (None, 0i128);
    while let Some(line) = r.read_line()? {
        // read_line checks time order against the last line.
        r.last = Some(line.ns);
        // An aggregate row stands for `count` records and `size` bytes.
        let n = line.count.unwrap_or(1);
        records = records.saturating_add(n);
        let since = line.ns - *first.get_or_insert(line.ns);
        last = line.ns;
        // Seconds while the span fits in MAX_BUCKETS of them, then minutes,
        // hours, days.
        while unit + 1 < UNITS.len() && since / (UNITS[unit].0 * 1_000_000_000) >= MAX_BUCKETS {
            let ratio = UNITS[unit + 1].0 / UNITS[unit].0;
            let mut coarser: BTreeMap<i128, (u64, u64)> = BTreeMap::new();
            for (b, (n, s)) in buckets {
                let e = coarser.entry(b / ratio).or_default();
                e.0 = e.0.saturating_add(n);
                e.1 = e.1.saturating_add(s);
            }
            buckets = coarser;
            unit += 1;
        }
        let bucket = buckets
            .entry(since / (UNITS[unit].0 * 1_000_000_000))
            .or_default();
        bucket.0 = bucket.0.saturating_add(n);
        if let Some(s) = line.size {
            bucket.1 = bucket.1.saturating_add(s);
            bytes = bytes.saturating_add(s);
            sized = sized.saturating_add(n);
            // A bounded sample for the quantiles (records, or row means).
            if sizes.len() < 1_000_000 && n > 0 {
                sizes.push(s / n);
            }
        }
        let key = match &line.key {
            KeyText::Partition => Key::Partition(r.key_in.clone()),
            KeyText::Hash(h) => Key::Hash(*h),
            KeyText::Shard(i) => Key::Shard(*i),
        };
        if let Some(e) = keys.get_mut(&key) {
            e.0 = e.0.saturating_add(n);
            e.1 = e.1.saturating_add(line.size.unwrap_or(0));
        } else if keys.len() < MAX_KEYS {
            keys.insert(key, (n, line.size.unwrap_or(0)));
        } else {
            untracked = untracked.saturating_add(n);
        }
    }
    let mut t = String::new();
    let span_s = (last - first.unwrap_or(last)) as f64 / 1e9;
    let _ = writeln!(
        t,
        "{}: {records} records over {span_s:.1} s ({:.1} records/s), {} lines skipped",
        path.display(),
        if span_s > 0.0 {
            records as f64 / span_s
        } else {
            0.0
        },
        r.skipped
    );
    if sized > 0 {
        sizes.sort_unstable();
        let q = |p: f64| sizes[((sizes.len() - 1) as f64 * p).round() as usize];
        let _ = writeln!(
            t,
            "sizes: mean {:.0} B, p50 {} B, p90 {} B, p99 {} B, max {} B",
            bytes as f64 / sized as f64,
            q(0.5),
            q(0.9),
            q(0.99),
            sizes.last().copied().unwrap_or(0)
        );
    } else {
        t.push_str("sizes: none in the trace (the scenario's size model applies)\n");
    }
    let _ = writeln!(
        t,
        "keys: {} distinct{}",
        keys.len(),
        if untracked > 0 {
            format!(" counted (and {untracked} records of keys past the first {MAX_KEYS})")
        } else {
            String::new()
        }
    );
    let mut ranked: Vec<(&Key, &(u64, u64))> = keys.iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let _ = writeln!(
        t,
        "top keys at {shards} shards (records/s over the trace; one shard takes 1000):"
    );
    for (k, (n, b)) in ranked.into_iter().take(top) {
        // A per-shard row names its shard; keys are routed by their hash.
        let (name, shard) = match k {
            Key::Shard(i) => {
                let id = crate::kds::ShardId(*i);
                (id.to_string(), id)
            }
            Key::Hash(h) => (format!("hash:{h}"), map.shard_for_hash_key(HashKey(*h))),
            Key::Partition(k) => (
                k.clone(),
                map.shard_for_hash_key(HashKey::from_partition_key(k)),
            ),
        };
        let _ = writeln!(
            t,
            "  {name:<32} {n:>10} records {:>10.1}/s {:>12} B  {shard}",
            if span_s > 0.0 {
                *n as f64 / span_s
            } else {
                0.0
            },
            b
        );
    }
    let (width, unit, unit_name) = UNITS[unit];
    let _ = writeln!(t, "rate per {unit_name} (records/s, bytes/s):");
    let mut next = 0;
    for (&i, &(n, b)) in &buckets {
        // Short gaps print as zero rows; a long one as a single line.
        if i - next > 10 {
            let _ = writeln!(t, "  ({} {unit_name}s without records)", i - next);
        } else {
            for j in next..i {
                let _ = writeln!(t, "  {j:>6} {unit:<3} {:>10.1} {:>12.0}", 0.0, 0.0);
            }
        }
        let _ = writeln!(
            t,
            "  {i:>6} {unit:<3} {:>10.1} {:>12.0}",
            n as f64 / width as f64,
            b as f64 / width as f64
        );
        next = i + 1;
    }
    Ok(t)
}

/// What [`hash_keys`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashed {
    /// Lines written.
    pub lines: u64,
    /// Malformed lines skipped (with `skip_bad_lines`).
    pub skipped: u64,
    /// Nanoseconds from the first time to the last (a check of the time
    /// unit: the copy's times are absolute).
    pub span: u64,
}

/// Rewrites a trace so it can be shared without its keys: each partition
/// key becomes its hash key (the MD5 the service routes by, in decimal)
/// and its length in bytes (what the service charges), so the result
/// replays exactly as the original, record for record. Only the columns
/// a replay reads are written (times as RFC 3339 with nanoseconds, so no
/// `time_unit` is needed); every other column is dropped. Hash keys cannot
/// be salted: salt what-ifs need the original.
pub fn hash_keys(spec: TraceSpec, out: &mut dyn std::io::Write) -> Result<Hashed, TraceError> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        timestamp: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        explicit_hash_key: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_bytes: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        shard_id: Option<String>,
        // Outer `None`: the trace has no such column; inner: this line has
        // no value (written as null, so the copy keeps the column even
        // when its first line has none).
        #[serde(skip_serializing_if = "Option::is_none")]
        records: Option<Option<u64>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        size: Option<Option<u64>>,
    }
    let columns = Columns::read(&spec.path, spec.format)?;
    let format = spec.format;
    let mut r = TraceReader::open(TraceSpec {
        looped: false,
        ..spec
    })?;
    // Shard ids are copied as they are, whatever the count.
    r.copy_shards = true;
    let path = r.spec.path.clone();
    let io = |line: u64, e: &dyn std::fmt::Display| TraceError {
        path: path.clone(),
        line,
        message: format!("cannot write the hashed trace: {e}"),
    };
    enum Sink<'w> {
        Csv(
            Box<csv::Writer<&'w mut dyn std::io::Write>>,
            Vec<&'static str>,
        ),
        Json(&'w mut dyn std::io::Write),
    }
    let mut sink = match format {
        TraceFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            // Every column a line of this trace can have, in one order.
            let mut header = vec!["timestamp"];
            if columns.key.is_some() || columns.hash.is_some() {
                header.extend(["explicit_hash_key", "key_bytes"]);
            }
            if columns.shard.is_some() {
                header.push("shard_id");
            }
            if columns.records.is_some() {
                header.push("records");
            }
            if columns.size.is_some() {
                header.push(if columns.records.is_some() {
                    "bytes"
                } else {
                    "size"
                });
            }
            w.write_record(&header).map_err(|e| io(0, &e))?;
            Sink::Csv(Box::new(w), header)
        }
        TraceFormat::JsonLines => Sink::Json(out),
    };
    let mut json = Vec::new();
    let mut lines = 0;
    let (mut first, mut last) = (None, 0);
    while let Some(line) = r.read_line()? {
        r.last = Some(line.ns);
        let Ok(at) = u64::try_from(line.ns) else {
            return Err(r.error_here(
                "a time before 1970 cannot be written as RFC 3339 (is --time-unit right?)"
                    .to_owned(),
            ));
        };
        first.get_or_insert(line.ns);
        last = line.ns;
        let time = humantime::format_rfc3339_nanos(
            std::time::UNIX_EPOCH + std::time::Duration::from_nanos(at),
        )
        .to_string();
        let (hash, key_bytes, shard) = match line.key {
            KeyText::Partition => (
                Some(HashKey::from_partition_key(&r.key_in).0.to_string()),
                Some(r.key_in.len() as u16),
                None,
            ),
            KeyText::Hash(h) => (Some(h.to_string()), line.key_len, None),
            KeyText::Shard(i) => (None, None, Some(crate::kds::ShardId(i).to_string())),
        };
        let row = Row {
            timestamp: &time,
            explicit_hash_key: hash,
            key_bytes,
            shard_id: shard,
            // JSON columns are per line: a value is always written; a
            // column the first line has is written as null when empty.
            records: (columns.records.is_some() || line.count.is_some()).then_some(line.count),
            size: (columns.size.is_some() || line.size.is_some()).then_some(line.size),
        };
        match &mut sink {
            Sink::Csv(w, header) => {
                let cell = |name: &str| -> String {
                    match name {
                        "timestamp" => row.timestamp.to_owned(),
                        "explicit_hash_key" => row.explicit_hash_key.clone().unwrap_or_default(),
                        "key_bytes" => row.key_bytes.map(|b| b.to_string()).unwrap_or_default(),
                        "shard_id" => row.shard_id.clone().unwrap_or_default(),
                        "records" => row
                            .records
                            .flatten()
                            .map(|n| n.to_string())
                            .unwrap_or_default(),
                        _ => row
                            .size
                            .flatten()
                            .map(|n| n.to_string())
                            .unwrap_or_default(),
                    }
                };
                w.write_record(header.iter().map(|h| cell(h)))
                    .map_err(|e| io(r.line, &e))?;
            }
            Sink::Json(out) => {
                json.clear();
                serde_json::to_writer(&mut json, &row).map_err(|e| io(r.line, &e))?;
                json.push(b'\n');
                out.write_all(&json).map_err(|e| io(r.line, &e))?;
            }
        }
        lines += 1;
    }
    if let Sink::Csv(mut w, _) = sink {
        w.flush().map_err(|e| io(r.line, &e))?;
    }
    Ok(Hashed {
        lines,
        skipped: r.skipped,
        span: (last - first.unwrap_or(last)) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse() {
        assert_eq!(
            parse_time("1700000000", 1_000_000_000),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_time("1700000000123", 1_000_000),
            Some(1_700_000_000_123_000_000)
        );
        assert_eq!(parse_time("1.5", 1_000_000_000), Some(1_500_000_000));
        assert_eq!(
            parse_time("2025-01-01T00:00:01.5Z", 1),
            Some(1_735_689_601_500_000_000)
        );
        assert_eq!(parse_time("yesterday", 1), None);
    }
}
