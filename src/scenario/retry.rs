//! A producer group's `retry`: a preset or a table of attempts and backoff.

use super::raw::{RawJitter, RawRetry};
use super::validate::HOUR;
use super::{Jitter, RetryPolicy};
use crate::units::NANOS_PER_SEC;

/// Retry presets: name, description and policy.
///
/// Sources: KDS-REFERENCE.md §7a.2/7a.4 (standard mode: 3 attempts, full
/// jitter, base 1 s for throttling, cap 20 s), §7a.5 (Java v2 legacy: 4
/// attempts, throttled base 500 ms, cap 20 s), §7b.1/7b.5 (KPL: no backoff,
/// retried within RecordMaxBufferedTime/2 = 50 ms until RecordTtl = 30 s).
pub const RETRY_PRESETS: &[(&str, &str, RetryPolicy)] = &[
    (
        "none",
        "no retries",
        RetryPolicy {
            max_attempts: 1,
            base: 0,
            cap: 0,
            jitter: Jitter::None,
            ttl: None,
        },
    ),
    (
        "sdk-standard",
        "AWS SDK standard mode: 3 attempts, full jitter, base 1 s, cap 20 s",
        RetryPolicy {
            max_attempts: 3,
            base: NANOS_PER_SEC,
            cap: 20 * NANOS_PER_SEC,
            jitter: Jitter::Full,
            ttl: None,
        },
    ),
    (
        "sdk-legacy",
        "AWS SDK for Java v2 legacy mode: 4 attempts, full jitter, base 500 ms, cap 20 s",
        RetryPolicy {
            max_attempts: 4,
            base: NANOS_PER_SEC / 2,
            cap: 20 * NANOS_PER_SEC,
            jitter: Jitter::Full,
            ttl: None,
        },
    ),
    (
        "kpl",
        "KPL: no backoff, retried every 50 ms until RecordTtl (30 s)",
        RetryPolicy {
            max_attempts: u32::MAX,
            base: 50_000_000,
            cap: 50_000_000,
            jitter: Jitter::None,
            ttl: Some(30 * NANOS_PER_SEC),
        },
    ),
];

/// The policy `retry` names or gives; the SDK standard mode if absent.
pub(super) fn retry_policy(raw: Option<RawRetry>) -> Result<RetryPolicy, String> {
    match raw {
        None => Ok(RETRY_PRESETS[1].2),
        Some(RawRetry::Preset(name)) => RETRY_PRESETS
            .iter()
            .find(|p| p.0 == name)
            .map(|p| p.2)
            .ok_or_else(|| {
                let names: Vec<&str> = RETRY_PRESETS.iter().map(|p| p.0).collect();
                format!(
                    "unknown preset \"{name}\"; accepted presets are {}",
                    names.join(", ")
                )
            }),
        Some(RawRetry::Table(t)) => {
            if !(1..=100).contains(&t.max_attempts) {
                return Err(format!(
                    "max_attempts {} is out of range; accepted range is 1 to 100",
                    t.max_attempts
                ));
            }
            if t.cap < t.base {
                return Err(format!(
                    "cap ({}) must be at least base ({})",
                    t.cap, t.base
                ));
            }
            if t.cap.0 > HOUR {
                return Err(format!(
                    "cap {} is out of range; accepted range is up to 1h",
                    t.cap
                ));
            }
            Ok(RetryPolicy {
                max_attempts: t.max_attempts,
                base: t.base.0,
                cap: t.cap.0,
                jitter: match t.jitter.unwrap_or(RawJitter::Full) {
                    RawJitter::Full => Jitter::Full,
                    RawJitter::Equal => Jitter::Equal,
                    RawJitter::None => Jitter::None,
                },
                ttl: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    fn retry(value: &str) -> Result<RetryPolicy, (String, String)> {
        let text = producer_with(&format!("retry = {value}"));
        match parse_at(&text, std::path::Path::new("t.toml")) {
            Ok(mut s) => Ok(s.producers.remove(0).retry),
            Err(_) => Err(rejects(&text)),
        }
    }

    fn message(value: &str) -> String {
        let (field, message) = retry(value).unwrap_err();
        assert_eq!(field, "producers[0] (\"web\").retry");
        message
    }

    #[test]
    fn presets_by_name_and_the_sdk_standard_by_default() {
        assert_eq!(accepts(SCENARIO).producers[0].retry, RETRY_PRESETS[1].2);
        assert_eq!(RETRY_PRESETS[1].0, "sdk-standard");
        assert_eq!(retry("\"kpl\"").unwrap().ttl, Some(30 * NANOS_PER_SEC));
        assert_eq!(retry("\"none\"").unwrap().max_attempts, 1);
        assert_eq!(
            message("\"fast\""),
            "unknown preset \"fast\"; accepted presets are none, sdk-standard, sdk-legacy, kpl"
        );
    }

    #[test]
    fn a_table_gives_attempts_and_backoff() {
        let p = retry("{ max_attempts = 5, base = \"100ms\", cap = \"2s\", jitter = \"equal\" }")
            .unwrap();
        assert_eq!(
            p,
            RetryPolicy {
                max_attempts: 5,
                base: 100_000_000,
                cap: 2 * NANOS_PER_SEC,
                jitter: Jitter::Equal,
                ttl: None,
            }
        );
        assert_eq!(
            message("{ max_attempts = 0, base = \"1s\", cap = \"2s\" }"),
            "max_attempts 0 is out of range; accepted range is 1 to 100"
        );
        assert_eq!(
            message("{ max_attempts = 3, base = \"2s\", cap = \"1s\" }"),
            "cap (1s) must be at least base (2s)"
        );
        assert_eq!(
            message("{ max_attempts = 3, base = \"1s\", cap = \"2h\" }"),
            "cap 2h is out of range; accepted range is up to 1h"
        );
    }
}
