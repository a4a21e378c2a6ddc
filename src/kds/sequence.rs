//! Sequence numbers in the service's 56-digit "version 2" layout.
//!
//! Layout (KDS-REFERENCE.md §3.3, reverse-engineered by kinesalite and matched
//! against real numbers from 2015 and 2018): a 188-bit integer written as 47
//! hex digits, most significant first:
//!
//! ```text
//! [0]      2                      constant
//! [1..9]   shard creation time    Unix seconds, 36 bits
//! [10]     shard index, low nibble
//! [11..26] counter (seqIx)        64 bits, top bit 0
//! [27..28] byte1                  always 00 in observed data
//! [29..37] record time            Unix seconds, 36 bits
//! [38..45] shard index            32 bits
//! [46]     2                      layout version
//! ```
//!
//! Numeric order is therefore (creation time, index nibble, counter, byte1,
//! record time, index), which [`SequenceNumber`]'s `Ord` reproduces without
//! big-integer arithmetic. Decimal text is produced and read only at the edges.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use ruint::aliases::U192;

use super::error::KdsError;

/// The largest counter value. The service uses it for a closed shard's
/// `EndingSequenceNumber` (KDS-REFERENCE.md §3.5), so records never get it.
pub const SEQ_IX_MAX: u64 = (1 << 63) - 1;

/// The largest time the 36-bit seconds fields hold (year 4147).
pub const SECS_MAX: u64 = (1 << 36) - 1;

/// A sequence number, kept as its decoded fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SequenceNumber {
    shard_created_secs: u64,
    seq_ix: u64,
    byte1: u8,
    record_secs: u64,
    shard_index: u32,
}

impl SequenceNumber {
    /// Builds a number from its fields, checking that each fits its width.
    pub fn new(
        shard_created_secs: u64,
        shard_index: u32,
        seq_ix: u64,
        record_secs: u64,
    ) -> Result<SequenceNumber, KdsError> {
        for secs in [shard_created_secs, record_secs] {
            if secs > SECS_MAX {
                return Err(KdsError::TimeOutOfRange { secs });
            }
        }
        if seq_ix > SEQ_IX_MAX {
            return Err(KdsError::InvalidSequenceNumber {
                value: seq_ix.to_string(),
                reason: format!("counter above the maximum {SEQ_IX_MAX}"),
            });
        }
        Ok(SequenceNumber {
            shard_created_secs,
            seq_ix,
            byte1: 0,
            record_secs,
            shard_index,
        })
    }

    /// Creation time of the shard, in Unix seconds.
    pub fn shard_created_secs(&self) -> u64 {
        self.shard_created_secs
    }

    /// Index of the shard (`shardId-<index>`).
    pub fn shard_index(&self) -> u32 {
        self.shard_index
    }

    /// The per-shard counter (`seqIx`).
    pub fn seq_ix(&self) -> u64 {
        self.seq_ix
    }

    /// The byte between counter and record time, 0 in all observed numbers.
    pub fn byte1(&self) -> u8 {
        self.byte1
    }

    /// Arrival time of the record (or creation/close time for a shard's
    /// starting/ending number), in Unix seconds.
    pub fn record_secs(&self) -> u64 {
        self.record_secs
    }

    /// Whether this is a shard's `EndingSequenceNumber` (counter at its maximum).
    pub fn is_shard_end(&self) -> bool {
        self.seq_ix == SEQ_IX_MAX
    }

    fn to_u192(self) -> U192 {
        let nibble = u64::from(self.shard_index & 0xf);
        let mut v = U192::from(2u8);
        for (value, bits) in [
            (self.shard_created_secs, 36),
            (nibble, 4),
            (self.seq_ix, 64),
            (u64::from(self.byte1), 8),
            (self.record_secs, 36),
            (u64::from(self.shard_index), 32),
            (2, 4),
        ] {
            v = (v << bits) | U192::from(value);
        }
        v
    }

    /// The 47 hex digits of the layout, most significant first.
    pub fn to_hex(&self) -> String {
        format!("{:047x}", self.to_u192())
    }

    fn parse(text: &str) -> Result<SequenceNumber, KdsError> {
        let invalid = |reason: &str| KdsError::InvalidSequenceNumber {
            value: text.to_owned(),
            reason: reason.to_owned(),
        };
        // The service's pattern is `0|([1-9]\d{0,128})`; this layout always has 56 digits.
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("expected a decimal integer"));
        }
        if text.len() > 1 && text.starts_with('0') {
            // Checked before the length, else 56 zeros read "expected 56
            // digits, got 56".
            return Err(invalid(
                "it starts with 0, and a sequence number has no leading zero (the service's pattern is 0|[1-9][0-9]{0,128})",
            ));
        }
        if text.len() != 56 {
            return Err(invalid(&format!(
                "expected 56 decimal digits (the version-2 layout), got {}",
                text.len()
            )));
        }
        let v = U192::from_str_radix(text, 10)
            .map_err(|_| invalid("expected 56 decimal digits (the version-2 layout)"))?;
        let field = |shift: usize, bits: usize| -> u64 {
            let mask = (U192::from(1u8) << bits) - U192::from(1u8);
            ((v >> shift) & mask).to::<u64>()
        };
        if v.bit_len() > 188 || field(184, 4) != 2 {
            return Err(invalid(
                "its leading hex digit is not 2, so it is not a version-2 sequence number",
            ));
        }
        match field(0, 4) {
            2 => {}
            1 => {
                return Err(invalid(
                    "it ends in the version-1 layout (2013-2014, with a random middle), which is not supported",
                ));
            }
            other => {
                return Err(invalid(&format!(
                    "its layout version nibble is {other}, expected 2"
                )));
            }
        }
        let shard_index = field(4, 32) as u32;
        if field(144, 4) != u64::from(shard_index & 0xf) {
            return Err(invalid(
                "its shard-index nibble does not match the low nibble of its shard index",
            ));
        }
        let seq_ix = field(80, 64);
        if seq_ix > SEQ_IX_MAX {
            return Err(invalid("its counter has the top bit set"));
        }
        Ok(SequenceNumber {
            shard_created_secs: field(148, 36),
            seq_ix,
            byte1: field(72, 8) as u8,
            record_secs: field(36, 36),
            shard_index,
        })
    }

    fn order_key(&self) -> (u64, u32, u64, u8, u64, u32) {
        (
            self.shard_created_secs,
            self.shard_index & 0xf,
            self.seq_ix,
            self.byte1,
            self.record_secs,
            self.shard_index,
        )
    }
}

