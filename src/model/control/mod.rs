//! The control plane: resharding in time, on-demand capacity and the
//! service's own splits, capacity-mode switches and the autoscaling policy's
//! evaluations.
//!
//! It is driven by time and by the per-minute metrics, never by an engine's
//! queue: it asks for wake-ups through [`ControlHooks`] (a
//! [`Schedule`] of [`ControlEvent`]s) and is handed each one back through
//! [`Control::handle`], and it tells the engine when new shards appear
//! (their readers need leases). The record engine maps its wake-ups to
//! events in its queue; an engine that advances in steps can hold them in
//! its own timer list. Either way the same requests are checked by the same
//! rules and applied after the same drawn delays (the record engine is the
//! only engine today; the shard-level engine of the design will be the
//! second).

mod ondemand;
mod reshard;

pub(crate) use ondemand::scaling_time;
pub use reshard::ReshardLog;

use self::ondemand::OnDemand;
use self::reshard::Active;
use super::policy::{Observation, Scaler};
use super::stream::StreamService;
use crate::kds::ShardMap;
use crate::metrics::Metrics;
use crate::scenario::{ReshardAction, Scenario};
use crate::sim::rng::{Purpose, SimRng, stream};
use crate::sim::{Schedule, SimTime};

/// A wake-up the control plane asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ControlEvent {
    /// The scenario's `[[reshards]]` entry `index` is due.
    ReshardRequest {
        /// Its index in the scenario.
        index: u32,
    },
    /// The running reshard's current split or merge is done.
    ReshardStep,
    /// The autoscaling policy's next evaluation.
    PolicyTick,
    /// The on-demand minute: follow the peak, split busy shards.
    OnDemandTick,
    /// The service's split of a busy on-demand shard is due.
    OnDemandSplit {
        /// The shard's index.
        shard: u32,
        /// Which on-demand period asked: a split due after the stream left
        /// on-demand (and perhaps came back) is dropped.
        period: u32,
    },
    /// A capacity-mode switch is done.
    ModeSwitched,
}

/// What the control plane needs of the engine it runs in.
pub(crate) trait ControlHooks: Schedule<ControlEvent> {
    /// Shards were created at `now` (`map` holds them): give them readers.
    fn shards_changed(&mut self, now: SimTime, map: &ShardMap);
}

/// The control plane of one run.
#[derive(Debug)]
pub(crate) struct Control<'s> {
    scenario: &'s Scenario,
    reshard_rng: SimRng,
    log: Vec<ReshardLog>,
    active: Option<Active>,
    on_demand: Option<OnDemand>,
    /// Whether a chain of on-demand ticks is scheduled.
    on_demand_ticking: bool,
    /// Times the stream became on-demand.
    on_demand_periods: u32,
    /// Accepted capacity-mode switches, by request time.
    mode_switches: Vec<SimTime>,
    /// The reshard log entry of the switch in progress.
    mode_switch: Option<usize>,
    /// The autoscaling policy with its bounds, if the scenario has one.
    scaler: Option<Scaler>,
}

