//! `[stream]`: shards, retention, limits, capacity mode and prices.

use std::ops::Range;

use super::raw::{RawMode, RawPreviousPeak, RawStream, RawWriteLimit};
use super::validate::{Ctx, HOUR, MIB};
use super::{PreviousPeak, ScenarioError, StreamSpec, WriteLimit};
use crate::kds::prices::Prices;
use crate::kds::{MAX_CREATE_SHARDS, Quota};
use crate::sim::SimTime;
use crate::units::{Duration, NANOS_PER_SEC};

/// A field that is wrong (with its `stream.` prefix) and the message.
type Bad = (&'static str, String);

/// The stream's configuration; a price file it names is read here.
pub(super) fn stream(
    ctx: &Ctx<'_>,
    span: Range<usize>,
    raw: RawStream,
) -> Result<StreamSpec, ScenarioError> {
    let bad = |field: &str, message: String| ctx.invalid(span.clone(), field, message);
    let limits = limits(&raw).map_err(|(f, m)| bad(f, m))?;
    let (on_demand_split_delay, warm_throughput) = on_demand(&raw).map_err(|(f, m)| bad(f, m))?;
    let retention_changes = retention_changes(&raw).map_err(|(f, m)| bad(f, m))?;
    let previous_peak = raw
        .previous_peak
        .as_ref()
        .map(previous_peak)
        .transpose()
        .map_err(|(f, m)| bad(f, m))?;
    Ok(StreamSpec {
        shards: limits.shards,
        previous_peak,
        retention: limits.retention,
        retention_changes,
        write_limit: limits.write_limit,
        max_record_bytes: limits.max_record_bytes,
        reshard_op_time: limits.reshard_op_time,
        backlog_resolution: limits.backlog_resolution,
        advantage_mode: raw.advantage_mode.unwrap_or(false),
        prices: prices(ctx, &bad, &raw)?,
        on_demand: matches!(raw.mode, Some(RawMode::OnDemand)).then_some(on_demand_split_delay),
        on_demand_split_delay,
        warm_throughput,
        account_shard_quota: raw.account_shard_quota,
        enhanced_monitoring: raw.enhanced_monitoring.unwrap_or(false),
    })
}

/// The fields [`limits`] checks.
struct Limits {
    shards: u32,
    retention: SimTime,
    write_limit: WriteLimit,
    max_record_bytes: u64,
    reshard_op_time: (SimTime, SimTime),
    backlog_resolution: SimTime,
}

/// Shards, retention, record size, write limit, resharding time, backlog
/// resolution and the account's quota, in that order.
fn limits(raw: &RawStream) -> Result<Limits, Bad> {
    let shards = shards(raw)?;
    let retention = raw
        .retention
        .map_or(Quota::RetentionMinHours.value() * HOUR, |d| d.0);
    check_retention("stream.retention", retention)?;
    let default_max = Quota::MaxRecordBytesDefault.value();
    let most = Quota::MaxRecordBytesConfigurable.value();
    let max_record_bytes = raw.max_record_size.map_or(default_max, |b| b.0);
    if !(default_max..=most).contains(&max_record_bytes) {
        return Err((
            "stream.max_record_size",
            format!(
                "{max_record_bytes} bytes is out of range; accepted range is 1MiB to 10MiB (UpdateMaxRecordSize)"
            ),
        ));
    }
    let write_limit = write_limit(raw)?;
    let reshard_op_time = reshard_op_time(raw)?;
    let backlog_resolution = raw.backlog_resolution.map_or(NANOS_PER_SEC, |d| d.0);
    if !(1_000_000..=60 * NANOS_PER_SEC).contains(&backlog_resolution) {
        return Err((
            "stream.backlog_resolution",
            format!(
                "{} is out of range; accepted range is 1ms to 1m",
                Duration(backlog_resolution)
            ),
        ));
    }
    if let Some(q) = raw.account_shard_quota
        && q < shards
    {
        return Err((
            "stream.account_shard_quota",
            format!(
                "{q} is below the stream's {shards} shards; accepted range is stream.shards and up"
            ),
        ));
    }
    Ok(Limits {
        shards,
        retention,
        write_limit,
        max_record_bytes,
        reshard_op_time,
        backlog_resolution,
    })
}

/// The shards the stream starts with. A provisioned stream is created with
/// the `shards` given. The service creates an on-demand stream with 4
/// shards (4 MiB/s of writes; KDS-REFERENCE.md §5.2): that is the default,
/// and the only count a new on-demand stream accepts; an existing one
/// (`previous_peak` given) has the shards it states.
fn shards(raw: &RawStream) -> Result<u32, Bad> {
    let on_demand = matches!(raw.mode, Some(RawMode::OnDemand));
    let shards = match raw.shards {
        Some(n) => n,
        None if on_demand => ON_DEMAND_NEW_SHARDS,
        None => {
            return Err((
                "stream.shards",
                format!(
                    "is required for a provisioned stream: the shard count at creation, 1 to {MAX_CREATE_SHARDS}"
                ),
            ));
        }
    };
    if !(1..=MAX_CREATE_SHARDS).contains(&shards) {
        return Err((
            "stream.shards",
            format!("{shards} is out of range; accepted range is 1 to {MAX_CREATE_SHARDS}"),
        ));
    }
    if on_demand && raw.previous_peak.is_none() && shards != ON_DEMAND_NEW_SHARDS {
        return Err((
            "stream.shards",
            format!(
                "{shards} is not what the service creates: a new on-demand stream has {ON_DEMAND_NEW_SHARDS} shards; accepted is {ON_DEMAND_NEW_SHARDS} (or leave it out), or any count with previous_peak for an existing stream"
            ),
        ));
    }
    Ok(shards)
}

/// Shards of a new on-demand stream (4 MB/s of writes, KDS-REFERENCE.md §5.2).
const ON_DEMAND_NEW_SHARDS: u32 = 4;

/// Most bytes/s a previous peak may state: an on-demand stream's largest
/// write throughput, 10 GB/s (KDS-REFERENCE.md §5.5), taken as 10 GiB/s.
const MAX_PEAK_BYTES: u64 = 10 * 1024 * MIB;
/// Most records/s a previous peak may state: 10,000 shards at 1,000
/// records/s.
const MAX_PEAK_RECORDS: f64 = 10_000_000.0;

fn previous_peak(raw: &RawPreviousPeak) -> Result<PreviousPeak, Bad> {
    if raw.bytes.is_none() && raw.records.is_none() {
        return Err((
            "stream.previous_peak",
            "needs bytes (a size per second, \"6MiB\"), records (\"6000/s\") or both".into(),
        ));
    }
    let bytes = raw.bytes.map_or(0, |b| b.0);
    if bytes > MAX_PEAK_BYTES {
        return Err((
            "stream.previous_peak.bytes",
            format!("{bytes} bytes/s is out of range; accepted range is 0 to 10GiB (per second)"),
        ));
    }
    let records = raw.records.map_or(0.0, |r| r.0);
    if !(0.0..=MAX_PEAK_RECORDS).contains(&records) {
        return Err((
            "stream.previous_peak.records",
            format!("{records}/s is out of range; accepted range is 0/s to 10000000/s"),
        ));
    }
    Ok(PreviousPeak {
        records_per_sec: records.round() as u64,
        bytes_per_sec: bytes,
    })
}

/// A retention period within the service's range.
fn check_retention(field: &'static str, retention: SimTime) -> Result<(), Bad> {
    let min_h = Quota::RetentionMinHours.value();
    let max_h = Quota::RetentionMaxHours.value();
    if !(min_h * HOUR..=max_h * HOUR).contains(&retention) {
        return Err((
            field,
            format!(
                "{}h is out of range; accepted range is {min_h}h to {max_h}h",
                retention as f64 / HOUR as f64
            ),
        ));
    }
    Ok(())
}

fn write_limit(raw: &RawStream) -> Result<WriteLimit, Bad> {
    match raw.write_limit.unwrap_or(RawWriteLimit::TokenBucket) {
        RawWriteLimit::FixedWindow => {
            if raw.burst.is_some() {
                return Err((
                    "stream.burst",
                    "applies only to write_limit = \"token-bucket\"".into(),
                ));
            }
            Ok(WriteLimit::FixedWindow)
        }
        RawWriteLimit::TokenBucket => {
            let burst = raw.burst.map_or(NANOS_PER_SEC, |d| d.0);
            if !(1_000_000..=HOUR).contains(&burst) {
                return Err((
                    "stream.burst",
                    format!(
                        "{} is out of range; accepted range is 1ms to 1h",
                        Duration(burst)
                    ),
                ));
            }
            Ok(WriteLimit::TokenBucket { burst })
        }
    }
}

fn reshard_op_time(raw: &RawStream) -> Result<(SimTime, SimTime), Bad> {
    // One observed split was visible "a few seconds later" and a scaling-utils
    // user saw resharding take over 45 s (KDS-REFERENCE.md §2.6): 2 to 10 s per
    // split or merge is an assumption, which scenarios can change.
    match &raw.reshard_op_time {
        None => Ok((2 * NANOS_PER_SEC, 10 * NANOS_PER_SEC)),
        Some(t) => {
            if t.min > t.max || t.max.0 > HOUR {
                return Err((
                    "stream.reshard_op_time",
                    format!(
                        "min ({}) must not exceed max ({}), and max is at most 1h",
                        t.min, t.max
                    ),
                ));
            }
            Ok((t.min.0, t.max.0))
        }
    }
}

/// The on-demand split delay, and the warm throughput (bytes/s) if any.
fn on_demand(raw: &RawStream) -> Result<(SimTime, Option<u64>), Bad> {
    let split_delay = raw
        .on_demand_split_delay
        .map_or(15 * 60 * NANOS_PER_SEC, |d| d.0);
    if split_delay > HOUR {
        return Err((
            "stream.on_demand_split_delay",
            format!(
                "{} is out of range; accepted range is 0s to 1h",
                Duration(split_delay)
            ),
        ));
    }
    let warm_throughput = match raw.warm_throughput {
        None => None,
        Some(_) if raw.advantage_mode != Some(true) => {
            return Err((
                "stream.warm_throughput",
                "applies only to On-demand Advantage: set advantage_mode = true".into(),
            ));
        }
        Some(b) if !(MIB..=10 * 1024 * MIB).contains(&b.0) => {
            return Err((
                "stream.warm_throughput",
                format!(
                    "{} bytes/s is out of range; accepted range is 1MiB to 10GiB (per second)",
                    b.0
                ),
            ));
        }
        Some(b) => Some(b.0),
    };
    Ok((split_delay, warm_throughput))
}

/// The later retention periods, in time order.
fn retention_changes(raw: &RawStream) -> Result<Vec<(SimTime, SimTime)>, Bad> {
    let mut changes = Vec::with_capacity(raw.retention_changes.len());
    for c in &raw.retention_changes {
        check_retention("stream.retention_changes", c.retention.0)?;
        changes.push((c.at.0, c.retention.0));
    }
    changes.sort_by_key(|c| c.0);
    Ok(changes)
}

/// A built-in region's prices (`stream.region`) or a price file's
/// (`stream.prices`).
fn prices(
    ctx: &Ctx<'_>,
    bad: &dyn Fn(&str, String) -> ScenarioError,
    raw: &RawStream,
) -> Result<Prices, ScenarioError> {
    match (&raw.prices, &raw.region) {
        (Some(_), Some(_)) => Err(bad(
            "stream.prices",
            "a price file names its own region: give stream.prices or stream.region, not both"
                .into(),
        )),
        (Some(file), None) => super::imports::price_file(ctx, bad, file),
        (None, region) => {
            let name = region.as_deref().unwrap_or("us-east-1");
            crate::kds::prices::prices(name).ok_or_else(|| {
                bad(
                    "stream.region",
                    format!(
                        "no built-in price table for \"{name}\"; built-in regions are {} \
                         (for another region, write a price file: `shardcast prices` prints one \
                         to start from, and set stream.prices)",
                        crate::kds::prices::REGIONS.join(", ")
                    ),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    #[test]
    fn defaults_are_provisioned_token_bucket_in_us_east_1() {
        let s = accepts(SCENARIO).stream;
        assert_eq!(s.shards, 2);
        assert_eq!(s.retention, 24 * HOUR);
        assert_eq!(
            s.write_limit,
            WriteLimit::TokenBucket {
                burst: NANOS_PER_SEC
            }
        );
        assert_eq!(s.max_record_bytes, MIB);
        assert_eq!(s.reshard_op_time, (2 * NANOS_PER_SEC, 10 * NANOS_PER_SEC));
        assert_eq!(s.on_demand, None);
        assert_eq!(s.on_demand_split_delay, 15 * 60 * NANOS_PER_SEC);
        assert_eq!(s.prices.region, "us-east-1");
        assert!(!s.advantage_mode && !s.enhanced_monitoring);
    }

    #[test]
    fn accepted_values_are_kept() {
        let s = accepts(&stream_with(
            "retention = \"48h\"\nmode = \"on-demand\"\non_demand_split_delay = \"1m\"\n\
             retention_changes = [{ at = \"30s\", retention = \"72h\" }, { at = \"10s\", retention = \"24h\" }]",
        )
        // A new on-demand stream has the service's 4 shards.
        .replace("shards = 2\n", ""))
        .stream;
        assert_eq!(s.shards, 4);
        assert_eq!(s.previous_peak, None);
        assert_eq!(s.retention, 48 * HOUR);
        assert_eq!(s.on_demand, Some(60 * NANOS_PER_SEC));
        // In time order.
        assert_eq!(
            s.retention_changes,
            [
                (10 * NANOS_PER_SEC, 24 * HOUR),
                (30 * NANOS_PER_SEC, 72 * HOUR)
            ]
        );
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        assert_eq!(
            rejects(&edit("shards = 2", "shards = 0")),
            err(
                "stream.shards",
                &format!("0 is out of range; accepted range is 1 to {MAX_CREATE_SHARDS}")
            )
        );
        assert_eq!(
            rejects(&stream_with("retention = \"12h\"")),
            err(
                "stream.retention",
                "12h is out of range; accepted range is 24h to 8760h"
            )
        );
        assert_eq!(
            rejects(&stream_with(
                "retention_changes = [{ at = \"1s\", retention = \"1h\" }]"
            )),
            err(
                "stream.retention_changes",
                "1h is out of range; accepted range is 24h to 8760h"
            )
        );
        assert_eq!(
            rejects(&stream_with("max_record_size = \"11MiB\"")),
            err(
                "stream.max_record_size",
                "11534336 bytes is out of range; accepted range is 1MiB to 10MiB (UpdateMaxRecordSize)"
            )
        );
        assert_eq!(
            rejects(&stream_with("backlog_resolution = \"2m\"")),
            err(
                "stream.backlog_resolution",
                "2m is out of range; accepted range is 1ms to 1m"
            )
        );
        assert_eq!(
            rejects(&stream_with("account_shard_quota = 1")),
            err(
                "stream.account_shard_quota",
                "1 is below the stream's 2 shards; accepted range is stream.shards and up"
            )
        );
        assert_eq!(
            rejects(&stream_with("on_demand_split_delay = \"2h\"")),
            err(
                "stream.on_demand_split_delay",
                "2h is out of range; accepted range is 0s to 1h"
            )
        );
    }

    #[test]
    fn fields_that_need_another_are_refused_without_it() {
        assert_eq!(
            rejects(&stream_with(
                "write_limit = \"fixed-window\"\nburst = \"2s\""
            )),
            err(
                "stream.burst",
                "applies only to write_limit = \"token-bucket\""
            )
        );
        assert_eq!(
            rejects(&stream_with("burst = \"0s\"")),
            err(
                "stream.burst",
                "0s is out of range; accepted range is 1ms to 1h"
            )
        );
        assert_eq!(
            rejects(&stream_with(
                "reshard_op_time = { min = \"5s\", max = \"1s\" }"
            )),
            err(
                "stream.reshard_op_time",
                "min (5s) must not exceed max (1s), and max is at most 1h"
            )
        );
        assert_eq!(
            rejects(&stream_with("warm_throughput = \"4MiB\"")),
            err(
                "stream.warm_throughput",
                "applies only to On-demand Advantage: set advantage_mode = true"
            )
        );
        assert_eq!(
            rejects(&stream_with(
                "advantage_mode = true\nwarm_throughput = \"1KiB\""
            )),
            err(
                "stream.warm_throughput",
                "1024 bytes/s is out of range; accepted range is 1MiB to 10GiB (per second)"
            )
        );
        let warm = accepts(&stream_with(
            "advantage_mode = true\nwarm_throughput = \"4MiB\"",
        ));
        assert_eq!(warm.stream.warm_throughput, Some(4 * MIB));
    }

    #[test]
    fn prices_come_from_a_region_or_a_file_not_both() {
        assert_eq!(
            rejects(&stream_with("prices = \"p.toml\"\nregion = \"eu-west-1\"")),
            err(
                "stream.prices",
                "a price file names its own region: give stream.prices or stream.region, not both"
            )
        );
        let (field, message) = rejects(&stream_with("region = \"mars-1\""));
        assert_eq!(field, "stream.region");
        assert!(
            message.starts_with(
                "no built-in price table for \"mars-1\"; built-in regions are us-east-1"
            ),
            "{message}"
        );
    }
}
