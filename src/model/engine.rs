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
    /// `auto`, and this producer group replays a record trace, which
    /// only the record engine reads (an aggregate trace runs on both).
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
            if let Some(g) = scenario.producers.iter().find(|g| g.replays_record_trace()) {
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

/// The record engine's speed for [`expected_work`]: user records a second
/// of wall-clock time on one core. Measured on the example scenarios it
/// ranges from about 2 million (on-demand, retries) to 6 million records/s.
pub const RECORDS_PER_CORE_SEC: f64 = 3e6;

/// The shard engine's cost for [`expected_work`]: wall-clock nanoseconds
/// per shard-step on one core (docs/engines.md measures about 60 far below
/// the limits and 200 at them).
pub const NANOS_PER_SHARD_STEP: f64 = 150.0;

/// How much work a run is, roughly, and how long it takes on one core: the
/// estimate shown before a run that will take minutes. Only an order of
/// magnitude: the speeds are measured averages, the shard count of a
/// stream that scales is guessed from its mean rate, and traces are not
/// counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    /// The engine the run uses.
    pub engine: EngineKind,
    /// User records expected ([`expected_records`](super::expected_records)).
    pub records: f64,
    /// Shard-steps (the shard engine; 0 for the record engine).
    pub shard_steps: f64,
    /// Expected wall-clock seconds on one core.
    pub seconds: f64,
}

/// The work of a run of `scenario` ([`Work`]).
pub fn expected_work(scenario: &Scenario) -> Work {
    let engine = engine_choice(scenario).kind;
    let records = super::expected_records(scenario);
    if engine != EngineKind::Shard {
        return Work {
            engine,
            records,
            shard_steps: 0.0,
            seconds: records / RECORDS_PER_CORE_SEC,
        };
    }
    let secs = scenario.duration as f64 / NANOS_PER_SEC as f64;
    // A stream that scales ends near the shards its mean rate needs.
    let by_rate = records / secs.max(1e-9) / 1000.0;
    let shards = f64::from(scenario.stream.shards).max(by_rate.ceil());
    let steps = (scenario.duration as f64 / scenario.engine.step.max(1) as f64).ceil();
    let shard_steps = shards * steps;
    Work {
        engine,
        records,
        shard_steps,
        seconds: shard_steps * NANOS_PER_SHARD_STEP / 1e9,
    }
}

/// `13 s`, `4 min`, `2.5 h`: a wall-clock estimate, rounded as an estimate.
pub fn about(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    if s < 90.0 {
        format!("{:.0} s", s.max(1.0))
    } else if s < 90.0 * 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
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
    crate::shown::number_text(&format!("{v:.0}"))
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
