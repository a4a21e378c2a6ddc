//! `trace hash`: a copy of a trace with each partition key replaced by its
//! hash key, to share it without the keys.

use super::line::KeyText;
use super::{Columns, TraceError, TraceFormat, TraceReader, TraceSpec};
use crate::kds::HashKey;

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
