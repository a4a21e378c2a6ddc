//! Autoscaling policies: decisions from the published per-minute metrics.
//!
//! A policy sees what a real autoscaler sees: stream-level minutes whose
//! metrics have been published (`publication_delay` after the minute ends),
//! with enhanced monitoring the shard-level minutes published alike
//! (KDS-REFERENCE.md §9.1, §9.3), the open shard count and whether the
//! stream is UPDATING.
//!
//! ```text
//! Observation ─► ScalingPolicy::evaluate ─► proposal ─► Scaler: clamp to
//!                (Builtin, ExecPolicy,                  [min, max], drop a
//!                 Scripted, yours)                      no-op, note the time
//! ```
//!
//! A [`ScalingPolicy`] only proposes a shard count; the `Scaler` around it
//! applies what every policy shares (the scenario's bounds, the cooldown
//! history), so a policy written for a test behaves like a built-in one. The
//! engines drive a `Scaler` from their own clocks: it knows no events.

mod builtin;
mod exec;
mod scripted;

pub(crate) use builtin::Builtin;
pub use builtin::{hottest_shard_utilisation, put_utilisation, scaling_utils_count};
pub(crate) use exec::ExecPolicy;
pub use scripted::{Scripted, Seen};

use crate::metrics::{IntervalRow, ShardMinuteRow};
use crate::scenario::{Autoscaling, Policy};
use crate::sim::SimTime;

/// What a policy sees at an evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The evaluation time.
    pub now: SimTime,
    /// Open shards now.
    pub open_shards: u32,
    /// Whether the stream is UPDATING (a reshard or a capacity-mode switch
    /// in progress).
    pub updating: bool,
    /// Published minutes, oldest first.
    pub minutes: &'a [IntervalRow],
    /// Published shard-level minutes, oldest first: empty without enhanced
    /// monitoring, and only the latest that the policy needs otherwise.
    pub shard_minutes: &'a [ShardMinuteRow],
}

/// When the scaler last acted: what cooldowns are measured from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// The last request, up or down.
    pub last_action: Option<SimTime>,
    /// The last request for more shards.
    pub last_up: Option<SimTime>,
    /// The last request for fewer shards.
    pub last_down: Option<SimTime>,
}

/// A decision rule: given what is published, the shard count to ask for.
///
/// Implementations propose; the `Scaler` clamps the proposal to the
/// scenario's `[min_shards, max_shards]`, drops a proposal equal to the open
/// shard count and records the time in the [`History`]. A policy that
/// cannot decide (a process that crashed, say) returns an error with one
/// line saying why: the run ends with it. `Send`: the shard engine runs
/// its steps, and so the policy, on a thread of rayon's pool.
pub trait ScalingPolicy: std::fmt::Debug + Send {
    /// The proposal at this evaluation, if any.
    fn evaluate(&mut self, obs: &Observation<'_>, history: &History)
    -> Result<Option<u32>, String>;

    /// How many of the latest published shard-level minutes it reads, at
    /// least (shown only with enhanced monitoring; a run keeps these and the
    /// few not yet published, so memory follows shards, not the run's
    /// length). The latest one by default.
    fn shard_minutes(&self) -> usize {
        1
    }
}

/// A policy with the scenario's bounds and the history of its requests.
#[derive(Debug)]
pub(crate) struct Scaler {
    policy: Box<dyn ScalingPolicy>,
    min_shards: u32,
    max_shards: u32,
    history: History,
}

impl Scaler {
    /// `policy` between `min_shards` and `max_shards`.
    pub(crate) fn new(policy: Box<dyn ScalingPolicy>, min_shards: u32, max_shards: u32) -> Scaler {
        Scaler {
            policy,
            min_shards,
            max_shards,
            history: History::default(),
        }
    }

    /// The scenario's built-in rule with its bounds (one that never decides
    /// for `none`, and for `exec`, whose process [`Scaler::from_scenario`]
    /// starts).
    pub(crate) fn builtin(autoscaling: &Autoscaling) -> Scaler {
        Scaler::new(
            Box::new(Builtin::new(autoscaling)),
            autoscaling.min_shards,
            autoscaling.max_shards,
        )
    }

    /// The scenario's policy: its built-in rule, or its process started
    /// (`shard_level`: minutes carry shard-level metrics). The error says
    /// why the process could not start.
    pub(crate) fn from_scenario(
        autoscaling: &Autoscaling,
        shard_level: bool,
    ) -> Result<Scaler, String> {
        match &autoscaling.policy {
            Policy::Exec {
                command,
                timeout,
                window,
            } => {
                let exec = ExecPolicy::spawn(command, *timeout, *window, shard_level)?;
                Ok(Scaler::new(
                    Box::new(exec),
                    autoscaling.min_shards,
                    autoscaling.max_shards,
                ))
            }
            _ => Ok(Scaler::builtin(autoscaling)),
        }
    }

    /// The shard count to ask for now, if any.
    pub(crate) fn decide(&mut self, obs: &Observation<'_>) -> Result<Option<u32>, String> {
        let Some(target) = self.policy.evaluate(obs, &self.history)? else {
            return Ok(None);
        };
        let target = target.clamp(self.min_shards, self.max_shards);
        let n = obs.open_shards;
        if target == n {
            return Ok(None);
        }
        self.history.last_action = Some(obs.now);
        if target > n {
            self.history.last_up = Some(obs.now);
        } else {
            self.history.last_down = Some(obs.now);
        }
        Ok(Some(target))
    }

    /// When it last acted.
    #[cfg(test)]
    pub(crate) fn history(&self) -> History {
        self.history
    }
}
