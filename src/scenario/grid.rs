//! The syntax of a sweep grid: an axis `PATH=VALUES` (`sweep.set` in a
//! scenario, `--set` on the command line) and how a value is written into a
//! scenario table. Pure syntax: whether a point is a valid scenario is
//! decided by validating it; running the grid is the sweep module's.

/// The most values one axis takes: a grid with more could not run
/// (the sweep's `MAX_RUNS` is this bound on points times replications).
pub(crate) const MAX_VALUES: usize = 1_000_000;

/// An axis that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--set {spec}: {message}")]
pub struct GridError {
    /// The axis as given.
    pub spec: String,
    /// What is wrong.
    pub message: String,
}

/// One axis of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The path into the scenario file, e.g. `stream.shards`.
    pub path: String,
    /// Its values, in order.
    pub values: Vec<toml::Value>,
    /// The axis as given, for the manifest.
    pub spec: String,
}

impl Axis {
    /// Parses `PATH=VALUES`: a range `A..B` (inclusive) with an optional
    /// step `A..B:S`, or a comma-separated list (numbers, booleans, or
    /// text).
    pub fn parse(spec: &str) -> Result<Axis, GridError> {
        let err = |message: String| GridError {
            spec: spec.to_owned(),
            message,
        };
        let (path, values) = spec
            .split_once('=')
            .ok_or_else(|| err("expected PATH=VALUES, e.g. stream.shards=2..16".into()))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(err(
                "the path is empty or has an empty segment; write it like producers.web.rate"
                    .into(),
            ));
        }
        let values = parse_values(values.trim()).map_err(err)?;
        Ok(Axis {
            path: path.to_owned(),
            values,
            spec: spec.trim().to_owned(),
        })
    }
}

/// A range `A..B[:S]` or a list `A,B,C` as values.
fn parse_values(text: &str) -> Result<Vec<toml::Value>, String> {
    if text.is_empty() {
        return Err("no values; give a range A..B[:STEP] or a list A,B,C".into());
    }
    match text.split_once("..") {
        Some((a, rest)) if !text.contains(',') => {
            let (b, step) = match rest.split_once(':') {
                Some((b, s)) => (b, Some(s)),
                None => (rest, None),
            };
            match integer_range(a, b, step) {
                Some(values) => values,
                None => decimal_range(a, b, step),
            }
        }
        _ => list(text),
    }
}

/// A range of integers, or `None` if an end or the step is not one.
fn integer_range(a: &str, b: &str, step: Option<&str>) -> Option<Result<Vec<toml::Value>, String>> {
    let ints = (
        a.trim().parse::<i64>(),
        b.trim().parse::<i64>(),
        step.map(|s| s.trim().parse::<i64>()),
    );
    let (Ok(a), Ok(b), None | Some(Ok(_))) = ints else {
        return None;
    };
    let step = step.map_or(Ok(1), |s| s.trim().parse::<i64>()).unwrap_or(1);
    if step <= 0 {
        return Some(Err(format!(
            "step {step} is out of range; a step is above 0"
        )));
    }
    if a > b {
        return Some(Err(format!(
            "the range {a}..{b} is empty (its start is above its end)"
        )));
    }
    // i128: the span of two i64 cannot overflow it.
    let n = (i128::from(b) - i128::from(a)) / i128::from(step) + 1;
    if n > MAX_VALUES as i128 {
        return Some(Err(format!("{n} values; at most {MAX_VALUES}")));
    }
    Some(Ok((0..n as i64)
        .map(|i| toml::Value::Integer(a + i * step))
        .collect()))
}

/// A range of decimals: it needs a step.
fn decimal_range(a: &str, b: &str, step: Option<&str>) -> Result<Vec<toml::Value>, String> {
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{:?} is not a number; ranges take numbers", s.trim()))
    };
    let (a, b) = (num(a)?, num(b)?);
    let step = match step {
        Some(s) => num(s)?,
        None => return Err("a range of decimals needs a step, e.g. 0.8..1.2:0.1".into()),
    };
    if step <= 0.0 {
        return Err(format!("step {step} is out of range; a step is above 0"));
    }
    if a > b {
        return Err(format!(
            "the range {a}..{b} is empty (its start is above its end)"
        ));
    }
    // Counted in steps with a tolerance, so 0.8..1.2:0.1 ends at 1.2.
    let steps = ((b - a) / step + 1e-9).floor();
    if !(steps.is_finite() && steps < MAX_VALUES as f64) {
        return Err(format!("more than {MAX_VALUES} values"));
    }
    let n = steps as usize + 1;
    if n > MAX_VALUES {
        return Err(format!("{n} values; at most {MAX_VALUES}"));
    }
    Ok((0..n)
        .map(|i| {
            // Rounded to 12 significant digits: 0.1 * 3 is 0.3, not 0.30000000000000004.
            let x = a + step * i as f64;
            toml::Value::Float(format!("{x:.12e}").parse().unwrap_or(x))
        })
        .collect())
}

