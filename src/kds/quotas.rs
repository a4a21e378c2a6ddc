//! The service's limits as one dated table, each value with its source.
//!
//! Every limit the simulator enforces is read from here, never written as a
//! literal elsewhere, so that a change in the service is a one-line change
//! with a citation. Sources are the keys of `shared/KDS-REFERENCE.md`; a
//! value marked `[!]` there is undocumented or disputed and its choice is
//! explained in the description.

use std::fmt;

/// The date of the newest source behind [`Quota`] values (the KDS developer
/// guide's document history entry of October 27, 2025, which raised the
/// maximum record size to 10 MiB).
pub const QUOTAS_AS_OF: &str = "2025-10-27";

/// The unit a [`Quota`] value is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuotaUnit {
    /// A count of records, shards, calls, consumers or characters.
    Count,
    /// Bytes (MiB = 2^20 bytes).
    Bytes,
    /// Seconds.
    Seconds,
    /// Hours.
    Hours,
    /// A multiplier or divisor (e.g. "at most double").
    Factor,
}

impl fmt::Display for QuotaUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuotaUnit::Count => "count",
            QuotaUnit::Bytes => "bytes",
            QuotaUnit::Seconds => "seconds",
            QuotaUnit::Hours => "hours",
            QuotaUnit::Factor => "factor",
        })
    }
}

const MIB: u64 = 1 << 20;

