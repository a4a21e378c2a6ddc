//! Counters the engine fills: per shard per second, rolled up per minute
//! under CloudWatch's names, and totals per shard. Memory depends on shards
//! and simulated minutes, never on the number of records.

use hdrhistogram::Histogram;

use crate::kds::Throttle;
use crate::sim::SimTime;
use crate::units::NANOS_PER_SEC;

/// A latency read off a histogram (kept in whole microseconds, with 3
/// significant digits), in milliseconds, with only the digits the
/// histogram holds: the value's bucket spans `width` microseconds, so the
/// value is the bucket's middle rounded to the power of ten at or above
/// that width, and `decimals` is how many decimals of a millisecond that
/// leaves (3 for an exact microsecond, none from 1 ms up).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HeldMs {
    /// The value, ms.
    pub ms: f64,
    /// Decimals the histogram holds.
    pub decimals: usize,
}

impl HeldMs {
    /// The value at `quantile` of `h` (microseconds), to the digits held.
    pub fn quantile(h: &Histogram<u64>, quantile: f64) -> HeldMs {
        if h.is_empty() {
            return HeldMs {
                ms: 0.0,
                decimals: 3,
            };
        }
        let v = h.value_at_quantile(quantile);
        let (lo, hi) = (h.lowest_equivalent(v), h.highest_equivalent(v));
        let width = hi - lo + 1;
        let mut step = 1u64;
        let mut digits = 0usize;
        while step < width {
            step = step.saturating_mul(10);
            digits += 1;
        }
        let middle = lo + (hi - lo) / 2;
        let rounded = (middle + step / 2) / step * step;
        HeldMs {
            ms: rounded as f64 / 1000.0,
            decimals: 3usize.saturating_sub(digits),
        }
    }
}

impl std::fmt::Display for HeldMs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.*}", self.decimals, self.ms)
    }
}

/// Counts of one shard in the current second (and, summed, over the run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardCounts {
    /// Record attempts that reached the shard.
    pub offered_records: u64,
    /// Their bytes.
    pub offered_bytes: u64,
    /// Records accepted (IncomingRecords).
    pub accepted_records: u64,
    /// Their bytes (IncomingBytes).
    pub accepted_bytes: u64,
    /// Attempts refused (WriteProvisionedThroughputExceeded).
    pub throttled_records: u64,
    /// Refusals where the records/s limit was exhausted.
    pub throttled_by_records: u64,
    /// Refusals where the bytes/s limit was exhausted.
    pub throttled_by_bytes: u64,
}

impl ShardCounts {
    /// Adds `o`'s counts.
    pub fn add(&mut self, o: &ShardCounts) {
        self.offered_records += o.offered_records;
        self.offered_bytes += o.offered_bytes;
        self.accepted_records += o.accepted_records;
        self.accepted_bytes += o.accepted_bytes;
        self.throttled_records += o.throttled_records;
        self.throttled_by_records += o.throttled_by_records;
        self.throttled_by_bytes += o.throttled_by_bytes;
    }
}

/// Consumer-side counts of an interval, summed over applications.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Records delivered to consumers (OutgoingRecords).
    pub records: u64,
    /// Their bytes (OutgoingBytes).
    pub bytes: u64,
    /// Polling calls refused (ReadProvisionedThroughputExceeded).
    pub throttled: u64,
    /// Largest iterator age of a polling call, in ms
    /// (GetRecords.IteratorAgeMilliseconds, Maximum).
    pub iterator_age_ms: u64,
    /// Records that expired before an application read them (one per application).
    pub lost: u64,
}

impl ReadCounts {
    fn add(&mut self, o: &ReadCounts) {
        self.records += o.records;
        self.bytes += o.bytes;
        self.throttled += o.throttled;
        self.iterator_age_ms = self.iterator_age_ms.max(o.iterator_age_ms);
        self.lost += o.lost;
    }
}

/// A shard's totals over the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardTotals {
    /// Summed counts.
    pub counts: ShardCounts,
    /// Sum over seconds of the accepted utilisation (for the mean).
    pub utilisation_sum: f64,
    /// Highest accepted utilisation in one second.
    pub peak_utilisation: f64,
    /// Highest offered utilisation (demand) in one second.
    pub peak_offered_utilisation: f64,
    /// First attempts of records with a fresh random key (each a distinct key).
    pub random_keys: u64,
}

