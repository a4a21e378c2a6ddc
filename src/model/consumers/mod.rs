//! Consumer applications: KCL-like leases over the shards' backlogs, polling
//! with shared per-shard read limits or enhanced fan-out, processing time,
//! parent-before-child, shard discovery, and retention expiry.
//!
//! This module holds the state (leases, counts, shared read limits);
//! [`readers`] drives it through time.

mod readers;

pub(crate) use readers::{ReadEvent, Readers};

use hdrhistogram::Histogram;
use rand::RngExt;

use super::backlog::{Backlog, Cursor};
use crate::kds::Quota;
use crate::sim::SimTime;
use crate::sim::rng::SimRng;
use crate::units::NANOS_PER_SEC;

/// KCL's periodic shard sync: new shards are found at most this late
/// (`shardSyncIntervalMillis` 60,000, KDS-REFERENCE.md §2.14).
const SHARD_SYNC: SimTime = 60 * NANOS_PER_SEC;
/// KCL re-checks whether a child's parents are done this often
/// (`parentShardPollIntervalMillis` 10,000, §2.14).
const PARENT_POLL: SimTime = 10 * NANOS_PER_SEC;
/// Data older than this is read from long-term retention (§6.1).
const LONG_TERM_AGE: SimTime = crate::kds::prices::LONG_TERM_AFTER_HOURS * 3600 * NANOS_PER_SEC;

/// Enhanced fan-out's typical propagation delay, 70 ms (§4b.7).
const EFO_DELAY: SimTime = 70_000_000;
/// How often retention expiry is applied.
const EXPIRY_TICK: SimTime = NANOS_PER_SEC;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeaseState {
    /// Known to the service, not yet found by the application's shard sync,
    /// or waiting for its parents to be read to their end.
    Waiting,
    Reading,
    /// Read to the end of a closed shard (SHARD_END).
    Finished,
}

#[derive(Debug, Clone)]
struct Lease {
    state: LeaseState,
    cursor: Cursor,
    /// Records of the shard before the lease's start position: not for
    /// this application.
    base: u64,
    /// The worker holding the lease, `NO_WORKER` while none has room.
    worker: u32,
    /// The last checkpointed position, and when it was taken.
    checkpoint: Cursor,
    checkpointed: SimTime,
    /// The application was paused: resume from the checkpoint.
    restart: bool,
    /// When the lease last polled (a pause starting after it means a restart).
    last_poll: SimTime,
    /// After a restart, where the lease had read to: records before it are
    /// read again (duplicates), not for the first time.
    replay_until: Cursor,
    /// When the application's shard sync finds the shard.
    discovered: SimTime,
    /// Counts of this lease.
    counts: ConsumerCounts,
    /// Largest MillisBehindLatest seen on this lease, in ms.
    max_behind_ms: u64,
    /// Enhanced fan-out: the consumer's own 2 MiB/s byte bucket.
    /// May go below zero: a push delivers whole records, and the next waits
    /// until the overdraft is paid back.
    efo_bytes: i64,
    efo_last: SimTime,
    /// When the lease first returned records, and when it reached SHARD_END.
    first_read: Option<SimTime>,
    finished: Option<SimTime>,
}

/// Counts of one application (or one of its workers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerCounts {
    /// Records processed.
    pub processed: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Records that expired before the application read them.
    pub lost: u64,
    /// GetRecords calls (or pushes) that returned or could return records.
    pub calls: u64,
    /// Calls refused for the shard's shared read limits.
    pub throttled: u64,
    /// Records processed again after a restart from a checkpoint (included
    /// in `processed`).
    pub duplicates: u64,
}

impl ConsumerCounts {
    fn add_read(&mut self, records: u64, bytes: u64) {
        self.calls += 1;
        self.processed += records;
        self.bytes += bytes;
    }
}

const NO_WORKER: u32 = u32::MAX;

/// One lease's results, for the per-shard report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseReport {
    /// The shard.
    pub shard: usize,
    /// The worker holding it (`None` if no worker ever had room).
    pub worker: Option<u32>,
    /// Its counts.
    pub counts: ConsumerCounts,
    /// Largest MillisBehindLatest, in ms.
    pub max_behind_ms: u64,
    /// When it reached SHARD_END.
    pub finished: Option<SimTime>,
}

