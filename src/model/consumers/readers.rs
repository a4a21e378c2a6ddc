//! The readers in time: applications start, take leases, poll (or are
//! pushed to), checkpoint and pause; shards appear from resharding; records
//! expire past retention.

use hdrhistogram::Histogram;
use rand::RngExt;

use super::{
    Backlog, ConsumerCounts, ConsumerState, Cursor, EFO_DELAY, EXPIRY_TICK, LONG_TERM_AGE, Lease,
    LeaseState, NO_WORKER, PARENT_POLL, SHARD_SYNC, efo_cap,
};
use crate::kds::{Quota, ReadLimiter, ShardMap};
use crate::metrics::Metrics;
use crate::scenario::{ConsumerApp, ConsumerKind, Scenario, StartPosition};
use crate::sim::rng::{Purpose, stream};
use crate::sim::{Schedule, SimTime};
use crate::units::NANOS_PER_SEC;

/// A wake-up the readers asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadEvent {
    /// Application `app` starts.
    AppStart {
        /// Its index in the scenario.
        app: u32,
    },
    /// Application `app` calls GetRecords on (or is pushed records of) `shard`.
    Poll {
        /// Its index in the scenario.
        app: u32,
        /// The shard's index.
        shard: u32,
    },
    /// Retention expiry, once a second.
    Expire,
}

/// The read side of a run: the shards' backlogs, their shared read limits
/// and the consumer applications reading them. It knows the stream only
/// through the shard map it is shown, and asks for its wake-ups through a
/// [`Schedule`].
#[derive(Debug)]
pub(crate) struct Readers<'s> {
    scenario: &'s Scenario,
    /// The shards' backlogs (empty without consumers).
    pub(crate) backlogs: Vec<Backlog>,
    read_limits: Vec<ReadLimiter>,
    /// Per application: its state and counts.
    pub(crate) consumers: Vec<ConsumerState>,
    /// Reused by reads: `(records, arrival)` pieces for latency statistics.
    read_buffer: Vec<(u64, SimTime)>,
}