impl<'s> Control<'s> {
    /// The control plane of `scenario`, with its policy (if any).
    pub(crate) fn new(scenario: &'s Scenario, scaler: Option<Scaler>) -> Control<'s> {
        Control {
            scenario,
            reshard_rng: stream(scenario.seed, Purpose::Reshard, 0),
            log: Vec::new(),
            active: None,
            on_demand: None,
            on_demand_ticking: false,
            on_demand_periods: 0,
            mode_switches: Vec::new(),
            mode_switch: None,
            scaler,
        }
    }

    /// The shards a stream is created with: an on-demand Advantage stream
    /// with a warm throughput has the shards to carry it from the start.
    pub(crate) fn initial_shards(spec: &crate::scenario::StreamSpec) -> u32 {
        match (spec.on_demand, spec.warm_throughput) {
            (Some(_), Some(warm)) => spec.shards.max(OnDemand::warm_shards(warm)),
            _ => spec.shards,
        }
    }

    /// Asks for the scenario's `[[reshards]]` requests at their times.
    pub(crate) fn schedule_requests(&self, hooks: &mut impl ControlHooks) {
        for (i, r) in self.scenario.reshards.iter().enumerate() {
            hooks.at(r.at, ControlEvent::ReshardRequest { index: i as u32 });
        }
    }

    /// Starts the policy's evaluations and, for an on-demand stream, its
    /// capacity at time 0.
    pub(crate) fn start(
        &mut self,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        if let Some(a) = &self.scenario.autoscaling {
            hooks.at(a.evaluation_interval, ControlEvent::PolicyTick);
        }
        if self.scenario.stream.on_demand.is_some() {
            self.start_on_demand(0, service, metrics, hooks);
        }
    }

    /// Handles a wake-up at `now`. An error is the policy's: the run ends.
    pub(crate) fn handle(
        &mut self,
        event: ControlEvent,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) -> Result<(), String> {
        // The mode lives in two places (the capacity in the service, the
        // peaks here): they change together.
        debug_assert_eq!(self.on_demand.is_some(), service.is_on_demand());
        match event {
            ControlEvent::ReshardRequest { index } => {
                let action = self.scenario.reshards[index as usize].action.clone();
                self.request(action, "scenario", now, service, metrics, hooks);
            }
            ControlEvent::ReshardStep => self.reshard_step(now, service, metrics, hooks),
            ControlEvent::PolicyTick => self.policy_tick(now, service, metrics, hooks)?,
            ControlEvent::OnDemandTick => self.on_demand_tick(now, service, metrics, hooks),
            ControlEvent::OnDemandSplit { shard, period } => {
                if self
                    .on_demand
                    .as_ref()
                    .is_some_and(|od| od.period == period)
                {
                    self.on_demand_split(shard, now, service, metrics, hooks);
                }
            }
            ControlEvent::ModeSwitched => self.mode_switched(now, service, metrics, hooks),
        }
        Ok(())
    }

    /// Every request and what became of it, in request order.
    pub(crate) fn into_log(self) -> Vec<ReshardLog> {
        self.log
    }

    /// Ends an external policy's process.
    pub(crate) fn stop_policy(&mut self) {
        self.scaler = None;
    }

    /// Whether the stream is UPDATING (a reshard or a mode switch).
    fn updating(&self) -> bool {
        self.active.is_some() || self.mode_switch.is_some()
    }

    /// Notes the open shards in the metrics (the count, and which ones for
    /// the shard-level minutes).
    pub(crate) fn note_open_shards(service: &StreamService, metrics: &mut Metrics) {
        let map = service.map();
        metrics.set_open_shards(map.open_count());
        metrics.set_open_shard_set(map.open_shards().map(|s| s.id().index()));
    }

    /// New shards (a split or merge applied): limiters, counters, readers.
    fn shards_created(
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) {
        service.grow();
        metrics.ensure_shards(service.map().shards().len());
        hooks.shards_changed(now, service.map());
        Self::note_open_shards(service, metrics);
    }

    /// Evaluates the autoscaling policy on the metrics published by `now`.
    fn policy_tick(
        &mut self,
        now: SimTime,
        service: &mut StreamService,
        metrics: &mut Metrics,
        hooks: &mut impl ControlHooks,
    ) -> Result<(), String> {
        let Some(a) = &self.scenario.autoscaling else {
            return Ok(());
        };
        let minute = 60 * crate::units::NANOS_PER_SEC;
        let is_published = |start_secs: u64| {
            start_secs * crate::units::NANOS_PER_SEC + minute + a.publication_delay <= now
        };
        let published = metrics
            .minutes
            .partition_point(|m| is_published(m.start_secs));
        let shard_minutes = metrics.shard_minutes();
        let shard_published = shard_minutes.partition_point(|m| is_published(m.start_secs));
        let obs = Observation {
            now,
            open_shards: service.map().open_count(),
            updating: self.updating(),
            minutes: &metrics.minutes[..published],
            shard_minutes: &shard_minutes[..shard_published],
        };
        let decision = match self.scaler.as_mut() {
            Some(scaler) => scaler.decide(&obs)?,
            None => None,
        };
        if let Some(target) = decision {
            self.request(
                ReshardAction::UpdateShardCount { target },
                "policy",
                now,
                service,
                metrics,
                hooks,
            );
        }
        if now + a.evaluation_interval < self.scenario.duration {
            hooks.at(now + a.evaluation_interval, ControlEvent::PolicyTick);
        }
        Ok(())
    }
}
