//! The simulated stream: one model of Kinesis, in parts that an engine
//! drives.
//!
//! ```text
//!             workload (arrivals, keys, sizes)
//!                         │
//!   record engine ────────┼──────────────► stream service: route, admit (shard and
//!   (every record an      │                stream limits), number, bill  (stream.rs)
//!    event; record/)      │                        ▲ shards, capacity
//!                         ├──► readers: backlogs, polling, enhanced fan-out,
//!                         │    retention (consumers/, backlog.rs)
//!                         └──► control plane: resharding in time, on-demand,
//!                              mode switches, policy ticks (control/)
//!                                      │ per-minute metrics
//!                                      ▼
//!                              policies (policy/): built-ins, a process, a fake
//! ```
//!
//! The stream service, the readers and the control plane know nothing of
//! the engine's events: they are called with the time and ask for their
//! wake-ups through [`crate::sim::Schedule`]. The record engine
//! ([`simulate`]) is the reference.

pub mod backlog;
mod consumers;
mod control;
mod engine;
pub mod policy;
mod record;
mod shard;
mod stream;

pub use consumers::{ConsumerCounts, ConsumerState};
pub use control::ReshardLog;
pub use engine::{
    EngineChoice, EngineReason, NANOS_PER_SHARD_STEP, RECORDS_PER_CORE_SEC, Work, about,
    engine_choice, expected_work,
};
pub(crate) use engine::{count_words, engine_counts, engine_tally};

use rand::RngExt;

use crate::kds::ShardMap;
use crate::metrics::Metrics;
use crate::scenario::{EngineKind, Jitter, RetryPolicy, Scenario};
use crate::sim::SimTime;
use crate::sim::rng::SimRng;

/// Per-key counts of a group with a finite key table.
#[derive(Debug, Clone, Default)]
pub struct KeyCounts {
    /// User records produced per key index.
    pub records: Vec<u64>,
    /// Their bytes (data plus key) per key index.
    pub bytes: Vec<u64>,
    /// Bytes (data plus key) of every record the group produced, counted
    /// key or not, except records refused as too large (at most 10 MiB
    /// each, so no overflow).
    pub offered_bytes: u64,
    /// The records counted in `offered_bytes`.
    pub offered_records: u64,
}

/// What a run produced, for reports.
#[derive(Debug)]
pub struct Outcome {
    /// The stream's shards at the end (with lineage).
    pub map: ShardMap,
    /// All counters.
    pub metrics: Metrics,
    /// Per group: key counts (empty for random keys).
    pub keys: Vec<KeyCounts>,
    /// Records still held by producers at the end.
    pub pending: u64,
    /// Every resharding request and what became of it.
    pub reshards: Vec<ReshardLog>,
    /// Per consumer application: its state and counts.
    pub consumers: Vec<ConsumerState>,
    /// The shards' backlogs at the end (empty without consumers).
    pub backlogs: Vec<backlog::Backlog>,
    /// Events handled (the record engine), or shard-steps advanced (the
    /// shard engine).
    pub events: u64,
    /// The engine that ran: [`EngineKind::Record`] or [`EngineKind::Shard`].
    pub engine: EngineKind,
    /// Malformed trace lines skipped (`skip_bad_lines`).
    pub trace_lines_skipped: u64,
    /// Per group replaying a trace: its keys (name, hash key) in the order
    /// of `keys[group]`'s indices; empty for other groups.
    pub trace_keys: Vec<Vec<(String, u128)>>,
}

/// Options of a run that do not change its results.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Keep a per-second stream-level time series.
    pub per_second: bool,
}

/// Where a run reports how far it has got, for a progress bar: simulated
/// time done, in pieces of about a simulated second (a shard engine step,
/// or a slice of the record engine's queue), never per record or event, so
/// watching costs nothing measurable. Watching never changes a result: a
/// run given a `Progress` produces the same outcome as one without.
pub trait Progress: Sync {
    /// More work was queued: runs covering `ns` simulated nanoseconds in
    /// all (a planner queues its candidates' runs as it decides them).
    fn queued(&self, ns: SimTime) {
        let _ = ns;
    }
    /// `ns` more simulated nanoseconds of a run are done.
    fn advanced(&self, ns: SimTime);
}

