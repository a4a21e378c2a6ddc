//! `trace summarize`: what a trace holds, read once without replaying it.

use super::line::KeyText;
use super::{TraceError, TraceReader, TraceSpec};
use crate::kds::HashKey;

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
