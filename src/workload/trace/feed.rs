//! An aggregate trace read row by row, for the shard engine: each row's
//! interval in simulated time, its count and where its records go (keys
//! rewritten by `remap` and `salt` and hashed once per row, not per
//! record). The engine spreads the counts over its steps; the reading,
//! time mapping, loops and key rewriting are the replay's own
//! ([`TraceReader::next_line`], [`TraceReader::rewrite_key`]).

use std::sync::Arc;

use super::line::KeyText;
use super::{TraceError, TraceReader, TraceSpec, Within};
use crate::kds::HashKey;
use crate::sim::SimTime;

/// One row of an aggregate trace, in simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    /// Where its interval starts.
    pub start: SimTime,
    /// Its interval, scaled by `time_scale` (at least 1 ns).
    pub span: SimTime,
    /// The row's `records`: the count (the mean, for `within = poisson`)
    /// before `rate_multiplier`.
    pub count: u64,
    /// Where its records go.
    pub dest: RowDest,
    /// Data bytes of each record, if the trace says: the quotient and the
    /// remainder of the row's bytes by its count (the first `remainder`
    /// records in time order take one byte more, as in the replay).
    pub each: Option<(u64, u64)>,
}

/// Where an aggregate row's records go.
#[derive(Debug, Clone, PartialEq)]
pub enum RowDest {
    /// One key: its hash key, the partition key bytes charged, and its
    /// index in [`TraceReader::keys`] (`u32::MAX`: not counted).
    Key {
        /// The hash key.
        hash: u128,
        /// Partition key bytes.
        key_bytes: u16,
        /// Index of the key, or `u32::MAX`.
        index: u32,
    },
    /// A salted key: each record goes to one of its sub-keys, drawn
    /// uniformly (hash key and bytes, by sub-key number); counted through
    /// [`TraceReader::salted_index`].
    Salted {
        /// The `salt` entry.
        salt: u32,
        /// The sub-keys.
        subs: Arc<[(u128, u16)]>,
    },
    /// A per-shard row: hash keys uniform over this inclusive range, of
    /// no counted key, charged `key_bytes`.
    Range {
        /// First hash key.
        lo: u128,
        /// Last hash key.
        hi: u128,
        /// Partition key bytes.
        key_bytes: u16,
    },
}

impl TraceReader {
    /// The next row of an aggregate trace starting before `horizon`, in
    /// file order (rows of 0 records are skipped); `None` when the next
    /// starts at or after it, or the trace is done. Only the rows asked
    /// for are held: a row read past the horizon waits for the next call.
    pub fn next_row(&mut self, horizon: SimTime) -> Result<Option<TraceRow>, TraceError> {
        loop {
            if let Some(row) = self.peeked.take() {
                if row.start < horizon {
                    return Ok(Some(row));
                }
                self.peeked = Some(row);
                return Ok(None);
            }
            let Some(agg) = self.spec.aggregate else {
                return Err(self.error("not an aggregate trace".into()));
            };
            let Some((start, line)) = self.next_line()? else {
                return Ok(None);
            };
            let count = line.count.unwrap_or(0);
            if count == 0 {
                continue;
            }
            let span = (agg.interval as f64 / self.spec.time_scale).max(1.0) as SimTime;
            let explicit = line.key_len.unwrap_or(self.spec.explicit_key_bytes);
            let dest = match line.key {
                KeyText::Shard(i) => {
                    let (lo, hi) = self.shard_ranges.get(i as usize).copied().ok_or_else(|| {
                        self.error(format!(
                            "shardId-{i:012} has no hash key range to draw from"
                        ))
                    })?;
                    RowDest::Range {
                        lo,
                        hi,
                        key_bytes: explicit,
                    }
                }
                KeyText::Hash(hash) => RowDest::Key {
                    hash,
                    key_bytes: explicit,
                    index: self.count_key(hash, |_| hash.to_string()),
                },
                KeyText::Partition => match self.remapped().1 {
                    Some((salt, n)) => RowDest::Salted {
                        salt: salt as u32,
                        subs: self.sub_keys(salt, n),
                    },
                    None => {
                        let (hash, key_bytes) = self.rewrite_key(|_| 0);
                        RowDest::Key {
                            hash,
                            key_bytes,
                            index: self.count_key(hash, |r| r.key_buf.clone()),
                        }
                    }
                },
            };
            let size = line.size;
            self.peeked = Some(TraceRow {
                start,
                span,
                count,
                dest,
                each: size.map(|b| (b / count, b % count)),
            });
        }
    }

