//! The service's throughput rules: per-shard write limits enforced as two
//! token buckets or a fixed one-second window, the KPL aggregation framing
//! that counts against them, and the shared per-shard read limits of polling
//! consumers.
//!
//! Integer arithmetic throughout: a token is 10^-9 of a record (or of a
//! byte), so a bucket refilled at `r` per second gains exactly `r` tokens per
//! nanosecond and nothing is ever rounded. Times are nanoseconds (`u64`), as
//! everywhere in the crate; this module imports nothing else of it.

/// Nanoseconds in a second: token units per record or byte.
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Simulated time in nanoseconds (the same `u64` as `sim::SimTime`).
type SimTime = u64;

/// Bytes an aggregate costs besides its user records: the partition key "a"
/// plus the 4-byte magic and 16-byte MD5 of the KPL format (KDS-REFERENCE.md
/// §7b.2-3).
pub const AGGREGATE_FIXED_BYTES: u64 = 1 + 20;

/// Protobuf framing per user record in a KPL aggregate, approximated: a
/// record entry's tag, key index and length varints, and the key's entry in
/// the key table (KDS-REFERENCE.md §7b). The KPL stores each distinct key
/// once; charging every record its key is an upper bound of a few bytes per
/// record.
pub const AGGREGATE_PER_RECORD_BYTES: u64 = 6;

/// The model of per-shard write throttling (KDS-REFERENCE.md §4a.4: the
/// service documents per-second limits but not how it enforces them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteLimit {
    /// Two token buckets per shard, records and bytes, refilled continuously
    /// at the per-second limits and holding `burst` worth of refill (the byte
    /// bucket holds at least one maximum-size record).
    TokenBucket {
        /// Depth of the buckets, as time of refill (ns).
        burst: u64,
    },
    /// Counters per shard that reset at each whole second of simulated time.
    FixedWindow,
}

/// Why a record was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// The records-per-second limit was exhausted.
    pub by_records: bool,
    /// The bytes-per-second limit was exhausted.
    pub by_bytes: bool,
}

/// One shard's write limiter.
#[derive(Debug, Clone)]
pub enum Limiter {
    /// Token buckets (KDS-REFERENCE.md §4a.4, the decision taken there).
    Bucket {
        /// Record tokens (10^-9 records).
        records: u64,
        /// Byte tokens (10^-9 bytes).
        bytes: u64,
        /// Time of the last refill.
        last: SimTime,
        /// Record bucket capacity.
        records_cap: u64,
        /// Byte bucket capacity.
        bytes_cap: u64,
        /// Records per second.
        records_rate: u64,
        /// Bytes per second.
        bytes_rate: u64,
    },
    /// Per-second counters that reset on each whole second.
    Window {
        /// The second the counters belong to.
        second: u64,
        /// Records accepted in it.
        records: u64,
        /// Bytes accepted in it.
        bytes: u64,
        /// Records per second.
        records_rate: u64,
        /// Bytes per second.
        bytes_rate: u64,
    },
}

impl Limiter {
    /// A full limiter for a shard with the given per-second limits.
    ///
    /// The byte bucket holds at least `max_record` bytes, so that a record of
    /// the maximum size can pass an idle shard (large records "burst beyond"
    /// the sustained rate, KDS-REFERENCE.md §4a.2).
    pub fn new(model: WriteLimit, records_rate: u64, bytes_rate: u64, max_record: u64) -> Limiter {
        match model {
            WriteLimit::TokenBucket { burst } => {
                let records_cap = mul_div(records_rate, burst).max(NANOS_PER_SEC);
                let bytes_cap = mul_div(bytes_rate, burst).max(max_record * NANOS_PER_SEC);
                Limiter::Bucket {
                    records: records_cap,
                    bytes: bytes_cap,
                    last: 0,
                    records_cap,
                    bytes_cap,
                    records_rate,
                    bytes_rate,
                }
            }
            WriteLimit::FixedWindow => Limiter::Window {
                second: 0,
                records: 0,
                bytes: 0,
                records_rate,
                bytes_rate,
            },
        }
    }

