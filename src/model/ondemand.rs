//! On-demand capacity mode: the stream-level limit that follows the 30-day
//! peak, and the service's own shard splits (KDS-REFERENCE.md §5.3).

use std::collections::VecDeque;

use super::{Engine, Event, Limiter, ReshardLog};
use crate::kds::{EpochNanos, ReshardOp, ShardId};
use crate::scenario::{ReshardAction, WriteLimit};
use crate::sim::{EventQueue, SimTime};
use crate::units::NANOS_PER_SEC;

const MINUTE: SimTime = 60 * NANOS_PER_SEC;
const WINDOW_MINUTES: u64 = 30 * 24 * 60;
/// "Write throttling can occur if your traffic increases to more than double
/// the previous peak within a 15-minute duration": a minute's throughput
/// counts toward the peak 15 minutes after it ends.
const LAG_MINUTES: u64 = 15;
/// A shard splits when its incoming traffic exceeds 500 KB/s.
const SPLIT_BYTES_PER_SEC: u64 = 500_000;
/// A new on-demand stream's capacity: 4 MB/s (taken as 4 MiB, four shards)
/// and 4,000 records/s (§5.2).
const FLOOR_BYTES: u64 = 4 << 20;
const FLOOR_RECORDS: u64 = 4_000;

/// A sliding-window maximum over per-minute values.
#[derive(Debug, Default)]
struct WindowMax {
    /// `(minute, value)`, values decreasing from the front.
    items: VecDeque<(u64, u64)>,
}

impl WindowMax {
    fn push(&mut self, minute: u64, value: u64) {
        while self.items.back().is_some_and(|&(_, v)| v <= value) {
            self.items.pop_back();
        }
        self.items.push_back((minute, value));
        while self
            .items
            .front()
            .is_some_and(|&(m, _)| m + WINDOW_MINUTES <= minute)
        {
            self.items.pop_front();
        }
    }

    fn max(&self) -> u64 {
        self.items.front().map_or(0, |&(_, v)| v)
    }
}

/// The on-demand machinery of a run.
#[derive(Debug)]
pub(super) struct OnDemand {
    delay: SimTime,
    /// The largest record: the stream bucket always holds one.
    max_record: u64,
    pub(super) stream: Limiter,
    /// Offered bytes per shard in the current minute.
    pub(super) minute_bytes: Vec<u64>,
    split_pending: Vec<bool>,
    peak_bytes: WindowMax,
    peak_records: WindowMax,
    minutes_seen: usize,
}

impl OnDemand {
    pub(super) fn new(delay: SimTime, shards: usize, max_record: u64) -> OnDemand {
        OnDemand {
            delay,
            max_record,
            stream: Limiter::new(
                WriteLimit::TokenBucket {
                    burst: NANOS_PER_SEC,
                },
                FLOOR_RECORDS,
                FLOOR_BYTES,
                max_record,
            ),
            minute_bytes: vec![0; shards],
            split_pending: vec![false; shards],
            peak_bytes: WindowMax::default(),
            peak_records: WindowMax::default(),
            minutes_seen: 0,
        }
    }
}

impl Engine<'_> {
    /// Once a minute: follow the peak, and split shards over 500 KB/s.
    pub(super) fn on_demand_tick(&mut self, now: SimTime, queue: &mut EventQueue<Event>) {
        let Some(od) = self.on_demand.as_mut() else {
            return;
        };
        // The stream-level capacity: double the 30-day peak of per-minute
        // write throughput (minutes at least 15 minutes old), never below the
        // new-stream floor.
        let now_minute = now / MINUTE;
        for row in &self.metrics.minutes[od.minutes_seen..] {
            let minute = row.start_secs / 60;
            if minute + 1 + LAG_MINUTES > now_minute {
                break;
            }
            od.peak_bytes.push(minute, row.shards.accepted_bytes / 60);
            od.peak_records
                .push(minute, row.shards.accepted_records / 60);
            od.minutes_seen += 1;
        }
        let bytes = (2 * od.peak_bytes.max()).max(FLOOR_BYTES);
        let records = (2 * od.peak_records.max()).max(FLOOR_RECORDS);
        od.stream.set_rates(records, bytes, od.max_record);
        for s in self.map.open_shards() {
            let i = s.id().index() as usize;
            let rate = od.minute_bytes[i] / 60;
            if rate > SPLIT_BYTES_PER_SEC && !od.split_pending[i] {
                od.split_pending[i] = true;
                queue.push(now + od.delay, Event::OnDemandSplit { shard: i as u32 });
            }
        }
        od.minute_bytes.iter_mut().for_each(|b| *b = 0);
        if now + MINUTE < self.scenario.duration {
            queue.push(now + MINUTE, Event::OnDemandTick);
        }
    }

    /// The service splits a busy shard at its midpoint ("redistributed
    /// evenly"; it does not isolate hot keys).
    pub(super) fn on_demand_split(
        &mut self,
        shard: u32,
        now: SimTime,
        queue: &mut EventQueue<Event>,
    ) {
        let id = ShardId(shard);
        let Ok(s) = self.map.shard(id) else {
            return;
        };
        let range = s.range();
        if !s.is_open() || range.span() < 3 {
            return;
        }
        let key = range.start + (range.end - range.start) / 2;
        let epoch = EpochNanos(self.scenario.start.0 + now);
        let Ok((lower, upper)) = self.map.split_shard(id, key, epoch) else {
            return;
        };
        self.reshard_log.push(ReshardLog {
            source: "on-demand",
            requested: now,
            action: ReshardAction::Split {
                shard: id,
                new_starting_hash_key: Some(key),
            },
            rejected: None,
            finished: Some(now),
            operations: vec![ReshardOp::Split {
                parent: id,
                new_starting_hash_key: key,
                lower,
                upper,
            }],
            created: vec![lower, upper],
            transient: vec![],
        });
        self.grow_to_map();
        self.consumers_grow(now, queue);
        self.note_open_shards();
        if let Some(od) = self.on_demand.as_mut() {
            let n = self.map.shards().len();
            od.minute_bytes.resize(n, 0);
            od.split_pending.resize(n, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_max_forgets_after_thirty_days() {
        let mut w = WindowMax::default();
        w.push(0, 10);
        w.push(1, 5);
        assert_eq!(w.max(), 10);
        w.push(WINDOW_MINUTES, 3);
        assert_eq!(w.max(), 5);
        w.push(WINDOW_MINUTES + 2, 1);
        assert_eq!(w.max(), 3);
    }
}
