//! # shardcast
//!
//! A deterministic discrete-event simulator and capacity planner for Amazon
//! Kinesis Data Streams (KDS).
//!
//! ```text
//! scenario.toml ─► scenario ─► workload ─► model on the sim kernel ─► metrics
//!                                             │ uses
//!                                             ▼
//!                                  kds: hash keys, shard map, resharding
//!                                  lineage, sequence numbers, quotas
//! ```
//!
//! This release holds the foundation, [`kds`]: the rules by which the real
//! service maps a record to a shard, reshapes its shards and numbers its
//! records, each checked against recorded emulator output.
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
//! ## Determinism
//!
//! Everything in [`kds`] is a pure function of its inputs: integer hash keys
//! and integer time (nanoseconds since the Unix epoch), no randomness, no
//! hash-map iteration order.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod check;
pub mod cli;
pub mod kds;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod units;
pub mod workload;
