//! Files a scenario reads besides itself: a price file, a trace's header and
//! CloudWatch exports (a scaling-utils configuration is read by
//! `scaling_utils`). Each is resolved against the scenario file's
//! directory, and what is read is checked here, before anything runs.

use std::ops::Range;

use super::ScenarioError;
use super::rate::Import;
use super::raw::*;
use super::validate::{Ctx, HOUR, MIB, finite_in, push_once};
use crate::kds::MAX_CREATE_SHARDS;
use crate::kds::prices::Prices;
use crate::units::{Duration, NANOS_PER_SEC};
use crate::workload::{Component, TraceFormat, TraceSpec};

/// A field that is wrong and the message.
type Bad = (&'static str, String);

/// Reads a user's price file (`stream.prices`, relative to the scenario).
pub(super) fn price_file(
    ctx: &Ctx<'_>,
    bad: &dyn Fn(&str, String) -> ScenarioError,
    name: &str,
) -> Result<Prices, ScenarioError> {
    let path = ctx.beside(name);
    let text = super::read_text(&path).map_err(|e| {
        bad(
            "stream.prices",
            format!("cannot read price file {}: {e}", path.display()),
        )
    })?;
    let file = Ctx {
        path: &path,
        text: &text,
    };
    let prices: Prices = file.parse_toml()?;
    // The line of `field` (`section.key`) in the file, for messages.
    let at = |field: &str| -> Range<usize> {
        let (section, key) = field.split_once('.').unwrap_or(("", field));
        let from = text.find(&format!("[{section}]")).unwrap_or(0);
        let offset = text[from..]
            .find(&format!("\n{key}"))
            .map_or(0, |o| from + o + 1);
        offset..offset
    };
    if prices.region.trim().is_empty() {
        return Err(file.invalid(at("region"), "region", "must not be empty".into()));
    }
    for (field, value) in prices.fields() {
        if !finite_in(value, 0.0, 1000.0) {
            return Err(file.invalid(
                at(field),
                field,
                format!("{value} is out of range; accepted range is 0 to 1000 (USD per unit)"),
            ));
        }
    }
    if !(1..=10 * MIB).contains(&prices.payload_unit_bytes) {
        return Err(file.invalid(
            at("payload_unit_bytes"),
            "payload_unit_bytes",
            format!(
                "{} is out of range; accepted range is 1 to 10485760 bytes",
                prices.payload_unit_bytes
            ),
        ));
    }
    if !(prices.advantage_discount.is_finite() && (0.0..1.0).contains(&prices.advantage_discount)) {
        return Err(file.invalid(
            at("advantage_discount"),
            "advantage_discount",
            format!(
                "{} is out of range; accepted range is 0 to below 1 (the share taken off)",
                prices.advantage_discount
            ),
        ));
    }
    Ok(prices)
}

/// A producer's `trace`: the file (relative to the scenario) and replay
/// options; the header is read now so a missing column is caught before
/// the run.
pub(super) fn trace_spec(ctx: &Ctx<'_>, t: RawTrace) -> Result<TraceSpec, Bad> {
    let path = ctx.beside(&t.file);
    let format = match t.format {
        Some(RawTraceFormat::Csv) => TraceFormat::Csv,
        Some(RawTraceFormat::JsonLines) => TraceFormat::JsonLines,
        None => TraceFormat::from_path(&path).ok_or((
            "format",
            format!(
                "cannot tell from {:?}; set format = \"csv\" or \"json-lines\" (or name the file .csv or .jsonl)",
                t.file
            ),
        ))?,
    };
    let columns =
        crate::workload::Columns::read(&path, format).map_err(|e| ("file", e.to_string()))?;
    let (time_scale, rate_multiplier, copy_spread) = replay_factors(&t)?;
    // A `records` column makes it an aggregate trace: counts per interval.
    let aggregate = if columns.has_records() {
        Some(aggregate(&t, columns.has_shard())?)
    } else {
        for (field, present) in [
            ("interval", t.interval.is_some()),
            ("within", t.within.is_some()),
            ("shards", t.shards.is_some()),
        ] {
            if present {
                return Err((
                    field,
                    "applies only to an aggregate trace (one with a records column)".into(),
                ));
            }
        }
        None
    };
    let salt = salt(t.salt)?;
    check_key_rewrites(&t.remap, t.key_bytes)?;
    Ok(TraceSpec {
        path,
        format,
        time_unit_ns: match t.time_unit.unwrap_or(RawTimeUnit::Seconds) {
            RawTimeUnit::Seconds => NANOS_PER_SEC,
            RawTimeUnit::Millis => 1_000_000,
            RawTimeUnit::Micros => 1_000,
            RawTimeUnit::Nanos => 1,
        },
        time_scale,
        rate_multiplier,
        copy_spread,
        shift: t.shift.map_or(0, |d| d.0),
        looped: t.looped.unwrap_or(false),
        skip_bad_lines: t.skip_bad_lines.unwrap_or(false),
        explicit_key_bytes: t.key_bytes.unwrap_or(0),
        remap: t.remap.into_iter().map(|r| (r.from, r.to)).collect(),
        salt,
        has_size: columns.has_size(),
        aggregate,
    })
}

/// `time_scale`, `rate_multiplier` and `copy_spread`.
fn replay_factors(t: &RawTrace) -> Result<(f64, f64, u64), Bad> {
    let time_scale = t.time_scale.unwrap_or(1.0);
    if !finite_in(time_scale, 0.001, 1000.0) {
        return Err((
            "time_scale",
            format!("{time_scale} is out of range; accepted range is 0.001 to 1000"),
        ));
    }
    let rate_multiplier = t.rate_multiplier.unwrap_or(1.0);
    if !finite_in(rate_multiplier, 0.0, 100.0) || rate_multiplier == 0.0 {
        return Err((
            "rate_multiplier",
            format!("{rate_multiplier} is out of range; accepted range is above 0 to 100"),
        ));
    }
    let copy_spread = t.copy_spread.map_or(NANOS_PER_SEC, |d| d.0);
    if copy_spread > HOUR {
        return Err((
            "copy_spread",
            format!(
                "{} is out of range; accepted range is 0s to 1h",
                Duration(copy_spread)
            ),
        ));
    }
    Ok((time_scale, rate_multiplier, copy_spread))
}

/// An aggregate trace's options: its interval, how records spread within
/// one, and the shard count of the stream it was captured from.
fn aggregate(t: &RawTrace, has_shard: bool) -> Result<crate::workload::AggregateSpec, Bad> {
    let interval = t.interval.map_or(NANOS_PER_SEC, |d| d.0);
    if !(1_000_000..=HOUR).contains(&interval) {
        return Err((
            "interval",
            format!(
                "{} is out of range; accepted range is 1ms to 1h",
                Duration(interval)
            ),
        ));
    }
    // Per-shard rows name shards of the stream they were captured
    // from; that count must be said, not taken from the simulated
    // stream (a sweep over stream.shards would remap the rows).
    // (A JSON Lines trace shows its columns on its first line only: a
    // later per-shard row without the count fails at its line.)
    if t.shards.is_none() && has_shard {
        return Err((
            "shards",
            format!(
                "is required: the trace has a shard_id column; set the shard count of the stream it was captured from (1 to {MAX_CREATE_SHARDS})"
            ),
        ));
    }
    if let Some(shards) = t.shards
        && !(1..=MAX_CREATE_SHARDS).contains(&shards)
    {
        return Err((
            "shards",
            format!("{shards} is out of range; accepted range is 1 to {MAX_CREATE_SHARDS}"),
        ));
    }
    Ok(crate::workload::AggregateSpec {
        interval,
        within: match t.within.unwrap_or(RawWithin::Uniform) {
            RawWithin::Even => crate::workload::Within::Even,
            RawWithin::Uniform => crate::workload::Within::Uniform,
            RawWithin::Poisson => crate::workload::Within::Poisson,
        },
        shards: t.shards,
    })
}

/// Hot keys salted into sub-keys, as `(key, into)`.
fn salt(raw: Vec<RawSalt>) -> Result<Vec<(String, u32)>, Bad> {
    let mut salt = Vec::with_capacity(raw.len());
    for s in raw {
        if !(1..=10_000).contains(&s.into) {
            return Err((
                "salt",
                format!(
                    "into = {} for key {:?} is out of range; accepted range is 1 to 10000",
                    s.into, s.key
                ),
            ));
        }
        // The sub-keys `key#0`..`key#{n-1}` are partition keys too.
        let longest = s.key.chars().count() + 1 + (s.into - 1).to_string().len();
        if s.key.is_empty() || longest > 256 {
            return Err((
                "salt",
                format!(
                    "key {:?} salted into {} makes partition keys of up to {longest} characters; accepted length is 1 to 256",
                    s.key, s.into
                ),
            ));
        }
        salt.push((s.key, s.into));
    }
    Ok(salt)
}

/// `remap` keys are partition keys; `key_bytes` is at most a key's bytes.
fn check_key_rewrites(remap: &[RawRemap], key_bytes: Option<u16>) -> Result<(), Bad> {
    for r in remap {
        for (what, key) in [("from", &r.from), ("to", &r.to)] {
            let n = key.chars().count();
            if !(1..=256).contains(&n) {
                return Err((
                    "remap",
                    format!("{what} = {key:?} has {n} characters; a partition key has 1 to 256"),
                ));
            }
        }
    }
    let max = crate::workload::MAX_KEY_BYTES;
    if let Some(b) = key_bytes.filter(|b| u64::from(*b) > max) {
        return Err((
            "key_bytes",
            format!(
                "{b} is out of range; accepted range is 0 to {max} (a partition key's UTF-8 bytes)"
            ),
        ));
    }
    Ok(())
}
/// A `kind = "cloudwatch"` rate: an exported metric's datapoints, read
/// now, as records per second.
pub(super) fn cloudwatch(
    file: &str,
    metric: Option<&str>,
    period: Option<crate::units::Duration>,
    burstiness: Option<f64>,
    measures: Option<RawMeasures>,
    import: &mut Import<'_>,
) -> Result<Component, Bad> {
    let path = import.base.join(file);
    let data = crate::workload::cloudwatch::read(&path, metric)
        .map_err(|m| ("file", format!("CloudWatch file {}: {m}", path.display())))?;
    push_once(import.files, path.clone());
    let given = period.is_some();
    let period = period.map_or_else(|| data.period(), |d| d.0);
    // Without a period, say where the one checked came from.
    let from = |m: String| {
        if given {
            m
        } else {
            format!("not given, so the smallest gap between datapoints: {m}")
        }
    };
    if !(NANOS_PER_SEC..=24 * HOUR).contains(&period) || !period.is_multiple_of(NANOS_PER_SEC) {
        return Err((
            "period",
            from(format!(
                "{} is out of range; accepted range is whole seconds from 1s to 24h",
                Duration(period)
            )),
        ));
    }
    data.check_period(period)
        .map_err(|m| ("period", from(format!("{m} (in {})", path.display()))))?;
    let sigma = burstiness.unwrap_or(0.0);
    if !finite_in(sigma, 0.0, 3.0) {
        return Err((
            "burstiness",
            format!("{sigma} is out of range; accepted range is 0 to 3"),
        ));
    }
    import.notes.push(format!(
        "{}.rate: {} CloudWatch datapoints of {} s from {} ({} series added up){}",
        import.label,
        data.points.len(),
        period / NANOS_PER_SEC,
        path.display(),
        data.series,
        if sigma > 0.0 {
            format!(
                "; bursts within each period: lognormal per-second factors, sigma {sigma}, totals kept, drawn from the run's seed"
            )
        } else {
            "; flat within each period (per-period data hides micro-bursts: set burstiness to model them)".to_owned()
        }
    ));
    let bytes = match measures {
        Some(m) => m == RawMeasures::Bytes,
        None => data.named_bytes,
    };
    let mut rates = data.rates(period);
    as_records(&mut rates, bytes, &data, import)?;
    Ok(Component::Periods {
        period,
        rates,
        burstiness: sigma,
    })
}

/// Turns the series into records made per second (a bytes series over the
/// bytes a record sends, a records series over the share that fits the
/// record limit), with notes on what was assumed.
fn as_records(
    rates: &mut [(crate::sim::SimTime, f64)],
    bytes: bool,
    data: &crate::workload::cloudwatch::Datapoints,
    import: &mut Import<'_>,
) -> Result<(), Bad> {
    let record = import.record_bytes;
    if import.aggregation && !bytes {
        import.notes.push(format!(
            "{}.rate: the group aggregates records (KPL), and a stream's IncomingRecords counts Kinesis records, aggregates included: they are read here as user records, so the group sends too few; import IncomingBytes instead (measures = \"bytes\")",
            import.label
        ));
    }
    // Records made per record the stream took: those refused as too
    // large never reach it, so more are made.
    let sent = import.sent_fraction.max(1e-9);
    if bytes {
        // Bytes per second over the bytes a record made sends:
        // records/s.
        if record * sent < 1.0 {
            return Err((
                "measures",
                format!(
                    "\"bytes\" needs a record size: the group's records average {record:.0} bytes (size plus key); accepted is 1 byte or more"
                ),
            ));
        }
        for r in rates.iter_mut() {
            r.1 /= record * sent;
        }
        import.notes.push(format!(
            "{}.rate: the series counts bytes (IncomingBytes): records/s = bytes/s / {record:.0} bytes, the group's mean record (mean size plus mean key){}",
            import.label,
            if sent < 1.0 {
                format!(", / {sent:.3}, the share of records that fit the record limit")
            } else {
                String::new()
            }
        ));
    } else {
        for r in rates.iter_mut() {
            r.1 /= sent;
        }
    }
    if let (false, Some((n, b))) = (bytes, data.both_totals.filter(|t| t.0 > 0.0)) {
        // The file has both metrics: does the size model match?
        let seen = b / n;
        let off = (record - seen) / seen;
        import.notes.push(format!(
            "{}.rate: the file's IncomingBytes / IncomingRecords is {seen:.0} bytes a record; the group's records average {record:.0} bytes (mean size plus mean key){}",
            import.label,
            if off.abs() > 0.1 {
                format!(
                    ": {:.0} % {}, so bytes and byte limits will be off by that much",
                    off.abs() * 100.0,
                    if off > 0.0 { "more" } else { "less" }
                )
            } else {
                ", within 10 %".to_owned()
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::validate::testing::*;
    use super::*;

    #[test]
    fn a_price_file_is_read_beside_the_scenario() {
        let mut p = crate::kds::prices::prices("us-east-1").unwrap();
        p.region = "mars-1".into();
        let (dir, path) = dir_with(&[("p.toml", &p.to_toml())]);
        let s = accepts_at(&stream_with("prices = \"p.toml\""), &path);
        assert_eq!(s.stream.prices, p);
        assert_eq!(s.imports, [dir.path().join("p.toml")]);
        let (field, message) = rejects_at(&stream_with("prices = \"none.toml\""), &path);
        assert_eq!(field, "stream.prices");
        assert!(message.starts_with("cannot read price file "), "{message}");
    }

    #[test]
    fn a_price_file_out_of_range_names_its_own_line() {
        let mut p = crate::kds::prices::prices("us-east-1").unwrap();
        p.payload_unit_bytes = 0;
        let text = p.to_toml();
        let (dir, path) = dir_with(&[("p.toml", &text)]);
        match parse_at(&stream_with("prices = \"p.toml\""), &path).unwrap_err() {
            ScenarioError::Invalid {
                path,
                line,
                field,
                message,
            } => {
                assert_eq!(path, dir.path().join("p.toml"));
                let want = text
                    .lines()
                    .position(|l| l.starts_with("payload_unit_bytes"))
                    .unwrap();
                assert_eq!(line, want + 1);
                assert_eq!(field, "payload_unit_bytes");
                assert_eq!(
                    message,
                    "0 is out of range; accepted range is 1 to 10485760 bytes"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    fn trace_producer(options: &str) -> String {
        edit("rate = \"100/s\"\n", "").replace("keys = { kind = \"uniform\", count = 10 }\n", "")
            + &format!("trace = {{ file = \"t.csv\"{options} }}\n")
    }

    #[test]
    fn a_trace_header_is_read_before_the_run() {
        let (dir, path) = dir_with(&[
            ("t.csv", "timestamp,key,size\n0,a,10\n"),
            ("agg.csv", "timestamp,shard_id,records\n0,0,10\n"),
        ]);
        let s = accepts_at(&trace_producer(", time_unit = \"ms\""), &path);
        let spec = s.producers[0].trace.as_ref().unwrap();
        assert_eq!(spec.path, dir.path().join("t.csv"));
        assert_eq!((spec.time_unit_ns, spec.has_size), (1_000_000, true));
        assert!(spec.aggregate.is_none());
        assert_eq!(s.imports, [dir.path().join("t.csv")]);
        let web = |f: &str| format!("producers[0] (\"web\").trace.{f}");
        assert_eq!(
            rejects_at(&trace_producer(", interval = \"1s\""), &path),
            (
                web("interval"),
                "applies only to an aggregate trace (one with a records column)".into()
            )
        );
        assert_eq!(
            rejects_at(&trace_producer(", time_scale = 0.0"), &path),
            (
                web("time_scale"),
                "0 is out of range; accepted range is 0.001 to 1000".into()
            )
        );
        let agg = trace_producer("").replace("t.csv", "agg.csv");
        assert_eq!(
            rejects_at(&agg, &path),
            (
                web("shards"),
                format!(
                    "is required: the trace has a shard_id column; set the shard count of the stream it was captured from (1 to {MAX_CREATE_SHARDS})"
                )
            )
        );
        let agg = trace_producer(", shards = 4").replace("t.csv", "agg.csv");
        assert_eq!(
            accepts_at(&agg, &path).producers[0]
                .trace
                .as_ref()
                .unwrap()
                .aggregate
                .as_ref()
                .unwrap()
                .shards,
            Some(4)
        );
    }

    #[test]
    fn trace_keys_salt_and_remap_are_partition_keys() {
        let (_dir, path) = dir_with(&[("t.csv", "timestamp,key,size\n0,a,10\n")]);
        let web = |f: &str| format!("producers[0] (\"web\").trace.{f}");
        assert_eq!(
            rejects_at(
                &trace_producer(", salt = [{ key = \"a\", into = 0 }]"),
                &path
            ),
            (
                web("salt"),
                "into = 0 for key \"a\" is out of range; accepted range is 1 to 10000".into()
            )
        );
        let long = "k".repeat(255);
        assert_eq!(
            rejects_at(
                &trace_producer(&format!(", salt = [{{ key = \"{long}\", into = 10 }}]")),
                &path
            ),
            (
                web("salt"),
                format!(
                    "key \"{}…\" (255 characters) salted into 10 makes partition keys of up to 257 characters; accepted length is 1 to 256",
                    "k".repeat(80)
                )
            )
        );
        assert_eq!(
            rejects_at(
                &trace_producer(", remap = [{ from = \"\", to = \"b\" }]"),
                &path
            ),
            (
                web("remap"),
                "from = \"\" has 0 characters; a partition key has 1 to 256".into()
            )
        );
        let s = accepts_at(
            &trace_producer(
                ", salt = [{ key = \"a\", into = 4 }], remap = [{ from = \"a\", to = \"b\" }]",
            ),
            &path,
        );
        let spec = s.producers[0].trace.as_ref().unwrap();
        assert_eq!(spec.salt, [("a".to_owned(), 4)]);
        assert_eq!(spec.remap, [("a".to_owned(), "b".to_owned())]);
    }

    const CW: &str = "timestamp,value\n2025-01-01T00:00:00Z,600\n2025-01-01T00:01:00Z,1200\n";

    fn cloudwatch(options: &str) -> String {
        edit(
            "rate = \"100/s\"",
            &format!("rate = {{ kind = \"cloudwatch\", file = \"cw.csv\"{options} }}"),
        )
    }

    #[test]
    fn a_cloudwatch_export_becomes_periods_with_a_note() {
        let (dir, path) = dir_with(&[("cw.csv", CW)]);
        let s = accepts_at(&cloudwatch(""), &path);
        let Component::Periods {
            period,
            rates,
            burstiness,
        } = &s.producers[0].rate.components[0]
        else {
            panic!("{:?}", s.producers[0].rate);
        };
        assert_eq!((*period, *burstiness), (60 * NANOS_PER_SEC, 0.0));
        assert_eq!(rates.len(), 2);
        assert_eq!((rates[0].1, rates[1].1), (10.0, 20.0));
        assert_eq!(s.imports, [dir.path().join("cw.csv")]);
        assert!(
            s.notes[0]
                .starts_with("producers[0] (\"web\").rate: 2 CloudWatch datapoints of 60 s from "),
            "{:?}",
            s.notes
        );
    }

    #[test]
    fn cloudwatch_periods_and_burstiness_are_checked() {
        let (_dir, path) = dir_with(&[("cw.csv", CW)]);
        let web = |f: &str| format!("producers[0] (\"web\").rate.{f}");
        assert_eq!(
            rejects_at(&cloudwatch(", period = \"1500ms\""), &path),
            (
                web("period"),
                "1s 500ms is out of range; accepted range is whole seconds from 1s to 24h".into()
            )
        );
        assert_eq!(
            rejects_at(&cloudwatch(", burstiness = 4.0"), &path),
            (
                web("burstiness"),
                "4 is out of range; accepted range is 0 to 3".into()
            )
        );
        let (field, message) = rejects_at(&cloudwatch("").replace("cw.csv", "none.csv"), &path);
        assert_eq!(field, web("file"));
        assert!(message.starts_with("CloudWatch file "), "{message}");
    }
}
