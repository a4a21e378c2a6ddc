//! The columns of a trace, found by name in its header (CSV) or its first
//! record (JSON Lines).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{TraceError, TraceFormat};

/// The columns a trace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    pub(super) timestamp: usize,
    pub(super) key: Option<usize>,
    pub(super) hash: Option<usize>,
    pub(super) size: Option<usize>,
    pub(super) shard: Option<usize>,
    pub(super) records: Option<usize>,
    pub(super) key_bytes: Option<usize>,
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
    let file = File::open(path).map_err(|e| TraceError::open(path, &e))?;
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

/// A UTF-8 byte-order mark, which some exporters write first, removed.
pub(super) fn without_bom(line: &str) -> &str {
    line.strip_prefix('\u{feff}').unwrap_or(line)
}

pub(super) fn csv_reader<R: std::io::Read>(reader: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader)
}

/// The columns named by a CSV trace's header.
pub(super) fn csv_columns<R: std::io::Read>(
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