    /// The sub-keys of `salt` entry `salt` (`n` of them), hashed the first
    /// time they are asked for.
    fn sub_keys(&mut self, salt: usize, n: u32) -> Arc<[(u128, u16)]> {
        if self.salted.len() <= salt {
            self.salted.resize(salt + 1, None);
        }
        if let Some(subs) = &self.salted[salt] {
            return subs.clone();
        }
        let key = self.spec.salt[salt].0.clone();
        let subs: Arc<[(u128, u16)]> = (0..n)
            .map(|j| {
                let name = format!("{key}#{j}");
                (HashKey::from_partition_key(&name).0, name.len() as u16)
            })
            .collect();
        self.salted[salt] = Some(subs.clone());
        subs
    }

    /// The index in [`TraceReader::keys`] of sub-key `j` of `salt` entry
    /// `salt` (learnt when it first gets records, as in the replay), or
    /// `u32::MAX` past the keys counted.
    pub fn salted_index(&mut self, salt: u32, j: u32, hash: u128) -> u32 {
        self.count_key(hash, |r| format!("{}#{j}", r.spec.salt[salt as usize].0))
    }

    /// How records fall within a row's interval.
    pub fn within(&self) -> Within {
        self.spec.aggregate.map_or(Within::Uniform, |a| a.within)
    }

    /// The trace's replay options.
    pub fn spec(&self) -> &TraceSpec {
        &self.spec
    }
}

/// Lines read to estimate a trace's records ([`expected_records`]).
const SAMPLE_LINES: u64 = 4096;

/// About how many records `spec` replays over a run of `duration`: the
/// records and time span of its first 4,096 (`SAMPLE_LINES`) lines, scaled to
/// the whole file by bytes (exact for a trace of no more lines), then by
/// `rate_multiplier`, `time_scale`, `shift` and `loop`. A cheap estimate
/// for `engine = "auto"`: it reads a few hundred kilobytes, not the file.
pub fn expected_records(spec: &TraceSpec, duration: SimTime) -> Result<f64, TraceError> {
    let file_bytes = std::fs::metadata(&spec.path)
        .map_err(|e| TraceError::open(&spec.path, &e))?
        .len() as f64;
    let mut r = TraceReader::open(TraceSpec {
        looped: false,
        skip_bad_lines: true,
        ..spec.clone()
    })?;
    let (mut records, mut lines, mut first, mut last) = (0f64, 0u64, None, 0i128);
    while lines < SAMPLE_LINES {
        let Some(line) = r.read_line()? else {
            break;
        };
        r.last = Some(line.ns);
        lines += 1;
        records += line.count.unwrap_or(1) as f64;
        first.get_or_insert(line.ns);
        last = line.ns;
    }
    let Some(first) = first else {
        return Ok(0.0);
    };
    // Bytes of the lines read (and a CSV header): the whole file if it
    // ended there.
    let header = u64::from(matches!(spec.format, super::TraceFormat::Csv));
    let read = if r.eof_reached() {
        file_bytes
    } else {
        bytes_of_lines(&spec.path, lines + header).clamp(1.0, file_bytes)
    };
    let scale = file_bytes / read;
    let gap = match spec.aggregate {
        Some(a) => a.interval as f64,
        None if lines > 1 => (last - first) as f64 / (lines - 1) as f64,
        None => 1e9,
    };
    let pass_records = records * scale;
    let pass_span = ((last - first) as f64 * scale + gap) / spec.time_scale;
    let run = duration.saturating_sub(spec.shift) as f64;
    let covered = if spec.looped { run } else { run.min(pass_span) };
    Ok(pass_records * spec.rate_multiplier * covered / pass_span.max(1.0))
}

impl TraceReader {
    /// Whether the file was read to its end.
    fn eof_reached(&mut self) -> bool {
        matches!(self.read_line(), Ok(None))
    }
}

/// The bytes of the first `n` lines of the file at `path`.
fn bytes_of_lines(path: &std::path::Path, n: u64) -> f64 {
    use std::io::BufRead as _;
    let Ok(file) = std::fs::File::open(path) else {
        return 0.0;
    };
    let mut reader = std::io::BufReader::new(file);
    let (mut bytes, mut buf) = (0u64, Vec::new());
    for _ in 0..n {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => bytes += k as u64,
        }
    }
    bytes as f64
}