/// Nobody watching.
impl Progress for () {
    #[inline]
    fn advanced(&self, _: SimTime) {}
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// An invariant broke: a bug, reported rather than hidden.
    #[error(
        "internal error: records are not conserved: {0} (please report this with the scenario and seed)"
    )]
    Conservation(String),
    /// The autoscaling policy failed: the external one could not start,
    /// crashed, timed out or answered something that is not a decision (or
    /// a policy given to [`simulate_with_policy`] returned an error).
    #[error("autoscaling policy {command:?}: {message}")]
    Policy {
        /// The command, as in the scenario (empty for a policy that is not
        /// a process).
        command: Vec<String>,
        /// What went wrong.
        message: String,
    },
    /// The scenario holds a value no run can use (it was edited or built in
    /// code after validation).
    #[error(transparent)]
    InvalidScenario(#[from] crate::scenario::InvalidScenario),
    /// A record trace could not be read, or has a malformed line (without
    /// `skip_bad_lines`).
    #[error(transparent)]
    Trace(crate::workload::TraceError),
    /// The engine asked for cannot run this scenario.
    #[error("engine: {0}")]
    Engine(String),
}

/// The engine a run of `scenario` uses: its `engine`, with `auto`
/// resolved. `auto` picks the shard engine when more than
/// [`AUTO_SHARD_RECORDS`](crate::scenario::AUTO_SHARD_RECORDS) user records
/// are expected and the scenario is in the regime where the shard engine
/// was shown to agree with the record engine ([`shard_engine_caveats`]
/// says nothing): it replays no record trace (aggregate traces are fine) and its retries are jittered
/// and not much faster than the step (docs/engines.md).
/// [`engine_choice`] also says why.
pub fn engine_for(scenario: &Scenario) -> EngineKind {
    engine_choice(scenario).kind
}

/// Why the shard engine may disagree with the record engine on
/// `scenario`, one sentence per producer group concerned (empty: within
/// the validated regime of docs/engines.md). A group that replays a
/// record trace cannot run on it at all; retries without jitter replay
/// their collisions exactly in the record engine, and retries due well
/// within one step (the KPL's 50 ms) cycle faster than the shard engine
/// follows them, and both change how much is throttled.
pub fn shard_engine_caveats(scenario: &Scenario) -> Vec<String> {
    let step = scenario.engine.step;
    let mut caveats = Vec::new();
    for g in &scenario.producers {
        if g.replays_record_trace() {
            caveats.push(format!(
                "producer group \"{}\" replays a record trace, which only the record engine reads",
                g.name
            ));
            continue;
        }
        let retry = &g.retry;
        if retry.max_attempts < 2 {
            continue;
        }
        let cycle = g.request_latency.saturating_add(retry.base);
        if retry.jitter == Jitter::None {
            caveats.push(format!(
                "producer group \"{}\" retries without jitter",
                g.name
            ));
        } else if cycle < step / 2 {
            caveats.push(format!(
                "producer group \"{}\" retries {} ms after a refusal, under half the shard engine's step of {} ms",
                g.name,
                cycle / 1_000_000,
                step / 1_000_000
            ));
        }
    }
    caveats
}

/// About how long a new on-demand stream of `shards` shards takes to carry
/// `records_per_s` and `bytes_per_s` without throttling, splitting its
/// busy shards `split_delay` after it sees them, and how many doublings
/// of capacity or shards that is. A new stream starts at 4 MiB/s and 4,000
/// records/s and can double about every 16 minutes (KDS-REFERENCE.md
/// §5.2-5.3): a run shorter than this sees a stream still scaling.
pub fn on_demand_scaling_time(
    records_per_s: f64,
    bytes_per_s: f64,
    shards: u32,
    split_delay: SimTime,
) -> (u32, SimTime) {
    control::scaling_time(records_per_s, bytes_per_s, shards, split_delay)
}

/// User records `scenario` is expected to produce: each group's mean rate
/// over the run times its length; for an aggregate trace, an estimate
/// from its first lines scaled to the file
/// ([`expected_trace_records`](crate::workload::expected_trace_records));
/// record traces are not counted (they run on the record engine anyway).
pub fn expected_records(scenario: &Scenario) -> f64 {
    let secs = scenario.duration as f64 / crate::units::NANOS_PER_SEC as f64;
    scenario
        .producers
        .iter()
        .map(|g| match &g.trace {
            None => g.rate.mean_over(scenario.duration) * secs,
            // An unreadable trace fails the run itself, with its message.
            Some(t) if t.aggregate.is_some() => {
                crate::workload::expected_trace_records(t, scenario.duration).unwrap_or(0.0)
            }
            Some(_) => 0.0,
        })
        .sum()
}

