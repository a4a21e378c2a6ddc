//! The built-in decision rules: target tracking (of the stream or of its
//! hottest shard), alarm-based step scaling, the amazon-kinesis-scaling-utils
//! rules and schedules.

#[cfg(test)]
use super::Scaler;
use super::{History, Observation, ScalingPolicy};
use crate::kds::Quota;
use crate::metrics::{IntervalRow, ShardMinuteRow};
use crate::scenario::{Adjustment, Autoscaling, Policy, SuRule, TrackedMetric};
use crate::sim::SimTime;

fn shards_of(row: &IntervalRow, fallback: u32) -> f64 {
    f64::from(if row.open_shards > 0 {
        row.open_shards
    } else {
        fallback
    })
}

/// Write utilisation of a minute: the larger of records and bytes against
/// the shards' per-minute write capacity.
pub fn put_utilisation(row: &IntervalRow, shards: u32) -> f64 {
    let n = shards_of(row, shards) * 60.0;
    let records =
        row.shards.accepted_records as f64 / (n * Quota::WriteRecordsPerShardPerSec.value() as f64);
    let bytes =
        row.shards.accepted_bytes as f64 / (n * Quota::WriteBytesPerShardPerSec.value() as f64);
    records.max(bytes)
}

/// Write utilisation of the hottest shard of a minute, from the shard-level
/// metrics (KDS-REFERENCE.md §9.3): the largest, over shards, of records and
/// bytes against one shard's per-minute write capacity.
pub fn hottest_shard_utilisation(row: &ShardMinuteRow) -> f64 {
    let records = 60.0 * Quota::WriteRecordsPerShardPerSec.value() as f64;
    let bytes = 60.0 * Quota::WriteBytesPerShardPerSec.value() as f64;
    row.shards
        .iter()
        .map(|s| {
            (s.writes.accepted_records as f64 / records).max(s.writes.accepted_bytes as f64 / bytes)
        })
        .fold(0.0, f64::max)
}

/// scaling-utils' new shard count (`StreamScalingUtils.getNewShardCount`,
/// KDS-REFERENCE.md §10b.4): `scaleCount` wins over `scalePct`; up by a
/// percentage below 100 grows by that share, from 100 on it multiplies;
/// down by a percentage above 100 divides, else removes that share
/// (rounded down); clamped to `[min, max]` and at least 1.
pub fn scaling_utils_count(current: u32, up: bool, rule: &SuRule, min: u32, max: u32) -> u32 {
    let n = f64::from(current);
    let new = match (rule.scale_count, rule.scale_pct) {
        (Some(c), _) => {
            if up {
                current.saturating_add(c)
            } else {
                current.saturating_sub(c)
            }
        }
        (None, Some(pct)) => {
            if up {
                let factor = if pct < 100.0 {
                    (100.0 + pct) / 100.0
                } else {
                    pct / 100.0
                };
                (n * factor).ceil() as u32
            } else if pct > 100.0 {
                (n / (pct / 100.0)).floor() as u32
            } else {
                current - (n * pct / 100.0).floor() as u32
            }
        }
        (None, None) => current,
    };
    new.clamp(min.max(1), max.max(1))
}

/// The service's bounds for one UpdateShardCount from `current`: a
/// well-behaved autoscaler asks for no more than it can get.
fn within_service_bounds(current: u32, target: u32) -> u32 {
    target.clamp(current.div_ceil(2).max(1), current.saturating_mul(2))
}

/// The built-in rules of [`Policy`], as the scenario wrote them.
#[derive(Debug, Clone)]
pub(crate) struct Builtin {
    autoscaling: Autoscaling,
    /// The next entry of a schedule.
    next_scheduled: usize,
}

impl Builtin {
    /// The scenario's built-in rule (an external policy is [`ExecPolicy`](super::ExecPolicy)).
    pub(crate) fn new(autoscaling: &Autoscaling) -> Builtin {
        Builtin {
            autoscaling: autoscaling.clone(),
            next_scheduled: 0,
        }
    }
}

