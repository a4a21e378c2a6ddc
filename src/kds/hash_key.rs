//! Partition keys, explicit hash keys and the 128-bit hash key space.
//!
//! KDS maps every record to a 128-bit unsigned integer, its *hash key*, and
//! stores it in the open shard whose inclusive hash key range holds it
//! (KDS-REFERENCE.md §1).

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};

use super::error::KdsError;
use super::quotas::Quota;

/// A point in the 128-bit hash key space `0..=2^128-1`.
///
/// The whole space fits a `u128` exactly, so all range arithmetic is integer
/// arithmetic with no rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashKey(pub u128);

impl HashKey {
    /// The smallest hash key, 0.
    pub const MIN: HashKey = HashKey(0);
    /// The largest hash key, 2^128 - 1.
    pub const MAX: HashKey = HashKey(u128::MAX);

    /// The hash key the service derives from a partition key: the MD5 digest of
    /// the key's UTF-8 bytes, read as an unsigned big-endian integer (digest
    /// byte 0 is the most significant).
    ///
    /// Source: KDS-REFERENCE.md §1.1-1.2 (API PutRecord doc; KCL
    /// `AggregatorUtil.effectiveHashKey`; KPL `user_record.cc`). The key is not
    /// validated here: see [`validate_partition_key`].
    #[inline]
    pub fn from_partition_key(key: &str) -> HashKey {
        let digest: [u8; 16] = Md5::digest(key.as_bytes()).into();
        HashKey(u128::from_be_bytes(digest))
    }

    /// Parses an `ExplicitHashKey`: a decimal string matching the service's
    /// pattern `0|([1-9]\d{0,38})` whose value is at most 2^128 - 1.
    ///
    /// Source: KDS-REFERENCE.md §1.5 (API `HashKey` shape). Leading zeros,
    /// signs, whitespace and values of 2^128 or more are rejected, as the
    /// service rejects them.
    pub fn parse_explicit(text: &str) -> Result<HashKey, KdsError> {
        let invalid = || KdsError::InvalidExplicitHashKey {
            value: text.to_owned(),
        };
        let bytes = text.as_bytes();
        let well_formed = match bytes {
            [b'0'] => true,
            [first, rest @ ..] => {
                (b'1'..=b'9').contains(first)
                    && rest.len() <= 38
                    && rest.iter().all(u8::is_ascii_digit)
            }
            [] => false,
        };
        if !well_formed {
            return Err(invalid());
        }
        // 39 digits can exceed u128::MAX; u128's parser reports that overflow.
        text.parse::<u128>().map(HashKey).map_err(|_| invalid())
    }
}

impl fmt::Display for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for HashKey {
    type Err = KdsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HashKey::parse_explicit(s)
    }
}

/// How a partition key's length is counted against the 1..=256 limit.
///
/// The service model says "Minimum length of 1. Maximum length of 256"
/// characters (KDS-REFERENCE.md §1.4) without saying what a character is.
/// The recorded vectors come from kinesalite, which counts UTF-16 code units
/// (JavaScript's `String.length`), so 129 emoji (258 units) are rejected
/// there. shardcast counts Unicode scalar values by default, the reading of
/// "character" used by the AWS API models' length constraints; the UTF-16 rule
/// is kept for users who want to match that emulator (or a Java service, whose
/// `String.length()` also counts UTF-16 units). The two rules differ only for
/// keys with characters outside the Basic Multilingual Plane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyLengthRule {
    /// Count Unicode scalar values (Rust `chars()`). The default.
    #[default]
    UnicodeScalars,
    /// Count UTF-16 code units, as kinesalite does.
    Utf16Units,
}

impl KeyLengthRule {
    /// The length of `key` under this rule.
    pub fn length(self, key: &str) -> usize {
        match self {
            KeyLengthRule::UnicodeScalars => key.chars().count(),
            KeyLengthRule::Utf16Units => key.encode_utf16().count(),
        }
    }
}

/// Checks a partition key against the service's length limits (1 to 256
/// characters, counted by `rule`).
///
/// Source: KDS-REFERENCE.md §1.4 (API `PartitionKey` shape).
pub fn validate_partition_key(key: &str, rule: KeyLengthRule) -> Result<(), KdsError> {
    let length = rule.length(key);
    let min = Quota::PartitionKeyMinChars.value();
    let max = Quota::PartitionKeyMaxChars.value();
    if (min..=max).contains(&(length as u64)) {
        Ok(())
    } else {
        Err(KdsError::InvalidPartitionKeyLength {
            length,
            min,
            max,
            rule,
        })
    }
}

/// Formats the width (number of hash keys) of an inclusive range whose
/// `end - start` is `span`.
///
/// The full space has 2^128 keys, one more than a `u128` holds, so the width
/// is printed from the span rather than computed as an integer.
pub fn format_width(span: u128) -> String {
    match span.checked_add(1) {
        Some(width) => width.to_string(),
        None => "340282366920938463463374607431768211456".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_vectors_from_the_reference() {
        // KDS-REFERENCE.md §1.3.
        assert_eq!(
            HashKey::from_partition_key("a").0,
            16955237001963240173058271559858726497
        );
        assert_eq!(
            HashKey::from_partition_key("partitionKey-0").0,
            283893945402358862714065952676399797471
        );
        assert_eq!(
            HashKey::from_partition_key("ü").0,
            255482112228542481294366945247899473731
        );
    }

    #[test]
    fn explicit_hash_key_pattern() {
        assert_eq!(HashKey::parse_explicit("0").unwrap(), HashKey(0));
        assert_eq!(
            HashKey::parse_explicit("340282366920938463463374607431768211455").unwrap(),
            HashKey::MAX
        );
        for bad in [
            "",
            "00",
            "01",
            "-1",
            "+1",
            " 1",
            "1 ",
            "abc",
            "1e3",
            "340282366920938463463374607431768211456",
            "999999999999999999999999999999999999999",
            "1000000000000000000000000000000000000000",
        ] {
            assert!(HashKey::parse_explicit(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn key_length_rules_differ_only_outside_the_bmp() {
        let emoji = "\u{1F511}".repeat(129);
        assert_eq!(KeyLengthRule::UnicodeScalars.length(&emoji), 129);
        assert_eq!(KeyLengthRule::Utf16Units.length(&emoji), 258);
        assert!(validate_partition_key(&emoji, KeyLengthRule::UnicodeScalars).is_ok());
        assert!(validate_partition_key(&emoji, KeyLengthRule::Utf16Units).is_err());
        let cjk = "\u{9375}".repeat(256);
        for rule in [KeyLengthRule::UnicodeScalars, KeyLengthRule::Utf16Units] {
            assert!(validate_partition_key(&cjk, rule).is_ok());
            assert!(validate_partition_key("", rule).is_err());
            assert!(validate_partition_key(&"x".repeat(257), rule).is_err());
        }
    }

    #[test]
    fn width_of_the_full_space() {
        assert_eq!(
            format_width(u128::MAX),
            "340282366920938463463374607431768211456"
        );
        assert_eq!(format_width(0), "1");
    }
}
