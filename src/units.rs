//! Human units in scenario files, parsed into integers.
//!
//! Durations (`"2h"`, `"250ms"`, `"1m 30s"`) become nanoseconds, sizes
//! (`"1KiB"`, `"512B"`, `"1.5MB"`) bytes, and rates (`"1000/s"`, `"60/min"`)
//! records per second as `f64` (a rate is a model
//! parameter, not a count, so it may be fractional). Each type deserializes
//! from a string, so a bad value is reported by the TOML parser with its line.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A duration in whole nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Duration(pub u64);

impl Duration {
    /// The duration in seconds, as a float (for reporting and rate maths).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Duration {
        Duration(secs * NANOS_PER_SEC)
    }

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms * 1_000_000)
    }
}

impl FromStr for Duration {
    type Err = String;

    /// `humantime` syntax: a number and a unit (`ns`, `us`, `ms`, `s`, `m`,
    /// `h`, `d`), several summed (`"1h 30m"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let form =
            "expected one or more terms <number><unit>, e.g. \"250ms\", \"1.5s\", \"1m 30s\"";
        // humantime skips any whitespace, even inside a number ("1 0s" is
        // 10s), and says little about a bad point: check the form first.
        check_form(s, Spaces::BetweenTerms)
            .map_err(|why| format!("invalid duration {s:?}: {why}; {form}"))?;
        // "0" alone is zero in any unit.
        if is_number(s) && s != "0" {
            return Err(format!(
                "invalid duration {s:?}: no unit; write \"{s}s\", \"{s}ms\", \"{s}m\" or \"{s}h\""
            ));
        }
        let d = humantime::parse_duration(s)
            .map_err(|e| format!("invalid duration {s:?} ({e}): {form}"))?;
        u64::try_from(d.as_nanos())
            .map(Duration)
            .map_err(|_| format!("duration {s:?} is too long; the longest is 584 years"))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = std::time::Duration::from_nanos(self.0);
        write!(f, "{}", humantime::format_duration(d))
    }
}

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Bytes(pub u64);

/// Where a value may hold a space (U+0020; no other whitespace anywhere).
#[derive(Clone, Copy, PartialEq)]
enum Spaces {
    /// Nowhere (rates).
    None,
    /// Between the number and its unit (sizes).
    BeforeUnit,
    /// There, and between one duration term and the next.
    BetweenTerms,
}

/// Refuses what the number parsers would let through: whitespace other than
/// a space where one is allowed (a line break or tab pasted into a value),
/// and a point without a digit on both sides (`".5"`, `"1."`). The error
/// says what is wrong, without the value.
fn check_form(s: &str, spaces: Spaces) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let digit = |x: Option<char>| x.is_some_and(|x| x.is_ascii_digit());
        let letter = |x: Option<char>| x.is_some_and(|x| x.is_alphabetic());
        if c.is_whitespace() {
            let allowed = c == ' '
                && match spaces {
                    Spaces::None => false,
                    Spaces::BeforeUnit => digit(before) && letter(after),
                    Spaces::BetweenTerms => {
                        (digit(before) && letter(after)) || (letter(before) && digit(after))
                    }
                };
            if !allowed {
                return Err(match (c, spaces) {
                    (' ', Spaces::None) => "a rate has no spaces".to_owned(),
                    (' ', Spaces::BeforeUnit) => {
                        "one space is allowed only between the number and the unit".to_owned()
                    }
                    (' ', Spaces::BetweenTerms) => {
                        "one space is allowed only between a number and its unit or between terms"
                            .to_owned()
                    }
                    ('\n' | '\r', _) => "a line break is not allowed in a value".to_owned(),
                    ('\t', _) => "a tab is not allowed in a value".to_owned(),
                    _ => format!("whitespace {c:?} is not allowed in a value"),
                });
            }
        } else if c == '.' && !(digit(before) && digit(after)) {
            return Err(
                "a decimal point needs a digit on each side (\"0.5\", not \".5\" or \"1.\")"
                    .to_owned(),
            );
        }
    }
    Ok(())
}

/// Whether `s` is digits with an optional fraction and nothing else.
fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok() && s.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Splits `"1.5 MiB"` into `(1.5, "MiB")`; the form was checked before.
fn number_and_unit(s: &str) -> Option<(f64, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let value: f64 = s[..end].parse().ok()?;
    value
        .is_finite()
        .then_some((value, s[end..].trim_start_matches(' ')))
}