/// Producer-side counts (user records, outcomes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProducerCounts {
    /// User records produced.
    pub produced: u64,
    /// User records accepted (inside accepted Kinesis records).
    pub accepted: u64,
    /// Aggregated Kinesis records made (KPL aggregation).
    pub aggregates: u64,
    /// Records refused at once: larger than the maximum record size.
    pub rejected_too_large: u64,
    /// Records dropped because the producer's buffer was full.
    pub dropped_buffer_full: u64,
    /// Records that failed after the last allowed attempt.
    pub failed_after_retries: u64,
    /// Records that failed because their time to live ran out (KPL RecordTtl).
    pub expired: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// PutRecord calls.
    pub put_record_calls: u64,
    /// PutRecords calls.
    pub put_records_calls: u64,
    /// Records sent in PutRecords calls (PutRecords.TotalRecords).
    pub put_records_total: u64,
    /// Of those, accepted (PutRecords.SuccessfulRecords).
    pub put_records_successful: u64,
    /// Of those, throttled (PutRecords.ThrottledRecords).
    pub put_records_throttled: u64,
}

impl ProducerCounts {
    /// Adds `o`'s counts.
    pub fn add(&mut self, o: &ProducerCounts) {
        self.produced += o.produced;
        self.accepted += o.accepted;
        self.aggregates += o.aggregates;
        self.rejected_too_large += o.rejected_too_large;
        self.dropped_buffer_full += o.dropped_buffer_full;
        self.failed_after_retries += o.failed_after_retries;
        self.expired += o.expired;
        self.retries += o.retries;
        self.put_record_calls += o.put_record_calls;
        self.put_records_calls += o.put_records_calls;
        self.put_records_total += o.put_records_total;
        self.put_records_successful += o.put_records_successful;
        self.put_records_throttled += o.put_records_throttled;
    }
}

/// One stream-level row of the time series (a minute, or a second).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalRow {
    /// Start of the interval, seconds since the start of the run.
    pub start_secs: u64,
    /// Shard-side counts summed over shards.
    pub shards: ShardCounts,
    /// Producer-side counts.
    pub producers: ProducerCounts,
    /// Highest per-second accepted utilisation of any shard in the interval.
    pub max_shard_utilisation: f64,
    /// Highest per-second offered utilisation of any shard in the interval.
    pub max_offered_utilisation: f64,
    /// Consumer-side counts.
    pub reads: ReadCounts,
    /// Most open shards at any time in the interval.
    pub open_shards: u32,
    /// Seconds of the interval in which the stream was UPDATING (resharding).
    pub updating_secs: u64,
    /// The busiest second of the interval, stream-wide (for charts that
    /// show per-minute means: a mean hides a peak of seconds).
    pub peak_second: SecondPeaks,
}

/// The highest per-second values of an interval, stream-wide, each its own
/// maximum (the most records offered and the most bytes offered may fall
/// in different seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SecondPeaks {
    /// Most record attempts in one second, over all shards.
    pub offered_records: u64,
    /// Most bytes attempted in one second, over all shards.
    pub offered_bytes: u64,
    /// The highest share of one second's attempts that was throttled.
    pub throttle_rate: f64,
}

impl SecondPeaks {
    /// Takes in one second's stream-wide counts.
    fn note(&mut self, c: &ShardCounts) {
        self.offered_records = self.offered_records.max(c.offered_records);
        self.offered_bytes = self.offered_bytes.max(c.offered_bytes);
        if c.offered_records > 0 {
            let rate = c.throttled_records as f64 / c.offered_records as f64;
            self.throttle_rate = self.throttle_rate.max(rate);
        }
    }
}

/// One shard's counts over one minute: its shard-level metrics (enhanced
/// monitoring, KDS-REFERENCE.md §9.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardMinute {
    /// The shard's index (`shardId-` and this, zero-padded to 12 digits).
    pub shard: u32,
    /// Write counts (IncomingRecords, IncomingBytes,
    /// WriteProvisionedThroughputExceeded).
    pub writes: ShardCounts,
    /// Read counts (OutgoingRecords, OutgoingBytes,
    /// ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds).
    pub reads: ReadCounts,
}

