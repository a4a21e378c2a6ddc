//! A shard's stored records, as compact per-interval aggregates.
//!
//! Records a shard accepts within one slice of time (the backlog resolution,
//! 1 s by default) are kept as one bucket: count, bytes, first and last
//! arrival. Memory depends on how far back readers are (in slices), never on
//! the number of records. The price: within a bucket, record sizes are taken
//! as the bucket's average (bytes are split exactly, remainders included)
//! and arrival times are interpolated between the first and last arrival, so
//! an arrival time is off by less than one slice; a bucket expires when its
//! newest record passes the retention period, so expiry is late by less than
//! one slice.

use std::collections::VecDeque;

use crate::sim::SimTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    slot: u64,
    records: u64,
    bytes: u64,
    first: SimTime,
    last: SimTime,
}

/// A reader's position: the absolute index of a bucket and the records of it
/// already read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    bucket: u64,
    offset: u64,
}

/// What one read returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Read {
    /// Records.
    pub records: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Arrival time of the last record read (interpolated).
    pub last_arrival: SimTime,
    /// The read stopped at the byte limit (more records were there).
    pub byte_capped: bool,
}

/// The records of one shard, oldest first.
#[derive(Debug, Clone)]
pub struct Backlog {
    resolution: SimTime,
    buckets: VecDeque<Bucket>,
    /// Absolute index of `buckets[0]`.
    first_index: u64,
    /// Records ever appended.
    appended: u64,
    /// Records dropped by expiry.
    expired: u64,
    /// A reader read up to the newest record: the next record starts a new
    /// bucket, so that its arrival (the first of a bucket) is exact and
    /// a reader that keeps up sees its lag exactly, not interpolated.
    sealed: bool,
}

impl Backlog {
    /// An empty backlog with the given time resolution (> 0).
    pub fn new(resolution: SimTime) -> Backlog {
        Backlog {
            resolution: resolution.max(1),
            buckets: VecDeque::new(),
            first_index: 0,
            appended: 0,
            expired: 0,
            sealed: false,
        }
    }

    /// Stores one record of `bytes` accepted at `now` (times never decrease).
    #[inline]
    pub fn append(&mut self, now: SimTime, bytes: u64) {
        let slot = now / self.resolution;
        self.appended += 1;
        if let Some(b) = self.buckets.back_mut()
            && b.slot == slot
            && !self.sealed
        {
            b.records += 1;
            b.bytes += bytes;
            b.last = now;
            return;
        }
        self.sealed = false;
        self.buckets.push_back(Bucket {
            slot,
            records: 1,
            bytes,
            first: now,
            last: now,
        });
    }

    /// Stores `records` records of `bytes` in all, accepted evenly over
    /// `[from, to)` (the shard-level engine's step; `from` is not before the
    /// newest record): split over the slices the span covers in proportion
    /// to their overlap, remainders to the earliest, each piece's arrivals
    /// spread over its part of the span.
    pub fn append_spread(&mut self, from: SimTime, to: SimTime, records: u64, bytes: u64) {
        if records == 0 {
            return;
        }
        let to = to.max(from + 1);
        let span = u128::from(to - from);
        let (mut left_r, mut left_b) = (records, bytes);
        let mut t = from;
        while t < to {
            let slot = t / self.resolution;
            let end = ((slot + 1) * self.resolution).min(to);
            let (r, b) = if end == to {
                (left_r, left_b)
            } else {
                let share = u128::from(end - from);
                let r = (u128::from(records) * share / span) as u64 - (records - left_r);
                let b = (u128::from(bytes) * share / span) as u64 - (bytes - left_b);
                (r, b)
            };
            if r > 0 {
                left_r -= r;
                left_b -= b;
                self.appended += r;
                // The first and last arrival of an even spread of r records
                // over [t, end).
                let last = t + (end - t) * (r - 1) / r;
                match self.buckets.back_mut() {
                    // A bucket a reader has read to its end is sealed (as
                    // for `append`).
                    Some(back) if back.slot == slot && !self.sealed => {
                        back.records += r;
                        back.bytes += b;
                        back.last = last;
                    }
                    _ => {
                        self.sealed = false;
                        self.buckets.push_back(Bucket {
                            slot,
                            records: r,
                            bytes: b,
                            first: t,
                            last,
                        });
                    }
                }
            }
            t = end;
        }
    }

