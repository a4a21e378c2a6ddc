//! One line of a trace parsed into a time, a key and counts; the same
//! checks for CSV fields and JSON values.

use serde::Deserialize;

use super::MAX_KEY_BYTES;
use crate::kds::HashKey;

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum JsonTime<'a> {
    Int(i64),
    Float(f64),
    // Borrowed unless the string has escapes.
    Text(#[serde(borrow)] std::borrow::Cow<'a, str>),
}

#[derive(Deserialize)]
pub(super) struct JsonLine<'a> {
    #[serde(borrow, alias = "time", alias = "ts")]
    pub(super) timestamp: Option<JsonTime<'a>>,
    #[serde(borrow, alias = "key")]
    pub(super) partition_key: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, alias = "hash_key")]
    pub(super) explicit_hash_key: Option<std::borrow::Cow<'a, str>>,
    #[serde(alias = "bytes")]
    pub(super) size: Option<serde_json::Number>,
    #[serde(borrow, alias = "shard")]
    pub(super) shard_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(alias = "count")]
    pub(super) records: Option<serde_json::Number>,
    #[serde(alias = "partition_key_bytes")]
    pub(super) key_bytes: Option<serde_json::Number>,
}

/// One parsed line: epoch nanoseconds, the key (or hash), the size.
pub(super) struct Line {
    pub(super) ns: i128,
    pub(super) key: KeyText,
    pub(super) size: Option<u64>,
    /// Records the line stands for (aggregate traces).
    pub(super) count: Option<u64>,
    /// The partition key's length when the line has one beside an explicit
    /// hash key.
    pub(super) key_len: Option<u16>,
}

pub(super) enum KeyText {
    /// A partition key, in the reader's `key_in` buffer (reused line after
    /// line: no allocation per record).
    Partition,
    Hash(u128),
    Shard(u32),
}

/// A timestamp field: text, or a JSON number.
#[derive(Clone, Copy)]
pub(super) enum TsField<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
}

/// A whole-number field: text, or a JSON number.
#[derive(Clone, Copy)]
pub(super) enum NumField<'a> {
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

/// The fields of one line.
pub(super) struct Fields<'a> {
    pub(super) ts: Option<TsField<'a>>,
    pub(super) key: Option<&'a str>,
    pub(super) hash: Option<&'a str>,
    pub(super) size: Option<NumField<'a>>,
    pub(super) shard: Option<&'a str>,
    pub(super) records: Option<NumField<'a>>,
    pub(super) key_bytes: Option<NumField<'a>>,
}

/// Parses a line's fields; a partition key is copied into `key_in`.
pub(super) fn parse_fields(
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