fn size_multiplier(unit: &str) -> Option<f64> {
    Some(match unit {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

impl FromStr for Bytes {
    type Err = String;

    /// A number and a unit: `B`, `KB`/`MB`/`GB` (powers of 1000) or
    /// `KiB`/`MiB`/`GiB` (powers of 1024). Rounded to whole bytes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let form = "expected digits with an optional fraction, then an optional unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. \"512\", \"1KiB\", \"1.5 MB\"";
        check_form(s, Spaces::BeforeUnit)
            .map_err(|why| format!("invalid size {s:?}: {why}; {form}"))?;
        let bad = || format!("invalid size {s:?}: {form}");
        let (value, unit) = number_and_unit(s).ok_or_else(bad)?;
        let bytes = value * size_multiplier(unit).ok_or_else(bad)?;
        if bytes > u64::MAX as f64 / 2.0 {
            return Err(format!("size {s:?} is too large"));
        }
        Ok(Bytes(bytes.round() as u64))
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}B", self.0)
    }
}

/// A rate of records per second (`"1000/s"`, `"60/min"`, `"5000/h"`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rate(pub f64);

impl FromStr for Rate {
    type Err = String;

    /// `"<number>/<time unit>"`, time unit `s`, `min` or `h`. A size unit
    /// (`"5MiB/s"`) is refused: every rate in a scenario counts records.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let form = "expected <number>/<unit>, a number of records (digits with an optional fraction) per s, sec, m, min or h, e.g. \"1000/s\", \"0.5/s\", \"60/min\"";
        check_form(s, Spaces::None).map_err(|why| format!("invalid rate {s:?}: {why}; {form}"))?;
        if is_number(s) {
            return Err(format!(
                "invalid rate {s:?}: no time unit; write \"{s}/s\" (or \"{s}/min\", \"{s}/h\")"
            ));
        }
        let bad = || format!("invalid rate {s:?}: {form}");
        let (amount, per) = s.split_once('/').ok_or_else(bad)?;
        let (value, unit) = number_and_unit(amount).ok_or_else(bad)?;
        if !unit.is_empty() {
            return Err(format!(
                "invalid rate {s:?}: rates count records, so {unit:?} does not belong; write e.g. \"1000/s\""
            ));
        }
        let secs = match per {
            "s" | "sec" => 1.0,
            "min" | "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        Ok(Rate(value / secs))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

/// A bare number where a value with a unit belongs: the message shows the
/// number written with a unit (`60` -> `"60s"`), the slip being a missing
/// unit far more often than a wrong type.
pub(crate) fn unit_hint(number: &str, kind: &str) -> String {
    match kind {
        "duration" => format!(
            "{number} has no unit: write a duration as a string with one, such as \"{number}s\" or \"{number}ms\""
        ),
        "size" => format!(
            "{number} is not a string: write a size as a string, such as \"{number}B\" or \"{number}KiB\""
        ),
        _ => format!(
            "{number} has no time unit: write a rate as records per second, minute or hour, such as \"{number}/s\""
        ),
    }
}

macro_rules! deserialize_from_str {
    ($($t:ty => $kind:literal, $example:literal);*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {} with its unit, such as {}", $kind, $example)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$t, E> {
                        Err(E::custom(unit_hint(&v.to_string(), $kind)))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$t, E> {
                        Err(E::custom(unit_hint(&v.to_string(), $kind)))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$t, E> {
                        Err(E::custom(unit_hint(&v.to_string(), $kind)))
                    }
                }
                d.deserialize_any(V)
            }
        }
    )*};
}

