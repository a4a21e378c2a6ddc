//! On-demand capacity mode: the stream-level limit that follows the 30-day
//! peak, the service's own shard splits (KDS-REFERENCE.md §5.3), and
//! switches between capacity modes (§5.6).

use std::collections::VecDeque;

use super::{Control, ControlEvent, ControlHooks, ReshardLog};
use crate::kds::{ApiException, Quota, ReshardOp, ShardId};
use crate::metrics::{IntervalRow, Metrics};
use crate::model::stream::{OnDemandCapacity, StreamService};
use crate::scenario::{PreviousPeak, ReshardAction};
use crate::sim::SimTime;
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

/// About how long a new on-demand stream of `shards` shards takes to carry
/// `records_per_s` and `bytes_per_s` without throttling, and the doublings
/// that takes. Its capacity starts at 4 MiB/s and 4,000 records/s and
/// doubles at most once per 16 minutes (a busy minute counts toward the
/// peak 15 minutes after it ends), and a busy shard splits in two
/// `split_delay` (plus up to a minute) after the tick that sees it, until
/// the shards carry the traffic at a shard's limits; the two go on at the
/// same time.
pub(crate) fn scaling_time(
    records_per_s: f64,
    bytes_per_s: f64,
    shards: u32,
    split_delay: SimTime,
) -> (u32, SimTime) {
    let doublings = |ratio: f64| {
        if ratio.is_finite() && ratio > 1.0 {
            ratio.log2().ceil() as u32
        } else {
            0
        }
    };
    let capacity =
        doublings((records_per_s / FLOOR_RECORDS as f64).max(bytes_per_s / FLOOR_BYTES as f64));
    let needed = (records_per_s / Quota::WriteRecordsPerShardPerSec.value() as f64)
        .max(bytes_per_s / Quota::WriteBytesPerShardPerSec.value() as f64);
    let splits = doublings(needed / f64::from(shards.max(1)));
    let time = (u64::from(capacity) * (LAG_MINUTES + 1) * MINUTE)
        .max(u64::from(splits) * (split_delay + MINUTE));
    (capacity.max(splits), time)
}

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

/// The on-demand machinery of a run: what the service tracks to size the
/// stream's capacity (the stream service holds the capacity itself).
#[derive(Debug)]
pub(super) struct OnDemand {
    delay: SimTime,
    /// The largest record: the stream bucket always holds one.
    max_record: u64,
    split_pending: Vec<bool>,
    peak_bytes: WindowMax,
    peak_records: WindowMax,
    minutes_seen: usize,
    /// On-demand Advantage warm throughput, bytes/s (0: none).
    warm: u64,
    /// An existing stream's peak before the run: in the 30-day window
    /// until 30 days into the run.
    previous: PreviousPeak,
    /// Counts the times the stream became on-demand.
    pub(super) period: u32,
}

impl OnDemand {
    /// Starts on-demand mode: the stream's capacity begins at the
    /// new-stream floor, then follows the peak.
    pub(super) fn new(
        delay: SimTime,
        max_record: u64,
        warm: u64,
        previous: PreviousPeak,
        service: &mut StreamService,
    ) -> OnDemand {
        let shards = service.map().shards().len();
        service.set_on_demand(Some((FLOOR_RECORDS, FLOOR_BYTES)));
        let mut od = OnDemand {
            delay,
            max_record,
            split_pending: vec![false; shards],
            peak_bytes: WindowMax::default(),
            peak_records: WindowMax::default(),
            minutes_seen: 0,
            warm,
            previous,
            period: 0,
        };
        od.refresh(&[], 0, Self::capacity(service));
        od
    }

    fn capacity(service: &mut StreamService) -> &mut OnDemandCapacity {
        service
            .on_demand_mut()
            .expect("the stream is on-demand while OnDemand exists")
    }

    /// Shards a warm throughput needs: one per MiB/s (a shard's write limit).
    pub(super) fn warm_shards(warm: u64) -> u32 {
        warm.div_ceil(Quota::WriteBytesPerShardPerSec.value()) as u32
    }

