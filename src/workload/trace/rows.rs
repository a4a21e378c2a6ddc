//! Aggregate rows (a count per interval) expanded lazily: one record at a
//! time, in time order, so a row of any count replays in constant memory.

use std::cmp::Reverse;

use rand::RngExt;

use super::line::{KeyText, Line};
use super::reader::EmitKey;
use super::{AggregateSpec, TraceError, TraceReader, Within};
use crate::sim::SimTime;
use crate::sim::rng::SimRng;

impl TraceReader {
    /// Queues an aggregate row read at `at`; its records are made later,
    /// one at a time, by [`TraceReader::expand_row`].
    pub(super) fn start_row(
        &mut self,
        at: SimTime,
        line: Line,
        agg: AggregateSpec,
        rng: &mut SimRng,
    ) -> Result<(), TraceError> {
        let span = (agg.interval as f64 / self.spec.time_scale).max(1.0) as SimTime;
        let count = line.count.unwrap_or(0);
        let n = match agg.within {
            Within::Even | Within::Uniform => count,
            Within::Poisson if count == 0 => 0,
            Within::Poisson => {
                use rand_distr::{Distribution, Poisson};
                Poisson::new(count as f64).map_or(count, |d| d.sample(rng) as u64)
            }
        };
        if n == 0 {
            return Ok(());
        }
        let key = match line.key {
            // Checked against the ranges when the line was read.
            KeyText::Shard(i) => {
                let (lo, hi) = self.shard_ranges.get(i as usize).copied().ok_or_else(|| {
                    self.error(format!(
                        "shardId-{i:012} has no hash key range to draw from"
                    ))
                })?;
                RowKey::Range(lo, hi)
            }
            KeyText::Hash(h) => RowKey::Hash(h),
            KeyText::Partition => RowKey::Partition(self.key_in.clone()),
        };
        self.seq += 1;
        let mut row = Row {
            next_at: at,
            seq: self.seq,
            start: at,
            span,
            within: agg.within,
            n,
            made: 0,
            u: 0.0,
            key,
            key_len: line.key_len,
            // Bytes split evenly over the row's records (data only).
            each: line.size.map(|b| (b / count.max(1), b % count.max(1))),
        };
        row.advance(rng);
        self.rows.push(Reverse(row));
        Ok(())
    }

    /// Makes the next record of the row that is due first.
    pub(super) fn expand_row(&mut self, rng: &mut SimRng, keys_rng: &mut SimRng) {
        let Some(Reverse(mut row)) = self.rows.pop() else {
            return;
        };
        let size = row.each.map(|(q, r)| q + u64::from(row.made < r));
        let at = row.next_at;
        match &row.key {
            RowKey::Partition(k) => {
                // `emit` reads the key from `key_in`.
                self.key_in.clear();
                self.key_in.push_str(k);
                self.emit(
                    at,
                    EmitKey::Partition,
                    row.key_len,
                    size,
                    true,
                    rng,
                    keys_rng,
                );
            }
            RowKey::Hash(h) => {
                self.emit(
                    at,
                    EmitKey::Hash(*h),
                    row.key_len,
                    size,
                    true,
                    rng,
                    keys_rng,
                );
            }
            RowKey::Range(lo, hi) => {
                // Hash keys drawn for a shard's row are not keys of the trace.
                let h = rng.random_range(*lo..=*hi);
                self.emit(
                    at,
                    EmitKey::Hash(h),
                    row.key_len,
                    size,
                    false,
                    rng,
                    keys_rng,
                );
            }
        }
        row.made += 1;
        if row.made < row.n {
            row.advance(rng);
            self.rows.push(Reverse(row));
        }
    }
}

/// The key of an aggregate row's records.
enum RowKey {
    Partition(String),
    Hash(u128),
    /// A shard's row: hash keys drawn from its range, inclusive.
    Range(u128, u128),
}

/// An aggregate row being expanded.
pub(super) struct Row {
    /// Time of its next record.
    pub(super) next_at: SimTime,
    /// File order: rows with records at equal times keep it.
    seq: u64,
    start: SimTime,
    span: SimTime,
    within: Within,
    /// Records it makes, and those made.
    n: u64,
    made: u64,
    /// The last uniform order statistic drawn, in [0, 1].
    u: f64,
    key: RowKey,
    key_len: Option<u16>,
    /// Data bytes per record: quotient, and the remainder spread one byte
    /// each over the first records.
    each: Option<(u64, u64)>,
}

impl Row {
    /// Sets `next_at` to the time of record `made` (of `n`).
    fn advance(&mut self, rng: &mut SimRng) {
        let offset = match self.within {
            // The k-th of n at (k + 1/2) / n of the span.
            Within::Even => {
                ((2 * u128::from(self.made) + 1) * u128::from(self.span) / (2 * u128::from(self.n)))
                    as SimTime
            }
            // The next of the remaining m sorted uniforms: the minimum of
            // m uniforms on [u, 1] is u + (1 - u)(1 - V^(1/m)); written
            // with expm1 so a row of billions keeps its precision.
            Within::Uniform | Within::Poisson => {
                let m = (self.n - self.made) as f64;
                let v: f64 = rng.random();
                self.u += (1.0 - self.u) * -(v.ln() / m).exp_m1();
                ((self.u * self.span as f64) as SimTime).min(self.span - 1)
            }
        };
        self.next_at = self.start.saturating_add(offset);
    }
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        (self.next_at, self.seq) == (other.next_at, other.seq)
    }
}

impl Eq for Row {}

impl PartialOrd for Row {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Row {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.next_at, self.seq).cmp(&(other.next_at, other.seq))
    }
}