deserialize_from_str!(
    Duration => "duration", "\"60s\" or \"250ms\"";
    Bytes => "size", "\"512B\" or \"1KiB\"";
    Rate => "rate", "\"1000/s\""
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_a_bare_number_gets_a_unit_hint() {
        let e = "60".parse::<Duration>().unwrap_err();
        assert!(e.contains("write \"60s\""), "{e}");
        let e = "1.5".parse::<Duration>().unwrap_err();
        assert!(e.contains("write \"1.5s\""), "{e}");
        // "0" alone is still zero.
        assert_eq!("0".parse::<Duration>().unwrap(), Duration(0));
        let e = "3000".parse::<Rate>().unwrap_err();
        assert!(e.contains("write \"3000/s\""), "{e}");
        // A size without a unit is bytes, as before.
        assert_eq!("512".parse::<Bytes>().unwrap(), Bytes(512));
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)] // read only through Debug
        struct T {
            d: Duration,
        }
        let e = toml::from_str::<T>("d = 60").unwrap_err().to_string();
        assert!(e.contains("such as \"60s\""), "{e}");
        let e = toml::from_str::<T>("d = 2.5").unwrap_err().to_string();
        assert!(e.contains("such as \"2.5s\""), "{e}");
        let ok: T = toml::from_str("d = \"2s\"").unwrap();
        assert_eq!(ok.d, Duration::from_secs(2));
    }

    #[test]
    fn durations() {
        assert_eq!("250ms".parse::<Duration>().unwrap(), Duration(250_000_000));
        assert_eq!("2h".parse::<Duration>().unwrap(), Duration::from_secs(7200));
        assert_eq!(
            "1m 30s".parse::<Duration>().unwrap(),
            Duration::from_secs(90)
        );
        assert!("2x".parse::<Duration>().is_err());
        assert!("-1s".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
        assert_eq!(
            "1.5s".parse::<Duration>().unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            "2 min".parse::<Duration>().unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!("0".parse::<Duration>().unwrap(), Duration(0));
    }

    /// Issue 15: whitespace inside a value and a point without digits on
    /// both sides were accepted (humantime reads "1 0s" as 10s).
    #[test]
    fn r15_malformed_numbers_are_refused_on_one_line() {
        let cases: [(&str, Result<(), String>, &str); 12] = [
            ("100\n/s", "100\n/s".parse::<Rate>().map(drop), "line break"),
            (".5/s", ".5/s".parse::<Rate>().map(drop), "decimal point"),
            ("1./s", "1./s".parse::<Rate>().map(drop), "decimal point"),
            ("100 /s", "100 /s".parse::<Rate>().map(drop), "no spaces"),
            ("100/\ts", "100/\ts".parse::<Rate>().map(drop), "tab"),
            ("1\nKiB", "1\nKiB".parse::<Bytes>().map(drop), "line break"),
            (".5KiB", ".5KiB".parse::<Bytes>().map(drop), "decimal point"),
            (
                " 1KiB",
                " 1KiB".parse::<Bytes>().map(drop),
                "between the number",
            ),
            ("1 0s", "1 0s".parse::<Duration>().map(drop), "one space"),
            (
                "1m\n30s",
                "1m\n30s".parse::<Duration>().map(drop),
                "line break",
            ),
            (
                "1. 5s",
                "1. 5s".parse::<Duration>().map(drop),
                "decimal point",
            ),
            ("1.s", "1.s".parse::<Duration>().map(drop), "decimal point"),
        ];
        for (value, got, why) in cases {
            let e = got.expect_err(value);
            assert!(e.contains(why), "{value:?}: {e}");
            assert!(e.contains(&format!("{value:?}")), "{value:?}: {e}");
            assert!(e.contains("expected"), "{value:?}: {e}");
            assert!(!e.contains('\n') && !e.contains('\t'), "{value:?}: {e}");
        }
    }

    #[test]
    fn messages_state_the_accepted_form() {
        let e = "1kib".parse::<Bytes>().unwrap_err();
        assert!(
            e.contains("optional unit (B, KB, MB, GB, KiB, MiB, GiB)"),
            "{e}"
        );
        let e = "5/day".parse::<Rate>().unwrap_err();
        assert!(e.contains("per s, sec, m, min or h"), "{e}");
        let e = "5MiB/s".parse::<Rate>().unwrap_err();
        assert!(e.contains("\"MiB\" does not belong"), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!("1KiB".parse::<Bytes>().unwrap(), Bytes(1024));
        assert_eq!("1 KB".parse::<Bytes>().unwrap(), Bytes(1000));
        assert_eq!("1.5MiB".parse::<Bytes>().unwrap(), Bytes(1_572_864));
        assert_eq!("512".parse::<Bytes>().unwrap(), Bytes(512));
        assert_eq!("1.5 MB".parse::<Bytes>().unwrap(), Bytes(1_500_000));
        for bad in ["", "KiB", "1 XB", "-1B", "1e3B", "NaN"] {
            assert!(bad.parse::<Bytes>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!("1000/s".parse::<Rate>().unwrap(), Rate(1000.0));
        assert_eq!("60/min".parse::<Rate>().unwrap(), Rate(1.0));
        assert_eq!("0/s".parse::<Rate>().unwrap(), Rate(0.0));
        assert_eq!("0.5/s".parse::<Rate>().unwrap(), Rate(0.5));
        assert_eq!("3600/h".parse::<Rate>().unwrap(), Rate(1.0));
        for bad in ["1000", "1000/x", "/s", "-5/s", "abc/s", "5MiB/s", "1KB/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?}");
        }
    }
}
