//! Resharding in time: requests checked as the service checks them, then
//! their splits and merges applied one at a time, each taking a drawn
//! duration, while the stream is UPDATING and writes go on.

use rand::RngExt;

use super::{Control, ControlEvent, ControlHooks};
use crate::kds::{ApiException, KdsError, ReshardOp, ShardId, ShardMap, UpdatePlan};
use crate::metrics::Metrics;
use crate::model::stream::StreamService;
use crate::scenario::ReshardAction;
use crate::sim::SimTime;

/// What happened to one resharding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshardLog {
    /// Who asked: `"scenario"` (a `[[reshards]]` entry) or `"policy"`.
    pub source: &'static str,
    /// When it was made.
    pub requested: SimTime,
    /// What it asked for.
    pub action: ReshardAction,
    /// `None` while running or once completed; the service's reason if rejected.
    pub rejected: Option<String>,
    /// When its last operation finished (`None` if rejected or still running).
    pub finished: Option<SimTime>,
    /// Its splits and merges, in order.
    pub operations: Vec<ReshardOp>,
    /// Shards it created.
    pub created: Vec<ShardId>,
    /// Of those, the ones closed again within the request (short-lived).
    pub transient: Vec<ShardId>,
}

/// The reshard in progress.
#[derive(Debug)]
pub(super) struct Active {
    /// Its entry in the log.
    log: usize,
    /// Its next operation.
    next: usize,
}

/// Open shards at their peak while `ops` are applied from `open` shards.
fn peak_open(open: u32, ops: &[ReshardOp]) -> u32 {
    let mut n = open;
    let mut peak = open;
    for op in ops {
        match op {
            ReshardOp::Split { .. } => n += 1,
            ReshardOp::Merge { .. } => n -= 1,
        }
        peak = peak.max(n);
    }
    peak
}

impl Control<'_> {
    /// Makes a resharding request at `now`: checked as the service would
    /// and, if accepted, started.
    pub(super) fn request(
        &mut self,
        action: ReshardAction,
        source: &'static str,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        if let ReshardAction::UpdateStreamMode { on_demand } = action {
            self.request_mode(on_demand, source, now, metrics, hooks);
            return;
        }
        let mut log = ReshardLog {
            source,
            requested: now,
            action: action.clone(),
            rejected: None,
            finished: None,
            operations: Vec::new(),
            created: Vec::new(),
            transient: Vec::new(),
        };
        match self.plan(&action, now, service) {
            Err(reason) => log.rejected = Some(reason),
            Ok(plan) => {
                log.operations = plan.operations;
                log.transient = plan.transient;
            }
        }
        let accepted = log.rejected.is_none();
        let empty = log.operations.is_empty();
        self.log.push(log);
        if accepted && empty {
            // Nothing to do (UpdateShardCount to the current count).
            self.log.last_mut().expect("just pushed").finished = Some(now);
        } else if accepted {
            if let ReshardAction::UpdateShardCount { target } = action {
                // Record the call against the daily limit.
                let epoch = service.epoch(now);
                service
                    .map_mut()
                    .begin_update_shard_count(target, epoch)
                    .expect("checked by plan");
            }
            self.active = Some(Active {
                log: self.log.len() - 1,
                next: 0,
            });
            metrics.set_updating(true);
            self.schedule_step(now, hooks);
        }
    }

    /// The operations a request needs, or the service's reason to refuse it.
    fn plan(
        &self,
        action: &ReshardAction,
        now: SimTime,
        service: &StreamService,
    ) -> Result<UpdatePlan, String> {
        if self.on_demand.is_some() {
            return Err(format!(
                "{}: SplitShard, MergeShards and UpdateShardCount apply to provisioned streams only; this stream is on-demand",
                ApiException::Validation
            ));
        }
        if self.updating() {
            return Err(format!(
                "{}: the stream is UPDATING; one resharding operation at a time",
                ApiException::ResourceInUse
            ));
        }
        let map = service.map();
        let epoch = service.epoch(now);
        let kds = |e: KdsError| format!("{}: {e}", e.exception());
        let plan = match *action {
            ReshardAction::UpdateStreamMode { .. } => {
                unreachable!("mode switches are handled by request_mode")
            }
            ReshardAction::UpdateShardCount { target } => {
                map.plan_update_shard_count(target, epoch).map_err(kds)?
            }
            ReshardAction::Split {
                shard,
                new_starting_hash_key,
            } => {
                let key = match new_starting_hash_key {
                    Some(k) => k,
                    None => {
                        let r = map.shard(shard).map_err(kds)?.range();
                        // The midpoint the AWS documentation suggests.
                        r.start + (r.end - r.start) / 2
                    }
                };
                let mut probe: ShardMap = map.clone();
                let (lower, upper) = probe.split_shard(shard, key, epoch).map_err(kds)?;
                UpdatePlan {
                    from: map.open_count(),
                    to: probe.open_count(),
                    operations: vec![ReshardOp::Split {
                        parent: shard,
                        new_starting_hash_key: key,
                        lower,
                        upper,
                    }],
                    final_open: vec![lower, upper],
                    transient: vec![],
                }
            }
            ReshardAction::Merge { shard, adjacent } => {
                let mut probe: ShardMap = map.clone();
                let child = probe.merge_shards(shard, adjacent, epoch).map_err(kds)?;
                UpdatePlan {
                    from: map.open_count(),
                    to: probe.open_count(),
                    operations: vec![ReshardOp::Merge {
                        shard_to_merge: shard,
                        adjacent_shard_to_merge: adjacent,
                        child,
                    }],
                    final_open: vec![child],
                    transient: vec![],
                }
            }
        };
        if let Some(quota) = self.scenario.stream.account_shard_quota {
            let peak = peak_open(map.open_count(), &plan.operations);
            if peak > quota {
                return Err(format!(
                    "{}: the change needs {peak} open shards at its peak \
                     (short-lived shards included), over the account shard quota of {quota}",
                    ApiException::LimitExceeded
                ));
            }
        }
        Ok(plan)
    }

    /// One operation's duration, drawn from `reshard_op_time`.
    pub(super) fn reshard_duration(&mut self) -> SimTime {
        let (lo, hi) = self.scenario.stream.reshard_op_time;
        if lo == hi {
            lo
        } else {
            self.reshard_rng.random_range(lo..=hi)
        }
    }

    fn schedule_step(&mut self, now: SimTime, hooks: &mut impl ControlHooks) {
        let d = self.reshard_duration();
        hooks.at(now + d, ControlEvent::ReshardStep);
    }

    /// Applies the next operation of the active reshard, which finished at `now`.
    pub(super) fn reshard_step(
        &mut self,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let log = &mut self.log[active.log];
        let op = log.operations[active.next];
        active.next += 1;
        let epoch = service.epoch(now);
        // Checked when the request was accepted, and nothing else reshapes the
        // stream while it is UPDATING.
        service
            .map_mut()
            .apply_op(&op, epoch)
            .expect("a planned operation applies");
        match op {
            ReshardOp::Split { lower, upper, .. } => log.created.extend([lower, upper]),
            ReshardOp::Merge { child, .. } => log.created.push(child),
        }
        let done = active.next == log.operations.len();
        if done {
            log.finished = Some(now);
            self.active = None;
            metrics.set_updating(false);
        }
        Self::shards_created(now, service, metrics, hooks);
        if !done {
            self.schedule_step(now, hooks);
        }
    }
}