    /// Admits one record of `size` bytes at `now`, or says which limit refused it.
    #[inline]
    pub fn admit(&mut self, now: SimTime, size: u64) -> Result<(), Throttle> {
        self.check(now, size)?;
        self.take(size);
        Ok(())
    }

    /// Whether a record of `size` bytes would pass at `now` (refilling, not
    /// taking); pair with [`Limiter::take`] to pass two limiters together.
    #[inline]
    pub fn check(&mut self, now: SimTime, size: u64) -> Result<(), Throttle> {
        let t = match self {
            Limiter::Bucket {
                records,
                bytes,
                last,
                records_cap,
                bytes_cap,
                records_rate,
                bytes_rate,
            } => {
                let dt = now.saturating_sub(*last);
                *last = now;
                *records = refill(*records, dt, *records_rate, *records_cap);
                *bytes = refill(*bytes, dt, *bytes_rate, *bytes_cap);
                Throttle {
                    by_records: *records < NANOS_PER_SEC,
                    by_bytes: *bytes < size.saturating_mul(NANOS_PER_SEC),
                }
            }
            Limiter::Window {
                second,
                records,
                bytes,
                records_rate,
                bytes_rate,
            } => {
                let s = now / NANOS_PER_SEC;
                if s != *second {
                    *second = s;
                    *records = 0;
                    *bytes = 0;
                }
                // A record larger than the byte limit passes only an empty window.
                Throttle {
                    by_records: *records >= *records_rate,
                    by_bytes: *bytes > 0 && *bytes + size > *bytes_rate,
                }
            }
        };
        if t.by_records || t.by_bytes {
            Err(t)
        } else {
            Ok(())
        }
    }

    /// Takes a record of `size` bytes that [`Limiter::check`] passed.
    #[inline]
    pub fn take(&mut self, size: u64) {
        match self {
            Limiter::Bucket { records, bytes, .. } => {
                *records -= NANOS_PER_SEC;
                *bytes -= size.saturating_mul(NANOS_PER_SEC);
            }
            Limiter::Window { records, bytes, .. } => {
                *records += 1;
                *bytes += size;
            }
        }
    }

    /// Changes a bucket's rates; its depth stays one second of refill, and
    /// the byte bucket holds at least `max_record` bytes.
    pub fn set_rates(&mut self, new_records_rate: u64, new_bytes_rate: u64, max_record: u64) {
        if let Limiter::Bucket {
            records,
            bytes,
            records_cap,
            bytes_cap,
            records_rate,
            bytes_rate,
            ..
        } = self
        {
            *records_rate = new_records_rate;
            *bytes_rate = new_bytes_rate;
            *records_cap = mul_div(new_records_rate, NANOS_PER_SEC);
            *bytes_cap = mul_div(new_bytes_rate, NANOS_PER_SEC)
                .max(max_record.saturating_mul(NANOS_PER_SEC));
            *records = (*records).min(*records_cap);
            *bytes = (*bytes).min(*bytes_cap);
        }
    }
}

/// A token bucket's state as a flow engine reads it: whole-unit levels,
/// depths and rates, with no refill or admission rule of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// Record tokens held.
    pub records: f64,
    /// Byte tokens held.
    pub bytes: f64,
    /// Depth of the record bucket.
    pub records_cap: f64,
    /// Depth of the byte bucket.
    pub bytes_cap: f64,
    /// Records per second.
    pub records_rate: f64,
    /// Bytes per second.
    pub bytes_rate: f64,
}

impl Limiter {
    /// A bucket's levels at `now` (refilled to `now`; nothing changes);
    /// `None` for a window.
    pub fn levels(&self, now: SimTime) -> Option<Levels> {
        let unit = NANOS_PER_SEC as f64;
        match *self {
            Limiter::Bucket {
                records,
                bytes,
                last,
                records_cap,
                bytes_cap,
                records_rate,
                bytes_rate,
            } => {
                let dt = now.saturating_sub(last);
                Some(Levels {
                    records: refill(records, dt, records_rate, records_cap) as f64 / unit,
                    bytes: refill(bytes, dt, bytes_rate, bytes_cap) as f64 / unit,
                    records_cap: records_cap as f64 / unit,
                    bytes_cap: bytes_cap as f64 / unit,
                    records_rate: records_rate as f64,
                    bytes_rate: bytes_rate as f64,
                })
            }
            Limiter::Window { .. } => None,
        }
    }