/// The shard-level metrics of one minute: every shard open at some time in
/// the minute (or written to or read), in shard index order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardMinuteRow {
    /// Start of the minute, seconds since the start of the run.
    pub start_secs: u64,
    /// One entry per shard.
    pub shards: Vec<ShardMinute>,
}

/// Shard-level minutes being collected; only the latest are kept.
#[derive(Debug, Clone)]
struct ShardLevel {
    /// Rows to keep at least (older ones are dropped in batches).
    keep: usize,
    writes: Vec<ShardCounts>,
    reads: Vec<ReadCounts>,
    open_now: Vec<bool>,
    open_in_minute: Vec<bool>,
    rows: Vec<ShardMinuteRow>,
}

/// The most cells a [`UtilisationGrid`] keeps before it merges columns:
/// 2^21 cells of 2 bytes, 4 MiB (about 1,000 shards for a day and a half
/// at one column per minute).
pub const MAX_GRID_CELLS: usize = 1 << 21;

/// Per shard and per column of time, the peak per-second *offered*
/// utilisation (demand: every attempt that reached the shard), in basis
/// points (10,000 = one shard's limit), saturating at `u16::MAX` (655 %).
/// This is what the shard-by-time heatmap draws.
///
/// A column spans one minute until `shards x columns` would pass
/// [`MAX_GRID_CELLS`]; then neighbouring columns are merged (their maximum)
/// and a column spans twice as long, as often as needed. Memory is thus
/// bounded by about `MAX_GRID_CELLS` cells, or one cell per shard when a
/// stream has more shards than that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtilisationGrid {
    column_secs: u64,
    /// By shard index; a row ends at its last column written (the rest is 0).
    rows: Vec<Vec<u16>>,
    cells: usize,
    /// The longest row's length.
    widest: usize,
}

impl Default for UtilisationGrid {
    fn default() -> Self {
        UtilisationGrid {
            column_secs: 60,
            rows: Vec::new(),
            cells: 0,
            widest: 0,
        }
    }
}

impl UtilisationGrid {
    /// Seconds each column spans (60 times a power of two).
    pub fn column_secs(&self) -> u64 {
        self.column_secs
    }

    /// Shards with a row (the highest index written, plus one).
    pub fn shards(&self) -> usize {
        self.rows.len()
    }

    /// The peak offered utilisation of `shard` in column `column`, in basis
    /// points (0 where nothing was offered, or out of range).
    pub fn get(&self, shard: usize, column: usize) -> u16 {
        self.rows
            .get(shard)
            .and_then(|r| r.get(column))
            .copied()
            .unwrap_or(0)
    }

    /// Notes `bp` for `shard` in second `second`: once per shard-second at
    /// most, from the flush of the per-second counters.
    fn record(&mut self, shard: usize, second: u64, bp: u16) {
        let column = (second / self.column_secs) as usize;
        if self.rows.len() <= shard {
            self.rows.resize_with(shard + 1, Vec::new);
        }
        let row = &mut self.rows[shard];
        if row.len() <= column {
            self.cells += column + 1 - row.len();
            row.resize(column + 1, 0);
            self.widest = self.widest.max(column + 1);
        }
        row[column] = row[column].max(bp);
        if self.cells > MAX_GRID_CELLS && self.widest > 1 {
            self.coarsen();
        }
    }

    /// Halves the columns (each the maximum of two) until the grid fits
    /// again, or each row has one column left.
    fn coarsen(&mut self) {
        while self.cells > MAX_GRID_CELLS && self.widest > 1 {
            self.column_secs *= 2;
            self.cells = 0;
            self.widest = self.widest.div_ceil(2);
            for row in &mut self.rows {
                let n = row.len().div_ceil(2);
                for j in 0..n {
                    row[j] = row[2 * j].max(row.get(2 * j + 1).copied().unwrap_or(0));
                }
                row.truncate(n);
                row.shrink_to_fit();
                self.cells += n;
            }
        }
    }
}