fn dispatch(
    scenario: &Scenario,
    options: RunOptions,
    policy: Option<Box<dyn policy::ScalingPolicy>>,
    progress: Option<&dyn Progress>,
) -> Result<Outcome, SimError> {
    match engine_for(scenario) {
        EngineKind::Shard => shard::simulate(scenario, options, policy, progress),
        _ => record::simulate(scenario, options, policy, progress),
    }
}

/// Simulates `scenario` with its seed.
pub fn simulate(scenario: &Scenario, options: RunOptions) -> Result<Outcome, SimError> {
    scenario.check()?;
    dispatch(scenario, options, None, None)
}

/// Simulates `scenario` with its seed, telling `progress` how far it has
/// got (the whole run's length is not queued here: the caller knows it).
/// The outcome is the one [`simulate`] gives.
pub fn simulate_observed(
    scenario: &Scenario,
    options: RunOptions,
    progress: &dyn Progress,
) -> Result<Outcome, SimError> {
    scenario.check()?;
    dispatch(scenario, options, None, Some(progress))
}

/// Simulates `scenario` with `policy` deciding in place of the scenario's
/// own: evaluated on the scenario's `[autoscaling]` schedule, within its
/// `min_shards` and `max_shards`. A test's fake ([`policy::Scripted`]) or a
/// team's policy written in Rust plugs in here. With enhanced monitoring it
/// is shown the latest [`ScalingPolicy::shard_minutes`](policy::ScalingPolicy::shard_minutes)
/// published shard-level minutes.
pub fn simulate_with_policy(
    scenario: &Scenario,
    options: RunOptions,
    policy: Box<dyn policy::ScalingPolicy>,
) -> Result<Outcome, SimError> {
    scenario.check()?;
    if scenario.autoscaling.is_none() {
        return Err(SimError::Policy {
            command: Vec::new(),
            message: "the scenario has no [autoscaling] table, which says when a policy is \
                      evaluated and its bounds"
                .into(),
        });
    }
    dispatch(scenario, options, Some(policy), None)
}

/// The scenario's scaling policy as the control plane runs it: `given` in
/// place of the scenario's own, if given (within its `[autoscaling]`
/// bounds); none without `[autoscaling]`. An external policy that cannot
/// start is the run's error.
fn scaler(
    scenario: &Scenario,
    given: Option<Box<dyn policy::ScalingPolicy>>,
) -> Result<Option<policy::Scaler>, SimError> {
    Ok(match (given, &scenario.autoscaling) {
        (_, None) => None,
        (Some(p), Some(a)) => Some(policy::Scaler::new(p, a.min_shards, a.max_shards)),
        (None, Some(a)) => Some(
            policy::Scaler::from_scenario(a, scenario.stream.enhanced_monitoring).map_err(
                |message| SimError::Policy {
                    command: exec_command(scenario),
                    message,
                },
            )?,
        ),
    })
}

/// The external policy's command, if the scenario's policy is one.
fn exec_command(scenario: &Scenario) -> Vec<String> {
    match &scenario.autoscaling {
        Some(crate::scenario::Autoscaling {
            policy: crate::scenario::Policy::Exec { command, .. },
            ..
        }) => command.clone(),
        _ => Vec::new(),
    }
}

/// The delay before retry number `attempts` (1 = the first retry):
/// `jitter(min(cap, base * 2^(attempts-1)))`.
#[inline]
pub fn backoff(policy: &RetryPolicy, attempts: u32, rng: &mut SimRng) -> SimTime {
    let exp = attempts.saturating_sub(1).min(63);
    let d = policy.base.saturating_mul(1u64 << exp).min(policy.cap);
    match policy.jitter {
        Jitter::None => d,
        Jitter::Full => rng.random_range(0..=d),
        Jitter::Equal => d / 2 + rng.random_range(0..=d - d / 2),
    }
}