/// One application's state and results.
#[derive(Debug)]
pub struct ConsumerState {
    leases: Vec<Option<Lease>>,
    /// Leases held per worker.
    pub worker_leases: Vec<u32>,
    /// Counts per worker.
    pub workers: Vec<ConsumerCounts>,
    /// Counts of the application.
    pub total: ConsumerCounts,
    /// End-to-end latency (record accepted to processed), in µs.
    pub latency_us: Histogram<u64>,
    /// The largest end-to-end latency, in ns: the oldest record of a read,
    /// from its arrival to the end of its processing.
    pub latency_max_ns: SimTime,
    /// Per minute: the largest MillisBehindLatest seen, in ms.
    pub behind_ms_per_minute: Vec<u64>,
    started: bool,
    /// Leases waiting for a worker with room, oldest first.
    unassigned: Vec<usize>,
    /// Little's law on the backlog: the sum over expiry ticks of the records
    /// not yet read, the ticks, and the sum over records read of their wait
    /// from arrival to being read.
    pub unread_sum: u128,
    /// Ticks summed in `unread_sum`.
    pub ticks: u64,
    /// Sum of (read time - arrival) over records read, in ns.
    pub wait_sum_ns: u128,
    /// Draws each lease's poll phase: applications and leases do not poll in
    /// lockstep, as real workers started at different moments do not.
    phases: SimRng,
}

impl ConsumerState {
    /// Records not yet read by the application at the end.
    pub fn unread(&self, backlogs: &[Backlog]) -> u64 {
        self.leases
            .iter()
            .zip(backlogs)
            .filter_map(|(l, b)| l.as_ref().map(|l| b.unread(l.cursor)))
            .sum()
    }

    /// The wait before a lease's next call: the poll interval, give or take
    /// 5 % (real calls drift with network and scheduling noise; without it,
    /// applications polling in lockstep would always meet in the same order).
    fn next_gap(&mut self, interval: SimTime) -> SimTime {
        let spread = interval / 20;
        interval - spread + self.phases.random_range(0..=2 * spread)
    }

    /// Every lease's results, by shard.
    pub fn leases(&self) -> Vec<LeaseReport> {
        self.leases
            .iter()
            .enumerate()
            .filter_map(|(shard, l)| {
                l.as_ref().map(|l| LeaseReport {
                    shard,
                    worker: (l.worker != NO_WORKER).then_some(l.worker),
                    counts: l.counts,
                    max_behind_ms: l.max_behind_ms,
                    finished: l.finished,
                })
            })
            .collect()
    }

    /// Records not yet read, from the counts (equal to [`Self::unread`]
    /// when records are conserved; cheap enough to sample every second).
    pub(super) fn unread_counted(&self, backlogs: &[Backlog]) -> u64 {
        self.leases
            .iter()
            .zip(backlogs)
            .filter_map(|(l, b)| {
                l.as_ref().map(|l| {
                    let unique = l.counts.processed - l.counts.duplicates;
                    (b.appended() - l.base).saturating_sub(unique + l.counts.lost)
                })
            })
            .sum()
    }

    /// The lease on `shard`, which the caller knows exists (polls are only
    /// scheduled for leases that do).
    fn lease(&mut self, shard: usize) -> &mut Lease {
        self.leases[shard]
            .as_mut()
            .expect("a poll is scheduled only for an existing lease")
    }

    /// For the lease on `shard`: when it first returned records and when it
    /// read to the end of its closed shard.
    pub fn lease_times(&self, shard: usize) -> Option<(Option<SimTime>, Option<SimTime>)> {
        self.leases
            .get(shard)
            .and_then(Option::as_ref)
            .map(|l| (l.first_read, l.finished))
    }

    /// Records the application could read: accepted after its start
    /// position on each shard it holds a lease on.
    pub fn available(&self, backlogs: &[Backlog]) -> u64 {
        self.leases
            .iter()
            .zip(backlogs)
            .filter_map(|(l, b)| l.as_ref().map(|l| b.appended() - l.base))
            .sum()
    }
}

fn efo_cap() -> u64 {
    Quota::EfoBytesPerConsumerPerShardPerSec.value()
}