    /// The position just after the newest record (LATEST).
    pub fn tip(&self) -> Cursor {
        match self.buckets.back() {
            Some(b) => Cursor {
                bucket: self.first_index + self.buckets.len() as u64 - 1,
                offset: b.records,
            },
            None => Cursor {
                bucket: self.first_index,
                offset: 0,
            },
        }
    }

    /// The position of the oldest record kept (TRIM_HORIZON).
    pub fn trim_horizon(&self) -> Cursor {
        Cursor {
            bucket: self.first_index,
            offset: 0,
        }
    }

    /// Records from `cursor` to the tip.
    pub fn unread(&self, cursor: Cursor) -> u64 {
        let c = self.clamp(cursor);
        let skip = (c.bucket - self.first_index) as usize;
        self.buckets
            .iter()
            .skip(skip)
            .enumerate()
            .map(|(i, b)| {
                if i == 0 {
                    b.records - c.offset.min(b.records)
                } else {
                    b.records
                }
            })
            .sum()
    }

    /// Records ever stored.
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// Arrival time of the oldest unread record at `cursor`, if any.
    pub fn oldest_unread(&self, cursor: Cursor) -> Option<SimTime> {
        let c = self.clamp(cursor);
        let skip = (c.bucket - self.first_index) as usize;
        self.buckets
            .iter()
            .skip(skip)
            .enumerate()
            .find_map(|(i, b)| {
                let offset = if i == 0 { c.offset } else { 0 };
                (offset < b.records).then(|| arrival(b, offset))
            })
    }

    /// Arrival time of the oldest unread record at `cursor` that arrived at
    /// or after `cutoff`, if any: records older than the retention period
    /// are gone in the service, whether or not [`Backlog::trim`] has run
    /// since.
    pub fn oldest_unread_since(&self, cursor: Cursor, cutoff: SimTime) -> Option<SimTime> {
        let c = self.clamp(cursor);
        let skip = (c.bucket - self.first_index) as usize;
        self.buckets
            .iter()
            .skip(skip)
            .enumerate()
            .find_map(|(i, b)| {
                let offset = if i == 0 { c.offset } else { 0 };
                if offset >= b.records || b.last < cutoff {
                    return None;
                }
                // The first record interpolated at or after the cutoff.
                let k = if b.first >= cutoff {
                    0
                } else {
                    (u128::from(cutoff - b.first) * u128::from(b.records - 1))
                        .div_ceil(u128::from(b.last - b.first)) as u64
                };
                Some(arrival(b, k.max(offset)))
            })
    }

    /// A cursor that points before the oldest kept record, moved to it
    /// (what it skipped was counted as lost when it expired).
    pub fn clamp(&self, cursor: Cursor) -> Cursor {
        if cursor.bucket >= self.first_index {
            cursor
        } else {
            self.trim_horizon()
        }
    }

    /// Whether `cursor` is at or before `other`'s bucket `index`: the reader
    /// had not finished that bucket. Returns the records of a bucket of
    /// `records` it had not read.
    pub fn unread_in(cursor: Cursor, index: u64, records: u64) -> u64 {
        match cursor.bucket.cmp(&index) {
            std::cmp::Ordering::Less => records,
            std::cmp::Ordering::Equal => records - cursor.offset.min(records),
            std::cmp::Ordering::Greater => 0,
        }
    }

    /// Reads up to `max_records` records and about `max_bytes` bytes (at least
    /// one record if any is there) from `cursor`, advancing it.
    pub fn read(
        &mut self,
        cursor: &mut Cursor,
        max_records: u64,
        max_bytes: u64,
        mut each: impl FnMut(u64, SimTime),
    ) -> Read {
        let mut out = Read::default();
        *cursor = self.clamp(*cursor);
        let mut i = (cursor.bucket - self.first_index) as usize;
        while let Some(b) = self.buckets.get(i) {
            let left_records = max_records - out.records;
            let available = b.records - cursor.offset.min(b.records);
            if left_records == 0 {
                break;
            }
            if available > 0 {
                // Records this bucket can give within the byte budget (average size).
                let avg = b.bytes.div_ceil(b.records).max(1);
                let budget = max_bytes.saturating_sub(out.bytes) / avg;
                let mut take = available.min(left_records).min(budget);
                if take == 0 && out.records == 0 {
                    take = 1; // a call returns at least one record if one is there
                }
                if take == 0 {
                    out.byte_capped = true;
                    break;
                }
                if take < available.min(left_records) {
                    out.byte_capped = true;
                }
                let from = cursor.offset;
                let to = from + take;
                let bytes = share(b.bytes, b.records, to) - share(b.bytes, b.records, from);
                out.records += take;
                out.bytes += bytes;
                out.last_arrival = arrival(b, to - 1);
                // Midpoint of the records taken, for latency statistics.
                each(take, arrival(b, (from + to - 1) / 2));
                cursor.offset = to;
                if to < b.records {
                    break;
                }
            }
            // Whole bucket read: move to the next one.
            if i + 1 == self.buckets.len() {
                self.sealed = true;
            }
            if i + 1 < self.buckets.len() {
                i += 1;
                cursor.bucket = self.first_index + i as u64;
                cursor.offset = 0;
            } else {
                break;
            }
        }
        out
    }

