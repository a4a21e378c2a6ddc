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