    /// Sets a bucket's tokens as of `now` to `records` and `bytes` (whole
    /// units, each clamped to 0 and its depth), after a flow engine passed
    /// records over an interval ending at `now`. A window is unchanged.
    pub fn set_levels(&mut self, now: SimTime, new_records: f64, new_bytes: f64) {
        if let Limiter::Bucket {
            records,
            bytes,
            last,
            records_cap,
            bytes_cap,
            ..
        } = self
        {
            let unit = NANOS_PER_SEC as f64;
            // `as` saturates: a negative or NaN level is 0.
            *records = ((new_records * unit) as u64).min(*records_cap);
            *bytes = ((new_bytes * unit) as u64).min(*bytes_cap);
            *last = (*last).max(now);
        }
    }
}

/// `rate` per second for `duration` ns, in 10^-9 units: rate * duration.
fn mul_div(rate: u64, duration: SimTime) -> u64 {
    u64::try_from(u128::from(rate) * u128::from(duration)).unwrap_or(u64::MAX)
}

#[inline]
fn refill(tokens: u64, dt: SimTime, rate: u64, cap: u64) -> u64 {
    let added = u128::from(dt) * u128::from(rate);
    (u128::from(tokens) + added).min(u128::from(cap)) as u64
}

/// Shared read limits of one shard for polling consumers: 5 calls/s and
/// 2 MiB/s (KDS-REFERENCE.md §4b.1-2). Calls draw on a token bucket of 5;
/// bytes on a bucket of one second that a call may overdraw (a call returns
/// what it finds, up to 10 MiB); while it is overdrawn, calls are throttled.
/// A call that returns 10 MiB also locks the shard out for 5 s.
#[derive(Debug, Clone)]
pub struct ReadLimiter {
    calls: u64,
    bytes: i128,
    last: SimTime,
    locked_until: SimTime,
}

impl ReadLimiter {
    const CALL: u64 = NANOS_PER_SEC;

    /// A shard's limiter, full.
    pub fn new() -> ReadLimiter {
        ReadLimiter {
            calls: super::Quota::ReadCallsPerShardPerSec.value() * Self::CALL,
            bytes: i128::from(super::Quota::ReadBytesPerShardPerSec.value())
                * i128::from(NANOS_PER_SEC),
            last: 0,
            locked_until: 0,
        }
    }

    fn refill(&mut self, now: SimTime) {
        let dt = now.saturating_sub(self.last);
        self.last = now;
        let calls_rate = super::Quota::ReadCallsPerShardPerSec.value();
        let cap = calls_rate * Self::CALL;
        self.calls = (u128::from(self.calls) + u128::from(dt) * u128::from(calls_rate))
            .min(u128::from(cap)) as u64;
        let byte_rate = i128::from(super::Quota::ReadBytesPerShardPerSec.value());
        let byte_cap = byte_rate * i128::from(NANOS_PER_SEC);
        self.bytes = (self.bytes + i128::from(dt) * byte_rate).min(byte_cap);
    }

    /// Takes a call at `now`, or refuses it.
    pub fn call(&mut self, now: SimTime) -> bool {
        self.refill(now);
        if now < self.locked_until || self.bytes < 0 || self.calls < Self::CALL {
            return false;
        }
        self.calls -= Self::CALL;
        true
    }

    /// Charges the bytes a call returned; a call cut short by the 10 MiB
    /// cap ("a call that returns this amount of data") locks the shard out.
    pub fn charge(&mut self, now: SimTime, bytes: u64, capped: bool) {
        self.bytes -= i128::from(bytes) * i128::from(NANOS_PER_SEC);
        if capped {
            self.locked_until = now + super::Quota::GetRecordsLockoutSecs.value() * NANOS_PER_SEC;
        }
    }
}

