//! The scenario file as written: serde shapes with `deny_unknown_fields`.
//!
//! Unit strings are parsed here (so a bad one is reported with its line by
//! the TOML parser); ranges and cross-field rules are checked in
//! [`super::validate`].

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use crate::units::{Bytes, Duration, Rate, unit_hint};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub(crate) name: String,
    pub(crate) duration: Spanned<Duration>,
    #[serde(default = "default_seed")]
    pub(crate) seed: u64,
    pub(crate) start: Option<Spanned<toml::Value>>,
    pub(crate) stream: Spanned<RawStream>,
    pub(crate) producers: Spanned<Vec<Spanned<RawProducer>>>,
    pub(crate) slo: Option<Spanned<RawSlo>>,
    #[serde(default)]
    pub(crate) reshards: Vec<Spanned<RawReshard>>,
    #[serde(default)]
    pub(crate) consumers: Vec<Spanned<RawConsumer>>,
    pub(crate) autoscaling: Option<Spanned<RawAutoscaling>>,
    pub(crate) sweep: Option<Spanned<RawSweep>>,
    pub(crate) engine: Option<Spanned<String>>,
    pub(crate) step: Option<Spanned<Duration>>,
}

/// `[sweep]`: the grid `shardcast sweep` runs (ignored by other commands).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSweep {
    #[serde(default)]
    pub(crate) set: Vec<String>,
    pub(crate) replications: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSuRule {
    pub(crate) threshold_pct: f64,
    pub(crate) after_mins: u32,
    pub(crate) scale_pct: Option<f64>,
    pub(crate) scale_count: Option<u32>,
    pub(crate) cool_off_mins: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScheduled {
    pub(crate) at: Duration,
    pub(crate) target: u32,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawPolicy {
    None,
    Scheduled {
        schedule: Vec<RawScheduled>,
    },
    TargetTracking {
        target: f64,
        scale_out_cooldown: Option<Duration>,
        scale_in_cooldown: Option<Duration>,
        metric: Option<RawTrackedMetric>,
    },
    Step {
        scale_out_threshold: f64,
        scale_out_datapoints: Option<u32>,
        scale_out_periods: Option<u32>,
        scale_in_threshold: f64,
        scale_in_datapoints: Option<u32>,
        scale_in_periods: Option<u32>,
        adjustment: Option<String>,
        cooldown: Option<Duration>,
        block_scale_in_above_iterator_age: Option<Duration>,
    },
    Exec {
        command: Vec<String>,
        timeout: Option<Duration>,
        window: Option<u32>,
    },
    ScalingUtils {
        scale_up: Option<RawSuRule>,
        scale_down: Option<RawSuRule>,
        operations: Option<Vec<String>>,
        /// scaling-utils' own JSON configuration, instead of the three above.
        config: Option<String>,
        /// Which entry of that file (its `streamName`).
        stream_name: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawTrackedMetric {
    Stream,
    HottestShard,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAutoscaling {
    pub(crate) evaluation_interval: Option<Duration>,
    pub(crate) publication_delay: Option<Duration>,
    pub(crate) min_shards: Option<u32>,
    pub(crate) max_shards: Option<u32>,
    pub(crate) policy: RawPolicy,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawConsumerKind {
    Polling,
    EnhancedFanOut,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum RawStartPosition {
    Latest,
    TrimHorizon,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetentionChange {
    pub(crate) at: Duration,
    pub(crate) retention: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPause {
    pub(crate) at: Duration,
    pub(crate) duration: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConsumer {
    pub(crate) name: String,
    pub(crate) kind: Option<RawConsumerKind>,
    pub(crate) workers: Option<u32>,
    pub(crate) poll_interval: Option<Duration>,
    pub(crate) max_records: Option<u32>,
    pub(crate) per_record: Option<Duration>,
    pub(crate) per_batch: Option<Duration>,
    pub(crate) start_position: Option<RawStartPosition>,
    pub(crate) starts_at: Option<Duration>,
    pub(crate) checkpoint_interval: Option<Duration>,
    pub(crate) max_leases_per_worker: Option<u32>,
    #[serde(default)]
    pub(crate) pauses: Vec<RawPause>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawReshardAction {
    UpdateShardCount,
    Split,
    Merge,
    UpdateStreamMode,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReshard {
    pub(crate) at: Duration,
    pub(crate) action: RawReshardAction,
    pub(crate) target: Option<u32>,
    pub(crate) shard: Option<String>,
    pub(crate) new_starting_hash_key: Option<String>,
    pub(crate) adjacent: Option<String>,
    pub(crate) mode: Option<RawMode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOpTime {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
}

fn default_seed() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStream {
    pub(crate) shards: Option<u32>,
    pub(crate) retention: Option<Duration>,
    pub(crate) write_limit: Option<RawWriteLimit>,
    pub(crate) burst: Option<Duration>,
    pub(crate) max_record_size: Option<Bytes>,
    pub(crate) reshard_op_time: Option<RawOpTime>,
    pub(crate) backlog_resolution: Option<Duration>,
    #[serde(default)]
    pub(crate) retention_changes: Vec<RawRetentionChange>,
    pub(crate) advantage_mode: Option<bool>,
    pub(crate) mode: Option<RawMode>,
    pub(crate) region: Option<String>,
    pub(crate) prices: Option<String>,
    pub(crate) on_demand_split_delay: Option<Duration>,
    pub(crate) warm_throughput: Option<Bytes>,
    pub(crate) account_shard_quota: Option<u32>,
    pub(crate) enhanced_monitoring: Option<bool>,
    pub(crate) previous_peak: Option<RawPreviousPeak>,
}

/// `previous_peak = { bytes = "6MiB", records = "6000/s" }`: an existing
/// stream's highest per-minute write throughput of the last 30 days.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPreviousPeak {
    pub(crate) bytes: Option<Bytes>,
    pub(crate) records: Option<Rate>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawMode {
    Provisioned,
    OnDemand,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawWriteLimit {
    TokenBucket,
    FixedWindow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProducer {
    pub(crate) name: String,
    pub(crate) count: Option<u32>,
    pub(crate) rate: Option<RawRate>,
    #[serde(default)]
    pub(crate) spikes: Vec<RawSpike>,
    pub(crate) arrivals: Option<RawArrivals>,
    pub(crate) size: Option<RawSize>,
    pub(crate) keys: Option<Spanned<RawKeys>>,
    pub(crate) trace: Option<RawTrace>,
    pub(crate) api: Option<RawApi>,
    pub(crate) batch: Option<RawBatch>,
    pub(crate) retry: Option<RawRetry>,
    pub(crate) buffer_limit: Option<u64>,
    pub(crate) request_latency: Option<Duration>,
    pub(crate) aggregation: Option<RawAggregation>,
    pub(crate) rate_jitter: Option<RawRateJitter>,
}

/// `rate_jitter = { kind = "uniform", spread = 0.2 }` or
/// `{ kind = "lognormal", sigma = 0.2 }`: per-second noise on the rate.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawRateJitter {
    Uniform { spread: f64 },
    Lognormal { sigma: f64 },
}

/// `trace = { file = ..., ... }`: a producer replaying a record trace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrace {
    pub(crate) file: String,
    pub(crate) format: Option<RawTraceFormat>,
    pub(crate) time_unit: Option<RawTimeUnit>,
    pub(crate) time_scale: Option<f64>,
    pub(crate) rate_multiplier: Option<f64>,
    pub(crate) copy_spread: Option<Duration>,
    pub(crate) shift: Option<Duration>,
    #[serde(rename = "loop")]
    pub(crate) looped: Option<bool>,
    pub(crate) skip_bad_lines: Option<bool>,
    pub(crate) key_bytes: Option<u16>,
    #[serde(default)]
    pub(crate) remap: Vec<RawRemap>,
    #[serde(default)]
    pub(crate) salt: Vec<RawSalt>,
    pub(crate) interval: Option<Duration>,
    pub(crate) within: Option<RawWithin>,
    pub(crate) shards: Option<u32>,
}

/// What a CloudWatch series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawMeasures {
    Records,
    Bytes,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawWithin {
    Even,
    Uniform,
    Poisson,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawTraceFormat {
    Csv,
    JsonLines,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) enum RawTimeUnit {
    #[serde(rename = "s")]
    Seconds,
    #[serde(rename = "ms")]
    Millis,
    #[serde(rename = "us")]
    Micros,
    #[serde(rename = "ns")]
    Nanos,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemap {
    pub(crate) from: String,
    pub(crate) to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSalt {
    pub(crate) key: String,
    pub(crate) into: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAggregation {
    pub(crate) max_size: Option<Bytes>,
    pub(crate) max_buffered_time: Option<Duration>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawArrivals {
    Poisson,
    Even,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawApi {
    PutRecord,
    PutRecords,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBatch {
    pub(crate) max_records: Option<u32>,
    pub(crate) max_bytes: Option<Bytes>,
    pub(crate) linger: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawComponent {
    Constant {
        rate: Rate,
    },
    Steps {
        steps: Vec<(Duration, Rate)>,
    },
    Ramp {
        from: Rate,
        to: Rate,
        start: Duration,
        end: Duration,
    },
    Diurnal {
        mean: Rate,
        amplitude: f64,
        period: Duration,
        #[serde(default)]
        phase: Duration,
    },
    Cloudwatch {
        file: String,
        metric: Option<String>,
        period: Option<Duration>,
        burstiness: Option<f64>,
        measures: Option<RawMeasures>,
    },
}

/// `rate = "1000/s"`, a table with `kind`, or an array of tables (summed).
#[derive(Debug)]
pub(crate) struct RawRate(pub(crate) Vec<RawComponent>);

impl<'de> Deserialize<'de> for RawRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a rate like \"1000/s\", a table with `kind`, or an array of such tables",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRate, E> {
                let rate: Rate = v.parse().map_err(E::custom)?;
                Ok(RawRate(vec![RawComponent::Constant { rate }]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawRate, E> {
                Err(E::custom(unit_hint(&v.to_string(), "rate")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawRate, E> {
                Err(E::custom(unit_hint(&v.to_string(), "rate")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawRate, E> {
                Err(E::custom(unit_hint(&v.to_string(), "rate")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRate, A::Error> {
                let c = RawComponent::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawRate(vec![c]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawRate, A::Error> {
                let v =
                    Vec::<RawComponent>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(RawRate(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpike {
    pub(crate) at: Duration,
    pub(crate) duration: Duration,
    pub(crate) multiplier: f64,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawSizeTable {
    Fixed {
        size: Bytes,
    },
    Uniform {
        min: Bytes,
        max: Bytes,
    },
    Lognormal {
        median: Bytes,
        sigma: f64,
    },
    Empirical {
        sizes: Vec<Bytes>,
        weights: Vec<f64>,
    },
}

/// `size = "1KiB"` or a table with `kind`.
#[derive(Debug)]
pub(crate) struct RawSize(pub(crate) RawSizeTable);

impl<'de> Deserialize<'de> for RawSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size like \"1KiB\" or a table with `kind`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSize, E> {
                let size: Bytes = v.parse().map_err(E::custom)?;
                Ok(RawSize(RawSizeTable::Fixed { size }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSize, E> {
                Err(E::custom(unit_hint(&v.to_string(), "size")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSize, E> {
                Err(E::custom(unit_hint(&v.to_string(), "size")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawSize, E> {
                Err(E::custom(unit_hint(&v.to_string(), "size")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSize, A::Error> {
                RawSizeTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawSize)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHotKey {
    pub(crate) key: String,
    pub(crate) share: f64,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum RawKeys {
    Uniform {
        count: u64,
        #[serde(default = "default_prefix")]
        prefix: String,
        #[serde(default)]
        hot: Vec<RawHotKey>,
    },
    Zipf {
        count: u64,
        exponent: f64,
        #[serde(default = "default_prefix")]
        prefix: String,
        #[serde(default)]
        hot: Vec<RawHotKey>,
    },
    Listed {
        keys: Vec<String>,
        weights: Option<Vec<f64>>,
    },
    Random {
        key_bytes: Option<u16>,
    },
    Explicit {
        hash_keys: Vec<String>,
        key_bytes: Option<u16>,
    },
}

fn default_prefix() -> String {
    "key-".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetryTable {
    pub(crate) max_attempts: u32,
    pub(crate) base: Duration,
    pub(crate) cap: Duration,
    pub(crate) jitter: Option<RawJitter>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawJitter {
    Full,
    Equal,
    None,
}

/// `retry = "sdk-standard"` (a preset) or a table.
#[derive(Debug)]
pub(crate) enum RawRetry {
    Preset(String),
    Table(RawRetryTable),
}

impl<'de> Deserialize<'de> for RawRetry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRetry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a preset name or a table with max_attempts, base, cap and jitter")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRetry, E> {
                Ok(RawRetry::Preset(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRetry, A::Error> {
                RawRetryTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawRetry::Table)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlo {
    pub(crate) max_throttle_rate: Option<f64>,
    pub(crate) max_failed_records: Option<u64>,
    pub(crate) max_p99_latency: Option<Duration>,
    pub(crate) max_peak_shard_utilisation: Option<f64>,
    pub(crate) max_lost_records: Option<u64>,
    pub(crate) max_iterator_age: Option<Duration>,
    pub(crate) max_reshard_operations_per_24h: Option<u64>,
    pub(crate) max_monthly_cost: Option<f64>,
}
