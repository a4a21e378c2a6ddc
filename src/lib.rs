//! # shardcast
//!
//! A deterministic discrete-event simulator and capacity planner for Amazon
//! Kinesis Data Streams (KDS).
//!
//! ```text
//! scenario.toml ─► scenario ─► workload ─► model (stream service, control plane,
//!                                │          readers, policies) driven by an
//!                                │          engine on the sim kernel
//!                                ▼                  │ Outcome
//!                   kds: hash keys, shard map,      ▼
//!                   lineage, sequence numbers,   analysis ─► report, charts, html,
//!                   quotas, prices, write limits             plan, sweep, compare, check
//! ```
//!
//! Nothing imports upward: `kds`, `sim` and `units` stand alone, `scenario`
//! and `workload` know no simulation, `model` knows nothing of what is made
//! of its results (a test checks it on the source).
//!
//! - [`kds`]: the rules by which the real service maps a record to a shard,
//!   reshapes its shards, numbers its records and limits its writes, each
//!   checked against recorded emulator output; quotas and prices as dated,
//!   sourced tables.
//! - [`sim`]: a generic event kernel (integer time, a FIFO-on-ties queue,
//!   seeded streams) that knows nothing of Kinesis.
//! - [`scenario`], [`workload`]: scenario files (or [`Scenario::builder`])
//!   validated into domain types; [`Scenario::check`] runs again before every
//!   simulation.
//! - [`model`]: the stream: a stream service, a control plane (resharding,
//!   on-demand, policy ticks), readers and [`model::policy`], driven by the
//!   record engine ([`simulate`]).
//! - [`analysis`]: what a run measured, as numbers (summary, objectives,
//!   cost, the rows of every table), computed once.
//! - [`report`], [`plan`](mod@plan), [`sweep`], [`check`]: what users read;
//!   [`charts`] and `html` draw them (SVG, PNG, one self-contained page);
//!   [`app`] is the command line.
//!
//! A run from code:
//!
//! ```
//! use shardcast::{RunOptions, Scenario, analyze, simulate};
//!
//! let scenario = Scenario::builder("checkout")
//!     .set("duration", "30s")
//!     .set("stream.shards", 2)
//!     .producer("web")
//!     .set("producers.web.rate", "2500/s")
//!     .set("producers.web.size", "200B")
//!     .set("producers.web.keys.kind", "random")
//!     .build()?;
//! let outcome = simulate(&scenario, RunOptions::default())?;
//! let run = analyze(&scenario, &outcome);
//! // 2,500 records/s on two shards of 1,000: most of the excess throttles.
//! assert!(run.summary.throttle_rate > 0.1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The KDS core alone:
//!
//! ```
//! use shardcast::kds::{EpochNanos, ShardMap};
//!
//! let mut stream = ShardMap::create(4, EpochNanos::from_secs(1_700_000_000))?;
//! let shard = stream.shard_for_partition_key("user-1");
//! assert_eq!(shard.to_string(), "shardId-000000000003");
//!
//! // The one published non-power-of-two UpdateShardCount: 4 -> 3 ends with
//! // open shards 6, 9 and 10.
//! let plan = stream.update_shard_count(3, EpochNanos::from_secs(1_700_000_600))?;
//! let open: Vec<u32> = plan.final_open.iter().map(|id| id.index()).collect();
//! assert_eq!(open, [6, 9, 10]);
//! # Ok::<(), shardcast::kds::KdsError>(())
//! ```
//!
//! ## The determinism contract
//!
//! The same scenario and seed give the same bytes out, on any machine and at
//! any thread count:
//!
//! 1. Simulated time is a `u64` count of nanoseconds; events at the same
//!    nanosecond are delivered in the order they were scheduled.
//! 2. Every random draw comes from a `ChaCha8Rng` (a named, portable
//!    algorithm) seeded from the scenario's seed, one stream per actor and
//!    purpose ([`sim::rng`]); `rand_distr` is built with `std_math`.
//! 3. No hash-map iteration order reaches an output (clippy forbids
//!    `HashMap` and `HashSet`).
//! 4. Parallel work (the planner's replications) is gathered in input order
//!    and reduced sequentially.
//! 5. Reports carry no wall-clock time. An external autoscaling policy is
//!    the one exception: a run is deterministic only if that process is.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod analysis;
pub mod app;
pub mod charts;
pub mod check;
pub(crate) mod compare;
pub(crate) mod html;
pub mod json;
pub mod kds;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod report;
pub mod scenario;
pub(crate) mod shown;
pub mod sim;
pub mod sweep;
pub mod units;
pub mod workload;

pub use analysis::{RunAnalysis, analyze};
pub use model::{Outcome, RunOptions, SimError, simulate, simulate_with_policy};
pub use plan::{Plan, PlanOptions, plan};
pub use scenario::{Scenario, ScenarioBuilder, ScenarioError};
pub use sweep::Sweep;