/// All metrics of a run.
#[derive(Debug, Clone)]
pub struct Metrics {
    records_limit: f64,
    bytes_limit: f64,
    second: u64,
    shard_second: Vec<ShardCounts>,
    touched: Vec<u32>,
    /// Totals per shard, by shard index.
    pub shard_totals: Vec<ShardTotals>,
    /// Producer counts in the current second.
    pub producer_second: ProducerCounts,
    /// Producer counts over the run.
    pub producer_total: ProducerCounts,
    /// Consumer counts in the current second.
    pub reads: ReadCounts,
    current_minute: IntervalRow,
    /// Rows per minute.
    pub minutes: Vec<IntervalRow>,
    /// Rows per second, if asked for.
    pub seconds: Option<Vec<IntervalRow>>,
    /// Put latency (production to acknowledgement) of accepted records, in µs.
    pub latency_us: Histogram<u64>,
    /// The largest put latency, exactly, in ns (the histogram holds only
    /// its bucket).
    pub latency_max_ns: SimTime,
    /// Seconds flushed so far.
    pub seconds_elapsed: u64,
    /// Billed quantities, indexed by capacity mode at the time
    /// (`[provisioned, on-demand]`): a run that switches modes is billed
    /// each part at its mode's prices.
    pub billing: [ModeBilling; 2],
    open_now: u32,
    open_this_second: u32,
    updating_now: bool,
    updating_this_second: bool,
    shard_level: Option<ShardLevel>,
    /// Peak offered utilisation per shard and minute (or wider columns),
    /// for the heatmap.
    pub utilisation_grid: UtilisationGrid,
    /// Shard-side sums of the current second given by the shard engine:
    /// counts, highest accepted and offered utilisation.
    flow_second: (ShardCounts, f64, f64),
}

/// Quantities billed by use, while the stream is in one capacity mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModeBilling {
    /// PUT payload units of the accepted Kinesis records (provisioned).
    pub payload_units: u64,
    /// Their bytes rounded up to 1 KiB each (on-demand data in).
    pub billed_in_bytes: u64,
    /// Bytes read by polling consumers (on-demand data out).
    pub polling_bytes: u64,
    /// Bytes delivered by enhanced fan-out.
    pub efo_bytes: u64,
    /// Bytes read that were older than 7 days (long-term retrieval,
    /// KDS-REFERENCE.md §6.1); ages are the backlog slices', so the split
    /// is as fine as `backlog_resolution`.
    pub long_term_read_bytes: u64,
}

impl Metrics {
    /// Metrics for `shards` shards with the given per-second limits.
    pub fn new(shards: usize, records_limit: u64, bytes_limit: u64, per_second: bool) -> Metrics {
        Metrics {
            records_limit: records_limit as f64,
            bytes_limit: bytes_limit as f64,
            second: 0,
            shard_second: vec![ShardCounts::default(); shards],
            touched: Vec::with_capacity(shards),
            shard_totals: vec![ShardTotals::default(); shards],
            producer_second: ProducerCounts::default(),
            producer_total: ProducerCounts::default(),
            reads: ReadCounts::default(),
            current_minute: IntervalRow::default(),
            minutes: Vec::new(),
            seconds: per_second.then(Vec::new),
            // 3 significant digits, auto-resizing: a few hundred KiB at most.
            latency_us: Histogram::new(3).expect("3 significant digits is valid"),
            latency_max_ns: 0,
            seconds_elapsed: 0,
            billing: [ModeBilling::default(); 2],
            open_now: 0,
            open_this_second: 0,
            updating_now: false,
            updating_this_second: false,
            shard_level: None,
            utilisation_grid: UtilisationGrid::default(),
            flow_second: (ShardCounts::default(), 0.0, 0.0),
        }
    }

    /// Collects shard-level minutes from now on, keeping at least the
    /// latest `keep` (at least 1): memory follows shards times `keep`,
    /// not the run's length.
    pub fn enable_shard_level(&mut self, keep: usize) {
        let n = self.shard_second.len();
        self.shard_level = Some(ShardLevel {
            keep: keep.max(1),
            writes: vec![ShardCounts::default(); n],
            reads: vec![ReadCounts::default(); n],
            open_now: vec![false; n],
            open_in_minute: vec![false; n],
            rows: Vec::new(),
        });
    }