impl<'s> Readers<'s> {
    /// No readers yet: [`Readers::start`] gives the scenario's applications
    /// their state.
    pub(crate) fn new(scenario: &'s Scenario) -> Readers<'s> {
        Readers {
            scenario,
            backlogs: Vec::new(),
            read_limits: Vec::new(),
            consumers: Vec::new(),
            read_buffer: Vec::new(),
        }
    }

    /// Stores an accepted record of `bytes` on shard `shard`, if anyone reads.
    #[inline]
    pub(crate) fn append(&mut self, shard: usize, now: SimTime, bytes: u64) {
        if let Some(b) = self.backlogs.get_mut(shard) {
            b.append(now, bytes);
        }
    }

    /// Stores `records` accepted records of `bytes` in all on shard `shard`,
    /// spread over `[from, to)`, if anyone reads.
    pub(crate) fn append_spread(
        &mut self,
        shard: usize,
        from: SimTime,
        to: SimTime,
        records: u64,
        bytes: u64,
    ) {
        if let Some(b) = self.backlogs.get_mut(shard) {
            b.append_spread(from, to, records, bytes);
        }
    }

    /// Handles a wake-up at `now`.
    pub(crate) fn handle(
        &mut self,
        event: ReadEvent,
        now: SimTime,
        map: &ShardMap,
        on_demand: bool,
        metrics: &mut Metrics,
        sched: &mut impl Schedule<ReadEvent>,
    ) {
        match event {
            ReadEvent::AppStart { app } => self.app_start(app as usize, now, map, sched),
            ReadEvent::Poll { app, shard } => self.poll(
                app as usize,
                shard as usize,
                now,
                map,
                on_demand,
                metrics,
                sched,
            ),
            ReadEvent::Expire => self.expire(now, metrics, sched),
        }
    }

    /// Gives every shard a backlog and every application its state, and asks
    /// for their starts and the expiry ticks.
    pub(crate) fn start(&mut self, map: &ShardMap, sched: &mut impl Schedule<ReadEvent>) {
        let shards = map.shards().len();
        self.backlogs = (0..shards)
            .map(|_| Backlog::new(self.scenario.stream.backlog_resolution))
            .collect();
        self.read_limits = vec![ReadLimiter::new(); shards];
        for (a, app) in self.scenario.consumers.iter().enumerate() {
            self.consumers.push(ConsumerState {
                leases: Vec::new(),
                worker_leases: vec![0; app.workers as usize],
                workers: vec![ConsumerCounts::default(); app.workers as usize],
                total: ConsumerCounts::default(),
                latency_us: Histogram::new(3).expect("3 significant digits is valid"),
                latency_max_ns: 0,
                behind_ms_per_minute: Vec::new(),
                started: false,
                unassigned: Vec::new(),
                unread_sum: 0,
                ticks: 0,
                wait_sum_ns: 0,
                phases: stream(self.scenario.seed, Purpose::Consumers, a as u64),
            });
            sched.at(app.starts_at, ReadEvent::AppStart { app: a as u32 });
        }
        if !self.scenario.consumers.is_empty() {
            sched.at(EXPIRY_TICK, ReadEvent::Expire);
        }
    }

    /// Application `a` starts: a lease on every shard with records it may
    /// read (LATEST: the open shards, from their tip; TRIM_HORIZON: every
    /// shard still holding records, from the oldest).
    fn app_start(
        &mut self,
        a: usize,
        now: SimTime,
        map: &ShardMap,
        sched: &mut impl Schedule<ReadEvent>,
    ) {
        self.consumers[a].started = true;
        let latest = self.scenario.consumers[a].start_position == StartPosition::Latest;
        for s in 0..self.backlogs.len() {
            if latest && !map.shards()[s].is_open() {
                continue;
            }
            self.add_lease(a, s, now, true, sched);
        }
    }

    /// Gives application `a` a lease on shard `s` at `now`: at its start
    /// (`initial`), found at once; otherwise (a new shard) at the
    /// application's next shard sync, read from the shard's first record.
    fn add_lease(
        &mut self,
        a: usize,
        s: usize,
        now: SimTime,
        initial: bool,
        sched: &mut impl Schedule<ReadEvent>,
    ) {
        let app = &self.scenario.consumers[a];
        let c = &mut self.consumers[a];
        if c.leases.len() <= s {
            c.leases.resize(s + 1, None);
        }
        // KCL's default spread: the worker with the fewest leases, lowest
        // first, if it has room.
        let worker = (0..app.workers as usize)
            .min_by_key(|&w| (c.worker_leases[w], w))
            .filter(|&w| {
                app.max_leases_per_worker
                    .is_none_or(|m| c.worker_leases[w] < m)
            });
        if let Some(w) = worker {
            c.worker_leases[w] += 1;
        } else {
            c.unassigned.push(s);
        }
        let backlog = &self.backlogs[s];
        let cursor = if initial && app.start_position == StartPosition::Latest {
            backlog.tip()
        } else {
            backlog.trim_horizon()
        };
        let base = backlog.appended() - backlog.unread(cursor);
        let discovered = if initial {
            now
        } else {
            let since = now - app.starts_at;
            app.starts_at + since.div_ceil(SHARD_SYNC) * SHARD_SYNC
        };
        c.leases[s] = Some(Lease {
            state: LeaseState::Waiting,
            cursor,
            base,
            worker: worker.map_or(NO_WORKER, |w| w as u32),
            checkpoint: cursor,
            checkpointed: now,
            restart: false,
            last_poll: now,
            replay_until: cursor,
            discovered,
            counts: ConsumerCounts::default(),
            max_behind_ms: 0,
            efo_bytes: efo_cap() as i64,
            efo_last: now,
            first_read: None,
            finished: None,
        });
        if worker.is_none() {
            return;
        }
        let phase = c.phases.random_range(0..app.poll_interval);
        sched.at(
            discovered + phase,
            ReadEvent::Poll {
                app: a as u32,
                shard: s as u32,
            },
        );
    }

    /// New shards from a reshard: backlogs, read limits and leases.
    pub(crate) fn grow(
        &mut self,
        now: SimTime,
        map: &ShardMap,
        sched: &mut impl Schedule<ReadEvent>,
    ) {
        if self.scenario.consumers.is_empty() {
            return;
        }
        let n = map.shards().len();
        while self.backlogs.len() < n {
            let s = self.backlogs.len();
            self.backlogs
                .push(Backlog::new(self.scenario.stream.backlog_resolution));
            self.read_limits.push(ReadLimiter::new());
            for a in 0..self.scenario.consumers.len() {
                if self.consumers[a].started {
                    self.add_lease(a, s, now, false, sched);
                }
            }
        }
    }

    fn paused_until(app: &ConsumerApp, now: SimTime) -> Option<SimTime> {
        app.pauses
            .iter()
            .find(|&&(from, until)| now >= from && now < until)
            .map(|&(_, until)| until)
    }

    /// One GetRecords call (or push) of application `a` on shard `s`.
    #[allow(clippy::too_many_arguments)]
    fn poll(
        &mut self,
        a: usize,
        s: usize,
        now: SimTime,
        map: &ShardMap,
        on_demand: bool,
        metrics: &mut Metrics,
        sched: &mut impl Schedule<ReadEvent>,
    ) {
        let app = &self.scenario.consumers[a];
        let next = ReadEvent::Poll {
            app: a as u32,
            shard: s as u32,
        };
        if let Some(until) = Self::paused_until(app, now) {
            if let Some(l) = self.consumers[a].leases[s].as_mut() {
                l.restart = true;
            }
            sched.at(until, next);
            return;
        }
        let Some(lease) = self.consumers[a].leases[s].as_mut() else {
            return;
        };
        // A pause that began since the last poll stopped the worker, even if
        // no poll fell inside it.
        let last = std::mem::replace(&mut lease.last_poll, now);
        if app
            .pauses
            .iter()
            .any(|&(from, _)| from > last && from <= now)
        {
            lease.restart = true;
        }
        if std::mem::take(&mut lease.restart) {
            // Back from a stop: the worker resumes from the checkpoint, and
            // reads again what it had read since.
            let backlog = &self.backlogs[s];
            let again = backlog
                .unread(lease.checkpoint)
                .saturating_sub(backlog.unread(lease.cursor));
            lease.replay_until = lease.replay_until.max(lease.cursor);
            lease.cursor = lease.checkpoint;
            lease.counts.duplicates += again;
            let w = lease.worker as usize;
            let c = &mut self.consumers[a];
            c.total.duplicates += again;
            c.workers[w].duplicates += again;
        }
        let Some(lease) = self.consumers[a].leases[s].as_ref() else {
            return;
        };
        match lease.state {
            LeaseState::Finished => return,
            LeaseState::Waiting => {
                // A child is read only once its parents are read to their end.
                let shard = &map.shards()[s];
                let parents_done = shard
                    .parent()
                    .into_iter()
                    .chain(shard.adjacent_parent())
                    .all(|p| {
                        self.consumers[a].leases[p.index() as usize]
                            .as_ref()
                            .is_none_or(|l| l.finished.is_some_and(|f| f <= now))
                    });
                if !parents_done {
                    sched.at(now + PARENT_POLL, next);
                    return;
                }
                self.consumers[a].lease(s).state = LeaseState::Reading;
            }
            LeaseState::Reading => {}
        }
        let max_bytes = match app.kind {
            ConsumerKind::Polling => {
                if !self.read_limits[s].call(now) {
                    let c = &mut self.consumers[a];
                    let lease = c.lease(s);
                    lease.counts.throttled += 1;
                    let worker = lease.worker as usize;
                    c.total.throttled += 1;
                    c.workers[worker].throttled += 1;
                    metrics.reads.throttled += 1;
                    metrics.shard_read_throttled(s);
                    let gap = self.consumers[a].next_gap(app.poll_interval);
                    sched.at(now + gap, next);
                    return;
                }
                Quota::GetRecordsMaxBytes.value()
            }
            ConsumerKind::EnhancedFanOut => {
                let lease = self.consumers[a].lease(s);
                let rate = Quota::EfoBytesPerConsumerPerShardPerSec.value();
                let dt = now.saturating_sub(lease.efo_last);
                lease.efo_last = now;
                let added = (u128::from(dt) * u128::from(rate) / u128::from(NANOS_PER_SEC)) as i64;
                lease.efo_bytes = lease.efo_bytes.saturating_add(added).min(efo_cap() as i64);
                lease.efo_bytes.max(0) as u64
            }
        };
        let cutoff = now.saturating_sub(self.retention_at(now));
        let lease = self.consumers[a].lease(s);
        let backlog = &mut self.backlogs[s];
        let mut cursor = lease.cursor;
        // How far behind the application is when it calls: the age of its
        // oldest unread record (0 at the tip). Records past the retention
        // period are gone in the service even before the next expiry tick
        // drops them, so it is at most the retention period.
        let behind = backlog
            .oldest_unread_since(cursor, cutoff)
            .map_or(0, |t| now.saturating_sub(t));
        // The oldest record this read returns, for the largest latency.
        let oldest = backlog.oldest_unread(cursor);
        let mut pieces = std::mem::take(&mut self.read_buffer);
        pieces.clear();
        let read = if max_bytes == 0 {
            Default::default()
        } else {
            backlog.read(
                &mut cursor,
                u64::from(app.max_records),
                max_bytes,
                |n, t| pieces.push((n, t)),
            )
        };
        lease.cursor = cursor;
        let worker = lease.worker as usize;
        if app.kind == ConsumerKind::Polling {
            self.read_limits[s].charge(now, read.bytes, read.byte_capped);
        } else {
            lease.efo_bytes -= read.bytes as i64;
        }
        let delivered = if app.kind == ConsumerKind::EnhancedFanOut {
            now + EFO_DELAY
        } else {
            now
        };
        let done = if read.records > 0 {
            delivered + app.per_batch + app.per_record.saturating_mul(read.records)
        } else {
            now
        };
        let closed = !map.shards()[s].is_open();
        let at_end = closed && backlog.unread(cursor) == 0;
        let c = &mut self.consumers[a];
        if read.records > 0
            && let Some(t) = oldest
        {
            c.latency_max_ns = c.latency_max_ns.max(done.saturating_sub(t));
        }
        for &(n, t) in &pieces {
            let _ = c.latency_us.record_n(done.saturating_sub(t) / 1_000, n);
            c.wait_sum_ns += u128::from(n) * u128::from(now.saturating_sub(t));
        }
        let long_term: u64 = pieces
            .iter()
            .filter(|&&(_, t)| now.saturating_sub(t) > LONG_TERM_AGE)
            .map(|&(n, _)| n)
            .sum();
        let billing = &mut metrics.billing[usize::from(on_demand)];
        billing.long_term_read_bytes += read.bytes * long_term / read.records.max(1);
        match app.kind {
            ConsumerKind::Polling => billing.polling_bytes += read.bytes,
            ConsumerKind::EnhancedFanOut => billing.efo_bytes += read.bytes,
        }
        self.read_buffer = pieces;
        c.total.add_read(read.records, read.bytes);
        c.workers[worker].add_read(read.records, read.bytes);
        let minute = (now / (60 * NANOS_PER_SEC)) as usize;
        if c.behind_ms_per_minute.len() <= minute {
            c.behind_ms_per_minute.resize(minute + 1, 0);
        }
        let behind_ms = behind / 1_000_000;
        c.behind_ms_per_minute[minute] = c.behind_ms_per_minute[minute].max(behind_ms);
        metrics.reads.records += read.records;
        metrics.reads.bytes += read.bytes;
        if app.kind == ConsumerKind::Polling && read.records > 0 {
            // "the difference between the current time and when the last
            // record of the GetRecords call was written" (KDS-REFERENCE.md §8.6).
            let age_ms = now.saturating_sub(read.last_arrival) / 1_000_000;
            metrics.reads.iterator_age_ms = metrics.reads.iterator_age_ms.max(age_ms);
            metrics.shard_read(s, read.records, read.bytes, Some(age_ms));
        } else {
            metrics.shard_read(s, read.records, read.bytes, None);
        }
        let lease = c.lease(s);
        lease.counts.add_read(read.records, read.bytes);
        lease.max_behind_ms = lease.max_behind_ms.max(behind_ms);
        if read.records > 0 && lease.first_read.is_none() {
            lease.first_read = Some(now);
        }
        // Checkpoint after processing: every batch, or once the interval has passed.
        if read.records > 0
            && app
                .checkpoint_interval
                .is_none_or(|i| done - lease.checkpointed >= i)
        {
            lease.checkpoint = cursor;
            lease.checkpointed = done;
        }
        if at_end {
            // SHARD_END is checkpointed once the last batch is processed; the
            // worker then has room for a waiting lease.
            lease.state = LeaseState::Finished;
            lease.finished = Some(done);
            lease.checkpoint = cursor;
            c.worker_leases[worker] -= 1;
            if !c.unassigned.is_empty() {
                let waiting = c.unassigned.remove(0);
                c.worker_leases[worker] += 1;
                let lease = c.lease(waiting);
                lease.worker = worker as u32;
                // Not before the application has found the shard.
                sched.at(
                    done.max(lease.discovered),
                    ReadEvent::Poll {
                        app: a as u32,
                        shard: waiting as u32,
                    },
                );
            }
            return;
        }
        let gap = c.next_gap(app.poll_interval);
        sched.at((now + gap).max(done), next);
    }

    /// The retention period in force at `now`.
    fn retention_at(&self, now: SimTime) -> SimTime {
        let stream = &self.scenario.stream;
        stream
            .retention_changes
            .iter()
            .rev()
            .find(|c| c.0 <= now)
            .map_or(stream.retention, |c| c.1)
    }

    /// Applies retention: drops expired buckets and counts, per application,
    /// the records that expired unread.
    fn expire(
        &mut self,
        now: SimTime,
        metrics: &mut Metrics,
        sched: &mut impl Schedule<ReadEvent>,
    ) {
        let cutoff = now.saturating_sub(self.retention_at(now));
        for s in 0..self.backlogs.len() {
            let min_cursor = self
                .consumers
                .iter()
                .map(|c| {
                    // A lease may still go back to its checkpoint: keep from there.
                    c.leases
                        .get(s)
                        .and_then(Option::as_ref)
                        .map(|l| l.cursor.min(l.checkpoint))
                })
                .try_fold(None::<Cursor>, |m, c| {
                    c.map(|c| Some(m.map_or(c, |m| m.min(c))))
                })
                .flatten();
            let consumers = &mut self.consumers;
            let mut lost_total = 0;
            self.backlogs[s].trim(cutoff, min_cursor, |index, records| {
                for c in consumers.iter_mut() {
                    if let Some(l) = c.leases.get_mut(s).and_then(Option::as_mut) {
                        // Records before the replay point were processed once
                        // already: expiring now, they are duplicates that will
                        // not happen, not losses.
                        let unread = Backlog::unread_in(l.cursor, index, records);
                        let lost = Backlog::unread_in(l.cursor.max(l.replay_until), index, records);
                        let not_replayed = unread - lost;
                        l.counts.lost += lost;
                        l.counts.duplicates -= not_replayed;
                        c.total.lost += lost;
                        c.total.duplicates -= not_replayed;
                        if let Some(w) = c.workers.get_mut(l.worker as usize) {
                            w.lost += lost;
                            w.duplicates -= not_replayed;
                        }
                        lost_total += lost;
                    }
                }
            });
            metrics.reads.lost += lost_total;
        }
        for c in &mut self.consumers {
            if c.started {
                c.unread_sum += u128::from(c.unread_counted(&self.backlogs));
                c.ticks += 1;
            }
        }
        if now + EXPIRY_TICK < self.scenario.duration {
            sched.at(now + EXPIRY_TICK, ReadEvent::Expire);
        }
    }
}
