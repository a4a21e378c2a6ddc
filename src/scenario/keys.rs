//! A producer group's `keys`: the partition keys it writes and their shares.

use super::raw::{RawHotKey, RawKeys};
use super::validate::finite_in;
use crate::kds::{HashKey, KeyLengthRule, validate_partition_key};
use crate::workload::{KeyNames, KeySampler, KeySpace, KeyTable};

/// The largest finite key table (hash keys are kept in memory, 18 bytes each).
const MAX_KEYS: u64 = 10_000_000;

/// The first name that appears twice, if any.
fn repeated<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    names.into_iter().find(|n| !seen.insert(*n))
}

fn check_key(key: &str) -> Result<(), String> {
    validate_partition_key(key, KeyLengthRule::UnicodeScalars)
        .map_err(|e| format!("key \"{key}\": {e}"))
}

/// Hot keys must not also be background keys `prefix1..prefixN`: the
/// same key would be counted as two.
fn check_hot_outside_pattern(hot: &[RawHotKey], prefix: &str, count: u64) -> Result<(), String> {
    for h in hot {
        let n = h.key.strip_prefix(prefix).and_then(|rest| {
            let n: u64 = rest.parse().ok()?;
            (n.to_string() == rest).then_some(n)
        });
        if n.is_some_and(|n| (1..=count).contains(&n)) {
            return Err(format!(
                "hot key \"{}\" is also one of the background keys {prefix}1..{prefix}{count}; \
                 give the hot key a name outside that pattern",
                h.key
            ));
        }
    }
    Ok(())
}

fn hot_sampler(hot: &[RawHotKey], background: KeySampler) -> Result<KeySampler, String> {
    if hot.is_empty() {
        return Ok(background);
    }
    if let Some(k) = repeated(hot.iter().map(|h| h.key.as_str())) {
        return Err(format!(
            "hot key \"{k}\" is listed twice; give each key once"
        ));
    }
    let mut cumulative = Vec::with_capacity(hot.len());
    let mut total = 0.0;
    for h in hot {
        check_key(&h.key)?;
        if !finite_in(h.share, 0.0, 1.0) || h.share == 0.0 {
            return Err(format!(
                "hot key \"{}\" has share {}; accepted range is above 0 to 1 (a fraction of all records)",
                h.key, h.share
            ));
        }
        total += h.share;
        cumulative.push(total);
    }
    if total > 1.0 + 1e-9 {
        return Err(format!(
            "hot key shares add up to {:.1} %; the accepted total is at most 100 %",
            total * 100.0
        ));
    }
    Ok(KeySampler::Hot {
        cumulative,
        background: Box::new(background),
    })
}

fn key_count(count: u64) -> Result<u32, String> {
    if (1..=MAX_KEYS).contains(&count) {
        Ok(count as u32)
    } else {
        Err(format!(
            "count {count} is out of range; accepted range is 1 to {MAX_KEYS}"
        ))
    }
}

fn key_bytes(b: Option<u16>) -> Result<u16, String> {
    match b.unwrap_or(36) {
        b @ 1..=256 => Ok(b),
        b => Err(format!(
            "key_bytes {b} is out of range; accepted range is 1 to 256"
        )),
    }
}

/// The key space `keys` describes, or what is wrong with it.
pub(super) fn key_space(raw: RawKeys) -> Result<KeySpace, String> {
    let names = |hot: &[RawHotKey]| hot.iter().map(|h| h.key.clone()).collect::<Vec<_>>();
    Ok(match raw {
        RawKeys::Uniform { count, prefix, hot } => {
            let n = key_count(count)?;
            check_hot_outside_pattern(&hot, &prefix, count)?;
            check_key(&format!("{prefix}{n}"))?;
            KeySpace::Table {
                table: KeyTable::new(names(&hot), KeyNames::Pattern { prefix }, count, 0),
                sampler: hot_sampler(&hot, KeySampler::Uniform(n))?,
            }
        }
        RawKeys::Zipf {
            count,
            exponent,
            prefix,
            hot,
        } => {
            let n = key_count(count)?;
            check_key(&format!("{prefix}{n}"))?;
            check_hot_outside_pattern(&hot, &prefix, count)?;
            if !finite_in(exponent, 0.0, 10.0) {
                return Err(format!(
                    "exponent {exponent} is out of range; accepted range is 0 to 10"
                ));
            }
            let zipf = KeySampler::zipf(n, exponent).ok_or("invalid Zipf parameters")?;
            KeySpace::Table {
                table: KeyTable::new(names(&hot), KeyNames::Pattern { prefix }, count, 0),
                sampler: hot_sampler(&hot, zipf)?,
            }
        }
        RawKeys::Listed { keys, weights } => listed(keys, weights)?,
        RawKeys::Random { key_bytes: b } => KeySpace::Random {
            key_bytes: key_bytes(b)?,
        },
        RawKeys::Explicit {
            hash_keys,
            key_bytes: b,
        } => explicit(hash_keys, b)?,
    })
}

/// `kind = "listed"`: the keys named, uniform or weighted.
fn listed(keys: Vec<String>, weights: Option<Vec<f64>>) -> Result<KeySpace, String> {
    if keys.is_empty() {
        return Err("keys needs at least one key".into());
    }
    if let Some(k) = repeated(keys.iter().map(String::as_str)) {
        return Err(format!(
            "key \"{k}\" is listed twice; give each key once (use weights for shares)"
        ));
    }
    key_count(keys.len() as u64)?;
    for k in &keys {
        check_key(k)?;
    }
    let sampler = match weights {
        None => KeySampler::Uniform(keys.len() as u32),
        Some(w) => {
            if w.len() != keys.len() || w.iter().any(|x| !finite_in(*x, 0.0, f64::MAX)) {
                return Err("weights must be 0 or more, one per key".into());
            }
            KeySampler::Weighted(
                rand::distr::weighted::WeightedIndex::new(&w)
                    .map_err(|_| "weights must not all be 0")?,
            )
        }
    };
    let n = keys.len() as u64;
    Ok(KeySpace::Table {
        table: KeyTable::new(vec![], KeyNames::Listed(keys), n, 0),
        sampler,
    })
}