    /// Notes which shards are open from now on (by index), for the
    /// shard-level minutes; nothing without them.
    pub fn set_open_shard_set(&mut self, open: impl IntoIterator<Item = u32>) {
        if let Some(sl) = &mut self.shard_level {
            sl.open_now.iter_mut().for_each(|o| *o = false);
            for i in open {
                sl.open_now[i as usize] = true;
                sl.open_in_minute[i as usize] = true;
            }
        }
    }

    /// Counts a read of shard `i` for the shard-level minutes: records and
    /// bytes delivered, and for a polling call that returned records, its
    /// iterator age.
    #[inline]
    pub fn shard_read(&mut self, i: usize, records: u64, bytes: u64, age_ms: Option<u64>) {
        if let Some(sl) = &mut self.shard_level {
            let r = &mut sl.reads[i];
            r.records += records;
            r.bytes += bytes;
            if let Some(age) = age_ms {
                r.iterator_age_ms = r.iterator_age_ms.max(age);
            }
        }
    }

    /// Counts a refused GetRecords call on shard `i` for the shard-level minutes.
    #[inline]
    pub fn shard_read_throttled(&mut self, i: usize) {
        if let Some(sl) = &mut self.shard_level {
            sl.reads[i].throttled += 1;
        }
    }

    /// Whether shard-level minutes are kept.
    pub fn keeps_shard_minutes(&self) -> bool {
        self.shard_level.is_some()
    }

    /// The latest shard-level minutes, oldest first (empty unless enabled).
    pub fn shard_minutes(&self) -> &[ShardMinuteRow] {
        self.shard_level.as_ref().map_or(&[], |sl| &sl.rows)
    }

    /// Notes the open shard count from now on.
    pub fn set_open_shards(&mut self, open: u32) {
        self.open_now = open;
        self.open_this_second = self.open_this_second.max(open);
    }

    /// Notes whether the stream is UPDATING from now on.
    pub fn set_updating(&mut self, updating: bool) {
        self.updating_now = updating;
        self.updating_this_second |= updating;
    }

    /// Makes room for a shard created by a reshard.
    pub fn ensure_shards(&mut self, shards: usize) {
        if self.shard_second.len() < shards {
            self.shard_second.resize(shards, ShardCounts::default());
            self.shard_totals.resize(shards, ShardTotals::default());
        }
        if let Some(sl) = &mut self.shard_level
            && sl.writes.len() < shards
        {
            sl.writes.resize(shards, ShardCounts::default());
            sl.reads.resize(shards, ReadCounts::default());
            sl.open_now.resize(shards, false);
            sl.open_in_minute.resize(shards, false);
        }
    }