    /// The stream-level capacity: double the 30-day peak of per-minute write
    /// throughput (minutes at least 15 minutes old, whatever the mode was
    /// then), never below the new-stream floor nor the warm throughput.
    fn refresh(&mut self, minutes: &[IntervalRow], now: SimTime, capacity: &mut OnDemandCapacity) {
        let now_minute = now / MINUTE;
        for row in &minutes[self.minutes_seen.min(minutes.len())..] {
            let minute = row.start_secs / 60;
            if minute + 1 + LAG_MINUTES > now_minute {
                break;
            }
            self.peak_bytes.push(minute, row.shards.accepted_bytes / 60);
            self.peak_records
                .push(minute, row.shards.accepted_records / 60);
            self.minutes_seen += 1;
        }
        // Warm records/s at a shard's ratio of records to bytes.
        let warm_records =
            Self::warm_shards(self.warm) as u64 * Quota::WriteRecordsPerShardPerSec.value();
        // The previous peak counts as written just before the run.
        let previous = if now_minute < WINDOW_MINUTES {
            self.previous
        } else {
            PreviousPeak::default()
        };
        let peak_bytes = self.peak_bytes.max().max(previous.bytes_per_sec);
        let peak_records = self.peak_records.max().max(previous.records_per_sec);
        let bytes = (2 * peak_bytes).max(FLOOR_BYTES).max(self.warm);
        let records = (2 * peak_records).max(FLOOR_RECORDS).max(warm_records);
        capacity.limiter.set_rates(records, bytes, self.max_record);
    }
}

