//! Errors of the KDS core: what the service would reject, in one sentence that
//! names the value and the accepted range.

use thiserror::Error;

use super::hash_key::KeyLengthRule;
use super::shard_map::ShardId;

/// A request the service (or shardcast's model of it) rejects.
///
/// Every variant is a rejected input, never a broken invariant: the shard map
/// is unchanged after any of them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KdsError {
    /// An explicit hash key that is not a decimal from 0 to 2^128-1.
    #[error(
        "invalid explicit hash key \"{value}\": expected a decimal integer from 0 to \
         340282366920938463463374607431768211455 (2^128-1), without sign or leading zeros"
    )]
    InvalidExplicitHashKey {
        /// The text as given.
        value: String,
    },

    /// A partition key that is empty or too long.
    #[error(
        "partition key is {length} characters long; accepted length is {min} to {max} characters \
         (counted as {})",
        match rule { KeyLengthRule::UnicodeScalars => "Unicode scalar values", KeyLengthRule::Utf16Units => "UTF-16 code units" }
    )]
    InvalidPartitionKeyLength {
        /// The key's length under `rule`.
        length: usize,
        /// The shortest accepted length.
        min: u64,
        /// The longest accepted length.
        max: u64,
        /// How the length was counted.
        rule: KeyLengthRule,
    },

    /// A shard count outside the accepted range.
    #[error("shard count {value} is out of range; accepted range is {min} to {max}")]
    InvalidShardCount {
        /// The count as given.
        value: u64,
        /// The smallest accepted count.
        min: u64,
        /// The largest accepted count.
        max: u64,
    },

    /// A shard id that is not of the form `shardId-000000000000`.
    #[error(
        "invalid shard id \"{value}\": expected \"shardId-\" followed by a decimal index from 0 to 4294967295"
    )]
    InvalidShardId {
        /// The text as given.
        value: String,
    },

    /// A shard id the stream never had.
    #[error("shard {shard} does not exist in this stream (it has shards up to {last})")]
    UnknownShard {
        /// The shard asked for.
        shard: ShardId,
        /// The highest id in the stream.
        last: ShardId,
    },

    /// A split or merge of a shard that is already closed.
    #[error("shard {shard} is closed; only open shards can be split or merged")]
    ShardClosed {
        /// The closed shard.
        shard: ShardId,
    },

    /// A SplitShard whose NewStartingHashKey would leave a child empty or of one key.
    #[error(
        "NewStartingHashKey {new_starting_hash_key} used in SplitShard on shard {shard} is not both \
         greater than one plus the shard's StartingHashKey {start} and less than the shard's \
         EndingHashKey {end}"
    )]
    InvalidSplitKey {
        /// The shard to split.
        shard: ShardId,
        /// The requested split point.
        new_starting_hash_key: u128,
        /// The shard's StartingHashKey.
        start: u128,
        /// The shard's EndingHashKey.
        end: u128,
    },

    /// A MergeShards of shards that are not adjacent with ShardToMerge below.
    #[error(
        "shards {shard_to_merge} and {adjacent_shard_to_merge} are not an adjacent pair of shards \
         eligible for merging: ShardToMerge must end one hash key below where \
         AdjacentShardToMerge starts"
    )]
    NotAdjacent {
        /// The `ShardToMerge` argument.
        shard_to_merge: ShardId,
        /// The `AdjacentShardToMerge` argument.
        adjacent_shard_to_merge: ShardId,
    },

    /// An UpdateShardCount that more than doubles the open shard count.
    #[error(
        "UpdateShardCount from {current} to {target} shards scales up more than double; \
         accepted targets are {min} to {max}"
    )]
    ScaleUpTooFar {
        /// Open shards now.
        current: u32,
        /// The requested count.
        target: u32,
        /// The smallest accepted target.
        min: u32,
        /// The largest accepted target.
        max: u32,
    },

    /// An UpdateShardCount that goes below half of the open shard count.
    #[error(
        "UpdateShardCount from {current} to {target} shards scales down below half; \
         accepted targets are {min} to {max}"
    )]
    ScaleDownTooFar {
        /// Open shards now.
        current: u32,
        /// The requested count.
        target: u32,
        /// The smallest accepted target.
        min: u32,
        /// The largest accepted target.
        max: u32,
    },

    /// An UpdateShardCount whose result would exceed the per-stream maximum.
    #[error(
        "UpdateShardCount from {current} to {target} shards is over the limit of {limit} shards \
         per stream (a stream above it may only scale down to fewer than {limit}); accepted \
         targets are {min} to {max}"
    )]
    OverShardLimit {
        /// Open shards now.
        current: u32,
        /// The requested count.
        target: u32,
        /// The per-stream limit.
        limit: u32,
        /// The smallest accepted target.
        min: u32,
        /// The largest accepted target.
        max: u32,
    },

    /// An UpdateShardCount from a stream so large that no target is accepted:
    /// half of it is not below the per-stream limit, and a stream above the
    /// limit may only go below it (KDS-REFERENCE.md §2.10; a stream may
    /// hold more shards than the limit, up to the account quota, §4d.1).
    #[error(
        "UpdateShardCount from {current} to {target} shards: no target is accepted from {current} \
         shards, since a call may not scale down below half ({half}) and a stream above {limit} \
         shards may only scale down to fewer than {limit}; merge shards (MergeShards) until at \
         most {reachable} are open"
    )]
    NoTargetAccepted {
        /// Open shards now.
        current: u32,
        /// The requested count.
        target: u32,
        /// Half of `current`, rounded up: the smallest target by the halving rule.
        half: u32,
        /// The per-stream limit.
        limit: u32,
        /// The largest open count from which UpdateShardCount accepts a target.
        reachable: u32,
    },

    /// An UpdateShardCount beyond the number of calls allowed in a rolling 24 hours.
    #[error(
        "UpdateShardCount rejected: {recent} calls in the last 24 hours already reach the limit of \
         {limit} per rolling 24 hours; the next call is allowed {wait_secs} s later"
    )]
    TooManyUpdates {
        /// Accepted calls within the window.
        recent: usize,
        /// The limit.
        limit: u64,
        /// Seconds until the oldest call in the window leaves it.
        wait_secs: u64,
    },

    /// A text that is not a sequence number of the supported layout.
    // `{value:?}`: a line break in the text stays escaped, on one line.
    #[error("invalid sequence number {value:?}: {reason}")]
    InvalidSequenceNumber {
        /// The text as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A time outside what the sequence-number layout can hold.
    #[error("time {secs} s since the Unix epoch does not fit the sequence number's 36-bit field")]
    TimeOutOfRange {
        /// The time in Unix seconds.
        secs: u64,
    },

    /// A shard whose sequence counter has reached its maximum (2^63 - 2 records).
    #[error("shard {shard} has used every sequence number of its counter")]
    SequenceExhausted {
        /// The shard.
        shard: ShardId,
    },
}
/// The exception names the service's API answers a refused request with
/// (the Kinesis API reference lists them per operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiException {
    /// A malformed or out-of-range argument.
    InvalidArgument,
    /// A limit reached: the account's shards, UpdateShardCount calls a day,
    /// capacity-mode switches a day.
    LimitExceeded,
    /// The stream is not ACTIVE (UPDATING, for instance).
    ResourceInUse,
    /// An unknown stream or shard.
    ResourceNotFound,
    /// A request the stream's state does not allow (such as resharding an
    /// on-demand stream).
    Validation,
}

impl ApiException {
    /// The name as the API spells it, e.g. `LimitExceededException`.
    pub fn name(self) -> &'static str {
        match self {
            ApiException::InvalidArgument => "InvalidArgumentException",
            ApiException::LimitExceeded => "LimitExceededException",
            ApiException::ResourceInUse => "ResourceInUseException",
            ApiException::ResourceNotFound => "ResourceNotFoundException",
            ApiException::Validation => "ValidationException",
        }
    }
}

impl std::fmt::Display for ApiException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl KdsError {
    /// The exception the service answers this refusal with.
    pub fn exception(&self) -> ApiException {
        match self {
            KdsError::UnknownShard { .. } => ApiException::ResourceNotFound,
            KdsError::TooManyUpdates { .. } => ApiException::LimitExceeded,
            _ => ApiException::InvalidArgument,
        }
    }
}