/// A list: each item an integer, a decimal, a boolean or text.
fn list(text: &str) -> Result<Vec<toml::Value>, String> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err("an empty item in the list".to_owned());
            }
            Ok(if let Ok(i) = item.parse::<i64>() {
                toml::Value::Integer(i)
            } else if let Ok(x) = item.parse::<f64>()
                && x.is_finite()
            {
                toml::Value::Float(x)
            } else if let Ok(b) = item.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(item.trim_matches('"').to_owned())
            })
        })
        .collect()
}

/// A value as a cell: text without quotes.
pub(crate) fn cell(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes `value` at `path` in a scenario table. A segment after an array
/// of tables picks the entry by its `name` (or by index); missing tables
/// are created, so `slo.max_throttle_rate` works without an `[slo]`.
pub fn apply(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut here = table;
    let mut i = 0;
    while i + 1 < segments.len() {
        let seg = segments[i];
        let entry = here
            .entry(seg.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        here = match entry {
            toml::Value::Table(t) => t,
            toml::Value::Array(items) => {
                let at = pick(items, seg, segments[i + 1])?;
                i += 1;
                if i + 1 >= segments.len() {
                    return Err(format!(
                        "{path} names a whole {seg} entry; name a field inside it"
                    ));
                }
                match &mut items[at] {
                    toml::Value::Table(t) => t,
                    _ => return Err(format!("{seg} entry {:?} is not a table", segments[i])),
                }
            }
            other => {
                return Err(format!(
                    "{} is a {}, not a table",
                    segments[..=i].join("."),
                    other.type_str()
                ));
            }
        };
        i += 1;
    }
    here.insert(segments[segments.len() - 1].to_owned(), value);
    Ok(())
}

/// The index of the entry of array `seg` that `wanted` names: by its `name`,
/// else as an index.
fn pick(items: &[toml::Value], seg: &str, wanted: &str) -> Result<usize, String> {
    items
        .iter()
        .position(|t| t.get("name").and_then(|n| n.as_str()) == Some(wanted))
        .or_else(|| wanted.parse::<usize>().ok().filter(|&k| k < items.len()))
        .ok_or_else(|| {
            let names: Vec<&str> = items
                .iter()
                .filter_map(|t| t.get("name").and_then(|n| n.as_str()))
                .collect();
            format!(
                "no {seg} entry named {wanted:?} (names: {}; or an index 0 to {})",
                names.join(", "),
                items.len().saturating_sub(1)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(spec: &str) -> Vec<i64> {
        Axis::parse(spec)
            .unwrap()
            .values
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect()
    }

    fn message(spec: &str) -> String {
        let e = Axis::parse(spec).unwrap_err();
        assert_eq!(e.spec, spec);
        assert_eq!(e.to_string(), format!("--set {spec}: {}", e.message));
        e.message
    }

    #[test]
    fn integer_ranges_are_inclusive_with_an_optional_step() {
        assert_eq!(ints("stream.shards=2..5"), [2, 3, 4, 5]);
        assert_eq!(ints("stream.shards=2..16:4"), [2, 6, 10, 14]);
        assert_eq!(ints("stream.shards= 3 .. 3 "), [3]);
        assert_eq!(ints("x=-2..2:2"), [-2, 0, 2]);
        assert_eq!(ints("stream.shards=7"), [7]);
        let a = Axis::parse(" stream.shards = 1..2 ").unwrap();
        assert_eq!(a.path, "stream.shards");
        assert_eq!(a.spec, "stream.shards = 1..2");
    }

    #[test]
    fn decimal_ranges_need_a_step_and_end_on_it() {
        let floats: Vec<f64> = Axis::parse("p.k.exponent=0.8..1.2:0.1")
            .unwrap()
            .values
            .iter()
            .map(|v| v.as_float().unwrap())
            .collect();
        assert_eq!(floats, [0.8, 0.9, 1.0, 1.1, 1.2]);
        // An integer range with a decimal step is a decimal range.
        let mixed = Axis::parse("x=1..2:0.5").unwrap();
        assert_eq!(mixed.values[1], toml::Value::Float(1.5));
        assert_eq!(
            message("x=0.5..1.0"),
            "a range of decimals needs a step, e.g. 0.8..1.2:0.1"
        );
        assert_eq!(
            message("x=a..b:1"),
            "\"a\" is not a number; ranges take numbers"
        );
        assert_eq!(
            message("x=1.5..0.5:0.1"),
            "the range 1.5..0.5 is empty (its start is above its end)"
        );
        assert_eq!(
            message("x=0..1:-0.5"),
            "step -0.5 is out of range; a step is above 0"
        );
        assert_eq!(message("x=0..1e300:1e-300"), "more than 1000000 values");
    }

    #[test]
    fn bad_integer_ranges_say_why() {
        assert_eq!(
            message("stream.shards=5..2"),
            "the range 5..2 is empty (its start is above its end)"
        );
        assert_eq!(
            message("stream.shards=1..4:0"),
            "step 0 is out of range; a step is above 0"
        );
        assert_eq!(
            message("x=-9223372036854775808..9223372036854775807"),
            "18446744073709551616 values; at most 1000000"
        );
        assert_eq!(ints("x=1..1000000").len(), 1_000_000);
        assert_eq!(message("x=1..1000001"), "1000001 values; at most 1000000");
    }

    #[test]
    fn lists_hold_numbers_booleans_and_text() {
        let list = Axis::parse("producers.web.rate=1000/s, 2000/s,true,1.5,-3,\"q\"").unwrap();
        assert_eq!(
            list.values,
            [
                toml::Value::String("1000/s".into()),
                toml::Value::String("2000/s".into()),
                toml::Value::Boolean(true),
                toml::Value::Float(1.5),
                toml::Value::Integer(-3),
                toml::Value::String("q".into()),
            ]
        );
        // A comma makes it a list, even with `..` in an item.
        assert_eq!(
            Axis::parse("x=1..2,3").unwrap().values[0],
            toml::Value::String("1..2".into())
        );
        assert_eq!(message("x=1,,2"), "an empty item in the list");
    }

    #[test]
    fn bad_paths_and_missing_values_are_named() {
        assert_eq!(
            message("stream.shards"),
            "expected PATH=VALUES, e.g. stream.shards=2..16"
        );
        for bad in ["=3", "stream..shards=3", ".x=1"] {
            assert_eq!(
                message(bad),
                "the path is empty or has an empty segment; write it like producers.web.rate",
                "{bad}"
            );
        }
        assert_eq!(
            message("stream.shards="),
            "no values; give a range A..B[:STEP] or a list A,B,C"
        );
    }

    #[test]
    fn cells_are_text_without_quotes() {
        assert_eq!(cell(&toml::Value::String("5/s".into())), "5/s");
        assert_eq!(cell(&toml::Value::Integer(4)), "4");
        assert_eq!(cell(&toml::Value::Float(1.0)), "1.0");
        assert_eq!(cell(&toml::Value::Boolean(false)), "false");
    }

    #[test]
    fn paths_reach_tables_and_named_entries() {
        let mut t: toml::Table = toml::from_str(
            "[stream]\nshards = 1\n[[producers]]\nname = \"web\"\nrate = \"1/s\"\n[producers.keys]\nkind = \"zipf\"\n",
        )
        .unwrap();
        apply(&mut t, "stream.shards", toml::Value::Integer(4)).unwrap();
        apply(
            &mut t,
            "producers.web.keys.exponent",
            toml::Value::Float(1.2),
        )
        .unwrap();
        apply(
            &mut t,
            "producers.0.rate",
            toml::Value::String("5/s".into()),
        )
        .unwrap();
        apply(&mut t, "slo.max_throttle_rate", toml::Value::Float(0.01)).unwrap();
        assert_eq!(t["stream"]["shards"].as_integer(), Some(4));
        assert_eq!(t["producers"][0]["keys"]["exponent"].as_float(), Some(1.2));
        assert_eq!(t["producers"][0]["rate"].as_str(), Some("5/s"));
        assert_eq!(t["slo"]["max_throttle_rate"].as_float(), Some(0.01));
    }

    #[test]
    fn paths_that_miss_say_why() {
        let mut t: toml::Table = toml::from_str(
            "[stream]\nshards = 1\n[[producers]]\nname = \"web\"\n[[producers]]\nname = \"api\"\n",
        )
        .unwrap();
        let e = apply(&mut t, "producers.db.rate", toml::Value::Integer(1)).unwrap_err();
        assert_eq!(
            e,
            "no producers entry named \"db\" (names: web, api; or an index 0 to 1)"
        );
        let e = apply(&mut t, "producers.2.rate", toml::Value::Integer(1)).unwrap_err();
        assert!(e.starts_with("no producers entry named \"2\""), "{e}");
        let e = apply(&mut t, "stream.shards.x", toml::Value::Integer(1)).unwrap_err();
        assert_eq!(e, "stream.shards is a integer, not a table");
        let e = apply(&mut t, "producers.web", toml::Value::Integer(1)).unwrap_err();
        assert_eq!(
            e,
            "producers.web names a whole producers entry; name a field inside it"
        );
        let mut odd: toml::Table = toml::from_str("list = [1, 2]\n").unwrap();
        let e = apply(&mut odd, "list.1.x", toml::Value::Integer(1)).unwrap_err();
        assert_eq!(e, "list entry \"1\" is not a table");
    }
}