    /// Drops buckets whose newest record arrived before `cutoff` (calling
    /// `expired(bucket index, records)` for each, oldest first, so that
    /// readers behind can count what they lost), and buckets every reader
    /// has passed (all readers' cursors are beyond them: `min_cursor`).
    pub fn trim(
        &mut self,
        cutoff: SimTime,
        min_cursor: Option<Cursor>,
        mut expired: impl FnMut(u64, u64),
    ) {
        while let Some(b) = self.buckets.front() {
            let read_by_all = min_cursor.is_some_and(|c| c.bucket > self.first_index);
            if b.last < cutoff {
                expired(self.first_index, b.records);
                self.expired += b.records;
            } else if !read_by_all {
                break;
            }
            self.buckets.pop_front();
            self.first_index += 1;
        }
    }

    /// Buckets held (for memory accounting and tests).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }
}

/// Bytes of the first `k` of `n` records of a bucket of `bytes`, so that
/// consecutive reads add up to the bucket's bytes exactly.
fn share(bytes: u64, n: u64, k: u64) -> u64 {
    (u128::from(bytes) * u128::from(k) / u128::from(n.max(1))) as u64
}

/// Interpolated arrival of record `k` (0-based) of a bucket.
fn arrival(b: &Bucket, k: u64) -> SimTime {
    if b.records <= 1 {
        return b.first;
    }
    b.first + ((u128::from(b.last - b.first) * u128::from(k)) / u128::from(b.records - 1)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimTime = 1_000_000_000;

    #[test]
    fn reads_return_every_record_and_byte_once() {
        let mut b = Backlog::new(S);
        for i in 0..1000u64 {
            b.append(i * S / 100, 100 + i % 7);
        }
        let total: u64 = (0..1000u64).map(|i| 100 + i % 7).sum();
        let mut c = b.trim_horizon();
        let (mut records, mut bytes, mut calls) = (0, 0, 0);
        loop {
            let r = b.read(&mut c, 37, u64::MAX, |_, _| {});
            if r.records == 0 {
                break;
            }
            records += r.records;
            bytes += r.bytes;
            calls += 1;
        }
        assert_eq!((records, bytes), (1000, total));
        assert_eq!(calls, 1000usize.div_ceil(37));
        assert_eq!(c, b.tip());
        assert_eq!(b.unread(c), 0);
    }

    #[test]
    fn byte_budget_limits_a_read_but_never_to_nothing() {
        let mut b = Backlog::new(S);
        for _ in 0..10 {
            b.append(0, 1000);
        }
        let mut c = b.trim_horizon();
        assert_eq!(b.read(&mut c, 100, 3500, |_, _| {}).records, 3);
        assert_eq!(b.read(&mut c, 100, 10, |_, _| {}).records, 1);
    }

    #[test]
    fn expiry_drops_old_buckets_and_reports_them() {
        let mut b = Backlog::new(S);
        for t in 0..10 {
            b.append(t * S, 1);
            b.append(t * S + S / 2, 1);
        }
        let mut lost = 0;
        b.trim(5 * S, None, |_, n| lost += n);
        // Buckets 0..4 have their newest record before 5 s.
        assert_eq!(lost, 10);
        assert_eq!(b.buckets(), 5);
        assert_eq!(b.unread(b.trim_horizon()), 10);
        assert_eq!(b.oldest_unread(b.trim_horizon()), Some(5 * S));
    }

    #[test]
    fn arrival_times_are_interpolated_within_a_bucket() {
        let mut b = Backlog::new(S);
        b.append(0, 1);
        b.append(S / 2, 1);
        b.append(S - 1, 1);
        let mut c = b.trim_horizon();
        let r = b.read(&mut c, 2, u64::MAX, |_, _| {});
        assert_eq!(r.last_arrival, (S - 1) / 2);
    }
}