impl ScalingPolicy for Builtin {
    /// Built-in rules wait while the stream is UPDATING (a request would be
    /// refused anyway).
    fn evaluate(
        &mut self,
        obs: &Observation<'_>,
        history: &History,
    ) -> Result<Option<u32>, String> {
        if obs.updating {
            return Ok(None);
        }
        Ok(self.propose(obs, history))
    }
}

impl Builtin {
    fn propose(&mut self, obs: &Observation<'_>, state: &History) -> Option<u32> {
        let a = &self.autoscaling;
        match &a.policy {
            // Not built in: the scenario's process runs behind `ExecPolicy`.
            Policy::None | Policy::Exec { .. } => None,
            Policy::Scheduled(schedule) => scheduled(schedule, &mut self.next_scheduled, obs),
            Policy::TargetTracking { .. } => target_tracking(a, obs, state),
            Policy::Step { .. } => step(a, obs, state),
            Policy::ScalingUtils { .. } => scaling_utils(a, obs, state),
        }
    }
}

/// The latest due entry of a schedule; entries are taken once each.
fn scheduled(schedule: &[(SimTime, u32)], next: &mut usize, obs: &Observation<'_>) -> Option<u32> {
    let mut target = None;
    while let Some(&(at, count)) = schedule.get(*next) {
        if at > obs.now {
            break;
        }
        target = Some(count);
        *next += 1;
    }
    target
}

/// Time since `t`, as the cooldowns measure it (forever if never).
fn since(obs: &Observation<'_>, t: Option<SimTime>) -> SimTime {
    t.map_or(SimTime::MAX, |t| obs.now.saturating_sub(t))
}

/// Target tracking: the shards that bring the last published minute's
/// utilisation to the target, after the cooldowns.
fn target_tracking(a: &Autoscaling, obs: &Observation<'_>, state: &History) -> Option<u32> {
    let Policy::TargetTracking {
        target,
        metric,
        scale_out_cooldown,
        scale_in_cooldown,
    } = &a.policy
    else {
        return None;
    };
    let n = obs.open_shards;
    let since = |t| since(obs, t);
    let last = obs.minutes.last()?;
    let u = match metric {
        TrackedMetric::Stream => put_utilisation(last, n),
        // The hottest shard's share of the key space shrinks with
        // uniform scaling as every shard's does: at m shards running
        // at u, m * u / target shards bring it to the target if its
        // traffic spreads over its keys (a single hot key does not,
        // and no count helps it).
        TrackedMetric::HottestShard => {
            let row = obs.shard_minutes.last()?;
            if row.start_secs != last.start_secs {
                return None;
            }
            hottest_shard_utilisation(row)
        }
    };
    // The load is the minute's utilisation of the shards it had: the
    // shards needed for it at the target (not the current count, which
    // may already have changed since).
    let wanted = (shards_of(last, n) * u / target).ceil().max(1.0) as u32;
    let out = u > *target && since(state.last_action) >= *scale_out_cooldown && wanted > n;
    let scale_in = u < 0.9 * target && since(state.last_action) >= *scale_in_cooldown && wanted < n;
    (out || scale_in).then(|| within_service_bounds(n, wanted))
}

/// Step scaling: alarms over datapoints of the utilisation, one step (or a
/// doubling / halving) at a time, after the cooldown.
fn step(a: &Autoscaling, obs: &Observation<'_>, state: &History) -> Option<u32> {
    let Policy::Step {
        out_threshold,
        out_datapoints,
        out_periods,
        in_threshold,
        in_datapoints,
        in_periods,
        adjustment,
        cooldown,
        block_in_above_iterator_age,
    } = &a.policy
    else {
        return None;
    };
    let n = obs.open_shards;
    let since = |t| since(obs, t);
    if since(state.last_action) < *cooldown {
        return None;
    }
    let recent = |k: u32| &obs.minutes[obs.minutes.len().saturating_sub(k as usize)..];
    let above = recent(*out_periods)
        .iter()
        .filter(|m| put_utilisation(m, n) > *out_threshold)
        .count() as u32;
    let below = recent(*in_periods)
        .iter()
        .filter(|m| put_utilisation(m, n) < *in_threshold)
        .count() as u32;
    let lagging = block_in_above_iterator_age.is_some_and(|limit| {
        obs.minutes
            .last()
            .is_some_and(|m| m.reads.iterator_age_ms.saturating_mul(1_000_000) > limit)
    });
    if above >= *out_datapoints {
        Some(match adjustment {
            Adjustment::DoubleHalve => n.saturating_mul(2),
            Adjustment::Step(k) => n.saturating_add(*k),
        })
    } else if below >= *in_datapoints && obs.minutes.len() >= *in_periods as usize && !lagging {
        Some(match adjustment {
            Adjustment::DoubleHalve => n.div_ceil(2),
            Adjustment::Step(k) => n.saturating_sub(*k).max(1),
        })
    } else {
        None
    }
}

