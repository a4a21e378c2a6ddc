//! The TOML parser's messages, made readable for someone who writes a
//! scenario rather than Rust: a misspelt field or value gets "did you mean",
//! and the Rust type names serde puts in its messages ("expected u32",
//! "expected struct RawStream") become what to write ("a whole number from
//! 0 to 4294967295", "a table").

/// `message` from the TOML parser, with a suggestion for a misspelt name
/// and without Rust type names.
pub(crate) fn humanize(message: &str) -> String {
    let plain = plain_types(message);
    match suggestion(&plain) {
        Some((end, name)) => format!(
            "{} (did you mean `{name}`?){}",
            &plain[..end],
            &plain[end..]
        ),
        None => plain,
    }
}

/// For "unknown field `x`, expected one of `a`, `b`" (or "unknown
/// variant"): the end of "unknown field `x`" and the accepted name closest
/// to `x`, if one is close enough to be a slip.
fn suggestion(message: &str) -> Option<(usize, String)> {
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.find(p).map(|at| at + p.len()))?;
    let len = message[rest..].find('`')?;
    let given = &message[rest..rest + len];
    let end = rest + len + 1;
    let accepted = message[end..].split_once("expected")?.1;
    // The names are the backquoted words after "expected".
    let names = accepted.split('`').skip(1).step_by(2);
    closest(given, names).map(|n| (end, n.to_owned()))
}

/// The name in `names` closest to `given`, if it is a likely slip: one or
/// two edits away (more for long names), or one is a prefix of the other.
pub(crate) fn closest<'a>(given: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('-', "_");
    let g = norm(given);
    let mut best: Option<(usize, &str)> = None;
    for name in names {
        let n = norm(name);
        if n == g {
            // Same name but for case or - and _: that is the slip.
            return Some(name);
        }
        let d = distance(&g, &n);
        let near = d <= (g.chars().count().max(n.chars().count()) / 4).clamp(1, 3)
            || (g.len() >= 3 && (n.starts_with(&g) || g.starts_with(&n)));
        if near && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, name));
        }
    }
    best.map(|(_, n)| n)
}

/// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two back, the previous one and this one.
    let mut two: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(two[j - 2] + 1);
            }
        }
        two = std::mem::replace(&mut prev, row);
    }
    prev[b.len()]
}

/// Serde's Rust words in `message` replaced by TOML ones.
fn plain_types(message: &str) -> String {
    const WORDS: [(&str, &str); 16] = [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected an array"),
        ("expected a borrowed string", "expected a string"),
        ("expected a map", "expected a table"),
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
        ("invalid type: floating point", "invalid type: number"),
    ];
    let mut s = message.to_owned();
    for (rust, toml) in WORDS {
        s = replace_word(&s, rust, toml);
    }
    // "expected struct RawStream", "expected internally tagged enum
    // RawKeys", "a tuple of size 2": the shapes, not the Rust names.
    for (rust, toml) in [
        ("internally tagged enum ", "a table with `kind`"),
        ("struct variant ", "a table"),
        ("tuple struct ", "an array"),
        ("struct ", "a table"),
        ("enum ", "one of its names, as a string"),
    ] {
        while let Some(at) = s.find(&format!("expected {rust}")) {
            let name = at + "expected ".len() + rust.len();
            let end = s[name..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(s.len(), |e| name + e);
            s.replace_range(at + "expected ".len()..end, toml);
        }
    }
    if let Some(at) = s.find("a tuple of size ") {
        let n = at + "a tuple of size ".len();
        let end = s[n..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(s.len(), |e| n + e);
        let count = s[n..end].to_owned();
        s.replace_range(at..end, &format!("an array of {count} values"));
    }
    s
}

/// `s` with `word` replaced where it is not part of a longer word
/// ("expected u32" but not "expected u32x").
fn replace_word(s: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(word) {
        let after = &rest[at + word.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_a_misspelt_field_gets_did_you_mean() {
        let m = humanize("unknown field `shard`, expected one of `shards`, `retention`, `burst`");
        assert_eq!(
            m,
            "unknown field `shard` (did you mean `shards`?), expected one of `shards`, `retention`, `burst`"
        );
        let m = humanize("unknown variant `zpif`, expected one of `uniform`, `zipf`, `listed`");
        assert!(m.contains("(did you mean `zipf`?)"), "{m}");
        let m = humanize("unknown variant `put-recrod`, expected `put-record` or `put-records`");
        assert!(m.contains("(did you mean `put-record`?)"), "{m}");
        // Nothing close: no guess.
        let m = humanize("unknown field `colour`, expected one of `shards`, `retention`");
        assert!(!m.contains("did you mean"), "{m}");
    }

    #[test]
    fn r16_closest_names() {
        let names = ["max_throttle_rate", "max_failed_records", "max_p99_latency"];
        assert_eq!(
            closest("max_throttle", names.into_iter()),
            Some("max_throttle_rate")
        );
        assert_eq!(
            closest("max-failed-records", names.into_iter()),
            Some("max_failed_records")
        );
        assert_eq!(
            closest("max_p99_latncy", names.into_iter()),
            Some("max_p99_latency")
        );
        assert_eq!(closest("seed", names.into_iter()), None);
        assert_eq!(distance("zpif", "zipf"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn r16_no_rust_type_names() {
        for (rust, want) in [
            (
                "invalid value: integer `-4`, expected u32",
                "invalid value: integer `-4`, expected a whole number from 0 to 4294967295",
            ),
            (
                "invalid type: string \"x\", expected f64",
                "invalid type: string \"x\", expected a number",
            ),
            (
                "invalid type: integer `4`, expected struct RawStream",
                "invalid type: integer `4`, expected a table",
            ),
            (
                "invalid type: string \"x\", expected internally tagged enum RawKeys",
                "invalid type: string \"x\", expected a table with `kind`",
            ),
            (
                "invalid type: map, expected a sequence",
                "invalid type: table, expected an array",
            ),
            (
                "invalid length 1, expected a tuple of size 2",
                "invalid length 1, expected an array of 2 values",
            ),
        ] {
            assert_eq!(humanize(rust), want);
        }
    }
}
