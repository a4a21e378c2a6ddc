//! Which engine a run uses, and why: what `auto` resolves to, with the
//! reason the reports give.

use std::fmt;

use crate::scenario::{AUTO_SHARD_RECORDS, EngineKind, Scenario};
use crate::sim::SimTime;
use crate::units::NANOS_PER_SEC;

/// Why a run uses its engine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngineReason {
    /// The scenario's `engine` (or `--engine`) named it.
    Asked,
    /// `auto`, on the user records expected over the run
    /// ([`expected_records`](super::expected_records)): the shard engine
    /// above [`AUTO_SHARD_RECORDS`], the record engine otherwise.
    Expected(f64),
    /// `auto`, and this producer group replays a record trace, which only
    /// the record engine reads.
    Trace(String),
    /// `auto` with more records expected than the threshold, but outside
    /// the regime where the shard engine agrees with the record engine:
    /// the first of [`shard_engine_caveats`](super::shard_engine_caveats).
    Outside(f64, String),
}

/// The engine a run uses ([`EngineKind::Record`] or [`EngineKind::Shard`],
/// never `Auto`), why, and the shard engine's step.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineChoice {
    /// The engine.
    pub kind: EngineKind,
    /// Why.
    pub reason: EngineReason,
    /// The shard engine's time step, ns (the scenario's `step`; unused by
    /// the record engine).
    pub step: SimTime,
}

/// The engine a run of `scenario` uses and why: its `engine`, with `auto`
/// resolved as [`engine_for`](super::engine_for) says.
pub fn engine_choice(scenario: &Scenario) -> EngineChoice {
    let (kind, reason) = match scenario.engine.kind {
        EngineKind::Auto => {
            if let Some(g) = scenario.producers.iter().find(|g| g.trace.is_some()) {
                (EngineKind::Record, EngineReason::Trace(g.name.clone()))
            } else {
                let expected = super::expected_records(scenario);
                match super::shard_engine_caveats(scenario).into_iter().next() {
                    Some(why) if expected > AUTO_SHARD_RECORDS => {
                        (EngineKind::Record, EngineReason::Outside(expected, why))
                    }
                    _ if expected > AUTO_SHARD_RECORDS => {
                        (EngineKind::Shard, EngineReason::Expected(expected))
                    }
                    _ => (EngineKind::Record, EngineReason::Expected(expected)),
                }
            }
        }
        kind => (kind, EngineReason::Asked),
    };
    EngineChoice {
        kind,
        reason,
        step: scenario.engine.step,
    }
}

impl EngineChoice {
    /// The engine's name, as a scenario writes it: `record` or `shard`.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The step in words: `1 s`, `100 ms`.
    pub fn step_text(&self) -> String {
        if self.step.is_multiple_of(NANOS_PER_SEC) {
            format!("{} s", self.step / NANOS_PER_SEC)
        } else {
            format!("{} ms", self.step as f64 / 1e6)
        }
    }
}

/// `record (asked for)`, `shard (auto: 864 billion records expected, over
/// 500 million; steps of 1 s)`: the engine, why, and the shard engine's
/// step.
impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (", self.name())?;
        match &self.reason {
            EngineReason::Asked => f.write_str("asked for")?,
            EngineReason::Expected(n) => write!(
                f,
                "auto: {} records expected, {} {}",
                count_words(*n),
                if *n > AUTO_SHARD_RECORDS {
                    "over"
                } else {
                    "at most"
                },
                count_words(AUTO_SHARD_RECORDS)
            )?,
            EngineReason::Trace(group) => {
                write!(f, "auto: producer group {group:?} replays a record trace")?
            }
            EngineReason::Outside(n, why) => write!(
                f,
                "auto: {} records expected, but {why}, where the shard engine may disagree",
                count_words(*n)
            )?,
        }
        if self.kind == EngineKind::Shard {
            write!(f, "; steps of {}", self.step_text())?;
        }
        f.write_str(")")
    }
}

/// How many of `kinds` are each engine, record first, engines with none
/// left out.
pub(crate) fn engine_tally(kinds: impl Iterator<Item = EngineKind>) -> Vec<(EngineKind, usize)> {
    let mut n = [0usize; 3];
    for k in kinds {
        n[match k {
            EngineKind::Record => 0,
            EngineKind::Shard => 1,
            EngineKind::Auto => 2,
        }] += 1;
    }
    [EngineKind::Record, EngineKind::Shard, EngineKind::Auto]
        .into_iter()
        .zip(n)
        .filter(|&(_, n)| n > 0)
        .collect()
}