/// `kind = "explicit"`: explicit hash keys, each as likely.
fn explicit(hash_keys: Vec<String>, b: Option<u16>) -> Result<KeySpace, String> {
    if hash_keys.is_empty() {
        return Err("hash_keys needs at least one explicit hash key".into());
    }
    if let Some(k) = repeated(hash_keys.iter().map(String::as_str)) {
        return Err(format!("hash key {k} is listed twice; give each key once"));
    }
    key_count(hash_keys.len() as u64)?;
    for h in &hash_keys {
        HashKey::parse_explicit(h).map_err(|e| e.to_string())?;
    }
    let n = hash_keys.len() as u64;
    Ok(KeySpace::Table {
        table: KeyTable::new(vec![], KeyNames::Explicit(hash_keys), n, key_bytes(b)?),
        sampler: KeySampler::Uniform(n as u32),
    })
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    fn keys(table: &str) -> String {
        edit(
            "keys = { kind = \"uniform\", count = 10 }",
            &format!("keys = {table}"),
        )
    }

    fn rejected(table: &str) -> String {
        let (field, message) = rejects(&keys(table));
        assert_eq!(field, "producers[0] (\"web\").keys");
        message
    }

    #[test]
    fn accepted_key_spaces() {
        let space = |table: &str| accepts(&keys(table)).producers.remove(0).keys;
        assert!(matches!(
            space("{ kind = \"uniform\", count = 10 }"),
            KeySpace::Table { .. }
        ));
        assert!(matches!(
            space("{ kind = \"random\" }"),
            KeySpace::Random { key_bytes: 36 }
        ));
        assert!(matches!(
            space("{ kind = \"listed\", keys = [\"a\", \"b\"], weights = [1.0, 3.0] }"),
            KeySpace::Table {
                sampler: KeySampler::Weighted(_),
                ..
            }
        ));
        assert!(matches!(
            space(
                "{ kind = \"zipf\", count = 100, exponent = 1.1, hot = [{ key = \"hot\", share = 0.5 }] }"
            ),
            KeySpace::Table {
                sampler: KeySampler::Hot { .. },
                ..
            }
        ));
    }

    #[test]
    fn counts_and_parameters_are_in_range() {
        assert_eq!(
            rejected("{ kind = \"uniform\", count = 0 }"),
            "count 0 is out of range; accepted range is 1 to 10000000"
        );
        assert_eq!(
            rejected("{ kind = \"zipf\", count = 10, exponent = 11.0 }"),
            "exponent 11 is out of range; accepted range is 0 to 10"
        );
        assert_eq!(
            rejected("{ kind = \"random\", key_bytes = 0 }"),
            "key_bytes 0 is out of range; accepted range is 1 to 256"
        );
    }

    #[test]
    fn hot_keys_are_checked() {
        assert_eq!(
            rejected(
                "{ kind = \"uniform\", count = 10, hot = [{ key = \"key-3\", share = 0.1 }] }"
            ),
            "hot key \"key-3\" is also one of the background keys key-1..key-10; \
             give the hot key a name outside that pattern"
        );
        assert_eq!(
            rejected(
                "{ kind = \"uniform\", count = 10, hot = [{ key = \"h\", share = 0.1 }, { key = \"h\", share = 0.1 }] }"
            ),
            "hot key \"h\" is listed twice; give each key once"
        );
        assert_eq!(
            rejected("{ kind = \"uniform\", count = 10, hot = [{ key = \"h\", share = 0.0 }] }"),
            "hot key \"h\" has share 0; accepted range is above 0 to 1 (a fraction of all records)"
        );
        assert_eq!(
            rejected(
                "{ kind = \"uniform\", count = 10, hot = [{ key = \"a\", share = 0.6 }, { key = \"b\", share = 0.6 }] }"
            ),
            "hot key shares add up to 120.0 %; the accepted total is at most 100 %"
        );
    }

    #[test]
    fn listed_and_explicit_keys_are_checked() {
        assert_eq!(
            rejected("{ kind = \"listed\", keys = [] }"),
            "keys needs at least one key"
        );
        assert_eq!(
            rejected("{ kind = \"listed\", keys = [\"a\", \"a\"] }"),
            "key \"a\" is listed twice; give each key once (use weights for shares)"
        );
        assert_eq!(
            rejected("{ kind = \"listed\", keys = [\"a\", \"b\"], weights = [1.0] }"),
            "weights must be 0 or more, one per key"
        );
        assert_eq!(
            rejected("{ kind = \"listed\", keys = [\"a\"], weights = [0.0] }"),
            "weights must not all be 0"
        );
        assert!(rejected("{ kind = \"listed\", keys = [\"\"] }").starts_with("key \"\": "));
        assert_eq!(
            rejected("{ kind = \"explicit\", hash_keys = [] }"),
            "hash_keys needs at least one explicit hash key"
        );
        assert_eq!(
            rejected("{ kind = \"explicit\", hash_keys = [\"5\", \"5\"] }"),
            "hash key 5 is listed twice; give each key once"
        );
    }
}
