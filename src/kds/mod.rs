//! The service's rules, exactly: hash keys, the shard map and its resharding
//! lineage, sequence numbers, quotas, prices and write throughput limits.
//!
//! Nothing here is simulated and nothing depends on the rest of the crate.
//! Every rule cites `shared/KDS-REFERENCE.md` (section numbers as `§n.m`)
//! and is tested against vectors recorded from kinesalite (tests/data).

mod error;
mod hash_key;
pub mod prices;
pub mod quotas;
mod sequence;
mod shard_map;
mod throughput;

pub use error::{ApiException, KdsError};
pub use hash_key::{HashKey, KeyLengthRule, format_width, validate_partition_key};
pub use quotas::{QUOTAS_AS_OF, Quota, QuotaUnit};
pub use sequence::{ExtendedSequenceNumber, SECS_MAX, SEQ_IX_MAX, SequenceNumber};
pub use shard_map::{
    EpochNanos, HashRange, MAX_CREATE_SHARDS, ReshardOp, Shard, ShardId, ShardMap, UpdatePlan,
    accepted_targets, check_update_limits, uniform_starts,
};
pub use throughput::{
    AGGREGATE_FIXED_BYTES, AGGREGATE_PER_RECORD_BYTES, Levels, Limiter, ReadLimiter, Throttle,
    WriteLimit,
};