/// `engine: record`, or `engines: record at 3 points, shard at 2` when they
/// differ (`counts` as [`engine_tally`] gives them; `what` names what is
/// counted).
pub(crate) fn engine_counts(counts: &[(EngineKind, usize)], what: &str) -> String {
    match counts {
        [] => "no runs".to_owned(),
        [(kind, _)] => format!("engine: {}", kind.name()),
        _ => {
            let parts: Vec<String> = counts
                .iter()
                .enumerate()
                .map(|(i, (kind, n))| {
                    let unit = if i > 0 {
                        String::new()
                    } else if *n == 1 {
                        format!(" {what}")
                    } else {
                        format!(" {what}s")
                    };
                    format!("{} at {n}{unit}", kind.name())
                })
                .collect();
            format!("engines: {}", parts.join(", "))
        }
    }
}

/// A count in words, to 3 significant digits: `180,000`, `1.8 million`,
/// `864 billion`.
pub(crate) fn count_words(x: f64) -> String {
    let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
    if x.round() < 1e6 {
        return thousands(x.round());
    }
    // The smallest unit that keeps the number under 1000 once rounded
    // (999.96 million is 1 billion).
    for (size, word) in [(1e6, "million"), (1e9, "billion")] {
        let text = significant3(x / size);
        if text.parse::<f64>().is_ok_and(|r| r < 1000.0) {
            return format!("{text} {word}");
        }
    }
    let v = x / 1e12;
    if v < 999.5 {
        format!("{} trillion", significant3(v))
    } else {
        format!("{} trillion", thousands(v.round()))
    }
}

/// `v` (at least 1) to 3 significant digits, without trailing zeros.
fn significant3(v: f64) -> String {
    let decimals = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A whole number with thousands separators: `180,000`.
fn thousands(v: f64) -> String {
    let digits = format!("{v:.0}");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        assert_eq!(count_words(0.0), "0");
        assert_eq!(count_words(180_000.0), "180,000");
        assert_eq!(count_words(999_999.0), "999,999");
        assert_eq!(count_words(1.8e6), "1.8 million");
        assert_eq!(count_words(5e8), "500 million");
        assert_eq!(count_words(999.96e6), "1 billion");
        assert_eq!(count_words(8.64e11), "864 billion");
        assert_eq!(count_words(36e9), "36 billion");
        assert_eq!(count_words(1.234_5e12), "1.23 trillion");
        assert_eq!(count_words(2.5e15), "2,500 trillion");
        assert_eq!(count_words(f64::NAN), "0");
    }

    #[test]
    fn engines_are_counted_record_first() {
        use EngineKind::{Record, Shard};
        let tally = engine_tally([Shard, Record, Shard].into_iter());
        assert_eq!(tally, [(Record, 1), (Shard, 2)]);
        assert_eq!(
            engine_counts(&tally, "point"),
            "engines: record at 1 point, shard at 2"
        );
        let tally = engine_tally([Shard, Shard].into_iter());
        assert_eq!(engine_counts(&tally, "scenario"), "engine: shard");
        assert_eq!(engine_counts(&[], "point"), "no runs");
    }

    fn choice(kind: EngineKind, reason: EngineReason, step: SimTime) -> String {
        EngineChoice { kind, reason, step }.to_string()
    }

    #[test]
    fn the_choice_says_why() {
        let s = NANOS_PER_SEC;
        assert_eq!(
            choice(EngineKind::Record, EngineReason::Asked, s),
            "record (asked for)"
        );
        assert_eq!(
            choice(EngineKind::Shard, EngineReason::Asked, s / 10),
            "shard (asked for; steps of 100 ms)"
        );
        assert_eq!(
            choice(EngineKind::Shard, EngineReason::Expected(8.64e11), s),
            "shard (auto: 864 billion records expected, over 500 million; steps of 1 s)"
        );
        assert_eq!(
            choice(EngineKind::Record, EngineReason::Expected(1.8e6), s),
            "record (auto: 1.8 million records expected, at most 500 million)"
        );
        assert_eq!(
            choice(EngineKind::Record, EngineReason::Trace("orders".into()), s),
            "record (auto: producer group \"orders\" replays a record trace)"
        );
        assert_eq!(
            choice(EngineKind::Shard, EngineReason::Asked, 1_953_125),
            "shard (asked for; steps of 1.953125 ms)"
        );
    }
}