macro_rules! quota_table {
    ($( $(#[$doc:meta])* $name:ident = $value:expr, $unit:ident, $source:literal; )+) => {
        /// A limit of the service. [`Quota::ALL`] lists them in table order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Quota {
            $( $(#[$doc])* $name, )+
        }

        impl Quota {
            /// Every quota, in table order.
            pub const ALL: &'static [Quota] = &[$(Quota::$name),+];

            /// The value, in [`Quota::unit`]s.
            #[inline]
            pub const fn value(self) -> u64 {
                match self { $(Quota::$name => $value,)+ }
            }

            /// The unit of [`Quota::value`].
            pub const fn unit(self) -> QuotaUnit {
                match self { $(Quota::$name => QuotaUnit::$unit,)+ }
            }

            /// Where the value comes from (a key of KDS-REFERENCE.md and its section).
            pub const fn source(self) -> &'static str {
                match self { $(Quota::$name => $source,)+ }
            }

            /// The variant's name, stable for machine-readable output.
            pub const fn name(self) -> &'static str {
                match self { $(Quota::$name => stringify!($name),)+ }
            }
        }
    };
}

quota_table! {
    /// Records written per shard per second (provisioned and on-demand).
    WriteRecordsPerShardPerSec = 1_000, Count, "API PutRecord; DG-2022 service-sizes-and-limits (REF 4a.1)";
    /// Bytes (data plus partition key) written per shard per second.
    WriteBytesPerShardPerSec = MIB, Bytes, "API PutRecord; DG-2022 service-sizes-and-limits (REF 4a.1)";
    /// Default maximum record size (data blob plus partition key).
    MaxRecordBytesDefault = MIB, Bytes, "API Data max 1048576 (REF 4a.2)";
    /// Largest configurable maximum record size (UpdateMaxRecordSize, since 2025-10-27).
    MaxRecordBytesConfigurable = 10 * MIB, Bytes, "LARGE; API UpdateMaxRecordSize (REF 4a.2)";
    /// Records per PutRecords request.
    PutRecordsMaxRecords = 500, Count, "API PutRecords list max 500 (REF 4a.3)";
    /// Bytes per PutRecords request (5 MiB before 2025-10-27).
    PutRecordsMaxRequestBytes = 10 * MIB, Bytes, "current API PutRecords (REF 4a.3)";
    /// Minimum partition key length in characters.
    PartitionKeyMinChars = 1, Count, "API PartitionKey shape (REF 1.4)";
    /// Maximum partition key length in characters.
    PartitionKeyMaxChars = 256, Count, "API PartitionKey shape (REF 1.4)";
    /// GetRecords calls per shard per second, shared by all polling consumers.
    ReadCallsPerShardPerSec = 5, Count, "API GetRecords; DG-2022 building-consumers (REF 4b.1)";
    /// Bytes read per shard per second, shared by all polling consumers.
    ReadBytesPerShardPerSec = 2 * MIB, Bytes, "API GetRecords (REF 4b.1)";
    /// Records returned by one GetRecords call.
    GetRecordsMaxRecords = 10_000, Count, "API GetRecords Limit 1-10000 (REF 4b.2)";
    /// Bytes returned by one GetRecords call.
    GetRecordsMaxBytes = 10 * MIB, Bytes, "API GetRecords (REF 4b.2)";
    /// Lock-out after a GetRecords call that returned the byte maximum.
    GetRecordsLockoutSecs = 5, Seconds, "API GetRecords (REF 4b.2)";
    /// Lifetime of a shard iterator.
    ShardIteratorLifetimeSecs = 300, Seconds, "API GetShardIterator (REF 4b.3)";
    /// Enhanced fan-out bytes per consumer per shard per second.
    EfoBytesPerConsumerPerShardPerSec = 2 * MIB, Bytes, "API RegisterStreamConsumer (REF 4b.6)";
    /// Registered enhanced fan-out consumers per stream.
    EfoMaxConsumersPerStream = 20, Count, "enhanced-consumers (REF 4b.6)";
    /// Registered enhanced fan-out consumers per stream in On-demand Advantage mode.
    EfoMaxConsumersPerStreamAdvantage = 50, Count, "enhanced-consumers (REF 4b.6)";
    /// UpdateShardCount calls per stream in any rolling 24 hours.
    UpdateShardCountPer24h = 10, Count, "API UpdateShardCount; USC (REF 2.10)";
    /// UpdateShardCount may at most multiply the open shard count by this.
    UpdateShardCountMaxScaleUp = 2, Factor, "API UpdateShardCount; USC (REF 2.10)";
    /// UpdateShardCount may at most divide the open shard count by this.
    UpdateShardCountMaxScaleDown = 2, Factor, "API UpdateShardCount; USC (REF 2.10)";
    /// Shards in a stream that UpdateShardCount may scale up to.
    UpdateShardCountMaxShards = 10_000, Count, "API UpdateShardCount; USC (REF 2.10)";
    /// SplitShard and MergeShards transactions per second per account (each).
    SplitMergePerSecPerAccount = 5, Count, "API SplitShard, MergeShards (REF 2.5)";
    /// Default provisioned shard quota per account in us-east-1, us-west-2, eu-west-1.
    AccountShardQuotaLargeRegions = 20_000, Count, "QUOTAS (REF 4d.1)";
    /// Default and minimum retention period.
    RetentionMinHours = 24, Hours, "API IncreaseStreamRetentionPeriod (REF 4d.3)";
    /// Maximum retention period (365 days).
    RetentionMaxHours = 8_760, Hours, "API IncreaseStreamRetentionPeriod (REF 4d.3)";
    /// Delay between a parent shard closing and its children's creation time, as
    /// decoded from real sequence numbers [!]: one observation, 1 s.
    ChildShardCreationDelaySecs = 1, Seconds, "BRANDUR numbers decoded with REF 3 (REF 2.6)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_sourced() {
        assert_eq!(Quota::ALL.len(), 26);
        for q in Quota::ALL {
            assert!(q.value() > 0, "{} has no value", q.name());
            assert!(!q.source().is_empty(), "{} has no source", q.name());
        }
    }

    #[test]
    fn byte_limits_are_mib_based() {
        assert_eq!(Quota::WriteBytesPerShardPerSec.value(), 1_048_576);
        assert_eq!(Quota::ReadBytesPerShardPerSec.value(), 2_097_152);
        assert_eq!(Quota::GetRecordsMaxBytes.value(), 10_485_760);
    }
}
