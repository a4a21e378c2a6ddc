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
#[error("trace {} line {line}: {message}", path.display())]
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
    /// from that shard's range.
    pub shards: u32,
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

/// Most records one aggregate row may stand for: its records are queued
/// together (about 60 bytes each), so this bounds a replay's memory.
pub const MAX_ROW_RECORDS: u64 = 10_000_000;

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
    let mut first = String::new();
    BufReader::new(file)
        .read_line(&mut first)
        .map_err(|e| err(1, e.to_string()))?;
    match format {
        TraceFormat::Csv => {
            let names: Vec<&str> = first.trim_end().split(',').collect();
            Columns::find(&names).map_err(|m| err(1, m))
        }
        TraceFormat::JsonLines => {
            let v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(first.trim()).map_err(|e| err(1, e.to_string()))?;
            let names: Vec<&str> = v.keys().map(String::as_str).collect();
            Columns::find(&names).map_err(|m| err(1, m))
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTime<'a> {
    Int(i64),
    Float(f64),
    Text(&'a str),
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
}

enum Source {
    Csv {
        reader: csv::Reader<BufReader<File>>,
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
    /// Aggregate traces by shard: each shard's hash key range.
    shard_ranges: Vec<(u128, u128)>,
    seq: u64,
    eof: bool,
    /// Lines skipped as malformed.
    pub skipped: u64,
    key_buf: String,
    /// The partition key of the line just read.
    key_in: String,
    /// Its partition key's length, when a line has one beside a hash key.
    line_key_len: Option<u16>,
    /// Keys counted so far: name (the partition key, or the hash key in
    /// decimal) and hash key, by index.
    pub keys: Vec<(String, u128)>,
    key_index: KeyIndex,
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
        let shard_ranges = match spec.aggregate {
            Some(a) => crate::kds::ShardMap::create(a.shards, crate::kds::EpochNanos(0))
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
            spec,
            source,
            t0: None,
            last: None,
            first_pass: None,
            pass_records: 0,
            loop_offset: 0,
            frontier: 0,
            ready: BinaryHeap::new(),
            seq: 0,
            eof: false,
            skipped: 0,
            key_buf: String::new(),
            key_in: String::new(),
            line_key_len: None,
            keys: Vec::new(),
            key_index: KeyIndex::default(),
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
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(reader);
                let names: Vec<String> = reader
                    .headers()
                    .map_err(|e| TraceError {
                        path: spec.path.clone(),
                        line: 1,
                        message: e.to_string(),
                    })?
                    .iter()
                    .map(str::to_owned)
                    .collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let columns = Columns::find(&names).map_err(|message| TraceError {
                    path: spec.path.clone(),
                    line: 1,
                    message,
                })?;
                Source::Csv {
                    reader,
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
                    Err(e) => Err(e.to_string()),
                    Ok(true) => {
                        // The csv reader skips blank lines without counting
                        // them; so do these line numbers (documented).
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
                        Ok(_) => match serde_json::from_str::<JsonLine<'_>>(line.trim_end()) {
                            Err(e) => Err(format!("not a JSON object: {e}")),
                            Ok(j) => parse_fields(
                                Fields {
                                    ts: j.timestamp.map(|t| match t {
                                        JsonTime::Int(i) => TsField::Int(i),
                                        JsonTime::Float(x) => TsField::Float(x),
                                        JsonTime::Text(t) => TsField::Text(t),
                                    }),
                                    key: j.partition_key.as_deref(),
                                    hash: j.explicit_hash_key.as_deref(),
                                    size: j.size.as_ref().map(NumField::Json),
                                    shard: j.shard_id.as_deref(),
                                    records: j.records.as_ref().map(NumField::Json),
                                },
                                unit,
                                aggregate,
                                &mut self.key_in,
                            ),
                        },
                    }
                }
            };
            let checked = parsed.and_then(|l| match self.last {
                Some(prev) if l.ns < prev => Err(format!(
                    "timestamps go backwards ({} ns before the previous line's)",
                    prev - l.ns
                )),
                _ => Ok(l),
            });
            match checked {
                Ok(l) => return Ok(Some(l)),
                Err(m) if self.spec.skip_bad_lines => {
                    let _ = m;
                    self.skipped += 1;
                }
                Err(m) => return Err(self.error(m)),
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
        self.line_key_len = line.key_len;
        let Some(agg) = self.spec.aggregate else {
            self.emit(at, &line.key, line.size, true, rng, keys_rng);
            return Ok(());
        };
        // An aggregate row: its records within the interval.
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
        // Bytes split evenly over the row's records (data only).
        let each = line.size.map(|b| (b / count.max(1), b % count.max(1)));
        let range = match &line.key {
            KeyText::Shard(i) => Some(
                self.shard_ranges
                    .get(*i as usize)
                    .copied()
                    .ok_or_else(|| {
                        self.error(format!(
                            "shardId-{i:012} is not one of the {} shards the trace is read against (trace.shards)",
                            agg.shards
                        ))
                    })?,
            ),
            _ => None,
        };
        for k in 0..n {
            let offset = match agg.within {
                Within::Even => ((2 * k + 1) as f64 / (2 * n) as f64 * span as f64) as SimTime,
                Within::Uniform | Within::Poisson => rng.random_range(0..span),
            };
            let size = each.map(|(q, r)| q + u64::from(k < r));
            let key = match (&line.key, range) {
                (_, Some((lo, hi))) => KeyText::Hash(rng.random_range(lo..=hi)),
                (KeyText::Hash(h), None) => KeyText::Hash(*h),
                (KeyText::Partition, None) => KeyText::Partition,
                (KeyText::Shard(_), None) => unreachable!("a shard row has a range"),
            };
            // Hash keys drawn for a shard's row are not keys of the trace.
            let counted = range.is_none();
            self.emit(
                at.saturating_add(offset),
                &key,
                size,
                counted,
                rng,
                keys_rng,
            );
        }
        Ok(())
    }

    /// Queues one trace record at `at`, thinned or copied, its key rewritten.
    fn emit(
        &mut self,
        at: SimTime,
        key: &KeyText,
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
            KeyText::Shard(_) => unreachable!("shard rows are given hash keys first"),
            KeyText::Hash(h) => (
                *h,
                self.line_key_len.unwrap_or(self.spec.explicit_key_bytes),
            ),
            KeyText::Partition => {
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
                        KeyText::Hash(h) => h.to_string(),
                        _ => self.key_buf.clone(),
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
    /// trace (or the horizon) is reached. `rng` draws thinning and copy
    /// times, `keys_rng` salted sub-keys.
    pub fn next(
        &mut self,
        horizon: SimTime,
        rng: &mut SimRng,
        keys_rng: &mut SimRng,
    ) -> Result<Option<TraceRecord>, TraceError> {
        // Read until no unread record can come before the earliest queued one.
        while !self.eof
            && self.frontier < horizon
            && self
                .ready
                .peek()
                .is_none_or(|Reverse((at, _, _))| self.frontier <= *at)
        {
            self.read_one(rng, keys_rng)?;
        }
        match self.ready.pop() {
            Some(Reverse((_, _, r))) if r.at < horizon => Ok(Some(r)),
            _ => Ok(None),
        }
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
    } = f;
    let count = if aggregate {
        let r = records
            .map(NumField::whole)
            .transpose()
            .map_err(|t| format!("bad records count {t:?}: expected a whole number, 0 or more"))?;
        let n = r.flatten().ok_or("no records count")?;
        // A row is expanded into memory before its records are sent.
        if n > MAX_ROW_RECORDS {
            return Err(format!(
                "records {n} is out of range; accepted range is 0 to {MAX_ROW_RECORDS} per row"
            ));
        }
        Some(n)
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
            // explicit hash key: its length, if the trace has it.
            key_len = k.map(|k| k.len().min(u16::MAX as usize) as u16);
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
    let mut per_minute: Vec<(u64, u64)> = Vec::new();
    let mut resolution: u64 = 1;
    let mut keys: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut untracked = 0u64;
    let (mut records, mut bytes, mut sized) = (0u64, 0u64, 0u64);
    let mut sizes: Vec<u64> = Vec::new();
    let (mut first, mut last) = (None, 0i128);
    while let Some(line) = r.read_line()? {
        // read_line checks time order against the last line.
        r.last = Some(line.ns);
        // An aggregate row stands for `count` records and `size` bytes.
        let n = line.count.unwrap_or(1);
        records += n;
        first.get_or_insert(line.ns);
        last = line.ns;
        // Per second for the first hour; past it, folded into minutes (a
        // long trace keeps one bucket per minute).
        let mut bucket =
            ((line.ns - first.unwrap_or(line.ns)) / (resolution as i128 * 1_000_000_000)) as usize;
        if resolution == 1 && bucket >= 3600 {
            let minutes: Vec<(u64, u64)> = per_minute
                .chunks(60)
                .map(|c| c.iter().fold((0, 0), |a, x| (a.0 + x.0, a.1 + x.1)))
                .collect();
            per_minute = minutes;
            resolution = 60;
            bucket /= 60;
        }
        if per_minute.len() <= bucket {
            per_minute.resize(bucket + 1, (0, 0));
        }
        per_minute[bucket].0 += n;
        if let Some(s) = line.size {
            per_minute[bucket].1 += s;
            bytes += s;
            sized += n;
            // A bounded sample for the quantiles (records, or row means).
            if sizes.len() < 1_000_000 && n > 0 {
                sizes.push(s / n);
            }
        }
        let name = match &line.key {
            KeyText::Partition => r.key_in.clone(),
            KeyText::Hash(h) => format!("hash:{h}"),
            KeyText::Shard(i) => format!("shard:{i}"),
        };
        if let Some(e) = keys.get_mut(&name) {
            e.0 += n;
            e.1 += line.size.unwrap_or(0);
        } else if keys.len() < MAX_KEYS {
            keys.insert(name, (n, line.size.unwrap_or(0)));
        } else {
            untracked += n;
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
    let mut ranked: Vec<(&String, &(u64, u64))> = keys.iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let _ = writeln!(
        t,
        "top keys at {shards} shards (records/s over the trace; one shard takes 1000):"
    );
    for (k, (n, b)) in ranked.into_iter().take(top) {
        // A per-shard row names its shard; keys are routed by their hash.
        let (k, shard) = match (k.strip_prefix("shard:"), k.strip_prefix("hash:")) {
            (Some(i), _) => {
                let id = crate::kds::ShardId(i.parse().unwrap_or(0));
                (id.to_string(), id)
            }
            (None, Some(h)) => (
                k.clone(),
                map.shard_for_hash_key(HashKey(h.parse::<u128>().unwrap_or(0))),
            ),
            (None, None) => (
                k.clone(),
                map.shard_for_hash_key(HashKey::from_partition_key(k)),
            ),
        };
        let _ = writeln!(
            t,
            "  {k:<32} {n:>10} records {:>10.1}/s {:>12} B  {shard}",
            if span_s > 0.0 {
                *n as f64 / span_s
            } else {
                0.0
            },
            b
        );
    }
    let (unit, width) = if resolution == 1 {
        ("s", 1.0)
    } else {
        ("min", 60.0)
    };
    let _ = writeln!(
        t,
        "rate per {} (records/s, bytes/s):",
        if resolution == 1 { "second" } else { "minute" }
    );
    for (i, (n, b)) in per_minute.iter().enumerate() {
        let _ = writeln!(
            t,
            "  {:>6} {unit:<3} {:>10.1} {:>12.0}",
            i,
            *n as f64 / width,
            *b as f64 / width
        );
    }
    Ok(t)
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