    /// Closes every whole second before `now`. Called before each event; one
    /// comparison when the second has not changed.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let s = now / NANOS_PER_SEC;
        while self.second < s {
            self.flush_second();
        }
    }

    /// Counts one record attempt of `bytes` at shard `i`, and its outcome.
    #[inline]
    pub fn attempt(&mut self, i: usize, bytes: u64, outcome: Result<(), Throttle>) {
        let c = &mut self.shard_second[i];
        if c.offered_records == 0 {
            self.touched.push(i as u32);
        }
        c.offered_records += 1;
        c.offered_bytes += bytes;
        match outcome {
            Ok(()) => {
                c.accepted_records += 1;
                c.accepted_bytes += bytes;
            }
            Err(t) => {
                c.throttled_records += 1;
                c.throttled_by_records += u64::from(t.by_records);
                c.throttled_by_bytes += u64::from(t.by_bytes);
            }
        }
    }

    /// Adds the shard-side sums of the current second from an engine that
    /// keeps its shards' per-second counts itself (the shard engine): the
    /// counts summed over shards, and the highest accepted and offered
    /// utilisation of any shard.
    pub fn add_shard_second(&mut self, counts: &ShardCounts, max_util: f64, max_offered: f64) {
        let f = &mut self.flow_second;
        f.0.add(counts);
        f.1 = f.1.max(max_util);
        f.2 = f.2.max(max_offered);
    }

    /// Notes shard `i`'s minute starting at second `start`, in which it was
    /// offered records, from an engine that keeps its own per-shard counts:
    /// its peak per-second offered utilisation in basis points (for the
    /// heatmap) and its counts (for the shard-level minutes, if they are
    /// kept). Called before that minute is closed.
    pub fn add_shard_minute(&mut self, i: usize, start: u64, peak_bp: u16, writes: &ShardCounts) {
        self.utilisation_grid.record(i, start, peak_bp);
        if let Some(sl) = &mut self.shard_level
            && let Some(w) = sl.writes.get_mut(i)
        {
            w.add(writes);
        }
    }

    /// Records one accepted record's put latency.
    #[inline]
    pub fn latency(&mut self, nanos: SimTime) {
        // Saturate rather than fail: the histogram resizes, this never errs in range.
        let _ = self.latency_us.record(nanos / 1_000);
        self.latency_max_ns = self.latency_max_ns.max(nanos);
    }

    fn flush_second(&mut self) {
        let mut row = IntervalRow {
            start_secs: self.second,
            producers: self.producer_second,
            open_shards: self.open_this_second,
            reads: std::mem::take(&mut self.reads),
            updating_secs: u64::from(self.updating_this_second),
            ..IntervalRow::default()
        };
        self.open_this_second = self.open_now;
        self.updating_this_second = self.updating_now;
        // Shards touched in this second, in index order (for byte-stable sums).
        self.touched.sort_unstable();
        for &i in &self.touched {
            let c = std::mem::take(&mut self.shard_second[i as usize]);
            let util = (c.accepted_records as f64 / self.records_limit)
                .max(c.accepted_bytes as f64 / self.bytes_limit);
            let offered = (c.offered_records as f64 / self.records_limit)
                .max(c.offered_bytes as f64 / self.bytes_limit);
            let t = &mut self.shard_totals[i as usize];
            t.counts.add(&c);
            t.utilisation_sum += util;
            t.peak_utilisation = t.peak_utilisation.max(util);
            t.peak_offered_utilisation = t.peak_offered_utilisation.max(offered);
            if let Some(sl) = &mut self.shard_level {
                sl.writes[i as usize].add(&c);
            }
            // Saturating: the `as` cast clamps, and NaN cannot occur (limits > 0).
            let bp = (offered * 10_000.0).round() as u16;
            self.utilisation_grid.record(i as usize, self.second, bp);
            row.shards.add(&c);
            row.max_shard_utilisation = row.max_shard_utilisation.max(util);
            row.max_offered_utilisation = row.max_offered_utilisation.max(offered);
        }
        self.touched.clear();
        let (counts, util, offered) = std::mem::take(&mut self.flow_second);
        row.shards.add(&counts);
        row.max_shard_utilisation = row.max_shard_utilisation.max(util);
        row.max_offered_utilisation = row.max_offered_utilisation.max(offered);
        row.peak_second.note(&row.shards);
        self.producer_total.add(&self.producer_second);
        self.producer_second = ProducerCounts::default();

        let m = &mut self.current_minute;
        m.shards.add(&row.shards);
        m.producers.add(&row.producers);
        m.max_shard_utilisation = m.max_shard_utilisation.max(row.max_shard_utilisation);
        m.max_offered_utilisation = m.max_offered_utilisation.max(row.max_offered_utilisation);
        m.open_shards = m.open_shards.max(row.open_shards);
        m.reads.add(&row.reads);
        m.updating_secs += row.updating_secs;
        m.peak_second.note(&row.shards);
        if let Some(seconds) = &mut self.seconds {
            seconds.push(row);
        }
        self.second += 1;
        self.seconds_elapsed += 1;
        if self.second.is_multiple_of(60) {
            self.close_minute();
        }
    }

    fn close_minute(&mut self) {
        let start = (self.second - 1) / 60 * 60;
        let mut m = std::mem::take(&mut self.current_minute);
        m.start_secs = start;
        self.minutes.push(m);
        if let Some(sl) = &mut self.shard_level {
            let mut row = ShardMinuteRow {
                start_secs: start,
                shards: Vec::new(),
            };
            for i in 0..sl.writes.len() {
                let writes = std::mem::take(&mut sl.writes[i]);
                let reads = std::mem::take(&mut sl.reads[i]);
                if sl.open_in_minute[i]
                    || writes != ShardCounts::default()
                    || reads != ReadCounts::default()
                {
                    row.shards.push(ShardMinute {
                        shard: i as u32,
                        writes,
                        reads,
                    });
                }
            }
            sl.open_in_minute.copy_from_slice(&sl.open_now);
            sl.rows.push(row);
            // Dropped in batches, so that each minute costs O(shards).
            if sl.rows.len() >= 2 * sl.keep {
                sl.rows.drain(..sl.rows.len() - sl.keep);
            }
        }
    }

    /// Flushes up to the end of the run at `horizon`: the last partial second
    /// and minute are closed too.
    pub fn finish(&mut self, horizon: SimTime) {
        let last = horizon.div_ceil(NANOS_PER_SEC);
        while self.second < last {
            self.flush_second();
        }
        if !self.second.is_multiple_of(60) {
            self.close_minute();
        }
    }
}