impl Control<'_> {
    /// Once a minute: follow the peak, and split shards over 500 KB/s.
    pub(super) fn on_demand_tick(
        &mut self,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        let Some(od) = self.on_demand.as_mut() else {
            // Switched to provisioned: the chain of ticks ends here.
            self.on_demand_ticking = false;
            return;
        };
        let open: Vec<usize> = service
            .map()
            .open_shards()
            .map(|s| s.id().index() as usize)
            .collect();
        let capacity = OnDemand::capacity(service);
        od.refresh(&metrics.minutes, now, capacity);
        for i in open {
            let rate = capacity.minute_bytes[i] / 60;
            if rate > SPLIT_BYTES_PER_SEC && !od.split_pending[i] {
                od.split_pending[i] = true;
                hooks.at(
                    now + od.delay,
                    ControlEvent::OnDemandSplit {
                        shard: i as u32,
                        period: od.period,
                    },
                );
            }
        }
        capacity.minute_bytes.iter_mut().for_each(|b| *b = 0);
        if now + MINUTE < self.scenario.duration {
            hooks.at(now + MINUTE, ControlEvent::OnDemandTick);
        }
    }

    /// The service splits a busy shard at its midpoint ("redistributed
    /// evenly"; it does not isolate hot keys).
    pub(super) fn on_demand_split(
        &mut self,
        shard: u32,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        if self.on_demand.is_none() {
            // Switched to provisioned before the split was due.
            return;
        }
        let id = ShardId(shard);
        let Ok(s) = service.map().shard(id) else {
            return;
        };
        let range = s.range();
        if !s.is_open() || range.span() < 3 {
            return;
        }
        let key = range.start + (range.end - range.start) / 2;
        let epoch = service.epoch(now);
        let Ok((lower, upper)) = service.map_mut().split_shard(id, key, epoch) else {
            return;
        };
        self.log.push(ReshardLog {
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
        Self::shards_created(now, service, metrics, hooks);
        if let Some(od) = self.on_demand.as_mut() {
            let n = service.map().shards().len();
            od.split_pending.resize(n, false);
        }
    }
}

impl Control<'_> {
    /// The stream becomes on-demand (at the start, or when a switch
    /// completes): it keeps its shards, and with a warm throughput splits
    /// the widest ones at once until it has a shard per MiB/s.
    pub(super) fn start_on_demand(
        &mut self,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        let spec = &self.scenario.stream;
        let warm = spec.warm_throughput.unwrap_or(0);
        let mut od = OnDemand::new(
            spec.on_demand_split_delay,
            spec.max_record_bytes,
            warm,
            spec.previous_peak.unwrap_or_default(),
            service,
        );
        od.refresh(&metrics.minutes, now, OnDemand::capacity(service));
        self.on_demand_periods += 1;
        od.period = self.on_demand_periods;
        self.on_demand = Some(od);
        while service.map().open_count() < OnDemand::warm_shards(warm) {
            let Some(widest) = service
                .map()
                .open_shards()
                .max_by_key(|s| (s.range().span(), std::cmp::Reverse(s.id())))
                .map(|s| s.id().index())
            else {
                break;
            };
            let before = service.map().open_count();
            self.on_demand_split(widest, now, service, metrics, hooks);
            if service.map().open_count() == before {
                break;
            }
        }
        if !self.on_demand_ticking {
            self.on_demand_ticking = true;
            // On the minute, as CloudWatch minutes are.
            hooks.at((now / MINUTE + 1) * MINUTE, ControlEvent::OnDemandTick);
        }
    }

    /// An UpdateStreamMode request, checked as the service would (§5.6).
    pub(super) fn request_mode(
        &mut self,
        on_demand: bool,
        source: &'static str,
        now: SimTime,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        const DAY: SimTime = 24 * 3600 * NANOS_PER_SEC;
        let recent: Vec<SimTime> = self
            .mode_switches
            .iter()
            .copied()
            .filter(|&t| t + DAY > now)
            .collect();
        let name = |od: bool| if od { "ON_DEMAND" } else { "PROVISIONED" };
        let rejected = if self.updating() {
            Some(format!(
                "{}: the stream is UPDATING",
                ApiException::ResourceInUse
            ))
        } else if self.on_demand.is_some() == on_demand {
            Some(format!(
                "{}: the stream is already in {} mode",
                ApiException::Validation,
                name(on_demand)
            ))
        } else if recent.len() >= 2 {
            Some(format!(
                "{}: the capacity mode can be switched twice within 24 hours; \
                 it was switched at {:.0} s and {:.0} s",
                ApiException::LimitExceeded,
                recent[recent.len() - 2] as f64 / 1e9,
                recent[recent.len() - 1] as f64 / 1e9
            ))
        } else {
            None
        };
        let accepted = rejected.is_none();
        self.log.push(ReshardLog {
            source,
            requested: now,
            action: ReshardAction::UpdateStreamMode { on_demand },
            rejected,
            finished: None,
            operations: vec![],
            created: vec![],
            transient: vec![],
        });
        if accepted {
            self.mode_switches.push(now);
            self.mode_switch = Some(self.log.len() - 1);
            metrics.set_updating(true);
            // UPDATING for as long as one resharding operation (undocumented).
            let d = self.reshard_duration();
            hooks.at(now + d, ControlEvent::ModeSwitched);
        }
    }

    /// The switch is done: the new mode applies from now.
    pub(super) fn mode_switched(
        &mut self,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        let Some(i) = self.mode_switch.take() else {
            return;
        };
        self.log[i].finished = Some(now);
        metrics.set_updating(false);
        let ReshardAction::UpdateStreamMode { on_demand } = self.log[i].action else {
            return;
        };
        if on_demand {
            self.start_on_demand(now, service, metrics, hooks);
        } else {
            // Provisioned keeps the shards; the per-shard limits stay.
            self.on_demand = None;
            service.set_on_demand(None);
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

    #[test]
    fn r16_scaling_takes_a_doubling_per_sixteen_minutes() {
        let delay = 15 * MINUTE;
        // Within the start capacity (4,000 records/s, 4 MiB/s, 4 shards).
        assert_eq!(scaling_time(3000.0, 1e6, 4, delay), (0, 0));
        // 4,400 records/s: one doubling of the capacity and of the shards.
        assert_eq!(scaling_time(4400.0, 6e5, 4, delay), (1, 16 * MINUTE));
        // 40 MB/s: 9.5 times 4 MiB/s, four doublings; 38.1 shards' worth
        // from 4 shards, four rounds of splits.
        assert_eq!(scaling_time(1000.0, 40e6, 4, delay), (4, 64 * MINUTE));
        // Slower splits bind.
        assert_eq!(
            scaling_time(1000.0, 40e6, 4, 30 * MINUTE),
            (4, 124 * MINUTE)
        );
    }
}