/// The amazon-kinesis-scaling-utils rules (KDS-REFERENCE.md §10b): votes of
/// PUT and GET over their windows, scaled by percent or count.
fn scaling_utils(a: &Autoscaling, obs: &Observation<'_>, state: &History) -> Option<u32> {
    let Policy::ScalingUtils { up, down, put, get } = &a.policy else {
        return None;
    };
    let n = obs.open_shards;
    let since = |t| since(obs, t);
    let vote = |capacity_bytes: f64, capacity_records: f64, read: bool| -> i8 {
        let window = up.after_mins.max(down.after_mins) as usize;
        let minutes = &obs.minutes[obs.minutes.len().saturating_sub(window)..];
        // Every datapoint is judged against the current shard count,
        // as the tool does (it reads the stream's shards, then the
        // metrics): after a scale-up old minutes stop voting up.
        let pct = |m: &IntervalRow, bytes: bool| {
            let shards = f64::from(n) * 60.0;
            let (b, r) = if read {
                (m.reads.bytes, m.reads.records)
            } else {
                (m.shards.accepted_bytes, m.shards.accepted_records)
            };
            if bytes {
                100.0 * b as f64 / (shards * capacity_bytes)
            } else {
                100.0 * r as f64 / (shards * capacity_records)
            }
        };
        // The metric with the higher moving average decides.
        let avg =
            |bytes: bool| minutes.iter().map(|m| pct(m, bytes)).sum::<f64>() / window.max(1) as f64;
        let bytes = avg(true) >= avg(false);
        let high = minutes
            .iter()
            .filter(|m| pct(m, bytes) > up.threshold_pct)
            .count();
        // Missing datapoints count as low.
        let low = window - minutes.len()
            + minutes
                .iter()
                .filter(|m| pct(m, bytes) < down.threshold_pct)
                .count();
        if high >= up.after_mins as usize {
            1
        } else if low >= down.after_mins as usize {
            -1
        } else {
            0
        }
    };
    let mut votes = Vec::with_capacity(2);
    if *put {
        votes.push(vote(
            Quota::WriteBytesPerShardPerSec.value() as f64,
            Quota::WriteRecordsPerShardPerSec.value() as f64,
            false,
        ));
    }
    if *get {
        // GET capacity per shard: 2 MiB/s and 2,000 records/s (§10b.1).
        votes.push(vote(
            Quota::ReadBytesPerShardPerSec.value() as f64,
            2000.0,
            true,
        ));
    }
    let direction = if votes.contains(&1) {
        1
    } else if !votes.is_empty() && votes.iter().all(|&v| v == -1) {
        -1
    } else {
        0
    };
    let cooled = |last: Option<SimTime>, mins: u32| {
        since(last) >= u64::from(mins).saturating_mul(60_000_000_000)
    };
    match direction {
        1 if cooled(state.last_up, up.cool_off_mins) => {
            Some(scaling_utils_count(n, true, up, a.min_shards, a.max_shards))
        }
        -1 if cooled(state.last_down, down.cool_off_mins) => Some(scaling_utils_count(
            n,
            false,
            down,
            a.min_shards,
            a.max_shards,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: SimTime = 60_000_000_000;

    /// A built-in rule behind the common bounds and bookkeeping.
    fn decide_(st: &mut Scaler, obs: &Observation<'_>) -> Option<u32> {
        st.decide(obs).expect("built-in rules do not fail")
    }

    fn rule(pct: f64) -> SuRule {
        SuRule {
            threshold_pct: 75.0,
            after_mins: 2,
            scale_pct: Some(pct),
            scale_count: None,
            cool_off_mins: 0,
        }
    }

    #[test]
    fn scaling_utils_arithmetic_matches_its_own_tests() {
        assert_eq!(scaling_utils_count(7, true, &rule(200.0), 1, 100), 14);
        assert_eq!(scaling_utils_count(6, false, &rule(50.0), 1, 100), 3);
        assert_eq!(scaling_utils_count(10, false, &rule(20.0), 1, 100), 8);
        // Below 100 % up grows by that share; above 100 % down divides.
        assert_eq!(scaling_utils_count(4, true, &rule(50.0), 1, 100), 6);
        assert_eq!(scaling_utils_count(9, false, &rule(300.0), 1, 100), 3);
        let count = SuRule {
            scale_count: Some(3),
            ..rule(50.0)
        };
        assert_eq!(scaling_utils_count(4, true, &count, 1, 100), 7);
        assert_eq!(scaling_utils_count(4, false, &count, 2, 100), 2);
    }

    fn minute(start: u64, records_per_s: u64, shards: u32) -> IntervalRow {
        let mut r = IntervalRow {
            start_secs: start,
            open_shards: shards,
            ..IntervalRow::default()
        };
        r.shards.accepted_records = records_per_s * 60;
        r.shards.accepted_bytes = records_per_s * 60 * 100;
        r
    }

    fn asc(policy: Policy) -> Autoscaling {
        Autoscaling {
            evaluation_interval: MIN,
            publication_delay: MIN,
            min_shards: 1,
            max_shards: 64,
            policy,
        }
    }

    #[test]
    fn target_tracking_scales_to_the_target_and_respects_cooldowns() {
        let a = asc(Policy::TargetTracking {
            target: 0.5,
            metric: TrackedMetric::Stream,
            scale_out_cooldown: 5 * MIN,
            scale_in_cooldown: 15 * MIN,
        });
        let mut st = Scaler::builtin(&a);
        // 4 shards at 3,000 records/s = 75 %: ceil(4 * 0.75 / 0.5) = 6.
        let rows = [minute(0, 3000, 4)];
        let obs = |now, rows: &'static [IntervalRow]| Observation {
            now,
            open_shards: 4,
            updating: false,
            minutes: rows,
            shard_minutes: &[],
        };
        let rows: &'static [IntervalRow] = Box::leak(Box::new(rows));
        assert_eq!(decide_(&mut st, &obs(2 * MIN, rows)), Some(6));
        // Within the cooldown: nothing.
        assert_eq!(decide_(&mut st, &obs(4 * MIN, rows)), None);
        assert_eq!(decide_(&mut st, &obs(7 * MIN, rows)), Some(6));
        // Far above: at most double in one call.
        let hot: &'static [IntervalRow] = Box::leak(Box::new([minute(0, 3900, 1)]));
        let mut st = Scaler::builtin(&a);
        let o = Observation {
            now: MIN,
            open_shards: 1,
            updating: false,
            minutes: hot,
            shard_minutes: &[],
        };
        assert_eq!(decide_(&mut st, &o), Some(2));
        // A minute measured on 2 shards at 75 % needs 3 shards at 50 %: with
        // 4 open already, nothing to do (no double counting of the change).
        let before: &'static [IntervalRow] = Box::leak(Box::new([minute(0, 1500, 2)]));
        let o4 = Observation {
            now: 30 * MIN,
            open_shards: 4,
            updating: false,
            minutes: before,
            shard_minutes: &[],
        };
        assert_eq!(decide_(&mut Scaler::builtin(&a), &o4), None);
        // While UPDATING: waits.
        let o = Observation {
            updating: true,
            ..o
        };
        assert_eq!(decide_(&mut Scaler::builtin(&a), &o), None);
    }

    fn shard_row(start: u64, records_per_s: &[u64]) -> ShardMinuteRow {
        ShardMinuteRow {
            start_secs: start,
            shards: records_per_s
                .iter()
                .enumerate()
                .map(|(i, &r)| crate::metrics::ShardMinute {
                    shard: i as u32,
                    writes: crate::metrics::ShardCounts {
                        accepted_records: r * 60,
                        accepted_bytes: r * 60 * 100,
                        ..Default::default()
                    },
                    reads: Default::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn hottest_shard_tracking_sees_the_hot_shard_that_the_average_hides() {
        // 4 shards: one at 80 %, three at 10 %: 27.5 % on average.
        let rows = [minute(0, 800 + 300, 4)];
        let shards = [shard_row(0, &[800, 100, 100, 100])];
        assert!((hottest_shard_utilisation(&shards[0]) - 0.8).abs() < 1e-12);
        let obs = Observation {
            now: 2 * MIN,
            open_shards: 4,
            updating: false,
            minutes: &rows,
            shard_minutes: &shards,
        };
        let tracking = |metric| Autoscaling {
            min_shards: 4,
            ..asc(Policy::TargetTracking {
                target: 0.5,
                metric,
                scale_out_cooldown: 5 * MIN,
                scale_in_cooldown: 15 * MIN,
            })
        };
        // ceil(4 * 0.8 / 0.5) = 7.
        let hot = tracking(TrackedMetric::HottestShard);
        assert_eq!(decide_(&mut Scaler::builtin(&hot), &obs), Some(7));
        // The average wants 3, below min_shards: nothing.
        let avg = tracking(TrackedMetric::Stream);
        assert_eq!(decide_(&mut Scaler::builtin(&avg), &obs), None);
        // Without the shard-level row of that minute: nothing either.
        let stale = [shard_row(3600, &[800])];
        let obs = Observation {
            shard_minutes: &stale,
            ..obs
        };
        assert_eq!(decide_(&mut Scaler::builtin(&hot), &obs), None);
    }

    #[test]
    fn step_scaling_needs_its_datapoints() {
        let a = asc(Policy::Step {
            out_threshold: 0.8,
            out_datapoints: 2,
            out_periods: 3,
            in_threshold: 0.3,
            in_datapoints: 3,
            in_periods: 3,
            adjustment: Adjustment::DoubleHalve,
            cooldown: 10 * MIN,
            block_in_above_iterator_age: None,
        });
        let obs = |rows: Vec<IntervalRow>| {
            let rows: &'static [IntervalRow] = Box::leak(rows.into_boxed_slice());
            Observation {
                now: 10 * MIN,
                open_shards: 2,
                updating: false,
                minutes: rows,
                shard_minutes: &[],
            }
        };
        // One minute above 80 % of 2 shards (2,000 records/s) is not enough...
        let one = obs(vec![
            minute(0, 1000, 2),
            minute(60, 1000, 2),
            minute(120, 1800, 2),
        ]);
        assert_eq!(decide_(&mut Scaler::builtin(&a), &one), None);
        // ...two of three are.
        let two = obs(vec![
            minute(0, 1000, 2),
            minute(60, 1700, 2),
            minute(120, 1800, 2),
        ]);
        assert_eq!(decide_(&mut Scaler::builtin(&a), &two), Some(4));
        // Three quiet minutes: halve.
        let quiet = obs(vec![
            minute(0, 100, 2),
            minute(60, 100, 2),
            minute(120, 100, 2),
        ]);
        assert_eq!(decide_(&mut Scaler::builtin(&a), &quiet), Some(1));
    }

    #[test]
    fn scheduled_targets_fire_once_each() {
        let a = asc(Policy::Scheduled(vec![(10 * MIN, 8), (20 * MIN, 4)]));
        let mut st = Scaler::builtin(&a);
        let obs = |now, open| Observation {
            now,
            open_shards: open,
            updating: false,
            minutes: &[],
            shard_minutes: &[],
        };
        assert_eq!(decide_(&mut st, &obs(9 * MIN, 4)), None);
        assert_eq!(decide_(&mut st, &obs(10 * MIN, 4)), Some(8));
        assert_eq!(decide_(&mut st, &obs(11 * MIN, 8)), None);
        assert_eq!(decide_(&mut st, &obs(20 * MIN, 8)), Some(4));
    }
}