#[cfg(test)]
mod tests {
    /// Issue 15, item 5: a quantile is printed with the digits its bucket
    /// holds (an exact microsecond below 2.048 ms; 20 ms's bucket is 16 µs
    /// wide, so "20.0"; a day's is 33.5 s wide, so whole 100 s), not the
    /// bucket's upper edge with 4 decimals.
    #[test]
    fn r15_quantiles_keep_only_the_digits_held() {
        let held = |us: u64| {
            let mut h = Histogram::<u64>::new(3).unwrap();
            h.record(us).unwrap();
            HeldMs::quantile(&h, 0.99).to_string()
        };
        assert_eq!(held(451), "0.451");
        assert_eq!(held(1_234), "1.234");
        assert_eq!(held(20_000), "20.0");
        assert_eq!(held(123_456), "123.5");
        assert_eq!(held(86_436_000_000), "86400000");
        assert_eq!(
            HeldMs::quantile(&Histogram::<u64>::new(3).unwrap(), 0.5).to_string(),
            "0.000"
        );
    }

    use super::*;

    #[test]
    fn grid_keeps_the_peak_and_saturates() {
        let mut g = UtilisationGrid::default();
        g.record(2, 0, 100);
        g.record(2, 59, 7_000);
        g.record(2, 60, 5);
        g.record(0, 61, u16::MAX);
        assert_eq!(g.shards(), 3);
        assert_eq!(g.get(2, 0), 7_000);
        assert_eq!(g.get(2, 1), 5);
        assert_eq!(g.get(0, 1), u16::MAX);
        assert_eq!(g.get(1, 0), 0);
        assert_eq!(g.get(9, 9), 0);
        // 8 shards x 1 s at 3x the limit: the cast saturates, it never wraps.
        let mut m = Metrics::new(1, 1000, 1 << 20, false);
        for _ in 0..3000 {
            m.attempt(0, 10, Ok(()));
        }
        m.finish(NANOS_PER_SEC);
        assert_eq!(m.utilisation_grid.get(0, 0), 30_000);
        let mut m = Metrics::new(1, 1, 1 << 20, false);
        for _ in 0..100 {
            m.attempt(0, 10, Ok(()));
        }
        m.finish(NANOS_PER_SEC);
        assert_eq!(m.utilisation_grid.get(0, 0), u16::MAX);
    }

    #[test]
    fn grid_merges_columns_to_stay_bounded() {
        let mut g = UtilisationGrid::default();
        let shards = 1000;
        // 3 days at one column per minute would be 4.3 million cells.
        for minute in 0..3 * 1440u64 {
            for s in 0..shards {
                g.record(s, minute * 60, (minute % 7) as u16 + s as u16);
            }
            assert!(g.cells <= MAX_GRID_CELLS, "{} cells", g.cells);
        }
        assert_eq!(g.column_secs(), 240);
        assert_eq!(g.rows[0].len(), 3 * 1440 / 4);
        // A merged column holds the largest of its minutes.
        assert_eq!(g.get(5, 0), 3 + 5);
        // More shards than cells: one column each, never a loop.
        let mut g = UtilisationGrid::default();
        for s in 0..MAX_GRID_CELLS + 10 {
            g.record(s, 3600, 1);
        }
        assert_eq!(g.rows[7].len(), 1);
    }
}