impl Ord for SequenceNumber {
    /// Numeric order of the 56-digit numbers.
    fn cmp(&self, other: &Self) -> Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SequenceNumber {
    /// The 56 decimal digits the API returns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_u192(), f)
    }
}

impl FromStr for SequenceNumber {
    type Err = KdsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SequenceNumber::parse(s)
    }
}

/// A user record's position inside an aggregated (KPL) Kinesis record: the
/// Kinesis record's sequence number plus a sub-sequence number from 0
/// (KDS-REFERENCE.md §3.8). Ordered by sequence number, then sub-sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtendedSequenceNumber {
    /// The Kinesis record's sequence number.
    pub sequence: SequenceNumber,
    /// The user record's index inside the aggregated record.
    pub sub_sequence: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real AWS numbers from KDS-REFERENCE.md §3.4 [BRANDUR].
    const START_0: &str = "49548859072970256769156879668947671610661756289899560962";

    fn unspaced(hex: &str) -> String {
        hex.split(' ').collect()
    }

    #[test]
    fn real_example_round_trips() {
        let n: SequenceNumber = START_0.parse().unwrap();
        assert_eq!(
            n.to_hex(),
            unspaced("2 055071240 0 0000000000000000 00 055071240 00000000 2")
        );
        assert_eq!(n.shard_created_secs(), 0x055071240);
        assert_eq!(n.seq_ix(), 0);
        assert_eq!(n.shard_index(), 0);
        assert_eq!(n.to_string(), START_0);
    }

    #[test]
    fn real_split_lineage_decodes_and_orders() {
        // Shard 0's EndingSequenceNumber after its split, and child 2's start.
        let end = SequenceNumber::new(0x055071240, 0, SEQ_IX_MAX, 0x0550713c8).unwrap();
        assert_eq!(
            end.to_hex(),
            unspaced("2 055071240 0 7fffffffffffffff 00 0550713c8 00000000 2")
        );
        assert!(end.is_shard_end());
        let child = SequenceNumber::new(0x0550713c9, 2, 0, 0x0550713c9).unwrap();
        assert_eq!(
            child.to_hex(),
            unspaced("2 0550713c9 2 0000000000000000 00 0550713c9 00000002 2")
        );
        // Created at 17:32:57, one second after the parent closed at 17:32:56.
        assert_eq!(child.shard_created_secs() - end.record_secs(), 1);
        assert!(child > end);
        for n in [end, child] {
            assert_eq!(n.to_string().len(), 56);
            assert_eq!(n.to_string().parse::<SequenceNumber>().unwrap(), n);
        }
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "abc",
            "-4954885907297025676915687966894767161066175628989956096",
            "1",
            "0",
            // 56 digits but leading nibble 1 (a version-0 number).
            "19548859072970256769156879668947671610661756289899560962",
            // The real example with its last digit changed: version nibble 1.
            "49548859072970256769156879668947671610661756289899560961",
        ] {
            assert!(bad.parse::<SequenceNumber>().is_err(), "{bad:?} accepted");
        }
    }

    /// Issue 15: 56 zeros said "expected 56 decimal digits, got 56".
    #[test]
    fn r15_leading_zero_is_named_as_the_reason() {
        let e = "0"
            .repeat(56)
            .parse::<SequenceNumber>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("starts with 0"), "{e}");
        assert!(e.contains("no leading zero"), "{e}");
        assert!(!e.contains("got 56"), "{e}");
        let e = format!("0{}", &START_0[1..])
            .parse::<SequenceNumber>()
            .unwrap_err();
        assert!(e.to_string().contains("no leading zero"), "{e}");
        let e = "4".repeat(55).parse::<SequenceNumber>().unwrap_err();
        assert!(e.to_string().contains("got 55"), "{e}");
        let e = "1\n2".parse::<SequenceNumber>().unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn order_matches_numeric_order_at_field_edges() {
        let a = SequenceNumber::new(100, 15, SEQ_IX_MAX, 200).unwrap();
        let b = SequenceNumber::new(101, 16, 0, 101).unwrap();
        let c = SequenceNumber::new(100, 0, 5, 100).unwrap();
        let mut v = vec![a, b, c];
        v.sort();
        let by_number = {
            let mut w = v.clone();
            w.sort_by_key(|n| n.to_u192());
            w
        };
        assert_eq!(v, by_number);
        assert_eq!(v, vec![c, a, b]);
    }
}