impl Default for ReadLimiter {
    fn default() -> ReadLimiter {
        ReadLimiter::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SEC;

    #[test]
    fn bucket_allows_its_burst_then_the_rate() {
        let mut l = Limiter::new(WriteLimit::TokenBucket { burst: S }, 1000, 1 << 20, 1 << 20);
        // A full bucket: 1000 records at t = 0, then the 1001st is refused.
        for _ in 0..1000 {
            assert!(l.admit(0, 10).is_ok());
        }
        assert_eq!(
            l.admit(0, 10),
            Err(Throttle {
                by_records: true,
                by_bytes: false
            })
        );
        // One record's worth refills in exactly 1 ms.
        assert!(l.admit(S / 1000 - 1, 10).is_err());
        assert!(l.admit(S / 1000, 10).is_ok());
    }

    #[test]
    fn bucket_bytes_limit_and_large_records() {
        let mut l = Limiter::new(
            WriteLimit::TokenBucket { burst: S },
            1000,
            1 << 20,
            10 << 20,
        );
        // The byte bucket holds one 10 MiB record although the rate is 1 MiB/s.
        assert!(l.admit(0, 10 << 20).is_ok());
        let t = l.admit(0, 1).unwrap_err();
        assert!(t.by_bytes && !t.by_records);
        // 1 MiB refills in one second.
        assert!(l.admit(S, 1 << 20).is_ok());
    }

    #[test]
    fn levels_read_a_bucket_refilled_and_set_it_back() {
        let mut l = Limiter::new(WriteLimit::TokenBucket { burst: S }, 1000, 1 << 20, 1 << 20);
        l.admit(0, 1000).unwrap();
        let Some(Levels {
            records,
            bytes,
            records_cap,
            ..
        }) = l.levels(S / 1000)
        else {
            panic!("a bucket")
        };
        // 999 left, plus 1 ms of refill; capped at the depth.
        assert_eq!((records, records_cap), (1000.0, 1000.0));
        assert!((bytes - f64::from(1 << 20)).abs() < 1.0);
        l.set_levels(S, 10.5, 2000.0);
        let Some(Levels { records, bytes, .. }) = l.levels(S) else {
            panic!("a bucket")
        };
        assert_eq!((records, bytes), (10.5, 2000.0));
        // Per-record admission goes on from the level set: 10 pass, not 11.
        let passed = (0..11).filter(|_| l.admit(S, 1).is_ok()).count();
        assert_eq!(passed, 10);
        // Levels out of range are clamped.
        l.set_levels(2 * S, -3.0, 1e30);
        let Some(Levels {
            records,
            bytes,
            bytes_cap,
            ..
        }) = l.levels(2 * S)
        else {
            panic!("a bucket")
        };
        assert_eq!((records, bytes), (0.0, bytes_cap));
    }

    #[test]
    fn a_window_has_no_bucket_levels() {
        let l = Limiter::new(WriteLimit::FixedWindow, 1000, 1 << 20, 1 << 20);
        assert_eq!(l.levels(S), None);
    }

    #[test]
    fn window_resets_each_second() {
        let mut l = Limiter::new(WriteLimit::FixedWindow, 1000, 1 << 20, 1 << 20);
        for i in 0..1000 {
            assert!(l.admit(i * 1000, 1).is_ok());
        }
        assert!(l.admit(S - 1, 1).unwrap_err().by_records);
        assert!(l.admit(S, 1).is_ok());
        assert!(l.admit(S + 1, 1 << 20).unwrap_err().by_bytes);
    }

    #[test]
    fn reads_share_five_calls_and_two_mib_a_second() {
        let mut r = ReadLimiter::new();
        for _ in 0..5 {
            assert!(r.call(0));
        }
        assert!(!r.call(0), "a sixth call in the same instant");
        // One call's worth refills in 200 ms.
        assert!(!r.call(S / 5 - 1));
        assert!(r.call(S / 5));
        // 4 MiB read overdraws the 2 MiB bucket: throttled until it refills.
        r.charge(S / 5, 4 << 20, false);
        assert!(!r.call(S));
        assert!(r.call(S / 5 + S + S / 5));
        // A call cut at the 10 MiB cap locks the shard out for 5 s.
        let mut r = ReadLimiter::new();
        assert!(r.call(0));
        r.charge(0, 0, true);
        assert!(!r.call(5 * S - 1));
        assert!(r.call(5 * S));
    }
}
