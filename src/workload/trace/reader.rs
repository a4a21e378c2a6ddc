//! Replay: lines read in order, mapped to simulated time, thinned or
//! copied, their keys rewritten and counted.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use rand::RngExt;

use super::header::{csv_columns, csv_reader, without_bom};
use super::line::{Fields, JsonLine, JsonTime, KeyText, Line, NumField, TsField, parse_fields};
use super::{
    Columns, KeyIndex, MAX_ROW_RATE, MAX_TRACKED_KEYS, TraceError, TraceFormat, TraceReader,
    TraceRecord, TraceSpec,
};
use crate::kds::HashKey;
use crate::kds::Quota;
use crate::sim::SimTime;
use crate::sim::rng::SimRng;

pub(super) enum Source {
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
            peeked: None,
            salted: Vec::new(),
        })
    }

    fn source(spec: &TraceSpec) -> Result<Source, TraceError> {
        let file = File::open(&spec.path).map_err(|e| TraceError::open(&spec.path, &e))?;
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
    pub(super) fn error_here(&mut self, message: String) -> TraceError {
        if let (Source::Csv { .. }, Some(byte)) = (&self.source, self.line_byte)
            && let Some(line) = line_at(&self.spec.path, byte)
        {
            self.line = line;
        }
        self.error(message)
    }

    pub(super) fn error(&self, message: String) -> TraceError {
        TraceError {
            path: self.spec.path.clone(),
            line: self.line,
            // A line's field may be megabytes: cut where it is quoted.
            message: crate::shown::one_line(&message),
        }
    }

    /// Reads the next line: `Ok(None)` at the end of the file.
    pub(super) fn read_line(&mut self) -> Result<Option<Line>, TraceError> {
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
            let interval = self.spec.aggregate.map_or(0, |a| a.interval);
            let copy_shards = self.copy_shards;
            let checked = parsed.and_then(|l| match (self.last, &l.key, shards) {
                _ if too_fast(l.count, interval) => Err(format!(
                    "a row of {} records in {} is above {MAX_ROW_RATE} records/s, the most a stream takes \
                     ({} shards of {} records/s): is the records column mislabelled?",
                    l.count.unwrap_or(0),
                    crate::units::Duration(interval),
                    Quota::UpdateShardCountMaxShards.value(),
                    Quota::WriteRecordsPerShardPerSec.value(),
                )),
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

    /// Reads the next line of the trace and maps it to simulated time,
    /// starting a new pass at the end of one when the trace loops:
    /// `Ok(None)` at the end. Shared by the record replay and the rows the
    /// shard engine reads ([`TraceReader::next_row`]).
    pub(super) fn next_line(&mut self) -> Result<Option<(SimTime, Line)>, TraceError> {
        loop {
            if self.eof {
                return Ok(None);
            }
            let Some(line) = self.read_line()? else {
                // End of a pass.
                if self.first_pass.is_none() {
                    self.first_pass = Some((self.pass_records, self.last.unwrap_or(0)));
                }
                let (n, last) = self.first_pass.expect("set above");
                if !self.spec.looped || n == 0 {
                    self.eof = true;
                    return Ok(None);
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
                continue;
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
            return Ok(Some((at, line)));
        }
    }

    /// Reads one original record and queues it (and its copies).
    fn read_one(&mut self, rng: &mut SimRng, keys_rng: &mut SimRng) -> Result<(), TraceError> {
        let Some((at, line)) = self.next_line()? else {
            return Ok(());
        };
        let Some(agg) = self.spec.aggregate else {
            let key = match line.key {
                KeyText::Hash(h) => EmitKey::Hash(h),
                _ => EmitKey::Partition,
            };
            self.emit(at, key, line.key_len, line.size, true, rng, keys_rng);
            return Ok(());
        };
        // An aggregate row: its records are made later, one at a time.
        self.start_row(at, line, agg, rng)
    }

    /// The partition key in `key_in` after `remap`, and the sub-keys it
    /// is salted into (`salt`'s entry and count), if it is salted.
    pub(super) fn remapped(&self) -> (&str, Option<(usize, u32)>) {
        let mut key: &str = &self.key_in;
        if let Some((_, to)) = self.spec.remap.iter().find(|(from, _)| from == key) {
            key = to;
        }
        let salt = self
            .spec
            .salt
            .iter()
            .position(|(name, _)| name == key)
            .map(|i| (i, self.spec.salt[i].1));
        (key, salt)
    }

    /// Rewrites the partition key in `key_in` (`remap`, then `salt` with
    /// sub-key `pick(into)`) into `key_buf`: its hash key and bytes.
    pub(super) fn rewrite_key(&mut self, pick: impl FnOnce(u32) -> u32) -> (u128, u16) {
        use std::fmt::Write as _;
        let mut buf = std::mem::take(&mut self.key_buf);
        buf.clear();
        let (key, salt) = self.remapped();
        match salt {
            Some((_, n)) => {
                let _ = write!(buf, "{key}#{}", pick(n));
            }
            None => buf.push_str(key),
        }
        self.key_buf = buf;
        (
            HashKey::from_partition_key(&self.key_buf).0,
            self.key_buf.len() as u16,
        )
    }

    /// The index of key `hash` in [`TraceReader::keys`], learnt now if
    /// new (named `name()`), or `u32::MAX` past [`MAX_TRACKED_KEYS`].
    pub(super) fn count_key(&mut self, hash: u128, name: impl FnOnce(&Self) -> String) -> u32 {
        match self.key_index.get(&hash) {
            Some(&i) => i,
            None if self.keys.len() < MAX_TRACKED_KEYS => {
                let name = name(self);
                let i = self.keys.len() as u32;
                self.keys.push((name, hash));
                self.key_index.insert(hash, i);
                i
            }
            None => u32::MAX,
        }
    }

    /// Queues one trace record at `at`, thinned or copied, its key rewritten.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn emit(
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
            // The key after the transforms, always left in `key_buf`.
            EmitKey::Partition => self.rewrite_key(|n| keys_rng.random_range(0..n)),
        };
        let index = if counted {
            self.count_key(hash, |r| match key {
                EmitKey::Hash(h) => h.to_string(),
                EmitKey::Partition => r.key_buf.clone(),
            })
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

/// Whether a row of `count` records over `interval` ns is above
/// [`MAX_ROW_RATE`].
fn too_fast(count: Option<u64>, interval: SimTime) -> bool {
    count.is_some_and(|n| {
        u128::from(n) * u128::from(crate::units::NANOS_PER_SEC)
            > u128::from(MAX_ROW_RATE) * u128::from(interval)
    })
}

/// The key of a record to queue: the partition key in `key_in`, or a hash
/// key.
#[derive(Clone, Copy)]
pub(super) enum EmitKey {
    Partition,
    Hash(u128),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_may_stand_for_up_to_a_streams_most_records_a_second() {
        const S: SimTime = crate::units::NANOS_PER_SEC;
        assert_eq!(MAX_ROW_RATE, 10_000_000);
        assert!(!too_fast(None, S));
        assert!(!too_fast(Some(10_000_000), S));
        assert!(too_fast(Some(10_000_001), S));
        assert!(!too_fast(Some(36_000_000_000), 3600 * S));
        assert!(too_fast(Some(36_000_000_001), 3600 * S));
        assert!(too_fast(Some(u64::MAX), 3600 * S));
        assert!(!too_fast(Some(u64::MAX / 100), SimTime::MAX));
    }
}
